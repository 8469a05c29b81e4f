/**
 * Kubeconfig files as kubectl reads them: the file format (clientcmd v1, with
 * its kebab-case keys), relative paths made absolute against the file that
 * names them, and the TLS and credential options of one cluster and user.
 *
 * Certificates, keys and static tokens are applied here; an exec credential
 * plugin or an auth provider (OIDC, the cloud ones) goes through
 * @kubernetes/client-node's KubeConfig, which runs and caches them, so the
 * client library is loaded only for those users.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VnetError } from '../errors.js';

export interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
  [key: string]: unknown;
}

export interface RawUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  as?: string;
  'as-groups'?: string[];
  'as-uid'?: string;
  'as-user-extra'?: Record<string, string[]>;
  exec?: { command?: string; [key: string]: unknown };
  'auth-provider'?: { name?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface RawContext {
  cluster?: string;
  user?: string;
  namespace?: string;
  [key: string]: unknown;
}

export interface Named<T> {
  name: string;
  value: T;
}

/** One kubeconfig file, its entries in file order, paths absolute. */
export interface KubeconfigFile {
  file: string;
  clusters: Named<RawCluster>[];
  users: Named<RawUser>[];
  contexts: Named<RawContext>[];
  currentContext?: string;
}

const PATH_KEYS = {
  cluster: ['certificate-authority'],
  user: ['client-certificate', 'client-key', 'tokenFile'],
} as const;

/**
 * Parses kubeconfig text: JSON as JSON, YAML with the `yaml` package (loaded
 * on first use; it costs `status` under 3 ms of start-up, measured against a
 * hand-written reader of kubectl's YAML subset, which is therefore not kept).
 */
async function parseText(text: string): Promise<unknown> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      // not JSON after all: YAML's flow syntax is wider
    }
  }
  const { parse } = await import('yaml');
  return parse(text);
}

function entries<T>(doc: Record<string, unknown>, list: 'clusters' | 'users' | 'contexts', inner: 'cluster' | 'user' | 'context', file: string): Named<T>[] {
  const items = doc[list];
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) throw new Error(`${list} is not a list`);
  return items.map((item: unknown, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new Error(`${list}[${i}] is not a mapping`);
    const { name, [inner]: value } = item as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw new Error(`${list}[${i}].name is missing`);
    if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) throw new Error(`${list}[${i}].${inner} is not a mapping`);
    const entry = { ...((value ?? {}) as Record<string, unknown>) };
    const dir = path.dirname(path.resolve(file));
    for (const key of (PATH_KEYS as Record<string, readonly string[]>)[inner] ?? []) {
      const p = entry[key];
      if (typeof p === 'string' && p !== '' && !path.isAbsolute(p)) entry[key] = path.join(dir, p);
    }
    // An exec plugin's command with a path separator is relative to the kubeconfig too
    // (client-go); a bare name is looked up on PATH.
    const exec = entry.exec as { command?: unknown } | undefined;
    if (exec && typeof exec === 'object' && typeof exec.command === 'string' && /[\\/]/.test(exec.command) && !path.isAbsolute(exec.command)) {
      entry.exec = { ...exec, command: path.join(dir, exec.command) };
    }
    return { name, value: entry as T };
  });
}

/** Reads and checks one kubeconfig file; a file that cannot be parsed is an `unreachable` error naming it. */
export async function readKubeconfigFile(file: string): Promise<KubeconfigFile> {
  try {
    const doc = await parseText(fs.readFileSync(file, 'utf8'));
    if (doc === null || doc === undefined) return { file, clusters: [], users: [], contexts: [] };
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('the file is not a mapping');
    const d = doc as Record<string, unknown>;
    const current = d['current-context'];
    return {
      file,
      clusters: entries<RawCluster>(d, 'clusters', 'cluster', file),
      users: entries<RawUser>(d, 'users', 'user', file),
      contexts: entries<RawContext>(d, 'contexts', 'context', file),
      currentContext: typeof current === 'string' && current !== '' ? current : undefined,
    };
  } catch (err) {
    // A YAML parser's message may carry a code frame over several lines: keep its first line (the reason and position).
    const reason = String((err as Error).message ?? err).split('\n')[0].trim();
    throw new VnetError('unreachable', `kubeconfig ${file} cannot be read: ${reason}`, {
      hint: 'fix the file or point --kubeconfig at another one',
      cause: err,
    });
  }
}

/** TLS and credential options for node:https, as kubectl derives them from a cluster and a user entry. */
export interface TransportOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
  /** user:password for basic authentication. */
  auth?: string;
  headers: Record<string, string>;
}

/** Whether the user's credentials come from a plugin: an exec command or an auth-provider. */
export function usesCredentialPlugin(user: RawUser | undefined): boolean {
  return Boolean(user && (user.exec || user['auth-provider']));
}

/** Auth providers (OIDC, the cloud ones) are run by @kubernetes/client-node; exec plugins by exec-credential.ts. */
export function needsClientNode(user: RawUser | undefined): boolean {
  return Boolean(user?.['auth-provider']);
}

function str(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}

/** `*-data` wins over the file, as in kubectl. */
function material(data: unknown, file: unknown, what: string): Buffer | undefined {
  const d = str(data, `${what}-data`);
  if (d) return Buffer.from(d, 'base64');
  const f = str(file, what);
  return f ? fs.readFileSync(f) : undefined;
}

/** A cluster entry with both insecure-skip-tls-verify and a CA: kubectl refuses it, and so does this tool. */
export function assertTlsSettings(cluster: RawCluster): void {
  if (cluster['insecure-skip-tls-verify'] === true && (cluster['certificate-authority'] || cluster['certificate-authority-data'])) {
    throw new Error('the cluster entry has both insecure-skip-tls-verify and a certificate-authority, which kubectl does not allow either: keep the certificate-authority and remove insecure-skip-tls-verify');
  }
}

/**
 * The cluster's TLS options and a static user's credentials (client
 * certificate, token or tokenFile, username and password). A tokenFile that
 * can be read wins over token, as in client-go.
 */
export function staticTransport(cluster: RawCluster, user: RawUser | undefined): TransportOptions {
  assertTlsSettings(cluster);
  const out: TransportOptions = { headers: {} };
  if (cluster['insecure-skip-tls-verify'] === true) out.rejectUnauthorized = false;
  const servername = str(cluster['tls-server-name'], 'tls-server-name');
  if (servername) out.servername = servername;
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate-authority');
  if (ca) out.ca = ca;
  if (!user) return out;
  const cert = material(user['client-certificate-data'], user['client-certificate'], 'client-certificate');
  if (cert) out.cert = cert;
  const key = material(user['client-key-data'], user['client-key'], 'client-key');
  if (key) out.key = key;
  let token = str(user.token, 'token');
  const tokenFile = str(user.tokenFile, 'tokenFile');
  if (tokenFile) {
    try {
      // An empty file leaves token in place, as in client-go.
      token = fs.readFileSync(tokenFile, 'utf8').trim() || token;
    } catch (err) {
      if (!token) throw err;
    }
  }
  if (token) out.headers.Authorization = `Bearer ${token}`;
  const username = str(user.username, 'username');
  if (username) out.auth = `${username}:${str(user.password, 'password') ?? ''}`;
  return out;
}
