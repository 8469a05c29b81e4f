/**
 * Reads everything `kubectl vnet doctor` checks about one VM: the VM, its
 * VMI and launcher pods, the NADs of the namespaces its networks name (one
 * list per namespace), Kube-OVN Subnets when needed, the KubeVirt CR, the
 * multus dynamic networks controller DaemonSets (one list), every VM and VMI
 * for the MAC collision check (one list per kind, via mac-facts), and
 * kubemacpool with the VM's Namespace. What cannot be read is recorded with
 * the reason, so the check says so instead of failing the run.
 */
import { VnetError } from '../errors.js';
import type { DoctorFacts, DynamicNetworksController, Lookup } from '../domain/doctor.js';
import type { NamespaceLike } from '../domain/macpool.js';
import { isKubeOvnNad, type KubeOvnSubnet } from '../domain/nad.js';
import { NETWORK_EVENT_FIELD_SELECTOR, type KubeEvent } from '../domain/network-events.js';
import type { NetworkAttachmentDefinition, VirtualMachine } from '../domain/types.js';
import { networkRefOf, networksOf } from '../domain/vmspec.js';
import type { KubeApi } from './api.js';
import { readCollisionEvents } from './collision-events.js';
import { readVMIFact } from './hotplug-facts.js';
import { readKubeVirt } from './kubevirt.js';
import { gatherMacFacts } from './mac-facts.js';
import { readMacpool } from './macpool.js';
import { Resources, resourcePath } from './resources.js';
import { listLauncherPodsOfVMI } from './stores.js';

function forbidden(err: unknown): string | undefined {
  return err instanceof VnetError && err.code === 'forbidden' ? err.message : undefined;
}

interface DaemonSet {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  status?: { desiredNumberScheduled?: number; numberReady?: number };
}

/** DaemonSets of k8snetworkplumbingwg/multus-dynamic-networks-controller (name dynamic-networks-controller-ds, label app=dynamic-networks-controller). */
export async function readDynamicNetworksControllers(client: KubeApi): Promise<Lookup<DynamicNetworksController[]>> {
  try {
    const list = await client.list<DaemonSet>(resourcePath(Resources.daemonset));
    const found = list.items
      .filter((d) => d.metadata.name.startsWith('dynamic-networks-controller') || d.metadata.labels?.app === 'dynamic-networks-controller')
      .map((d) => ({ namespace: d.metadata.namespace ?? '', name: d.metadata.name, desired: d.status?.desiredNumberScheduled ?? 0, ready: d.status?.numberReady ?? 0 }));
    return found.length > 0 ? { state: 'found', value: found } : { state: 'absent' };
  } catch (err) {
    const why = forbidden(err);
    if (why) return { state: 'unreadable', message: `cannot list daemonsets.apps: ${why}` };
    throw err;
  }
}

export async function gatherDoctorFacts(client: KubeApi, target: { namespace: string; name: string }): Promise<DoctorFacts> {
  const vm = await readDoctorVM(client, target);
  const [vmiRead, kv, dyn, macFacts, view, ns, nadRead, collisions] = await Promise.all([
    readVMIFact(client, target.namespace, target.name),
    readKubeVirt(client),
    readDynamicNetworksControllers(client),
    gatherMacFacts(client, target, { uses: true, kubevirt: false, macpool: false }),
    readMacpool(client),
    client.getOrNull<NamespaceLike>(resourcePath(Resources.namespace, undefined, target.namespace)).catch((err: unknown) => {
      if (forbidden(err)) return null;
      throw err;
    }),
    readNadsOf(client, vm, target.namespace),
    readCollisionEvents(client, target.namespace, target.name),
  ]);
  const facts: DoctorFacts = {
    vm,
    vmi: vmiRead.vmi ?? null,
    vmiUnreadable: vmiRead.note,
    pods: [],
    nads: nadRead.nads,
    nadsUnreadable: nadRead.unreadable,
    kubevirt: kv.state === 'installed' ? { state: 'found', value: kv.cr } : kv.state === 'absent' ? { state: 'absent', message: kv.message } : { state: 'unreadable', message: kv.message },
    dynamicNetworks: dyn,
    macpool: { view, namespace: ns },
  };
  if (macFacts.facts.uses) facts.macUses = macFacts.facts.uses;
  if ('events' in collisions) facts.collisionEvents = collisions.events;
  else facts.collisionEventsUnreadable = collisions.unreadable;
  await Promise.all([readLauncherPods(client, facts), readSubnetsIfKubeOvn(client, facts), readNetworkEvents(client, facts, target.namespace)]);
  return facts;
}

/** The dynamic networks controller's events of the namespace (one field-selected list), when the VM runs. */
async function readNetworkEvents(client: KubeApi, facts: DoctorFacts, namespace: string): Promise<void> {
  if (!facts.vmi) return;
  facts.now = Date.now();
  try {
    facts.events = (await client.list<KubeEvent>(resourcePath(Resources.event, namespace), { fieldSelector: NETWORK_EVENT_FIELD_SELECTOR })).items;
  } catch (err) {
    const why = forbidden(err);
    if (!why) throw err;
    facts.eventsUnreadable = `cannot list events: ${why}`;
  }
}

/** The VM; doctor reads, so a missing VM is "not found" (exit 3), and a standalone VMI is named as such. */
async function readDoctorVM(client: KubeApi, target: { namespace: string; name: string }): Promise<VirtualMachine> {
  const vm = await client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, target.namespace, target.name));
  if (vm) return vm;
  const vmi = await client.getOrNull(resourcePath(Resources.vmi, target.namespace, target.name)).catch(() => null);
  if (vmi) {
    throw new VnetError('precondition', `"${target.name}" in namespace "${target.namespace}" is a VirtualMachineInstance without a VirtualMachine; doctor checks VirtualMachines`, {
      hint: `kubectl vnet status vmi/${target.name} shows its interfaces`,
    });
  }
  throw new VnetError('notFound', `virtualmachine "${target.name}" not found in namespace "${target.namespace}"`, {
    hint: 'check the name, and the namespace with -n (kubectl get vm -n NAMESPACE lists them)',
  });
}

/** The NADs the VM's networks name, one list per namespace: the object, null when it does not exist, or why a namespace was unreadable. */
async function readNadsOf(client: KubeApi, vm: VirtualMachine, namespace: string): Promise<{ nads: Map<string, NetworkAttachmentDefinition | null>; unreadable: Record<string, string> }> {
  const refs = networksOf(vm.spec?.template?.spec)
    .map((n) => networkRefOf(n, namespace))
    .flatMap((ref) => (ref.kind === 'multus' && ref.nad ? [ref.nad] : []));
  const namespaces = new Set(refs.map((nad) => nad.slice(0, nad.indexOf('/'))));
  const lists = await Promise.all(
    [...namespaces].map(async (nsName) => {
      try {
        return { ns: nsName, items: (await client.list<NetworkAttachmentDefinition>(resourcePath(Resources.nad, nsName))).items };
      } catch (err) {
        const why = forbidden(err) ?? (err instanceof VnetError && err.code === 'notFound' ? `the NetworkAttachmentDefinition API is not served: ${err.message}` : undefined);
        if (why) return { ns: nsName, unreadable: why };
        throw err;
      }
    }),
  );
  const nads = new Map<string, NetworkAttachmentDefinition | null>();
  const unreadable: Record<string, string> = {};
  for (const l of lists) {
    if ('unreadable' in l) {
      unreadable[l.ns] = l.unreadable as string;
      continue;
    }
    for (const item of l.items) nads.set(`${l.ns}/${item.metadata.name}`, item);
  }
  for (const nad of refs) if (!nads.has(nad) && !unreadable[nad.slice(0, nad.indexOf('/'))]) nads.set(nad, null);
  return { nads, unreadable };
}

/** The VMI's launcher pods, or why they cannot be listed. */
async function readLauncherPods(client: KubeApi, facts: DoctorFacts): Promise<void> {
  if (!facts.vmi) return;
  try {
    facts.pods = await listLauncherPodsOfVMI(client, facts.vmi);
  } catch (err) {
    const why = forbidden(err);
    if (!why) throw err;
    facts.podsUnreadable = `cannot list pods: ${why}`;
  }
}

/** Kube-OVN Subnets, when a NAD of the VM is a Kube-OVN one. */
async function readSubnetsIfKubeOvn(client: KubeApi, facts: DoctorFacts): Promise<void> {
  if (![...facts.nads.values()].some((n) => n && isKubeOvnNad(n))) return;
  try {
    facts.subnets = (await client.list<KubeOvnSubnet>(resourcePath(Resources.subnet))).items;
  } catch (err) {
    const why = forbidden(err) ?? (err instanceof VnetError && err.code === 'notFound' ? err.message : undefined);
    if (!why) throw err;
    facts.subnetsUnreadable = `cannot list subnets.kubeovn.io: ${why}`;
  }
}
