import { Args } from '@oclif/core';
import { ClusterCommand } from '../cli/base.js';
import { outputFlag } from '../cli/flags.js';

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
    const [{ runDoctorChecks, doctorVerdict }, { renderDoctor }] = await Promise.all([import('../core/doctor.js'), import('../render/doctor.js')]);
    const report = await runDoctorChecks({ namespace: conn.namespace, name: args.vm }, { client });
    if (flags.output === 'json' || flags.output === 'yaml') await this.document(report, flags.output);
    else this.out(renderDoctor(report, this.paint('table')));
    const failed = await doctorVerdict(report);
    if (failed) throw failed;
  }
}
