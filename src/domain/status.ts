/**
 * `kubectl vnet status`: the per-interface network status of a VM, joined
 * from the VM template, the VMI spec and status, and the virt-launcher pod's
 * Multus network-status annotation. Pure functions over plain objects; the
 * result is exactly the `-o json` document (schemas/vm-network-status.schema.json).
 *
 * Facts (reference §3): VMI status `infoSource` is a comma list of `domain`,
 * `guest-agent`, `multus-status`; an interface walks
 *   template only -> VMI spec -> multus-status -> domain
 * and an unplug is `state: absent` + domain (pending) -> absent without domain
 * (detached) -> gone.
 */
import type { Condition, KubeVirtCR, NetworkStatusEntry, Pod, VirtualMachine, VirtualMachineInstance, VMIStatusInterface, VMInterface, VMISpecLike, VMNetwork, Warning } from './types.js';
import { HOOK_SIDECARS_ANNOTATION, isNetconfSidecar, parseHookSidecars } from './hooks.js';
import { NETCONF_ANNOTATION, parseNetconfAnnotation } from './netconf.js';
import { defaultPodInterface, kubevirtVersion, restartRequiredOnAnyNetworkChange } from './kubevirt-config.js';
import { compareStrings } from './order.js';
import { age, currentInterfaceFailures, hotplugErrorCondition, pendingNadChange, type KubeEvent } from './network-events.js';
import { bindingOf, describeBinding, hashedPodInterfaceName, HOTPLUG_BINDINGS, hasImplicitDefaultNetwork, interfacesOf, isPrimaryNetwork, networkLabel, networkRefOf, networksOf } from './vmspec.js';

export const INTERFACE_STATES = ['stopped', 'pending', 'attaching', 'ready', 'unplugging', 'detached', 'guest-only', 'stale'] as const;
export type InterfaceState = (typeof INTERFACE_STATES)[number];

export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';
export const LEGACY_NETWORKS_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks-status';
export const CREATED_BY_LABEL = 'kubevirt.io/created-by';

export interface MultusAttachment {
  name: string;
  interface: string | null;
  mac: string | null;
  ips: string[];
}

export interface InterfaceStatus {
  name: string;
  binding: string | null;
  network: string | null;
  state: InterfaceState;
  linkState: string | null;
  mac: string | null;
  desiredMac: string | null;
  desiredMacSource: 'spec' | 'netconf' | null;
  ips: string[];
  guestInterface: string | null;
  podInterface: string | null;
  infoSource: string[];
  model: string | null;
  multus: MultusAttachment | null;
}

export interface StatusCondition {
  /** Which object carries it. */
  source: 'VirtualMachine' | 'VirtualMachineInstance';
  type: string;
  status: string;
  reason: string | null;
  message: string | null;
}

export interface VMNetworkStatus {
  kind: 'VMNetworkStatus';
  namespace: string;
  name: string;
  running: boolean;
  phase: string | null;
  launcherPod: string | null;
  conditions: StatusCondition[];
  interfaces: InterfaceStatus[];
  warnings: Warning[];
}

export interface VMNetworkStatusList {
  kind: 'List';
  items: VMNetworkStatus[];
}

export interface JoinInput {
  vm?: VirtualMachine | null;
  vmi?: VirtualMachineInstance | null;
  /** Launcher pods of the namespace (or just this VMI's); the join picks the VMI's own. */
  pods: readonly Pod[];
  /** The KubeVirt CR; undefined or null when unreadable or absent (no feature-gate check then). */
  kubevirt?: KubeVirtCR | null;
  /** Set when pods could not be read (e.g. RBAC): the multus fields stay empty and one warning says why. */
  podsUnreadable?: string;
  /** The dynamic networks controller's events of the namespace (or of this VMI's pods); undefined: not read. */
  events?: readonly KubeEvent[];
  /** Now, for the age of an event (ms since the epoch). */
  now?: number;
}

/** The facts interfaceState decides from, for one interface name. */
export interface InterfaceFacts {
  /** The VM exists (false for a standalone VMI). */
  hasVM: boolean;
  /** A VMI exists. */
  hasVMI: boolean;
  /** In the VM template (explicitly, or as the implicit default). */
  inTemplate: boolean;
  templateState?: string;
  inVMISpec: boolean;
  vmiSpecState?: string;
  /** Reported in vmi.status.interfaces. */
  reported: boolean;
  infoSource: readonly string[];
  /** Found in the launcher pod's network-status. */
  inPod: boolean;
}

/** The state of ONE interface, from the facts gathered about it. */
export function interfaceState(f: InterfaceFacts): InterfaceState {
  if (!f.hasVMI) return 'stopped';
  const src = new Set(f.infoSource);
  const inDomain = src.has('domain');
  const absent = f.vmiSpecState === 'absent' || (f.hasVM && f.templateState === 'absent');
  if (absent) return inDomain ? 'unplugging' : 'detached';
  if (f.reported && !inDomain && !src.has('multus-status') && src.has('guest-agent')) return 'guest-only';
  if (f.hasVM && !f.inTemplate && (f.inVMISpec || f.reported)) {
    // In the VMI (spec or domain) but no longer in the template, without an unplug.
    if (f.inVMISpec || inDomain) return 'stale';
    return 'detached';
  }
  if (!f.inVMISpec) return f.reported && inDomain ? 'ready' : 'pending';
  if (f.reported) {
    if (inDomain) return 'ready';
    if (src.has('multus-status')) return 'attaching';
    // An entry without infoSource comes from KubeVirt before v0.59, which reported domain interfaces only.
    if (src.size === 0) return 'ready';
  }
  return f.inPod ? 'attaching' : 'pending';
}

/** "domain, guest-agent" -> ["domain", "guest-agent"]. */
export function splitInfoSource(s: string | undefined): string[] {
  if (typeof s !== 'string') return [];
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

/** Lower-case, colon-separated; accepts aa-bb-.. and aabb.ccdd.eeff. Returns the input lower-cased when unparseable. */
export function normalizeMac(mac: string): string {
  const hex = mac.trim().toLowerCase();
  const digits = hex.replace(/[:.-]/g, '');
  if (/^[0-9a-f]{12}$/.test(digits)) return digits.match(/../g)!.join(':');
  return hex;
}

function objectName(ns: string, name: string): string {
  return `${ns}/${name}`;
}

/** The result of reading a Multus network-status annotation. */
export interface NetworkStatusRead {
  entries: NetworkStatusEntry[];
  annotation: string | null;
  problems: string[];
}

/**
 * Reads k8s.v1.cni.cncf.io/network-status, falling back to the legacy
 * networks-status. Never throws: malformed content is reported in `problems`
 * and the usable entries are kept.
 */
export function readNetworkStatus(pod: Pod): NetworkStatusRead {
  const ann = pod.metadata?.annotations ?? {};
  const problems: string[] = [];
  for (const key of [NETWORK_STATUS_ANNOTATION, LEGACY_NETWORKS_STATUS_ANNOTATION]) {
    const raw = ann[key];
    if (raw === undefined) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(raw);
    } catch (err) {
      problems.push(`annotation ${key} of pod ${pod.metadata.name} is not valid JSON (${(err as Error).message})`);
      continue;
    }
    if (!Array.isArray(doc)) {
      problems.push(`annotation ${key} of pod ${pod.metadata.name} is not a JSON list`);
      continue;
    }
    const entries: NetworkStatusEntry[] = [];
    doc.forEach((e, i) => {
      if (!e || typeof e !== 'object' || Array.isArray(e) || typeof (e as { name?: unknown }).name !== 'string') {
        problems.push(`annotation ${key} of pod ${pod.metadata.name}: entry ${i} has no "name" string`);
        return;
      }
      const ent = e as NetworkStatusEntry;
      entries.push({
        ...ent,
        interface: typeof ent.interface === 'string' ? ent.interface : undefined,
        mac: typeof ent.mac === 'string' ? ent.mac : undefined,
        ips: Array.isArray(ent.ips) ? ent.ips.filter((x): x is string => typeof x === 'string') : [],
      });
    });
    return { entries, annotation: key, problems };
  }
  return { entries: [], annotation: null, problems };
}

export interface LauncherChoice {
  pod: Pod | null;
  migration: { sourcePod?: string; targetPod?: string; targetNode?: string; usingTarget: boolean } | null;
}

function podBelongsTo(pod: Pod, vmi: VirtualMachineInstance): boolean {
  if (pod.metadata.namespace && vmi.metadata.namespace && pod.metadata.namespace !== vmi.metadata.namespace) return false;
  const uid = vmi.metadata.uid;
  if (!uid) return false;
  if (pod.metadata.labels?.[CREATED_BY_LABEL] === uid) return true;
  return (pod.metadata.ownerReferences ?? []).some((o) => o.uid === uid);
}

function isRunning(pod: Pod | undefined): boolean {
  return pod?.status?.phase === 'Running' && !pod.metadata.deletionTimestamp;
}

/**
 * The VMI's launcher pod: owned by the VMI (created-by label or owner
 * reference), on the VMI's node, running, newest. During a migration the
 * target pod once it runs, else the source pod.
 */
export function chooseLauncherPod(vmi: VirtualMachineInstance, pods: readonly Pod[]): LauncherChoice {
  const mine = pods.filter((p) => podBelongsTo(p, vmi));
  const ms = vmi.status?.migrationState;
  if (ms && ms.targetPod && !ms.completed && !ms.failed) {
    const target = mine.find((p) => p.metadata.name === ms.targetPod);
    const source = mine.find((p) => p.metadata.name === ms.sourcePod);
    const usingTarget = isRunning(target);
    const chosen = usingTarget ? target! : (source ?? pickNewest(mine.filter((p) => p !== target), vmi.status?.nodeName) ?? target ?? null);
    return { pod: chosen ?? null, migration: { sourcePod: ms.sourcePod, targetPod: ms.targetPod, targetNode: ms.targetNode, usingTarget } };
  }
  return { pod: pickNewest(mine, vmi.status?.nodeName), migration: null };
}

function pickNewest(pods: readonly Pod[], nodeName: string | undefined): Pod | null {
  if (pods.length === 0) return null;
  const score = (p: Pod) => [p.spec?.nodeName && nodeName && p.spec.nodeName === nodeName ? 1 : 0, isRunning(p) ? 1 : 0] as const;
  return [...pods].sort((a, b) => {
    const sa = score(a);
    const sb = score(b);
    if (sa[0] !== sb[0]) return sb[0] - sa[0];
    if (sa[1] !== sb[1]) return sb[1] - sa[1];
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return tb - ta;
    return a.metadata.name < b.metadata.name ? 1 : -1;
  })[0];
}

/**
 * The network-status entry of one VM network: the `default: true` entry for
 * the primary network; for a secondary one the entry of the same NAD whose
 * interface is the hashed pod interface name (or the VMI-reported one), else
 * the only entry of that NAD, else the old `net<N>` name in network order.
 */
export function matchAttachment(
  net: VMNetwork,
  vmNamespace: string,
  entries: readonly NetworkStatusEntry[],
  secondaryIndex: number,
  reportedPodIface?: string,
): NetworkStatusEntry | null {
  if (isPrimaryNetwork(net)) return entries.find((e) => e.default === true) ?? null;
  const ref = networkRefOf(net, vmNamespace);
  if (ref.kind !== 'multus' || !ref.nad) return null;
  const hashed = hashedPodInterfaceName(net.name);
  const byIface = entries.find((e) => e.interface === hashed || (reportedPodIface && e.interface === reportedPodIface));
  if (byIface) return byIface;
  const nadShort = ref.nad.slice(ref.nad.indexOf('/') + 1);
  const sameNad = entries.filter((e) => !e.default && (e.name === ref.nad || (ref.nad!.startsWith(`${vmNamespace}/`) && e.name === nadShort)));
  if (sameNad.length === 1) return sameNad[0];
  const legacy = `net${secondaryIndex + 1}`;
  return sameNad.find((e) => e.interface === legacy) ?? (sameNad.length === 0 ? (entries.find((e) => !e.default && e.interface === legacy && e.name === ref.nad) ?? null) : null);
}

function desiredMacOf(name: string, specIface: VMInterface | undefined, netconf: Map<string, string>): { mac: string | null; source: 'spec' | 'netconf' | null } {
  const nc = netconf.get(name);
  if (nc) return { mac: nc, source: 'netconf' };
  if (specIface?.macAddress) return { mac: specIface.macAddress, source: 'spec' };
  return { mac: null, source: null };
}

function conditionsOf(vm: VirtualMachine | null | undefined, vmi: VirtualMachineInstance | null | undefined): StatusCondition[] {
  const out: StatusCondition[] = [];
  const add = (source: StatusCondition['source'], cs: unknown) => {
    if (!Array.isArray(cs)) return;
    for (const c of cs as Condition[]) {
      if (!c || typeof c.type !== 'string') continue;
      out.push({ source, type: c.type, status: String(c.status ?? ''), reason: c.reason || null, message: c.message || null });
    }
  };
  add('VirtualMachine', vm?.status?.conditions);
  add('VirtualMachineInstance', vmi?.status?.conditions);
  return out;
}

/**
 * Effective template interfaces and networks, with the implicit default
 * written out (its binding from the KubeVirt CR when it was read, else
 * KubeVirt's built-in default).
 */
function effectiveSpec(spec: VMISpecLike | undefined, kubevirt?: KubeVirtCR | null, vmiSpec?: VMISpecLike): { ifaces: VMInterface[]; nets: VMNetwork[] } {
  if (spec && hasImplicitDefaultNetwork(spec)) {
    // A running VM's implicit default is what its VMI got at creation.
    const vNet = networksOf(vmiSpec).find((n) => n && isPrimaryNetwork(n));
    const vIface = vNet ? interfacesOf(vmiSpec).find((i) => i && i.name === vNet.name) : undefined;
    if (vNet && vIface) return { ifaces: [vIface], nets: [vNet] };
    const d = defaultPodInterface(kubevirt);
    return { ifaces: [d.iface], nets: [d.network] };
  }
  const ifaces = Array.isArray(interfacesOf(spec)) ? interfacesOf(spec).filter((i) => i && typeof i.name === 'string') : [];
  const nets = Array.isArray(networksOf(spec)) ? networksOf(spec).filter((n) => n && typeof n.name === 'string') : [];
  return { ifaces, nets };
}

/** Where a VM's hook annotations live: the template (the VMI copies them at start), else a standalone VMI's. */
function sidecarAnnotationSources(vm: VirtualMachine | null | undefined, vmi: VirtualMachineInstance | null | undefined): { where: string; ann: Record<string, string> | undefined }[] {
  return vm ? [{ where: 'VM template', ann: vm.spec?.template?.metadata?.annotations }] : [{ where: 'VMI', ann: vmi?.metadata.annotations }];
}

/**
 * True when the join would use the KubeVirt CR: the VM or standalone VMI
 * carries a netconf or hookSidecars annotation (the Sidecar feature gate), or
 * a stopped VM has the implicit default network (its binding). A reader can
 * skip reading the CR otherwise.
 */
export function needsKubeVirtCR(vm: VirtualMachine | null | undefined, vmi: VirtualMachineInstance | null | undefined): boolean {
  // A stopped VM with the implicit default network: its binding is the CR's defaultNetworkInterface.
  if (vm && !vmi && hasImplicitDefaultNetwork(vm.spec?.template?.spec)) return true;
  // RestartRequired: some KubeVirt versions set it after any network change (restartRequiredNote).
  const conditions = vm?.status?.conditions;
  if (vmi && Array.isArray(conditions) && conditions.some((c) => c?.type === 'RestartRequired' && c.status === 'True')) return true;
  return sidecarAnnotationSources(vm, vmi).some(({ ann }) => Boolean(ann && typeof ann === 'object' && (ann[NETCONF_ANNOTATION] !== undefined || ann[HOOK_SIDECARS_ANNOTATION] !== undefined)));
}

/**
 * What to add to a RestartRequired warning when the cluster runs a KubeVirt
 * that sets the condition after any network change (v1.2.0-v1.5.1 but
 * v1.4.1+): then the condition alone does not mean an interface change waits
 * for a restart. When every interface change is applied it says so;
 * otherwise it only names the bug. Empty for other versions, or when the
 * version is not known.
 */
export interface RestartNoteInput {
  kubevirt: KubeVirtCR | null | undefined;
  vm: VirtualMachine | null | undefined;
  vmi: VirtualMachineInstance | null | undefined;
  /** The joined interfaces and warnings of the VM. */
  interfaces: readonly InterfaceStatus[];
  warnings: readonly Warning[];
}

export function restartRequiredNote(input: RestartNoteInput): string {
  const v = kubevirtVersion(input.kubevirt);
  if (!v || !restartRequiredOnAnyNetworkChange(v)) return '';
  const bug = `KubeVirt ${v.raw} sets this after any change of interfaces or networks, even one it applied live (fixed in v1.4.1, v1.5.2 and v1.6.0)`;
  return interfaceChangesApplied(input) ? `; ${bug}. Every interface change is applied: if interfaces were all you changed, nothing waits for the restart` : `; ${bug}`;
}

/** JSON with the keys of every object sorted, to compare two API objects by content. */
function canonical(x: unknown): string {
  return JSON.stringify(x, (_k, val: unknown) => (val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => compareStrings(a, b))) : val));
}

/**
 * True when the running VMI has every interface change of the VM template:
 * each interface and its network are in the VMI's spec exactly as in the
 * template (so no binding, model, network or MAC change waits), it is in the
 * domain with the link state the template asks for, each unplug has left the
 * domain, and nothing is in the VMI that the template dropped. Errs towards
 * false: anything it cannot tell counts as not applied.
 */
function interfaceChangesApplied({ kubevirt, vm, vmi, interfaces, warnings }: RestartNoteInput): boolean {
  if (!vm || !vmi || warnings.some((w) => w.code === 'mac-mismatch')) return false;
  const tpl = effectiveSpec(vm.spec?.template?.spec, kubevirt, vmi.spec);
  const live = effectiveSpec(vmi.spec, kubevirt);
  const liveIfaces = new Map(live.ifaces.map((i) => [i.name, i]));
  const liveNets = new Map(live.nets.map((n) => [n.name, n]));
  const tplNames = new Set(tpl.ifaces.map((i) => i.name));
  for (const t of tpl.ifaces) {
    const seen = interfaces.find((i) => i.name === t.name);
    if (t.state === 'absent') {
      if (seen && seen.state !== 'detached') return false;
      continue;
    }
    const net = tpl.nets.find((n) => n.name === t.name);
    if (canonical(liveIfaces.get(t.name)) !== canonical(t) || !net || canonical(liveNets.get(t.name)) !== canonical(net)) return false;
    if (seen?.state !== 'ready' || (seen.linkState ?? 'up') !== (t.state === 'down' ? 'down' : 'up')) return false;
  }
  return live.ifaces.every((i) => tplNames.has(i.name));
}

type Warn = (code: string, message: string) => void;

/** Joins a VM (or a standalone VMI), its VMI and launcher pods into one VMNetworkStatus. */
export function joinVMNetworkStatus(input: JoinInput): VMNetworkStatus {
  const vm = input.vm ?? null;
  const vmi = input.vmi ?? null;
  const meta = vm?.metadata ?? vmi?.metadata;
  if (!meta) throw new Error('joinVMNetworkStatus needs a VM or a VMI');
  const namespace = meta.namespace ?? '';
  const name = meta.name;
  const obj = objectName(namespace, name);
  const warnings: Warning[] = [];
  const warn: Warn = (code, message) => warnings.push({ code, message, object: obj });

  const tpl = vm ? effectiveSpec(vm.spec?.template?.spec, input.kubevirt, vmi?.spec) : { ifaces: [], nets: [] };
  // A VMI's spec always carries its interfaces explicitly (defaults applied at creation).
  const vspec = vmi ? effectiveSpec(vmi.spec, input.kubevirt) : { ifaces: [], nets: [] };
  const statusIfaces: VMIStatusInterface[] = Array.isArray(vmi?.status?.interfaces) ? vmi!.status!.interfaces!.filter((x) => x && typeof x === 'object') : [];

  const { launcher, entries } = launcherAttachments(vmi, input, warn);
  const sidecars = readSidecarAnnotations(vm, vmi, input.kubevirt, warn);
  const ctx: JoinContext = {
    vm,
    vmi,
    namespace,
    entries,
    netconf: sidecars.netconf,
    netconfSidecar: sidecars.netconfSidecar,
    tplIface: new Map(tpl.ifaces.map((i) => [i.name, i])),
    tplNet: new Map(tpl.nets.map((n) => [n.name, n])),
    vmiIface: new Map(vspec.ifaces.map((i) => [i.name, i])),
    vmiNet: new Map(vspec.nets.map((n) => [n.name, n])),
    reported: new Map(statusIfaces.filter((s) => s.name).map((s) => [s.name as string, s])),
    secondaryOrder: secondaryNetworkOrder(vspec.nets, tpl.nets),
  };
  const interfaces: InterfaceStatus[] = [];
  for (const n of interfaceNames(tpl.ifaces, vspec.ifaces, statusIfaces)) interfaces.push(joinInterface(n, ctx, warn));
  // Guest-only interfaces: reported by the guest agent without a spec name.
  for (const s of statusIfaces) if (typeof s.name !== 'string' || s.name === '') interfaces.push(guestOnlyInterface(s, Boolean(vmi)));

  const conditions = conditionsOf(vm, vmi);
  conditionWarnings(conditions, { kubevirt: input.kubevirt, vm, vmi, interfaces, warnings }, warn);
  networkChangeWarnings({ ctx, input, launcher, conditions, interfaces }, warn);

  const phase = (typeof vmi?.status?.phase === 'string' && vmi.status.phase) || (vm && !vmi ? (typeof vm.status?.printableStatus === 'string' && vm.status.printableStatus) || 'Stopped' : null) || null;
  return {
    kind: 'VMNetworkStatus',
    namespace,
    name,
    running: vmi?.status?.phase === 'Running',
    phase,
    launcherPod: launcher.pod?.metadata.name ?? null,
    conditions,
    interfaces,
    warnings,
  };
}

/** NAD changes under way, failed attachments (pod events) and KubeVirt's failed sync of the VMI's interfaces. */
function networkChangeWarnings(o: { ctx: JoinContext; input: JoinInput; launcher: LauncherChoice; conditions: readonly StatusCondition[]; interfaces: readonly InterfaceStatus[] }, warn: Warn): void {
  const { ctx, input } = o;
  if (!ctx.vmi) return;
  const nadOf = (net: VMNetwork | undefined) => networkRefOf(net, ctx.namespace).nad;
  const restartRequired = o.conditions.some((c) => c.source === 'VirtualMachine' && c.type === 'RestartRequired' && c.status === 'True');
  const mr = o.conditions.find((c) => c.source === 'VirtualMachineInstance' && c.type === 'MigrationRequired');
  for (const i of o.interfaces) {
    if (!i.name) continue;
    const attached = i.multus?.name ? networkRefOf({ name: i.name, multus: { networkName: i.multus.name } }, ctx.namespace).nad : undefined;
    const text = pendingNadChange(
      { name: i.name, template: ctx.vm ? nadOf(ctx.tplNet.get(i.name)) : undefined, vmi: nadOf(ctx.vmiNet.get(i.name)), attached },
      { restartRequired, migrationRequired: mr ? { status: mr.status, reason: mr.reason } : undefined, migrating: Boolean(o.launcher.migration) },
    );
    if (text) warn('nad-change-pending', text);
  }
  if (input.events) {
    const pods = input.pods.filter((p) => podBelongsTo(p, ctx.vmi as VirtualMachineInstance)).map((p) => p.metadata.name);
    const networkNames = [...new Set([...ctx.tplNet.keys(), ...ctx.vmiNet.keys()])];
    for (const f of currentInterfaceFailures(input.events, { vmiName: ctx.vmi.metadata.name, networkNames, pods: pods.length > 0 ? pods : undefined })) {
      const ago = age(f.time, input.now ?? Date.now());
      warn('interface-failed', `interface ${f.iface}: ${f.reason} on pod ${f.pod}${ago ? ` ${ago} ago` : ''}: ${f.message}`);
    }
  }
  const failure = hotplugErrorCondition(ctx.vm);
  if (failure) warn('hotplug-error', `KubeVirt could not update the VMI's interfaces (VM condition Failure, reason ${failure.reason}): ${failure.message ?? ''}`);
}

/** What joinInterface looks each name up in. */
interface JoinContext {
  vm: VirtualMachine | null;
  vmi: VirtualMachineInstance | null;
  namespace: string;
  entries: NetworkStatusEntry[];
  netconf: Map<string, string>;
  netconfSidecar: boolean;
  tplIface: Map<string, VMInterface>;
  tplNet: Map<string, VMNetwork>;
  vmiIface: Map<string, VMInterface>;
  vmiNet: Map<string, VMNetwork>;
  reported: Map<string, VMIStatusInterface>;
  /** Secondary networks in VMI spec order (then template order), for the net1..N fallback. */
  secondaryOrder: string[];
}

/** The launcher pod of the VMI (the migration target's once it runs) and its Multus attachments. */
function launcherAttachments(vmi: VirtualMachineInstance | null, input: JoinInput, warn: Warn): { launcher: LauncherChoice; entries: NetworkStatusEntry[] } {
  let launcher: LauncherChoice = { pod: null, migration: null };
  let entries: NetworkStatusEntry[] = [];
  if (vmi && !input.podsUnreadable) {
    launcher = chooseLauncherPod(vmi, input.pods);
    if (launcher.pod) {
      const ns = readNetworkStatus(launcher.pod);
      entries = ns.entries;
      for (const p of ns.problems) warn('malformed-annotation', p);
    }
  }
  if (input.podsUnreadable) warn('pods-forbidden', input.podsUnreadable);
  if (launcher.migration) {
    const m = launcher.migration;
    warn(
      'migrating',
      `migration in progress from pod ${m.sourcePod ?? '?'} to pod ${m.targetPod ?? '?'}${m.targetNode ? ` (node ${m.targetNode})` : ''}; showing the ${m.usingTarget ? 'target' : 'source'} pod's attachments`,
    );
  }
  return { launcher, entries };
}

/** Netconf MACs and hook sidecars, from the template (the VMI copies them at start), with their warnings. */
function readSidecarAnnotations(vm: VirtualMachine | null, vmi: VirtualMachineInstance | null, kubevirt: KubeVirtCR | null | undefined, warn: Warn): { netconf: Map<string, string>; netconfSidecar: boolean } {
  const netconf = new Map<string, string>();
  const sidecarAnnotations = new Set<string>();
  let netconfSidecar = false;
  let hooksUnreadable = false;
  for (const { where, ann } of sidecarAnnotationSources(vm, vmi)) {
    if (!ann || typeof ann !== 'object') continue;
    const rawNc = ann[NETCONF_ANNOTATION];
    if (rawNc !== undefined) {
      sidecarAnnotations.add(NETCONF_ANNOTATION);
      const parsed = parseNetconfAnnotation(rawNc);
      if (!parsed.ok) warn('malformed-annotation', `annotation ${NETCONF_ANNOTATION} of the ${where} is malformed: ${parsed.error}`);
      else for (const e of parsed.entries) netconf.set(e.name, e.macAddress);
    }
    const rawHooks = ann[HOOK_SIDECARS_ANNOTATION];
    if (rawHooks !== undefined) {
      sidecarAnnotations.add(HOOK_SIDECARS_ANNOTATION);
      const parsed = parseHookSidecars(rawHooks);
      if (!parsed.ok) {
        hooksUnreadable = true;
        warn('malformed-annotation', `annotation ${HOOK_SIDECARS_ANNOTATION} of the ${where} is malformed: ${parsed.error}`);
      } else if (parsed.sidecars.some(isNetconfSidecar)) netconfSidecar = true;
    }
  }
  if (netconf.size > 0 && !netconfSidecar && !hooksUnreadable) {
    warn('netconf-without-sidecar', `annotation ${NETCONF_ANNOTATION} sets MACs, but ${HOOK_SIDECARS_ANNOTATION} lists no netconf sidecar: nothing applies them (kubectl vnet mac set adds it)`);
  }
  if (sidecarAnnotations.size > 0 && kubevirt) {
    const gates = kubevirt.spec?.configuration?.developerConfiguration?.featureGates;
    if (!Array.isArray(gates) || !gates.includes('Sidecar')) {
      warn('sidecar-gate-missing', `annotation ${[...sidecarAnnotations].join(' and ')} needs the Sidecar feature gate, which the KubeVirt CR ${kubevirt.metadata.name} does not enable (spec.configuration.developerConfiguration.featureGates)`);
    }
  }
  return { netconf, netconfSidecar };
}

/** The union of interface names, in order: template, VMI spec, VMI status. */
function interfaceNames(tpl: readonly VMInterface[], vspec: readonly VMInterface[], statusIfaces: readonly VMIStatusInterface[]): string[] {
  const names = new Set<string>();
  for (const i of tpl) names.add(i.name);
  for (const i of vspec) names.add(i.name);
  for (const s of statusIfaces) if (typeof s.name === 'string' && s.name !== '') names.add(s.name);
  return [...names];
}

function secondaryNetworkOrder(vmiNets: readonly VMNetwork[], tplNets: readonly VMNetwork[]): string[] {
  const order: string[] = [];
  for (const n of [...vmiNets, ...tplNets]) if (!isPrimaryNetwork(n) && !order.includes(n.name)) order.push(n.name);
  return order;
}

const reportedIps = (s: VMIStatusInterface | undefined): string[] =>
  Array.isArray(s?.ipAddresses) && s.ipAddresses.length > 0 ? s.ipAddresses.filter((x) => typeof x === 'string') : s?.ipAddress ? [s.ipAddress] : [];
const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** One named interface: template, VMI spec, VMI status and pod attachment joined, with its state and warnings. */
function joinInterface(n: string, ctx: JoinContext, warn: Warn): InterfaceStatus {
  const ti = ctx.tplIface.get(n);
  const si = ctx.vmiIface.get(n);
  const spec = ti ?? si;
  const net = ctx.vmiNet.get(n) ?? ctx.tplNet.get(n);
  const rep = ctx.reported.get(n);
  const infoSource = splitInfoSource(rep?.infoSource);
  const entry = net ? matchAttachment(net, ctx.namespace, ctx.entries, ctx.secondaryOrder.indexOf(n), rep?.podInterfaceName) : null;
  const state = interfaceState({
    hasVM: Boolean(ctx.vm),
    hasVMI: Boolean(ctx.vmi),
    inTemplate: Boolean(ti),
    templateState: ti?.state,
    inVMISpec: Boolean(si),
    vmiSpecState: si?.state,
    reported: Boolean(rep),
    infoSource,
    inPod: Boolean(entry),
  });
  const desired = desiredMacOf(n, ti ?? si, ctx.netconf);
  const binding = spec ? bindingOf(spec) || null : null;
  if (desired.mac && rep?.mac && normalizeMac(desired.mac) !== normalizeMac(rep.mac) && state !== 'stopped') {
    const when = desired.source !== 'netconf' ? '' : ctx.netconfSidecar ? '; a netconf MAC is applied when the VM starts: stop and start the VM' : '; no netconf hook sidecar applies it';
    warn('mac-mismatch', `interface ${n}: desired MAC ${desired.mac} (${desired.source}) differs from the reported MAC ${rep.mac}${when}`);
  }
  if (state === 'pending' && ctx.vmi && ti && !si) {
    if (net?.resourceClaim) warn('not-hotpluggable', `interface ${n}: a DRA network (resourceClaim) is not hot-plugged by KubeVirt; it is added when the VM restarts`);
    else if (binding && !HOTPLUG_BINDINGS.includes(binding)) warn('not-hotpluggable', `interface ${n}: ${describeBinding(binding)} is not hot-plugged by KubeVirt (only bridge and sriov are); it is added when the VM restarts`);
  }
  return {
    name: n,
    binding,
    network: net ? networkLabel(networkRefOf(net, ctx.namespace)) || null : null,
    state,
    linkState: text(rep?.linkState),
    mac: text(rep?.mac),
    desiredMac: desired.mac,
    desiredMacSource: desired.source,
    ips: reportedIps(rep),
    guestInterface: text(rep?.interfaceName),
    podInterface: text(rep?.podInterfaceName) || entry?.interface || null,
    infoSource,
    model: text(spec?.model),
    multus: entry ? { name: entry.name, interface: entry.interface ?? null, mac: entry.mac ?? null, ips: entry.ips ?? [] } : null,
  };
}

/** An interface the guest agent reports without a spec name. */
function guestOnlyInterface(s: VMIStatusInterface, hasVMI: boolean): InterfaceStatus {
  return {
    name: '',
    binding: null,
    network: null,
    state: hasVMI ? 'guest-only' : 'stopped',
    linkState: text(s.linkState),
    mac: text(s.mac),
    desiredMac: null,
    desiredMacSource: null,
    ips: reportedIps(s),
    guestInterface: text(s.interfaceName),
    podInterface: null,
    infoSource: splitInfoSource(s.infoSource),
    model: null,
    multus: null,
  };
}

/** RestartRequired on the VM and MigrationRequired on the VMI, said with what they mean for the interfaces. */
function conditionWarnings(conditions: readonly StatusCondition[], ctx: Parameters<typeof restartRequiredNote>[0], warn: Warn): void {
  for (const c of conditions) {
    if (c.status !== 'True') continue;
    if (c.source === 'VirtualMachine' && c.type === 'RestartRequired') warn('restart-required', `VM condition RestartRequired${c.message ? `: ${c.message}` : ''}${restartRequiredNote(ctx)}`);
    if (c.source === 'VirtualMachineInstance' && c.type === 'MigrationRequired') warn('migration-required', `VMI condition MigrationRequired${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`);
  }
}

/**
 * Joins whole namespaces: VMs with their VMIs (same namespace and name) and
 * launcher pods, plus standalone VMIs when `includeStandalone`. Pods are
 * indexed by the VMI uid once, so the join stays linear at scale.
 */
export function joinAll(input: {
  vms: readonly VirtualMachine[];
  vmis: readonly VirtualMachineInstance[];
  pods: readonly Pod[];
  kubevirt?: KubeVirtCR | null;
  podsUnreadable?: string;
  events?: readonly KubeEvent[];
  now?: number;
  includeStandalone: boolean;
}): VMNetworkStatus[] {
  const key = (m: { namespace?: string; name: string }) => `${m.namespace ?? ''}/${m.name}`;
  const vmiByKey = new Map(input.vmis.map((v) => [key(v.metadata), v]));
  const podsByUid = new Map<string, Pod[]>();
  for (const p of input.pods) {
    const uids = new Set<string>();
    const l = p.metadata.labels?.[CREATED_BY_LABEL];
    if (l) uids.add(l);
    for (const o of p.metadata.ownerReferences ?? []) if (o.uid) uids.add(o.uid);
    for (const u of uids) {
      const arr = podsByUid.get(u);
      if (arr) arr.push(p);
      else podsByUid.set(u, [p]);
    }
  }
  const podsOf = (vmi: VirtualMachineInstance | undefined) => (vmi?.metadata.uid ? (podsByUid.get(vmi.metadata.uid) ?? []) : []);
  const out: VMNetworkStatus[] = [];
  const vmKeys = new Set<string>();
  for (const vm of input.vms) {
    const k = key(vm.metadata);
    vmKeys.add(k);
    const vmi = vmiByKey.get(k);
    out.push(joinVMNetworkStatus({ vm, vmi, pods: podsOf(vmi), kubevirt: input.kubevirt, podsUnreadable: input.podsUnreadable, events: input.events, now: input.now }));
  }
  if (input.includeStandalone) {
    for (const vmi of input.vmis) {
      if (vmKeys.has(key(vmi.metadata))) continue;
      if ((vmi.metadata.ownerReferences ?? []).some((o) => o.kind === 'VirtualMachine')) continue;
      out.push(joinVMNetworkStatus({ vmi, pods: podsOf(vmi), kubevirt: input.kubevirt, podsUnreadable: input.podsUnreadable, events: input.events, now: input.now }));
    }
  }
  return out;
}


// Projections: the fields the join reads, so a list of thousands of objects
// keeps only those in memory (no managedFields, pod specs, disks...). They
// copy references, never throw, and the join gives the same result on a
// projected object as on the full one (tested).

function pick<T extends object>(o: unknown, keys: readonly string[]): Partial<T> | undefined {
  if (!o || typeof o !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) if ((o as Record<string, unknown>)[k] !== undefined) out[k] = (o as Record<string, unknown>)[k];
  return out as Partial<T>;
}

const META_KEYS = ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'ownerReferences'] as const;
const STATUS_ANNOTATIONS = [NETCONF_ANNOTATION, HOOK_SIDECARS_ANNOTATION] as const;

function pickAnnotations(ann: unknown, keys: readonly string[]): Record<string, string> | undefined {
  const p = pick<Record<string, string>>(ann, keys);
  return p && Object.keys(p).length > 0 ? (p as Record<string, string>) : undefined;
}

function projectSpec(spec: unknown): VMISpecLike {
  const s = (spec && typeof spec === 'object' ? spec : {}) as VMISpecLike;
  const devices = pick<Record<string, unknown>>(s.domain?.devices, ['interfaces', 'autoattachPodInterface']);
  return { domain: devices ? { devices } : undefined, networks: s.networks } as VMISpecLike;
}

export function projectVMForStatus(vm: VirtualMachine): VirtualMachine {
  const tm = vm.spec?.template?.metadata;
  return {
    metadata: { ...(pick(vm.metadata, META_KEYS) as VirtualMachine['metadata']) },
    spec: {
      runStrategy: vm.spec?.runStrategy,
      running: vm.spec?.running,
      template: { metadata: { annotations: pickAnnotations(tm?.annotations, STATUS_ANNOTATIONS) }, spec: projectSpec(vm.spec?.template?.spec) },
    },
    status: pick(vm.status, ['conditions', 'printableStatus']) as VirtualMachine['status'],
  };
}

export function projectVMIForStatus(vmi: VirtualMachineInstance): VirtualMachineInstance {
  return {
    metadata: { ...(pick(vmi.metadata, META_KEYS) as VirtualMachineInstance['metadata']), annotations: pickAnnotations(vmi.metadata?.annotations, STATUS_ANNOTATIONS) },
    spec: projectSpec(vmi.spec),
    status: pick(vmi.status, ['phase', 'nodeName', 'interfaces', 'conditions', 'migrationState', 'activePods']) as VirtualMachineInstance['status'],
  };
}

export function projectPodForStatus(pod: Pod): Pod {
  const createdBy = pod.metadata?.labels?.[CREATED_BY_LABEL];
  return {
    metadata: {
      ...(pick(pod.metadata, META_KEYS) as Pod['metadata']),
      labels: createdBy !== undefined ? { [CREATED_BY_LABEL]: createdBy } : undefined,
      annotations: pickAnnotations(pod.metadata?.annotations, [NETWORK_STATUS_ANNOTATION, LEGACY_NETWORKS_STATUS_ANNOTATION]),
    },
    spec: pick(pod.spec, ['nodeName']) as Pod['spec'],
    status: pick(pod.status, ['phase']) as Pod['status'],
  };
}
