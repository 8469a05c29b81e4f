/**
 * What an edit of several VMs prints: one line per VM (stdout, as each ends),
 * a summary, or with -o json|yaml a List of the results (schemas/fleet-result-list.schema.json);
 * and its progress on stderr: a counter on a spinner on a TTY, nothing otherwise.
 */
import type { FleetResult, FleetSummary } from '../core/fleet.js';
import type { FleetWaitResult } from '../kube/fleet-wait.js';
import { formatDocument } from './output.js';
import type { ProgressStream } from './progress.js';

/** `virtualmachine.kubevirt.io/NAME patched: summary` (or `refused: why`); -o name: the name and the outcome. */
export function renderFleetLine(r: FleetResult, format: 'default' | 'name', showNamespace: boolean): string {
  const who = `virtualmachine.kubevirt.io/${r.name}${showNamespace ? ` -n ${r.namespace}` : ''}`;
  if (format === 'name') return `${who} ${r.outcome}\n`;
  const hint = r.hint && (r.outcome === 'refused' || r.outcome === 'failed') ? ` (hint: ${r.hint})` : '';
  return `${who} ${r.outcome}: ${r.message}${hint}\n`;
}

/** "8 patched, 1 unchanged, 1 refused, 0 failed" (and the skipped, when interrupted). */
export function summaryCounts(s: FleetSummary): string {
  const c = s.counts;
  return `${c.patched} patched, ${c.unchanged} unchanged, ${c.refused} refused, ${c.failed} failed${c.skipped > 0 ? `, ${c.skipped} not started` : ''}`;
}

export function renderFleetSummary(s: FleetSummary): string {
  const n = s.results.length;
  return `${n} VirtualMachine${n === 1 ? '' : 's'}: ${summaryCounts(s)}\n`;
}

/** --wait: `virtualmachine.kubevirt.io/NAME done: ready` (or timeout, not-running: why). */
export function renderWaitLine(w: FleetWaitResult, showNamespace: boolean): string {
  return `virtualmachine.kubevirt.io/${w.name}${showNamespace ? ` -n ${w.namespace}` : ''} ${w.outcome}: ${w.state}\n`;
}

export function renderWaitSummary(waited: readonly FleetWaitResult[]): string {
  const n = (o: FleetWaitResult['outcome']) => waited.filter((w) => w.outcome === o).length;
  const more = [n('timeout') ? `, ${n('timeout')} timed out` : '', n('failed') ? `, ${n('failed')} failed` : '', n('interrupted') ? `, ${n('interrupted')} interrupted` : ''].join('');
  return `waited for ${waited.length} VirtualMachine${waited.length === 1 ? '' : 's'}: ${n('done')} done, ${n('not-running')} not running${more}\n`;
}

/** -o json|yaml: a List of results, one per VM, in the order they were named or listed (with --wait, how each wait ended). */
export function renderFleetList(results: readonly FleetResult[], format: 'json' | 'yaml', waited?: readonly FleetWaitResult[]): string {
  const waitOf = (r: FleetResult) => waited?.find((w) => w.namespace === r.namespace && w.name === r.name);
  const items = results.map((r) => ({
    kind: 'VirtualMachineEditResult',
    namespace: r.namespace,
    name: r.name,
    result: r.outcome,
    message: r.message,
    ...(r.hint === undefined ? {} : { hint: r.hint }),
    ...(waitOf(r) ? { wait: { result: waitOf(r)?.outcome, state: waitOf(r)?.state } } : {}),
  }));
  return formatDocument({ apiVersion: 'v1', kind: 'List', items }, format);
}

export interface FleetProgress {
  update(done: number, total: number, last: 'ok' | 'bad'): void;
  /** Writes a result line without garbling the spinner. */
  around(write: () => void): void;
  finish(): void;
}

/** A counter on ora's spinner (TTY with a width, no NO_COLOR, no -o json|yaml); nothing otherwise. */
export async function createFleetProgress(total: number, opts: { machineOutput: boolean; stream: ProgressStream; env: NodeJS.ProcessEnv; verb: 'done' | 'ready' }): Promise<FleetProgress> {
  const { stream, env } = opts;
  const fancy = Boolean(stream.isTTY) && (stream.columns ?? 0) > 0 && env.NO_COLOR === undefined && !opts.machineOutput;
  if (!fancy) return { update: () => undefined, around: (write) => write(), finish: () => undefined };
  const { default: ora } = await import('ora');
  const bad = { n: 0 };
  const text = (done: number) => `${done}/${total} VirtualMachines ${opts.verb}${bad.n > 0 ? `, ${bad.n} not ${opts.verb === 'done' ? 'edited' : 'ready'}` : ''}`;
  // Whether to draw is decided above (ora alone would also stop drawing whenever CI is set).
  const spinner = ora({ text: text(0), stream: stream as NodeJS.WritableStream, discardStdin: false, isEnabled: true }).start();
  let ended = false;
  return {
    update: (done, _total, last) => {
      if (last === 'bad') bad.n++;
      spinner.text = text(done);
    },
    around: (write) => {
      spinner.clear();
      write();
      spinner.render();
    },
    finish: () => {
      if (ended) return;
      ended = true;
      spinner.stop();
    },
  };
}
