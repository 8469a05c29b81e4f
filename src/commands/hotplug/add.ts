import { Args, Flags } from '@oclif/core';
import { editFlags, fleetFlags, InterfaceEditCommand, waitFlags } from '../../cli/edit-command.js';
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
    '<%= config.bin %> hotplug add vm1 vm2 vm3 --network blue-net --name blue',
    '<%= config.bin %> hotplug add -l app=web --network blue-net --name blue --parallel 5',
  ];
  /** Several VM names may follow the first (each edited as one fleet). */
  static override strict = false;
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name (several: VM1 VM2 or VM1,VM2; or -l/-A instead)', required: true }),
  };
  static override flags = {
    network: Flags.string({ description: 'NetworkAttachmentDefinition: NAME or NAMESPACE/NAME', required: true }),
    name: Flags.string({ description: 'Interface (and network) name; default: derived from the NAD name' }),
    binding: Flags.string({ description: 'bridge or sriov (the bindings KubeVirt hot-plugs)', default: 'bridge' }),
    mac: Flags.string({ description: 'MAC address (aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff)' }),
    model: Flags.option({ description: 'NIC model', options: INTERFACE_MODELS })(),
    force: Flags.boolean({ description: 'Send even when the NAD\'s CNI type or Kube-OVN Subnet speaks against it, or another interface already has the --mac (never what KubeVirt\'s admission rejects)', default: false }),
    ...waitFlags,
    ...fleetFlags,
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(HotplugAdd);
    const request = { network: flags.network, name: flags.name, binding: flags.binding, mac: flags.mac, model: flags.model, force: flags.force };
    const vms = argv.length > 0 ? (argv as string[]) : args.vm === undefined ? [] : [args.vm];
    await this.runEditOn({ kind: 'hotplug-add', request }, flags, vms);
  }
}
