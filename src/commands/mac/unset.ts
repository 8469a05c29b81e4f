import { Args } from '@oclif/core';
import { ClusterCommand } from '../../cli/base.js';
import { fileModeFlags, wantsFileMode } from '../../cli/file-mode.js';
import { dryRunFlag, editOutputFlag } from '../../cli/flags.js';
import { standaloneVMIRefusal, viaFlag } from './common.js';

export default class MacUnset extends ClusterCommand {
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
    'dry-run': dryRunFlag,
    output: editOutputFlag,
    ...fileModeFlags,
  };

  async run(): Promise<void> {
    if (wantsFileMode(this.argv)) return (await import('../../cli/file-edits.js')).macUnsetFile(MacUnset, this.argv);
    const { args, flags } = await this.parse(MacUnset);
    const { conn, client } = await this.connect(flags);
    const [{ gatherMacFacts }, { editVM }, { planMacUnset }, { renderEditResult }] = await Promise.all([
      import('../../kube/mac-facts.js'),
      import('../../kube/edit.js'),
      import('../../domain/mac-plan.js'),
      import('../../cli/edit-output.js'),
    ]);
    const target = { namespace: conn.namespace, name: args.vm };
    const gathered = await gatherMacFacts(client, target, { uses: false, kubevirt: flags.via === 'netconf', macpool: flags.via === 'spec' });
    if (!gathered.target.vm && gathered.target.vmi) throw standaloneVMIRefusal(args.vm, conn.namespace, flags.via);
    const opts = { iface: args.iface, via: flags.via };
    const result = await editVM(client, target, (vm) => planMacUnset(vm, opts, gathered.facts), { dryRun: flags['dry-run'] });
    const out = renderEditResult(result, flags.output ?? 'default');
    for (const line of out.stderr) this.note(line);
    this.out(out.stdout);
  }
}
