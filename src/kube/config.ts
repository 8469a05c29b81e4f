import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VnetError, usageError } from '../errors.js';
import { parseDuration } from './duration.js';
import type { ExecIO } from './exec-credential.js';
import { checkOverrides, overrideCluster, overridesServer, overrideUser, type ConnectionOverrides } from './overrides.js';
import { assertTlsSettings, needsClientNode, readKubeconfigFile, staticTransport, type KubeconfigFile, type Named, type RawCluster, type RawContext, type RawUser, type TransportOptions } from './kubeconfig.js';

/** The kubectl-compatible connection flags, as parsed. */
export interface ConnectionFlags extends ConnectionOverrides {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  as?: string;
  'as-group'?: string[];
  'as-uid'?: string;
  'request-timeout'?: string;
}

/** Everything a command needs to talk to one cluster, built per invocation. */
export interface Connection {
  server: string;
  contextName: string;
  /** Every context name of the merged kubeconfig (for completion). */
  contextNames: string[];
  /** The cluster and user entries in use (kubeconfig format, paths absolute). */
  cluster: RawCluster;
  user?: RawUser;
  userName: string;
  /** A kubeconfig of the context, cluster and user in use: what client-node gets for credential plugins. */
  merged: object;
  /** Namespace from -n, else the context's, else "default". */
  namespace: string;
  /** True when -n was given. */
  namespaceFromFlag: boolean;
  impersonateUser?: string;
  impersonateGroups: string[];
  impersonateUid?: string;
  /** The user entry's as-user-extra (no flag sets it, as in kubectl). */
  impersonateExtra: Record<string, string[]>;
  /** 0 means no timeout. */
  requestTimeoutMs: number;
  /** Where the configuration came from, for messages. */
  source: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The kubeconfig files kubectl would read, in precedence order. */
export function kubeconfigFiles(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { files: string[]; source: string } {
  if (flag) {
    if (!fs.existsSync(flag)) {
      throw new VnetError('unreachable', `kubeconfig file ${flag} (from --kubeconfig) does not exist`, {
        hint: 'give the path of an existing kubeconfig, or leave --kubeconfig out to use KUBECONFIG or ~/.kube/config',
      });
    }
    return { files: [flag], source: `--kubeconfig ${flag}` };
  }
  if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(path.delimiter).filter((f) => f.length > 0);
    // kubectl skips files of KUBECONFIG that do not exist.
    const files = listed.filter((f) => fs.existsSync(f));
    return { files, source: `KUBECONFIG=${env.KUBECONFIG}` };
  }
  const home = env.HOME ?? os.homedir();
  const def = path.join(home, '.kube', 'config');
  return { files: fs.existsSync(def) ? [def] : [], source: def };
}

function firstWins<T>(lists: Named<T>[][]): Named<T>[] {
  const seen = new Map<string, Named<T>>();
  for (const list of lists) for (const item of list) if (!seen.has(item.name)) seen.set(item.name, item);
  return [...seen.values()];
}

/** The configuration a pod's service account gives (what kubectl and client-go use in a cluster). */
function inClusterFile(env: NodeJS.ProcessEnv, saDir: string): KubeconfigFile {
  const host = env.KUBERNETES_SERVICE_HOST as string;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT}`;
  return {
    file: saDir,
    clusters: [{ name: 'in-cluster', value: { server, 'certificate-authority': path.join(saDir, 'ca.crt') } }],
    users: [{ name: 'in-cluster', value: { tokenFile: path.join(saDir, 'token') } }],
    contexts: [{ name: 'in-cluster', value: { cluster: 'in-cluster', user: 'in-cluster' } }],
    currentContext: 'in-cluster',
  };
}

/**
 * Builds the connection the way kubectl does: KUBECONFIG files merged with
 * the first file winning for each named cluster, user and context and for
 * current-context; --context, --cluster and --user override; in-cluster
 * config when there is no kubeconfig and the process runs in a pod.
 */
export async function loadConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env, opts: { serviceAccountDir?: string } = {}): Promise<Connection> {
  checkOverrides(flags);
  const requestTimeoutMs = flags['request-timeout'] ? parseDuration(flags['request-timeout'], '--request-timeout') : 0;
  const { loaded, from, inClusterNamespace } = await readKubeconfigs(flags, env, opts.serviceAccountDir ?? SA_DIR);
  const clusters = firstWins(loaded.map((k) => k.clusters));
  const users = firstWins(loaded.map((k) => k.users));
  const contexts = firstWins(loaded.map((k) => k.contexts));
  const { ctxName, ctx } = pickContext(flags, loaded, { clusters, users, contexts }, from);
  const found = findNamed(clusters, typeof ctx?.cluster === 'string' ? ctx.cluster : undefined);
  const overridden = overrideCluster(found?.value, flags);
  const clusterEntry = overridden ? { name: found?.name ?? 'vnet-server', value: overridden } : undefined;
  const server = clusterEntry?.value.server;
  if (!clusterEntry || typeof server !== 'string' || !server) {
    throw new VnetError('unreachable', `the current context "${ctxName}" names no cluster with a server in ${from}`, {
      hint: 'check the context with: kubectl config view --minify',
    });
  }
  // kubectl allows a context without a user (anonymous requests).
  const userName = typeof ctx?.user === 'string' ? ctx.user : '';
  // A context may name a user the files do not define: kubectl then goes anonymous (only --user must exist).
  const user = overrideUser(findNamed(users, userName)?.value, flags);
  const namespace = pickNamespace(flags, ctx, ctxName, inClusterNamespace);
  return {
    server: server.replace(/\/+$/, ''),
    contextName: ctxName,
    contextNames: contexts.map((c) => c.name),
    cluster: clusterEntry.value,
    user,
    userName,
    merged: {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: clusterEntry.name, cluster: clusterEntry.value }],
      users: user ? [{ name: userName, user }] : [],
      contexts: [{ name: ctxName, context: ctx }],
      'current-context': ctxName,
    },
    namespace,
    namespaceFromFlag: Boolean(flags.namespace),
    ...pickImpersonation(flags, user, userName),
    requestTimeoutMs,
    source: from,
  };
}

function findNamed<T>(list: Named<T>[], name: string | undefined): Named<T> | undefined {
  return name === undefined ? undefined : list.find((e) => e.name === name);
}

/** The kubeconfig files (kubectl's order), else the in-cluster service account, else nothing when --server is given. */
async function readKubeconfigs(flags: ConnectionFlags, env: NodeJS.ProcessEnv, saDir: string): Promise<{ loaded: KubeconfigFile[]; from: string; inClusterNamespace?: string }> {
  const { files, source } = kubeconfigFiles(flags.kubeconfig, env);
  if (files.length > 0) return { loaded: await Promise.all(files.map((file) => readKubeconfigFile(file))), from: source };
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && fs.existsSync(path.join(saDir, 'token'))) {
    // POD_NAMESPACE first, then the service account's namespace file, as client-go does.
    let inClusterNamespace: string | undefined;
    try {
      inClusterNamespace = env.POD_NAMESPACE || fs.readFileSync(path.join(saDir, 'namespace'), 'utf8').trim() || undefined;
    } catch {
      inClusterNamespace = undefined;
    }
    return { loaded: [inClusterFile(env, saDir)], from: 'in-cluster service account', inClusterNamespace };
  }
  if (overridesServer(flags)) return { loaded: [], from: '--server' };
  throw new VnetError('unreachable', `no kubeconfig found (looked at ${source})`, {
    hint: 'point --kubeconfig or KUBECONFIG at a kubeconfig file, or try the sandbox: npm run sandbox -- up',
  });
}

/** The context: --context, else the files' current-context; --cluster and --user replace its entries. */
function pickContext(
  flags: ConnectionFlags,
  loaded: KubeconfigFile[],
  named: { clusters: Named<RawCluster>[]; users: Named<RawUser>[]; contexts: Named<RawContext>[] },
  from: string,
): { ctxName: string; ctx: RawContext | undefined } {
  if (flags.context && !findNamed(named.contexts, flags.context)) {
    throw new VnetError('unreachable', `context "${flags.context}" does not exist in ${from}`, {
      hint: `list the contexts with: kubectl config get-contexts`,
    });
  }
  let ctxName = flags.context || loaded.find((k) => k.currentContext)?.currentContext || '';
  let ctx: RawContext | undefined = findNamed(named.contexts, ctxName)?.value;
  if (!ctx && !flags.cluster && !overridesServer(flags)) {
    throw new VnetError('unreachable', `no current context in ${from}`, {
      hint: 'choose one with --context NAME, or set it with: kubectl config use-context NAME',
    });
  }
  if (flags.cluster || flags.user) {
    if (flags.cluster && !findNamed(named.clusters, flags.cluster)) {
      throw new VnetError('unreachable', `cluster "${flags.cluster}" does not exist in ${from}`, { hint: 'list them with: kubectl config get-clusters' });
    }
    if (flags.user && !findNamed(named.users, flags.user)) {
      throw new VnetError('unreachable', `user "${flags.user}" does not exist in ${from}`, { hint: 'list them with: kubectl config get-users' });
    }
    ctx = { ...ctx, cluster: flags.cluster ?? ctx?.cluster ?? '', user: flags.user ?? ctx?.user ?? '' };
    ctxName = `${ctxName || 'vnet'}+override`;
  }
  return { ctxName, ctx };
}

/** -n, else the context's namespace, else the in-cluster one, else default; a DNS-1123 label. */
function pickNamespace(flags: ConnectionFlags, ctx: RawContext | undefined, ctxName: string, inClusterNamespace: string | undefined): string {
  if (flags.namespace !== undefined && flags.namespace.length === 0) throw usageError('--namespace must not be empty', 'give a namespace, or leave -n out to use the context\'s');
  const contextNamespace = typeof ctx?.namespace === 'string' && ctx.namespace !== '' ? ctx.namespace : undefined;
  const namespace = flags.namespace || contextNamespace || inClusterNamespace || 'default';
  // A namespace is a DNS-1123 label; anything else would be pasted into the request path and come back as a misleading 404.
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    const where = flags.namespace ? '-n' : contextNamespace ? `the namespace of context "${ctxName}"` : 'the in-cluster service account';
    throw usageError(
      `${JSON.stringify(namespace)} (${where}) is not a valid namespace name`,
      'a namespace name is at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit; list them with: kubectl get namespaces',
    );
  }
  return namespace;
}

/** Impersonation: --as/--as-group/--as-uid replace the user entry's fields one by one; groups, a UID or extras need a user. */
function pickImpersonation(
  flags: ConnectionFlags,
  user: RawUser | undefined,
  userName: string,
): Pick<Connection, 'impersonateUser' | 'impersonateGroups' | 'impersonateUid' | 'impersonateExtra'> {
  const asGroups = Array.isArray(user?.['as-groups']) ? user['as-groups'].filter((g): g is string => typeof g === 'string') : [];
  const impersonateUser = flags.as || (typeof user?.as === 'string' && user.as !== '' ? user.as : undefined);
  const impersonateGroups = flags['as-group'] ?? asGroups;
  const impersonateUid = flags['as-uid'] || (typeof user?.['as-uid'] === 'string' && user['as-uid'] !== '' ? user['as-uid'] : undefined);
  const impersonateExtra = userExtra(user?.['as-user-extra'], userName);
  if (!impersonateUser && (impersonateUid || Object.keys(impersonateExtra).length > 0)) {
    // kubectl: "requesting uid, groups or user-extra without impersonating a user".
    const what = flags['as-uid'] ? '--as-uid' : impersonateUid ? `as-uid in the user entry "${userName}"` : `as-user-extra in the user entry "${userName}"`;
    throw new VnetError('usage', `${what} needs a user to impersonate: the API server impersonates a UID or extra fields only together with a user`, {
      hint: `add --as USER, set as: USER in the user entry "${userName}", or leave ${flags['as-uid'] ? '--as-uid' : 'it'} out`,
    });
  }
  if (impersonateGroups.length > 0 && !impersonateUser) {
    // kubectl refuses this too: the API server impersonates groups only together with a user
    // (which may come from --as or from the user entry's `as`).
    if (flags['as-group']) {
      throw new VnetError('usage', '--as-group needs --as: the API server impersonates groups only together with a user', {
        hint: `add --as USER (e.g. --as jane --as-group team-a), set as: USER in the user entry "${userName}", or leave --as-group out`,
      });
    }
    throw new VnetError('usage', `the user entry "${userName}" of the kubeconfig has as-groups but no as: groups are impersonated only together with a user`, {
      hint: 'add as: USER to that user entry, or pass --as USER',
    });
  }
  return { impersonateUser, impersonateGroups, impersonateUid, impersonateExtra };
}

/**
 * The TLS and credential options of the connection. Certificates, static
 * tokens and exec credential plugins are handled here; auth providers run
 * through @kubernetes/client-node (loaded only then).
 */
export async function connectionTransport(conn: Connection, io?: ExecIO): Promise<TransportOptions> {
  if (!needsClientNode(conn.user)) {
    const out = staticTransport(conn.cluster, conn.user);
    if (conn.user?.exec) {
      const { runExecCredential } = await import('./exec-credential.js');
      // (process.stdin is touched only here: creating it costs, and only a plugin may read it.)
      const cred = await runExecCredential(conn.user.exec, conn.cluster, io ?? { stdinIsTTY: Boolean(process.stdin.isTTY), stderr: process.stderr, env: process.env });
      if (cred.token) out.headers.Authorization = `Bearer ${cred.token}`;
      if (cred.cert) {
        out.cert = cred.cert;
        out.key = cred.key;
      }
    }
    return out;
  }
  assertTlsSettings(conn.cluster);
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(conn.merged));
  const opts: { headers?: Record<string, string>; ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string; rejectUnauthorized?: boolean; auth?: string } = { headers: {} };
  await kc.applyToHTTPSOptions(opts as never);
  return { ...opts, headers: { ...opts.headers } };
}

/** as-user-extra: a map of keys to lists of strings; anything else is refused with the entry named. */
function userExtra(raw: unknown, userName: string): Record<string, string[]> {
  if (raw === undefined || raw === null) return {};
  const bad = () =>
    new VnetError('usage', `as-user-extra in the user entry "${userName}" must map keys to lists of strings`, { hint: 'e.g. as-user-extra: {scopes: [view]}; fix the kubeconfig' });
  if (typeof raw !== 'object' || Array.isArray(raw)) throw bad();
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    // `key:` with no value is an empty list, as kubectl reads it.
    if (v === null) out[k] = [];
    else if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad();
    else out[k] = v as string[];
  }
  return out;
}
