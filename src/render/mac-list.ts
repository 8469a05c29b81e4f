/**
 * The presenter of `mac list`: one row per VM interface, the state coloured on a TTY,
 * warnings and the meaning of "pending" on stderr.
 */
import type { MacList } from '../domain/mac-list.js';
import type { Paint } from './output.js';
import { renderTable } from './table.js';

export function renderMacList(list: MacList, o: { showNamespace: boolean; emptyNote: string; paint: Paint }): { stdout: string; stderr: string[]; after: string[] } {
  const stderr = list.warnings.map((w) => `Warning: ${w.message}`);
  if (list.items.length === 0) return { stdout: '', stderr: [...stderr, o.emptyNote], after: [] };
  const { paint } = o;
  const headers = [...(o.showNamespace ? ['NAMESPACE'] : []), 'VM', 'INTERFACE', 'DESIRED', 'SOURCE', 'REPORTED', 'STATE'];
  const rows = list.items.map((i) => [
    ...(o.showNamespace ? [i.namespace] : []),
    i.vm,
    i.interface,
    i.desired ?? '<none>',
    i.source ?? '<none>',
    i.reported ?? '<none>',
    i.state === 'pending' ? paint('yellow', i.state) : i.state === 'match' ? paint('green', i.state) : i.state,
  ]);
  const after: string[] = [];
  if (list.items.some((i) => i.state === 'pending')) {
    after.push('pending: the VMI reports another MAC than the one asked for; it applies at the next start of the VM (netconf annotations do not flag a restart)');
  }
  return { stdout: renderTable(headers, rows), stderr, after };
}
