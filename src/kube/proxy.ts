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
 * http(s) proxy, or a SOCKS5 CONNECT. TLS to the API server runs inside the
 * tunnel with the cluster's CA, as without a proxy. Loaded only when a proxy
 * is configured.
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

/** An IP address as 16 bytes (IPv4 as ::ffff:a.b.c.d), so both forms of one address compare equal, as Go's IP.Equal. */
function ip16(ip: string): Buffer | undefined {
  if (net.isIPv4(ip)) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip.split('.').map(Number)]);
  return net.isIPv6(ip) ? ipv6Bytes(ip) : undefined;
}

/** The IPv4 address an IPv4 or IPv4-mapped IPv6 address stands for. */
function asIPv4(ip: string): string | undefined {
  const b = ip16(ip);
  return b && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? [...b.subarray(12)].join('.') : undefined;
}

function isLoopback(ip: string): boolean {
  const v4 = asIPv4(ip);
  if (v4) return v4.startsWith('127.');
  const b = ip16(ip);
  return Boolean(b && b.subarray(0, 15).every((x) => x === 0) && b[15] === 1);
}

/** True when `ip` lies in `cidr` ("10.0.0.0/8", "fd00::/8"); undefined when `cidr` is not one. */
function inCidr(ip: string, cidr: string): boolean | undefined {
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) return undefined;
  const base = cidr.slice(0, slash);
  const bits = Number(cidr.slice(slash + 1));
  const v4 = net.isIPv4(base);
  if ((!v4 && !net.isIPv6(base)) || !/^\d+$/.test(cidr.slice(slash + 1)) || bits > (v4 ? 32 : 128)) return undefined;
  // Compare in the 16-byte form: an IPv4 CIDR covers the IPv4-mapped forms too, as in Go.
  const a = ip16(ip)!;
  const b = ip16(base)!;
  const prefix = v4 ? 96 + bits : bits;
  for (let i = 0; i < prefix; i++) {
    const bit = (x: Buffer) => (x[i >> 3] >> (7 - (i & 7))) & 1;
    if (bit(a) !== bit(b)) return false;
  }
  return true;
}

function sameIp(a: string, b: string): boolean {
  const x = ip16(a);
  const y = ip16(b);
  return Boolean(x && y && x.equals(y));
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
      if (ip && sameIp(ip, eHost) && (!ePort || ePort === port)) return false;
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

/** decodeURIComponent that keeps a malformed %-sequence as it is. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function basicAuth(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  return `Basic ${Buffer.from(`${decode(url.username)}:${decode(url.password)}`).toString('base64')}`;
}

/** Reads from `sock` until `enough(buffer)` says how many bytes make the answer; returns them and pushes back the rest. */
function readAnswer(sock: Duplex, enough: (buf: Buffer) => number | undefined, what: string, proxy: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error, out?: Buffer) => {
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('close', onClose);
      if (err) reject(err);
      else resolve(out!);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > 64 * 1024) return done(new ProxyError(`the proxy's answer to ${what} is too long`, proxy));
      const n = enough(buf);
      if (n === undefined) return;
      sock.pause();
      if (buf.length > n) sock.unshift(buf.subarray(n));
      done(undefined, buf.subarray(0, n));
    };
    const onError = (err: Error) => done(err);
    const onClose = () => done(new ProxyError(`the proxy closed the connection during ${what}`, proxy));
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('close', onClose);
    sock.resume();
  });
}

function connected(sock: net.Socket | tls.TLSSocket, secure: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once(secure ? 'secureConnect' : 'connect', () => {
      sock.off('error', reject);
      resolve();
    });
    sock.once('error', reject);
  });
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

async function httpConnect(sock: Duplex, proxy: URL, host: string, port: number): Promise<void> {
  const name = redactProxy(proxy);
  const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  const auth = basicAuth(proxy);
  sock.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
  const head = (await readAnswer(sock, (b) => {
    const i = b.indexOf('\r\n\r\n');
    return i < 0 ? undefined : i + 4;
  }, 'CONNECT', name)).toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3})([^\r\n]*)/.exec(head);
  if (!status) throw new ProxyError(`the proxy did not answer CONNECT with HTTP (${JSON.stringify(head.slice(0, 40))})`, name);
  if (status[1] !== '200') {
    const why = status[1] === '407' ? ' (proxy authentication required: put the user and password in the proxy URL)' : '';
    throw new ProxyError(`the proxy refused CONNECT ${authority}: ${status[1]}${status[2]}${why}`, name);
  }
}

const SOCKS_REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

async function socks5Connect(sock: Duplex, proxy: URL, host: string, port: number): Promise<void> {
  const name = redactProxy(proxy);
  const user = decode(proxy.username);
  const pass = decode(proxy.password);
  const withAuth = Boolean(user || pass);
  // Greeting: no authentication, plus username/password when the URL has them (RFC 1928, 1929).
  sock.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]));
  const method = await readAnswer(sock, (b) => (b.length >= 2 ? 2 : undefined), 'the SOCKS5 greeting', name);
  if (method[0] !== 5) throw new ProxyError('the proxy does not speak SOCKS5', name);
  if (method[1] === 2 && withAuth) {
    const u = Buffer.from(user);
    const p = Buffer.from(pass);
    if (u.length > 255 || p.length > 255) throw new ProxyError('the SOCKS5 user or password is longer than 255 bytes', name);
    sock.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    const st = await readAnswer(sock, (b) => (b.length >= 2 ? 2 : undefined), 'SOCKS5 authentication', name);
    if (st[1] !== 0) throw new ProxyError('the SOCKS5 proxy refused the user and password', name);
  } else if (method[1] !== 0) {
    throw new ProxyError(method[1] === 0xff ? 'the SOCKS5 proxy accepts none of the offered authentication methods (put the user and password in the proxy URL)' : `the SOCKS5 proxy chose an unsupported method ${method[1]}`, name);
  }
  let addr: Buffer;
  if (net.isIPv4(host)) addr = Buffer.from([1, ...host.split('.').map(Number)]);
  else if (net.isIPv6(host)) addr = Buffer.concat([Buffer.from([4]), ipv6Bytes(host)]);
  else {
    const h = Buffer.from(host);
    if (h.length > 255) throw new ProxyError('the host name is too long for SOCKS5', name);
    addr = Buffer.concat([Buffer.from([3, h.length]), h]);
  }
  sock.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, Buffer.from([port >> 8, port & 0xff])]));
  const reply = await readAnswer(sock, (b) => {
    if (b.length < 5) return undefined;
    const len = b[3] === 1 ? 4 : b[3] === 4 ? 16 : b[3] === 3 ? 1 + b[4] : -1;
    if (len < 0) return b.length;
    return b.length >= 4 + len + 2 ? 4 + len + 2 : undefined;
  }, 'the SOCKS5 CONNECT', name);
  if (reply[0] !== 5) throw new ProxyError('the proxy does not speak SOCKS5', name);
  if (reply[1] !== 0) throw new ProxyError(`the SOCKS5 proxy could not connect to ${host}:${port}: ${SOCKS_REPLIES[reply[1]] ?? `reply ${reply[1]}`}`, name);
}

/** The 16 bytes of an IPv6 address (SOCKS5 ATYP 4). */
export function ipv6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::');
  const part = (s: string) => (s ? s.split(':') : []);
  let groups = part(head);
  let rest = part(tail);
  const last = (rest.length ? rest : groups).at(-1) ?? '';
  const v4 = net.isIPv4(last) ? last.split('.').map(Number) : undefined;
  if (v4) {
    const g = [((v4[0] << 8) | v4[1]).toString(16), ((v4[2] << 8) | v4[3]).toString(16)];
    if (rest.length) rest = [...rest.slice(0, -1), ...g];
    else groups = [...groups.slice(0, -1), ...g];
  }
  const fill = ip.includes('::') ? Array(8 - groups.length - rest.length).fill('0') : [];
  const all = [...groups, ...fill, ...rest];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface TunnelOptions {
  /** How long reaching the proxy and opening the tunnel may take (kubectl's dial timeout is 30 s). */
  timeoutMs: number;
  /** Called with the socket to the proxy as soon as it exists, so an agent can destroy it early. */
  onSocket?: (sock: Duplex) => void;
}

/** Opens a socket to host:port through the proxy, within `timeoutMs`. */
export async function openTunnel(proxy: URL, host: string, port: number, opts: TunnelOptions): Promise<Duplex> {
  const name = redactProxy(proxy);
  const proxyPort = Number(proxy.port || DEFAULT_PORTS[proxy.protocol]);
  const proxyHost = bareHost(proxy.hostname);
  const secure = proxy.protocol === 'https:';
  const sock: net.Socket | tls.TLSSocket = secure
    ? tls.connect({ host: proxyHost, port: proxyPort, servername: net.isIP(proxyHost) ? undefined : proxyHost, ca: proxyRoots(), ALPNProtocols: ['http/1.1'] })
    : net.connect({ host: proxyHost, port: proxyPort });
  opts.onSocket?.(sock);
  let phase: 'connect' | 'tunnel' = 'connect';
  sock.setTimeout(opts.timeoutMs, () => {
    const what = phase === 'connect' ? 'connecting to the proxy' : `opening the tunnel to ${host}:${port}`;
    sock.destroy(new ProxyError(`no answer within ${opts.timeoutMs / 1000}s while ${what}`, name, phase, 'ETIMEDOUT'));
  });
  try {
    await connected(sock, secure);
    phase = 'tunnel';
    if (proxy.protocol === 'socks5:') await socks5Connect(sock, proxy, host, port);
    else await httpConnect(sock, proxy, host, port);
  } catch (err) {
    sock.destroy();
    if (err instanceof ProxyError) throw err;
    // A system or TLS error on the way to the proxy, or while it answered: blamed on the proxy, with its code.
    const e = err as NodeJS.ErrnoException;
    throw new ProxyError(e.code ? `${e.code}: ${e.message}` : e.message, name, phase, e.code);
  }
  sock.setTimeout(0);
  return sock;
}

type ConnectCallback = (err: Error | null, socket?: Duplex) => void;

/**
 * An agent whose connections go through the proxy: for an https server, TLS
 * (with the agent's secure context, server name and verification) runs over
 * the tunnel. Sockets still being set up are destroyed with the agent, so a
 * command never waits on a proxy after it is done.
 */
export function proxyAgent(proxy: URL, secure: boolean, tlsOptions: https.AgentOptions, timeoutMs: number): http.Agent {
  const opening = new Set<Duplex>();
  const tunnel = (options: { host?: string | null; hostname?: string | null; port?: number | string | null }, cb: ConnectCallback, wrap: (sock: Duplex) => Duplex) => {
    const host = bareHost(String(options.hostname ?? options.host ?? 'localhost'));
    const port = Number(options.port || (secure ? 443 : 80));
    let raw: Duplex | undefined;
    openTunnel(proxy, host, port, { timeoutMs, onSocket: (s) => opening.add((raw = s)) }).then(
      (sock) => {
        opening.delete(sock);
        try {
          cb(null, wrap(sock));
        } catch (err) {
          sock.destroy();
          cb(err as Error);
        }
      },
      (err: Error) => {
        if (raw) opening.delete(raw);
        cb(err);
      },
    );
    return undefined;
  };
  const agent = secure ? new https.Agent({ keepAlive: true, ...tlsOptions }) : new http.Agent({ keepAlive: true });
  const createConnection = secure
    ? (options: tls.ConnectionOptions & { hostname?: string }, cb: ConnectCallback) => tunnel(options, cb, (sock) => tls.connect({ ...options, socket: sock }))
    : // The tunnel's socket was paused after the proxy's answer; the HTTP client reads it once resumed.
      (options: { host?: string; hostname?: string; port?: number }, cb: ConnectCallback) => tunnel(options, cb, (sock) => sock.resume());
  const destroy = agent.destroy.bind(agent);
  Object.assign(agent, {
    createConnection,
    destroy: () => {
      for (const s of opening) s.destroy();
      opening.clear();
      destroy();
    },
  });
  return agent;
}
