import { MacpoolOptCommand, optArgs, optFlags } from './opt-base.js';

export default class MacpoolOptIn extends MacpoolOptCommand {
  static override summary = 'Label a namespace so that kubemacpool allocates MACs to its VMs and pods (in the mode the cluster uses)';
  static override description =
    'In opt-in mode this sets <webhook>=allocate; in opt-out mode it removes the <webhook> label (an "ignore" value). ' +
    'The mode is read per webhook from the MutatingWebhookConfiguration kubemacpool-mutator. Both webhooks unless --vms or --pods is given.';
  static override examples = ['<%= config.bin %> macpool opt-in team-a', '<%= config.bin %> macpool opt-in team-a --vms --dry-run=server'];
  static override args = optArgs;
  static override flags = optFlags;

  async run(): Promise<void> {
    const parsed = await this.parse(MacpoolOptIn);
    await this.runOpt('opt-in', parsed);
  }
}
