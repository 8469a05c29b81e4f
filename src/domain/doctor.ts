/**
 * `kubectl vnet doctor VM`: every check the tool knows, run against what was
 * read about one VM. Each check returns one or more results (ok, warn or
 * fail) with a message and, when something is off, the fix.
 *
 * The checks reuse the other modules' analysis rather than repeating it:
 * NAD/CNI analysis from nad.ts, KubeVirt CR reading from kubevirt-config.ts,
 * slot estimates from hotplug.ts, MAC parsing and collisions from mac.ts,
 * annotation codecs from netconf.ts and hooks.ts, the interface join from
 * status.ts, the spec and annotation rules from desired.ts, and kubemacpool
 * coverage from macpool.ts. What no other module had lives here: which
 * binding is allowed on which kind of network, multus default networks,
 * and the multus dynamic networks controller check.
 *
 * Pure functions; nothing here talks to a cluster.
 */
import { HOTPLUG_ERROR_REASON, type KubeEvent } from './network-events.js';
import { desiredNetworkView } from './desired.js';
import { HOOK_SIDECARS_ANNOTATION } from './hooks.js';
import { estimateInterfaceSlots } from './hotplug.js';
import { bindingAdmission, bindingFix, defaultPodInterface, hasFeatureGate, hookSidecarsDeprecated, kubevirtVersion, liveMigrateEnabled, nicHotplugSupport, versionAtLeast, vmRolloutStrategy } from './kubevirt-config.js';
import { describeMacUse, findCollisions, normaliseMac, type MacUse } from './mac.js';
import { interfaceCollisions, type CollisionEvent } from './mac-list.js';
import { macInRange, macpoolCoverage, type MacpoolView, type NamespaceLike } from './macpool.js';
import { analyzeNad, checkKubeOvnNad, type KubeOvnSubnet } from './nad.js';
import { NETCONF_ANNOTATION, parseNetconfAnnotation } from './netconf.js';
import { joinVMNetworkStatus, restartRequiredNote, type VMNetworkStatus } from './status.js';
import type { KubeVirtCR, NetworkAttachmentDefinition, Pod, VirtualMachine, VirtualMachineInstance, VMInterface, VMNetwork } from './types.js';
import {
  bindingKeysOf,
  bindingOf,
  hasImplicitDefaultNetwork,
  interfacesOf,
  isPrimaryNetwork,
  networkRefOf,
  networksOf,
  pluginNameOf,
  vmWantsToRun,
} from './vmspec.js';

export type CheckResult = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  /** Stable check name, e.g. "nad-exists"; a check about several interfaces gives one entry per interface. */
  id: string;
  result: CheckResult;
  message: string;
  /** What to do; null when nothing is to be done. */
  fix: string | null;
}

export interface DoctorReport {
  kind: 'DoctorReport';
  namespace: string;
  name: string;
  checks: DoctorCheck[];
}

/** A multus dynamic networks controller DaemonSet, as found. */
export interface DynamicNetworksController {
  namespace: string;
  name: string;
  desired: number;
  ready: number;
}

export type Lookup<T> = { state: 'found'; value: T } | { state: 'absent'; message?: string } | { state: 'unreadable'; message: string };

/** Everything the doctor looks at, as read. `undefined` parts were not read. */
export interface DoctorFacts {
  vm: VirtualMachine;
  /** null: the VM does not run. */
  vmi: VirtualMachineInstance | null;
  vmiUnreadable?: string;
  /** The VMI's launcher pods. */
  pods: readonly Pod[];
  podsUnreadable?: string;
  /** NADs by "ns/name": the object, or null when it does not exist. Missing keys were not readable. */
  nads: ReadonlyMap<string, NetworkAttachmentDefinition | null>;
  /** Why the NADs of a namespace could not be read, by namespace. */
  nadsUnreadable?: Readonly<Record<string, string>>;
  subnets?: readonly KubeOvnSubnet[];
  subnetsUnreadable?: string;
  kubevirt: Lookup<KubeVirtCR>;
  dynamicNetworks: Lookup<DynamicNetworksController[]>;
  /** Every MAC claimed by readable VMs and VMIs; partial says what could not be read. */
  macUses?: { uses: readonly MacUse[]; partial?: string };
  macUsesUnreadable?: string;
  /** kubemacpool's MACCollision events on the VM's VMI (v0.51+); undefined when not read. */
  collisionEvents?: readonly CollisionEvent[];
  collisionEventsUnreadable?: string;
  macpool: { view: MacpoolView; namespace: NamespaceLike | null };
  /** The dynamic networks controller's events of the VM's namespace; undefined: not read (eventsUnreadable says why). */
  events?: readonly KubeEvent[];
  eventsUnreadable?: string;
  /** Now, for the age of an event (ms since the epoch). */
  now?: number;
}

const ok = (id: string, message: string): DoctorCheck => ({ id, result: 'ok', message, fix: null });
const warn = (id: string, message: string, fix: string): DoctorCheck => ({ id, result: 'warn', message, fix });
const fail = (id: string, message: string, fix: string): DoctorCheck => ({ id, result: 'fail', message, fix });

interface Pair {
  name: string;
  iface?: VMInterface;
  net?: VMNetwork;
}

/** The VM template's interfaces and networks, with the implicit default written out. */
function templatePairs(vm: VirtualMachine, kubevirt?: KubeVirtCR): Pair[] {
  const spec = vm.spec?.template?.spec;
  if (hasImplicitDefaultNetwork(spec)) {
    const d = defaultPodInterface(kubevirt);
    return [{ name: 'default', iface: d.iface, net: d.network }];
  }
  const pairs = new Map<string, Pair>();
  for (const i of interfacesOf(spec)) if (i && typeof i.name === 'string') pairs.set(i.name, { ...(pairs.get(i.name) ?? { name: i.name }), iface: i });
  for (const n of networksOf(spec)) if (n && typeof n.name === 'string') pairs.set(n.name, { ...(pairs.get(n.name) ?? { name: n.name }), net: n });
  return [...pairs.values()];
}

function vmNamespace(vm: VirtualMachine): string {
  return vm.metadata.namespace ?? 'default';
}

function templateAnnotations(vm: VirtualMachine): Record<string, string> {
  return vm.spec?.template?.metadata?.annotations ?? {};
}

// ---------------------------------------------------------------------------
// Spec checks: KubeVirt's admission rules and the annotation formats. The
// rules that need no cluster come from desired.ts (desiredNetworkView, the
// offline view of a manifest); each of its warning codes is mapped to a check
// and a result here. What it does not cover (which binding is allowed on
// which kind of network, multus default networks, unplug of the primary,
// annotations on the VM's own metadata) is checked below.

interface SpecRule {
  id: 'interfaces-networks' | 'bindings' | 'annotations';
  result: CheckResult;
  fix: string;
}

const SPEC_RULES: Record<string, SpecRule> = {
  'invalid-name': { id: 'interfaces-networks', result: 'fail', fix: 'rename the interface and its network (letters, digits, "-" and "_" only)' },
  'duplicate-name': { id: 'interfaces-networks', result: 'fail', fix: 'give every interface and every network a unique name (kubectl edit vm)' },
  'interface-without-network': { id: 'interfaces-networks', result: 'fail', fix: 'add a network of the same name to spec.template.spec.networks, or remove the interface' },
  'network-without-interface': { id: 'interfaces-networks', result: 'fail', fix: 'add an interface of the same name to spec.template.spec.domain.devices.interfaces, or remove the network' },
  'network-source': { id: 'bindings', result: 'fail', fix: 'give each network exactly one source: pod: {} (once), multus: {networkName: [ns/]nad} or resourceClaim: {claimName, requestName}' },
  'binding-count': { id: 'bindings', result: 'fail', fix: 'keep exactly one binding per interface' },
  'invalid-state': { id: 'bindings', result: 'fail', fix: 'use state absent only on secondary bridge interfaces and up/down not on SR-IOV, or remove the state' },
  'invalid-model': { id: 'bindings', result: 'fail', fix: 'use one of e1000, e1000e, igb, ne2k_pci, pcnet, rtl8139, virtio' },
  'invalid-mac': { id: 'bindings', result: 'fail', fix: 'set a unicast MAC such as 02:xx:xx:xx:xx:xx (kubectl vnet mac set)' },
  'duplicate-mac': { id: 'bindings', result: 'warn', fix: 'give each interface its own MAC (kubectl vnet mac set)' },
  'malformed-annotation': { id: 'annotations', result: 'fail', fix: 'fix it with kubectl vnet mac set/unset, or correct or remove the annotation in spec.template.metadata.annotations' },
  'netconf-unknown-interface': { id: 'annotations', result: 'warn', fix: 'remove the entry (kubectl vnet mac unset VM IFACE --via netconf)' },
  'netconf-without-sidecar': { id: 'annotations', result: 'warn', fix: 'kubectl vnet mac set VM IFACE MAC --via netconf adds the netconf sidecar' },
};

/** desiredNetworkView's codes for the version-keyed binding rules (see checkBindingSupport). */
const VERSIONED_BINDING_CODES = new Set(['binding-rejected', 'binding-version', 'binding-missing']);

/** desiredNetworkView's findings as doctor checks of one id. */
function specFindings(vm: VirtualMachine, id: SpecRule['id']): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  for (const w of desiredNetworkView(vm, `${vmNamespace(vm)}/${vm.metadata.name}`).warnings) {
    // Binding support depends on the KubeVirt version: checkBindingSupport decides it with the cluster's.
    if (VERSIONED_BINDING_CODES.has(w.code)) continue;
    let rule: SpecRule = SPEC_RULES[w.code] ?? { id: 'bindings', result: 'warn', fix: 'check the VM spec (kubectl vnet status -f FILE --local shows it)' };
    // An invalid MAC in the netconf annotation is an annotation problem (the sidecar does not validate it).
    if (w.code === 'invalid-mac' && /netconf MAC/.test(w.message)) rule = { ...rule, id: 'annotations', fix: 'kubectl vnet mac set VM IFACE MAC --via netconf, with a unicast MAC' };
    if (rule.id !== id) continue;
    const result = rule.result;
    const fix = rule.fix.replaceAll('VM IFACE', `${vm.metadata.name} IFACE`);
    out.push(result === 'warn' ? warn(id, w.message, fix) : fail(id, w.message, fix));
  }
  return out;
}

/** Every interface has a network of the same name and the reverse; names valid and unique. */
export function checkInterfacesNetworks(vm: VirtualMachine): DoctorCheck[] {
  const id = 'interfaces-networks';
  const out = specFindings(vm, id);
  if (out.length > 0) return out;
  const spec = vm.spec?.template?.spec;
  if (hasImplicitDefaultNetwork(spec)) return [ok(id, 'no interfaces or networks: the VM gets the implicit default pod network')];
  return [ok(id, `${interfacesOf(spec).length} interface(s), each with its network`)];
}

/** Bindings allowed on their networks, one source per network, MACs and models valid, states allowed. */
export function checkBindings(vm: VirtualMachine): DoctorCheck[] {
  const id = 'bindings';
  const out = specFindings(vm, id);
  const ns = vmNamespace(vm);
  const pairs = templatePairs(vm);
  const podNets = pairs.filter((p) => p.net?.pod !== undefined);
  const multusDefaults = pairs.filter((p) => p.net?.multus?.default);
  if (multusDefaults.length > 1) out.push(fail(id, `more than one multus default network (${multusDefaults.map((p) => p.name).join(', ')})`, 'keep one multus default network'));
  if (podNets.length > 0 && multusDefaults.length > 0) out.push(fail(id, 'a pod network and a multus default network together', 'use either the pod network or a multus default network as the primary'));
  for (const p of pairs) {
    const i = p.iface;
    const n = p.net;
    if (!i || !n || bindingKeysOf(i).length > 1) continue;
    const binding = bindingOf(i);
    const onPod = n.pod !== undefined;
    if ((binding === 'masquerade' || binding === 'passt' || binding === 'passtBinding' || binding === 'slirp') && !onPod) {
      out.push(fail(id, `interface "${p.name}" uses ${binding} binding on ${networkRefOf(n, ns).nad ?? 'a non-pod network'}: ${binding} works only on the pod network`, 'use bridge binding for a multus network'));
    }
    if ((binding === 'sriov' || binding === 'macvtap') && onPod) out.push(fail(id, `interface "${p.name}" uses ${binding} binding on the pod network`, `${binding} needs a multus network (a NAD)`));
    // desired.ts refuses absent on non-bridge bindings; a bridge interface on the primary network is left to this check.
    if (i.state === 'absent' && binding === 'bridge' && isPrimaryNetwork(n)) out.push(fail(id, `interface "${p.name}" is absent (being unplugged) but on the primary network: KubeVirt does not unplug default networks`, 'remove the state'));
  }
  if (out.length === 0) out.push(ok(id, 'every binding is allowed on its network'));
  return out;
}

/**
 * Each interface's binding against the cluster's KubeVirt version: the
 * discontinued core bindings (slirp, macvtap, the old passt key), passtBinding
 * (v1.8+, PasstBinding gate), no binding (rejected from v1.9), and network
 * binding plugins by name.
 */
export function checkBindingSupport(facts: DoctorFacts): DoctorCheck[] {
  const id = 'binding-support';
  const cr = kubevirtCR(facts);
  const version = kubevirtVersion(cr);
  const out: DoctorCheck[] = [];
  const plugins: string[] = [];
  if (hasImplicitDefaultNetwork(facts.vm.spec?.template?.spec)) return [ok(id, 'the implicit default pod network gets KubeVirt\'s default binding')];
  for (const p of templatePairs(facts.vm, cr)) {
    if (!p.iface || bindingKeysOf(p.iface).length > 1) continue;
    const binding = bindingOf(p.iface);
    const plugin = pluginNameOf(binding);
    if (plugin) {
      plugins.push(`${p.name} (${plugin})`);
      continue;
    }
    const a = bindingAdmission(binding, version);
    const what = `interface "${p.name}"${binding === '' ? ' has no binding' : ''}`;
    if (a.admitted === false) out.push(fail(id, `${what}: ${a.reason}`, bindingFix(binding)));
    else if (a.admitted === 'unknown') out.push(warn(id, `${what}: ${a.reason}; the KubeVirt version is not known here`, bindingFix(binding)));
    else if (binding === '') out.push(warn(id, `${what}: ${a.reason}`, bindingFix(binding)));
    else if (binding === 'passtBinding' && cr && !hasFeatureGate(cr, 'PasstBinding')) {
      out.push(fail(id, `interface "${p.name}" uses passtBinding, but the PasstBinding feature gate is not enabled: admission rejects the VM`, 'add "PasstBinding" to spec.configuration.developerConfiguration.featureGates of the KubeVirt CR, or use masquerade'));
    }
  }
  if (out.length === 0) {
    const base = version ? `every binding is one KubeVirt ${version.raw} admits` : 'no binding that depends on the KubeVirt version';
    out.push(ok(id, plugins.length > 0 ? `${base}; network binding plugins: ${plugins.join(', ')}` : base));
  }
  return out;
}

/** The netconf and hookSidecars annotations are well-formed, sit where KubeVirt reads them, and fit the interfaces. */
export function checkAnnotations(vm: VirtualMachine): DoctorCheck[] {
  const id = 'annotations';
  const tpl = templateAnnotations(vm);
  const meta = vm.metadata.annotations ?? {};
  const out: DoctorCheck[] = [];
  for (const key of [NETCONF_ANNOTATION, HOOK_SIDECARS_ANNOTATION]) {
    if (meta[key] !== undefined && tpl[key] === undefined) {
      out.push(warn(id, `annotation ${key} is on the VM's metadata, where KubeVirt does not read it`, 'move it to spec.template.metadata.annotations (kubectl vnet mac set does)'));
    }
  }
  out.push(...specFindings(vm, id));
  if (out.length === 0) out.push(ok(id, tpl[NETCONF_ANNOTATION] !== undefined || tpl[HOOK_SIDECARS_ANNOTATION] !== undefined ? 'netconf and hookSidecars annotations are well-formed' : 'no netconf or hookSidecars annotations'));
  return out;
}

// ---------------------------------------------------------------------------
// NADs and CNI.

interface MultusPair {
  name: string;
  iface?: VMInterface;
  nad: string;
}

function multusPairs(vm: VirtualMachine): MultusPair[] {
  const ns = vmNamespace(vm);
  const out: MultusPair[] = [];
  for (const p of templatePairs(vm)) {
    const ref = networkRefOf(p.net, ns);
    if (ref.kind === 'multus' && ref.nad) out.push({ name: p.name, iface: p.iface, nad: ref.nad });
  }
  return out;
}

function nadLookup(facts: DoctorFacts, ref: string): { nad?: NetworkAttachmentDefinition | null; unreadable?: string } {
  if (facts.nads.has(ref)) return { nad: facts.nads.get(ref) };
  const ns = ref.slice(0, ref.indexOf('/'));
  return { unreadable: facts.nadsUnreadable?.[ns] ?? 'not read' };
}

/** Every multus network's NAD exists and has a usable config. */
export function checkNads(facts: DoctorFacts): DoctorCheck[] {
  const id = 'nad-exists';
  const pairs = multusPairs(facts.vm);
  if (pairs.length === 0) return [ok(id, 'no multus networks')];
  return pairs.map((p) => {
    const { nad, unreadable } = nadLookup(facts, p.nad);
    if (unreadable !== undefined) return warn(id, `interface "${p.name}": NetworkAttachmentDefinition ${p.nad} could not be read (${unreadable})`, `check with: kubectl get network-attachment-definitions -n ${p.nad.split('/')[0]}`);
    if (!nad) return fail(id, `interface "${p.name}": NetworkAttachmentDefinition ${p.nad} not found`, `create it, or point the network at an existing NAD (kubectl get network-attachment-definitions -n ${p.nad.split('/')[0]})`);
    const a = analyzeNad(nad);
    if (a.configError && a.types.length === 0 && !/empty/.test(a.configError)) return fail(id, `interface "${p.name}": NetworkAttachmentDefinition ${p.nad}: ${a.configError}`, 'fix spec.config of the NAD');
    if (a.configError) return warn(id, `interface "${p.name}": NetworkAttachmentDefinition ${p.nad}: ${a.configError}`, 'check the CNI configuration file on the nodes');
    return ok(id, `interface "${p.name}": NetworkAttachmentDefinition ${p.nad} exists (CNI ${a.types.join(' + ')})`);
  });
}

/** The CNI type fits the binding: no macvlan/ipvlan under bridge, SR-IOV NAD for sriov binding. */
export function checkCniBinding(facts: DoctorFacts): DoctorCheck[] {
  const id = 'cni-binding';
  const out: DoctorCheck[] = [];
  for (const p of multusPairs(facts.vm)) {
    const nad = nadLookup(facts, p.nad).nad;
    if (!nad || !p.iface) continue;
    const a = analyzeNad(nad);
    const binding = bindingOf(p.iface);
    if (!a.mainType) continue;
    if (binding === 'bridge' && a.bridgeBindingProblem) out.push(fail(id, `interface "${p.name}" (bridge) on ${p.nad}: ${a.bridgeBindingProblem}`, 'use a bridge or OVS NAD for bridge binding'));
    else if (binding === 'bridge' && a.mainType === 'sriov') out.push(fail(id, `interface "${p.name}" uses bridge binding on the SR-IOV network ${p.nad}`, 'use sriov: {} binding on SR-IOV networks'));
    else if (binding === 'sriov' && a.mainType !== 'sriov') out.push(fail(id, `interface "${p.name}" uses sriov binding on ${p.nad}, whose CNI is ${a.mainType}`, 'use an SR-IOV NAD, or bridge binding'));
    else out.push(ok(id, `interface "${p.name}": ${binding || 'no'} binding on CNI ${a.mainType}`));
  }
  return out.length > 0 ? out : [ok(id, 'no multus interfaces with a readable NAD')];
}

/** netconf MACs by interface name (valid annotations only). */
function netconfMacs(vm: VirtualMachine): Map<string, string> {
  const m = new Map<string, string>();
  const nc = parseNetconfAnnotation(templateAnnotations(vm)[NETCONF_ANNOTATION]);
  if (nc.ok) for (const e of nc.entries) m.set(e.name, e.macAddress);
  return m;
}

/** A spec MAC on a multus interface needs a CNI that applies it (native ovs/bridge, tuning-chained flannel/ptp, sriov). */
export function checkCustomMac(facts: DoctorFacts): DoctorCheck[] {
  const id = 'custom-mac';
  const out: DoctorCheck[] = [];
  for (const p of multusPairs(facts.vm)) {
    if (!p.iface?.macAddress) continue;
    const nad = nadLookup(facts, p.nad).nad;
    if (!nad) continue;
    const s = analyzeNad(nad).customMac;
    if (s.supported === 'yes') out.push(ok(id, `interface "${p.name}": MAC ${p.iface.macAddress} on ${p.nad}: ${s.reason}`));
    else if (s.supported === 'no') out.push(fail(id, `interface "${p.name}": MAC ${p.iface.macAddress} on ${p.nad} will not take effect: ${s.reason}`, s.fix ?? 'use a CNI that sets MACs (bridge, ovs) or chain the tuning plugin'));
    else out.push(warn(id, `interface "${p.name}": MAC ${p.iface.macAddress} on ${p.nad}: ${s.reason}`, 'check that the CNI plugin honours the mac capability, or chain the tuning plugin'));
  }
  return out.length > 0 ? out : [ok(id, 'no spec MAC on a multus interface')];
}

/** A netconf MAC (set in the guest only) on a network with MAC spoof checking is dropped. */
export function checkSpoofCheck(facts: DoctorFacts): DoctorCheck[] {
  const id = 'spoof-check';
  const nc = netconfMacs(facts.vm);
  const out: DoctorCheck[] = [];
  for (const p of multusPairs(facts.vm)) {
    const nad = nadLookup(facts, p.nad).nad;
    if (!nad) continue;
    const sc = analyzeNad(nad).spoofCheck;
    const mac = nc.get(p.name);
    if (mac && sc.enabled) {
      out.push(fail(id, `interface "${p.name}": netconf MAC ${mac} on ${p.nad}, which has ${sc.setting} on: the CNI never learns that MAC and drops the guest's frames`, `set the MAC in the VM spec instead (kubectl vnet mac set ${facts.vm.metadata.name} ${p.name} ${mac} --via spec), or turn spoof checking off in the NAD`));
    } else if (mac) out.push(ok(id, `interface "${p.name}": netconf MAC on ${p.nad}, no spoof checking`));
  }
  return out.length > 0 ? out : [ok(id, 'no netconf MAC on a multus interface')];
}

/** A Kube-OVN NAD is served by a Ready Subnet with provider <nad>.<ns>.ovn. */
export function checkKubeOvn(facts: DoctorFacts): DoctorCheck[] {
  const id = 'kube-ovn-subnet';
  const out: DoctorCheck[] = [];
  for (const p of multusPairs(facts.vm)) {
    const nad = nadLookup(facts, p.nad).nad;
    if (!nad || !analyzeNad(nad).kubeOvn) continue;
    if (!facts.subnets) {
      out.push(warn(id, `interface "${p.name}": Kube-OVN NAD ${p.nad}, but the Subnets could not be read (${facts.subnetsUnreadable ?? 'not read'})`, 'check with: kubectl get subnets.kubeovn.io'));
      continue;
    }
    const k = checkKubeOvnNad(nad, facts.subnets, facts.vm.spec?.template?.metadata?.annotations);
    if (k.problem) out.push(fail(id, `interface "${p.name}": ${p.nad}: ${k.problem}`, k.fix ?? ''));
    else if (k.warning) out.push(warn(id, `interface "${p.name}": ${p.nad}: ${k.warning}`, k.providerMismatch ? `set "provider": "${k.provider}" in the NAD` : `check the Subnet: kubectl describe subnet ${k.subnets.map((s) => s.metadata.name).join(' ')}`));
    else out.push(ok(id, `interface "${p.name}": Subnet ${k.subnets.map((s) => s.metadata.name).join(', ')} serves provider ${k.provider}`));
  }
  return out.length > 0 ? out : [ok(id, 'no Kube-OVN networks')];
}

// ---------------------------------------------------------------------------
// KubeVirt.

function kubevirtCR(facts: DoctorFacts): KubeVirtCR | undefined {
  return facts.kubevirt.state === 'found' ? facts.kubevirt.value : undefined;
}

/** The warning of a KubeVirt-CR check that could not run: KubeVirt absent, or the CR not readable. */
function kubevirtSkipped(facts: DoctorFacts, id: string, what: string): DoctorCheck {
  if (facts.kubevirt.state === 'absent') return warn(id, `KubeVirt is not installed: ${what} not checked`, 'install KubeVirt');
  return warn(id, `the KubeVirt CR was not read: ${what} not checked`, 'run doctor with read access to kubevirts.kubevirt.io');
}

export function checkKubeVirtVersion(facts: DoctorFacts): DoctorCheck[] {
  const id = 'kubevirt-version';
  const k = facts.kubevirt;
  if (k.state === 'absent') return [fail(id, `KubeVirt is not installed${k.message ? ` (${k.message})` : ''}: nothing runs this VM`, 'install KubeVirt (a KubeVirt CR in the cluster)')];
  if (k.state === 'unreadable') return [warn(id, `the KubeVirt CR could not be read (${k.message}); version and feature gate checks are skipped`, 'ask for read access to kubevirts.kubevirt.io, or run doctor as a cluster admin')];
  const v = kubevirtVersion(k.value);
  if (!v) return [warn(id, `KubeVirt CR ${k.value.metadata.name} reports no version yet (status.observedKubeVirtVersion)`, 'wait for KubeVirt to finish deploying (kubectl get kubevirt -A)')];
  if (!versionAtLeast(v, '1.1')) return [warn(id, `KubeVirt ${v.raw}: NIC hot-plug by editing the VM exists from v1.1 (v1.0 had virtctl addinterface)`, 'upgrade KubeVirt')];
  return [ok(id, `KubeVirt ${v.raw}`)];
}

/** Sidecar when hook annotations are used; HotplugNICs before v1.4. */
export function checkFeatureGates(facts: DoctorFacts): DoctorCheck[] {
  const id = 'feature-gates';
  const cr = kubevirtCR(facts);
  if (!cr) return [kubevirtSkipped(facts, id, 'feature gates')];
  const out: DoctorCheck[] = [];
  const tpl = templateAnnotations(facts.vm);
  if (tpl[HOOK_SIDECARS_ANNOTATION] !== undefined) {
    if (hasFeatureGate(cr, 'Sidecar')) out.push(ok(id, 'hook sidecars are used and the Sidecar feature gate is enabled'));
    else out.push(fail(id, `the VM uses ${HOOK_SIDECARS_ANNOTATION}, but the Sidecar feature gate is not enabled: admission rejects the VM`, 'add "Sidecar" to spec.configuration.developerConfiguration.featureGates of the KubeVirt CR'));
  }
  const hp = nicHotplugSupport(cr);
  if (hp.supported === false) out.push(warn(id, hp.reason, 'add "HotplugNICs" to spec.configuration.developerConfiguration.featureGates, or upgrade to KubeVirt v1.4+'));
  else if (hp.supported === 'unknown') out.push(warn(id, hp.reason, 'wait for KubeVirt to report its version'));
  if (out.length === 0) out.push(ok(id, hp.reason));
  return out;
}

/** Hook sidecars (the netconf MAC way among them) are deprecated from KubeVirt v1.9: say so, with the spec way for netconf MACs. */
export function checkHookSidecars(facts: DoctorFacts): DoctorCheck[] {
  const id = 'hook-sidecars';
  const tpl = templateAnnotations(facts.vm);
  if (tpl[HOOK_SIDECARS_ANNOTATION] === undefined) return [ok(id, 'no hook sidecars')];
  const version = kubevirtVersion(kubevirtCR(facts));
  const name = facts.vm.metadata.name;
  const macs = [...netconfMacs(facts.vm)];
  const fix =
    macs.length > 0
      ? `set the MACs in the VM spec, which kubemacpool and KubeVirt see and which needs no sidecar: ${macs.map(([iface, mac]) => `kubectl vnet mac set ${name} ${iface} ${mac} --via spec`).join('; ')}; then kubectl vnet mac unset ${name} IFACE --via netconf for each`
      : 'move the sidecars to the Plugins CRD (plugin.kubevirt.io, alpha) when it fits, or keep them while the Sidecar gate lasts';
  if (hookSidecarsDeprecated(version)) {
    return [warn(id, `the VM uses hook sidecars, which KubeVirt ${version!.raw} deprecates (the Plugins CRD, alpha, replaces them; the Sidecar gate is still alpha)${macs.length > 0 ? `; its MACs are set through the netconf sidecar (${macs.map(([i]) => i).join(', ')})` : ''}`, fix)];
  }
  if (!version) return [warn(id, 'the VM uses hook sidecars, deprecated from KubeVirt v1.9; the KubeVirt version is not known here', fix)];
  return [ok(id, `the VM uses hook sidecars (KubeVirt ${version.raw}; they are deprecated from v1.9)`)];
}

export function checkRolloutStrategy(facts: DoctorFacts): DoctorCheck[] {
  const id = 'rollout-strategy';
  const cr = kubevirtCR(facts);
  if (!cr) return [kubevirtSkipped(facts, id, 'the rollout strategy')];
  const rs = vmRolloutStrategy(cr);
  if (rs.value === 'LiveUpdate') return [ok(id, `vmRolloutStrategy LiveUpdate${rs.explicit ? '' : ' (the default from v1.6)'}: interface changes reach running VMs`)];
  return [warn(id, `vmRolloutStrategy is ${rs.value}${rs.explicit ? '' : ' (unset: the default before v1.6)'}: a running VM gets interface changes only after a restart`, 'set spec.configuration.vmRolloutStrategy: LiveUpdate in the KubeVirt CR')];
}

export function checkWorkloadUpdate(facts: DoctorFacts): DoctorCheck[] {
  const id = 'workload-update';
  const cr = kubevirtCR(facts);
  if (!cr) return [kubevirtSkipped(facts, id, 'workload update methods')];
  if (liveMigrateEnabled(cr)) return [ok(id, 'workloadUpdateMethods includes LiveMigrate: plugs that need a migration (SR-IOV, no dynamic networks controller) happen')];
  const sriov = templatePairs(facts.vm).some((p) => p.iface && bindingOf(p.iface) === 'sriov');
  return [
    warn(
      id,
      `workloadUpdateMethods lacks LiveMigrate: interfaces that need a migration to be plugged${sriov ? ' (this VM has SR-IOV interfaces)' : ''} wait until a restart`,
      'add LiveMigrate to spec.workloadUpdateStrategy.workloadUpdateMethods of the KubeVirt CR',
    ),
  ];
}

// ---------------------------------------------------------------------------
// The running VM.

function joinStatus(facts: DoctorFacts): VMNetworkStatus {
  return joinVMNetworkStatus({ vm: facts.vm, vmi: facts.vmi, pods: facts.pods, kubevirt: kubevirtCR(facts), podsUnreadable: facts.podsUnreadable, events: facts.events, now: facts.now });
}

/**
 * Why a plug, unplug or NAD change did not happen: the dynamic networks controller's
 * failure events on the launcher pod, KubeVirt's failed sync of the VMI's interfaces
 * (VM Failure, HotPlugNetworkInterfaceError), and a NAD change still under way.
 */
export function checkInterfaceFailures(facts: DoctorFacts, status: VMNetworkStatus = joinStatus(facts)): DoctorCheck[] {
  const id = 'interface-failures';
  const name = facts.vm.metadata.name;
  const out: DoctorCheck[] = [];
  for (const w of status.warnings) {
    if (w.code === 'interface-failed') {
      out.push(fail(id, w.message, `check the NAD the interface names exists and its CNI works on the node (kubectl describe pod ${status.launcherPod ?? 'the virt-launcher pod'}); then unplug and plug it again, or restart the VM`));
    } else if (w.code === 'hotplug-error') {
      out.push(fail(id, w.message, `KubeVirt retries the sync; if it keeps failing, compare the VM's interfaces with the VMI's (kubectl get vmi ${name} -o yaml) and undo the last interface edit`));
    } else if (w.code === 'nad-change-pending') {
      out.push(warn(id, w.message, `follow it with kubectl vnet status ${name}; a change that waits for a restart applies with virtctl restart ${name}`));
    }
  }
  if (facts.eventsUnreadable) out.push(warn(id, `the events of the namespace could not be read (${facts.eventsUnreadable}): failed attachments not checked`, 'run doctor with read access to events'));
  if (out.length === 0) out.push(ok(id, facts.vmi ? 'no failed attachment, failed interface sync or pending NAD change' : 'the VM is not running: nothing attached to check'));
  return out;
}

/** In-place plugs need the multus dynamic networks controller; without it a plug waits for a migration. */
export function checkDynamicNetworks(facts: DoctorFacts, status: VMNetworkStatus = joinStatus(facts)): DoctorCheck[] {
  const id = 'dynamic-networks-controller';
  // Plugs in flight: in the running VMI's spec (KubeVirt propagated them), not yet in the domain.
  // An interface only in the VM template waits for KubeVirt (rollout strategy), not for Multus.
  const inVMISpec = new Set(interfacesOf(facts.vmi?.spec).map((i) => i.name));
  const waiting = status.interfaces.filter((i) => (i.state === 'pending' || i.state === 'attaching') && i.binding === 'bridge' && i.network !== 'pod' && status.running && inVMISpec.has(i.name));
  const d = facts.dynamicNetworks;
  const names = waiting.map((i) => i.name).join(', ');
  if (d.state === 'unreadable') {
    return [warn(id, `cannot tell whether the multus dynamic networks controller runs (${d.message})${waiting.length > 0 ? `; interface(s) ${names} wait for their pod attachment` : ''}`, 'check with: kubectl get daemonsets -A | grep dynamic-networks')];
  }
  const found = d.state === 'found' ? d.value : [];
  const ready = found.filter((c) => c.ready > 0);
  if (ready.length > 0) {
    return [ok(id, `multus dynamic networks controller runs (${ready.map((c) => `${c.namespace}/${c.name} ${c.ready}/${c.desired}`).join(', ')})${waiting.length > 0 ? `; interface(s) ${names} are being attached` : ''}`)];
  }
  const what = found.length > 0 ? `the multus dynamic networks controller (${found.map((c) => `${c.namespace}/${c.name}`).join(', ')}) has no ready pod` : 'no multus dynamic networks controller is installed';
  if (waiting.length === 0) {
    return [warn(id, `${what}: interfaces hot-plugged into a running VM are plugged only through a live migration`, 'install k8snetworkplumbingwg/multus-dynamic-networks-controller (with Multus in thick mode) for in-place plugs')];
  }
  const cr = kubevirtCR(facts);
  if (cr && liveMigrateEnabled(cr)) {
    return [warn(id, `${what}: hot-plugged interface(s) ${names} are plugged through a live migration`, 'install the multus dynamic networks controller for in-place plugs, or wait for the migration')];
  }
  return [fail(id, `${what}, and nothing migrates the VM: hot-plugged interface(s) ${names} stay pending`, 'install the multus dynamic networks controller, add LiveMigrate to the KubeVirt CR\'s workloadUpdateMethods, or restart the VM')];
}

/** Hot-plug slot headroom of the running VM. */
export function checkSlots(facts: DoctorFacts): DoctorCheck[] {
  const id = 'hotplug-slots';
  const spec = facts.vm.spec?.template?.spec;
  const count = hasImplicitDefaultNetwork(spec) ? 1 : interfacesOf(spec).filter((i) => i.state !== 'absent').length;
  if (!facts.vmi) return [ok(id, `the VM is not running: its ${count} interface(s) get slots at the next start`)];
  const cr = kubevirtCR(facts);
  const est = cr ? estimateInterfaceSlots(facts.vm, kubevirtVersion(cr), count) : undefined;
  if (!est) return [warn(id, `cannot estimate hot-plug slots (${cr ? 'KubeVirt version unknown or before v1.1' : facts.kubevirt.state === 'absent' ? 'KubeVirt is not installed' : 'the KubeVirt CR was not read'})`, 'check the KubeVirt version (kubectl vnet version --server)')];
  if (count > est.limit) return [fail(id, `${count} interfaces, above the estimated ${est.limit} the running VM can have (${est.basis})`, 'restart the VM so its slots are laid out anew, or unplug interfaces')];
  if (count === est.limit) return [warn(id, `${count} of about ${est.limit} interfaces: no hot-plug headroom left (${est.basis})`, 'restart the VM before hot-plugging more interfaces')];
  return [ok(id, `${count} of about ${est.limit} interfaces: ${est.limit - count} more can be hot-plugged (${est.basis})`)];
}

/** The MACs this VM wants or has, by interface. */
function vmMacs(facts: DoctorFacts, status: VMNetworkStatus): { iface: string; mac: string; source: string }[] {
  const out: { iface: string; mac: string; source: string }[] = [];
  const seen = new Set<string>();
  const add = (iface: string, raw: string | null | undefined, source: string) => {
    const mac = normaliseMac(raw ?? undefined);
    if (!mac || seen.has(`${iface}/${mac}`)) return;
    seen.add(`${iface}/${mac}`);
    out.push({ iface, mac, source });
  };
  for (const p of templatePairs(facts.vm)) add(p.name, p.iface?.macAddress, 'spec');
  for (const [iface, mac] of netconfMacs(facts.vm)) add(iface, mac, 'netconf');
  for (const i of status.interfaces) if (i.name) add(i.name, i.mac, 'reported');
  return out;
}

export function checkMacCollisions(facts: DoctorFacts, status: VMNetworkStatus = joinStatus(facts)): DoctorCheck[] {
  const id = 'mac-collisions';
  if (!facts.macUses) return [warn(id, `MAC collisions not checked: ${facts.macUsesUnreadable ?? 'VMs and VMIs could not be listed'}`, 'run doctor with read access to virtualmachines and virtualmachineinstances')];
  const self = { namespace: vmNamespace(facts.vm), name: facts.vm.metadata.name };
  const out: DoctorCheck[] = [];
  const macs = vmMacs(facts, status);
  for (const m of macs) {
    const others = findCollisions(m.mac, facts.macUses.uses, { ...self, iface: m.iface });
    const fromEvents = interfaceCollisions({ ...self, iface: m.iface }, [m.mac], { events: facts.collisionEvents })[0];
    const fix = `give one of them another MAC (kubectl vnet mac set ${facts.vm.metadata.name} ${m.iface} <mac>)`;
    if (others.length > 0) {
      const agrees = fromEvents ? '; kubemacpool reports it too (MACCollision event)' : '';
      out.push(fail(id, `interface "${m.iface}": MAC ${m.mac} (${m.source}) is also claimed by ${others.map(describeMacUse).join('; ')} (found by the cross-check${agrees})`, fix));
    } else if (fromEvents) {
      out.push(fail(id, `interface "${m.iface}": MAC ${m.mac} (${m.source}) collides with ${fromEvents.with.join(', ')} (found by kubemacpool: MACCollision event on the VMI)`, fix));
    }
  }
  if (facts.collisionEventsUnreadable) out.push(warn(id, `kubemacpool's MACCollision events were not read (${facts.collisionEventsUnreadable}): collisions come from the cross-check only`, 'run doctor with read access to events in the VM\'s namespace'));
  const partial = facts.macUses.partial ? ` (${facts.macUses.partial})` : '';
  if (out.every((c) => c.result !== 'fail')) {
    if (partial) out.push(warn(id, `no collision among the VMs and VMIs that could be read${partial}`, 'run doctor with cluster-wide read access to VMs and VMIs for a complete check'));
    else out.push(ok(id, macs.length > 0 ? `${macs.length} MAC(s), none claimed by another VM or VMI` : 'the VM sets no MACs and reports none yet'));
  }
  return out;
}

/** kubemacpool's coverage of the namespace, and what it means for this VM's MACs. */
export function checkMacpool(facts: DoctorFacts): DoctorCheck[] {
  const id = 'kubemacpool';
  const { view, namespace } = facts.macpool;
  const cov = macpoolCoverage(view, namespace, 'vms');
  const pairs = templatePairs(facts.vm).filter((p) => p.iface);
  const nc = netconfMacs(facts.vm);
  const withoutMac = pairs.filter((p) => !p.iface!.macAddress && !nc.has(p.name)).map((p) => p.name);
  const ns = vmNamespace(facts.vm);
  if (cov.managed === null) return [warn(id, `cannot tell whether kubemacpool manages VMs in namespace ${ns}: ${cov.reason}`, `ask an administrator, or see kubectl vnet macpool status -n ${ns}`)];
  if (cov.managed === false) {
    if (withoutMac.length === 0) return [ok(id, `kubemacpool does not manage VMs in ${ns} (${cov.reason}); every interface has a fixed MAC`)];
    return [warn(id, `kubemacpool does not manage VMs in ${ns} (${cov.reason}): interface(s) ${withoutMac.join(', ')} have no fixed MAC and get a new random one at each start`, `kubectl vnet macpool opt-in ${ns}${view.installed ? '' : ' (after installing kubemacpool)'}, or set MACs with kubectl vnet mac set`)];
  }
  const out: DoctorCheck[] = [];
  const blocks = view.warnings.find((w) => w.code === 'webhook-blocks' && w.message.includes('mutatevirtualmachines'));
  if (blocks) out.push(fail(id, `kubemacpool manages VMs in ${ns}, but ${blocks.message}`, `check the manager: kubectl get deployment -n ${view.namespace ?? 'kubemacpool-system'} kubemacpool-mac-controller-manager`));
  if (cov.range) {
    for (const [iface, mac] of nc) {
      const m = normaliseMac(mac);
      if (m && macInRange(m, cov.range)) {
        out.push(warn(id, `interface "${iface}": netconf MAC ${m} lies in kubemacpool's range ${cov.range.start}-${cov.range.end}, but kubemacpool does not know netconf MACs and may give it to another VM`, `pick a MAC outside ${cov.range.start}-${cov.range.end} (kubectl vnet mac set ${facts.vm.metadata.name} ${iface} <mac> --via netconf)`));
      }
    }
  }
  if (out.length === 0) out.push(ok(id, `kubemacpool manages VMs in ${ns} (${cov.reason})${cov.range ? `, range ${cov.range.start}-${cov.range.end}` : ''}`));
  return out;
}

const FAILED_PRINTABLE = new Set(['ErrorUnschedulable', 'ErrImagePull', 'ImagePullBackOff', 'CrashLoopBackOff', 'ErrorPvcNotFound', 'ErrorDataVolumeNotFound', 'DataVolumeError', 'Unknown']);

/** The VM's and VMI's conditions, its printable status, and interface states that need attention. */
export function checkConditions(facts: DoctorFacts, status: VMNetworkStatus = joinStatus(facts)): DoctorCheck[] {
  const id = 'vm-conditions';
  const out: DoctorCheck[] = [];
  const name = facts.vm.metadata.name;
  const printable = facts.vm.status?.printableStatus;
  if (typeof printable === 'string' && FAILED_PRINTABLE.has(printable)) out.push(fail(id, `the VM's status is ${printable}`, `kubectl describe vm ${name} and its virt-launcher pod`));
  for (const c of status.conditions) {
    const text = `${c.source === 'VirtualMachine' ? 'VM' : 'VMI'} condition ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;
    // A failed sync of the VMI's interfaces is interface-failures' (with its own fix), not counted twice.
    if (c.type === 'Failure' && c.status === 'True' && c.reason !== HOTPLUG_ERROR_REASON) out.push(fail(id, text, `kubectl describe vm ${name}`));
    else if (c.type === 'RestartRequired' && c.status === 'True') out.push(warn(id, text + restartRequiredNote({ kubevirt: kubevirtCR(facts), vm: facts.vm, vmi: facts.vmi, interfaces: status.interfaces, warnings: status.warnings }), `restart the VM to apply the pending changes (virtctl restart ${name})`));
    else if (c.type === 'MigrationRequired' && c.status === 'True') out.push(warn(id, text, 'a migration is needed to apply the change: check workloadUpdateMethods and the migration (kubectl get vmim)'));
    else if (c.type === 'Ready' && c.status === 'False' && c.source === 'VirtualMachine' && vmWantsToRun(facts.vm)) out.push(warn(id, text, `kubectl describe vm ${name}`));
  }
  for (const i of status.interfaces) {
    if (i.state === 'stale') out.push(warn(id, `interface "${i.name}" is still in the running VMI but no longer in the VM: it was removed instead of unplugged`, `restart the VM, or add it back and unplug it (kubectl vnet hotplug remove ${name} ${i.name})`));
  }
  for (const w of status.warnings) {
    if (w.code === 'mac-mismatch') out.push(warn(id, w.message, `stop and start the VM (virtctl restart ${name})`));
  }
  if (facts.vmiUnreadable) out.push(warn(id, `the VMI could not be read (${facts.vmiUnreadable}): running state not checked`, 'run doctor with read access to virtualmachineinstances'));
  if (out.length === 0) out.push(ok(id, facts.vmi ? `VMI ${status.phase ?? 'present'}; no condition needs attention` : `the VM is ${printable ?? 'not running'}; no condition needs attention`));
  return out;
}

/** Runs every check, in a stable order. */
export function runDoctor(facts: DoctorFacts): DoctorReport {
  const status = joinStatus(facts);
  const checks = [
    ...checkInterfacesNetworks(facts.vm),
    ...checkBindings(facts.vm),
    ...checkBindingSupport(facts),
    ...checkAnnotations(facts.vm),
    ...checkNads(facts),
    ...checkCniBinding(facts),
    ...checkCustomMac(facts),
    ...checkSpoofCheck(facts),
    ...checkKubeOvn(facts),
    ...checkKubeVirtVersion(facts),
    ...checkFeatureGates(facts),
    ...checkHookSidecars(facts),
    ...checkRolloutStrategy(facts),
    ...checkWorkloadUpdate(facts),
    ...checkDynamicNetworks(facts, status),
    ...checkSlots(facts),
    ...checkMacCollisions(facts, status),
    ...checkMacpool(facts),
    ...checkConditions(facts, status),
    ...checkInterfaceFailures(facts, status),
  ];
  return { kind: 'DoctorReport', namespace: vmNamespace(facts.vm), name: facts.vm.metadata.name, checks };
}

export function doctorFailed(report: DoctorReport): number {
  return report.checks.filter((c) => c.result === 'fail').length;
}
