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
  // COLLISION: who found that another object uses the MAC (kubemacpool's MACCollision events, the cross-check, or both).
  const headers = [...(o.showNamespace ? ['NAMESPACE'] : []), 'VM', 'INTERFACE', 'DESIRED', 'SOURCE', 'REPORTED', 'STATE', 'COLLISION'];
  const rows = list.items.map((i) => [
    ...(o.showNamespace ? [i.namespace] : []),
    i.vm,
    i.interface,
    i.desired ?? '<none>',
    i.source ?? '<none>',
    i.reported ?? '<none>',
    i.state === 'pending' ? paint('yellow', i.state) : i.state === 'match' ? paint('green', i.state) : i.state,
    i.collision ? paint('red', i.collision.foundBy.join('+')) : '<none>',
  ]);
  const after: string[] = [];
  if (list.items.some((i) => i.state === 'pending')) {
    after.push('pending: the VMI reports another MAC than the one asked for; it applies at the next start of the VM (netconf annotations do not flag a restart)');
  }
  for (const i of list.items) {
    if (!i.collision) continue;
    const by = i.collision.foundBy.map((b) => (b === 'kubemacpool' ? 'kubemacpool\'s MACCollision events' : 'the cross-check of the VMs and VMIs listed')).join(' and ');
    after.push(`collision: ${i.namespace}/${i.vm} interface ${i.interface}: MAC ${i.collision.mac} is also used by ${i.collision.with.join(', ')} (found by ${by})`);
  }
  return { stdout: renderTable(headers, rows), stderr, after };
}
