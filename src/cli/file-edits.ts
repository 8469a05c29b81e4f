/**
 * The file mode (-f FILE --local) of each write command: its arguments
 * turned into a call of the command's own planner (the same code as the live
 * path), with no cluster facts. The planners skip the checks that need a
 * cluster and say which in their notes. The checks that a file allows run on
 * the file itself (mac set: MAC collisions among the file's VMs).
 */
import { refused } from '../errors.js';
import type { VirtualMachine } from '../domain/types.js';
import { runFileEdit, type FileEditInput } from './file-mode.js';

type Spec = Parameters<typeof runFileEdit>[0];

export async function hotplugAddFile(cmd: Spec, argv: readonly string[]): Promise<void> {
  const { planHotplug } = await import('../domain/hotplug.js');
  await runFileEdit(cmd, argv, ({ flags, fileVMs }) => {
    const req = {
      network: flags.network as string,
      name: flags.name as string | undefined,
      binding: flags.binding as string | undefined,
      mac: flags.mac as string | undefined,
      model: flags.model as string | undefined,
      force: Boolean(flags.force),
    };
    if (req.mac !== undefined && flags.all && fileVMs.length > 1) throw refused('--mac with --all would give every VirtualMachine in the file the same MAC', 'add the interface to one VM at a time when it needs a MAC');
    return (vm) => planHotplug(vm, req, {});
  });
}

export async function hotplugRemoveFile(cmd: Spec, argv: readonly string[]): Promise<void> {
  const { planUnplug } = await import('../domain/hotplug.js');
  await runFileEdit(cmd, argv, ({ args }) => (vm) => planUnplug(vm, { name: args.iface as string }, {}));
}

export async function linkSetFile(cmd: Spec, argv: readonly string[]): Promise<void> {
  const { planLinkState } = await import('../domain/hotplug.js');
  await runFileEdit(cmd, argv, ({ args }) => (vm) => planLinkState(vm, { name: args.iface as string, state: args.state as string }, {}));
}

/** The file's VMs as MAC claims, each in the namespace it would be applied to. */
async function fileMacUses(input: FileEditInput) {
  const { collectMacUses } = await import('../domain/mac.js');
  const ns = input.flags.namespace;
  const vms: VirtualMachine[] = input.fileVMs.map((vm) => (vm.metadata.namespace || ns === undefined ? vm : { ...vm, metadata: { ...vm.metadata, namespace: ns } }));
  return { uses: collectMacUses(vms, []), count: vms.length };
}

export async function macSetFile(cmd: Spec, argv: readonly string[]): Promise<void> {
  const [{ parseMac }, { planMacSet }, { NETCONF_IMAGE_ENV }] = await Promise.all([import('../domain/mac.js'), import('../domain/mac-plan.js'), import('../domain/hooks.js')]);
  await runFileEdit(cmd, argv, async (input) => {
    const { args, flags } = input;
    if (flags.all && input.fileVMs.length > 1) throw refused('mac set with --all would give every VirtualMachine in the file the same MAC', 'name one VM');
    const mac = parseMac(args.mac as string);
    const env = process.env[NETCONF_IMAGE_ENV];
    const image = flags['sidecar-image'] as string | undefined;
    const sidecarImage = image ? { image, from: '--sidecar-image' } : env ? { image: env, from: NETCONF_IMAGE_ENV } : undefined;
    const via = flags.via as 'netconf' | 'spec';
    const { uses, count } = await fileMacUses(input);
    const opts = { iface: args.iface as string, mac, via, sidecarImage, force: Boolean(flags.force) };
    return (vm) => {
      const plan = planMacSet(vm, opts, { uses: { uses } });
      if (!plan.noop) plan.notes.unshift(`MAC collisions were checked against the ${count} VirtualMachine${count === 1 ? '' : 's'} in ${input.source} only, not the cluster's`);
      return plan;
    };
  });
}

export async function macUnsetFile(cmd: Spec, argv: readonly string[]): Promise<void> {
  const { planMacUnset } = await import('../domain/mac-plan.js');
  await runFileEdit(cmd, argv, ({ args, flags }) => (vm) => planMacUnset(vm, { iface: args.iface as string, via: flags.via as 'netconf' | 'spec' }, {}));
}
