// Two small forwarding proxies on 127.0.0.1 for the proxy tests: HTTP CONNECT
// (RFC 9110 section 9.3.6, Basic proxy authentication) and SOCKS5 (RFC 1928,
// username/password per RFC 1929). Each records the targets it was asked for
// and the credentials it saw, and pipes bytes without looking at them (the TLS
// session is between the client and the API server). `hosts` is the proxy's
// own name resolution (a name only the proxy knows, as behind a real proxy).
import net from 'node:net';
import tls from 'node:tls';

export interface TestProxy {
  url: string;
  port: number;
  /** "host:port" of every tunnel asked for, in order. */
  targets: string[];
  /** The credentials each request carried ("user:password"), or null. */
  credentials: (string | null)[];
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

interface Recorder {
  targets: string[];
  credentials: (string | null)[];
  sockets: Set<net.Socket>;
}

/** A proxy server on 127.0.0.1 that hands each client connection to `handle`, with what it records. */
async function serve(scheme: 'http' | 'https' | 'socks5', handle: (client: net.Socket, rec: Recorder) => void, tlsOptions?: tls.TlsOptions): Promise<TestProxy> {
  const rec: Recorder = { targets: [], credentials: [], sockets: new Set() };
  const onClient = (client: net.Socket) => {
    rec.sockets.add(client);
    client.on('error', () => undefined);
    handle(client, rec);
  };
  // An https proxy: TLS between the client and the proxy (a failed handshake is the client's to report).
  const server = tlsOptions ? tls.createServer(tlsOptions, onClient).on('tlsClientError', () => undefined) : net.createServer(onClient);
  const port = await listen(server);
  return { url: `${scheme}://127.0.0.1:${port}`, port, targets: rec.targets, credentials: rec.credentials, close: closer(server, rec.sockets) };
}

function pipeTo(client: net.Socket, host: string, port: number, onOpen: () => void, onFail: () => void, sockets: Set<net.Socket>): void {
  const upstream = net.connect({ host, port });
  sockets.add(upstream);
  upstream.once('connect', () => {
    onOpen();
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.once('error', () => onFail());
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
}

/** An HTTP CONNECT proxy; with `auth` ("user:password") it answers 407 without the right Proxy-Authorization. */
export function startConnectProxy(opts: { auth?: string; hosts?: Record<string, string>; tls?: tls.TlsOptions } = {}): Promise<TestProxy> {
  return serve(opts.tls ? 'https' : 'http', (client, { targets, credentials, sockets }) => {
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      client.pause();
      const text = head.subarray(0, end).toString('latin1');
      const rest = head.subarray(end + 4);
      const [requestLine, ...headerLines] = text.split('\r\n');
      const m = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine);
      if (!m) {
        client.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      targets.push(m[1]);
      const authHeader = headerLines.find((l) => /^proxy-authorization:/i.test(l));
      const basic = authHeader && /^proxy-authorization:\s*Basic\s+(\S+)$/i.exec(authHeader);
      const given = basic ? Buffer.from(basic[1], 'base64').toString('utf8') : null;
      credentials.push(given);
      if (opts.auth && given !== opts.auth) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const colon = m[1].lastIndexOf(':');
      const host = m[1].slice(0, colon).replace(/^\[|\]$/g, '');
      const port = Number(m[1].slice(colon + 1));
      pipeTo(
        client,
        opts.hosts?.[host] ?? host,
        port,
        () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (rest.length) client.unshift(rest);
          client.resume();
        },
        () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'),
        sockets,
      );
    };
    client.on('data', onData);
  }, opts.tls);
}

/** A SOCKS5 proxy; with `auth` ("user:password") it requires username/password authentication. */
export function startSocks5Proxy(opts: { auth?: string; hosts?: Record<string, string> } = {}): Promise<TestProxy> {
  return serve('socks5', (client, { targets, credentials, sockets }) => {
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' = 'greeting';
    let given: string | null = null;
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (stage === 'greeting') {
          if (buf.length < 2 || buf.length < 2 + buf[1]) return;
          const methods = [...buf.subarray(2, 2 + buf[1])];
          buf = buf.subarray(2 + buf[1]);
          const want = opts.auth ? 2 : 0;
          if (!methods.includes(want)) {
            client.end(Buffer.from([5, 0xff]));
            return;
          }
          client.write(Buffer.from([5, want]));
          stage = want === 2 ? 'auth' : 'request';
        } else if (stage === 'auth') {
          if (buf.length < 2) return;
          const ulen = buf[1];
          if (buf.length < 3 + ulen) return;
          const plen = buf[2 + ulen];
          if (buf.length < 3 + ulen + plen) return;
          given = `${buf.subarray(2, 2 + ulen).toString('utf8')}:${buf.subarray(3 + ulen, 3 + ulen + plen).toString('utf8')}`;
          buf = buf.subarray(3 + ulen + plen);
          const ok = given === opts.auth;
          client.write(Buffer.from([1, ok ? 0 : 1]));
          if (!ok) {
            credentials.push(given);
            client.end();
            return;
          }
          stage = 'request';
        } else {
          if (buf.length < 5) return;
          const atyp = buf[3];
          const alen = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? 1 + buf[4] : -1;
          if (alen < 0) {
            client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
            return;
          }
          if (buf.length < 4 + alen + 2) return;
          const a = buf.subarray(4, 4 + alen);
          const host = atyp === 1 ? [...a].join('.') : atyp === 3 ? a.subarray(1).toString('utf8') : (a.toString('hex').match(/.{4}/g) ?? []).join(':');
          const port = buf.readUInt16BE(4 + alen);
          const rest = buf.subarray(4 + alen + 2);
          client.off('data', onData);
          client.pause();
          targets.push(`${atyp === 4 ? `[${host}]` : host}:${port}`);
          credentials.push(given);
          pipeTo(
            client,
            opts.hosts?.[host] ?? host,
            port,
            () => {
              client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
              if (rest.length) client.unshift(rest);
              client.resume();
            },
            () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])),
            sockets,
          );
          return;
        }
      }
    };
    client.on('data', onData);
  });
}
