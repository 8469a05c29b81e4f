/**
 * What the interface-edit commands (`hotplug add|remove`, `link set`,
 * `network set`, `mac set|unset`) share: their flags, the flags turned into the target of the
 * edit (the live VM, or `-f FILE --local`: an option of the same path, not a
 * second runtime), and one run: options -> core -> presenter -> streams.
 */
import { Flags } from '@oclif/core';
import { refused, usageError, VnetError } from '../errors.js';
import type { EditOutput, FileTarget, InterfaceChange, InterfaceEditOptions, LiveTarget } from '../core/interface-edit.js';
import type { DryRun } from '../kube/edit.js';
import { ClusterCommand } from './base.js';
import { dryRunFlag, editOutputFlag } from './flags.js';
import { fileModeFlags } from './file-mode.js';

export const waitFlags = {
  wait: Flags.boolean({
    description: 'Watch the VMI and show progress until the change is live (a spinner on a TTY, plain lines otherwise); stops early with exit code 9 when KubeVirt or Multus report that it failed',
    default: false,
  }),
  timeout: Flags.string({ description: 'How long --wait waits (e.g. 90s, 5m; 0 waits without a limit); on expiry the exit code is 6 and the current state is printed', default: '5m' }),
};

/** Several VMs at once: -l SELECTOR, -A, --parallel (several names are VM1,VM2 or, for hotplug add, several arguments). */
export const fleetFlags = {
  selector: Flags.string({
    char: 'l',
    description: 'Edit every VM whose labels match this selector (e.g. app=web,tier!=db), in the namespace or with -A in all; leave out the VM argument',
    helpGroup: 'SEVERAL VMS',
  }),
  'all-namespaces': Flags.boolean({ char: 'A', description: 'Edit the VMs in all namespaces (every VM, or those -l selects); leave out the VM argument', default: false, helpGroup: 'SEVERAL VMS' }),
  parallel: Flags.integer({
    description: 'With several VMs: how many are edited at once',
    default: 10,
    min: 1,
    helpGroup: 'SEVERAL VMS',
  }),
  qps: Flags.string({
    description: 'With several VMs: the most requests a second this command sends (-1: no client-side limit; the server still answers 429 when it is busy, and that is honoured)',
    default: '50',
    helpGroup: 'SEVERAL VMS',
  }),
  burst: Flags.integer({ description: 'With several VMs: how many requests may go at once before --qps paces them (a token bucket)', default: 100, min: 1, helpGroup: 'SEVERAL VMS' }),
};

/** The flags every interface edit ends with: --dry-run, -o and the file mode. */
export const editFlags = {
  'dry-run': dryRunFlag,
  output: editOutputFlag,
  ...fileModeFlags,
};

/** The parsed flags the edit target is built from. */
export interface EditFlags {
  'dry-run': DryRun;
  output?: 'yaml' | 'json' | 'name';
  filename?: string;
  local: boolean;
  'in-place': boolean;
  all: boolean;
  namespace?: string;
  wait?: boolean;
  timeout?: string;
  selector?: string;
  'all-namespaces'?: boolean;
  parallel?: number;
  qps?: string;
  burst?: number;
}

/** Which VMs a fleet edit names: several names in the namespace, or a selection (-l, -A). */
export type FleetSelection = { names: string[] } | { selector?: string; allNamespaces: boolean };

/**
 * The VMs named (VM1,VM2 or several arguments) or selected (-l, -A) when that is more than one VM;
 * undefined for one VM by name (today's single edit, unchanged). Checks what cannot go with several VMs.
 */
export function fleetSelection(flags: EditFlags, vms: readonly string[], change: InterfaceChange): FleetSelection | undefined {
  const names = vms.flatMap((v) => v.split(','));
  const selecting = flags.selector !== undefined || flags['all-namespaces'] === true;
  if (!selecting && names.length <= 1) return undefined;
  if (selecting && vms.length > 0) throw usageError('name VMs or select them with -l/-A, not both', 'drop the VM names, or drop -l and -A');
  if (names.some((n) => n === '')) throw usageError(`the VM list "${vms.join(' ')}" has an empty name`, 'separate the names with single commas: vm1,vm2');
  if (asksForFile(flags)) throw usageError('several VMs (VM1,VM2, -l, -A) are edited in the cluster; -f FILE --local edits a file', 'for a file, use --all (every VM in it) or name one VM');
  if (change.kind === 'hotplug-add' && change.request.mac !== undefined)
    throw refused('--mac with several VMs would give every one of them the same MAC', 'add the interface to one VM at a time when it needs a MAC');
  if (flags.selector === '') throw usageError('the -l selector must not be empty', 'give a label selector such as app=web, or use -A alone for every VM');
  return selecting ? { selector: flags.selector, allNamespaces: flags['all-namespaces'] === true } : { names: [...new Set(names)] };
}

/** Any file-mode flag asks for the file mode (and the checks below say what else it needs). */
export function asksForFile(flags: Pick<EditFlags, 'filename' | 'local' | 'in-place' | 'all'>): boolean {
  return flags.filename !== undefined || flags.local || flags['in-place'] || flags.all;
}

/** The -f FILE --local target, or a usage error saying what is missing or does not go with it. */
export function fileTarget(flags: EditFlags, vm: string | undefined): FileTarget {
  const file = flags.filename;
  if (file === undefined) {
    throw usageError('--local, --in-place and --all work on a manifest file, and no -f FILE was given', 'add -f FILE (or -f - for stdin); without them the command edits the VM in the cluster');
  }
  if (!flags.local) {
    throw usageError(
      `-f ${file} needs --local: this command edits a manifest file only with --local (nothing is sent to a cluster)`,
      `add --local to edit the file; to change the live VM, drop -f (and apply the file with kubectl apply -f ${file})`,
    );
  }
  if (flags['dry-run'] === 'server')
    throw usageError('--dry-run=server needs a cluster; with -f FILE --local nothing is sent anywhere', 'drop --dry-run (the result goes to stdout unless --in-place), or use --dry-run=client');
  if (flags.wait) throw usageError('--wait watches a running VM and needs a cluster; it cannot be used with -f FILE --local');
  const output = flags.output;
  if (output === 'json' || output === 'yaml') {
    throw usageError(
      `-o ${output} cannot be used with -f FILE --local: the result is the manifest itself, in its own format`,
      'drop -o (the edited manifest goes to stdout), or use -o name with --in-place',
    );
  }
  if (output === 'name' && !flags['in-place']) throw usageError('-o name with -f FILE --local needs --in-place: without it, stdout is the edited manifest');
  if (flags['in-place'] && file === '-') throw usageError('--in-place needs a file: stdin cannot be written back', 'drop --in-place (the result goes to stdout), or name the file with -f FILE');
  if (!flags.all && vm === undefined) throw usageError('missing argument: VM (the VirtualMachine name)', 'name the VM, or pass --all for every VirtualMachine in the file');
  return { mode: 'file', file, name: flags.all ? undefined : vm, all: flags.all, inPlace: flags['in-place'], namespace: flags.namespace };
}

/** The live target: the VM by name, and --wait with its --timeout (parsed before anything is read). */
export async function liveTarget(flags: EditFlags, vm: string | undefined): Promise<LiveTarget> {
  if (vm === undefined) throw usageError('missing argument: VM');
  const { parseDuration } = await import('../kube/duration.js');
  const timeoutMs = flags.timeout === undefined ? 0 : parseDuration(flags.timeout, '--timeout');
  return { mode: 'live', name: vm, wait: flags.wait ? { timeoutMs } : undefined };
}

/** The options of an interface edit, from its change and the parsed flags. */
export async function editOptions(change: InterfaceChange, flags: EditFlags, vm: string | undefined): Promise<InterfaceEditOptions> {
  const target = asksForFile(flags) ? fileTarget(flags, vm) : await liveTarget(flags, vm);
  return { change, target, dryRun: flags['dry-run'], output: (flags.output ?? 'default') as EditOutput };
}

/** The base of the interface-edit commands: --all leaves out the VM argument; run() takes the options. */
export abstract class InterfaceEditCommand extends ClusterCommand {
  protected override omitsFirstArgument(flags: Record<string, unknown>): boolean {
    return flags.all === true || flags.selector !== undefined || flags['all-namespaces'] === true;
  }

  protected override omittedFirstHint(flags: Record<string, unknown>): string | undefined {
    return flags.all === true ? undefined : '-l and -A select the VMs: leave out the VM name (or drop -l and -A and name the VMs: VM1,VM2)';
  }

  /**
   * Runs the edit on one VM (as runEdit), or, for several names, -l or -A, on each of them:
   * one result per VM, then a summary; exit code 10 when any was refused or failed.
   */
  protected async runEditOn(change: InterfaceChange, flags: EditFlags & { debug?: boolean }, vms: readonly string[]): Promise<void> {
    const selection = fleetSelection(flags, vms, change);
    if (!selection) {
      await this.runEdit(await editOptions(change, flags, vms[0]), flags);
      return;
    }
    await this.runFleetEdit(change, flags, selection);
  }

  /** --wait with several VMs: one watch per namespace, a counter on a TTY, one line per VM, a summary. */
  private async waitForFleet(
    results: readonly import('../core/fleet.js').FleetResult[],
    o: { client: import('../kube/api.js').KubeApi; flags: EditFlags; timeoutMs: number; signal: AbortSignal; machineOutput: boolean; streaming: boolean; showNamespace: boolean },
  ): Promise<import('../kube/fleet-wait.js').FleetWaitResult[] | undefined> {
    if (o.flags['dry-run'] !== 'none') {
      this.note('Note: --wait does nothing with a dry run: nothing changed');
      return undefined;
    }
    const [{ waitForFleet }, render] = await Promise.all([import('../kube/fleet-wait.js'), import('../render/fleet.js')]);
    const items = results.flatMap((r) => (r.waitFor ? [r.waitFor] : []));
    if (items.length === 0) return [];
    const progress = await render.createFleetProgress(items.length, { machineOutput: o.machineOutput, stream: this.io.stderr, env: this.io.env, verb: 'ready' });
    try {
      const waited = await waitForFleet(o.client, items, {
        timeoutMs: o.timeoutMs,
        signal: o.signal,
        onDone: (w, done, total) => {
          if (o.streaming) progress.around(() => this.out(render.renderWaitLine(w, o.showNamespace)));
          progress.update(done, total, w.outcome === 'done' || w.outcome === 'not-running' ? 'ok' : 'bad');
        },
      });
      progress.finish();
      if (o.streaming) {
        for (const w of waited.filter((x) => x.outcome === 'timeout' || x.outcome === 'interrupted')) this.out(render.renderWaitLine(w, o.showNamespace));
        this.out(render.renderWaitSummary(waited));
      }
      return waited;
    } finally {
      progress.finish();
    }
  }

  private async runFleetEdit(change: InterfaceChange, flags: EditFlags & { debug?: boolean }, selection: FleetSelection): Promise<void> {
    const [{ editFleetLive, fleetExit, DEFAULT_QPS, DEFAULT_BURST, fleetBucket, rateLimited }, render, { Reflector }, { Resources, resourcePath }] = await Promise.all([
      import('../core/fleet.js'),
      import('../render/fleet.js'),
      import('../kube/reflector.js'),
      import('../kube/resources.js'),
    ]);
    // A fleet's add and remove are re-runnable: what is already done is unchanged (planHotplugOnce, planUnplugOnce).
    const fleetChange: InterfaceChange = change.kind === 'hotplug-add' || change.kind === 'hotplug-remove' ? { ...change, once: true } : change;
    const { parseDuration } = await import('../kube/duration.js');
    const timeoutMs = flags.timeout === undefined ? 0 : parseDuration(flags.timeout, '--timeout');
    // A bad --qps or --burst is refused before anything is read; every request of the run takes a token.
    const bucket = fleetBucket(flags.qps === undefined ? DEFAULT_QPS : Number(flags.qps), flags.burst ?? DEFAULT_BURST);
    const connected = await this.connect(flags);
    const conn = connected.conn;
    const client = rateLimited(connected.client, bucket);
    let source: import('../core/fleet.js').FleetSource | undefined;
    let vms: { namespace: string; name: string }[];
    if ('names' in selection) {
      vms = selection.names.map((name) => ({ namespace: conn.namespace, name }));
    } else {
      // The selection is the first list of a cache of the VMs that the edit keeps current.
      const cache = new Reflector<import('../domain/types.js').VirtualMachine>(client, {
        path: resourcePath(Resources.vm, selection.allNamespaces ? undefined : conn.namespace),
        labelSelector: selection.selector,
      });
      await cache.list();
      source = { vms: cache, allNamespaces: selection.allNamespaces };
      vms = [...cache.items.values()].map((vm) => ({ namespace: vm.metadata.namespace ?? conn.namespace, name: vm.metadata.name }));
    }
    const output = flags.output ?? 'default';
    if (vms.length === 0) {
      if (output === 'json' || output === 'yaml') this.out(render.renderFleetList([], output));
      this.note('allNamespaces' in selection && selection.allNamespaces ? 'No resources found' : `No resources found in ${conn.namespace} namespace.`);
      return;
    }
    const showNamespace = 'allNamespaces' in selection && selection.allNamespaces;
    const ctl = new AbortController();
    const onSigint = () => {
      if (!ctl.signal.aborted) this.note('Interrupted: no new VM is started; waiting for the edits under way to finish');
      ctl.abort();
    };
    process.on('SIGINT', onSigint);
    const progress = await render.createFleetProgress(vms.length, { machineOutput: output === 'json' || output === 'yaml', stream: this.io.stderr, env: this.io.env, verb: 'done' });
    const streaming = output === 'default' || output === 'name';
    try {
      const summary = await editFleetLive(
        vms,
        {
          change: fleetChange,
          dryRun: flags['dry-run'],
          parallel: flags.parallel ?? 10,
          signal: ctl.signal,
          onResult: (r, done, total) => {
            if (streaming) progress.around(() => this.out(render.renderFleetLine(r, output as 'default' | 'name', showNamespace)));
            progress.update(done, total, r.outcome === 'refused' || r.outcome === 'failed' ? 'bad' : 'ok');
          },
        },
        { client, source },
      );
      progress.finish();
      if (streaming) {
        for (const r of summary.results.filter((x) => x.outcome === 'skipped')) this.out(render.renderFleetLine(r, output as 'default' | 'name', showNamespace));
        this.out(render.renderFleetSummary(summary));
      }
      const waited =
        flags.wait && !summary.interrupted
          ? await this.waitForFleet(summary.results, { client, flags, timeoutMs, signal: ctl.signal, machineOutput: !streaming, streaming, showNamespace })
          : undefined;
      if (!streaming) this.out(render.renderFleetList(summary.results, output as 'json' | 'yaml', waited));
      const exit = fleetExit(summary);
      if (exit === 'interrupted' || waited?.some((w) => w.outcome === 'interrupted')) {
        throw new VnetError('interrupted', `interrupted: ${render.summaryCounts(summary)}`, { hint: 'run the command again: the VMs already done report unchanged' });
      }
      if (exit === 'partialFailure') {
        const bad = summary.counts.refused + summary.counts.failed;
        throw new VnetError('partialFailure', `${bad} of ${summary.results.length} VirtualMachines were not edited (${render.summaryCounts(summary)})`, {
          hint: "see each VM's line for why; fix that and run the same command again: the VMs already done report unchanged",
        });
      }
      const failed = waited?.filter((w) => w.outcome === 'failed') ?? [];
      if (failed.length > 0) {
        throw new VnetError(
          'changeFailed',
          `${failed.length} of ${waited?.length} VirtualMachines did not get the change: KubeVirt or Multus reported a failure (or the watch was lost); see each VM's line`,
          {
            hint: `the edits stay in place; fix the cause, then check each, e.g. kubectl vnet status ${failed[0]?.name} -n ${failed[0]?.namespace} (kubectl vnet doctor ${failed[0]?.name} looks further)`,
          },
        );
      }
      const late = waited?.filter((w) => w.outcome === 'timeout') ?? [];
      if (late.length > 0) {
        throw new VnetError('timeout', `${late.length} of ${waited?.length} VirtualMachines did not reach the change within --timeout ${flags.timeout}`, {
          hint: 'the edits stay in place; follow them with kubectl vnet status -w',
        });
      }
    } finally {
      progress.finish();
      process.removeListener('SIGINT', onSigint);
    }
  }

  /** Runs the edit (live or on the file) and prints it; waits when asked. */
  protected async runEdit(options: InterfaceEditOptions, flags: EditFlags & { debug?: boolean }): Promise<void> {
    const core = await import('../core/interface-edit.js');
    const { renderFileEdit, renderLiveEdit } = await import('../render/edit.js');
    const target = options.target;
    if (target.mode === 'file') {
      const { readManifestInput, writeFileAtomic } = await import('./file-mode.js');
      const result = await core.editInterfaceFile({ ...options, target }, { read: (file) => readManifestInput(file, this.io.stdin), write: (file, text) => writeFileAtomic(file, text) });
      this.print(renderFileEdit(result, { ...options, inPlace: target.inPlace }));
      return;
    }
    const { conn, client } = await this.connect(flags);
    const result = await core.editInterfaceLive({ ...options, target }, { client, namespace: conn.namespace });
    this.print(renderLiveEdit(result, options.output));
    if (!target.wait) return;
    if (options.dryRun !== 'none') {
      this.note('Note: --wait does nothing with a dry run: nothing changed');
      return;
    }
    await this.waitWithProgress(result, { client, timeoutMs: target.wait.timeoutMs, machineOutput: options.output !== 'default' });
  }

  /** --wait: the core watches; the progress (spinner or lines) and Ctrl-C are the command's. */
  private async waitWithProgress(
    result: import('../core/interface-edit.js').LiveEditResult,
    o: { client: import('../kube/api.js').KubeApi; timeoutMs: number; machineOutput: boolean },
  ): Promise<void> {
    const [{ waitForEdit }, { createProgress }] = await Promise.all([import('../core/interface-edit.js'), import('../render/progress.js')]);
    const name = result.goal?.name ?? '';
    const ctl = new AbortController();
    const onSigint = () => ctl.abort();
    // `on`, not `once`: the listener must still be there when a spinner library's
    // exit hook counts SIGINT listeners, or it re-raises the signal and the process dies mid-report.
    process.on('SIGINT', onSigint);
    const progress = await createProgress(`interface ${name}`, { machineOutput: o.machineOutput, stream: this.io.stderr, env: this.io.env });
    let last = 'waiting';
    try {
      const res = await waitForEdit(result, {
        client: o.client,
        timeoutMs: o.timeoutMs,
        signal: ctl.signal,
        onState: (s) => {
          last = s;
          progress.update(s);
        },
      });
      progress.finish(`interface ${name}: ${res.state}`, true);
      if (res.outcome === 'no-vmi') this.note(`Note: ${res.note}`);
    } catch (err) {
      // The error itself (with its hint) is printed once, by the command's error handler.
      progress.finish(`interface ${name}: ${last}`, false);
      throw err;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  }
}
