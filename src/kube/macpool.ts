/**
 * Reads what kubemacpool's state is made of: the MutatingWebhookConfiguration
 * `kubemacpool-mutator`, the range ConfigMap and the manager Deployment in
 * the namespace its webhooks' service lives in, and namespaces. Each part
 * keeps its own readability (a 403 on one is reported, not fatal). Writes
 * namespace labels with a merge patch guarded by resourceVersion.
 */
import { VnetError } from '../errors.js';
import type { KubeApi } from './api.js';
import { Resources, resourcePath } from './resources.js';
import {
  buildMacpoolView,
  MANAGER_DEPLOYMENT,
  MUTATOR_NAME,
  mutatorNamespace,
  RANGE_CONFIGMAP,
  type LabelPlan,
  type MacpoolFacts,
  type MacpoolView,
  type MutatingWebhookConfiguration,
  type NamespaceLike,
} from '../domain/macpool.js';
import type { Condition } from '../domain/types.js';
import type { DryRun } from './edit.js';

type Read<T> = { state: 'found'; value: T } | { state: 'absent' } | { state: 'unreadable'; message: string };

async function readOne<T>(client: KubeApi, path: string): Promise<Read<T>> {
  try {
    const value = await client.getOrNull<T>(path);
    return value === null ? { state: 'absent' } : { state: 'found', value };
  } catch (err) {
    if (err instanceof VnetError && err.code === 'forbidden') return { state: 'unreadable', message: err.message };
    throw err;
  }
}

interface Deployment {
  metadata: { name: string };
  status?: { conditions?: Condition[]; availableReplicas?: number; replicas?: number };
}

/** Reads the webhook configuration, then the range ConfigMap and the manager Deployment where it runs. */
export async function readMacpoolFacts(client: KubeApi): Promise<MacpoolFacts> {
  const mwc = await readOne<MutatingWebhookConfiguration>(client, resourcePath(Resources.mutatingWebhook, undefined, MUTATOR_NAME));
  if (mwc.state !== 'found') return { mutator: mwc };
  const config = mwc.value;
  const ns = mutatorNamespace(config);
  if (!ns) return { mutator: { state: 'found', config } };
  const [cm, dep] = await Promise.all([
    readOne<{ data?: Record<string, string> }>(client, resourcePath(Resources.configmap, ns, RANGE_CONFIGMAP)),
    readOne<Deployment>(client, resourcePath(Resources.deployment, ns, MANAGER_DEPLOYMENT)),
  ]);
  const facts: MacpoolFacts = { mutator: { state: 'found', config } };
  facts.rangeConfig = cm.state === 'found' ? { state: 'found', data: cm.value.data ?? {} } : cm;
  if (dep.state === 'found') {
    const cond = dep.value.status?.conditions?.find((c) => c.type === 'Available');
    facts.manager = {
      state: 'found',
      available: cond?.status === 'True',
      message: cond ? (cond.status === 'True' ? undefined : cond.message || cond.reason) : 'the Deployment reports no Available condition yet',
    };
  } else facts.manager = dep;
  return facts;
}

/** kubemacpool as the current user sees it. */
export async function readMacpool(client: KubeApi): Promise<MacpoolView> {
  return buildMacpoolView(await readMacpoolFacts(client));
}

export type NamespaceRead = NamespaceLike | { unreadable: string; message: string };

/**
 * All namespaces (one list), or the named ones (one get each: a user with
 * rights in one namespace may read it but not list namespaces). A missing
 * namespace is an error; a forbidden one is reported as unreadable.
 */
export async function readNamespaces(client: KubeApi, scope: { all: true } | { names: readonly string[] }): Promise<NamespaceRead[]> {
  if ('all' in scope) return (await client.list<NamespaceLike>(resourcePath(Resources.namespace))).items;
  return Promise.all(
    scope.names.map(async (name): Promise<NamespaceRead> => {
      const r = await readOne<NamespaceLike>(client, resourcePath(Resources.namespace, undefined, name));
      if (r.state === 'found') return r.value;
      if (r.state === 'unreadable') return { unreadable: name, message: r.message };
      throw new VnetError('notFound', `namespace "${name}" not found`, { hint: 'check the name (kubectl get namespaces)' });
    }),
  );
}

export interface LabelEditResult {
  plan: LabelPlan;
  before: NamespaceLike;
  /** As returned by the server (none/server), or the plan applied locally (client, noop). */
  after: NamespaceLike;
  sent: boolean;
  dryRun: DryRun;
}

/**
 * Reads the namespace, plans the label change and sends it as a JSON merge
 * patch of metadata.labels (a map, so a merge patch is exact: null removes a
 * key) together with the resourceVersion read, so a concurrent change makes
 * the server answer 409; then it reads, plans and sends again.
 */
export async function editNamespaceLabels(client: KubeApi, name: string, plan: (ns: NamespaceLike) => LabelPlan, opts: { dryRun: DryRun; maxAttempts?: number }): Promise<LabelEditResult> {
  const path = resourcePath(Resources.namespace, undefined, name);
  const maxAttempts = opts.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const before = await client.getOrNull<NamespaceLike>(path);
    // A write command refuses what it needs and does not find with the precondition code.
    if (!before) throw new VnetError('precondition', `namespace "${name}" not found; nothing was changed`, { hint: 'check the name (kubectl get namespaces)' });
    const p = plan(before);
    if (p.noop || opts.dryRun === 'client') {
      const after: NamespaceLike = { ...before, metadata: { ...before.metadata, labels: p.after } };
      return { plan: p, before, after, sent: false, dryRun: p.noop ? opts.dryRun : 'client' };
    }
    try {
      const after = await client.mergePatch<NamespaceLike>(path, { metadata: { resourceVersion: before.metadata.resourceVersion, labels: p.labels } }, { dryRun: opts.dryRun === 'server' });
      return { plan: p, before, after, sent: true, dryRun: opts.dryRun };
    } catch (err) {
      if (!(err instanceof VnetError && err.status === 409) || attempt >= maxAttempts) throw err;
    }
  }
}
