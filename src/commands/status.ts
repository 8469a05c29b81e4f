import { Args, Flags } from '@oclif/core';
import { ClusterCommand } from '../cli/base.js';
import { FILE_GROUP, fileReadFlags } from '../cli/file-mode.js';
import { allNamespacesFlag, outputFlag } from '../cli/flags.js';
import { usageError } from '../errors.js';
import type { StatusFileOptions, StatusOptions } from '../core/status.js';

type StatusFlags = { 'all-namespaces': boolean; selector?: string; filename?: string; local: boolean; namespace?: string; watch: boolean; 'kubevirt-version'?: string };

export default class Status extends ClusterCommand {
  static override summary = 'Per-interface network status of VMs, joined from the VM, its VMI and the launcher pod\'s Multus status';
  static override description =
    'STATE is one of: stopped, pending, attaching, ready, unplugging, detached, guest-only, stale. ' +
    'Warnings (MAC mismatch, RestartRequired, MigrationRequired, missing Sidecar gate, malformed annotations) go to stderr, or into "warnings" with -o json|yaml.';
  static override examples = [
    '<%= config.bin %> status myvm',
    '<%= config.bin %> status -o wide',
    '<%= config.bin %> status -A -l app=web -o json',
    '<%= config.bin %> status vmi/standalone',
    '<%= config.bin %> status -w',
    '<%= config.bin %> status myvm -w -o json',
  ];
  static override args = { target: Args.string({ description: 'VM name (or vm/NAME, vmi/NAME for a standalone VMI); all VMs of the namespace when omitted' }) };
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'], 'table'),
    'all-namespaces': allNamespacesFlag,
    selector: Flags.string({ char: 'l', description: 'Label selector on VM labels (e.g. app=web,tier!=db)' }),
    watch: Flags.boolean({
      char: 'w',
      description: 'After the status, follow changes (watches of VMs, VMIs and launcher pods) until Ctrl-C: on a terminal the table is redrawn in place; otherwise one line per changed row, or one object per changed VM with -o json|yaml',
      default: false,
    }),
    ...fileReadFlags,
    'kubevirt-version': Flags.string({ description: 'With -f FILE --local: the KubeVirt version the manifest is meant for (e.g. v1.8.2); the binding rules that depend on it are decided for it', helpGroup: FILE_GROUP }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Status);
    const format = flags.output;
    const file = fileOptions(args.target, flags);
    if (file) {
      const [{ readDesiredStatus }, { readManifestInput }, { renderDesiredStatus }] = await Promise.all([import('../core/status.js'), import('../cli/file-mode.js'), import('../render/status.js')]);
      const desired = await readDesiredStatus(file, (f) => readManifestInput(f, this.io.stdin));
      if (format === 'json' || format === 'yaml') return this.document(desired.name ? desired.items[0] : { kind: 'List', items: desired.items }, format);
      return this.print(renderDesiredStatus(desired, { wide: format === 'wide' }));
    }
    const { core, options } = await clusterOptions(args.target, flags);
    const { conn, client } = await this.connect(flags);
    const opts: StatusOptions = { ...options, namespace: flags['all-namespaces'] ? undefined : conn.namespace };
    if (flags.watch) return this.watch(opts, format, { client, contextNamespace: conn.namespace });
    const result = await core.readStatus(client, opts, conn.namespace);
    if (format === 'json' || format === 'yaml') return this.document(result, format);
    const items = result.kind === 'List' ? result.items : [result];
    if (items.length === 0) return this.note(opts.namespace ? `No resources found in ${opts.namespace} namespace.` : 'No resources found');
    const { renderStatus } = await import('../render/status.js');
    this.print(renderStatus(items, { wide: format === 'wide', showNamespace: !opts.namespace, paint: this.paint(format) }));
  }

  /** -w: the status, then its changes until Ctrl-C (exit 0); redrawn in place on a terminal. */
  private async watch(opts: StatusOptions, format: 'table' | 'wide' | 'json' | 'yaml', t: WatchTarget): Promise<void> {
    const [{ watchStatus }, { StatusWatchPrinter }, { escapeControl, useColour }] = await Promise.all([import('../core/status-watch.js'), import('../render/status-watch.js'), import('../render/output.js')]);
    const stdout = this.io.stdout;
    // Redrawn in place on a terminal (and never with NO_COLOR, like colour); otherwise a stream of changes.
    const redraw = useColour(stdout, format, this.io.env);
    const empty = opts.namespace ? `No resources found in ${opts.namespace} namespace.` : 'No resources found';
    const printer = new StatusWatchPrinter({ format, showNamespace: !opts.namespace, redraw, paint: this.paint(format), empty });
    const frame = redraw ? (await import('log-update')).createLogUpdate(stdout as NodeJS.WriteStream, { showCursor: true }) : undefined;
    const ctl = new AbortController();
    const onSigint = () => ctl.abort();
    process.on('SIGINT', onSigint);
    try {
      await watchStatus(opts, {
        client: t.client,
        contextNamespace: t.contextNamespace,
        signal: ctl.signal,
        onUpdate: (u) => {
          const out = printer.update(u);
          if (frame) {
            // Warnings go above the table: it is cleared, they are written, it is drawn again.
            if (out.stderr.length > 0) frame.clear();
            for (const line of out.stderr) this.note(line);
            frame(escapeControl(out.stdout.replace(/\n$/, ''), true));
            return;
          }
          for (const line of out.stderr) this.note(line);
          if (out.stdout) this.out(out.stdout);
        },
      });
    } finally {
      process.removeListener('SIGINT', onSigint);
      frame?.done();
    }
  }
}

export interface WatchTarget {
  client: import('../kube/api.js').KubeApi;
  contextNamespace: string;
}

/** -f FILE --local: the options of the file path, or undefined for the cluster (a usage error when the flags do not go together). */
function fileOptions(target: string | undefined, flags: StatusFlags): StatusFileOptions | undefined {
  if (flags.filename === undefined && !flags.local) {
    if (flags['kubevirt-version'] !== undefined) throw usageError('--kubevirt-version applies to -f FILE --local only', 'drop it: with a cluster, the KubeVirt CR gives the version');
    return undefined;
  }
  if (flags.filename === undefined) throw usageError('--local, --in-place and --all work on a manifest file, and no -f FILE was given', 'add -f FILE (or -f - for stdin); without them the command edits the VM in the cluster');
  if (!flags.local) throw usageError(`-f ${flags.filename} needs --local: this command reads a manifest file only with --local (no cluster is read)`, 'add --local to show the desired view of the file; without -f it reads the cluster');
  if (flags['all-namespaces']) throw usageError('-A reads a cluster; with -f FILE --local the VMs are the ones in the file');
  if (flags.watch) throw usageError('-w follows changes in a cluster; a file given with -f FILE --local does not change', 'leave out -w, or -f FILE --local to watch the cluster');
  return { file: flags.filename, name: target, namespace: flags.namespace, selector: flags.selector || undefined, kubevirtVersion: flags['kubevirt-version'] };
}

/** The options of the cluster path, checked before anything is read (the namespace comes with the connection). */
async function clusterOptions(target: string | undefined, flags: StatusFlags) {
  if (target && flags['all-namespaces']) throw usageError('a VM name cannot be combined with -A', 'use -n NAMESPACE NAME');
  if (target && flags.selector) throw usageError('a VM name cannot be combined with -l/--selector');
  const core = await import('../core/status.js');
  return { core, options: { target: target ? core.parseTarget(target) : undefined, selector: flags.selector } };
}
