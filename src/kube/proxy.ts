/**
 * Proxies, as kubectl uses them:
 * - the cluster entry's `proxy-url` (http, https or socks5), used for every
 *   request to that cluster, whatever NO_PROXY says (client-go's
 *   http.ProxyURL);
 * - otherwise HTTPS_PROXY / https_proxy (for an https server) or HTTP_PROXY /
 *   http_proxy, unless NO_PROXY / no_proxy or the loopback rule exempts the
 *   server (Go's golang.org/x/net/http/httpproxy, which client-go uses).
 *
 * The request to the API server goes through a tunnel: HTTP CONNECT to an
 * http(s) proxy (the `hpagent` package), or a SOCKS5 CONNECT (the `socks`
 * package). TLS to the API server runs inside the tunnel with the cluster's
 * CA, as without a proxy. This module, and those packages, are loaded only
 * when a proxy is configured. Which proxy applies is decided here, by Go's
 * rules (no npm package implements NO_PROXY as Go does: CIDRs, ports, the
 * loopback exemption, IPv4-mapped addresses).
 */
import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { domainToASCII } from 'node:url';

export const PROXY_SCHEMES = ['http:', 'https:', 'socks5:'] as const;

export interface ProxyChoice {
  url: URL;
  /** "proxy-url" (the kubeconfig), "HTTPS_PROXY", ... for messages. */
  source: string;
}

/** A proxy URL for messages: the scheme, host and port, never the user or password. */
export function redactProxy(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * A proxy value as Go reads it: a URL with scheme http, https or socks5, or
 * "host[:port]" (http assumed). Anything else is undefined (Go ignores a
 * value it cannot parse).
 */
export function parseProxyValue(value: string): URL | undefined {
  const ok = (u: URL) => (PROXY_SCHEMES as readonly string[]).includes(u.protocol) && u.hostname !== '';
  try {
    const u = new URL(value);
    if (ok(u)) return u;
  } catch {
    // fall through to the http:// form
  }
  try {
    const u = new URL(`http://${value}`);
    return ok(u) ? u : undefined;
  } catch {
    return undefined;
  }
}

/** The kubeconfig's proxy-url, checked as kubectl checks it (a bad one is refused, never ignored). Messages never echo it: it may hold a password. */
export function parseProxyUrlSetting(value: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error('proxy-url is not a URL; use http://, https:// or socks5://HOST:PORT');
  }
  if (!(PROXY_SCHEMES as readonly string[]).includes(u.protocol) || !u.hostname) {
    throw new Error(`proxy-url has scheme ${JSON.stringify(u.protocol.replace(/:$/, ''))}${u.hostname ? '' : ' and no host'}; kubectl accepts http, https and socks5 URLs with a host`);
  }
  return u;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'socks5:': '1080' };

/** "[::1]" -> "::1". */
function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** "ipv4" or "ipv6" for an IP address, else undefined. */
function family(ip: string): 'ipv4' | 'ipv6' | undefined {
  return net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : undefined;
}

/**
 * Does `ip` fall under `rule` (an address, or a CIDR when `bits` is given)?
 * Node's BlockList compares IPv4-mapped IPv6 addresses with their IPv4 form,
 * as Go's IP.Equal and IPNet.Contains do.
 */
function ipMatches(ip: string, rule: string, bits?: number): boolean {
  const list = new net.BlockList();
  const f = family(rule)!;
  if (bits === undefined) list.addAddress(rule, f);
  else list.addSubnet(rule, bits, f);
  return list.check(ip, family(ip)!) || (f === 'ipv6' && bits === undefined && mappedCheck(ip, rule));
}

/** An IPv4 address against an IPv4-mapped IPv6 rule ("::ffff:10.0.0.1"), which BlockList does not fold. */
function mappedCheck(ip: string, rule: string): boolean {
  if (!net.isIPv4(ip)) return false;
  const list = new net.BlockList();
  list.addAddress(rule, 'ipv6');
  return list.check(`::ffff:${ip}`, 'ipv6');
}

function isLoopback(ip: string): boolean {
  return ipMatches(ip, '127.0.0.0', 8) || ipMatches(ip, '::1');
}

/** True when `ip` lies in `cidr` ("10.0.0.0/8", "fd00::/8"); undefined when `cidr` is not one. */
function inCidr(ip: string, cidr: string): boolean | undefined {
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) return undefined;
  const base = cidr.slice(0, slash);
  const f = family(base);
  const bits = Number(cidr.slice(slash + 1));
  if (!f || !/^\d+$/.test(cidr.slice(slash + 1)) || bits > (f === 'ipv4' ? 32 : 128)) return undefined;
  return ipMatches(ip, base, bits);
}

/**
 * Should a request to host:port go through the environment's proxy, given
 * NO_PROXY? Go's rules: never for "localhost" or a loopback address; "*"
 * exempts everything; entries are IPs or CIDRs, or domain names (with an
 * optional leading "." or "*."), each with an optional port. "foo.com"
 * matches foo.com and its subdomains, ".foo.com" the subdomains only.
 */
export function useEnvProxy(host: string, port: string, noProxy: string): boolean {
  const h = bareHost(host).toLowerCase();
  if (h === 'localhost') return false;
  const ip = net.isIP(h) ? h : undefined;
  if (ip && isLoopback(ip)) return false;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return false;
    if (entry.includes('/')) {
      if (ip && inCidr(ip, entry)) return false;
      continue;
    }
    let eHost = entry;
    let ePort = '';
    // "[v6]:port" is an IPv6 entry; a bracketed address without a port is a name that matches nothing, as in Go.
    const v6 = /^\[([^\]]+)\]:(\d*)$/.exec(entry);
    if (v6) {
      eHost = v6[1];
      ePort = v6[2];
    } else if (!net.isIPv6(entry)) {
      const colon = entry.lastIndexOf(':');
      if (colon >= 0) {
        eHost = entry.slice(0, colon);
        ePort = entry.slice(colon + 1);
      }
    }
    if (!eHost) continue;
    if (net.isIP(eHost)) {
      if (ip && ipMatches(ip, eHost) && (!ePort || ePort === port)) return false;
      continue;
    }
    if (eHost.startsWith('*.')) eHost = eHost.slice(1);
    // Names in punycode, as the server's host name already is (Go converts entries with IDNA too).
    if (/[^\x00-\x7f]/.test(eHost)) eHost = (eHost.startsWith('.') ? '.' : '') + (domainToASCII(eHost.replace(/^\./, '')) || eHost.replace(/^\./, ''));
    const matchHost = !eHost.startsWith('.');
    const suffix = matchHost ? `.${eHost}` : eHost;
    if ((h.endsWith(suffix) || (matchHost && h === suffix.slice(1))) && (!ePort || ePort === port)) return false;
  }
  return true;
}

/** The proxy for a request to `server`, or null: the cluster's proxy-url first, then the environment. */
export function chooseProxy(server: string, proxyUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): ProxyChoice | null {
  if (proxyUrl) return { url: parseProxyUrlSetting(proxyUrl), source: 'proxy-url' };
  const target = new URL(server);
  const pick = (...names: string[]) => {
    for (const n of names) if (env[n]) return { name: n, value: env[n] as string };
    return undefined;
  };
  const setting = target.protocol === 'https:' ? pick('HTTPS_PROXY', 'https_proxy') : target.protocol === 'http:' ? pick('HTTP_PROXY', 'http_proxy') : undefined;
  if (!setting) return null;
  const url = parseProxyValue(setting.value);
  if (!url) return null;
  const port = target.port || DEFAULT_PORTS[target.protocol];
  if (!useEnvProxy(target.hostname, port, pick('NO_PROXY', 'no_proxy')?.value ?? '')) return null;
  return { url, source: setting.name };
}

/**
 * An error on the way through the proxy, before the tunnel is up: `connect`
 * while reaching the proxy (its address, its TLS), `tunnel` when the proxy
 * answered but did not open the tunnel. `code` keeps the system or TLS code.
 */
export class ProxyError extends Error {
  constructor(
    message: string,
    readonly proxy: string,
    readonly phase: 'connect' | 'tunnel' = 'tunnel',
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ProxyError';
  }
}

/**
 * Roots for an https proxy: Node's bundled ones, NODE_EXTRA_CA_CERTS and the
 * system store (where a company's proxy CA usually is). The process default
 * may hold only the cluster's CA, so they are named explicitly.
 */
function proxyRoots(): string[] | undefined {
  const t = tls as typeof tls & { getCACertificates?: (type: string) => string[] };
  if (!t.getCACertificates) return undefined;
  let system: string[] = [];
  try {
    system = t.getCACertificates('system');
  } catch {
    // no readable system store: the bundled roots still apply
  }
  return [...t.getCACertificates('bundled'), ...t.getCACertificates('extra'), ...system];
}

/** decodeURIComponent that keeps a malformed %-sequence as it is. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

type ConnectCallback = (err: Error | null, socket?: Duplex) => void;
type ConnectOptions = tls.ConnectionOptions & { host?: string; hostname?: string; port?: number | string; timeout?: number };

/** Where the request goes: the host without brackets, and the port. */
function target(options: ConnectOptions, secure: boolean): { host: string; port: number } {
  return { host: bareHost(String(options.hostname ?? options.host ?? 'localhost')), port: Number(options.port || (secure ? 443 : 80)) };
}

/**
 * The error of a tunnel that did not open, as a ProxyError: `connect` when
 * the proxy could not be reached (a system or TLS code), `tunnel` when it
 * answered and refused, or did not answer in time.
 */
function tunnelError(err: Error & { code?: string }, name: string, host: string, port: number, timeoutMs: number): ProxyError {
  if (err instanceof ProxyError) return err;
  const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  const msg = err.message;
  const timedOut = msg === 'Proxy timeout' || msg.startsWith('Proxy connection timed out');
  if (timedOut) return new ProxyError(`no answer within ${timeoutMs / 1000}s while opening the tunnel to ${authority}`, name, 'tunnel', 'ETIMEDOUT');
  // hpagent: "Bad response: 407" when the proxy answered CONNECT with anything but 200.
  const status = /^Bad response: (\d{3})$/.exec(msg);
  if (status) {
    const code = Number(status[1]);
    const why = code === 407 ? ' (proxy authentication required: put the user and password in the proxy URL)' : '';
    return new ProxyError(`the proxy refused CONNECT ${authority}: ${code} ${http.STATUS_CODES[code] ?? ''}`.trimEnd() + why, name);
  }
  // socks: the proxy's SOCKS5 answers.
  if (msg.startsWith('Received invalid Socks5 initial handshake (no accepted authentication type)')) {
    return new ProxyError('the SOCKS5 proxy accepts none of the offered authentication methods (put the user and password in the proxy URL)', name);
  }
  if (msg.startsWith('Socks5 Authentication failed')) return new ProxyError('the SOCKS5 proxy refused the user and password', name);
  const rejected = /^Socks5 proxy rejected connection - (\w+)/.exec(msg);
  if (rejected) return new ProxyError(`the SOCKS5 proxy could not connect to ${authority}: ${rejected[1]}`, name);
  if (/socks/i.test(msg) || msg === 'Socket closed') return new ProxyError(`the SOCKS5 exchange failed: ${msg}`, name);
  // A system or TLS error on the way to the proxy: blamed on the proxy, with its code.
  if (err.code) return new ProxyError(`${err.code}: ${msg}`, name, 'connect', err.code);
  return new ProxyError(msg, name);
}

/** A TCP connection to a SOCKS5 proxy within `timeoutMs` (errors are the `connect` phase's, with their code). */
function reachProxy(proxy: URL, timeoutMs: number, signal: AbortSignal): Promise<net.Socket> {
  const name = redactProxy(proxy);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: bareHost(proxy.hostname), port: Number(proxy.port || 1080), signal });
    sock.setTimeout(timeoutMs, () => sock.destroy(new ProxyError(`no answer within ${timeoutMs / 1000}s while connecting to the proxy`, name, 'connect', 'ETIMEDOUT')));
    sock.once('connect', () => {
      sock.setTimeout(0);
      sock.off('error', failed);
      resolve(sock);
    });
    const failed = (err: Error & { code?: string }) => reject(err instanceof ProxyError || !err.code ? err : new ProxyError(`${err.code}: ${err.message}`, name, 'connect', err.code));
    sock.once('error', failed);
  });
}

/**
 * Agents whose connections go through the proxy, built on maintained
 * packages: `hpagent` sends HTTP CONNECT (to an http or https proxy),
 * `socks` speaks SOCKS5 (RFC 1928, with RFC 1929 user and password; the
 * server's name is resolved by the proxy, as Go's socks5 dialer does). For an
 * https server, TLS runs over the tunnel with the agent's secure context,
 * server name and verification, as without a proxy.
 *
 * Reaching the proxy and opening the tunnel must take at most `timeoutMs`.
 * Tunnels still being set up are cancelled with the agent, so a command
 * never waits on a proxy after it is done.
 */
export async function proxyAgent(proxy: URL, secure: boolean, tlsOptions: https.AgentOptions, timeoutMs: number): Promise<http.Agent> {
  const name = redactProxy(proxy);
  const cancel = new AbortController();
  const base = { keepAlive: true, ...(secure ? tlsOptions : {}) };
  /** An IPv6 server's literal address: bracketed in the CONNECT line, compared bare with the certificate. */
  const checkServerIdentity = (host: string, cert: tls.PeerCertificate) => (tlsOptions.checkServerIdentity ?? tls.checkServerIdentity)(bareHost(host), cert);
  let agent: http.Agent;
  if (proxy.protocol === 'socks5:') {
    const { SocksClient } = await import('socks');
    const open = (options: ConnectOptions, cb: ConnectCallback, wrap: (sock: Duplex) => Duplex) => {
      const { host, port } = target(options, secure);
      const started = Date.now();
      reachProxy(proxy, timeoutMs, cancel.signal)
        .then((existing) =>
          SocksClient.createConnection({
            proxy: { host: bareHost(proxy.hostname), port: Number(proxy.port || 1080), type: 5, userId: decode(proxy.username) || undefined, password: decode(proxy.password) || undefined },
            command: 'connect',
            destination: { host, port },
            timeout: Math.max(1, timeoutMs - (Date.now() - started)),
            existing_socket: existing,
          }),
        )
        .then(
          ({ socket }) => {
            try {
              cb(null, wrap(socket));
            } catch (err) {
              socket.destroy();
              cb(err as Error);
            }
          },
          (err: Error) => cb(tunnelError(err, name, host, port, timeoutMs)),
        );
    };
    class SocksAgent extends (secure ? https.Agent : http.Agent) {
      override createConnection(options: ConnectOptions, cb: ConnectCallback): undefined {
        const tlsConnect = (socket: Duplex) => (https.Agent.prototype as unknown as { createConnection(o: object): Duplex }).createConnection.call(this, { ...options, socket, checkServerIdentity });
        open(options, cb, secure ? tlsConnect : (socket) => socket);
        return undefined;
      }
    }
    agent = new SocksAgent(base);
  } else {
    const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
    const Base = secure ? HttpsProxyAgent : HttpProxyAgent;
    const proxyRequestOptions: Record<string, unknown> = { signal: cancel.signal, ...(proxy.protocol === 'https:' ? { ca: proxyRoots() } : {}) };
    let through = proxy;
    const address = bareHost(proxy.hostname);
    if (proxy.protocol === 'https:' && net.isIP(address)) {
      // hpagent sends the proxy's host as the TLS server name, which Node refuses for an IP
      // address: the proxy is reached under a stand-in name that resolves to its address, and
      // its certificate is checked against the address, as Go checks it.
      through = new URL(proxy.href);
      through.hostname = 'proxy-address.invalid';
      const family = net.isIP(address);
      proxyRequestOptions.lookup = (_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => (opts.all ? cb(null, [{ address, family }]) : cb(null, address, family));
      proxyRequestOptions.checkServerIdentity = (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(address, cert);
    }
    class ConnectAgent extends Base {
      override createConnection(options: ConnectOptions, cb: ConnectCallback): undefined {
        const { host, port } = target(options, secure);
        // hpagent writes "CONNECT host:port" from options.host; the timeout applies to the CONNECT request.
        const connectHost = net.isIPv6(host) ? `[${host}]` : host;
        const done: ConnectCallback = (err, socket) => {
          if (err) return cb(tunnelError(err, name, host, port, timeoutMs));
          (socket as net.Socket | undefined)?.setTimeout?.(0);
          cb(null, socket);
        };
        (Base.prototype as unknown as { createConnection(o: object, cb: ConnectCallback): void }).createConnection.call(this, { ...options, host: connectHost, timeout: timeoutMs, checkServerIdentity }, done);
        return undefined;
      }
    }
    agent = new ConnectAgent({ ...base, proxy: through, proxyRequestOptions } as ConstructorParameters<typeof Base>[0]);
  }
  const destroy = agent.destroy.bind(agent);
  agent.destroy = () => {
    cancel.abort();
    destroy();
  };
  return agent;
}
