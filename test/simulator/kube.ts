// A small REST client and list+watch cache for the simulator. Authentication
// and TLS come from client-node's KubeConfig; requests go over node:https.
// Independent of src/ on purpose: the simulator must not share code with the
// plugin it is used to test.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export type Obj = Record<string, any>;

export class ApiError extends Error {
  code: number;
  reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

interface Prepared {
  server: URL;
  headers: Record<string, any>;
  agent: http.Agent;
  auth?: string | null;
  secure: boolean;
}

export class Rest {
  private kc: KubeConfig;
  private prepared?: Promise<Prepared>;
  private controllers = new Set<AbortController>();
  /** How long the server keeps one watch open before ending it (the informer then watches again). */
  watchTimeoutSeconds = 240;
  /** Watches ended by the server and started again, for the log and tests. */
  rewatches = 0;

  constructor(kc: KubeConfig) {
    this.kc = kc;
  }

  private prepare(): Promise<Prepared> {
    this.prepared ??= (async () => {
      const cluster = this.kc.getCurrentCluster();
      if (!cluster) throw new Error('the kubeconfig has no current cluster');
      const opts: https.RequestOptions = { headers: {} };
      await this.kc.applyToHTTPSOptions(opts);
      const server = new URL(cluster.server);
      const secure = server.protocol === 'https:';
      const agent = secure
        ? new https.Agent({ keepAlive: true, ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase, servername: opts.servername, rejectUnauthorized: opts.rejectUnauthorized })
        : new http.Agent({ keepAlive: true });
      return { server, headers: { ...(opts.headers as Record<string, any>) }, agent, auth: opts.auth, secure };
    })();
    return this.prepared!;
  }

  /** Aborts every request and watch in flight (used at shutdown). */
  abortAll(): void {
    for (const c of this.controllers) c.abort();
  }

  private async open(method: string, path: string, query: Record<string, string | number | boolean | undefined>, body: unknown, contentType: string | undefined, signal: AbortSignal): Promise<http.IncomingMessage> {
    const p = await this.prepare();
    const url = new URL(path, p.server);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, any> = { ...p.headers, Accept: 'application/json' };
    if (payload) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const mod = p.secure ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: p.agent, auth: p.auth, signal }, resolve);
      req.on('error', reject);
      req.setTimeout(330_000, () => req.destroy(new Error('request timed out')));
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** One JSON request; throws ApiError for HTTP errors. */
  async request(method: string, path: string, opts: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; contentType?: string } = {}): Promise<Obj> {
    const ctl = new AbortController();
    this.controllers.add(ctl);
    const timer = setTimeout(() => ctl.abort(), 30_000);
    try {
      const res = await this.open(method, path, opts.query ?? {}, opts.body, opts.contentType, ctl.signal);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed: Obj = {};
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = { message: text.slice(0, 300) };
      }
      const status = res.statusCode ?? 0;
      if (status >= 400) throw new ApiError(status, parsed.reason ?? '', `${method} ${path}: ${status} ${parsed.reason ?? ''} ${parsed.message ?? ''}`.trim());
      return parsed;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(ctl);
    }
  }

  get(path: string): Promise<Obj> {
    return this.request('GET', path);
  }

  create(path: string, obj: Obj): Promise<Obj> {
    return this.request('POST', path, { body: obj });
  }

  jsonPatch(path: string, ops: Obj[]): Promise<Obj> {
    return this.request('PATCH', path, { body: ops, contentType: 'application/json-patch+json' });
  }

  mergePatch(path: string, body: Obj): Promise<Obj> {
    return this.request('PATCH', path, { body, contentType: 'application/merge-patch+json' });
  }

  async delete(path: string): Promise<Obj | null> {
    try {
      return await this.request('DELETE', path, { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, propagationPolicy: 'Background' } });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return null;
      throw err;
    }
  }

  /** A whole list, following `continue`. */
  async list(path: string, query: Record<string, string | undefined> = {}): Promise<{ items: Obj[]; resourceVersion: string }> {
    const items: Obj[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.request('GET', path, { query: { ...query, limit: 500, continue: cont } });
      items.push(...((page.items as Obj[]) ?? []));
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  /**
   * One watch request. Calls onEvent per event; resolves when the server
   * ends the stream: 'gone' when the resourceVersion is too old (relist).
   */
  async watch(path: string, query: Record<string, string | undefined>, onEvent: (type: string, obj: Obj) => void): Promise<'ended' | 'gone'> {
    const ctl = new AbortController();
    this.controllers.add(ctl);
    try {
      const res = await this.open('GET', path, { ...query, watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: this.watchTimeoutSeconds }, undefined, undefined, ctl.signal);
      if ((res.statusCode ?? 0) === 410) {
        res.resume();
        return 'gone';
      }
      if ((res.statusCode ?? 0) >= 400) {
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        throw new ApiError(res.statusCode ?? 0, '', `watch ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`);
      }
      let buf = '';
      let gone = false;
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let ev: Obj;
          try {
            ev = JSON.parse(line);
          } catch {
            continue;
          }
          if (ev.type === 'ERROR') {
            if (ev.object?.code === 410) gone = true;
            continue;
          }
          if (ev.object) onEvent(ev.type, ev.object);
        }
        if (gone) {
          ctl.abort();
          break;
        }
      }
      return gone ? 'gone' : 'ended';
    } catch (err) {
      if (ctl.signal.aborted) return 'ended';
      throw err;
    } finally {
      this.controllers.delete(ctl);
    }
  }
}

export function keyOf(obj: Obj): string {
  const m = obj?.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : String(m.name);
}

function rvNum(obj: Obj | undefined): number {
  const n = Number(obj?.metadata?.resourceVersion);
  return Number.isFinite(n) ? n : 0;
}

/**
 * An in-memory copy of one resource kind, kept by list + watch, re-listed
 * whenever a watch ends badly. Never holds an object older than one it has
 * already seen, and never resurrects one it saw deleted.
 */
export class Cache {
  readonly name: string;
  readonly items = new Map<string, Obj>();
  synced = false;
  private deletedUids = new Set<string>();
  private listeners: ((type: string, obj: Obj, old: Obj | undefined) => void)[] = [];

  constructor(name: string) {
    this.name = name;
  }

  onChange(fn: (type: string, obj: Obj, old: Obj | undefined) => void): void {
    this.listeners.push(fn);
  }

  get(key: string): Obj | undefined {
    return this.items.get(key);
  }

  values(): Obj[] {
    return [...this.items.values()];
  }

  private emit(type: string, obj: Obj, old: Obj | undefined): void {
    for (const l of this.listeners) {
      try {
        l(type, obj, old);
      } catch (err) {
        console.log(`error in ${this.name} listener: ${(err as Error).message}`);
      }
    }
  }

  /** Records an object seen in a watch event or returned by a write. */
  upsert(obj: Obj | null | undefined): void {
    if (!obj?.metadata?.name) return;
    const uid = obj.metadata.uid;
    if (uid && this.deletedUids.has(uid)) return;
    const key = keyOf(obj);
    const old = this.items.get(key);
    // Older than what is cached (a late watch event after our own write), or the same version again.
    if (old && old.metadata?.uid === uid && rvNum(old) > 0 && rvNum(old) >= rvNum(obj)) return;
    this.items.set(key, obj);
    this.emit(old ? 'MODIFIED' : 'ADDED', obj, old);
  }

  remove(obj: Obj | null | undefined): void {
    if (!obj?.metadata?.name) return;
    const uid = obj.metadata.uid;
    if (uid) this.deletedUids.add(uid);
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old && uid && old.metadata?.uid !== uid) return;
    this.items.delete(key);
    this.emit('DELETED', old ?? obj, old);
  }

  /** Replaces everything with a fresh list; reports what vanished. */
  replace(items: Obj[]): void {
    const fresh = new Map(items.map((o) => [keyOf(o), o]));
    for (const [key, old] of [...this.items]) {
      if (!fresh.has(key) || fresh.get(key)?.metadata?.uid !== old.metadata?.uid) this.remove(old);
    }
    for (const o of items) this.upsert(o);
    this.synced = true;
  }
}

/** Keeps cache in step with path forever (until stop() is called). */
export async function runInformer(rest: Rest, cache: Cache, path: string, query: Record<string, string | undefined>, isStopped: () => boolean, log: (msg: string) => void): Promise<void> {
  let lastError = '';
  while (!isStopped()) {
    try {
      const list = await rest.list(path, query);
      cache.replace(list.items);
      if (lastError) log(`${cache.name}: watching again`);
      lastError = '';
      let rv = list.resourceVersion;
      while (!isStopped()) {
        const r = await rest.watch(path, { ...query, resourceVersion: rv }, (type, obj) => {
          if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
          if (type === 'BOOKMARK') return;
          if (type === 'DELETED') cache.remove(obj);
          else cache.upsert(obj);
        });
        if (r === 'gone') {
          log(`${cache.name}: resourceVersion too old, listing again`);
          break;
        }
        rest.rewatches++;
        if (!isStopped()) log(`${cache.name}: watch ended by the server, watching again from resourceVersion ${rv}`);
      }
    } catch (err) {
      if (isStopped()) return;
      // An API that is not served (no CRD) holds nothing; keep trying in case it appears.
      if (err instanceof ApiError && err.code === 404) cache.replace([]);
      const msg = (err as Error).message;
      if (msg !== lastError) log(`${cache.name}: list/watch failed, retrying: ${msg}`);
      lastError = msg;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
