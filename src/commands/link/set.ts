import { Args } from '@oclif/core';
import { editFlags, editOptions, InterfaceEditCommand, waitFlags } from '../../cli/edit-command.js';

export default class LinkSet extends InterfaceEditCommand {
  static override summary = 'Set the link state of a VM interface up or down (KubeVirt v1.5+, not SR-IOV)';
  static override description = 'Sets interfaces[].state to up or down in the VM template; KubeVirt applies it live and reports it as status.interfaces[].linkState.';
  static override examples = ['<%= config.bin %> link set vm1 blue down', '<%= config.bin %> link set vm1 blue up --wait'];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name', required: true }),
    iface: Args.string({ description: 'Interface name', required: true }),
    state: Args.string({ description: 'up or down', required: true, options: ['up', 'down'] }),
  };
  static override flags = {
    ...waitFlags,
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LinkSet);
    const change = { kind: 'link-set', iface: args.iface as string, state: args.state as 'up' | 'down' } as const;
    await this.runEdit(await editOptions(change, flags, args.vm), flags);
  }
}
