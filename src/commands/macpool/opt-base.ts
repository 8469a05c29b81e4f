/**
 * The common part of `macpool opt-in` and `macpool opt-out` (not a command itself).
 */
import { Args, Flags } from '@oclif/core';
import { ClusterCommand } from '../../cli/base.js';
import { dryRunFlag, outputFlag } from '../../cli/flags.js';
import { VnetError } from '../../errors.js';
import { formatDocument, toJson } from '../../render/output.js';
import type { MacpoolKind, OptDirection } from '../../domain/macpool.js';

export const optArgs = {
  namespace: Args.string({ description: 'The namespace to label', required: true }),
};

export const optFlags = {
  vms: Flags.boolean({ description: 'Only the VirtualMachine webhook (mutatevirtualmachines.kubemacpool.io)', default: false }),
  pods: Flags.boolean({ description: 'Only the pod webhook (mutatepods.kubemacpool.io)', default: false }),
  mode: Flags.option({
    description: 'The mode the cluster uses, for when the webhook configuration cannot be read; must agree with it when it can',
    options: ['opt-in', 'opt-out'] as const,
  })(),
  'dry-run': dryRunFlag,
  output: outputFlag(['table', 'json', 'yaml', 'name'], 'table'),
};

export abstract class MacpoolOptCommand extends ClusterCommand {
  protected async runOpt(direction: OptDirection, parsed: { args: { namespace: string }; flags: Record<string, unknown> }): Promise<void> {
    const flags = parsed.flags as { vms: boolean; pods: boolean; mode?: 'opt-in' | 'opt-out'; 'dry-run': 'none' | 'client' | 'server'; output: 'table' | 'json' | 'yaml' | 'name'; debug?: boolean };
    const kinds: MacpoolKind[] = flags.vms || flags.pods ? [...(flags.vms ? ['vms' as const] : []), ...(flags.pods ? ['pods' as const] : [])] : ['vms', 'pods'];
    const name = parsed.args.namespace;
    const { client } = await this.connect(flags as never);
    const [{ readMacpool, editNamespaceLabels }, domain] = await Promise.all([import('../../kube/macpool.js'), import('../../domain/macpool.js')]);
    const view = await readMacpool(client);
    let result;
    try {
      // Refuse before touching the namespace when the mode cannot be known.
      domain.resolveOptModes(view, kinds, flags.mode);
      result = await editNamespaceLabels(client, name, (ns) => domain.planOptLabels(view, ns, direction, kinds, flags.mode), { dryRun: flags['dry-run'] });
    } catch (err) {
      if (err instanceof domain.OptRefusal) throw new VnetError(err.kind, err.message, { hint: err.hint });
      throw err;
    }
    const { plan, after } = result;
    for (const n of plan.notes) this.note(`Note: ${n}`);
    const dry = result.dryRun === 'none' ? '' : ` (${result.dryRun} dry run)`;
    const verb = plan.noop ? 'unchanged' : 'labeled';
    if (flags.output === 'json' || flags.output === 'yaml') {
      this.out(formatDocument(after, flags.output));
      return;
    }
    if (flags.output === 'name') {
      this.out(`namespace/${name}${dry ? ' (dry run)' : ''}\n`);
      return;
    }
    let text = `namespace/${name} ${verb}${dry}: ${plan.changes.join('; ')}\n`;
    if (result.dryRun === 'client' && !plan.noop) text += `would send (merge patch): ${toJson({ metadata: { resourceVersion: result.before.metadata.resourceVersion, labels: plan.labels } }).trim()}\n`;
    const status = domain.buildMacpoolStatus(view, [after]);
    if (view.installed === null) {
      // The mode came from --mode: show the decision made under it, not "unknown".
      status.namespaces = [{ name, labels: domain.relevantLabels(view, after.metadata.labels ?? {}), vms: plan.result.vms ?? status.namespaces[0].vms, pods: plan.result.pods ?? status.namespaces[0].pods }];
    }
    const { renderMacpoolTable } = await import('./shared.js');
    this.out(text + '\n' + renderMacpoolTable(status, this.paint('table')));
  }
}
