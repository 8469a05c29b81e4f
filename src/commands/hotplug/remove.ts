import { Args } from '@oclif/core';
import { fileModeFlags, wantsFileMode } from '../../cli/file-mode.js';
import { dryRunFlag, editOutputFlag } from '../../cli/flags.js';
import { InterfaceEditCommand, waitFlags } from './shared.js';

export default class HotplugRemove extends InterfaceEditCommand {
  static override summary = 'Unplug a bridge interface from a VM (sets state: absent; KubeVirt removes the entries once the NIC has left the guest)';
  static override description =
    'Only bridge interfaces on secondary networks can be unplugged; SR-IOV interfaces and the pod or Multus default network cannot. ' +
    'The tool never deletes the entries itself: that would leave the NIC in the guest and mark the VM RestartRequired.';
  static override examples = ['<%= config.bin %> hotplug remove vm1 blue', '<%= config.bin %> hotplug remove vm1 blue --wait --timeout 2m'];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name', required: true }),
    iface: Args.string({ description: 'Interface name', required: true }),
  };
  static override flags = {
    ...waitFlags,
    'dry-run': dryRunFlag,
    output: editOutputFlag,
    ...fileModeFlags,
  };

  async run(): Promise<void> {
    if (wantsFileMode(this.argv)) return (await import('../../cli/file-edits.js')).hotplugRemoveFile(HotplugRemove, this.argv);
    const { args, flags } = await this.parse(HotplugRemove);
    const { planUnplug } = await import('../../domain/hotplug.js');
    await this.editLive(flags, args.vm, () => ({
      plan: (vm, facts) => planUnplug(vm, { name: args.iface }, facts),
      goal: () => ({ kind: 'gone', name: args.iface }),
    }));
  }
}
