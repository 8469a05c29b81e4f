/**
 * `mac list`: per VM interface, the MAC it should have and where that comes
 * from, the MAC its VMI reports, and whether they match. Pure.
 */
import { collectMacUses, findCollisions, normaliseMac, type MacUse } from './mac.js';
import { compareStrings } from './order.js';
import { NETCONF_ANNOTATION, netconfMacFor, parseNetconfAnnotation } from './netconf.js';
import type { VirtualMachine, VirtualMachineInstance, Warning } from './types.js';
import { interfacesOf } from './vmspec.js';

/** kubemacpool stamps the VMs it allocated MACs to with this annotation. */
export const KUBEMACPOOL_TRANSACTION_ANNOTATION = 'kubemacpool.io/transaction-timestamp';

/**
 * netconf: the netconf annotation of the VM template (it wins in the guest);
 * spec: interfaces[].macAddress; kubemacpool: a spec MAC on a VM kubemacpool
 * has stamped (so most likely allocated by it); null: none, the MAC is
 * chosen when the VMI starts.
 */
export type DesiredSource = 'netconf' | 'spec' | 'kubemacpool' | null;

/**
 * match: the VMI reports the desired MAC; pending: it reports another one
 * (the change waits for a restart); stopped: no VMI; not-reported: the VMI
 * does not report this interface (yet); auto: no MAC asked for.
 */
export type MacState = 'match' | 'pending' | 'stopped' | 'not-reported' | 'auto';

/** Who found a collision: kubemacpool (its MACCollision events, v0.51+) or this tool's cross-check of the VMs and VMIs it listed. */
export type CollisionSource = 'kubemacpool' | 'cross-check';

export interface MacCollision {
  /** The MAC that collides. */
  mac: string;
  /** The other objects using it: "namespace/name" for a VM or VMI, "pod/namespace/name" for a pod. */
  with: string[];
  foundBy: CollisionSource[];
}

/** A core/v1 Event as read: kubemacpool records one with reason MACCollision, type Warning, on each VMI involved. */
export interface CollisionEvent {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; namespace?: string; name?: string };
  lastTimestamp?: string | null;
  eventTime?: string | null;
}

export const MAC_COLLISION_REASON = 'MACCollision';

/**
 * A kubemacpool MACCollision event: the VMI it is on, the MAC, and every
 * object involved, from its message "MAC <mac>: Collision between
 * <type>/<namespace>/<name>, ..." (the VMI itself among them). null for
 * any other event.
 */
export function parseCollisionEvent(e: CollisionEvent): { vmi: string; mac: string; objects: string[]; seen: string | null } | null {
  if (e.reason !== MAC_COLLISION_REASON || e.involvedObject?.kind !== 'VirtualMachineInstance') return null;
  const m = /^MAC (\S+): Collision between (.+)$/.exec(e.message ?? '');
  const mac = m ? normaliseMac(m[1]) : null;
  if (!m || !mac) return null;
  // "vmi/ns/name" names a VMI (the VM of the same name); other kinds keep their type.
  const objects = m[2].split(',').map((o) => o.trim()).filter(Boolean).map((o) => (o.startsWith('vmi/') ? o.slice(4) : o));
  return { vmi: `${e.involvedObject.namespace ?? ''}/${e.involvedObject.name ?? ''}`, mac, objects, seen: e.lastTimestamp ?? e.eventTime ?? null };
}

/** The collisions of one interface's MACs: from kubemacpool's events on its VMI, and from the cross-check of the MAC uses read. */
export function interfaceCollisions(
  self: { namespace: string; name: string; iface: string },
  macs: readonly string[],
  sources: { events?: readonly CollisionEvent[]; uses?: readonly MacUse[] },
): MacCollision[] {
  const ref = `${self.namespace}/${self.name}`;
  const byMac = new Map<string, MacCollision>();
  const add = (mac: string, others: string[], by: CollisionSource) => {
    const c = byMac.get(mac) ?? { mac, with: [], foundBy: [] };
    for (const o of others) if (o !== ref && !c.with.includes(o)) c.with.push(o);
    if (!c.foundBy.includes(by)) c.foundBy.push(by);
    byMac.set(mac, c);
  };
  for (const e of sources.events ?? []) {
    const p = parseCollisionEvent(e);
    if (p && p.vmi === ref && macs.includes(p.mac)) add(p.mac, p.objects, 'kubemacpool');
  }
  for (const mac of macs) {
    const others = findCollisions(mac, sources.uses ?? [], self).map((u) => `${u.namespace}/${u.name}`);
    if (others.length > 0) add(mac, others, 'cross-check');
  }
  return [...byMac.values()].filter((c) => c.with.length > 0).map((c) => ({ ...c, with: [...c.with].sort(compareStrings) }));
}

export interface MacListItem {
  namespace: string;
  vm: string;
  interface: string;
  desired: string | null;
  source: DesiredSource;
  /** The spec MAC when the netconf annotation overrides it. */
  specMac?: string;
  reported: string | null;
  state: MacState;
  /** Set when another object uses this interface's desired or reported MAC. */
  collision?: MacCollision;
}

export interface MacList {
  kind: 'MacList';
  items: MacListItem[];
  warnings: Warning[];
}

function sameMac(a: string, b: string): boolean {
  return (normaliseMac(a) ?? a.toLowerCase()) === (normaliseMac(b) ?? b.toLowerCase());
}

/**
 * One row per interface of each VM's template (and per named interface its
 * VMI reports beyond those). Collisions: kubemacpool's MACCollision
 * `events`, and a cross-check among the VMs and VMIs given (unless
 * `crossCheck` is false: one VM alone is no basis for it).
 */
export function buildMacList(vms: readonly VirtualMachine[], vmis: readonly VirtualMachineInstance[], o: { events?: readonly CollisionEvent[]; crossCheck?: boolean } = {}): MacList {
  const uses = o.crossCheck === false ? [] : collectMacUses(vms, vmis);
  const byKey = new Map<string, VirtualMachineInstance>();
  for (const vmi of vmis) byKey.set(`${vmi.metadata.namespace}/${vmi.metadata.name}`, vmi);
  const items: MacListItem[] = [];
  const warnings: Warning[] = [];
  const sorted = [...vms].sort((a, b) => compareStrings(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || compareStrings(a.metadata.name, b.metadata.name));
  for (const vm of sorted) {
    const namespace = vm.metadata.namespace ?? '';
    const ref = `${namespace}/${vm.metadata.name}`;
    const vmi = byKey.get(ref);
    const nc = parseNetconfAnnotation(vm.spec?.template?.metadata?.annotations?.[NETCONF_ANNOTATION]);
    if (!nc.ok) warnings.push({ code: 'netconf-malformed', message: `${ref}: annotation ${NETCONF_ANNOTATION} is malformed (${nc.error}); the netconf sidecar cannot start the VM with it`, object: ref });
    const stamped = Boolean(vm.metadata.annotations?.[KUBEMACPOOL_TRANSACTION_ANNOTATION]);
    const reportedByName = new Map<string, string>();
    for (const s of vmi?.status?.interfaces ?? []) if (s.name && s.mac) reportedByName.set(s.name, s.mac);
    const names = interfacesOf(vm.spec?.template?.spec).map((i) => i.name);
    for (const n of reportedByName.keys()) if (!names.includes(n)) names.push(n);
    const specByName = new Map(interfacesOf(vm.spec?.template?.spec).map((i) => [i.name, i.macAddress]));
    for (const name of names) {
      const specMac = specByName.get(name);
      const netconfMac = nc.ok ? netconfMacFor(nc.entries, name) : undefined;
      let desired: string | null = null;
      let source: DesiredSource = null;
      if (netconfMac !== undefined) {
        desired = normaliseMac(netconfMac) ?? netconfMac;
        source = 'netconf';
      } else if (specMac) {
        desired = normaliseMac(specMac) ?? specMac;
        source = stamped ? 'kubemacpool' : 'spec';
      }
      const rawReported = reportedByName.get(name);
      const reported = rawReported ? (normaliseMac(rawReported) ?? rawReported) : null;
      let state: MacState;
      if (!vmi) state = 'stopped';
      else if (!reported) state = 'not-reported';
      else if (desired === null) state = 'auto';
      else state = sameMac(desired, reported) ? 'match' : 'pending';
      const item: MacListItem = { namespace, vm: vm.metadata.name, interface: name, desired, source, reported, state };
      if (source === 'netconf' && specMac) item.specMac = normaliseMac(specMac) ?? specMac;
      const macs = [...new Set([desired, reported].flatMap((m) => (m && normaliseMac(m) ? [normaliseMac(m) as string] : [])))];
      const [collision] = interfaceCollisions({ namespace, name: vm.metadata.name, iface: name }, macs, { events: o.events, uses });
      if (collision) item.collision = collision;
      items.push(item);
    }
  }
  return { kind: 'MacList', items, warnings };
}
