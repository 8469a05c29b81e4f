/**
 * Narrow stores: one list call per resource kind (paginated by
 * KubeClient.list), and single gets. `namespace` undefined means all
 * namespaces. Nothing here interprets the objects.
 */
import type { KubeList } from './client.js';
import type { KubeApi } from './api.js';
import { Resources, resourcePath } from './resources.js';
import type { Pod, VirtualMachine, VirtualMachineInstance } from '../domain/types.js';

/** The label every virt-launcher pod carries. */
export const LAUNCHER_SELECTOR = 'kubevirt.io=virt-launcher';

export interface StoreListOptions<T> {
  /**
   * Applied to each item as its page arrives, so only what the caller keeps
   * stays in memory (e.g. no managedFields, no pod spec): memory stays
   * proportional to the kept fields, not to the objects' full size.
   */
  project?: (item: T) => T;
}

/** A whole collection, page by page (500 per page), each item projected as it arrives when `project` is given. */
async function listAll<T>(client: KubeApi, path: string, labelSelector: string | undefined, opts: StoreListOptions<T>): Promise<T[]> {
  const project = opts.project;
  if (!project) return (await client.list<T>(path, { labelSelector })).items;
  const out: T[] = [];
  let cont: string | undefined;
  do {
    const page = await client.get<KubeList<T>>(path, { query: { labelSelector, limit: 500, continue: cont } });
    for (const item of page.items ?? []) out.push(project(item));
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return out;
}

export function listVMs(client: KubeApi, namespace: string | undefined, selector?: string, opts: StoreListOptions<VirtualMachine> = {}): Promise<VirtualMachine[]> {
  return listAll(client, resourcePath(Resources.vm, namespace), selector, opts);
}

export function listVMIs(client: KubeApi, namespace: string | undefined, selector?: string, opts: StoreListOptions<VirtualMachineInstance> = {}): Promise<VirtualMachineInstance[]> {
  return listAll(client, resourcePath(Resources.vmi, namespace), selector, opts);
}

/** virt-launcher pods (label kubevirt.io=virt-launcher), optionally narrowed by more requirements ("a=b,c"). */
export function listLauncherPods(client: KubeApi, namespace: string | undefined, extraSelector?: string, opts: StoreListOptions<Pod> = {}): Promise<Pod[]> {
  const labelSelector = extraSelector ? `${LAUNCHER_SELECTOR},${extraSelector}` : LAUNCHER_SELECTOR;
  return listAll(client, resourcePath(Resources.pod, namespace), labelSelector, opts);
}

/** Launcher pods of one VMI, by its uid (label kubevirt.io/created-by). */
export function listLauncherPodsOfVMI(client: KubeApi, vmi: VirtualMachineInstance, opts: StoreListOptions<Pod> = {}): Promise<Pod[]> {
  return listLauncherPods(client, vmi.metadata.namespace, `kubevirt.io/created-by=${vmi.metadata.uid}`, opts);
}

export function getVMOrNull(client: KubeApi, namespace: string, name: string): Promise<VirtualMachine | null> {
  return client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, namespace, name));
}

/** The VMI, or null when it does not exist (a stopped VM has none). */
export function getVMI(client: KubeApi, namespace: string, name: string): Promise<VirtualMachineInstance | null> {
  return client.getOrNull<VirtualMachineInstance>(resourcePath(Resources.vmi, namespace, name));
}

export { readKubeVirt } from './kubevirt.js';
