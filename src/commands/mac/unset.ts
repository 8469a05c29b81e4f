import { Args } from '@oclif/core';
import { editFlags, editOptions, InterfaceEditCommand } from '../../cli/edit-command.js';
import { resolveVia, viaFlag } from './common.js';

export default class MacUnset extends InterfaceEditCommand {
  static override summary = 'Remove the MAC address set on a VM interface, from the VM spec (default) or the netconf annotation';
  static override description =
    'Without --via the spec MAC is cleared; when the interface has a netconf MAC, the plain form refuses and prints the command to run. ' +
    'With --via netconf the interface\'s entry is removed from netconf.kubevirt.io/macAddress; the netconf sidecar entry goes too when no entry remains. ' +
    'With --via spec interfaces[].macAddress is cleared (kubemacpool, where it manages the namespace, writes the MAC it had allocated back).';
  static override examples = ['<%= config.bin %> mac unset vm1 blue', '<%= config.bin %> mac unset vm1 blue --via netconf'];
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
    await this.runEdit(await editOptions({ kind: 'mac-unset', options: { iface: args.iface as string, ...resolveVia(flags.via) } }, flags, args.vm), flags);
  }
}
