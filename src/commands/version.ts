import { Flags } from '@oclif/core';
import { VnetCommand } from '../cli/base.js';
import { connectionFlags, outputFlag } from '../cli/flags.js';
import { VERSION } from '../version.js';
import { formatDocument } from '../render/output.js';

export interface VersionReport {
  kind: 'Version';
  clientVersion: { version: string; node: string; platform: string };
  serverVersion?: { gitVersion: string; platform?: string } | null;
  kubevirt?: { state: 'installed' | 'absent' | 'unreadable'; version: string | null; message?: string } | null;
}

// `version --server` asks the server for its version: the address override (--server URL) is not taken here.
const { server: _addressOverride, ...versionConnectionFlags } = connectionFlags;

export default class Version extends VnetCommand {
  static override baseFlags = { ...VnetCommand.baseFlags, ...versionConnectionFlags };
  static override summary = 'Print the client version, and with --server the Kubernetes and KubeVirt versions';
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --server -o json'];
  static override flags = {
    server: Flags.boolean({ description: 'Also ask the cluster for the Kubernetes and KubeVirt versions', default: false }),
    output: outputFlag(['text', 'json', 'yaml'], 'text'),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Version);
    const report: VersionReport = {
      kind: 'Version',
      clientVersion: { version: `v${VERSION}`, node: process.version, platform: `${process.platform}/${process.arch}` },
    };
    if (flags.server) {
      const { client } = await this.connect({ ...flags, server: undefined });
      const { readKubeVirt } = await import('../kube/kubevirt.js');
      const [server, kv] = await Promise.all([client.get<{ gitVersion: string; platform?: string }>('/version'), readKubeVirt(client)]);
      report.serverVersion = { gitVersion: server.gitVersion, platform: server.platform };
      report.kubevirt =
        kv.state === 'installed'
          ? { state: kv.state, version: kv.version ?? null, message: kv.version ? undefined : 'the KubeVirt CR has no observed version yet (still deploying?)' }
          : { state: kv.state, version: null, message: kv.message };
    }
    if (flags.output !== 'text') {
      this.out(formatDocument(report, flags.output));
      return;
    }
    let text = `Client Version: ${report.clientVersion.version}\n`;
    if (report.serverVersion) text += `Server Version: ${report.serverVersion.gitVersion}\n`;
    if (report.kubevirt) {
      const kv = report.kubevirt;
      text +=
        kv.state === 'installed'
          ? `KubeVirt Version: ${kv.version ?? 'unknown (' + kv.message + ')'}\n`
          : kv.state === 'absent'
            ? `KubeVirt: not installed (${kv.message})\n`
            : `KubeVirt: not readable (${kv.message})\n`;
    }
    this.out(text);
  }
}
