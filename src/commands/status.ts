import { Args, Flags } from '@oclif/core';
import { ClusterCommand } from '../cli/base.js';
import { FILE_GROUP, fileReadFlags } from '../cli/file-mode.js';
import { allNamespacesFlag, outputFlag } from '../cli/flags.js';
import { usageError } from '../errors.js';
import type { StatusFileOptions, StatusOptions } from '../core/status.js';

type StatusFlags = { 'all-namespaces': boolean; selector?: string; filename?: string; local: boolean; namespace?: string; 'kubevirt-version'?: string };

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
  ];
  static override args = { target: Args.string({ description: 'VM name (or vm/NAME, vmi/NAME for a standalone VMI); all VMs of the namespace when omitted' }) };
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'], 'table'),
    'all-namespaces': allNamespacesFlag,
    selector: Flags.string({ char: 'l', description: 'Label selector on VM labels (e.g. app=web,tier!=db)' }),
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
    const result = await core.readStatus(client, opts, conn.namespace);
    if (format === 'json' || format === 'yaml') return this.document(result, format);
    const items = result.kind === 'List' ? result.items : [result];
    if (items.length === 0) return this.note(opts.namespace ? `No resources found in ${opts.namespace} namespace.` : 'No resources found');
    const { renderStatus } = await import('../render/status.js');
    this.print(renderStatus(items, { wide: format === 'wide', showNamespace: !opts.namespace, paint: this.paint(format) }));
  }
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
  return { file: flags.filename, name: target, namespace: flags.namespace, selector: flags.selector || undefined, kubevirtVersion: flags['kubevirt-version'] };
}

/** The options of the cluster path, checked before anything is read (the namespace comes with the connection). */
async function clusterOptions(target: string | undefined, flags: StatusFlags) {
  if (target && flags['all-namespaces']) throw usageError('a VM name cannot be combined with -A', 'use -n NAMESPACE NAME');
  if (target && flags.selector) throw usageError('a VM name cannot be combined with -l/--selector');
  const core = await import('../core/status.js');
  return { core, options: { target: target ? core.parseTarget(target) : undefined, selector: flags.selector } };
}
