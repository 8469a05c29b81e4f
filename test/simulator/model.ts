// Pure helpers of the node-side simulator: KubeVirt's naming and annotation
// formats, written from KubeVirt's behaviour (pkg/network/namescheme,
// pkg/network/vmispec, the netconf hook sidecar).
import { createHash } from 'node:crypto';
import type { Obj } from './kube.ts';

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';
export const NETCONF_MAC_ANNOTATION = 'netconf.kubevirt.io/macAddress';
export const IGNORE_ANNOTATION = 'sim.kubectl-vnet.io/ignore';

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Deep equality of JSON values, ignoring key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a as Obj).filter((k) => (a as Obj)[k] !== undefined);
  const kb = Object.keys(b as Obj).filter((k) => (b as Obj)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => jsonEqual((a as Obj)[k], (b as Obj)[k]));
}

/** "pod" + the first 11 hex characters of sha256(network name) (namescheme). */
export function podInterfaceName(networkName: string): string {
  return 'pod' + createHash('sha256').update(networkName).digest('hex').slice(0, 11);
}

/** A locally administered unicast MAC that is stable for the seed. */
export function stableMac(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  const bytes = [0x02, h[0], h[1], h[2], h[3], h[4]];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Go's net.ParseMAC for 6-byte addresses, normalised to aa:bb:cc:dd:ee:ff; null if invalid. */
export function parseMac(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  let hex: string | null = null;
  if (/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s) || /^([0-9a-fA-F]{2}-){5}[0-9a-fA-F]{2}$/.test(s)) hex = s.replace(/[:-]/g, '');
  else if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(s)) hex = s.replace(/\./g, '');
  if (!hex) return null;
  return hex.toLowerCase().match(/../g)!.join(':');
}

export function interfacesOf(spec: Obj | undefined): Obj[] {
  const l = spec?.domain?.devices?.interfaces;
  return Array.isArray(l) ? l.filter((i) => i && typeof i === 'object') : [];
}

export function networksOf(spec: Obj | undefined): Obj[] {
  const l = spec?.networks;
  return Array.isArray(l) ? l.filter((n) => n && typeof n === 'object') : [];
}

export function bindingOf(iface: Obj): string {
  for (const b of ['bridge', 'masquerade', 'sriov', 'slirp', 'passt', 'macvtap']) if (iface[b] && typeof iface[b] === 'object') return b;
  if (iface.binding?.name) return String(iface.binding.name);
  return 'bridge';
}

export function isAbsent(iface: Obj | undefined): boolean {
  return iface?.state === 'absent';
}

/** A multus network that is not the multus default network (IsSecondaryMultusNetwork). */
export function isSecondaryMultus(net: Obj | undefined): boolean {
  return Boolean(net?.multus && typeof net.multus === 'object' && !net.multus.default);
}

/** The network that backs the pod's primary interface: the pod network or the multus default. */
export function isPrimaryNetwork(net: Obj | undefined): boolean {
  return Boolean(net?.pod || (net?.multus && net.multus.default));
}

/** "ns/nad" for a multus networkName of "nad" or "ns/nad" (NetAttachDefNamespacedName). */
export function nadNamespacedName(namespace: string, networkName: unknown): { namespace: string; name: string } {
  const s = String(networkName ?? '');
  const i = s.indexOf('/');
  return i >= 0 ? { namespace: s.slice(0, i), name: s.slice(i + 1) } : { namespace, name: s };
}

export interface NetconfResult {
  macs: Map<string, string>;
  error?: string;
}

/**
 * The netconf sidecar's view of its annotation: a JSON list of
 * {name, macAddress}. Malformed JSON or shapes make the sidecar fail (it
 * panics in KubeVirt's example); so does a MAC libvirt cannot parse.
 */
export function parseNetconf(value: unknown): NetconfResult {
  const macs = new Map<string, string>();
  if (value === undefined || value === null) return { macs };
  if (typeof value !== 'string') return { macs, error: 'the annotation value is not a string' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    return { macs, error: `invalid JSON: ${(err as Error).message}` };
  }
  if (!Array.isArray(parsed)) return { macs, error: 'expected a JSON list of {name, macAddress}' };
  for (const [i, e] of parsed.entries()) {
    if (!e || typeof e !== 'object' || Array.isArray(e)) return { macs, error: `entry ${i} is not an object` };
    const { name, macAddress } = e as Obj;
    if (typeof name !== 'string' || typeof macAddress !== 'string') return { macs, error: `entry ${i}: name and macAddress must be strings` };
    const mac = parseMac(macAddress);
    if (!mac) return { macs, error: `entry ${i}: libvirt cannot parse MAC address ${JSON.stringify(macAddress)}` };
    macs.set(name, mac);
  }
  return { macs };
}

/**
 * True when the hookSidecars value runs the netconf sidecar (an image whose
 * repository name contains "netconf"). Only that sidecar reads the netconf
 * annotation: without it KubeVirt never looks at the annotation.
 */
export function runsNetconfSidecar(hooks: unknown): boolean {
  return parseList(hooks).some((h) => {
    if (typeof h.image !== 'string') return false;
    const repo = h.image.split('@')[0].split('/').pop() ?? '';
    return /netconf/i.test(repo.split(':')[0]);
  });
}

/** Parses a JSON list annotation; [] when missing or malformed. */
export function parseList(value: unknown): Obj[] {
  if (typeof value !== 'string') return [];
  try {
    const v = JSON.parse(value);
    return Array.isArray(v) ? v.filter((e) => e && typeof e === 'object') : [];
  } catch {
    return [];
  }
}

export function infoSources(entry: Obj | undefined): string[] {
  return String(entry?.infoSource ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Canonical order: domain, guest-agent, multus-status. */
export function joinInfoSources(list: string[]): string {
  const order = ['domain', 'guest-agent', 'multus-status'];
  const set = new Set(list);
  return [...order.filter((s) => set.has(s)), ...[...set].filter((s) => !order.includes(s))].join(', ');
}

/** A condition list with one condition set, keeping lastTransitionTime when the status did not change. */
export function setCondition(list: Obj[] | undefined, cond: Obj, now: string): Obj[] {
  const out = (Array.isArray(list) ? list : []).filter((c) => c?.type !== cond.type);
  const old = (Array.isArray(list) ? list : []).find((c) => c?.type === cond.type);
  const next: Obj = { ...cond, lastProbeTime: null, lastTransitionTime: old && old.status === cond.status ? old.lastTransitionTime : now };
  if (old && old.status === cond.status && old.reason === cond.reason && old.message === cond.message) next.lastProbeTime = old.lastProbeTime ?? null;
  out.push(next);
  return out;
}

/** The controller owner reference of obj, if any. */
export function controllerRef(obj: Obj): Obj | undefined {
  const refs = obj?.metadata?.ownerReferences;
  return Array.isArray(refs) ? refs.find((r) => r?.controller) : undefined;
}

export function isIgnored(obj: Obj | undefined): boolean {
  return obj?.metadata?.annotations?.[IGNORE_ANNOTATION] === 'true';
}
