import { Args } from '@oclif/core';
import { editFlags, fleetFlags, InterfaceEditCommand, waitFlags } from '../../cli/edit-command.js';

export default class NetworkSet extends InterfaceEditCommand {
  static override summary = 'Move a VM interface to another NetworkAttachmentDefinition, live (KubeVirt v1.8 with LiveUpdateNADRef, v1.9+)';
  static override description =
    'Sets networks[].multus.networkName of the interface in the VM template. KubeVirt copies it into the running VMI and moves the VM by a live migration to a pod attached to the new NAD; without LiveUpdateNADRef (v1.8) or before v1.8 the VM gets it at its next restart. --wait follows the VMI spec, MigrationRequired and the migration until the interface is on the new NAD, and stops early when KubeVirt or Multus report a failure for it.';
  static override examples = ['<%= config.bin %> network set vm1 blue red-net', '<%= config.bin %> network set vm1 blue other-ns/red-net --wait --timeout 5m', '<%= config.bin %> network set vm1 blue red-net -f vm1.yaml --local', '<%= config.bin %> network set vm1,vm2 blue red-net', '<%= config.bin %> network set -l app=web blue red-net --dry-run=server'];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name (several: VM1,VM2; or leave it out for -l/-A)', required: true }),
    iface: Args.string({ description: 'Interface name', required: true }),
    nad: Args.string({ description: 'The NetworkAttachmentDefinition to move it to: NAME or NAMESPACE/NAME', required: true }),
  };
  static override flags = {
    ...waitFlags,
    ...fleetFlags,
    ...editFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(NetworkSet);
    const change = { kind: 'network-set', iface: args.iface as string, network: args.nad as string } as const;
    await this.runEditOn(change, flags, args.vm === undefined ? [] : [args.vm]);
  }
}
