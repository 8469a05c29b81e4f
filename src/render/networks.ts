/**
 * The presenter of `networks`: one row per NetworkAttachmentDefinition (and per
 * NAD that VMs name and that does not exist); the problems in full on stderr.
 */
import type { NadInventory, NadInventoryItem } from '../domain/networks.js';
import type { Paint } from './output.js';
import { renderTable } from './table.js';

const NONE = '<none>';

function cniCell(it: NadInventoryItem): string {
  if (!it.exists) return '<missing>';
  return it.cniTypes.length > 0 ? it.cniTypes.join('+') : '<invalid>';
}

function macpoolCell(it: NadInventoryItem): string {
  if (!it.macpool || it.macpool.managed === null) return '<unknown>';
  return it.macpool.managed ? 'managed' : 'not-managed';
}

/** Table headers and rows: NAME, CNI (the plugin chain), VMS, INTERFACES (vm/iface), ATTACHED (attached of uses), PROBLEMS (codes). */
export function networksTable(inv: NadInventory, o: { wide: boolean; showNamespace: boolean; paint?: Paint }): { headers: string[]; rows: string[][] } {
  const paint: Paint = o.paint ?? ((_s, t) => t);
  const headers = [...(o.showNamespace ? ['NAMESPACE'] : []), 'NAME', 'CNI', 'VMS', 'INTERFACES', 'ATTACHED', 'PROBLEMS', ...(o.wide ? ['IN-VMI', 'POD-IFACES', 'MACPOOL'] : [])];
  const rows = inv.items.map((it) => {
    const ref = (u: { namespace: string; vm: string; interface: string }) => `${u.namespace === it.namespace ? '' : `${u.namespace}/`}${u.vm}/${u.interface}`;
    const vms = new Set(it.uses.map((u) => `${u.namespace}/${u.vm}`)).size;
    const attached = it.uses.filter((u) => u.attached);
    const codes = [...new Set(it.problems.map((p) => p.code))];
    const row = [
      ...(o.showNamespace ? [it.namespace] : []),
      it.name,
      it.exists ? cniCell(it) : paint('red', cniCell(it)),
      String(vms),
      it.uses.length > 0 ? it.uses.map(ref).join(',') : NONE,
      `${attached.length}/${it.uses.length}`,
      codes.length > 0 ? paint('red', codes.join(',')) : NONE,
    ];
    if (o.wide) {
      row.push(
        `${it.uses.filter((u) => u.vmi).length}/${it.uses.length}`,
        attached.length > 0 ? attached.map((u) => `${ref(u)}:${u.podInterface ?? '?'}`).join(',') : NONE,
        macpoolCell(it),
      );
    }
    return row;
  });
  return { headers, rows };
}

/** The table on stdout; each problem, then what could not be read, on stderr after it. */
export function renderNetworks(inv: NadInventory, o: { wide: boolean; showNamespace: boolean; paint?: Paint }): { stdout: string; stderr: string[]; after: string[] } {
  const { headers, rows } = networksTable(inv, o);
  const after = inv.items.flatMap((it) => it.problems.map((p) => `Warning: ${it.namespace}/${it.name}: ${p.message}`));
  for (const n of inv.notes) after.push(`Note: ${n}`);
  return { stdout: renderTable(headers, rows), stderr: [], after };
}
