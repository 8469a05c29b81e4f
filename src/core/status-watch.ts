/**
 * `status -w`: the status of `status`, kept current by watches of VMs, VMIs
 * and launcher pods (one list, then one watch per kind, resumed from the last
 * resourceVersion when the server closes it; see src/kube/reflector.ts),
 * joined again by src/domain/status.ts after each change. Never polls. Ends
 * when `signal` aborts (Ctrl-C); an error of any watch ends it.
 */
import { VnetError } from '../errors.js';
import { compareStrings } from '../domain/order.js';
import type { VMNetworkStatus } from '../domain/status.js';
import type { KubeVirtCR, Pod, VirtualMachine, VirtualMachineInstance } from '../domain/types.js';
import type { KubeApi } from '../kube/api.js';
import type { StatusOptions } from './status.js';

export interface StatusUpdate {
  /** Every VM in scope, sorted as `status` sorts them. */
  items: VMNetworkStatus[];
  /** namespace/name of the VMs whose status changed since the last update (all of them the first time). */
  changed: string[];
  /** namespace/name of the VMs that left the scope (deleted). */
  removed: string[];
}

export interface WatchDeps {
  client: KubeApi;
  signal: AbortSignal;
  onUpdate: (u: StatusUpdate) => void;
  /** The context's namespace, for hints. */
  contextNamespace: string;
}

const keyOf = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

export async function watchStatus(opts: StatusOptions, deps: WatchDeps): Promise<void> {
  const [{ Reflector }, { Resources, resourcePath }, stores, status, { impersonationArgs }, { podsUnreadable }] = await Promise.all([
    import('../kube/reflector.js'),
    import('../kube/resources.js'),
    import('../kube/stores.js'),
    import('../domain/status.js'),
    import('../kube/client.js'),
    import('./status.js'),
  ]);
  const { client, signal } = deps;
  const ns = opts.namespace;
  const target = opts.target;
  const byName = target ? `metadata.name=${target.name}` : undefined;
  const vms =
    target?.kind === 'vmi'
      ? null
      : new Reflector<VirtualMachine>(client, { path: resourcePath(Resources.vm, ns), labelSelector: opts.selector, fieldSelector: byName, project: status.projectVMForStatus });
  const vmis = new Reflector<VirtualMachineInstance>(client, { path: resourcePath(Resources.vmi, ns), fieldSelector: byName, project: status.projectVMIForStatus });
  const pods = new Reflector<Pod>(client, { path: resourcePath(Resources.pod, ns), labelSelector: stores.LAUNCHER_SELECTOR, project: status.projectPodForStatus });

  let unreadable: string | undefined;
  const podsList = pods.list().then(
    () => true,
    (err: unknown) => {
      if (!(err instanceof VnetError && err.code === 'forbidden')) throw err;
      unreadable = podsUnreadable(ns, impersonationArgs(client.conn));
      return false;
    },
  );
  let kubevirt: KubeVirtCR | null;
  let podsReadable: boolean;
  try {
    [, , podsReadable, kubevirt] = await Promise.all([vms?.list(), vmis.list(), podsList, stores.readKubeVirt(client).then((kv) => (kv.state === 'installed' ? kv.cr : null))]);
  } catch (err) {
    if (err instanceof VnetError && err.code === 'forbidden' && !ns) {
      throw new VnetError('forbidden', `you may not list VMs across all namespaces (-A): ${err.message.replace(/^forbidden: /, '')}`, {
        hint: `use -n NAMESPACE for a namespace you can read (e.g. -n ${deps.contextNamespace}); check with: kubectl auth can-i watch virtualmachines.kubevirt.io -A${impersonationArgs(client.conn)}`,
        reason: err.reason,
        status: err.status,
      });
    }
    throw err;
  }
  if (target && vms?.items.size === 0 && vmis.items.size === 0) {
    throw new VnetError('notFound', `${target.kind === 'vm' ? 'virtualmachine' : 'virtualmachineinstance'} "${target.name}" not found in namespace "${ns}"`, {
      hint: 'check the name and the namespace (-n); list them with: kubectl vnet status' + (target.kind === 'vm' ? '; a standalone VMI is vmi/NAME' : ''),
    });
  }

  const last = new Map<string, string>();
  let first = true;
  const emit = () => {
    const items = status.joinAll({
      vms: vms ? [...vms.items.values()] : [],
      vmis: [...vmis.items.values()],
      pods: [...pods.items.values()],
      kubevirt,
      podsUnreadable: unreadable,
      includeStandalone: Boolean(target) || !opts.selector,
    });
    items.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
    const changed: string[] = [];
    const seen = new Set<string>();
    for (const it of items) {
      const k = keyOf(it);
      seen.add(k);
      const text = JSON.stringify(it);
      if (last.get(k) !== text) changed.push(k);
      last.set(k, text);
    }
    const removed = [...last.keys()].filter((k) => !seen.has(k));
    for (const k of removed) last.delete(k);
    if (changed.length > 0 || removed.length > 0 || first) deps.onUpdate({ items, changed, removed });
    first = false;
  };
  emit();

  // Events come in bursts (virt-controller writes the VMI and the pod together): one join per burst.
  let scheduled = false;
  const onChange = () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      if (!signal.aborted) emit();
    }, 50);
  };
  // An error of one watch ends the others.
  const inner = new AbortController();
  const stop = () => inner.abort();
  signal.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(
      [vms?.run(inner.signal, onChange), vmis.run(inner.signal, onChange), podsReadable ? pods.run(inner.signal, onChange) : undefined].map((p) =>
        p?.catch((err: unknown) => {
          inner.abort();
          throw err;
        }),
      ),
    );
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
