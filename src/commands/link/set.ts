import { Args } from '@oclif/core';
import { editFlags, fleetFlags, InterfaceEditCommand, waitFlags } from '../../cli/edit-command.js';

export default class LinkSet extends InterfaceEditCommand {
  static override summary = 'Set the link state of a VM interface up or down (KubeVirt v1.5+, not SR-IOV)';
  static override description = 'Sets interfaces[].state to up or down in the VM template; KubeVirt applies it live and reports it as status.interfaces[].linkState.';
  static override examples = ['<%= config.bin %> link set vm1 blue down', '<%= config.bin %> link set vm1 blue up --wait', '<%= config.bin %> link set vm1,vm2 blue down', '<%= config.bin %> link set -l app=web blue down --parallel 5'];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name (several: VM1,VM2; or leave it out for -l/-A)', required: true }),
    iface: Args.string({ description: 'Interface name', required: true }),
    state: Args.string({ description: 'up or down', required: true, options: ['up', 'down'] }),
  };
  static override flags = {
    ...waitFlags,
    ...fleetFlags,
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LinkSet);
    const change = { kind: 'link-set', iface: args.iface as string, state: args.state as 'up' | 'down' } as const;
    await this.runEditOn(change, flags, args.vm === undefined ? [] : [args.vm]);
  }
}
