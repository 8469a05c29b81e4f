/**
 * `mac list`: the MAC of each VM interface, asked for and reported, from one
 * list per kind (or the VM and VMI named). The join is src/domain/mac-list.ts.
 */
import { VnetError } from '../errors.js';
import type { CollisionEvent, MacList } from '../domain/mac-list.js';
import type { VirtualMachine, VirtualMachineInstance, Warning } from '../domain/types.js';
import type { KubeApi } from '../kube/api.js';

export interface MacListOptions {
  /** One VM, in `namespace`. */
  vm?: string;
  /** undefined: all namespaces. */
  namespace: string | undefined;
}

/** The events, or a warning saying why they could not be read (the list then shows the cross-check's findings only). */
async function collisionEvents(client: KubeApi, namespace: string | undefined, vm?: string): Promise<{ events: CollisionEvent[]; warnings: Warning[] }> {
  const { readCollisionEvents } = await import('../kube/collision-events.js');
  const r = await readCollisionEvents(client, namespace, vm);
  if ('events' in r) return { events: r.events, warnings: [] };
  return { events: [], warnings: [{ code: 'collision-events-unreadable', message: `kubemacpool's MACCollision events were not read (${r.unreadable}); collisions come from the cross-check only` }] };
}

export async function listMacs(options: MacListOptions, deps: { client: KubeApi }): Promise<MacList> {
  const [{ Resources, resourcePath }, { buildMacList }] = await Promise.all([import('../kube/resources.js'), import('../domain/mac-list.js')]);
  const { client } = deps;
  const ns = options.namespace;
  const withEvents = (list: MacList, ev: { warnings: Warning[] }): MacList => ({ ...list, warnings: [...list.warnings, ...ev.warnings] });
  if (!options.vm) {
    const [vms, vmis, ev] = await Promise.all([
      client.list<VirtualMachine>(resourcePath(Resources.vm, ns)),
      client.list<VirtualMachineInstance>(resourcePath(Resources.vmi, ns)),
      collisionEvents(client, ns),
    ]);
    return withEvents(buildMacList(vms.items, vmis.items, { events: ev.events }), ev);
  }
  const name = options.vm;
  const namespace = ns as string;
  const [vm, vmi, ev] = await Promise.all([
    client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, namespace, name)),
    client.getOrNull<VirtualMachineInstance>(resourcePath(Resources.vmi, namespace, name)),
    collisionEvents(client, namespace, name),
  ]);
  // One VM alone is no basis for a cross-check (its own VMI shares its MACs): kubemacpool's events only.
  if (vm) return withEvents(buildMacList([vm], vmi ? [vmi] : [], { events: ev.events, crossCheck: false }), ev);
  if (vmi) {
    throw new VnetError('notFound', `"${name}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine; mac list shows VirtualMachines`, {
      hint: `its MACs are in: kubectl get vmi ${name} -n ${namespace} -o jsonpath='{.status.interfaces}'`,
    });
  }
  throw new VnetError('notFound', `virtualmachine "${name}" not found in namespace "${namespace}"`, { hint: 'check the name, and the namespace with -n (kubectl get vm -n NAMESPACE lists them)' });
}
