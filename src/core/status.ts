/**
 * `status`: the per-interface network status of VMs, read from the cluster
 * (VM, VMI, launcher pods, the KubeVirt CR) and joined by src/domain/status.ts,
 * or the desired network view of the VMs of a manifest file (-f FILE --local).
 * Options in, a result out; no printing.
 */
import { usageError, VnetError } from '../errors.js';
import { compareStrings } from '../domain/order.js';
import type { VMNetworkStatus, VMNetworkStatusList } from '../domain/status.js';
import type { VMDesiredNetwork } from '../domain/desired.js';
import type { KubeVirtCR, Pod } from '../domain/types.js';
import type { KubeApi } from '../kube/api.js';

/** What the cluster path reads. */
export interface StatusOptions {
  namespace: string | undefined; // undefined: all namespaces
  target?: { kind: 'vm' | 'vmi'; name: string };
  selector?: string;
}

/** What the file path reads: the VMs of -f FILE (one by name, or all), -n for those without a namespace. */
export interface StatusFileOptions {
  file: string;
  name?: string;
  namespace?: string;
  selector?: string;
  /** The KubeVirt version the manifest is meant for: the version-keyed binding rules are decided for it. */
  kubevirtVersion?: string;
}

/** "NAME", "vm/NAME", "vmi/NAME" (and kubectl's long names). */
export function parseTarget(arg: string): { kind: 'vm' | 'vmi'; name: string } {
  const i = arg.indexOf('/');
  if (i < 0) return { kind: 'vm', name: arg };
  const type = arg.slice(0, i).toLowerCase();
  const name = arg.slice(i + 1);
  if (!name) throw usageError(`"${arg}" names no object`, 'use NAME, vm/NAME or vmi/NAME');
  if (['vm', 'vms', 'virtualmachine', 'virtualmachines'].includes(type)) return { kind: 'vm', name };
  if (['vmi', 'vmis', 'virtualmachineinstance', 'virtualmachineinstances'].includes(type)) return { kind: 'vmi', name };
  throw usageError(`unknown type "${type}" in "${arg}"`, 'use NAME, vm/NAME or vmi/NAME');
}

/**
 * Promise.all for reads sent together, but when several fail the error is
 * the first in argument order (VMs before VMIs before pods), not whichever
 * answer came back first: the message does not depend on timing.
 */
async function allInOrder<const T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** Why the launcher pod fields are empty when pods cannot be listed (forbidden), with the check to run. */
export function podsUnreadable(ns: string | undefined, asArgs: string): string {
  const where = ns ? `in namespace "${ns}"` : 'across all namespaces';
  return `cannot list pods ${where} (forbidden), so the launcher pod and the multus fields are empty; check with: kubectl auth can-i list pods${ns ? ` -n ${ns}` : ' -A'}${asArgs}`;
}

/** Reads what the join needs: one list per kind for a namespace or -A; a get of the VM and VMI plus one pod list for one VM. */
export async function readStatus(client: KubeApi, opts: StatusOptions, contextNamespace: string): Promise<VMNetworkStatus | VMNetworkStatusList> {
  const [stores, status, { impersonationArgs }] = await Promise.all([import('../kube/stores.js'), import('../domain/status.js'), import('../kube/client.js')]);
  const readKubeVirtCR = () => stores.readKubeVirt(client).then((kv) => (kv.state === 'installed' ? kv.cr : null));
  const podsOrReason = async (p: Promise<Pod[]>, ns: string | undefined): Promise<{ pods: Pod[]; unreadable?: string }> => {
    try {
      return { pods: await p };
    } catch (err) {
      if (err instanceof VnetError && err.code === 'forbidden') return { pods: [], unreadable: podsUnreadable(ns, impersonationArgs(client.conn)) };
      throw err;
    }
  };

  // The dynamic networks controller's events: one field-selected list (of the namespace, or all); unreadable: not shown.
  const readEvents = async (ns: string | undefined) => {
    const [{ NETWORK_EVENT_FIELD_SELECTOR }, { Resources, resourcePath }] = await Promise.all([import('../domain/network-events.js'), import('../kube/resources.js')]);
    try {
      return (await client.list<import('../domain/network-events.js').KubeEvent>(resourcePath(Resources.event, ns), { fieldSelector: NETWORK_EVENT_FIELD_SELECTOR })).items;
    } catch (err) {
      if (err instanceof VnetError && (err.code === 'forbidden' || err.code === 'notFound')) return undefined;
      throw err;
    }
  };

  if (opts.target) {
    const ns = opts.namespace as string;
    const { kind, name } = opts.target;
    const [vm, vmi] = await allInOrder([kind === 'vm' ? stores.getVMOrNull(client, ns, name) : Promise.resolve(null), stores.getVMI(client, ns, name)]);
    if (!vm && !vmi) {
      throw new VnetError('notFound', `${kind === 'vm' ? 'virtualmachine' : 'virtualmachineinstance'} "${name}" not found in namespace "${ns}"`, {
        hint: 'check the name and the namespace (-n); list them with: kubectl vnet status' + (kind === 'vm' ? '; a standalone VMI is vmi/NAME' : ''),
      });
    }
    // The KubeVirt CR matters only for hook annotations: read it then, beside the pods.
    const [{ pods, unreadable }, kubevirt, events] = await Promise.all([
      vmi ? podsOrReason(stores.listLauncherPodsOfVMI(client, vmi), ns) : Promise.resolve({ pods: [] as Pod[], unreadable: undefined }),
      status.needsKubeVirtCR(vm, vmi) ? readKubeVirtCR() : Promise.resolve(null),
      vmi ? readEvents(ns) : Promise.resolve(undefined),
    ]);
    return status.joinVMNetworkStatus({ vm, vmi, pods, kubevirt: kubevirt as KubeVirtCR | null, podsUnreadable: unreadable, events, now: Date.now() });
  }

  const ns = opts.namespace;
  let vms, vmis, podsRead, kubevirt, events;
  try {
    [vms, vmis, podsRead, kubevirt, events] = await allInOrder([
      stores.listVMs(client, ns, opts.selector, { project: status.projectVMForStatus }),
      stores.listVMIs(client, ns, undefined, { project: status.projectVMIForStatus }),
      podsOrReason(stores.listLauncherPods(client, ns, undefined, { project: status.projectPodForStatus }), ns),
      readKubeVirtCR(),
      readEvents(ns),
    ]);
  } catch (err) {
    if (err instanceof VnetError && err.code === 'forbidden' && !ns) {
      throw new VnetError('forbidden', `you may not list VMs across all namespaces (-A): ${err.message.replace(/^forbidden: /, '')}`, {
        hint: `use -n NAMESPACE for a namespace you can read (e.g. -n ${contextNamespace}); check with: kubectl auth can-i list virtualmachines.kubevirt.io -A${impersonationArgs(client.conn)}`,
        reason: err.reason,
        status: err.status,
      });
    }
    throw err;
  }
  const items = status.joinAll({ vms, vmis, pods: podsRead.pods, kubevirt, podsUnreadable: podsRead.unreadable, events, now: Date.now(), includeStandalone: !opts.selector });
  items.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
  return { kind: 'List', items };
}

export interface DesiredStatus {
  source: string;
  /** The VM asked for by name, if any (then -o json|yaml shows that one object). */
  name?: string;
  items: VMDesiredNetwork[];
}

/** `status -f FILE --local [NAME]`: the desired network view of the manifest's VMs, no cluster. */
export async function readDesiredStatus(o: StatusFileOptions, read: (file: string) => Promise<{ text: string; source: string }>): Promise<DesiredStatus> {
  const [{ parseManifest, selectVMs }, { desiredNetworkView, matchesSelector }] = await Promise.all([import('../domain/manifest.js'), import('../domain/desired.js')]);
  const { parseVersion } = await import('../domain/kubevirt-config.js');
  const version = o.kubevirtVersion === undefined ? null : parseVersion(o.kubevirtVersion);
  if (o.kubevirtVersion !== undefined && !version)
    throw usageError(`KubeVirt version "${o.kubevirtVersion}" is not a version`, 'write it as v1.8, v1.8.2 or 1.9.0 (the KubeVirt the manifest is meant for)');
  let name = o.name;
  if (name && name.includes('/')) {
    const [kind, rest] = [name.slice(0, name.indexOf('/')).toLowerCase(), name.slice(name.indexOf('/') + 1)];
    if (!['vm', 'vms', 'virtualmachine', 'virtualmachines'].includes(kind)) throw usageError(`only VirtualMachines are read from a file, not "${kind}"`, 'use NAME or vm/NAME');
    name = rest;
  }
  const { text, source } = await read(o.file);
  const manifest = parseManifest(text, source);
  let vms = selectVMs(manifest, { name, namespace: o.namespace, all: !name });
  if (o.selector) vms = vms.filter((v) => matchesSelector(o.selector as string, v.vm.metadata.labels ?? {}));
  return { source, name, items: vms.map((v) => desiredNetworkView(v.vm, source, version)) };
}
