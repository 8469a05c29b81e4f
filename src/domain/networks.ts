/**
 * `kubectl vnet networks`: the NetworkAttachmentDefinition inventory. For each
 * NAD its CNI plugin chain and which VMs' interfaces use it (wanted by the VM
 * template, present in the VMI, attached according to the launcher pod's
 * Multus network-status), with the problems of each NAD; and the NADs VMs name
 * that do not exist. Pure functions over plain objects; the result is exactly
 * the `-o json` document (schemas/nad-inventory.schema.json).
 */
import type { NetworkAttachmentDefinition, Pod, VirtualMachine, VirtualMachineInstance, VMInterface, VMISpecLike } from './types.js';
import { bridgeBindingProblem, checkKubeOvnNad, parseNadConfig, type KubeOvnSubnet } from './nad.js';
import { chooseLauncherPod, CREATED_BY_LABEL, matchAttachment, readNetworkStatus } from './status.js';
import { bindingOf, interfacesOf, isPrimaryNetwork, networkRefOf, networksOf } from './vmspec.js';
import { compareStrings } from './order.js';

/** One VM interface on a NAD, and how far it got. */
export interface NadUse {
  /** The VM's (or standalone VMI's) namespace and name. */
  namespace: string;
  vm: string;
  kind: 'VirtualMachine' | 'VirtualMachineInstance';
  /** The interface (and network) name. */
  interface: string;
  binding: string | null;
  /** In the VM template's networks. */
  template: boolean;
  /** In the VMI's networks (the VM runs with it). */
  vmi: boolean;
  /** In the launcher pod's network-status (Multus attached it). */
  attached: boolean;
  /** The pod interface Multus reports (net1, pod<hash>), when attached. */
  podInterface: string | null;
}

export interface NadProblem {
  /** Stable identifier: config-invalid, binding-mismatch, kube-ovn-subnet, kube-ovn-warning, missing. */
  code: string;
  message: string;
}

/** kubemacpool and the NAD's namespace: does it allocate MACs for VMs there (null: cannot be told). */
export interface NadMacpool {
  managed: boolean | null;
  reason: string;
}

export interface NadInventoryItem {
  namespace: string;
  name: string;
  /** False for a NAD that VMs name and that does not exist. */
  exists: boolean;
  /** The CNI plugin types in order (a conflist's chain); empty when the config does not parse or the NAD is missing. */
  cniTypes: string[];
  uses: NadUse[];
  problems: NadProblem[];
  macpool: NadMacpool | null;
}

export interface NadInventory {
  kind: 'NetworkAttachmentDefinitionInventory';
  items: NadInventoryItem[];
  /** What could not be read, so what the inventory does not say (Subnets, pods, kubemacpool). */
  notes: string[];
}

export interface InventoryInput {
  nads: readonly NetworkAttachmentDefinition[];
  vms: readonly VirtualMachine[];
  vmis: readonly VirtualMachineInstance[];
  pods: readonly Pod[];
  /** Kube-OVN Subnets, or null when they were not read (not installed, or forbidden: see notes). */
  subnets: readonly KubeOvnSubnet[] | null;
  /** kubemacpool's coverage of a namespace, or undefined when it was not read. */
  macpool?: (namespace: string) => NadMacpool | null;
  /** The namespace the NADs were read from; undefined: all namespaces. */
  namespace: string | undefined;
  /** Only this NAD (a name in the namespace read), when given. */
  only?: string;
  notes?: string[];
}

const key = (ns: string, name: string) => `${ns}/${name}`;

/** The interfaces of a spec that name a NAD: interface name, NAD "ns/name", binding, pod interface match input. */
function nadInterfaces(spec: VMISpecLike | undefined, namespace: string): { name: string; nad: string; iface: VMInterface | undefined; secondaryIndex: number }[] {
  const ifaces = interfacesOf(spec);
  const out: { name: string; nad: string; iface: VMInterface | undefined; secondaryIndex: number }[] = [];
  let secondary = 0;
  for (const net of networksOf(spec)) {
    if (!net || typeof net.name !== 'string') continue;
    const primary = isPrimaryNetwork(net);
    const ref = networkRefOf(net, namespace);
    if (ref.kind === 'multus' && ref.nad) out.push({ name: net.name, nad: ref.nad, iface: ifaces.find((i) => i?.name === net.name), secondaryIndex: secondary });
    if (!primary) secondary++;
  }
  return out;
}

/** Which interfaces of this VM (template and VMI) use which NAD, and whether the launcher pod has them attached. */
function usesOf(vm: VirtualMachine | null, vmi: VirtualMachineInstance | undefined, pods: readonly Pod[]): { nad: string; use: NadUse }[] {
  const meta = (vm ?? vmi)!.metadata;
  const namespace = meta.namespace ?? '';
  const byKey = new Map<string, { nad: string; use: NadUse }>();
  const entry = (name: string, nad: string, iface: VMInterface | undefined) => {
    const k = `${name}\u0000${nad}`;
    let e = byKey.get(k);
    if (!e) {
      e = {
        nad,
        use: { namespace, vm: meta.name, kind: vm ? 'VirtualMachine' : 'VirtualMachineInstance', interface: name, binding: iface ? bindingOf(iface) || null : null, template: false, vmi: false, attached: false, podInterface: null },
      };
      byKey.set(k, e);
    }
    if (e.use.binding === null && iface) e.use.binding = bindingOf(iface) || null;
    return e.use;
  };
  if (vm) for (const n of nadInterfaces(vm.spec?.template?.spec, namespace)) entry(n.name, n.nad, n.iface).template = true;
  if (vmi) {
    const launcher = chooseLauncherPod(vmi, pods).pod;
    const entries = launcher ? readNetworkStatus(launcher).entries : [];
    for (const n of nadInterfaces(vmi.spec, namespace)) {
      const use = entry(n.name, n.nad, n.iface);
      use.vmi = true;
      const net = networksOf(vmi.spec).find((x) => x?.name === n.name);
      const reported = (vmi.status?.interfaces ?? []).find((s) => s.name === n.name)?.podInterfaceName;
      const att = net ? matchAttachment(net, namespace, entries, n.secondaryIndex, reported) : null;
      if (att) {
        use.attached = true;
        use.podInterface = att.interface ?? null;
      }
    }
  }
  return [...byKey.values()];
}

/** What speaks against a use of this NAD by its binding, or undefined. */
function bindingMismatch(nad: NetworkAttachmentDefinition, types: readonly string[], use: NadUse): string | undefined {
  const where = `interface ${use.interface} of ${use.kind === 'VirtualMachine' ? 'VM' : 'VMI'} ${use.namespace}/${use.vm}`;
  if (use.binding === 'bridge') {
    const p = bridgeBindingProblem(nad);
    if (p) return `${where} uses bridge binding, but ${p}`;
  }
  const sriovNad = types[0] === 'sriov';
  if (use.binding === 'sriov' && types.length > 0 && !sriovNad) return `${where} uses the sriov binding, but the NAD's CNI is ${types.join('+')}, not sriov: KubeVirt finds no VF to pass through`;
  if (sriovNad && use.binding && use.binding !== 'sriov') return `${where} uses the ${use.binding} binding on an SR-IOV NAD: only the sriov binding passes a VF to the guest`;
  return undefined;
}

/**
 * The inventory: every NAD read, with the interfaces that use it; then each NAD that an
 * interface names and that does not exist (in the namespaces read). Sorted by namespace and name.
 */
export function buildNadInventory(input: InventoryInput): NadInventory {
  const vmiByKey = new Map(input.vmis.map((v) => [key(v.metadata.namespace ?? '', v.metadata.name), v]));
  const podsByUid = new Map<string, Pod[]>();
  for (const p of input.pods) {
    const uid = p.metadata.labels?.[CREATED_BY_LABEL];
    if (uid) podsByUid.set(uid, [...(podsByUid.get(uid) ?? []), p]);
    for (const o of p.metadata.ownerReferences ?? []) if (o.uid && o.uid !== uid) podsByUid.set(o.uid, [...(podsByUid.get(o.uid) ?? []), p]);
  }
  const podsOf = (vmi: VirtualMachineInstance | undefined) => (vmi?.metadata.uid ? (podsByUid.get(vmi.metadata.uid) ?? []) : []);
  const usesByNad = new Map<string, NadUse[]>();
  const add = (list: { nad: string; use: NadUse }[]) => {
    for (const { nad, use } of list) usesByNad.set(nad, [...(usesByNad.get(nad) ?? []), use]);
  };
  const vmKeys = new Set<string>();
  for (const vm of input.vms) {
    const k = key(vm.metadata.namespace ?? '', vm.metadata.name);
    vmKeys.add(k);
    const vmi = vmiByKey.get(k);
    add(usesOf(vm, vmi, podsOf(vmi)));
  }
  for (const vmi of input.vmis) {
    if (vmKeys.has(key(vmi.metadata.namespace ?? '', vmi.metadata.name))) continue;
    if ((vmi.metadata.ownerReferences ?? []).some((o) => o.kind === 'VirtualMachine')) continue;
    add(usesOf(null, vmi, podsOf(vmi)));
  }

  const items: NadInventoryItem[] = [];
  const nadKeys = new Set<string>();
  const sortUses = (u: NadUse[]) => u.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.vm, b.vm) || compareStrings(a.interface, b.interface));
  for (const nad of input.nads) {
    const ns = nad.metadata.namespace ?? '';
    const k = key(ns, nad.metadata.name);
    nadKeys.add(k);
    if (input.only && nad.metadata.name !== input.only) continue;
    const cfg = parseNadConfig(nad);
    const types = cfg.plugins.map((p) => p.type);
    const uses = sortUses(usesByNad.get(k) ?? []);
    const problems: NadProblem[] = [];
    if (cfg.error) problems.push({ code: 'config-invalid', message: cfg.error });
    for (const use of uses) {
      const m = bindingMismatch(nad, types, use);
      if (m) problems.push({ code: 'binding-mismatch', message: m });
    }
    if (types.includes('kube-ovn') && input.subnets) {
      const check = checkKubeOvnNad(nad, input.subnets);
      if (check.problem) problems.push({ code: 'kube-ovn-subnet', message: `${check.problem}; ${check.fix}` });
      else if (check.warning) problems.push({ code: 'kube-ovn-warning', message: check.warning });
    }
    items.push({ namespace: ns, name: nad.metadata.name, exists: true, cniTypes: types, uses, problems, macpool: input.macpool?.(ns) ?? null });
  }
  for (const [k, uses] of usesByNad) {
    if (nadKeys.has(k)) continue;
    const [ns, name] = [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)];
    if (input.only && name !== input.only) continue;
    // A NAD of a namespace that was not read may well exist: only the namespace read (or all) is told.
    if (input.namespace !== undefined && ns !== input.namespace) continue;
    const users = sortUses(uses);
    const who = users.map((u) => `${u.vm}/${u.interface}`).join(', ');
    items.push({
      namespace: ns,
      name,
      exists: false,
      cniTypes: [],
      uses: users,
      problems: [{ code: 'missing', message: `NetworkAttachmentDefinition ${k} does not exist, and ${who} name${users.length === 1 ? 's' : ''} it: a VM that starts with it stays pending (FailedCreatePodSandBox), a hot-plug of it fails` }],
      macpool: null,
    });
  }
  items.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
  return { kind: 'NetworkAttachmentDefinitionInventory', items, notes: input.notes ?? [] };
}
