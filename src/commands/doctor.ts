import { Args } from '@oclif/core';
import { ClusterCommand } from '../cli/base.js';
import { outputFlag } from '../cli/flags.js';
import { VnetError } from '../errors.js';
import { formatDocument } from '../render/output.js';

export default class Doctor extends ClusterCommand {
  static override summary = 'Run every check kubectl-vnet knows against a VM: spec, annotations, NADs and CNI, KubeVirt, hot-plug, MACs, kubemacpool';
  static override description =
    'Prints one line per check (ok, warn or fail) with the fix. Exits 0 when nothing fails and 8 (checks failed) when at least one check fails; warnings do not change the exit code.';
  static override examples = ['<%= config.bin %> doctor my-vm', '<%= config.bin %> doctor my-vm -n team-a -o json', '<%= config.bin %> doctor my-vm -o yaml'];
  static override args = { vm: Args.string({ description: 'The VirtualMachine', required: true }) };
  static override flags = { output: outputFlag(['table', 'json', 'yaml'], 'table') };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Doctor);
    const { conn, client } = await this.connect(flags);
    const [{ gatherDoctorFacts }, { runDoctor, doctorFailed }] = await Promise.all([import('../kube/doctor.js'), import('../domain/doctor.js')]);
    const report = runDoctor(await gatherDoctorFacts(client, { namespace: conn.namespace, name: args.vm }));
    if (flags.output === 'json' || flags.output === 'yaml') this.out(formatDocument(report, flags.output));
    else {
      const paint = this.paint('table');
      const word = { ok: paint('green', 'ok  '), warn: paint('yellow', 'warn'), fail: paint('red', 'FAIL') };
      let text = `Doctor for virtualmachine ${report.namespace}/${report.name}\n`;
      for (const c of report.checks) {
        text += `${word[c.result]}  ${c.id}: ${c.message}\n`;
        if (c.fix) text += `      fix: ${c.fix}\n`;
      }
      const count = (r: string) => report.checks.filter((c) => c.result === r).length;
      text += `\n${report.checks.length} checks: ${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail\n`;
      this.out(text);
    }
    const failed = doctorFailed(report);
    if (failed > 0) {
      throw new VnetError('checksFailed', `${failed} check${failed === 1 ? '' : 's'} failed for virtualmachine ${report.namespace}/${report.name}`, { hint: 'apply the fixes above and run kubectl vnet doctor again' });
    }
  }
}
