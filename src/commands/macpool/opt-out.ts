import { MacpoolOptCommand, optArgs, optFlags } from './opt-base.js';

export default class MacpoolOptOut extends MacpoolOptCommand {
  static override summary = 'Label a namespace so that kubemacpool leaves its VMs and pods alone (in the mode the cluster uses)';
  static override description =
    'In opt-in mode this removes the <webhook> label; in opt-out mode it sets <webhook>=ignore. ' +
    'The mode is read per webhook from the MutatingWebhookConfiguration kubemacpool-mutator. Both webhooks unless --vms or --pods is given.';
  static override examples = ['<%= config.bin %> macpool opt-out team-a', '<%= config.bin %> macpool opt-out team-a --vms --dry-run=server'];
  static override args = optArgs;
  static override flags = optFlags;

  async run(): Promise<void> {
    const parsed = await this.parse(MacpoolOptOut);
    await this.runOpt('opt-out', parsed);
  }
}
