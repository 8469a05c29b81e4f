import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { VnetError } from '../errors.js';
import { connectionTransport, type Connection } from './config.js';
import { usesCredentialPlugin, type TransportOptions } from './kubeconfig.js';
import { describeRequest } from './resources.js';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the client follows `continue` until the list is whole. */
  limit?: number;
}

export interface KubeList<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** A Kubernetes Status object as the server returns it on errors. */
interface Status {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { message?: string; field?: string }[] };
}

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE']);

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The CAs this process made its default roots, when it did (the first context with a CA). */
let processDefaultCAs: string | undefined;

/**
 * The TLS context of the connections to the API server: the cluster's CA
 * (when the kubeconfig names one) is the only trusted root, as with
 * createSecureContext's `ca`; without one, Node's default roots, as in kubectl.
 *
 * The first context with a CA makes that CA this process's default roots
 * (tls.setDefaultCACertificates, Node 24.5+): Node then builds the store from
 * it alone, where `ca` first builds the store of its bundled roots and of
 * NODE_EXTRA_CA_CERTS just to compare with (2 to 8 ms of every command here).
 * A CLI process talks to one API server and no other TLS peer. Any later
 * context (tests, completion, another cluster) gets its roots explicitly:
 * its own CA through `ca`, or, without one, Node's bundled and extra roots,
 * which the changed default no longer gives.
 */
export function clusterSecureContext(opts: Pick<TransportOptions, 'ca' | 'cert' | 'key'>): tls.SecureContext {
  const t = tls as typeof tls & { setDefaultCACertificates?: (certs: readonly string[]) => void; getCACertificates?: (type: string) => string[] };
  if (!opts.ca) {
    const ca = processDefaultCAs !== undefined && t.getCACertificates ? [...t.getCACertificates('bundled'), ...t.getCACertificates('extra')] : undefined;
    return tls.createSecureContext({ ca, cert: opts.cert, key: opts.key });
  }
  const text = opts.ca.toString('latin1');
  const pems = text.match(PEM_CERTIFICATE) ?? [];
  if (pems.length === 0) {
    // kubectl: "unable to load root certificates"; Node would trust nothing and blame the server.
    throw new Error('the certificate-authority data holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  const key = pems.join('\n');
  // Only plain CERTIFICATE blocks take the fast path; anything else in the data goes to `ca` whole.
  const plain = pems.length === text.split('-----BEGIN ').length - 1;
  if (plain && t.setDefaultCACertificates && (processDefaultCAs === undefined || processDefaultCAs === key)) {
    if (processDefaultCAs === undefined) {
      try {
        t.setDefaultCACertificates(pems);
        processDefaultCAs = key;
      } catch {
        // A block that does not parse: `ca` takes the ones that do, as kubectl does.
        return tls.createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key });
      }
    }
    return tls.createSecureContext({ cert: opts.cert, key: opts.key });
  }
  return tls.createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key });
}

/**
 * A small REST client over node:https. It takes authentication and TLS
 * material from the kubeconfig (connectionTransport: certificates, tokens and
 * exec credential plugins directly, auth providers through client-node),
 * adds impersonation, timeouts and error mapping, and counts requests. It
 * never logs headers, tokens or keys.
 */
export class KubeClient {
  /** Requests sent, for benchmarks and tests of the one-list-per-kind rule. */
  requestCount = 0;
  private prepared?: Promise<{ base: https.RequestOptions; agent: http.Agent }>;

  constructor(
    readonly conn: Connection,
    private readonly debug?: (line: string) => void,
  ) {}

  private prepare(): Promise<{ base: https.RequestOptions; agent: http.Agent }> {
    this.prepared ??= (async () => {
      let opts: TransportOptions;
      try {
        opts = await connectionTransport(this.conn);
      } catch (err) {
        // An exec plugin that fails is reported with its stderr, which may be empty or span lines.
        const raw = String((err as Error)?.message ?? '').trim();
        const reason = raw ? raw.split('\n').map((l) => l.trim()).filter(Boolean).join('; ') : undefined;
        if (!usesCredentialPlugin(this.conn.user)) {
          throw new VnetError('unreachable', `cannot read the certificates or token of context "${this.conn.contextName}": ${reason ?? 'no reason given'}`, {
            hint: 'check the files and data that the cluster and user entries of the kubeconfig name (certificate-authority, client-certificate, client-key, tokenFile)',
            cause: err,
          });
        }
        const command = this.conn.user?.exec?.command;
        throw new VnetError('unreachable', `cannot get credentials for context "${this.conn.contextName}": ${reason ?? (command ? `the exec credential plugin ${command} failed without a message` : 'no reason given')}`, {
          hint: 'check the user entry of the kubeconfig (exec plugin or auth provider)',
          cause: err,
        });
      }
      const headers: Record<string, string | string[]> = { ...opts.headers };
      // Header values go out as UTF-8 bytes, as kubectl sends them (Node would send Latin-1, or refuse).
      const utf8 = (v: string) => Buffer.from(v, 'utf8').toString('latin1');
      if (this.conn.impersonateUser) headers['Impersonate-User'] = utf8(this.conn.impersonateUser);
      if (this.conn.impersonateGroups.length > 0) headers['Impersonate-Group'] = this.conn.impersonateGroups.map(utf8);
      if (this.conn.impersonateUid) headers['Impersonate-Uid'] = utf8(this.conn.impersonateUid);
      // Keys that differ only in case are one header (Go sends both; the server folds them into one key).
      for (const [key, values] of Object.entries(this.conn.impersonateExtra ?? {})) {
        if (values.length === 0) continue;
        const name = `Impersonate-Extra-${extraHeaderKey(key)}`;
        const same = Object.keys(headers).find((h) => h.toLowerCase() === name.toLowerCase());
        headers[same ?? name] = [...((same ? headers[same] : []) as string[]), ...values.map(utf8)];
      }
      const isHttps = this.conn.server.startsWith('https:');
      // One TLS context for every connection of this invocation: the CA and the
      // client certificate are parsed once, not once per socket.
      let secureContext: tls.SecureContext | undefined;
      try {
        secureContext = isHttps ? clusterSecureContext(opts) : undefined;
      } catch (err) {
        throw new VnetError('unreachable', `the certificates or key of context "${this.conn.contextName}" cannot be used: ${(err as Error).message}`, {
          hint: 'check certificate-authority(-data) in the cluster entry and client-certificate(-data)/client-key(-data) in the user entry: each must be PEM (the -data fields base64 of PEM)',
          cause: err,
        });
      }
      const tlsOptions = { secureContext, servername: opts.servername, rejectUnauthorized: opts.rejectUnauthorized };
      const proxied = await this.proxyAgent(isHttps, tlsOptions);
      const agent = proxied ?? (isHttps ? new https.Agent({ keepAlive: true, ...tlsOptions }) : new http.Agent({ keepAlive: true }));
      return { base: { headers, auth: opts.auth }, agent };
    })();
    return this.prepared;
  }

  /** The proxy in use ("http://proxy:3128 (HTTPS_PROXY)", no credentials), for messages. */
  private proxy?: string;

  /**
   * An agent through the proxy kubectl would use (the cluster's proxy-url, else
   * HTTPS_PROXY and its family with NO_PROXY), or undefined. The proxy code
   * loads only when one of those settings is present.
   */
  private async proxyAgent(isHttps: boolean, tlsOptions: https.AgentOptions): Promise<http.Agent | undefined> {
    const setting = this.conn.cluster['proxy-url'];
    const env = process.env;
    if (!setting && !env.HTTPS_PROXY && !env.https_proxy && !env.HTTP_PROXY && !env.http_proxy) return undefined;
    const { chooseProxy, proxyAgent, redactProxy } = await import('./proxy.js');
    let choice;
    try {
      choice = chooseProxy(this.conn.server, setting === undefined ? undefined : String(setting));
    } catch (err) {
      throw new VnetError('unreachable', `the cluster of context "${this.conn.contextName}": ${(err as Error).message}`, {
        hint: `fix proxy-url in the cluster entry of ${this.conn.source}`,
        cause: err,
      });
    }
    if (!choice) return undefined;
    this.proxy = `${redactProxy(choice.url)} (${choice.source})`;
    this.debug?.(`through the proxy ${this.proxy}`);
    // Reaching the proxy and opening the tunnel: --request-timeout when given, else kubectl's 30 s dial timeout.
    return proxyAgent(choice.url, isHttps, tlsOptions, this.conn.requestTimeoutMs > 0 ? this.conn.requestTimeoutMs : 30_000);
  }

  /** Releases pooled connections so the process can exit promptly. */
  close(): void {
    void this.prepared?.then((p) => p.agent.destroy(), () => undefined);
  }

  private url(path: string, query?: RequestOptions['query']): URL {
    const u = new URL(this.conn.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u;
  }

  private async send(method: string, path: string, opts: RequestOptions, stream: boolean): Promise<http.IncomingMessage> {
    const { base, agent } = await this.prepare();
    const query = { ...opts.query };
    if (this.conn.requestTimeoutMs > 0 && !stream) query.timeout = `${Math.ceil(this.conn.requestTimeoutMs / 1000)}s`;
    const url = this.url(path, query);
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string | string[] | number> = { ...(base.headers as Record<string, string | string[]>), Accept: 'application/json', 'User-Agent': 'kubectl-vnet' };
    if (body) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = body.length;
    }
    this.requestCount++;
    const started = Date.now();
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent, auth: base.auth, signal: opts.signal }, (res) => {
        this.debug?.(`${method} ${url.pathname}${url.search} ${res.statusCode} in ${Date.now() - started}ms`);
        resolve(res);
      });
      if (this.conn.requestTimeoutMs > 0 && !stream) {
        req.setTimeout(this.conn.requestTimeoutMs, () => req.destroy(Object.assign(new Error('request timed out'), { code: 'VNET_TIMEOUT' })));
      }
      req.on('error', (err) => reject(this.networkError(err, method, url)));
      req.end(body);
    });
  }

  private networkError(err: NodeJS.ErrnoException, method: string, url: URL): Error {
    if (err.name === 'AbortError') return err;
    const code = err.code ?? '';
    if (this.proxy && err.name === 'ProxyError') {
      // Errors before the tunnel is up are the proxy's; once it is up, the server's (below).
      const phase = (err as Error & { phase?: string }).phase;
      if (phase === 'connect') {
        const tlsProblem = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
        const detail = NETWORK_ERRORS.has(code) ? code : err.message;
        return new VnetError('unreachable', `cannot reach the proxy ${this.proxy} on the way to ${this.conn.server} (${detail})`, {
          hint: tlsProblem
            ? "the proxy's certificate must be trusted: Node's bundled roots, the system store or NODE_EXTRA_CA_CERTS; verification stays on"
            : 'check that the proxy runs and that its address is right; NO_PROXY lists hosts that skip an environment proxy',
          cause: err,
        });
      }
      return new VnetError('unreachable', `cannot reach the Kubernetes API server at ${this.conn.server} through the proxy ${this.proxy}: ${err.message}`, {
        hint: 'check that the proxy lets you through to the server (and its user and password, if it needs them)',
        cause: err,
      });
    }
    if (code === 'VNET_TIMEOUT') {
      return new VnetError('timeout', `${method} ${url.pathname} timed out after ${this.conn.requestTimeoutMs}ms`, { hint: 'raise --request-timeout or check the API server load', cause: err });
    }
    if (code === 'ETIMEDOUT') {
      // The operating system gave up connecting (no --request-timeout involved): the server is not reachable.
      return new VnetError('unreachable', `cannot reach the Kubernetes API server at ${this.conn.server} (ETIMEDOUT: the connection attempt timed out)`, {
        hint: `check that the cluster is running, that a firewall or VPN lets you through, and that the context "${this.conn.contextName}" (${this.conn.source}) points at it`,
        cause: err,
      });
    }
    if (NETWORK_ERRORS.has(code)) {
      return new VnetError('unreachable', `cannot reach the Kubernetes API server at ${this.conn.server} (${code})`, {
        hint: `check that the cluster is running and that the context "${this.conn.contextName}" (${this.conn.source}) points at it`,
        cause: err,
      });
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      // A name mismatch is not a missing CA: the server address is not one the certificate holds.
      const altname = code === 'ERR_TLS_CERT_ALTNAME_INVALID';
      return new VnetError('unreachable', `TLS verification of ${this.conn.server} failed (${code}): ${err.message}`, {
        hint: altname
          ? 'use a server address that the certificate names (listed above) in the kubeconfig, or set tls-server-name in its cluster entry; verification stays on'
          : 'the kubeconfig needs the cluster\'s certificate-authority; verification stays on',
        cause: err,
      });
    }
    return new VnetError('unreachable', `request to ${this.conn.server} failed: ${err.message}`, { cause: err });
  }

  private async readBody(res: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let res: http.IncomingMessage;
      let text: string;
      try {
        res = await this.send(method, path, opts, false);
        text = await this.readBody(res);
      } catch (err) {
        if (err instanceof VnetError) throw err;
        throw this.networkError(err as NodeJS.ErrnoException, method, this.url(path));
      }
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
      const delay = retryDelay(status, res.headers['retry-after'], attempt);
      if (delay === undefined) throw this.apiError(status, text, method, path, false, attempt);
      await this.backOff(method, path, status, delay, attempt, opts.signal);
    }
  }

  /** Sleeps for the server's Retry-After before the next attempt (a --debug line says so); an abort ends it. */
  private async backOff(method: string, path: string, status: number, delayMs: number, attempt: number, signal?: AbortSignal): Promise<void> {
    this.debug?.(`${method} ${path}: ${status} with Retry-After, retry ${attempt + 1}/${MAX_RETRIES} in ${delayMs / 1000}s`);
    const { setTimeout: sleep } = await import('node:timers/promises');
    await sleep(delayMs, undefined, { signal });
  }

  apiError(status: number, text: string, method: string, path: string, watch: boolean, retries = 0): VnetError {
    let st: Status = {};
    try {
      st = JSON.parse(text) as Status;
    } catch {
      st = { message: text.trim().slice(0, 500) };
    }
    const reason = st.reason ?? '';
    const serverMsg = st.message || `HTTP ${status}`;
    const req = describeRequest(method, path, watch);
    const where = req.namespace ? ` in namespace "${req.namespace}"` : ' at cluster scope';
    const opts = { reason, status };
    switch (true) {
      case status === 401:
        return new VnetError('forbidden', `the server rejected the credentials (Unauthorized): ${serverMsg}`, { ...opts, hint: `renew the credentials of context "${this.conn.contextName}"` });
      case status === 403: {
        const who = this.conn.impersonateUser ? ` (as ${this.conn.impersonateUser})` : '';
        const as = impersonationArgs(this.conn);
        return new VnetError('forbidden', `forbidden: ${serverMsg}`, {
          ...opts,
          hint: `you need permission to ${req.verb} ${req.resource}${where}${who}; check with: kubectl auth can-i ${req.verb} ${req.resource}${req.namespace ? ` -n ${req.namespace}` : ''}${as}`,
        });
      }
      case status === 404:
        return new VnetError('notFound', serverMsg, { ...opts, hint: req.name ? `check the name and the namespace (-n)` : `is the ${req.resource} API installed on this cluster?` });
      case status === 409 || status === 412:
        return new VnetError('precondition', `conflict: ${serverMsg}`, { ...opts, hint: 'the object changed meanwhile; run the command again' });
      case status === 400 || status === 422: {
        const causes = (st.details?.causes ?? []).map((c) => c.message).filter(Boolean);
        const msg = causes.length > 0 && !serverMsg.includes(causes[0] as string) ? `${serverMsg} (${causes.join('; ')})` : serverMsg;
        return new VnetError('precondition', `the server refused the request: ${msg}`, { ...opts, hint: 'nothing was changed; fix what the message names and try again' });
      }
      case status === 504 || reason === 'Timeout':
        return new VnetError('timeout', `the server timed out: ${serverMsg}`, { ...opts, hint: 'raise --request-timeout or try again' });
      case status === 429 || status === 503: {
        const after = retries > 0 ? ` (still after ${retries} ${retries === 1 ? 'retry' : 'retries'} at the delay it asked for)` : '';
        return new VnetError('unreachable', `the server is unavailable${after}: ${serverMsg}`, { ...opts, hint: 'try again in a moment' });
      }
      default:
        return new VnetError('internal', `the server answered ${status} ${reason}: ${serverMsg}`, opts);
    }
  }

  get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, opts);
  }

  /** GET that returns null on 404 instead of throwing. */
  async getOrNull<T>(path: string, opts: RequestOptions = {}): Promise<T | null> {
    try {
      return await this.get<T>(path, opts);
    } catch (err) {
      if (err instanceof VnetError && err.code === 'notFound') return null;
      throw err;
    }
  }

  /** Lists a collection whole, following `continue` tokens page by page. */
  async list<T>(path: string, opts: ListOptions = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.get<KubeList<T>>(path, {
        query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit ?? 500, continue: cont },
      });
      for (const item of page.items ?? []) items.push(item);
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (cont);
    return { items, metadata: { resourceVersion } };
  }

  /** JSON Patch (RFC 6902), optionally as a server-side dry run. */
  patch<T>(path: string, ops: readonly unknown[], opts: { dryRun?: boolean } = {}): Promise<T> {
    return this.request<T>('PATCH', path, { body: ops, contentType: 'application/json-patch+json', query: { dryRun: opts.dryRun ? 'All' : undefined } });
  }

  /** Merge patch, for labels and other maps (never for lists). */
  mergePatch<T>(path: string, body: unknown, opts: { dryRun?: boolean } = {}): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: 'application/merge-patch+json', query: { dryRun: opts.dryRun ? 'All' : undefined } });
  }

  /**
   * Watches a collection from resourceVersion and yields events until the
   * server closes the stream or the signal aborts.
   */
  async *watch<T>(path: string, opts: { resourceVersion?: string; fieldSelector?: string; labelSelector?: string; signal?: AbortSignal; timeoutSeconds?: number }): AsyncGenerator<WatchEvent<T>> {
    const query = { watch: 1, allowWatchBookmarks: true, resourceVersion: opts.resourceVersion, fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector, timeoutSeconds: opts.timeoutSeconds };
    let res: http.IncomingMessage;
    try {
      res = await this.send('GET', path, { query, signal: opts.signal }, true);
    } catch (err) {
      if (err instanceof VnetError || (err as Error).name === 'AbortError') throw err;
      throw this.networkError(err as NodeJS.ErrnoException, 'GET', this.url(path));
    }
    for (let attempt = 0; (res.statusCode ?? 0) >= 300; attempt++) {
      const status = res.statusCode ?? 0;
      const text = await this.readBody(res);
      const delay = retryDelay(status, res.headers['retry-after'], attempt);
      if (delay === undefined) throw this.apiError(status, text, 'GET', path, true, attempt);
      try {
        await this.backOff('GET', path, status, delay, attempt, opts.signal);
        res = await this.send('GET', path, { query, signal: opts.signal }, true);
      } catch (err) {
        if (err instanceof VnetError || (err as Error).name === 'AbortError') throw err;
        throw this.networkError(err as NodeJS.ErrnoException, 'GET', this.url(path));
      }
    }
    let buf = '';
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) yield JSON.parse(line) as WatchEvent<T>;
        }
      }
    } catch (err) {
      if ((err as Error).name === 'AbortError' || opts.signal?.aborted) return;
      throw this.networkError(err as NodeJS.ErrnoException, 'GET', this.url(path));
    }
  }
}

/** client-go's default: at most 10 retries of a request the server answered with Retry-After. */
export const MAX_RETRIES = 10;

/**
 * The wait before retrying, as client-go decides it (rest.Request's checkWait): a 429, or a 5xx,
 * that carries `Retry-After: SECONDS` (a whole number) is retried after that many seconds, at
 * most MAX_RETRIES times; anything else is not retried (undefined). Seconds of 0 wait 0 ms.
 */
export function retryDelay(status: number, retryAfter: string | string[] | undefined, attempt: number): number | undefined {
  if (attempt >= MAX_RETRIES) return undefined;
  if (status !== 429 && status < 500) return undefined;
  const value = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value.trim()) * 1000;
}

/**
 * ` --as USER --as-group G... --as-uid UID` for a `kubectl auth can-i` line, so the check asks
 * about the identity that was refused (quoted when the shell would split a value); '' without
 * --as. kubectl has no flag for as-user-extra: that part of the identity cannot be named there.
 */
export function impersonationArgs(conn: Pick<Connection, 'impersonateUser' | 'impersonateGroups' | 'impersonateUid'>): string {
  const q = (v: string) => (/^[A-Za-z0-9@%+=:,./_-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);
  if (!conn.impersonateUser) return '';
  return [` --as ${q(conn.impersonateUser)}`, ...conn.impersonateGroups.map((g) => ` --as-group ${q(g)}`), conn.impersonateUid ? ` --as-uid ${q(conn.impersonateUid)}` : ''].join('');
}

/**
 * The header name part for an as-user-extra key, as client-go writes it: bytes that are not
 * HTTP token characters (RFC 7230), and "%", become %XX (the API server unescapes them).
 */
export function extraHeaderKey(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /^[A-Za-z0-9!#$&'*+\-.^_`|~]$/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
