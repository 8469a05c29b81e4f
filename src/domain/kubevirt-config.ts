/**
 * Reading the KubeVirt CR: its version, feature gates, VM rollout strategy,
 * workload update methods and network defaults, the way KubeVirt itself
 * interprets them. Pure functions over the CR as read (or undefined when it
 * could not be read); nothing here talks to a cluster.
 */
import type { KubeVirtCR, VMInterface, VMNetwork } from './types.js';
import { implicitDefault, KUBEVIRT_DEFAULT_NETWORK_INTERFACE } from './vmspec.js';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** The text the version was parsed from, e.g. "v1.5.2-rc.0". */
  raw: string;
  /** "rc.0", "beta.1.23+abc" ... or "" for a release. */
  prerelease: string;
}

/**
 * Parses "v1.5.2", "1.5", "v1.6.0-rc.1", "v1.4.0-beta.0.123+ab12cd" (KubeVirt's
 * observedKubeVirtVersion forms). Returns null for anything else.
 */
export function parseVersion(text: string | undefined | null): Version | null {
  if (!text) return null;
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+](.*))?$/.exec(text.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), raw: text, prerelease: m[4] ?? '' };
}

/**
 * Compares two versions by major, minor and patch. A pre-release of x.y.z
 * counts as x.y.z here: a "v1.6.0-rc.1" cluster already has v1.6's
 * behaviour, which is what the checks that use this care about.
 */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** True when `version` is at least `min` ("1.4", "v1.5.2"); false when `version` is unknown. */
export function versionAtLeast(version: Version | string | null | undefined, min: string): boolean {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  const m = parseVersion(min);
  if (!v || !m) return false;
  return compareVersions(v, m) >= 0;
}

/** The version KubeVirt reports it runs (status.observedKubeVirtVersion), parsed. */
export function kubevirtVersion(cr: KubeVirtCR | null | undefined): Version | null {
  return parseVersion(cr?.status?.observedKubeVirtVersion ?? (cr?.status?.operatorVersion as string | undefined));
}

/**
 * KubeVirt v1.2.0 to v1.5.1 set the VM's RestartRequired condition on any
 * change of the template's interfaces or networks, even a hot-plug, unplug or
 * link change it then applied live. Fixed in v1.6.0 and backported to v1.4.1
 * and v1.5.2 (reference: kubevirt-networking.md, "RestartRequired").
 */
export function restartRequiredOnAnyNetworkChange(version: Version | null): boolean {
  if (!version || version.major !== 1) return false;
  if (version.minor === 2 || version.minor === 3) return true;
  if (version.minor === 4) return version.patch < 1;
  if (version.minor === 5) return version.patch < 2;
  return false;
}

/**
 * The feature gates enabled in the CR. KubeVirt lists them as strings in
 * developerConfiguration.featureGates; newer CRs may also carry
 * `{name, enabled}` objects. Disabled ones (enabled: false, or listed in
 * disabledFeatureGates) are left out.
 */
export function enabledFeatureGates(cr: KubeVirtCR | null | undefined): string[] {
  const dev = cr?.spec?.configuration?.developerConfiguration;
  const out = new Set<string>();
  for (const g of (dev?.featureGates ?? []) as unknown[]) {
    if (typeof g === 'string') out.add(g);
    else if (g && typeof g === 'object' && typeof (g as { name?: unknown }).name === 'string' && (g as { enabled?: unknown }).enabled !== false) {
      out.add((g as { name: string }).name);
    }
  }
  for (const g of (dev?.disabledFeatureGates ?? []) as unknown[]) if (typeof g === 'string') out.delete(g);
  return [...out];
}

export function hasFeatureGate(cr: KubeVirtCR | null | undefined, gate: string): boolean {
  return enabledFeatureGates(cr).includes(gate);
}

export interface RolloutStrategy {
  /** "LiveUpdate", "Stage" or whatever the CR says. */
  value: string;
  /** False when the CR leaves it unset and `value` is KubeVirt's default for its version. */
  explicit: boolean;
}

/**
 * KubeVirt.spec.configuration.vmRolloutStrategy. Unset means LiveUpdate from
 * v1.6 on and Stage before; with an unknown version an unset strategy is
 * reported as LiveUpdate only when that cannot be wrong, so it is "Stage"
 * (the conservative reading that makes callers warn).
 */
export function vmRolloutStrategy(cr: KubeVirtCR | null | undefined): RolloutStrategy {
  const set = cr?.spec?.configuration?.vmRolloutStrategy;
  if (set) return { value: set, explicit: true };
  return { value: versionAtLeast(kubevirtVersion(cr), '1.6') ? 'LiveUpdate' : 'Stage', explicit: false };
}

/** KubeVirt.spec.workloadUpdateStrategy.workloadUpdateMethods (empty when unset: nothing migrates VMs). */
export function workloadUpdateMethods(cr: KubeVirtCR | null | undefined): string[] {
  return [...(cr?.spec?.workloadUpdateStrategy?.workloadUpdateMethods ?? [])];
}

export function liveMigrateEnabled(cr: KubeVirtCR | null | undefined): boolean {
  return workloadUpdateMethods(cr).includes('LiveMigrate');
}

/**
 * Whether this KubeVirt can hot-plug NICs: GA from v1.4, behind the
 * HotplugNICs gate in v1.1-v1.3, absent before (v1.0 had virtctl addinterface).
 */
export function nicHotplugSupport(cr: KubeVirtCR | null | undefined): { supported: boolean | 'unknown'; reason: string } {
  const v = kubevirtVersion(cr);
  if (!v) return { supported: 'unknown', reason: 'the KubeVirt version is not known yet (no observedKubeVirtVersion)' };
  if (versionAtLeast(v, '1.4')) return { supported: true, reason: `KubeVirt ${v.raw} supports NIC hot-plug (GA since v1.4)` };
  if (hasFeatureGate(cr, 'HotplugNICs')) return { supported: true, reason: `KubeVirt ${v.raw} with the HotplugNICs feature gate` };
  return { supported: false, reason: `KubeVirt ${v.raw} needs the HotplugNICs feature gate for NIC hot-plug (GA only from v1.4)` };
}

/** Link state (`state: up|down`) exists from v1.5. */
export function linkStateSupport(cr: KubeVirtCR | null | undefined): { supported: boolean | 'unknown'; reason: string } {
  const v = kubevirtVersion(cr);
  if (!v) return { supported: 'unknown', reason: 'the KubeVirt version is not known yet (no observedKubeVirtVersion)' };
  if (versionAtLeast(v, '1.5')) return { supported: true, reason: `KubeVirt ${v.raw} supports interface link state` };
  return { supported: false, reason: `KubeVirt ${v.raw} has no interface link state (added in v1.5); its admission rejects state up/down` };
}

/**
 * The pod-network interface KubeVirt gives a VMI whose spec has no
 * interfaces and no networks (pkg/network/vmispec/defaults.go): binding from
 * spec.configuration.network.defaultNetworkInterface, "bridge" when unset
 * (virt-config's default), named "default", on the pod network.
 */
export function defaultPodInterface(cr: KubeVirtCR | null | undefined): { iface: VMInterface; network: VMNetwork; binding: string; fromCluster: boolean } {
  const configured = cr?.spec?.configuration?.network?.defaultNetworkInterface;
  const binding = typeof configured === 'string' && configured ? configured : KUBEVIRT_DEFAULT_NETWORK_INTERFACE;
  return { ...implicitDefault(binding), binding, fromCluster: typeof configured === 'string' && configured !== '' };
}

/** The core bindings KubeVirt's admission discontinued (pkg/network/admitter/discontinued.go: "discontinued since v1.3"). */
export const DISCONTINUED_BINDINGS: readonly string[] = ['slirp', 'macvtap', 'passt'];

/** The fix for an interface on a binding KubeVirt does not accept, by binding. */
export function bindingFix(binding: string): string {
  if (binding === 'passt') return 'use passtBinding: {} (v1.8+, PasstBinding gate) or a passt network binding plugin (binding: {name: passt}), or masquerade';
  if (binding === 'slirp') return 'use a network binding plugin (binding: {name: slirp}) or masquerade on the pod network';
  if (binding === 'macvtap') return 'use a network binding plugin (binding: {name: macvtap}) or bridge binding';
  if (binding === 'passtBinding') return 'upgrade KubeVirt to v1.8+, or use masquerade on the pod network';
  return 'give the interface exactly one binding (e.g. bridge: {} on a multus network, masquerade: {} on the pod network)';
}

/**
 * Whether KubeVirt at `version` admits an interface with this binding
 * ("" = none). `admitted` is 'unknown' when the version is not known and
 * the answer depends on it. Keyed by version:
 *  - slirp, macvtap and the old passt key: rejected from v1.3 (KubeVirt's
 *    admission says "discontinued since v1.3"; v1.8 removed their last code);
 *  - passtBinding: the core passt binding from v1.8 (Beta, PasstBinding gate);
 *    earlier versions do not know the field;
 *  - no binding at all: rejected from v1.9 (before, KubeVirt picked a default).
 */
export function bindingAdmission(binding: string, version: Version | null): { admitted: boolean | 'unknown'; reason: string } {
  const at = version ? `KubeVirt ${version.raw}` : 'KubeVirt';
  if (DISCONTINUED_BINDINGS.includes(binding)) {
    if (!version) return { admitted: 'unknown', reason: `the core ${binding} binding is discontinued: KubeVirt's admission rejects it from v1.3 on (and v1.8 removed it)` };
    if (versionAtLeast(version, '1.3')) return { admitted: false, reason: `the core ${binding} binding is discontinued: ${at}'s admission rejects it` };
    return { admitted: true, reason: `${at} still has the core ${binding} binding (discontinued from v1.3)` };
  }
  if (binding === 'passtBinding') {
    if (!version) return { admitted: 'unknown', reason: 'passtBinding exists from KubeVirt v1.8 (Beta, PasstBinding gate)' };
    if (versionAtLeast(version, '1.8')) return { admitted: true, reason: `${at} has the core passtBinding (Beta, PasstBinding gate)` };
    return { admitted: false, reason: `${at} has no passtBinding (added in v1.8): the field is dropped and the interface has no binding` };
  }
  if (binding === '') {
    if (!version) return { admitted: 'unknown', reason: 'KubeVirt v1.9 and later reject an interface with no binding' };
    if (versionAtLeast(version, '1.9')) return { admitted: false, reason: `${at}'s admission rejects an interface with no binding` };
    return { admitted: true, reason: `${at} gives an interface with no binding its default; v1.9 and later reject it` };
  }
  return { admitted: true, reason: `${at} admits ${binding}` };
}

/**
 * Hook sidecars (hooks.kubevirt.io/hookSidecars, the Sidecar gate) are
 * deprecated from v1.9 in favour of the Plugins CRD (plugin.kubevirt.io,
 * alpha); the Sidecar gate itself is still alpha. False when the version is
 * not known.
 */
export function hookSidecarsDeprecated(version: Version | null): boolean {
  return versionAtLeast(version, '1.9');
}

/**
 * Whether a running VM's NIC can move to another NAD live (a change of
 * networks[].multus.networkName): Beta in v1.8 behind the LiveUpdateNADRef
 * gate, GA from v1.9. Live means virt-controller copies the name into the VMI
 * and a live migration moves the VM to a pod attached to the new NAD; without
 * it KubeVirt sets RestartRequired and the VM gets the new NAD when it restarts.
 */
export function nadChangeSupport(cr: KubeVirtCR | null | undefined): { live: boolean | 'unknown'; reason: string } {
  const v = kubevirtVersion(cr);
  if (!v) return { live: 'unknown', reason: 'the KubeVirt version is not known yet (no observedKubeVirtVersion)' };
  if (versionAtLeast(v, '1.9')) return { live: true, reason: `KubeVirt ${v.raw} moves a NIC to another NAD live (GA since v1.9)` };
  if (versionAtLeast(v, '1.8')) {
    return hasFeatureGate(cr, 'LiveUpdateNADRef')
      ? { live: true, reason: `KubeVirt ${v.raw} with the LiveUpdateNADRef feature gate` }
      : { live: false, reason: `KubeVirt ${v.raw} needs the LiveUpdateNADRef feature gate to move a NIC to another NAD live (Beta in v1.8, GA in v1.9)` };
  }
  return { live: false, reason: `KubeVirt ${v.raw} cannot move a NIC to another NAD live (added in v1.8 behind LiveUpdateNADRef, GA in v1.9)` };
}

/**
 * The KubeVirt CR an edit's advice is read from, or undefined when there is none to read: a note
 * says which checks were skipped when it was not read, a warning when KubeVirt is not installed.
 */
export function kubevirtForAdvice(
  facts: { kubevirt?: KubeVirtCR | null; kubevirtUnreadable?: string },
  skipped: string,
  notes: string[],
  warn: (code: string, message: string) => void,
): KubeVirtCR | undefined {
  if (facts.kubevirt === undefined) {
    notes.push(`KubeVirt CR not checked${facts.kubevirtUnreadable ? ` (${facts.kubevirtUnreadable})` : ''}: ${skipped} checks skipped`);
    return undefined;
  }
  if (facts.kubevirt === null) {
    warn('kubevirt-missing', 'no KubeVirt CR found in the cluster: nothing will act on this edit until KubeVirt is installed');
    return undefined;
  }
  return facts.kubevirt;
}
