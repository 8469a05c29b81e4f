import { ClusterCommand } from '../../cli/base.js';
import { allNamespacesFlag, outputFlag } from '../../cli/flags.js';
import { formatDocument } from '../../render/output.js';

export default class MacpoolStatusCommand extends ClusterCommand {
  static override summary = 'Show whether kubemacpool allocates MACs to VMs and pods in a namespace, and why';
  static override description =
    'Reads the MutatingWebhookConfiguration kubemacpool-mutator (mode of each webhook from its namespaceSelector), ' +
    'the range ConfigMap kubemacpool-mac-range-config and the manager Deployment, and evaluates each webhook\'s ' +
    'namespaceSelector against the namespace\'s labels the way the API server does.';
  static override examples = ['<%= config.bin %> macpool status', '<%= config.bin %> macpool status -n team-a -o json', '<%= config.bin %> macpool status -A'];
  static override flags = {
    'all-namespaces': allNamespacesFlag,
    output: outputFlag(['table', 'json', 'yaml'], 'table'),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(MacpoolStatusCommand);
    const { conn, client } = await this.connect(flags);
    const [{ readMacpool, readNamespaces }, { buildMacpoolStatus }] = await Promise.all([import('../../kube/macpool.js'), import('../../domain/macpool.js')]);
    const scope = flags['all-namespaces'] ? ({ all: true } as const) : { names: [conn.namespace] };
    const [view, namespaces] = await Promise.all([readMacpool(client), readNamespaces(client, scope)]);
    const status = buildMacpoolStatus(view, namespaces);
    if (flags.output !== 'table') {
      this.out(formatDocument(status, flags.output));
      return;
    }
    const { renderMacpoolHeader, renderMacpoolTable } = await import('../../render/macpool.js');
    for (const w of status.warnings) this.warnLine(w.message);
    this.out(renderMacpoolHeader(status, view.unreadableReason) + '\n' + renderMacpoolTable(status, this.paint(flags.output)));
  }
}
