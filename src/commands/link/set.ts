import { Args } from '@oclif/core';
import { fileModeFlags, wantsFileMode } from '../../cli/file-mode.js';
import { dryRunFlag, editOutputFlag } from '../../cli/flags.js';
import { InterfaceEditCommand, waitFlags } from '../hotplug/shared.js';

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
    'dry-run': dryRunFlag,
    output: editOutputFlag,
    ...fileModeFlags,
  };

  async run(): Promise<void> {
    if (wantsFileMode(this.argv)) return (await import('../../cli/file-edits.js')).linkSetFile(LinkSet, this.argv);
    const { args, flags } = await this.parse(LinkSet);
    const { planLinkState } = await import('../../domain/hotplug.js');
    const state = args.state as 'up' | 'down';
    await this.editLive(flags, args.vm, () => ({
      plan: (vm, facts) => planLinkState(vm, { name: args.iface, state }, facts),
      goal: () => ({ kind: 'link', name: args.iface, state }),
    }));
  }
}
