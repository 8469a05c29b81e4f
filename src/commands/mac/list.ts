import { Args } from '@oclif/core';
import { ClusterCommand } from '../../cli/base.js';
import { allNamespacesFlag, outputFlag } from '../../cli/flags.js';
import type { VirtualMachine, VirtualMachineInstance } from '../../domain/types.js';
import { VnetError } from '../../errors.js';

export default class MacList extends ClusterCommand {
  static override summary = 'List the MAC of each VM interface: the one asked for and where it comes from, the one reported, and whether they match';
  static override description =
    'SOURCE is netconf (the netconf sidecar annotation, which wins in the guest), spec (interfaces[].macAddress), kubemacpool (a spec MAC on a VM kubemacpool stamped, ' +
    'most likely allocated by it) or <none> (chosen when the VM starts). STATE is match, pending (the VMI reports another MAC: it applies at the next start), ' +
    'stopped (no VMI), not-reported (the VMI does not report the interface) or auto (no MAC asked for).';
  static override examples = ['<%= config.bin %> mac list', '<%= config.bin %> mac list vm1', '<%= config.bin %> mac list -A -o json'];
  static override args = { vm: Args.string({ description: 'Only this VirtualMachine', required: false }) };
  static override flags = {
    'all-namespaces': allNamespacesFlag,
    output: outputFlag(['table', 'json', 'yaml'], 'table'),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MacList);
    const { conn, client } = await this.connect(flags);
    const [{ Resources, resourcePath }, { buildMacList }, { formatDocument }, { renderTable }] = await Promise.all([
      import('../../kube/resources.js'),
      import('../../domain/mac-list.js'),
      import('../../render/output.js'),
      import('../../render/table.js'),
    ]);
    const all = flags['all-namespaces'] && !args.vm;
    const ns = all ? undefined : conn.namespace;
    let vms: VirtualMachine[];
    let vmis: VirtualMachineInstance[];
    if (args.vm) {
      const [vm, vmi] = await Promise.all([client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, conn.namespace, args.vm)), client.getOrNull<VirtualMachineInstance>(resourcePath(Resources.vmi, conn.namespace, args.vm))]);
      if (!vm) {
        if (vmi) {
          throw new VnetError('notFound', `"${args.vm}" in namespace "${conn.namespace}" is a VirtualMachineInstance without a VirtualMachine; mac list shows VirtualMachines`, {
            hint: `its MACs are in: kubectl get vmi ${args.vm} -n ${conn.namespace} -o jsonpath='{.status.interfaces}'`,
          });
        }
        throw new VnetError('notFound', `virtualmachine "${args.vm}" not found in namespace "${conn.namespace}"`, { hint: 'check the name, and the namespace with -n (kubectl get vm -n NAMESPACE lists them)' });
      }
      vms = [vm];
      vmis = vmi ? [vmi] : [];
    } else {
      [vms, vmis] = await Promise.all([client.list<VirtualMachine>(resourcePath(Resources.vm, ns)).then((l) => l.items), client.list<VirtualMachineInstance>(resourcePath(Resources.vmi, ns)).then((l) => l.items)]);
    }
    const list = buildMacList(vms, vmis);
    if (flags.output !== 'table') {
      this.out(formatDocument(list, flags.output));
      return;
    }
    for (const w of list.warnings) this.warnLine(w.message);
    if (list.items.length === 0) {
      this.note(all ? 'No VirtualMachines found.' : `No VirtualMachines found in namespace ${conn.namespace}.`);
      return;
    }
    const paint = this.paint('table');
    const headers = [...(all ? ['NAMESPACE'] : []), 'VM', 'INTERFACE', 'DESIRED', 'SOURCE', 'REPORTED', 'STATE'];
    const rows = list.items.map((i) => [
      ...(all ? [i.namespace] : []),
      i.vm,
      i.interface,
      i.desired ?? '<none>',
      i.source ?? '<none>',
      i.reported ?? '<none>',
      i.state === 'pending' ? paint('yellow', i.state) : i.state === 'match' ? paint('green', i.state) : i.state,
    ]);
    this.out(renderTable(headers, rows));
    if (list.items.some((i) => i.state === 'pending')) {
      this.note('pending: the VMI reports another MAC than the one asked for; it applies at the next start of the VM (netconf annotations do not flag a restart)');
    }
  }
}
