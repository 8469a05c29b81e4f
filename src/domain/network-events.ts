/**
 * Why a plug did not happen: the pod events Multus's dynamic networks
 * controller records on a launcher pod (source component
 * `pod-networks-updates`), and the VM `Failure` condition KubeVirt's VM
 * controller sets when it cannot sync the VMI's interfaces
 * (`HotPlugNetworkInterfaceError`). Pure functions over the objects as read.
 */
import type { Condition, VirtualMachine } from './types.js';
import { hashedPodInterfaceName } from './vmspec.js';

/** The events' source.component, and the field selector that lists exactly them. */
export const NETWORK_EVENT_SOURCE = 'pod-networks-updates';
export const NETWORK_EVENT_FIELD_SELECTOR = `involvedObject.kind=Pod,source=${NETWORK_EVENT_SOURCE}`;

/** The reasons that say an attachment did not happen. */
export const NETWORK_FAILURE_REASONS = ['FailedAddingInterface', 'FailedRemovingInterface', 'InterfaceAddRejected'] as const;
/** The reasons that say it did (a later one supersedes an earlier failure). */
export const NETWORK_SUCCESS_REASONS = ['AddedInterface', 'RemovedInterface'] as const;

/** KubeVirt's VM Failure reason for a failed sync of the VMI's interfaces. */
export const HOTPLUG_ERROR_REASON = 'HotPlugNetworkInterfaceError';

/** A core/v1 Event, the fields read. */
export interface KubeEvent {
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string };
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  source?: { component?: string };
}

/** One failure that concerns an interface. */
export interface InterfaceFailure {
  /** The interface (network) name in the VM. */
  iface: string;
  reason: string;
  message: string;
  /** The pod the event is about. */
  pod: string;
  /** When it last happened (RFC 3339), or null when the event carries no time. */
  time: string | null;
}

/** "pod [ns/pod]: failed adding interface podXXXX to network: nad" -> the pod interface and the NAD. */
export function parseNetworkEventMessage(message: string | undefined): { podIface?: string; nad?: string } {
  if (typeof message !== 'string') return {};
  const m = /interface (\S+) (?:to|from) network: (\S+)/.exec(message);
  return m ? { podIface: m[1], nad: m[2] } : {};
}

export function eventTime(ev: KubeEvent): string | null {
  return ev.lastTimestamp || ev.eventTime || ev.firstTimestamp || ev.metadata.creationTimestamp || null;
}

/** True when the pod is one of the VMI's launcher pods, by KubeVirt's naming (virt-launcher-<vmi>-<suffix>). */
export function isLauncherPodOf(podName: string | undefined, vmiName: string): boolean {
  if (!podName?.startsWith(`virt-launcher-${vmiName}-`)) return false;
  return !podName.slice(`virt-launcher-${vmiName}-`.length).includes('-');
}

/** The interface an event concerns, among the VM's network names: by the hashed pod interface name in its message. */
export function eventInterface(ev: KubeEvent, networkNames: readonly string[]): string | undefined {
  const { podIface } = parseNetworkEventMessage(ev.message);
  if (!podIface) return undefined;
  return networkNames.find((n) => hashedPodInterfaceName(n) === podIface);
}

export function isFailureEvent(ev: KubeEvent): boolean {
  return (NETWORK_FAILURE_REASONS as readonly string[]).includes(ev.reason ?? '');
}

/**
 * The failures that still stand for a VMI's interfaces: failure events on its
 * launcher pods (of the pods given, when given) not followed by an
 * AddedInterface or RemovedInterface for the same pod interface on the same pod.
 * One per interface: the newest.
 */
export function currentInterfaceFailures(events: readonly KubeEvent[], o: { vmiName: string; networkNames: readonly string[]; pods?: readonly string[] }): InterfaceFailure[] {
  const mine = events.filter((e) => {
    const pod = e.involvedObject?.name;
    return (o.pods ? o.pods.includes(pod ?? '') : isLauncherPodOf(pod, o.vmiName)) && e.involvedObject?.kind === 'Pod';
  });
  const latest = new Map<string, { ev: KubeEvent; iface: string }>();
  for (const ev of mine) {
    const iface = eventInterface(ev, o.networkNames);
    if (!iface) continue;
    const key = `${ev.involvedObject?.name}/${iface}`;
    const seen = latest.get(key);
    if (!seen || (Date.parse(eventTime(ev) ?? '') || 0) >= (Date.parse(eventTime(seen.ev) ?? '') || 0)) latest.set(key, { ev, iface });
  }
  const byIface = new Map<string, InterfaceFailure>();
  for (const { ev, iface } of latest.values()) {
    if (!isFailureEvent(ev)) continue;
    const f: InterfaceFailure = { iface, reason: ev.reason ?? '', message: ev.message ?? '', pod: ev.involvedObject?.name ?? '', time: eventTime(ev) };
    const prev = byIface.get(iface);
    if (!prev || (Date.parse(f.time ?? '') || 0) > (Date.parse(prev.time ?? '') || 0)) byIface.set(iface, f);
  }
  return [...byIface.values()];
}

/** The VM's Failure condition when KubeVirt could not sync the VMI's interfaces. */
export function hotplugErrorCondition(vm: Pick<VirtualMachine, 'status'> | null | undefined): Condition | undefined {
  const cs = vm?.status?.conditions;
  if (!Array.isArray(cs)) return undefined;
  return cs.find((c) => c?.type === 'Failure' && c.status === 'True' && c.reason === HOTPLUG_ERROR_REASON);
}

/** "3m", "2h", "5d" since `time`; "" when unknown. */
export function age(time: string | null | undefined, now: number): string {
  const t = Date.parse(time ?? '');
  if (!t) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** What the status join knows about one interface, for the checks below. */
export interface InterfaceNetworks {
  name: string;
  /** The NAD ("ns/name") the template names, the VMI spec names, and the launcher pod is attached to. */
  template?: string;
  vmi?: string;
  attached?: string;
}

/**
 * A NIC moving to another NAD, and where it stands: the template names
 * another NAD than the VMI (KubeVirt has not copied it, or waits for a
 * restart), or the VMI names another NAD than the launcher pod is attached to
 * (it waits for the live migration that carries it).
 */
export function pendingNadChange(
  n: InterfaceNetworks,
  o: { restartRequired: boolean; migrationRequired?: { status: string; reason: string | null }; migrating: boolean },
): string | undefined {
  if (n.template && n.vmi && n.template !== n.vmi) {
    const where = o.restartRequired ? 'it waits for a restart (VM condition RestartRequired)' : 'KubeVirt has not put it in the VMI yet (a live change needs LiveUpdateNADRef on v1.8, or v1.9+)';
    return `interface ${n.name}: moving from ${n.vmi} to ${n.template}: ${where}`;
  }
  if (n.vmi && n.attached && n.vmi !== n.attached) {
    const where = o.migrating
      ? 'the live migration that carries it is running'
      : o.migrationRequired
        ? `it waits for the live migration that carries it (VMI condition MigrationRequired=${o.migrationRequired.status}${o.migrationRequired.reason ? `, ${o.migrationRequired.reason}` : ''})`
        : 'it waits for a live migration (none is required yet; without LiveMigrate in workloadUpdateMethods, or for a VM that cannot migrate, it waits for a restart)';
    return `interface ${n.name}: moving from ${n.attached} to ${n.vmi}: ${where}`;
  }
  return undefined;
}
