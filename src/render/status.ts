/**
 * The presenters of `status`: the table of the joined status (one row per
 * interface), its warnings, and the desired view of a manifest file.
 */
import type { InterfaceStatus, VMNetworkStatus } from '../domain/status.js';
import type { DesiredStatus } from '../core/status.js';
import type { VMDesiredNetwork } from '../domain/desired.js';
import type { Paint } from './output.js';
import { renderTable } from './table.js';

const NONE = '<none>';

function stateCell(state: InterfaceStatus['state'], paint: Paint): string {
  switch (state) {
    case 'ready':
      return paint('green', state);
    case 'stale':
      return paint('red', state);
    case 'pending':
    case 'attaching':
    case 'unplugging':
      return paint('yellow', state);
    default:
      return state;
  }
}

/** Table headers and rows: one row per interface; a VM without interfaces gets one row. */
export function statusTable(items: readonly VMNetworkStatus[], o: { wide: boolean; showNamespace: boolean; paint?: Paint }): { headers: string[]; rows: string[][] } {
  const paint: Paint = o.paint ?? ((_s, t) => t);
  const headers = [...(o.showNamespace ? ['NAMESPACE'] : []), 'VM', 'INTERFACE', 'BINDING', 'NETWORK', 'STATE', 'LINK', 'MAC', 'IPS', 'GUEST-IFACE'];
  if (o.wide) headers.push('POD-IFACE', 'DESIRED-MAC', 'INFO-SOURCE', 'MODEL', 'MULTUS-MAC', 'MULTUS-IPS');
  const rows: string[][] = [];
  const v = (s: string | null | undefined) => (s ? s : NONE);
  const list = (a: readonly string[] | undefined) => (a && a.length > 0 ? a.join(',') : NONE);
  for (const it of items) {
    const lead = o.showNamespace ? [it.namespace, it.name] : [it.name];
    if (it.interfaces.length === 0) {
      const row = [...lead, NONE, NONE, NONE, it.running ? NONE : 'stopped', NONE, NONE, NONE, NONE];
      if (o.wide) row.push(NONE, NONE, NONE, NONE, NONE, NONE);
      rows.push(row);
      continue;
    }
    for (const i of it.interfaces) {
      const row = [...lead, v(i.name), v(i.binding), v(i.network), stateCell(i.state, paint), v(i.linkState), v(i.mac), list(i.ips), v(i.guestInterface)];
      if (o.wide) {
        row.push(v(i.podInterface), i.desiredMac ? `${i.desiredMac} (${i.desiredMacSource})` : NONE, list(i.infoSource), v(i.model), v(i.multus?.mac), list(i.multus?.ips));
      }
      rows.push(row);
    }
  }
  return { headers, rows };
}

/** The status table on stdout, the warnings on stderr. */
export function renderStatus(items: readonly VMNetworkStatus[], o: { wide: boolean; showNamespace: boolean; paint?: Paint }): { stdout: string; stderr: string[]; after: string[] } {
  const { headers, rows } = statusTable(items, o);
  return { stdout: renderTable(headers, rows), stderr: [], after: statusWarnings(items) };
}

/** The warnings of the status, once each (a permission warning is the same for every VM). */
export function statusWarnings(items: readonly VMNetworkStatus[]): string[] {
  const seen = new Set<string>();
  for (const it of items) {
    for (const w of it.warnings) {
      const line = w.code === 'pods-forbidden' ? w.message : `${w.object ?? `${it.namespace}/${it.name}`}: ${w.message}`;
      seen.add(line);
    }
  }
  return [...seen].map((l) => `Warning: ${l}`);
}

/** The desired view of a file: the table on stdout; valid annotations, warnings and what was not checked on stderr. */
export function renderDesiredStatus(status: DesiredStatus, o: { wide: boolean }): { stdout: string; stderr: string[]; after: string[] } {
  if (status.items.length === 0) return { stdout: '', stderr: [`No VirtualMachines in ${status.source} match`], after: [] };
  const { headers, rows } = desiredTable(status.items, { wide: o.wide });
  const after: string[] = [];
  for (const it of status.items) {
    // A malformed annotation is a warning (below); a valid one gets a note.
    for (const a of it.annotations) if (a.valid) after.push(`Note: ${it.name}: annotation ${a.name} is valid (${a.detail})`);
    for (const w of it.warnings) after.push(`Warning: ${it.name}: ${w.message}`);
  }
  after.push(`Note: read from ${status.source} only; not checked without a cluster: ${status.items[0].skipped.join('; ')}`);
  return { stdout: renderTable(headers, rows), stderr: [], after };
}

/** Table headers and rows of desired views: one row per interface. */
export function desiredTable(items: readonly VMDesiredNetwork[], o: { wide: boolean }): { headers: string[]; rows: string[][] } {
  const showNs = new Set(items.map((i) => i.namespace ?? '')).size > 1;
  const headers = [...(showNs ? ['NAMESPACE'] : []), 'VM', 'INTERFACE', 'BINDING', 'NETWORK', 'LINK', 'DESIRED-MAC', ...(o.wide ? ['MODEL', 'ANNOTATIONS'] : [])];
  const v = (s: string | null) => s || '<none>';
  const rows: string[][] = [];
  for (const it of items) {
    const lead = [...(showNs ? [it.namespace ?? '<none>'] : []), it.name];
    const annCell = it.annotations.length === 0 ? '<none>' : it.annotations.map((a) => `${a.name.split('/')[0].split('.')[0]}:${a.valid ? 'ok' : 'malformed'}`).join(',');
    if (it.interfaces.length === 0) {
      rows.push([...lead, '<none>', '<none>', '<none>', '<none>', '<none>', ...(o.wide ? ['<none>', annCell] : [])]);
      continue;
    }
    for (const i of it.interfaces) {
      rows.push([
        ...lead,
        i.implicit ? `${i.name} (implicit)` : i.name,
        v(i.binding),
        v(i.network),
        i.state,
        i.desiredMac ? `${i.desiredMac} (${i.desiredMacSource})` : '<none>',
        ...(o.wide ? [v(i.model), annCell] : []),
      ]);
    }
  }
  return { headers, rows };
}
