import { Args, Flags } from '@oclif/core';
import { editFlags, editOptions, InterfaceEditCommand, waitFlags } from '../../cli/edit-command.js';
import { INTERFACE_MODELS } from '../../domain/vmspec.js';

export default class HotplugAdd extends InterfaceEditCommand {
  static override summary = 'Hot-plug a secondary interface into a VM (bridge or SR-IOV), as one guarded JSON Patch of the VM';
  static override description =
    'Adds an interface and its Multus network to the VM template together. The NAD, the name and the binding are checked before anything is sent; ' +
    'a VM with only the implicit default pod network gets that default written out in the same patch. A stopped VM gets the interface at its next start.';
  static override examples = [
    '<%= config.bin %> hotplug add vm1 --network blue-net',
    '<%= config.bin %> hotplug add vm1 --network infra/blue-net --name blue --mac 02:00:00:00:00:aa --wait',
    '<%= config.bin %> hotplug add vm1 --network sriov-net --binding sriov --dry-run=client',
  ];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name', required: true }),
  };
  static override flags = {
    network: Flags.string({ description: 'NetworkAttachmentDefinition: NAME or NAMESPACE/NAME', required: true }),
    name: Flags.string({ description: 'Interface (and network) name; default: derived from the NAD name' }),
    binding: Flags.string({ description: 'bridge or sriov (the bindings KubeVirt hot-plugs)', default: 'bridge' }),
    mac: Flags.string({ description: 'MAC address (aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff)' }),
    model: Flags.option({ description: 'NIC model', options: INTERFACE_MODELS })(),
    force: Flags.boolean({ description: 'Send even when the NAD\'s CNI type or Kube-OVN Subnet speaks against it, or another interface already has the --mac (never what KubeVirt\'s admission rejects)', default: false }),
    ...waitFlags,
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(HotplugAdd);
    const request = { network: flags.network, name: flags.name, binding: flags.binding, mac: flags.mac, model: flags.model, force: flags.force };
    await this.runEdit(await editOptions({ kind: 'hotplug-add', request }, flags, args.vm), flags);
  }
}
