import { Args, Flags } from '@oclif/core';
import { editFlags, editOptions, InterfaceEditCommand } from '../../cli/edit-command.js';
import { parseMac } from '../../domain/mac.js';
import { usageError } from '../../errors.js';
import { resolveVia, viaFlag } from './common.js';

export default class MacSet extends InterfaceEditCommand {
  static override summary = 'Set the MAC address of a VM interface, in the VM spec (default) or through the netconf hook sidecar';
  static override description =
    'The MAC is checked (unicast, 6 bytes, not reserved), checked against every MAC of the VMs and VMIs you can read, and against kubemacpool\'s range. ' +
    'It takes effect at the next start of the VM. Without --via the MAC goes into the VM spec (--sidecar-image implies --via netconf); ' +
    'when the interface already has a netconf MAC, the plain form refuses and prints the command to run.';
  static override examples = [
    '<%= config.bin %> mac set vm1 blue 02-00-00-AA-BB-01',
    '<%= config.bin %> mac set vm1 blue 02:00:00:aa:bb:01 --via netconf --sidecar-image registry.example/kubevirt/netconf-hook-sidecar:v1.9.0',
    '<%= config.bin %> mac set vm1 blue 0200.00aa.bb01 --dry-run=client',
  ];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name', required: true }),
    iface: Args.string({ description: 'Interface name (spec.template.spec.domain.devices.interfaces[].name)', required: true }),
    mac: Args.string({ description: 'MAC address: aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff', required: true }),
  };
  static override flags = {
    via: viaFlag,
    'sidecar-image': Flags.string({ description: 'netconf sidecar image for --via netconf; given without --via, it selects --via netconf (default: $KUBECTL_VNET_NETCONF_IMAGE, else the image already on the VM)' }),
    force: Flags.boolean({ description: 'Set the MAC even when another interface uses it or it lies in kubemacpool\'s range', default: false }),
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MacSet);
    const mac = parseMac(args.mac as string);
    if (flags.via === 'spec' && flags['sidecar-image']) throw usageError('--sidecar-image applies to --via netconf only', 'drop --sidecar-image, or use --via netconf');
    const { NETCONF_IMAGE_ENV } = await import('../../domain/hooks.js');
    const env = this.io.env[NETCONF_IMAGE_ENV];
    const sidecarImage = flags['sidecar-image'] ? { image: flags['sidecar-image'], from: '--sidecar-image' } : env ? { image: env, from: NETCONF_IMAGE_ENV } : undefined;
    const options = { iface: args.iface as string, mac, ...resolveVia(flags.via, flags['sidecar-image']), sidecarImage, force: flags.force };
    await this.runEdit(await editOptions({ kind: 'mac-set', options }, flags, args.vm), flags);
  }
}
