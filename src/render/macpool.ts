/**
 * The presenters of the macpool commands: the summary of kubemacpool, the
 * table of namespaces and their decisions, and the result of opt-in/opt-out.
 */
import type { NamespaceLabelResult } from '../core/namespace-labels.js';
import { spellOptions } from '../errors.js';
import { labelLegend, WEBHOOK_OF, type Allocation, type MacpoolKind, type MacpoolStatus } from '../domain/macpool.js';
import { formatDocument, toJson, type Paint } from './output.js';
import { renderTable } from './table.js';

function allocationWord(a: Allocation, paint: Paint): string {
  return a.allocated === true ? paint('green', 'allocated') : a.allocated === false ? paint('yellow', 'ignored') : paint('red', 'unknown');
}

/** The summary lines above the table: installed where, manager, range, modes. */
export function renderMacpoolHeader(s: MacpoolStatus, unreadableReason?: string): string {
  const lines: string[] = [];
  if (s.installed === null) {
    lines.push(`kubemacpool:  unknown: cannot read MutatingWebhookConfiguration kubemacpool-mutator${unreadableReason ? ` (${unreadableReason})` : ''}`);
    lines.push('modes:        unknown; what the labels mean in each mode:');
    for (const l of labelLegend()) lines.push(`  ${l}`);
    return lines.join('\n') + '\n';
  }
  if (s.installed === false) return 'kubemacpool:  not installed (no MutatingWebhookConfiguration kubemacpool-mutator)\n';
  const manager = s.managerAvailable === true ? 'manager available' : s.managerAvailable === false ? 'manager NOT available' : 'manager availability unknown';
  lines.push(`kubemacpool:  installed in namespace ${s.namespace ?? '<unknown>'}, ${manager}`);
  lines.push(`range:        ${s.range ? `${s.range.start} - ${s.range.end} (${s.range.size} addresses)` : 'unknown or invalid (see warnings)'}`);
  lines.push(`modes:        VMs ${s.modes.vms}, pods ${s.modes.pods}`);
  return lines.join('\n') + '\n';
}

/** One row per namespace and kind: NAMESPACE KIND LABEL MACS REASON. */
export function renderMacpoolTable(s: MacpoolStatus, paint: Paint): string {
  const rows: string[][] = [];
  for (const ns of s.namespaces) {
    for (const kind of ['vms', 'pods'] as MacpoolKind[]) {
      const key = WEBHOOK_OF[kind];
      const label = Object.hasOwn(ns.labels, key) ? ns.labels[key] : '<none>';
      rows.push([ns.name, kind === 'vms' ? 'VMs' : 'pods', label, allocationWord(ns[kind], paint), ns[kind].reason]);
    }
  }
  if (rows.length === 0) return 'No namespaces.\n';
  return renderTable(['NAMESPACE', 'KIND', 'LABEL', 'MACS', 'REASON'], rows);
}

/** opt-in/opt-out: the notes on stderr; the label change (and, with --dry-run=client, the patch) and the decision table, or -o name|json|yaml. */
export function renderLabelResult(result: NamespaceLabelResult, output: 'table' | 'json' | 'yaml' | 'name', paint: Paint): { stdout: string; stderr: string[] } {
  const { plan, after, before, dryRun } = result.edit;
  const name = after.metadata.name;
  const stderr = plan.notes.map((n) => `Note: ${spellOptions(n)}`);
  const dry = dryRun === 'none' ? '' : ` (${dryRun} dry run)`;
  if (output === 'json' || output === 'yaml') return { stdout: formatDocument(after, output), stderr };
  if (output === 'name') return { stdout: `namespace/${name}${dry ? ' (dry run)' : ''}\n`, stderr };
  let text = `namespace/${name} ${plan.noop ? 'unchanged' : 'labeled'}${dry}: ${plan.changes.join('; ')}\n`;
  if (dryRun === 'client' && !plan.noop) text += `would send (merge patch): ${toJson({ metadata: { resourceVersion: before.metadata.resourceVersion, labels: plan.labels } }).trim()}\n`;
  return { stdout: text + '\n' + renderMacpoolTable(result.status, paint), stderr };
}
