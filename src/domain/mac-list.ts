/**
 * `mac list`: per VM interface, the MAC it should have and where that comes
 * from, the MAC its VMI reports, and whether they match. Pure.
 */
import { normaliseMac } from './mac.js';
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
}

export interface MacList {
  kind: 'MacList';
  items: MacListItem[];
  warnings: Warning[];
}

function sameMac(a: string, b: string): boolean {
  return (normaliseMac(a) ?? a.toLowerCase()) === (normaliseMac(b) ?? b.toLowerCase());
}

/** One row per interface of each VM's template (and per named interface its VMI reports beyond those). */
export function buildMacList(vms: readonly VirtualMachine[], vmis: readonly VirtualMachineInstance[]): MacList {
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
      items.push(item);
    }
  }
  return { kind: 'MacList', items, warnings };
}
