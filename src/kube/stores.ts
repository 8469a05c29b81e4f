/**
 * Narrow stores: one list call per resource kind (paginated by
 * KubeClient.list), and single gets. `namespace` undefined means all
 * namespaces. Nothing here interprets the objects.
 */
import type { KubeClient } from './client.js';
import { Resources, resourcePath } from './resources.js';
import type { Pod, VirtualMachine, VirtualMachineInstance } from '../domain/types.js';

/** The label every virt-launcher pod carries. */
export const LAUNCHER_SELECTOR = 'kubevirt.io=virt-launcher';

export async function listVMs(client: KubeClient, namespace: string | undefined, selector?: string): Promise<VirtualMachine[]> {
  return (await client.list<VirtualMachine>(resourcePath(Resources.vm, namespace), { labelSelector: selector })).items;
}

export async function listVMIs(client: KubeClient, namespace: string | undefined, selector?: string): Promise<VirtualMachineInstance[]> {
  return (await client.list<VirtualMachineInstance>(resourcePath(Resources.vmi, namespace), { labelSelector: selector })).items;
}

/** virt-launcher pods (label kubevirt.io=virt-launcher), optionally narrowed by more requirements ("a=b,c"). */
export async function listLauncherPods(client: KubeClient, namespace: string | undefined, extraSelector?: string): Promise<Pod[]> {
  const labelSelector = extraSelector ? `${LAUNCHER_SELECTOR},${extraSelector}` : LAUNCHER_SELECTOR;
  return (await client.list<Pod>(resourcePath(Resources.pod, namespace), { labelSelector })).items;
}

/** Launcher pods of one VMI, by its uid (label kubevirt.io/created-by). */
export function listLauncherPodsOfVMI(client: KubeClient, vmi: VirtualMachineInstance): Promise<Pod[]> {
  return listLauncherPods(client, vmi.metadata.namespace, `kubevirt.io/created-by=${vmi.metadata.uid}`);
}

/** The VM; throws a notFound VnetError when it does not exist. */
export function getVM(client: KubeClient, namespace: string, name: string): Promise<VirtualMachine> {
  return client.get<VirtualMachine>(resourcePath(Resources.vm, namespace, name));
}

export function getVMOrNull(client: KubeClient, namespace: string, name: string): Promise<VirtualMachine | null> {
  return client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, namespace, name));
}

/** The VMI, or null when it does not exist (a stopped VM has none). */
export function getVMI(client: KubeClient, namespace: string, name: string): Promise<VirtualMachineInstance | null> {
  return client.getOrNull<VirtualMachineInstance>(resourcePath(Resources.vmi, namespace, name));
}

export function getPodOrNull(client: KubeClient, namespace: string, name: string): Promise<Pod | null> {
  return client.getOrNull<Pod>(resourcePath(Resources.pod, namespace, name));
}

export { readKubeVirt } from './kubevirt.js';
