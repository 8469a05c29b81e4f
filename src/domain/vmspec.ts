import { createHash } from 'node:crypto';
/**
 * Reading a VM or VMI spec: interfaces, networks, bindings and network
 * references, the way KubeVirt interprets them. Pure functions over plain
 * objects; nothing here talks to a cluster.
 */
import type { BindingName, VirtualMachine, VMInterface, VMISpecLike, VMNetwork } from './types.js';

/** KubeVirt's interface/network name rule (pkg/network/admitter). */
export const INTERFACE_NAME_RE = /^[A-Za-z0-9-_]+$/;

export const BINDINGS: readonly BindingName[] = ['bridge', 'masquerade', 'sriov', 'slirp', 'passt', 'passtBinding', 'macvtap', 'binding'];

/** The bindings KubeVirt can plug into a running VM (pkg/network/controllers/vm.go): bridge and SR-IOV only. */
export const HOTPLUG_BINDINGS: readonly string[] = ['bridge', 'sriov'];

export const INTERFACE_MODELS = ['e1000', 'e1000e', 'igb', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio'] as const;

/** The interfaces list; [] when missing or not a list (a malformed manifest; see specShapeProblem). */
export function interfacesOf(spec: VMISpecLike | undefined): VMInterface[] {
  const l = spec?.domain?.devices?.interfaces;
  return Array.isArray(l) ? l : [];
}

/** The networks list; [] when missing or not a list (a malformed manifest; see specShapeProblem). */
export function networksOf(spec: VMISpecLike | undefined): VMNetwork[] {
  const l = spec?.networks;
  return Array.isArray(l) ? l : [];
}

/**
 * What is wrong with the shape of a spec's interface and network lists, or
 * null: a list that is not a list, an entry that is not an object with a
 * string name. The API server's schema rejects these, but a manifest file
 * can hold anything; planners refuse such a spec instead of guessing.
 */
export function specShapeProblem(spec: VMISpecLike | undefined): string | null {
  const lists: [string, unknown][] = [
    ['spec.template.spec.domain.devices.interfaces', spec?.domain?.devices?.interfaces],
    ['spec.template.spec.networks', spec?.networks],
  ];
  for (const [where, l] of lists) {
    if (l === undefined || l === null) continue;
    if (!Array.isArray(l)) return `${where} is not a list`;
    const bad = l.findIndex((e) => e === null || typeof e !== 'object' || Array.isArray(e) || typeof (e as { name?: unknown }).name !== 'string');
    if (bad >= 0) return `${where}[${bad}] is not an object with a string name`;
  }
  return null;
}

/** The binding of an interface: "bridge", "sriov", ..., the plugin name for `binding: {name}`, or "" when none is set. */
export function bindingOf(iface: VMInterface): string {
  for (const b of BINDINGS) {
    if (b === 'binding') continue;
    if (iface[b] !== undefined && iface[b] !== null) return b;
  }
  if (iface.binding?.name) return `binding:${iface.binding.name}`;
  return '';
}

/** Every binding key set on an interface (admission allows exactly one). */
export function bindingKeysOf(iface: VMInterface): string[] {
  return BINDINGS.filter((b) => iface[b] !== undefined && iface[b] !== null);
}

export interface NetworkRef {
  kind: 'pod' | 'multus' | 'resourceClaim' | 'none';
  /** For resourceClaim: "claim" or "claim/request". */
  claim?: string;
  /** For multus: the NAD as "ns/name" (namespace defaulted to the VM's). */
  nad?: string;
  /** multus default network (replaces the pod network). */
  multusDefault?: boolean;
}

/** "name" or "ns/name" -> [ns, name], the namespace defaulting to the VM's. */
export function splitNadName(networkName: string, vmNamespace: string): { namespace: string; name: string } {
  const i = networkName.indexOf('/');
  return i >= 0 ? { namespace: networkName.slice(0, i), name: networkName.slice(i + 1) } : { namespace: vmNamespace, name: networkName };
}

export function networkRefOf(net: VMNetwork | undefined, vmNamespace: string): NetworkRef {
  if (!net) return { kind: 'none' };
  if (net.pod !== undefined) return { kind: 'pod' };
  if (net.multus?.networkName) {
    const { namespace, name } = splitNadName(net.multus.networkName, vmNamespace);
    return { kind: 'multus', nad: `${namespace}/${name}`, multusDefault: Boolean(net.multus.default) };
  }
  if (net.resourceClaim && typeof net.resourceClaim === 'object') {
    const { claimName, requestName } = net.resourceClaim;
    return { kind: 'resourceClaim', claim: [claimName ?? '?', requestName].filter(Boolean).join('/') };
  }
  return { kind: 'none' };
}

/** What a NETWORK column shows: "pod", "ns/nad", "claim:NAME[/REQUEST]" for a DRA network, or "" when unknown. */
export function networkLabel(ref: NetworkRef): string {
  if (ref.kind === 'resourceClaim') return `claim:${ref.claim}`;
  return ref.kind === 'pod' ? 'pod' : ref.kind === 'multus' ? (ref.nad ?? '') : '';
}

/** The name of a network binding plugin (`binding: {name}`), or undefined for a core binding. */
export function pluginNameOf(binding: string | null | undefined): string | undefined {
  return binding?.startsWith('binding:') ? binding.slice('binding:'.length) : undefined;
}

/** How a message names a binding: "bridge binding", or "the network binding plugin NAME". */
export function describeBinding(binding: string | null | undefined): string {
  const plugin = pluginNameOf(binding);
  return plugin ? `the network binding plugin ${plugin}` : binding ? `${binding} binding` : 'no binding';
}

/** True when the network is the VM's primary one (pod, or multus default). */
export function isPrimaryNetwork(net: VMNetwork | undefined): boolean {
  return Boolean(net && (net.pod !== undefined || net.multus?.default));
}

/**
 * KubeVirt's built-in binding for the implicit default interface when the
 * KubeVirt CR leaves spec.configuration.network.defaultNetworkInterface unset
 * (pkg/virt-config: DefaultNetworkInterface = "bridge").
 */
export const KUBEVIRT_DEFAULT_NETWORK_INTERFACE = 'bridge';

/**
 * The implicit default: a spec with no interfaces and no networks gets one
 * `default` pod network when its VMI is created (unless
 * autoattachPodInterface is false), as KubeVirt's vmispec defaults
 * (SetDefaultNetworkInterface) do.
 */
export function hasImplicitDefaultNetwork(spec: VMISpecLike | undefined): boolean {
  const none = (l: unknown) => l === undefined || l === null || (Array.isArray(l) && l.length === 0);
  return none(spec?.domain?.devices?.interfaces) && none(spec?.networks) && spec?.domain?.devices?.autoattachPodInterface !== false;
}

/**
 * The implicit default interface and network. The binding is the KubeVirt
 * CR's defaultNetworkInterface when given (see kubevirt-config.ts
 * defaultPodInterface), else KubeVirt's built-in default, bridge.
 */
export function implicitDefault(binding: string = KUBEVIRT_DEFAULT_NETWORK_INTERFACE): { iface: VMInterface; network: VMNetwork } {
  return { iface: { name: 'default', [binding]: {} } as VMInterface, network: { name: 'default', pod: {} } };
}

/** The VM is meant to run (runStrategy Always/RerunOnFailure/Once or running: true). */
export function vmWantsToRun(vm: VirtualMachine): boolean {
  const rs = vm.spec?.runStrategy;
  if (rs) return rs === 'Always' || rs === 'RerunOnFailure' || rs === 'Once';
  return vm.spec?.running === true;
}

/**
 * The launcher pod's name for a secondary network's interface:
 * "pod" + the first 11 hex characters of sha256(network name), as
 * KubeVirt's namescheme has done since v1.0 (pkg/network/namescheme).
 */
export function hashedPodInterfaceName(networkName: string): string {
  return `pod${createHash('sha256').update(networkName).digest('hex').slice(0, 11)}`;
}
