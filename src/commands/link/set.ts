import { Args } from '@oclif/core';
import { ClusterCommand } from '../../cli/base.js';
import { fileModeFlags, wantsFileMode } from '../../cli/file-mode.js';
import { dryRunFlag } from '../../cli/flags.js';
import { editOutputFlag, waitFlags } from '../hotplug/shared.js';

export default class LinkSet extends ClusterCommand {
  static override summary = 'Set the link state of a VM interface up or down (KubeVirt v1.5+, not SR-IOV)';
  static override description = 'Sets interfaces[].state to up or down in the VM template; KubeVirt applies it live and reports it as status.interfaces[].linkState.';
  static override examples = ['<%= config.bin %> link set vm1 blue down', '<%= config.bin %> link set vm1 blue up --wait'];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name', required: true }),
    iface: Args.string({ description: 'Interface name', required: true }),
    state: Args.string({ description: 'up or down', required: true, options: ['up', 'down'] }),
  };
  static override flags = {
    ...waitFlags,
    'dry-run': dryRunFlag,
    output: editOutputFlag,
    ...fileModeFlags,
  };

  async run(): Promise<void> {
    if (wantsFileMode(this.argv)) return (await import('../../cli/file-edits.js')).linkSetFile(LinkSet, this.argv);
    const { args, flags } = await this.parse(LinkSet);
    const [{ parseDuration }, { planLinkState }] = await Promise.all([import('../../kube/duration.js'), import('../../domain/hotplug.js')]);
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    const state = args.state as 'up' | 'down';
    const { conn, client } = await this.connect(flags);
    const target = { namespace: conn.namespace, name: args.vm };
    const [{ gatherHotplugFacts }, { editAndWait }] = await Promise.all([import('../../kube/hotplug-facts.js'), import('../hotplug/shared.js')]);
    const gathered = await gatherHotplugFacts(client, target, {});
    await editAndWait({
      client,
      target,
      facts: gathered.facts,
      factNotes: gathered.notes,
      plan: (vm, facts) => planLinkState(vm, { name: args.iface, state }, facts),
      goal: () => ({ kind: 'link', name: args.iface, state }),
      dryRun: flags['dry-run'],
      output: flags.output,
      wait: flags.wait,
      timeoutMs,
      note: (l) => this.note(l),
      out: (t) => this.out(t),
    });
  }
}
