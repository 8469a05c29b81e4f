/**
 * What the interface-edit commands (`hotplug add|remove`, `link set`,
 * `network set`, `mac set|unset`) share: their flags, the flags turned into the target of the
 * edit (the live VM, or `-f FILE --local`: an option of the same path, not a
 * second runtime), and one run: options -> core -> presenter -> streams.
 */
import { Flags } from '@oclif/core';
import { usageError } from '../errors.js';
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
    return flags.all === true;
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
