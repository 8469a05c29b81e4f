import type { EditResult } from '../kube/edit.js';
import { formatDocument, toJson } from '../render/output.js';

export type EditOutput = 'default' | 'name' | 'json' | 'yaml';

/**
 * Prints an edit the kubectl way. `-o name`: "virtualmachine.kubevirt.io/NAME
 * patched", with " (dry run)" for a dry run; `-o json|yaml`: the resulting VM;
 * no -o: that line with the plan's summary, or for --dry-run=client the JSON
 * Patch that would have been sent. Notes and warnings go to stderr.
 */
export function renderEditResult(result: EditResult, format: EditOutput): { stdout: string; stderr: string[] } {
  const name = `virtualmachine.kubevirt.io/${result.after.metadata.name}`;
  const dry = result.dryRun === 'none' ? '' : ` (${result.dryRun} dry run)`;
  const verb = result.plan.noop ? 'unchanged' : 'patched';
  const stderr = [...result.plan.warnings.map((w) => `Warning: ${w.message}`), ...result.plan.notes.map((n) => `Note: ${n}`)];
  switch (format) {
    case 'name':
      return { stdout: `${name} ${verb}${result.dryRun === 'none' ? '' : ' (dry run)'}\n`, stderr };
    case 'json':
    case 'yaml':
      return { stdout: formatDocument(result.after, format), stderr };
    default:
      if (result.dryRun === 'client' && !result.plan.noop) {
        return { stdout: toJson(result.plan.ops), stderr: [`${name} would be patched${dry}: ${result.plan.summary}`, ...stderr] };
      }
      return { stdout: `${name} ${verb}${dry}: ${result.plan.summary}\n`, stderr };
  }
}
