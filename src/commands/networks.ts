import { Args } from '@oclif/core';
import { ClusterCommand } from '../cli/base.js';
import { allNamespacesFlag, outputFlag } from '../cli/flags.js';
import { usageError } from '../errors.js';

export default class Networks extends ClusterCommand {
  static override summary = 'NetworkAttachmentDefinitions, their CNI, and which VM interfaces use them (wanted, in the VMI, attached)';
  static override description =
    'One row per NAD of the namespace (or all with -A): its CNI plugin chain, the VM interfaces that name it (VM template or VMI), ' +
    'how many of them the launcher pod has attached (Multus network-status), and its problems: a config that does not parse, a binding that does not fit the CNI, ' +
    'a Kube-OVN NAD without its Subnet. NADs that VMs name and that do not exist get a row too (CNI <missing>). Problems go to stderr, or into "problems" with -o json|yaml. ' +
    'A VM in another namespace may name a NAD as NAMESPACE/NAME: -A sees those uses, -n sees the VMs of that namespace only.';
  static override examples = [
    '<%= config.bin %> networks',
    '<%= config.bin %> networks blue-net -n lab -o wide',
    '<%= config.bin %> networks -A -o json',
  ];
  static override args = { nad: Args.string({ description: 'One NetworkAttachmentDefinition (its uses, or the VMs that name it when it does not exist)' }) };
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'], 'table'),
    'all-namespaces': allNamespacesFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Networks);
    if (args.nad && flags['all-namespaces']) throw usageError('a NAD name cannot be combined with -A', 'use -n NAMESPACE NAME');
    const { conn, client } = await this.connect(flags);
    const namespace = flags['all-namespaces'] ? undefined : conn.namespace;
    const { readNetworks } = await import('../core/networks.js');
    const inventory = await readNetworks({ namespace, nad: args.nad }, { client });
    const format = flags.output;
    if (format === 'json' || format === 'yaml') {
      for (const n of inventory.notes) this.note(`Note: ${n}`);
      return this.document(inventory, format);
    }
    if (inventory.items.length === 0) {
      for (const n of inventory.notes) this.note(`Note: ${n}`);
      return this.note(namespace ? `No NetworkAttachmentDefinitions found in ${namespace} namespace, and no VM there names one.` : 'No NetworkAttachmentDefinitions found, and no VM names one.');
    }
    const { renderNetworks } = await import('../render/networks.js');
    this.print(renderNetworks(inventory, { wide: format === 'wide', showNamespace: !namespace, paint: this.paint(format) }));
  }
}
