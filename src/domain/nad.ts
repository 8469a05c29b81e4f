/**
 * NetworkAttachmentDefinition analysis: which CNI plugins a NAD runs, and
 * what that means for KubeVirt (bridge binding with macvlan/ipvlan, custom
 * MACs, spoof checking, Kube-OVN Subnets). Pure functions over the NAD as
 * read; the hotplug planner, the doctor and the MAC commands share them.
 */
import type { Condition, NetworkAttachmentDefinition, ObjectMeta } from './types.js';

/** One CNI plugin configuration: `type` plus whatever the plugin takes. */
export interface CniPlugin {
  type: string;
  [key: string]: unknown;
}

export interface NadConfig {
  /** The plugins in order: the single plugin, or the `plugins` list of a conflist. */
  plugins: CniPlugin[];
  /** True when the config is a conflist (`plugins: [...]`). */
  isList: boolean;
  /** Set when spec.config is missing, empty or not a JSON object with a type or plugins. */
  error?: string;
}

/**
 * Parses spec.config. An empty config is legal (Multus then reads a file
 * named after the NAD on the node), but nothing can be learned from it.
 */
export function parseNadConfig(nad: Pick<NetworkAttachmentDefinition, 'spec'>): NadConfig {
  const text = nad.spec?.config;
  if (!text || !text.trim()) return { plugins: [], isList: false, error: 'spec.config is empty (Multus reads the configuration from a file on the node)' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { plugins: [], isList: false, error: `spec.config is not valid JSON: ${(err as Error).message}` };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { plugins: [], isList: false, error: 'spec.config is not a JSON object' };
  const obj = doc as Record<string, unknown>;
  if (Array.isArray(obj.plugins)) {
    const plugins = obj.plugins.filter((p): p is CniPlugin => Boolean(p) && typeof p === 'object' && typeof (p as { type?: unknown }).type === 'string');
    return plugins.length > 0 ? { plugins, isList: true } : { plugins: [], isList: true, error: 'spec.config has a plugins list without any plugin type' };
  }
  if (typeof obj.type === 'string' && obj.type) return { plugins: [obj as CniPlugin], isList: false };
  return { plugins: [], isList: false, error: 'spec.config has neither "type" nor "plugins"' };
}

/** The CNI plugin types of a NAD, in order ("bridge", "tuning" ...). */
export function cniTypes(nad: Pick<NetworkAttachmentDefinition, 'spec'>): string[] {
  return parseNadConfig(nad).plugins.map((p) => p.type);
}

/** The main plugin: the first one (later ones in a conflist are chained: tuning, portmap ...). */
export function mainCniType(nad: Pick<NetworkAttachmentDefinition, 'spec'>): string | undefined {
  return cniTypes(nad)[0];
}

/** "ns/name" of a NAD. */
export function nadRef(nad: { metadata: Pick<ObjectMeta, 'name' | 'namespace'> }): string {
  return `${nad.metadata.namespace ?? ''}/${nad.metadata.name}`;
}

/** CNI types that cannot carry a KubeVirt bridge binding (kubevirt#5483, #7001). */
export const BRIDGE_INCOMPATIBLE_TYPES = ['macvlan', 'ipvlan'] as const;

/**
 * Why bridge binding will not work on this NAD, or undefined when nothing
 * speaks against it: macvlan and ipvlan (anywhere in a plugins list) give
 * the pod an interface KubeVirt cannot enslave to its in-pod bridge.
 */
export function bridgeBindingProblem(nad: Pick<NetworkAttachmentDefinition, 'spec'>): string | undefined {
  const bad = cniTypes(nad).filter((t) => (BRIDGE_INCOMPATIBLE_TYPES as readonly string[]).includes(t));
  if (bad.length === 0) return undefined;
  return `its CNI type ${bad.join(', ')} does not work with KubeVirt's bridge binding (the guest gets no traffic: kubevirt/kubevirt#5483, #7001)`;
}

// --- Kube-OVN -------------------------------------------------------------

/** A cluster-scoped subnets.kubeovn.io object, the fields used here. */
export interface KubeOvnSubnet {
  metadata: ObjectMeta;
  spec?: { provider?: string; cidrBlock?: string; [key: string]: unknown };
  status?: { conditions?: Condition[]; [key: string]: unknown };
}

export function isKubeOvnNad(nad: Pick<NetworkAttachmentDefinition, 'spec'>): boolean {
  return cniTypes(nad).includes('kube-ovn');
}

/** The provider a Kube-OVN NAD must name and its Subnet must carry: "<nad>.<ns>.ovn". */
export function expectedKubeOvnProvider(nad: { metadata: Pick<ObjectMeta, 'name' | 'namespace'> }): string {
  return `${nad.metadata.name}.${nad.metadata.namespace ?? ''}.ovn`;
}

/** The provider a Kube-OVN NAD declares in its config ("provider"), or undefined. */
export function declaredKubeOvnProvider(nad: Pick<NetworkAttachmentDefinition, 'spec'>): string | undefined {
  const p = parseNadConfig(nad).plugins.find((x) => x.type === 'kube-ovn');
  return typeof p?.provider === 'string' && p.provider ? p.provider : undefined;
}

/** Ready condition of a Subnet: true / false, or undefined when it reports none yet. */
export function subnetReady(subnet: KubeOvnSubnet): boolean | undefined {
  const c = subnet.status?.conditions?.find((x) => x.type === 'Ready');
  return c ? c.status === 'True' : undefined;
}

export interface KubeOvnCheck {
  /** The provider looked for: "<nad>.<ns>.ovn". */
  provider: string;
  /** Set when the NAD's config names another provider (Kube-OVN will not find the Subnet). */
  providerMismatch?: string;
  /** The Subnets serving that provider (normally one). */
  subnets: KubeOvnSubnet[];
  /** A problem that makes attachments fail; undefined when the NAD is served. */
  problem?: string;
  /** Something worth a warning that does not block (Subnet not Ready, provider spelled differently). */
  warning?: string;
  /** The Subnet the VM's logical_switch annotation names, when it names one. */
  named?: { annotation: string; subnet: string };
  /** What to do about `problem`. */
  fix?: string;
}

/**
 * Checks a Kube-OVN NAD against the cluster's Subnets: the NAD must declare
 * provider "<nad>.<ns>.ovn" and the Subnet serving it should be Ready. That
 * Subnet is the one the pod annotation "<provider>.kubernetes.io/logical_switch"
 * names (`annotations`: the VM template's, which reach the launcher pod), else
 * the Subnets whose spec.provider is the provider.
 */
export function checkKubeOvnNad(nad: NetworkAttachmentDefinition, subnets: readonly KubeOvnSubnet[], annotations?: Record<string, string>): KubeOvnCheck {
  const provider = expectedKubeOvnProvider(nad);
  const declared = declaredKubeOvnProvider(nad);
  const switchKey = `${provider}.kubernetes.io/logical_switch`;
  const named = annotations?.[switchKey];
  const result: KubeOvnCheck = { provider, subnets: named ? subnets.filter((s) => s.metadata.name === named) : subnets.filter((s) => s.spec?.provider === provider) };
  if (named) result.named = { annotation: switchKey, subnet: named };
  if (declared !== undefined && declared !== provider) {
    result.providerMismatch = `the NAD declares provider "${declared}", but Kube-OVN looks for "${provider}" (<nad>.<namespace>.ovn)`;
  }
  if (named && result.subnets.length === 0) {
    result.problem = `the VM's annotation ${switchKey} names Kube-OVN Subnet "${named}", which does not exist: the attachment gets no address and the pod stays pending`;
    result.fix = `create Subnet ${named}, or fix the annotation ${switchKey} in the VM template`;
    return result;
  }
  if (result.subnets.length === 0) {
    result.fix = `create a Subnet with spec.provider: ${provider}${result.providerMismatch ? `, and set "provider": "${provider}" in the NAD` : ''}, or name an existing Subnet in the VM template's annotation ${switchKey}`;
    const other = declared && declared !== provider ? subnets.filter((s) => s.spec?.provider === declared) : [];
    result.problem =
      `no Kube-OVN Subnet has provider "${provider}"` +
      (other.length > 0 ? ` (Subnet ${other.map((s) => s.metadata.name).join(', ')} has the NAD's declared provider "${declared}")` : '') +
      ': the attachment gets no address and the pod stays pending';
    return result;
  }
  const warnings: string[] = [];
  if (result.providerMismatch) warnings.push(result.providerMismatch);
  const notReady = result.subnets.filter((s) => subnetReady(s) === false);
  if (notReady.length === result.subnets.length) {
    warnings.push(`Kube-OVN Subnet ${notReady.map((s) => s.metadata.name).join(', ')} for provider "${provider}" is not Ready`);
  }
  if (warnings.length > 0) result.warning = warnings.join('; ');
  return result;
}

// --- MAC addresses ----------------------------------------------------------

export type Support = 'yes' | 'no' | 'unknown';

export interface CustomMacSupport {
  supported: Support;
  /** Why, in words ("bridge sets the MAC natively", "flannel needs a chained tuning plugin"). */
  reason: string;
  /** What to change when it is not supported. */
  fix?: string;
}

/** Main plugins that set a requested MAC themselves. */
const NATIVE_MAC_TYPES = ['bridge', 'ovs'];
/** Main plugins that need a chained `tuning` plugin to set a MAC. */
const TUNING_MAC_TYPES = ['flannel', 'ptp'];

/**
 * Whether a custom MAC requested for an attachment of this NAD takes effect:
 * native in ovs and bridge; via a chained `tuning` plugin in flannel and ptp;
 * SR-IOV (vfio, KubeVirt sets the VF's MAC) needs nothing.
 */
export function customMacSupport(nad: Pick<NetworkAttachmentDefinition, 'spec'>): CustomMacSupport {
  const cfg = parseNadConfig(nad);
  const main = cfg.plugins[0]?.type;
  if (!main) return { supported: 'unknown', reason: cfg.error ?? 'the NAD has no CNI type' };
  const chained = cfg.plugins.slice(1).map((p) => p.type);
  if (main === 'sriov') return { supported: 'yes', reason: 'SR-IOV: KubeVirt sets the VF\'s MAC itself' };
  if (NATIVE_MAC_TYPES.includes(main)) return { supported: 'yes', reason: `the ${main} plugin sets a requested MAC natively` };
  if (TUNING_MAC_TYPES.includes(main)) {
    if (chained.includes('tuning')) return { supported: 'yes', reason: `the chained tuning plugin sets the MAC for ${main}` };
    return {
      supported: 'no',
      reason: `the ${main} plugin does not set a requested MAC without a chained tuning plugin`,
      fix: `turn spec.config into a conflist with {"type": "tuning", "capabilities": {"mac": true}} after ${main}`,
    };
  }
  if (chained.includes('tuning')) return { supported: 'yes', reason: `the chained tuning plugin sets the MAC for ${main}` };
  return { supported: 'unknown', reason: `not known whether the ${main} plugin honours a requested MAC` };
}

export interface SpoofCheck {
  enabled: boolean;
  /** "bridge macspoofchk" or "sriov spoofchk" when enabled. */
  setting?: string;
}

/**
 * MAC spoof checking in the NAD: bridge `macspoofchk: true`, sriov
 * `spoofchk: "on"`. With it on, frames from a MAC the CNI never learned (a
 * MAC set in the guest only, e.g. by the netconf sidecar) are dropped.
 */
export function spoofCheck(nad: Pick<NetworkAttachmentDefinition, 'spec'>): SpoofCheck {
  for (const p of parseNadConfig(nad).plugins) {
    if (p.type === 'bridge' && p.macspoofchk === true) return { enabled: true, setting: 'bridge macspoofchk' };
    if (p.type === 'sriov' && typeof p.spoofchk === 'string' && p.spoofchk.toLowerCase() === 'on') return { enabled: true, setting: 'sriov spoofchk' };
  }
  return { enabled: false };
}

/** Everything the tool knows about one NAD, for display and checks. */
export interface NadAnalysis {
  ref: string;
  types: string[];
  mainType?: string;
  configError?: string;
  bridgeBindingProblem?: string;
  kubeOvn: boolean;
  customMac: CustomMacSupport;
  spoofCheck: SpoofCheck;
}

export function analyzeNad(nad: NetworkAttachmentDefinition): NadAnalysis {
  const cfg = parseNadConfig(nad);
  const types = cfg.plugins.map((p) => p.type);
  return {
    ref: nadRef(nad),
    types,
    mainType: types[0],
    configError: cfg.error,
    bridgeBindingProblem: bridgeBindingProblem(nad),
    kubeOvn: types.includes('kube-ovn'),
    customMac: customMacSupport(nad),
    spoofCheck: spoofCheck(nad),
  };
}
