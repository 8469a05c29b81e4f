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

function isLoopback(ip: string): boolean {
  if (net.isIPv4(ip)) return ip.split('.')[0] === '127';
  if (net.isIPv6(ip)) {
    const l = ip.toLowerCase();
    if (l === '::1' || l === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(l);
    return Boolean(mapped && mapped[1].split('.')[0] === '127');
  }
  return false;
}

/** True when `ip` lies in `cidr` ("10.0.0.0/8", "fd00::/8"). */
function inCidr(ip: string, cidr: string): boolean | undefined {
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) return undefined;
  const base = cidr.slice(0, slash);
  const bits = Number(cidr.slice(slash + 1));
  const family = net.isIPv4(base) ? 'ipv4' : net.isIPv6(base) ? 'ipv6' : undefined;
  if (!family || !Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv4' ? 32 : 128)) return undefined;
  const list = new net.BlockList();
  list.addSubnet(base, bits, family);
  const ipFamily = net.isIPv4(ip) ? 'ipv4' : 'ipv6';
  return list.check(ip, ipFamily);
}

function sameIp(a: string, b: string): boolean {
  if (net.isIPv4(a) && net.isIPv4(b)) return a === b;
  if (net.isIPv6(a) && net.isIPv6(b)) {
    const list = new net.BlockList();
    list.addAddress(b, 'ipv6');
    return list.check(a, 'ipv6');
  }
  return false;
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
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (v6) {
      eHost = v6[1];
      ePort = v6[2] ?? '';
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

/** An error on the way through the proxy, with what to check. */
export class ProxyError extends Error {
  constructor(
    message: string,
    readonly proxy: string,
  ) {
    super(message);
    this.name = 'ProxyError';
  }
}

function basicAuth(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
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

/** Roots for an https proxy: Node's bundled ones and NODE_EXTRA_CA_CERTS (the process default may hold only the cluster's CA). */
function proxyRoots(): string[] | undefined {
  const t = tls as typeof tls & { getCACertificates?: (type: string) => string[] };
  return t.getCACertificates ? [...t.getCACertificates('bundled'), ...t.getCACertificates('extra')] : undefined;
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
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
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

/** Opens a socket to host:port through the proxy. */
export async function openTunnel(proxy: URL, host: string, port: number): Promise<Duplex> {
  const proxyPort = Number(proxy.port || DEFAULT_PORTS[proxy.protocol]);
  const proxyHost = bareHost(proxy.hostname);
  let sock: net.Socket | tls.TLSSocket;
  if (proxy.protocol === 'https:') {
    sock = tls.connect({ host: proxyHost, port: proxyPort, servername: net.isIP(proxyHost) ? undefined : proxyHost, ca: proxyRoots(), ALPNProtocols: ['http/1.1'] });
    await connected(sock, true);
  } else {
    sock = net.connect({ host: proxyHost, port: proxyPort });
    await connected(sock, false);
  }
  try {
    if (proxy.protocol === 'socks5:') await socks5Connect(sock, proxy, host, port);
    else await httpConnect(sock, proxy, host, port);
  } catch (err) {
    sock.destroy();
    throw err;
  }
  return sock;
}

type ConnectCallback = (err: Error | null, socket?: Duplex) => void;

/**
 * An agent whose connections go through the proxy: for an https server, TLS
 * (with the agent's secure context, server name and verification) runs over
 * the tunnel.
 */
export function proxyAgent(proxy: URL, secure: boolean, tlsOptions: https.AgentOptions): http.Agent {
  const tunnel = (options: { host?: string | null; hostname?: string | null; port?: number | string | null }, cb: ConnectCallback, wrap: (sock: Duplex) => Duplex) => {
    const host = bareHost(String(options.hostname ?? options.host ?? 'localhost'));
    const port = Number(options.port || (secure ? 443 : 80));
    openTunnel(proxy, host, port).then(
      (sock) => {
        try {
          cb(null, wrap(sock));
        } catch (err) {
          sock.destroy();
          cb(err as Error);
        }
      },
      (err: Error) => cb(err),
    );
    return undefined;
  };
  if (secure) {
    const agent = new https.Agent({ keepAlive: true, ...tlsOptions });
    (agent as unknown as { createConnection: unknown }).createConnection = (options: tls.ConnectionOptions & { hostname?: string }, cb: ConnectCallback) =>
      tunnel(options, cb, (sock) => tls.connect({ ...options, socket: sock }));
    return agent;
  }
  const agent = new http.Agent({ keepAlive: true });
  (agent as unknown as { createConnection: unknown }).createConnection = (options: net.NetConnectOpts & { hostname?: string }, cb: ConnectCallback) => tunnel(options as never, cb, (sock) => sock);
  return agent;
}
