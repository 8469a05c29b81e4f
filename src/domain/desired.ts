/**
 * The desired network view of a VirtualMachine as written in a manifest
 * (`kubectl vnet status -f FILE --local`): its interfaces, bindings,
 * networks, desired link states and MACs, and whether its netconf and hook
 * sidecar annotations are valid, with the checks that need no cluster
 * (KubeVirt's admission rules on the spec, the annotations' formats, MACs).
 * Pure; no cluster.
 */
import { HOOK_SIDECARS_ANNOTATION, isNetconfSidecar, parseHookSidecars } from './hooks.js';
import { MASQUERADE_RESERVED_MAC, normaliseMac, parseMac } from './mac.js';
import { NETCONF_ANNOTATION, netconfMacFor, parseNetconfAnnotation } from './netconf.js';
import { bindingAdmission, bindingFix, type Version } from './kubevirt-config.js';
import type { VirtualMachine, VMInterface, VMNetwork, Warning } from './types.js';
import { bindingKeysOf, bindingOf, hasImplicitDefaultNetwork, implicitDefault, INTERFACE_MODELS, INTERFACE_NAME_RE, interfacesOf, networkLabel, networkRefOf, networksOf, specShapeProblem } from './vmspec.js';

export interface DesiredInterface {
  name: string;
  binding: string | null;
  network: string | null;
  /** interfaces[].state: up (also when empty), down, or absent (being unplugged). */
  state: string;
  desiredMac: string | null;
  desiredMacSource: 'spec' | 'netconf' | null;
  model: string | null;
  /** The implicit default pod network (the template lists no interfaces). */
  implicit: boolean;
}

export interface DesiredAnnotation {
  name: string;
  valid: boolean;
  /** "1 entry" / "2 sidecars: netconf" when valid; the problem when not. */
  detail: string;
}

export interface VMDesiredNetwork {
  kind: 'VMDesiredNetwork';
  source: string;
  namespace: string | null;
  name: string;
  interfaces: DesiredInterface[];
  annotations: DesiredAnnotation[];
  warnings: Warning[];
  /** The checks that need a cluster and were not made. */
  skipped: string[];
}

const STATES = new Set(['', 'up', 'down', 'absent']);

type Warn = (code: string, message: string) => void;

/**
 * The desired view of one VM. `version` is the KubeVirt version the VM is
 * meant for (`--kubevirt-version`, or the cluster's for doctor): the binding
 * rules that depend on it are decided for it; without it they are reported
 * as depending on the version.
 */
export function desiredNetworkView(vm: VirtualMachine, source: string, version: Version | null = null): VMDesiredNetwork {
  const ns = vm.metadata.namespace ?? null;
  const obj = `${ns ?? ''}/${vm.metadata.name}`.replace(/^\//, '');
  const warnings: Warning[] = [];
  const warn: Warn = (code, message) => warnings.push({ code, message, object: obj });
  const spec = vm.spec?.template?.spec;
  const sidecars = readAnnotations(vm.spec?.template?.metadata?.annotations ?? {}, warn);

  // Interfaces and networks, as KubeVirt's admission sees them.
  const shape = specShapeProblem(spec);
  if (shape) warn('malformed-spec', `${shape}: the API server rejects the VM`);
  const implicit = hasImplicitDefaultNetwork(spec);
  const ifaces: VMInterface[] = implicit ? [implicitDefault().iface] : interfacesOf(spec).filter((i) => i && typeof i === 'object');
  const nets = implicit ? [implicitDefault().network] : networksOf(spec).filter((n) => n && typeof n === 'object');
  const netByName = new Map(nets.map((n) => [n.name, n]));
  const ifaceNames = checkInterfaceList(ifaces, netByName, warn);
  checkNetworkList(nets, ifaceNames, warn);

  const out: DesiredInterface[] = [];
  const macOwners = new Map<string, string[]>();
  for (const i of ifaces) {
    const d = desiredInterface(i, { netByName, namespace: ns ?? 'default', netconf: sidecars.netconfEntries, implicit, version }, warn);
    if (d.desiredMac) {
      const key = normaliseMac(d.desiredMac) ?? d.desiredMac.toLowerCase();
      macOwners.set(key, [...(macOwners.get(key) ?? []), i.name]);
    }
    out.push(d);
  }
  for (const [mac, owners] of macOwners) if (owners.length > 1) warn('duplicate-mac', `interfaces ${owners.map((o) => `"${o}"`).join(' and ')} want the same MAC ${mac}`);
  for (const e of sidecars.netconfEntries) {
    if (!ifaceNames.has(e.name)) warn('netconf-unknown-interface', `the netconf annotation names interface "${e.name}", which the VM does not have: the sidecar ignores it`);
  }
  if (sidecars.netconfEntries.length > 0 && !sidecars.hasNetconfSidecar) {
    warn('netconf-without-sidecar', `the netconf annotation sets MACs, but ${HOOK_SIDECARS_ANNOTATION} lists no netconf sidecar: nothing applies them (kubectl vnet mac set adds it)`);
  }
  const skipped = ['NetworkAttachmentDefinitions exist', version ? 'feature gates (Sidecar, PasstBinding)' : 'KubeVirt version and feature gates (Sidecar, PasstBinding)', 'kubemacpool', 'MAC collisions with other VMs in the cluster'];
  return { kind: 'VMDesiredNetwork', source, namespace: ns, name: vm.metadata.name, interfaces: out, annotations: sidecars.annotations, warnings, skipped };
}

/** The netconf and hook sidecar annotations of the template: valid or not, and what they say. */
function readAnnotations(annotations: Record<string, unknown>, warn: Warn): { annotations: DesiredAnnotation[]; netconfEntries: { name: string; macAddress: string }[]; hasNetconfSidecar: boolean } {
  const ann: DesiredAnnotation[] = [];
  let netconfEntries: { name: string; macAddress: string }[] = [];
  const rawNc = annotations[NETCONF_ANNOTATION];
  if (rawNc !== undefined) {
    const p = parseNetconfAnnotation(typeof rawNc === 'string' ? rawNc : JSON.stringify(rawNc));
    if (typeof rawNc !== 'string') {
      ann.push({ name: NETCONF_ANNOTATION, valid: false, detail: 'the value is not a string (annotation values are strings: quote the JSON)' });
      warn('malformed-annotation', `annotation ${NETCONF_ANNOTATION} is not a string; the API server rejects the VM`);
    } else if (p.ok) {
      netconfEntries = p.entries;
      ann.push({ name: NETCONF_ANNOTATION, valid: true, detail: `${p.entries.length} entr${p.entries.length === 1 ? 'y' : 'ies'}` });
    } else {
      ann.push({ name: NETCONF_ANNOTATION, valid: false, detail: p.error });
      warn('malformed-annotation', `annotation ${NETCONF_ANNOTATION} is malformed: ${p.error}; the netconf sidecar fails and the VM does not start`);
    }
  }
  const rawHooks = annotations[HOOK_SIDECARS_ANNOTATION];
  let hasNetconfSidecar = false;
  if (rawHooks !== undefined) {
    const p = typeof rawHooks === 'string' ? parseHookSidecars(rawHooks) : ({ ok: false, error: 'the value is not a string (annotation values are strings: quote the JSON)' } as const);
    if (p.ok) {
      hasNetconfSidecar = p.sidecars.some(isNetconfSidecar);
      const kinds = p.sidecars.map((s) => (isNetconfSidecar(s) ? 'netconf' : (s.image ?? 'sidecar-shim')));
      ann.push({ name: HOOK_SIDECARS_ANNOTATION, valid: true, detail: `${p.sidecars.length} sidecar${p.sidecars.length === 1 ? '' : 's'}${kinds.length > 0 ? `: ${kinds.join(', ')}` : ''}` });
    } else {
      ann.push({ name: HOOK_SIDECARS_ANNOTATION, valid: false, detail: p.error });
      warn('malformed-annotation', `annotation ${HOOK_SIDECARS_ANNOTATION} is malformed: ${p.error}`);
    }
  }
  return { annotations: ann, netconfEntries, hasNetconfSidecar };
}

/** Interface names: valid, unique, each with its network. Returns the names. */
function checkInterfaceList(ifaces: readonly VMInterface[], netByName: ReadonlyMap<string, VMNetwork>, warn: Warn): Set<string> {
  const ifaceNames = new Set<string>();
  for (const i of ifaces) {
    if (typeof i.name !== 'string' || !INTERFACE_NAME_RE.test(i.name)) warn('invalid-name', `interface name "${String(i.name)}" is not valid: KubeVirt accepts [A-Za-z0-9-_] only`);
    if (ifaceNames.has(i.name)) warn('duplicate-name', `two interfaces are named "${i.name}"`);
    ifaceNames.add(i.name);
    if (!netByName.has(i.name)) warn('interface-without-network', `interface "${i.name}" has no network of the same name: admission rejects the VM`);
  }
  return ifaceNames;
}

/** Networks: unique, each with its interface and exactly one source; one pod network at most. */
function checkNetworkList(nets: readonly VMNetwork[], ifaceNames: ReadonlySet<string>, warn: Warn): void {
  const netNames = new Set<string>();
  for (const n of nets) {
    if (netNames.has(n.name)) warn('duplicate-name', `two networks are named "${n.name}"`);
    netNames.add(n.name);
    if (!ifaceNames.has(n.name)) warn('network-without-interface', `network "${n.name}" has no interface of the same name: admission rejects the VM`);
    const sources = ['pod', 'multus', 'resourceClaim'].filter((k) => n[k] !== undefined && n[k] !== null);
    if (sources.length !== 1) warn('network-source', `network "${n.name}" needs exactly one source (pod, multus or resourceClaim), it has ${sources.length === 0 ? 'none' : sources.join(' and ')}`);
    if (n.multus !== undefined && !n.multus?.networkName) warn('network-source', `network "${n.name}": multus needs a networkName`);
  }
  if (nets.filter((n) => n.pod !== undefined).length > 1) warn('network-source', 'more than one pod network: admission allows one');
}

/** One interface as written: binding, network, state, desired MAC (netconf wins over spec), with its checks. */
function desiredInterface(
  i: VMInterface,
  ctx: { netByName: ReadonlyMap<string, VMNetwork>; namespace: string; netconf: readonly { name: string; macAddress: string }[]; implicit: boolean; version: Version | null },
  warn: Warn,
): DesiredInterface {
  const keys = bindingKeysOf(i);
  if (keys.length > 1) warn('binding-count', `interface "${i.name}" needs exactly one binding, it has ${keys.join(' and ')}`);
  else if (!ctx.implicit) checkBindingAdmission(i.name, keys[0] ?? '', ctx.version, warn);
  const binding = bindingOf(i) || null;
  const state = typeof i.state === 'string' ? i.state : '';
  if (!STATES.has(state)) warn('invalid-state', `interface "${i.name}": state "${state}" is not one of up, down, absent`);
  else if (state === 'absent' && binding !== 'bridge') warn('invalid-state', `interface "${i.name}": state absent (unplug) is allowed for bridge interfaces only, not ${binding ?? 'no binding'}`);
  else if ((state === 'down' || state === 'up') && binding === 'sriov') warn('invalid-state', `interface "${i.name}": KubeVirt cannot set the link state of an SR-IOV interface`);
  else if ((state === 'down' || state === 'up') && binding === 'passtBinding') warn('invalid-state', `interface "${i.name}": a passtBinding interface has no link state in KubeVirt; the state is ignored`);
  if (i.model !== undefined && !(INTERFACE_MODELS as readonly string[]).includes(String(i.model))) warn('invalid-model', `interface "${i.name}": model "${String(i.model)}" is not one of ${INTERFACE_MODELS.join(', ')}`);
  let desiredMac: string | null = null;
  let desiredMacSource: DesiredInterface['desiredMacSource'] = null;
  if (typeof i.macAddress === 'string' && i.macAddress !== '') {
    desiredMac = i.macAddress;
    desiredMacSource = 'spec';
    checkMac(i.macAddress, `interface "${i.name}" macAddress`, binding, warn);
  }
  const nc = netconfMacFor(ctx.netconf, i.name);
  if (nc !== undefined) {
    desiredMac = nc;
    desiredMacSource = 'netconf';
    checkMac(nc, `the netconf MAC of interface "${i.name}"`, binding, warn);
  }
  const net = ctx.netByName.get(i.name);
  return {
    name: i.name,
    binding,
    network: net ? networkLabel(networkRefOf(net, ctx.namespace)) || null : null,
    state: state === '' ? 'up' : state,
    desiredMac,
    desiredMacSource,
    model: typeof i.model === 'string' && i.model ? i.model : null,
    implicit: ctx.implicit,
  };
}

/**
 * An interface's one binding ("" for none) against the KubeVirt version:
 * `binding-rejected` when that version's admission rejects it,
 * `binding-version` when it depends on a version that is not given,
 * `binding-missing` when there is none and the version still admits that.
 */
function checkBindingAdmission(name: string, binding: string, version: Version | null, warn: Warn): void {
  const a = bindingAdmission(binding, version);
  if (a.admitted === false) warn('binding-rejected', `interface "${name}": ${a.reason}; ${bindingFix(binding)}`);
  else if (a.admitted === 'unknown') warn(binding === '' ? 'binding-missing' : 'binding-version', `interface "${name}"${binding === '' ? ' has no binding' : ''}: ${a.reason}${binding === 'passtBinding' ? '' : `; ${bindingFix(binding)}`}`);
  else if (binding === '') warn('binding-missing', `interface "${name}" has no binding: ${a.reason}`);
}

function checkMac(mac: string, what: string, binding: string | null, warn: (code: string, message: string) => void): void {
  let parsed: string;
  try {
    parsed = parseMac(mac);
  } catch (err) {
    warn('invalid-mac', `${what}: ${(err as Error).message}`);
    return;
  }
  if (parsed === MASQUERADE_RESERVED_MAC && binding === 'masquerade') warn('invalid-mac', `${what} ${parsed} is reserved by KubeVirt for masquerade`);
}

/** Evaluates a label selector (a=b, a==b, a!=b, a, !a, a in (x,y), a notin (x,y)) against labels, as kubectl -l does. */
export function matchesSelector(selector: string, labels: Readonly<Record<string, string>>): boolean {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .every((req) => {
      let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
      if (m) {
        const vals = m[3].split(',').map((s) => s.trim());
        const has = Object.hasOwn(labels, m[1]);
        return m[2] === 'in' ? has && vals.includes(labels[m[1]]) : !has || !vals.includes(labels[m[1]]);
      }
      m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(req);
      if (m) return m[2] === '!=' ? labels[m[1]] !== m[3] : labels[m[1]] === m[3];
      if (req.startsWith('!')) return !Object.hasOwn(labels, req.slice(1).trim());
      return Object.hasOwn(labels, req);
    });
}
