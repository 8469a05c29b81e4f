import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { VnetError, usageError } from '../errors.js';
import { parseDuration } from './duration.js';

/** The kubectl-compatible connection flags, as parsed. */
export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  as?: string;
  'as-group'?: string[];
  'request-timeout'?: string;
}

/** Everything a command needs to talk to one cluster, built per invocation. */
export interface Connection {
  kc: KubeConfig;
  server: string;
  contextName: string;
  /** Namespace from -n, else the context's, else "default". */
  namespace: string;
  /** True when -n was given. */
  namespaceFromFlag: boolean;
  impersonateUser?: string;
  impersonateGroups: string[];
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

interface Named { name: string }

function firstWins<T extends Named>(lists: T[][]): T[] {
  const seen = new Map<string, T>();
  for (const list of lists) for (const item of list) if (!seen.has(item.name)) seen.set(item.name, item);
  return [...seen.values()];
}

/**
 * Builds the connection the way kubectl does: KUBECONFIG files merged with
 * the first file winning for each named cluster, user and context and for
 * current-context; --context, --cluster and --user override; in-cluster
 * config when there is no kubeconfig and the process runs in a pod.
 */
export async function loadConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const requestTimeoutMs = flags['request-timeout'] ? parseDuration(flags['request-timeout'], '--request-timeout') : 0;
  const { files, source } = kubeconfigFiles(flags.kubeconfig, env);
  const kc = new KubeConfig();
  let inClusterNamespace: string | undefined;
  let from = source;

  if (files.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && fs.existsSync(path.join(SA_DIR, 'token'))) {
      kc.loadFromCluster();
      from = 'in-cluster service account';
      try {
        inClusterNamespace = fs.readFileSync(path.join(SA_DIR, 'namespace'), 'utf8').trim();
      } catch {
        inClusterNamespace = undefined;
      }
    } else {
      throw new VnetError('unreachable', `no kubeconfig found (looked at ${source})`, {
        hint: 'point --kubeconfig or KUBECONFIG at a kubeconfig file, or try the sandbox: npm run sandbox -- up',
      });
    }
  } else {
    const loaded: KubeConfig[] = [];
    for (const file of files) {
      const one = new KubeConfig();
      try {
        one.loadFromFile(file);
      } catch (err) {
        // The YAML parser's message carries a code frame over several lines: keep its first line (the reason and position).
        const reason = String((err as Error).message ?? err).split('\n')[0].trim();
        throw new VnetError('unreachable', `kubeconfig ${file} cannot be read: ${reason}`, {
          hint: 'fix the file or point --kubeconfig at another one',
          cause: err,
        });
      }
      loaded.push(one);
    }
    kc.loadFromOptions({
      clusters: firstWins(loaded.map((k) => k.clusters)),
      users: firstWins(loaded.map((k) => k.users)),
      contexts: firstWins(loaded.map((k) => k.contexts)),
      currentContext: loaded.find((k) => k.currentContext)?.currentContext ?? '',
    });
  }

  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      throw new VnetError('unreachable', `context "${flags.context}" does not exist in ${from}`, {
        hint: `list the contexts with: kubectl config get-contexts`,
      });
    }
    kc.setCurrentContext(flags.context);
  }
  const ctxName = kc.getCurrentContext();
  const ctx = ctxName ? kc.getContextObject(ctxName) : null;
  if (!ctx && !flags.cluster) {
    throw new VnetError('unreachable', `no current context in ${from}`, {
      hint: 'choose one with --context NAME, or set it with: kubectl config use-context NAME',
    });
  }
  if (flags.cluster || flags.user) {
    if (flags.cluster && !kc.getCluster(flags.cluster)) {
      throw new VnetError('unreachable', `cluster "${flags.cluster}" does not exist in ${from}`, { hint: 'list them with: kubectl config get-clusters' });
    }
    if (flags.user && !kc.getUser(flags.user)) {
      throw new VnetError('unreachable', `user "${flags.user}" does not exist in ${from}`, { hint: 'list them with: kubectl config get-users' });
    }
    const merged = {
      name: `${ctxName || 'vnet'}+override`,
      cluster: flags.cluster ?? ctx?.cluster ?? '',
      user: flags.user ?? ctx?.user ?? '',
      namespace: ctx?.namespace,
    };
    kc.contexts = [...kc.contexts.filter((c) => c.name !== merged.name), merged];
    kc.setCurrentContext(merged.name);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster || !cluster.server) {
    throw new VnetError('unreachable', `the current context "${kc.getCurrentContext()}" names no cluster with a server in ${from}`, {
      hint: 'check the context with: kubectl config view --minify',
    });
  }
  if (!kc.getCurrentUser()) {
    // kubectl allows an anonymous user; client-node needs an entry.
    kc.users = [...kc.users, { name: '' }];
  }
  const namespaceFromFlag = Boolean(flags.namespace);
  if (flags.namespace !== undefined && flags.namespace.length === 0) throw usageError('--namespace must not be empty', 'give a namespace, or leave -n out to use the context\'s');
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace = flags.namespace || contextNamespace || inClusterNamespace || 'default';
  // A namespace is a DNS-1123 label; anything else would be pasted into the request path and come back as a misleading 404.
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    const where = flags.namespace ? '-n' : contextNamespace ? `the namespace of context "${kc.getCurrentContext()}"` : 'the in-cluster service account';
    throw usageError(
      `${JSON.stringify(namespace)} (${where}) is not a valid namespace name`,
      'a namespace name is at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit; list them with: kubectl get namespaces',
    );
  }
  return {
    kc,
    server: cluster.server.replace(/\/+$/, ''),
    contextName: kc.getCurrentContext(),
    namespace,
    namespaceFromFlag,
    impersonateUser: flags.as || undefined,
    impersonateGroups: flags['as-group'] ?? [],
    requestTimeoutMs,
    source: from,
  };
}
