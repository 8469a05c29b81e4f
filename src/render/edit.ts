/**
 * The presenters of an interface edit: what `hotplug`, `link` and `mac` print
 * for a live edit and for a manifest file. Text in, text out; the command writes it.
 */
import type { EditOutput, FileEditResult, InterfaceEditOptions, LiveEditResult } from '../core/interface-edit.js';
import type { EditResult } from '../kube/edit.js';
import { spellOptions } from '../errors.js';
import { formatDocument, toJson } from './output.js';

export interface Rendered {
  stdout: string;
  /** Lines for stderr, in order. */
  stderr: string[];
}

/**
 * Prints an edit the kubectl way. `-o name`: "virtualmachine.kubevirt.io/NAME
 * patched", with " (dry run)" for a dry run; `-o json|yaml`: the resulting VM;
 * no -o: that line with the plan's summary, or for --dry-run=client the JSON
 * Patch that would have been sent. Notes and warnings go to stderr.
 */
export function renderEditResult(result: EditResult, format: EditOutput): Rendered {
  const name = `virtualmachine.kubevirt.io/${result.after.metadata.name}`;
  const dry = result.dryRun === 'none' ? '' : ` (${result.dryRun} dry run)`;
  const verb = result.plan.noop ? 'unchanged' : 'patched';
  const stderr = [...result.plan.warnings.map((w) => `Warning: ${spellOptions(w.message)}`), ...result.plan.notes.map((n) => `Note: ${spellOptions(n)}`)];
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

/** A live edit: the notes from gathering the facts, then the edit as kubectl prints it. */
export function renderLiveEdit(result: LiveEditResult, format: EditOutput): Rendered {
  const edit = renderEditResult(result.edit, format);
  return { stdout: edit.stdout, stderr: [...result.notes.map((n) => `Note: ${n}`), ...edit.stderr] };
}

/**
 * A manifest-file edit. Written back (--in-place): one line per VM on stdout, notes on stderr.
 * Otherwise the edited manifest is stdout, and the lines go to stderr with the notes.
 */
export function renderFileEdit(result: FileEditResult, options: Pick<InterfaceEditOptions, 'output' | 'dryRun'> & { inPlace: boolean }): Rendered {
  const many = result.results.length > 1;
  const notes: string[] = [];
  const lines: string[] = [];
  const where = result.written ? ` in ${result.source}` : '';
  for (const { vm, plan } of result.results) {
    const who = many ? `${vm.metadata.name}: ` : '';
    const verb = plan.noop || plan.ops.length === 0 ? 'unchanged' : 'edited';
    const ref = `virtualmachine.kubevirt.io/${vm.metadata.name}`;
    lines.push(options.output === 'name' ? `${ref} ${verb}${where}` : `${ref} ${verb}${where}: ${plan.summary}`);
    for (const w of plan.warnings) notes.push(`Warning: ${who}${spellOptions(w.message)}`);
    for (const n of plan.notes) notes.push(`Note: ${who}${spellOptions(n)}`);
  }
  if (result.written) return { stdout: lines.map((l) => l + '\n').join(''), stderr: notes };
  const stderr = [...lines, ...notes];
  if (options.inPlace) stderr.push(`Note: ${result.source} was not written (--dry-run=client); the result is on stdout`);
  return { stdout: result.text, stderr };
}
