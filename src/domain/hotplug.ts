/**
 * Planning NIC hot-plug, unplug and link-state edits of a VirtualMachine.
 *
 * Each planner takes the VM as read plus the cluster facts gathered for it
 * (or none, for manifest files) and returns an EditPlan: one JSON Patch that
 * changes the interface and its network together, guarded by `test`
 * operations on exactly the parts it relies on, so a concurrent edit makes
 * the server reject it and the pipeline re-reads and re-plans. Refusals
 * mirror KubeVirt's admission (pkg/network/admitter) and what KubeVirt
 * silently ignores; `force` overrides only the CNI and Subnet advice.
 */
import { option, refused, usageError } from '../errors.js';
import { DISCONTINUED_BINDINGS, defaultPodInterface, kubevirtForAdvice, kubevirtVersion, linkStateSupport, liveMigrateEnabled, nicHotplugSupport, versionAtLeast, vmRolloutStrategy, type Version } from './kubevirt-config.js';
import { checkMacCollisions, macWarnings, parseMac, type MacUses } from './mac.js';
import { bridgeBindingProblem, checkKubeOvnNad, customMacSupport, isKubeOvnNad, mainCniType, type KubeOvnSubnet } from './nad.js';
import { pointer, type EditPlan, type JsonPatchOp } from './patch.js';
import type { KubeVirtCR, NetworkAttachmentDefinition, VirtualMachine, VirtualMachineInstance, VMInterface, VMISpecLike, VMNetwork, Warning } from './types.js';
import { BINDINGS, bindingOf, describeBinding, hasImplicitDefaultNetwork, INTERFACE_MODELS, INTERFACE_NAME_RE, interfacesOf, isPrimaryNetwork, networksOf, specShapeProblem, splitNadName } from './vmspec.js';

/**
 * What the cluster said, gathered before planning. `undefined` means "not
 * checked" (offline mode, or not readable): the check is skipped and a note
 * says so. `null` means "checked: it does not exist".
 */
export interface ClusterFacts {
  /** The NAD named by --network. */
  nad?: NetworkAttachmentDefinition | null;
  /** Why the NAD was not read (RBAC), when it was not. */
  nadUnreadable?: string;
  /** Kube-OVN Subnets (cluster-wide); undefined when not readable or not needed. */
  subnets?: readonly KubeOvnSubnet[];
  /** Why the Subnets were not read, when they were needed. */
  subnetsUnreadable?: string;
  /** The KubeVirt CR; null when KubeVirt is not installed. */
  kubevirt?: KubeVirtCR | null;
  /** Why the KubeVirt CR was not read. */
  kubevirtUnreadable?: string;
  /** The VM's VMI; null when the VM is not running. */
  vmi?: VirtualMachineInstance | null;
  /** The MACs other VMs and VMIs claim (gathered for --mac only). */
  macUses?: MacUses;
}

export type HotplugBinding = 'bridge' | 'sriov';

export interface HotplugRequest {
  /** "[ns/]nad" as the user wrote it. */
  network: string;
  /** Interface (and network) name; derived from the NAD when absent. */
  name?: string;
  /** Default bridge. */
  binding?: string;
  mac?: string;
  model?: string;
  /** Override the CNI-type and Kube-OVN Subnet advice (never admission rules). */
  force?: boolean;
}

const DEVICES = ['spec', 'template', 'spec', 'domain', 'devices'] as const;
const IFACES = [...DEVICES, 'interfaces'] as const;
const NETWORKS = ['spec', 'template', 'spec', 'networks'] as const;

function vmObj(vm: VirtualMachine): string {
  return `${vm.metadata.namespace ?? 'default'}/${vm.metadata.name}`;
}

function templateSpec(vm: VirtualMachine): VMISpecLike | undefined {
  return vm.spec?.template?.spec;
}

/** Refuses a VM whose interface or network lists are malformed (possible in a manifest file). */
export function assertSpecShape(vm: VirtualMachine): void {
  const problem = specShapeProblem(vm.spec?.template?.spec);
  if (problem) throw refused(`virtualmachine "${vm.metadata.name}": ${problem}; nothing was changed`, 'fix the VM spec first');
}

function get(root: unknown, tokens: readonly (string | number)[]): unknown {
  let cur = root;
  for (const t of tokens) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[t as string];
  }
  return cur;
}

/**
 * Operations that append `items` to the list at `tokens`, guarded: when the
 * list exists, a `test` of the whole list as read (any concurrent change to
 * it fails the patch); when it (or a parent) is missing, a `test` of the
 * deepest existing parent as read, then an `add` of the missing subtree.
 * Returns tests and adds separately so every test can precede every add.
 */
function appendOps(vm: VirtualMachine, tokens: readonly string[], items: readonly unknown[]): { tests: JsonPatchOp[]; adds: JsonPatchOp[] } {
  const list = get(vm, tokens);
  if (Array.isArray(list)) {
    return {
      tests: [{ op: 'test', path: pointer(...tokens), value: list }],
      adds: items.map((value) => ({ op: 'add' as const, path: pointer(...tokens, '-'), value })),
    };
  }
  if (list !== undefined && list !== null) throw refused(`${pointer(...tokens)} of the VM is not a list`, 'fix the VM spec first (kubectl edit vm)');
  // Deepest existing parent.
  let depth = tokens.length - 1;
  while (depth > 0 && (get(vm, tokens.slice(0, depth)) === undefined || get(vm, tokens.slice(0, depth)) === null)) depth--;
  let value: unknown = [...items];
  for (let i = tokens.length - 1; i > depth; i--) value = { [tokens[i]]: value };
  const parent = tokens.slice(0, depth);
  return {
    tests: [{ op: 'test', path: pointer(...parent), value: get(vm, parent) }],
    adds: [{ op: 'add', path: pointer(...tokens.slice(0, depth + 1)), value }],
  };
}

// --- names -------------------------------------------------------------------

/** Every name an interface or network of the VM (template and running VMI) uses. */
function usedNames(vm: VirtualMachine, vmi: VirtualMachineInstance | null | undefined): Set<string> {
  const names = new Set<string>();
  const spec = templateSpec(vm);
  for (const i of interfacesOf(spec)) names.add(i.name);
  for (const n of networksOf(spec)) names.add(n.name);
  if (hasImplicitDefaultNetwork(spec)) names.add('default');
  if (vmi) {
    for (const i of interfacesOf(vmi.spec)) names.add(i.name);
    for (const n of networksOf(vmi.spec)) names.add(n.name);
    for (const s of vmi.status?.interfaces ?? []) if (s.name) names.add(s.name);
  }
  return names;
}

/**
 * A valid interface name derived from a NAD name: characters outside
 * [A-Za-z0-9-_] become "-", at most 63 characters, and a "-2", "-3" ...
 * suffix when the name is taken.
 */
export function defaultInterfaceName(nadName: string, taken: ReadonlySet<string> = new Set()): string {
  let base = nadName.replace(/[^A-Za-z0-9-_]/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '');
  if (!base) base = 'net';
  base = base.slice(0, 63);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const suffix = `-${i}`;
    const candidate = base.slice(0, 63 - suffix.length) + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}

function checkInterfaceName(name: string): void {
  if (!INTERFACE_NAME_RE.test(name)) {
    throw refused(
      `"${name}" is not a valid interface name: KubeVirt allows only letters, digits, "-" and "_" (^[A-Za-z0-9-_]+$)`,
      `pick another ${option('name')}, e.g. one without dots or slashes`,
    );
  }
}

/** Why a name is still being unplugged, or undefined. */
function unplugInProgress(name: string, vm: VirtualMachine, vmi: VirtualMachineInstance | null | undefined): string | undefined {
  const tpl = interfacesOf(templateSpec(vm)).find((i) => i.name === name);
  if (tpl?.state === 'absent') return `interface "${name}" is still being unplugged (state: absent in the VM)`;
  if (vmi && !tpl) {
    const specIface = interfacesOf(vmi.spec).find((i) => i.name === name);
    const reported = (vmi.status?.interfaces ?? []).find((s) => s.name === name);
    if (specIface || reported) return `interface "${name}" is still being unplugged (it is still in the running VMI${specIface?.state === 'absent' ? ' with state: absent' : ''})`;
  }
  return undefined;
}

// --- KubeVirt-wide advice ---------------------------------------------------

function clusterAdvice(facts: ClusterFacts, what: 'plug' | 'unplug' | 'link', notes: string[], warn: (code: string, message: string) => void): void {
  const cr = kubevirtForAdvice(facts, 'version, feature gate and rollout strategy', notes, warn);
  if (!cr) return;
  if (what === 'link') {
    const ls = linkStateSupport(cr);
    if (ls.supported === false) warn('link-state-unsupported', ls.reason);
  } else {
    const hp = nicHotplugSupport(cr);
    if (hp.supported === false) warn('hotplug-gate-missing', `${hp.reason}: enable it in spec.configuration.developerConfiguration.featureGates, or the running VM will not see this change`);
  }
  const rs = vmRolloutStrategy(cr);
  if (rs.value !== 'LiveUpdate') {
    warn(
      'rollout-not-liveupdate',
      `the KubeVirt rollout strategy is ${rs.value}${rs.explicit ? '' : ' (unset; the default before v1.6)'}, not LiveUpdate: a running VM gets this change only after a restart (RestartRequired)`,
    );
  }
}

// --- slots ------------------------------------------------------------------

/** Parses a Kubernetes quantity ("2Gi", "2048M", "1.5G") into bytes; NaN when unparseable. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return NaN;
  const m = /^([0-9.]+)([KMGTPE]i?|[kmunE]?)$/.exec(q.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const units: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, m: 1e-3, u: 1e-6, n: 1e-9 };
  return n * (units[m[2]] ?? NaN);
}

export interface SlotEstimate {
  /** Interfaces the VM can have in total while it runs, estimated. */
  limit: number;
  /** How the limit was estimated, in words. */
  basis: string;
}

export const SLOT_COUNT_ANNOTATION = 'kubevirt.io/pci-interface-slot-count';
export const PCI_TOPOLOGY_ANNOTATION = 'kubevirt.io/pci-topology-version';
export const ROOT_COMPLEX_ANNOTATION = 'kubevirt.io/placePCIDevicesOnRootComplex';

/** Free PCIe root ports by v1.6's formula: max(8 - ports in use, 3), or max(16 - ports in use, 6) above 2 GiB guest memory. */
function rootPortFormula(vm: VirtualMachine, interfaces: number): { free: number; text: string } {
  const domain = (templateSpec(vm)?.domain ?? {}) as Record<string, unknown>;
  const memory = parseQuantity(get(domain, ['memory', 'guest'])) || parseQuantity(get(domain, ['resources', 'requests', 'memory']));
  const disks = (get(domain, ['devices', 'disks']) as { disk?: { bus?: string }; [k: string]: unknown }[] | undefined) ?? [];
  const virtioDisks = disks.filter((d) => d && (d.disk === undefined || d.disk?.bus === undefined || d.disk?.bus === 'virtio')).length;
  // Interfaces + virtio disks + the controllers every VM has (SCSI, virtio-serial, balloon).
  const portsInUse = interfaces + virtioDisks + 3;
  const big = memory > 2 * 2 ** 30;
  return { free: big ? Math.max(16 - portsInUse, 6) : Math.max(8 - portsInUse, 3), text: big ? 'max(16 - ports in use, 6) above 2 GiB' : 'max(8 - ports in use, 3) up to 2 GiB' };
}

/**
 * Estimates how many interfaces a running VM can have, per KubeVirt version
 * (the PCIe root ports reserved at boot):
 *  - `kubevirt.io/placePCIDevicesOnRootComplex: "true"` in the template: every
 *    device on the root complex, no hot-plug port at all (any version);
 *  - v1.1-v1.5: placeholders for max(0, 4 - interfaces): about 4 in total;
 *  - v1.6-v1.7: free ports = max(8 - portsInUse, 3), or max(16 - portsInUse, 6)
 *    above 2 GiB guest memory, shared with disk hot-plug; a frozen
 *    `kubevirt.io/pci-interface-slot-count` gives the interface total;
 *  - v1.8+ with `kubevirt.io/pci-topology-version` in the template (virt-api
 *    writes v3 on new VMs; virt-controller copies v2 and the slot count from
 *    the VMI): placeholder ports (slot count - interfaces when frozen, else
 *    max(0, 4 - interfaces)) plus root ports up to v1.6's free-port count, so
 *    max(placeholders, free ports). Without the annotation the running VM was
 *    laid out before v1.8, by v1.6's formula.
 * `interfaces` is the count before the edit, taken as the boot-time count
 * (the estimate is generous when some were hot-plugged already).
 */
export function estimateInterfaceSlots(vm: VirtualMachine, version: Version | null, interfaces: number): SlotEstimate | undefined {
  if (!version || !versionAtLeast(version, '1.1')) return undefined;
  const tpl = vm.spec?.template?.metadata?.annotations ?? {};
  if (tpl[ROOT_COMPLEX_ANNOTATION] === 'true') {
    return { limit: interfaces, basis: `the VM's ${ROOT_COMPLEX_ANNOTATION}: "true" annotation puts every device on the root complex: no hot-plug port` };
  }
  const ann = tpl[SLOT_COUNT_ANNOTATION] ?? vm.metadata.annotations?.[SLOT_COUNT_ANNOTATION];
  const slotCount = ann !== undefined && /^\d+$/.test(ann) ? Number(ann) : undefined;
  const topology = tpl[PCI_TOPOLOGY_ANNOTATION];
  if (versionAtLeast(version, '1.8') && topology) {
    const placeholders = slotCount !== undefined ? Math.max(0, slotCount - interfaces) : interfaces === 0 ? 0 : Math.max(0, 4 - interfaces);
    const ports = rootPortFormula(vm, interfaces);
    const free = Math.max(placeholders, ports.free);
    const from = slotCount !== undefined ? `${SLOT_COUNT_ANNOTATION} ${slotCount}` : 'max(0, 4 - interfaces)';
    return {
      limit: interfaces + free,
      basis: `PCI topology ${topology} (KubeVirt ${version.raw}): ${placeholders} placeholder port(s) (${from}) topped up to ${ports.free} free root ports (${ports.text} guest memory), shared with disk hot-plug`,
    };
  }
  if (slotCount !== undefined) {
    return { limit: slotCount, basis: `the VM's ${SLOT_COUNT_ANNOTATION} annotation (${ann})` };
  }
  if (!versionAtLeast(version, '1.6')) {
    return { limit: Math.max(4, interfaces), basis: `KubeVirt ${version.raw} reserves PCIe ports for about 4 interfaces in total` };
  }
  const ports = rootPortFormula(vm, interfaces);
  const before18 = versionAtLeast(version, '1.8') ? `; no ${PCI_TOPOLOGY_ANNOTATION} in the template yet, so the running VM was laid out before v1.8` : '';
  return {
    limit: interfaces + ports.free,
    basis: `KubeVirt ${version.raw} reserves about ${ports.free} free PCIe ports (${ports.text} guest memory), shared with disk hot-plug${before18}`,
  };
}

// --- the implicit default -----------------------------------------------------

/**
 * The default pod interface and network to write out for a VM whose
 * template has none: copied from the running VMI's spec, else KubeVirt's
 * default for a new VMI.
 */
function implicitDefaultToWrite(facts: ClusterFacts): { iface: VMInterface; network: VMNetwork; from: string } {
  const vmi = facts.vmi;
  if (vmi) {
    const net = networksOf(vmi.spec).find((n) => isPrimaryNetwork(n));
    const iface = net ? interfacesOf(vmi.spec).find((i) => i.name === net.name) : undefined;
    if (net && iface) return { iface: structuredClone(iface), network: structuredClone(net), from: 'the running VMI' };
  }
  const d = defaultPodInterface(facts.kubevirt);
  const from = d.fromCluster ? 'the KubeVirt CR\'s defaultNetworkInterface' : facts.kubevirt === undefined ? 'KubeVirt\'s built-in default (the KubeVirt CR was not read)' : 'KubeVirt\'s built-in default';
  // KubeVirt refuses bridge on the pod network when the CR says so (its VM admission
  // would reject this patch, and the VM as it is could not start either).
  if (d.binding === 'bridge' && facts.kubevirt?.spec?.configuration?.network?.permitBridgeInterfaceOnPodNetwork === false) {
    throw refused(
      `the VM has no interfaces, so it gets KubeVirt's default pod interface, whose binding is bridge (${from}), and the KubeVirt CR forbids bridge on the pod network (permitBridgeInterfaceOnPodNetwork: false): KubeVirt would refuse that interface, and the VM cannot start as it is`,
      'give the VM an explicit pod interface first (e.g. interfaces: [{name: default, masquerade: {}}] with networks: [{name: default, pod: {}}]), or set defaultNetworkInterface: masquerade in the KubeVirt CR',
    );
  }
  return { iface: d.iface, network: d.network, from };
}

/**
 * Writing out the implicit default relies on autoattachPodInterface not
 * being false. appendOps tests a parent holding it when the interface list
 * is missing; when the list exists (empty), test the devices as read.
 */
function implicitDefaultGuard(vm: VirtualMachine): JsonPatchOp[] {
  const devices = get(vm, DEVICES);
  if (!Array.isArray(get(vm, IFACES)) || devices === null || typeof devices !== 'object') return [];
  return [{ op: 'test', path: pointer(...DEVICES), value: devices }];
}

function runningNote(facts: ClusterFacts, notes: string[], stoppedText: string): void {
  if (facts.vmi === null) notes.push(stoppedText);
  else if (facts.vmi === undefined) notes.push('the VMI was not checked: whether the VM runs is not known');
}

// --- hotplug -------------------------------------------------------------------

export function normalizeBinding(binding: string | undefined): string {
  const b = (binding ?? 'bridge').trim().toLowerCase();
  return b === 'sr-iov' ? 'sriov' : b;
}

/** The warnings and notes a plan collects as it goes. */
interface PlanLog {
  warnings: Warning[];
  notes: string[];
  warn(code: string, message: string): void;
}

function planLog(vm: VirtualMachine): PlanLog {
  const log: PlanLog = { warnings: [], notes: [], warn: (code, message) => log.warnings.push({ code, message, object: vmObj(vm) }) };
  return log;
}

/** Why a binding other than bridge and SR-IOV cannot be hot-plugged, as a refusal. */
function notHotpluggable(asWritten: string, binding: string): Error {
  const hint = `use ${option('binding')} bridge or ${option('binding')} sriov`;
  const core = BINDINGS.find((b) => b.toLowerCase() === binding);
  if (core === 'passtBinding') {
    return refused(`binding "${asWritten}" cannot be hot-plugged: passtBinding works on the pod network only, which a running VM never gains, and KubeVirt copies only bridge and SR-IOV interfaces into a running VM`, hint);
  }
  if (core === undefined || core === 'binding') {
    return refused(
      `"${asWritten}" is not a core binding: an interface with a network binding plugin (binding: {name: ${asWritten}}) is not hot-plugged by KubeVirt, which copies only bridge and SR-IOV interfaces into a running VM`,
      `${hint}, or add the plugin interface to the VM spec and restart the VM`,
    );
  }
  if (DISCONTINUED_BINDINGS.includes(core)) {
    return refused(`binding "${asWritten}" cannot be hot-plugged: the core ${core} binding is discontinued (KubeVirt's admission rejects it from v1.3), and KubeVirt copies only bridge and SR-IOV interfaces into a running VM`, `${hint}; a ${core} network binding plugin is added to the VM spec and applies at the next restart`);
  }
  return refused(`binding "${asWritten}" cannot be hot-plugged: KubeVirt copies only bridge and SR-IOV interfaces into a running VM (others are silently left out until a restart)`, hint);
}

/** The request's own values checked: the NAD reference, the binding, the MAC and the model. */
function checkHotplugRequest(req: HotplugRequest, ns: string, log: PlanLog): { networkName: string; nadRef: { namespace: string; name: string }; binding: HotplugBinding; mac?: string } {
  const networkName = req.network.trim();
  const nadRef = splitNadName(networkName, ns);
  if (!nadRef.name || nadRef.name.includes('/') || !nadRef.namespace) {
    throw usageError(`${option('network')} "${req.network}" is not a NetworkAttachmentDefinition name`, 'write it as NAME or NAMESPACE/NAME');
  }
  const binding = normalizeBinding(req.binding);
  if (binding !== 'bridge' && binding !== 'sriov') throw notHotpluggable(req.binding ?? binding, binding);
  let mac: string | undefined;
  if (req.mac !== undefined) {
    mac = parseMac(req.mac);
    // KubeVirt reserves 02:00:00:00:00:00 only on masquerade interfaces, which are never hot-plugged.
    for (const w of macWarnings(mac)) log.warn(w.code, w.message);
  }
  if (req.model !== undefined && !(INTERFACE_MODELS as readonly string[]).includes(req.model)) {
    throw usageError(`model "${req.model}" is not one KubeVirt accepts`, `use one of ${INTERFACE_MODELS.join(', ')}`);
  }
  return { networkName, nadRef: { namespace: nadRef.namespace, name: nadRef.name }, binding, mac };
}

/** --name checked (valid, not being unplugged, not taken), or a name derived from the NAD. */
function chooseInterfaceName(vm: VirtualMachine, spec: VMISpecLike, req: HotplugRequest, nadName: string, vmi: VirtualMachineInstance | null | undefined, log: PlanLog): string {
  const taken = usedNames(vm, vmi);
  if (req.name === undefined) {
    const name = defaultInterfaceName(nadName, taken);
    log.notes.push(`interface name "${name}" derived from the NAD (set it with ${option('name')})`);
    return name;
  }
  const name = req.name;
  checkInterfaceName(name);
  const unplugging = unplugInProgress(name, vm, vmi);
  if (unplugging) {
    throw refused(`${unplugging}; KubeVirt ignores a re-add of that name until the unplug is done`, `wait until it is gone (kubectl vnet status ${vm.metadata.name}, or hotplug remove --wait), or pick another ${option('name')}`);
  }
  if (taken.has(name)) {
    const what = [
      interfacesOf(spec).some((i) => i.name === name) || (hasImplicitDefaultNetwork(spec) && name === 'default') ? 'an interface' : '',
      networksOf(spec).some((n) => n.name === name) ? 'a network' : '',
    ].filter(Boolean);
    throw refused(`the name "${name}" is already used by ${what.length > 0 ? what.join(' and ') : 'an interface'} of virtualmachine "${vm.metadata.name}"`, `pick another ${option('name')}`);
  }
  return name;
}

/** The NAD: it must exist; its CNI type and Kube-OVN Subnet must suit the binding (--force turns those refusals into warnings). */
function checkNadForPlug(vm: VirtualMachine, facts: ClusterFacts, o: { nadRef: { namespace: string; name: string }; binding: HotplugBinding; mac?: string; force: boolean }, log: PlanLog): void {
  const nadFull = `${o.nadRef.namespace}/${o.nadRef.name}`;
  const nad = facts.nad;
  if (nad === null) {
    throw refused(`NetworkAttachmentDefinition "${o.nadRef.name}" not found in namespace "${o.nadRef.namespace}"`, `create it first, or check the name: kubectl get network-attachment-definitions -n ${o.nadRef.namespace}`);
  }
  if (nad === undefined) {
    log.notes.push(`NetworkAttachmentDefinition ${nadFull} not checked (${facts.nadUnreadable ?? 'no cluster'}): existence, CNI type and Subnet checks skipped`);
    return;
  }
  const advice = (code: string, message: string, hint: string) => {
    if (o.force) log.warn(code, `${message} (sent anyway: ${option('force')})`);
    else throw refused(message, `${hint}; ${option('force')} sends it anyway`);
  };
  const main = mainCniType(nad);
  if (o.binding === 'bridge') {
    const problem = bridgeBindingProblem(nad);
    if (problem) advice('cni-incompatible', `NetworkAttachmentDefinition ${nadFull}: ${problem}`, 'use a bridge or OVS NAD for bridge binding');
    if (main === 'sriov') log.warn('binding-mismatch', `NetworkAttachmentDefinition ${nadFull} is an SR-IOV network; did you mean ${option('binding')} sriov?`);
  } else if (main && main !== 'sriov') {
    log.warn('binding-mismatch', `NetworkAttachmentDefinition ${nadFull} runs CNI type ${main}, not sriov: an SR-IOV interface needs an SR-IOV network`);
  }
  if (isKubeOvnNad(nad)) {
    if (facts.subnets === undefined) {
      log.notes.push(`Kube-OVN Subnets not checked${facts.subnetsUnreadable ? ` (${facts.subnetsUnreadable})` : ''}`);
    } else {
      const k = checkKubeOvnNad(nad, facts.subnets, vm.spec?.template?.metadata?.annotations);
      if (k.problem) advice('kube-ovn-subnet', `NetworkAttachmentDefinition ${nadFull}: ${k.problem}`, k.fix ?? '');
      if (k.warning) log.warn('kube-ovn-subnet', `NetworkAttachmentDefinition ${nadFull}: ${k.warning}`);
    }
  }
  if (o.mac) {
    const ms = customMacSupport(nad);
    if (ms.supported === 'no') log.warn('mac-unsupported', `NetworkAttachmentDefinition ${nadFull}: ${ms.reason}, so MAC ${o.mac} may not take effect${ms.fix ? ` (${ms.fix})` : ''}`);
  }
}

/** Whether the running VM has a hot-plug slot left for one more interface (an estimate; warnings only). */
function slotWarnings(vm: VirtualMachine, spec: VMISpecLike, facts: ClusterFacts, implicit: boolean, log: PlanLog): void {
  if (!facts.kubevirt) return;
  const before = interfacesOf(spec).filter((i) => i.state !== 'absent').length + (implicit ? 1 : 0);
  const est = estimateInterfaceSlots(vm, kubevirtVersion(facts.kubevirt), before);
  if (!est || !facts.vmi) return;
  const after = before + 1;
  if (after > est.limit) log.warn('slots-exhausted', `the VM would have ${after} interfaces, above the estimated ${est.limit} it can have while running (${est.basis}): the plug will likely fail until a restart`);
  else if (after === est.limit) log.warn('slots-near-limit', `this takes the last estimated hot-plug slot: ${after} of about ${est.limit} interfaces (${est.basis})`);
}

/** Plans `hotplug add`: one interface and its multus network, appended together. */
export function planHotplug(vm: VirtualMachine, req: HotplugRequest, facts: ClusterFacts = {}): EditPlan & { interfaceName: string } {
  assertSpecShape(vm);
  const ns = vm.metadata.namespace ?? 'default';
  const log = planLog(vm);
  const { warnings, notes } = log;
  const { networkName, nadRef, binding, mac } = checkHotplugRequest(req, ns, log);
  const spec = templateSpec(vm);
  if (!spec) throw refused(`virtualmachine "${vm.metadata.name}" has no spec.template.spec`, 'fix the VM spec first');
  const name = chooseInterfaceName(vm, spec, req, nadRef.name, facts.vmi, log);
  checkNadForPlug(vm, facts, { nadRef, binding, mac, force: Boolean(req.force) }, log);

  // KubeVirt-wide advice.
  clusterAdvice(facts, 'plug', notes, log.warn);
  if (binding === 'sriov' && facts.kubevirt && !liveMigrateEnabled(facts.kubevirt)) {
    log.warn('no-live-migrate', 'an SR-IOV interface is plugged by a live migration, but the KubeVirt CR\'s workloadUpdateStrategy.workloadUpdateMethods lacks LiveMigrate: nothing will migrate the VM, so the interface stays pending until a restart');
  }

  // The implicit default network, written out so the next boot keeps it.
  const implicit = hasImplicitDefaultNetwork(spec);
  const ifaces: VMInterface[] = [];
  const nets: VMNetwork[] = [];
  if (implicit) {
    const d = implicitDefaultToWrite(facts);
    ifaces.push(d.iface);
    nets.push(d.network);
    notes.push(`the VM had no interfaces: its implicit default pod network (${d.iface.name}, ${bindingOf(d.iface) || 'no binding'}) is written out as well, copied from ${d.from}, so the next boot keeps it`);
  }
  if (mac) checkMacCollisions(mac, facts.macUses, { namespace: ns, name: vm.metadata.name, iface: name }, Boolean(req.force), { warnings, notes });
  const iface: VMInterface = { name, [binding]: {} } as VMInterface;
  if (mac) iface.macAddress = mac;
  if (req.model) iface.model = req.model;
  ifaces.push(iface);
  nets.push({ name, multus: { networkName } });

  slotWarnings(vm, spec, facts, implicit, log);
  runningNote(facts, notes, 'the VM is not running: the interface is added to the VM and applies at its next start');

  const a = appendOps(vm, IFACES, ifaces);
  const b = appendOps(vm, NETWORKS, nets);
  const ops = [...(implicit ? implicitDefaultGuard(vm) : []), ...a.tests, ...b.tests, ...a.adds, ...b.adds];
  const summary = `add interface ${name} (${binding}) on ${nadRef.namespace}/${nadRef.name}${implicit ? ', and write out the implicit default pod network' : ''}`;
  return { ops, summary, warnings, notes, interfaceName: name };
}

// --- unplug ---------------------------------------------------------------------

function findInterface(vm: VirtualMachine, name: string): { iface: VMInterface; index: number; net?: VMNetwork; netIndex: number } | undefined {
  const spec = templateSpec(vm);
  const index = interfacesOf(spec).findIndex((i) => i.name === name);
  if (index < 0) return undefined;
  const netIndex = networksOf(spec).findIndex((n) => n.name === name);
  return { iface: interfacesOf(spec)[index], index, net: netIndex >= 0 ? networksOf(spec)[netIndex] : undefined, netIndex };
}

function unknownInterface(vm: VirtualMachine, name: string): never {
  const names = interfacesOf(templateSpec(vm)).map((i) => i.name);
  throw refused(
    `virtualmachine "${vm.metadata.name}" has no interface "${name}"${names.length > 0 ? ` (it has: ${names.join(', ')})` : hasImplicitDefaultNetwork(templateSpec(vm)) ? ' (it has only the implicit default pod network)' : ''}`,
    `check the name: kubectl vnet status ${vm.metadata.name}`,
  );
}

/** Plans `hotplug remove`: `state: absent` on a bridge interface of a secondary network. */
export function planUnplug(vm: VirtualMachine, req: { name: string }, facts: ClusterFacts = {}): EditPlan {
  assertSpecShape(vm);
  const warnings: Warning[] = [];
  const notes: string[] = [];
  const warn = (code: string, message: string) => warnings.push({ code, message, object: vmObj(vm) });
  const { name } = req;
  const spec = templateSpec(vm);
  const found = findInterface(vm, name);
  if (!found) {
    if (name === 'default' && hasImplicitDefaultNetwork(spec)) {
      throw refused(`"default" is the VM's implicit pod network: KubeVirt does not unplug the default network`, 'only secondary bridge interfaces can be unplugged');
    }
    unknownInterface(vm, name);
  }
  const { iface, index, net, netIndex } = found;
  if (net && isPrimaryNetwork(net)) {
    throw refused(
      `interface "${name}" is on the VM's ${net.pod !== undefined ? 'pod' : 'multus default'} network: KubeVirt does not unplug default networks`,
      'only secondary bridge interfaces can be unplugged',
    );
  }
  const binding = bindingOf(iface);
  if (net?.resourceClaim) {
    throw refused(`interface "${name}" is on a DRA network (resourceClaim): KubeVirt neither plugs nor unplugs DRA networks in a running VM`, 'remove the interface and its network from the VM spec and restart the VM');
  }
  if (binding !== 'bridge') {
    throw refused(
      `interface "${name}" uses ${describeBinding(binding)}: KubeVirt unplugs only bridge interfaces${binding === 'sriov' ? ' (an SR-IOV interface cannot be unplugged live)' : ''}`,
      binding === 'sriov' ? 'remove the interface and its network from the VM spec and restart the VM' : 'remove it from the VM spec and restart the VM',
    );
  }
  if (iface.state === 'absent') {
    return { ops: [], summary: `interface ${name} is already being unplugged (state: absent)`, warnings, notes: ['KubeVirt removes the entries once the interface has left the VMI'], noop: true };
  }
  clusterAdvice(facts, 'unplug', notes, warn);
  runningNote(facts, notes, 'the VM is not running: KubeVirt removes the interface from the VM right away');
  if (facts.vmi) notes.push('KubeVirt removes the interface and its network from the VM once the NIC has left the guest');

  const ops: JsonPatchOp[] = [
    { op: 'test', path: pointer(...IFACES, index), value: iface },
  ];
  if (net) ops.push({ op: 'test', path: pointer(...NETWORKS, netIndex), value: net });
  ops.push({ op: 'add', path: pointer(...IFACES, index, 'state'), value: 'absent' });
  return { ops, summary: `unplug interface ${name} (state: absent)`, warnings, notes };
}

// --- link state --------------------------------------------------------------

/** Plans `link set`: `state: up|down` on one interface. */
export function planLinkState(vm: VirtualMachine, req: { name: string; state: string }, facts: ClusterFacts = {}): EditPlan {
  assertSpecShape(vm);
  const warnings: Warning[] = [];
  const notes: string[] = [];
  const warn = (code: string, message: string) => warnings.push({ code, message, object: vmObj(vm) });
  const state = req.state.trim().toLowerCase();
  if (state !== 'up' && state !== 'down') throw usageError(`link state "${req.state}" is not up or down`, 'use: link set VM IFACE up|down');
  const { name } = req;
  const spec = templateSpec(vm);
  const implicit = hasImplicitDefaultNetwork(spec);
  const found = findInterface(vm, name);
  if (!found && !(implicit && name === 'default')) unknownInterface(vm, name);

  if (!found) {
    // The implicit default: write it out with the state.
    const d = implicitDefaultToWrite(facts);
    if (d.iface.name !== name) unknownInterface(vm, name);
    clusterAdvice(facts, 'link', notes, warn);
    if (state === 'down') warn('primary-link-down', `interface "${name}" is the VM's pod network: with its link down, probes and services stop reaching the VM`);
    runningNote(facts, notes, 'the VM is not running: the link state applies at its next start');
    notes.push(`the VM had no interfaces: its implicit default pod network is written out (copied from ${d.from}) to carry the link state`);
    const iface = { ...d.iface, state } as VMInterface;
    const a = appendOps(vm, IFACES, [iface]);
    const b = appendOps(vm, NETWORKS, [d.network]);
    return { ops: [...implicitDefaultGuard(vm), ...a.tests, ...b.tests, ...a.adds, ...b.adds], summary: `set link ${state} on interface ${name} (and write out the implicit default pod network)`, warnings, notes };
  }

  const { iface, index, net } = found;
  const binding = bindingOf(iface);
  if (binding === 'sriov') {
    throw refused(`interface "${name}" uses SR-IOV binding: KubeVirt cannot set the link state of an SR-IOV NIC`, 'set the link state inside the guest instead');
  }
  if (binding === 'passtBinding') {
    throw refused(`interface "${name}" uses passtBinding: KubeVirt has no link state for passt interfaces`, 'set the link state inside the guest instead');
  }
  if (iface.state === 'absent') {
    throw refused(`interface "${name}" is being unplugged (state: absent)`, 'a link state cannot be set on an interface that is being removed');
  }
  const current = iface.state === 'down' ? 'down' : 'up';
  if (current === state) {
    return { ops: [], summary: `interface ${name} link is already ${state}`, warnings, notes: [], noop: true };
  }
  clusterAdvice(facts, 'link', notes, warn);
  if (state === 'down' && net && isPrimaryNetwork(net)) {
    warn('primary-link-down', `interface "${name}" is the VM's primary network: with its link down, readiness and liveness probes fail and services stop reaching the VM`);
  }
  runningNote(facts, notes, 'the VM is not running: the link state applies at its next start');
  const ops: JsonPatchOp[] = [
    { op: 'test', path: pointer(...IFACES, index), value: iface },
    { op: 'add', path: pointer(...IFACES, index, 'state'), value: state },
  ];
  return { ops, summary: `set link ${state} on interface ${name}`, warnings, notes };
}

/**
 * A fleet's hotplug add is re-runnable: the interface has one name on every VM (--name, else the
 * name derived from the NAD, never a suffixed one), and a VM that already has it on the same NAD
 * (not being unplugged) is unchanged. Any other use of the name is refused by planHotplug.
 */
export function planHotplugOnce(vm: VirtualMachine, req: HotplugRequest, facts: ClusterFacts = {}): EditPlan & { interfaceName: string } {
  const ns = vm.metadata.namespace ?? 'default';
  const nadRef = splitNadName(req.network.trim(), ns);
  const name = req.name ?? defaultInterfaceName(nadRef.name);
  const spec = templateSpec(vm);
  const iface = interfacesOf(spec).find((i) => i.name === name);
  const net = networksOf(spec).find((n) => n.name === name);
  const onNad = net?.multus?.networkName !== undefined && splitNadName(net.multus.networkName, ns);
  if (iface && iface.state !== 'absent' && onNad && onNad.namespace === nadRef.namespace && onNad.name === nadRef.name) {
    return { ops: [], summary: `interface ${name} is already on NetworkAttachmentDefinition ${nadRef.namespace}/${nadRef.name}`, warnings: [], notes: [], noop: true, interfaceName: name };
  }
  return planHotplug(vm, { ...req, name }, facts);
}

/**
 * A fleet's hotplug remove is re-runnable: a VM whose template has no interface of that name
 * (KubeVirt removed it after an earlier run, or it never had one) is unchanged.
 */
export function planUnplugOnce(vm: VirtualMachine, req: { name: string }, facts: ClusterFacts = {}): EditPlan {
  const spec = templateSpec(vm);
  if (!findInterface(vm, req.name) && !(req.name === 'default' && hasImplicitDefaultNetwork(spec))) {
    return { ops: [], summary: `interface ${req.name} is not on the VM (nothing to unplug)`, warnings: [], notes: [], noop: true };
  }
  return planUnplug(vm, req, facts);
}
