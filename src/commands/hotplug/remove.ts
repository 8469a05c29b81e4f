import { Args } from '@oclif/core';
import { editFlags, fleetFlags, InterfaceEditCommand, waitFlags } from '../../cli/edit-command.js';

export default class HotplugRemove extends InterfaceEditCommand {
  static override summary = 'Unplug a bridge interface from a VM (sets state: absent; KubeVirt removes the entries once the NIC has left the guest)';
  static override description =
    'Only bridge interfaces on secondary networks can be unplugged; SR-IOV interfaces and the pod or Multus default network cannot. ' +
    'The tool never deletes the entries itself: that would leave the NIC in the guest and mark the VM RestartRequired.';
  static override examples = ['<%= config.bin %> hotplug remove vm1 blue', '<%= config.bin %> hotplug remove vm1 blue --wait --timeout 2m', '<%= config.bin %> hotplug remove vm1,vm2 blue', '<%= config.bin %> hotplug remove -l app=web blue'];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name (several: VM1,VM2; or leave it out for -l/-A)', required: true }),
    iface: Args.string({ description: 'Interface name', required: true }),
  };
  static override flags = {
    ...waitFlags,
    ...fleetFlags,
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(HotplugRemove);
    await this.runEditOn({ kind: 'hotplug-remove', iface: args.iface as string }, flags, args.vm === undefined ? [] : [args.vm]);
  }
}
