/**
 * Gathers what `mac set|unset` checks against: the MACs every readable VM and
 * VMI claims (one list per kind, across namespaces when allowed, else the
 * target namespace, and says so), the KubeVirt CR's feature gates, and
 * whether kubemacpool manages VMs in the namespace and its range.
 */
import { VnetError } from '../errors.js';
import { collectMacUses } from '../domain/mac.js';
import type { MacFacts } from '../domain/mac-plan.js';
import { macpoolCoverage, type NamespaceLike } from '../domain/macpool.js';
import { enabledFeatureGates, kubevirtVersion } from '../domain/kubevirt-config.js';
import type { VirtualMachine, VirtualMachineInstance } from '../domain/types.js';
import type { KubeApi } from './api.js';
import { readKubeVirt } from './kubevirt.js';
import { readMacpool } from './macpool.js';
import { Resources, resourcePath, type ResourceType } from './resources.js';

function isForbidden(err: unknown): boolean {
  return err instanceof VnetError && err.code === 'forbidden';
}

/** Lists a kind across namespaces, falling back to one namespace when that is forbidden. */
async function listReadable<T>(client: KubeApi, r: ResourceType, namespace: string): Promise<{ items: T[]; scope: 'all' | 'namespace' | 'none' }> {
  try {
    return { items: (await client.list<T>(resourcePath(r))).items, scope: 'all' };
  } catch (err) {
    if (!isForbidden(err)) throw err;
  }
  try {
    return { items: (await client.list<T>(resourcePath(r, namespace))).items, scope: 'namespace' };
  } catch (err) {
    if (!isForbidden(err)) throw err;
    return { items: [], scope: 'none' };
  }
}

export interface GatheredMacFacts {
  facts: MacFacts;
  /** What the lists say about the target: a VM, a standalone VMI, or neither (or unknown when not listable). */
  target: { vm: boolean; vmi: boolean; known: boolean };
}

/** What the MAC planners need of the KubeVirt CR: its feature gates and version, or why it was not read. */
function kubevirtFacts(kv: Awaited<ReturnType<typeof readKubeVirt>>): NonNullable<MacFacts['kubevirt']> {
  if (kv.state !== 'installed') return { state: kv.state, message: kv.message };
  return { state: 'installed', featureGates: enabledFeatureGates(kv.cr), version: kubevirtVersion(kv.cr)?.raw };
}

/**
 * opts.uses: list VMs and VMIs for the collision check (else only the target
 * is looked up); opts.kubevirt: read the KubeVirt CR; opts.macpool: read
 * kubemacpool's coverage of the namespace.
 */
export async function gatherMacFacts(client: KubeApi, target: { namespace: string; name: string }, opts: { uses: boolean; kubevirt: boolean; macpool: boolean }): Promise<GatheredMacFacts> {
  if (!opts.uses) {
    const [vm, kv, mp] = await Promise.all([
      client.getOrNull(resourcePath(Resources.vm, target.namespace, target.name)),
      opts.kubevirt ? readKubeVirt(client) : Promise.resolve(undefined),
      opts.macpool ? readMacpoolCoverage(client, target.namespace) : Promise.resolve(undefined),
    ]);
    const vmi = vm ? null : await client.getOrNull(resourcePath(Resources.vmi, target.namespace, target.name)).catch(() => null);
    const facts: MacFacts = {};
    if (kv) facts.kubevirt = kubevirtFacts(kv);
    if (mp) facts.macpool = mp;
    return { facts, target: { vm: vm !== null, vmi: vmi !== null, known: true } };
  }
  const [vms, vmis, kv, mp] = await Promise.all([
    listReadable<VirtualMachine>(client, Resources.vm, target.namespace),
    listReadable<VirtualMachineInstance>(client, Resources.vmi, target.namespace),
    opts.kubevirt ? readKubeVirt(client) : Promise.resolve(undefined),
    opts.macpool ? readMacpoolCoverage(client, target.namespace) : Promise.resolve(undefined),
  ]);
  const partial: string[] = [];
  for (const [what, l] of [['virtualmachines', vms], ['virtualmachineinstances', vmis]] as const) {
    if (l.scope === 'namespace') partial.push(`cannot list ${what} across namespaces; checked namespace "${target.namespace}" only`);
    if (l.scope === 'none') partial.push(`cannot list ${what}, not even in namespace "${target.namespace}"; they were not checked`);
  }
  const facts: MacFacts = { uses: { uses: collectMacUses(vms.items, vmis.items), partial: partial.length > 0 ? partial.join('; ') : undefined } };
  if (kv) facts.kubevirt = kubevirtFacts(kv);
  if (mp) facts.macpool = mp;
  const is = (o: { metadata: { namespace?: string; name: string } }) => o.metadata.namespace === target.namespace && o.metadata.name === target.name;
  return {
    facts,
    target: { vm: vms.items.some(is), vmi: vmis.items.some(is), known: vms.scope !== 'none' && vmis.scope !== 'none' },
  };
}

/** Does kubemacpool manage VMs in the namespace, and its range (as the domain's macpoolCoverage tells). */
export async function readMacpoolCoverage(client: KubeApi, namespace: string): Promise<NonNullable<MacFacts['macpool']>> {
  const view = await readMacpool(client);
  if (view.installed === false) return { manages: false };
  let ns: NamespaceLike | null = null;
  try {
    ns = await client.getOrNull<NamespaceLike>(resourcePath(Resources.namespace, undefined, namespace));
  } catch (err) {
    if (!isForbidden(err)) throw err;
  }
  const cov = macpoolCoverage(view, ns, 'vms');
  if (cov.managed === null) return { manages: false, unknown: cov.reason };
  return { manages: cov.managed, range: cov.range ? { start: cov.range.start, end: cov.range.end } : undefined };
}
