import { Args } from '@oclif/core';
import { ClusterCommand } from '../../cli/base.js';
import { allNamespacesFlag, outputFlag } from '../../cli/flags.js';

export default class MacList extends ClusterCommand {
  static override summary = 'List the MAC of each VM interface: the one asked for and where it comes from, the one reported, and whether they match';
  static override description =
    'SOURCE is netconf (the netconf sidecar annotation, which wins in the guest), spec (interfaces[].macAddress), kubemacpool (a spec MAC on a VM kubemacpool stamped, ' +
    'most likely allocated by it) or <none> (chosen when the VM starts). STATE is match, pending (the VMI reports another MAC: it applies at the next start), ' +
    'stopped (no VMI), not-reported (the VMI does not report the interface) or auto (no MAC asked for). ' +
    'COLLISION says who found another object using the MAC: kubemacpool (its MACCollision events, v0.51+), cross-check (the VMs and VMIs listed), or both; ' +
    'the objects are named after the table.';
  static override examples = ['<%= config.bin %> mac list', '<%= config.bin %> mac list vm1', '<%= config.bin %> mac list -A -o json'];
  static override args = { vm: Args.string({ description: 'Only this VirtualMachine', required: false }) };
  static override flags = {
    'all-namespaces': allNamespacesFlag,
    output: outputFlag(['table', 'json', 'yaml'], 'table'),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MacList);
    const { conn, client } = await this.connect(flags);
    const all = flags['all-namespaces'] && !args.vm;
    const [{ listMacs }, { renderMacList }] = await Promise.all([import('../../core/mac-list.js'), import('../../render/mac-list.js')]);
    const list = await listMacs({ vm: args.vm, namespace: all ? undefined : conn.namespace }, { client });
    if (flags.output !== 'table') return this.document(list, flags.output);
    const emptyNote = all ? 'No VirtualMachines found.' : `No VirtualMachines found in namespace ${conn.namespace}.`;
    this.print(renderMacList(list, { showNamespace: all, emptyNote, paint: this.paint('table') }));
  }
}
