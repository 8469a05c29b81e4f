/**
 * `mac list`: the MAC of each VM interface, asked for and reported, from one
 * list per kind (or the VM and VMI named). The join is src/domain/mac-list.ts.
 */
import { VnetError } from '../errors.js';
import type { MacList } from '../domain/mac-list.js';
import type { VirtualMachine, VirtualMachineInstance } from '../domain/types.js';
import type { KubeApi } from '../kube/api.js';

export interface MacListOptions {
  /** One VM, in `namespace`. */
  vm?: string;
  /** undefined: all namespaces. */
  namespace: string | undefined;
}

export async function listMacs(options: MacListOptions, deps: { client: KubeApi }): Promise<MacList> {
  const [{ Resources, resourcePath }, { buildMacList }] = await Promise.all([import('../kube/resources.js'), import('../domain/mac-list.js')]);
  const { client } = deps;
  const ns = options.namespace;
  if (!options.vm) {
    const [vms, vmis] = await Promise.all([client.list<VirtualMachine>(resourcePath(Resources.vm, ns)), client.list<VirtualMachineInstance>(resourcePath(Resources.vmi, ns))]);
    return buildMacList(vms.items, vmis.items);
  }
  const name = options.vm;
  const namespace = ns as string;
  const [vm, vmi] = await Promise.all([
    client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, namespace, name)),
    client.getOrNull<VirtualMachineInstance>(resourcePath(Resources.vmi, namespace, name)),
  ]);
  if (vm) return buildMacList([vm], vmi ? [vmi] : []);
  if (vmi) {
    throw new VnetError('notFound', `"${name}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine; mac list shows VirtualMachines`, {
      hint: `its MACs are in: kubectl get vmi ${name} -n ${namespace} -o jsonpath='{.status.interfaces}'`,
    });
  }
  throw new VnetError('notFound', `virtualmachine "${name}" not found in namespace "${namespace}"`, { hint: 'check the name, and the namespace with -n (kubectl get vm -n NAMESPACE lists them)' });
}
