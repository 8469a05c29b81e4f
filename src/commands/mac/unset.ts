import { Args } from '@oclif/core';
import { editFlags, editOptions, InterfaceEditCommand } from '../../cli/edit-command.js';
import { viaFlag } from './common.js';

export default class MacUnset extends InterfaceEditCommand {
  static override summary = 'Remove the MAC address set on a VM interface, from the netconf annotation (default) or the VM spec';
  static override description =
    'With --via netconf the interface\'s entry is removed from netconf.kubevirt.io/macAddress; the netconf sidecar entry goes too when no entry remains. ' +
    'With --via spec interfaces[].macAddress is cleared (kubemacpool, where it manages the namespace, writes the MAC it had allocated back).';
  static override examples = ['<%= config.bin %> mac unset vm1 blue', '<%= config.bin %> mac unset vm1 blue --via spec'];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name', required: true }),
    iface: Args.string({ description: 'Interface name', required: true }),
  };
  static override flags = {
    via: viaFlag,
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MacUnset);
    await this.runEdit(await editOptions({ kind: 'mac-unset', options: { iface: args.iface as string, via: flags.via } }, flags, args.vm), flags);
  }
}
