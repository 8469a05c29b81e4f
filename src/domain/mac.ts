/**
 * MAC addresses: parsing the way KubeVirt's admission does (Go's
 * net.ParseMAC, 6 bytes only), the refusals and warnings kubectl-vnet adds,
 * and collision detection over every MAC a VM or VMI claims. Pure functions.
 */
import { option, refused, usageError } from '../errors.js';
import { parseNetconfAnnotation, NETCONF_ANNOTATION } from './netconf.js';
import type { VirtualMachine, VirtualMachineInstance, VMInterface, Warning } from './types.js';
import { bindingOf, interfacesOf } from './vmspec.js';

/** The MAC KubeVirt reserves for the in-pod bridge of a masquerade interface. */
export const MASQUERADE_RESERVED_MAC = '02:00:00:00:00:00';

const HEX2 = /^[0-9A-Fa-f]{2}$/;

/**
 * Go's net.ParseMAC, byte for byte: groups of two hex digits separated by
 * ':' or '-' (one separator throughout, the one at index 2), or groups of
 * four hex digits separated by '.'. Returns the bytes, or null when Go would
 * fail. Go accepts 6, 8 or 20 bytes; the caller decides which lengths it takes.
 */
export function goParseMac(s: string): number[] | null {
  if (s.length < 14) return null;
  const bytes: number[] = [];
  if (s[2] === ':' || s[2] === '-') {
    if ((s.length + 1) % 3 !== 0) return null;
    const n = (s.length + 1) / 3;
    if (n !== 6 && n !== 8 && n !== 20) return null;
    const sep = s[2];
    for (let i = 0; i < n; i++) {
      const group = s.slice(i * 3, i * 3 + 2);
      if (!HEX2.test(group)) return null;
      if (i < n - 1 && s[i * 3 + 2] !== sep) return null;
      bytes.push(parseInt(group, 16));
    }
    return bytes;
  }
  if (s[4] === '.') {
    if ((s.length + 1) % 5 !== 0) return null;
    const n = (2 * (s.length + 1)) / 5;
    if (n !== 6 && n !== 8 && n !== 20) return null;
    for (let g = 0; g < n / 2; g++) {
      const hi = s.slice(g * 5, g * 5 + 2);
      const lo = s.slice(g * 5 + 2, g * 5 + 4);
      if (!HEX2.test(hi) || !HEX2.test(lo)) return null;
      if (g < n / 2 - 1 && s[g * 5 + 4] !== '.') return null;
      bytes.push(parseInt(hi, 16), parseInt(lo, 16));
    }
    return bytes;
  }
  return null;
}

function colonForm(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const ACCEPTED = 'aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff';

/**
 * Parses a MAC the user typed and returns it in lowercase colon form.
 * Refuses (usage error) what KubeVirt would reject and what can never work
 * on an interface: not 6 bytes, multicast (which includes broadcast), all
 * zero.
 */
export function parseMac(input: string): string {
  const s = input.trim();
  const bytes = goParseMac(s);
  if (!bytes) throw usageError(`"${input}" is not a MAC address`, `write it as ${ACCEPTED}`);
  if (bytes.length !== 6) throw usageError(`"${input}" is a ${bytes.length}-byte hardware address; an interface MAC has 6 bytes`, `write it as ${ACCEPTED}`);
  const mac = colonForm(bytes);
  if (bytes.every((b) => b === 0xff)) throw usageError(`${mac} is the broadcast address; it cannot be an interface MAC`, 'pick a unicast address, e.g. one starting with 02 (locally administered)');
  if (bytes.every((b) => b === 0)) throw usageError(`${mac} is the all-zero address; it cannot be an interface MAC`, 'pick a unicast address, e.g. one starting with 02 (locally administered)');
  if (bytes[0] & 0x01) throw usageError(`${mac} is a multicast address (the low bit of its first octet is set); an interface MAC must be unicast`, `clear that bit (and set the locally administered one): e.g. ${colonForm([(bytes[0] & 0xfe) | 0x02, ...bytes.slice(1)])}`);
  return mac;
}

/** The lowercase colon form of any MAC Go would parse as 6 bytes, or null. Never throws. */
export function normaliseMac(input: string | undefined | null): string | null {
  if (typeof input !== 'string') return null;
  const bytes = goParseMac(input);
  return bytes && bytes.length === 6 ? colonForm(bytes) : null;
}

/** True when the universal/local bit is clear: the address belongs to a vendor's OUI. */
export function isGloballyAdministered(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return (first & 0x02) === 0;
}

/** Warnings about a (parsed, valid) MAC itself. */
export function macWarnings(mac: string): Warning[] {
  if (!isGloballyAdministered(mac)) return [];
  return [
    {
      code: 'mac-globally-administered',
      message: `${mac} is a globally administered (vendor OUI) address; it may clash with real hardware on the same L2 segment. A locally administered address (second-lowest bit of the first octet set, e.g. 02:...) is safer`,
    },
  ];
}

/** Refuses a MAC an interface cannot take: 02:00:00:00:00:00 is reserved on masquerade. */
export function checkMacForInterface(mac: string, iface: VMInterface): void {
  if (mac === MASQUERADE_RESERVED_MAC && bindingOf(iface) === 'masquerade') {
    throw refused(
      `${mac} is reserved by KubeVirt for the in-pod bridge of a masquerade interface; interface "${iface.name}" uses masquerade`,
      'pick another MAC for this interface',
    );
  }
}

/** A MAC as a number, for range comparisons. */
export function macToNumber(mac: string): bigint {
  return BigInt('0x' + mac.replaceAll(':', ''));
}

/** True when mac lies in [start, end] (inclusive); bounds in any form Go parses. */
export function macInRange(mac: string, start: string, end: string): boolean {
  const s = normaliseMac(start);
  const e = normaliseMac(end);
  if (!s || !e) return false;
  const m = macToNumber(mac);
  return m >= macToNumber(s) && m <= macToNumber(e);
}

// ---------------------------------------------------------------------------
// Collisions

export type MacSource = 'spec' | 'netconf' | 'status';

/** One claim on a MAC: an interface of a VM or VMI, and where the MAC came from. */
export interface MacUse {
  mac: string;
  kind: 'VirtualMachine' | 'VirtualMachineInstance';
  namespace: string;
  name: string;
  iface: string;
  source: MacSource;
}

function netconfUses(annotations: Record<string, string> | undefined): { name: string; mac: string }[] {
  const parsed = parseNetconfAnnotation(annotations?.[NETCONF_ANNOTATION]);
  if (!parsed.ok) return [];
  const out: { name: string; mac: string }[] = [];
  for (const e of parsed.entries) {
    const mac = normaliseMac(e.macAddress);
    if (mac) out.push({ name: e.name, mac });
  }
  return out;
}

/**
 * Every MAC claimed by the given VMs and VMIs: spec `macAddress` of each
 * interface, netconf annotation entries (VM template, VMI metadata) and the
 * MACs a VMI reports in its status.
 */
export function collectMacUses(vms: readonly VirtualMachine[], vmis: readonly VirtualMachineInstance[]): MacUse[] {
  const uses: MacUse[] = [];
  for (const vm of vms) {
    const base = { kind: 'VirtualMachine' as const, namespace: vm.metadata.namespace ?? '', name: vm.metadata.name };
    for (const i of interfacesOf(vm.spec?.template?.spec)) {
      if (!i || typeof i !== 'object') continue;
      const mac = normaliseMac(i.macAddress);
      if (mac) uses.push({ ...base, mac, iface: i.name, source: 'spec' });
    }
    for (const e of netconfUses(vm.spec?.template?.metadata?.annotations)) uses.push({ ...base, mac: e.mac, iface: e.name, source: 'netconf' });
  }
  for (const vmi of vmis) {
    const base = { kind: 'VirtualMachineInstance' as const, namespace: vmi.metadata.namespace ?? '', name: vmi.metadata.name };
    for (const i of interfacesOf(vmi.spec)) {
      if (!i || typeof i !== 'object') continue;
      const mac = normaliseMac(i.macAddress);
      if (mac) uses.push({ ...base, mac, iface: i.name, source: 'spec' });
    }
    for (const e of netconfUses(vmi.metadata.annotations)) uses.push({ ...base, mac: e.mac, iface: e.name, source: 'netconf' });
    for (const s of Array.isArray(vmi.status?.interfaces) ? vmi.status.interfaces : []) {
      if (!s || typeof s !== 'object') continue;
      const mac = normaliseMac(s.mac);
      if (mac) uses.push({ ...base, mac, iface: s.name ?? '', source: 'status' });
    }
  }
  return uses;
}

/**
 * The claims on mac by anything other than interface iface of the VM
 * namespace/name (its VMI counts as the same owner). Another interface of the
 * same VM is a collision too. One entry per owner interface.
 */
export function findCollisions(mac: string, uses: readonly MacUse[], self: { namespace: string; name: string; iface: string }): MacUse[] {
  const seen = new Set<string>();
  const out: MacUse[] = [];
  for (const u of uses) {
    if (u.mac !== mac) continue;
    const sameOwner = u.namespace === self.namespace && u.name === self.name;
    if (sameOwner && u.iface === self.iface) continue;
    // A guest-only NIC (no spec name) of our own VMI that already shows the MAC is ours too.
    if (sameOwner && u.source === 'status' && u.iface === '') continue;
    const key = `${u.namespace}/${u.name}/${u.iface}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(u);
  }
  return out;
}

/** Every MAC claimed by the VMs and VMIs the user can read; `partial` says what could not be read. */
export interface MacUses {
  uses: readonly MacUse[];
  partial?: string;
}

/**
 * The collision check of a MAC about to be given to interface self.iface of
 * a VM: refused when another interface claims it, unless force (then a
 * warning); a warning when the check was partial; a note when there were no
 * cluster facts to check against (offline).
 */
export function checkMacCollisions(
  mac: string,
  uses: MacUses | undefined,
  self: { namespace: string; name: string; iface: string },
  force: boolean,
  out: { warnings: Warning[]; notes: string[] },
): void {
  if (!uses) {
    out.notes.push('the MAC collision check was skipped (no cluster facts)');
    return;
  }
  const others = findCollisions(mac, uses.uses, self);
  if (uses.partial) out.warnings.push({ code: 'mac-collision-check-partial', message: `the MAC collision check was partial: ${uses.partial}` });
  if (others.length === 0) return;
  const list = others.map(describeMacUse).join('; ');
  if (!force) {
    throw refused(`${mac} is already used by ${list}`, `pick another MAC, or pass ${option('force')} to set it anyway (two interfaces with one MAC on a segment break each other)`);
  }
  out.warnings.push({ code: 'mac-collision', message: `${mac} is also used by ${list} (${option('force')} given)`, object: `${self.namespace}/${self.name}` });
}

/** "VirtualMachine ns/name interface blue (netconf annotation)". */
export function describeMacUse(u: MacUse): string {
  const src = u.source === 'spec' ? 'spec macAddress' : u.source === 'netconf' ? 'netconf annotation' : 'reported in the VMI status';
  return `${u.kind} ${u.namespace}/${u.name} interface ${u.iface ? `"${u.iface}"` : '(guest-only)'} (${src})`;
}
