/**
 * The common part of `macpool opt-in` and `macpool opt-out` (not a command itself).
 */
import { Args, Flags } from '@oclif/core';
import { ClusterCommand } from '../../cli/base.js';
import { dryRunFlag, outputFlag } from '../../cli/flags.js';
import type { MacpoolKind, OptDirection } from '../../domain/macpool.js';
import type { ConnectionFlags } from '../../kube/config.js';

type OptFlags = ConnectionFlags & { vms: boolean; pods: boolean; mode?: 'opt-in' | 'opt-out'; 'dry-run': 'none' | 'client' | 'server'; output: 'table' | 'json' | 'yaml' | 'name'; debug?: boolean };

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
  protected async runOpt(direction: OptDirection, parsed: { args: { namespace: string }; flags: OptFlags }): Promise<void> {
    const { flags } = parsed;
    const kinds: MacpoolKind[] = flags.vms || flags.pods ? [...(flags.vms ? ['vms' as const] : []), ...(flags.pods ? ['pods' as const] : [])] : ['vms', 'pods'];
    const options = { namespace: parsed.args.namespace, direction, kinds, mode: flags.mode, dryRun: flags['dry-run'] };
    const { client } = await this.connect(flags);
    const [{ setMacpoolLabels }, { renderLabelResult }] = await Promise.all([import('../../core/namespace-labels.js'), import('../../render/macpool.js')]);
    const result = await setMacpoolLabels(options, { client });
    this.print(renderLabelResult(result, flags.output, this.paint('table')));
  }
}
