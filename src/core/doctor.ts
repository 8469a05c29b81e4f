/**
 * `doctor`: every check against one VM. The facts are read by src/kube/doctor.ts,
 * the checks are src/domain/doctor.ts; a failing check is the `checksFailed` error
 * (exit 8), raised after the report is shown.
 */
import { VnetError } from '../errors.js';
import type { DoctorReport } from '../domain/doctor.js';
import type { KubeApi } from '../kube/api.js';

export interface DoctorOptions {
  namespace: string;
  name: string;
}

export async function runDoctorChecks(options: DoctorOptions, deps: { client: KubeApi }): Promise<DoctorReport> {
  const [{ gatherDoctorFacts }, { runDoctor }] = await Promise.all([import('../kube/doctor.js'), import('../domain/doctor.js')]);
  return runDoctor(await gatherDoctorFacts(deps.client, options));
}

/** The error for a report with failing checks, or undefined when none fails. */
export async function doctorVerdict(report: DoctorReport): Promise<VnetError | undefined> {
  const { doctorFailed } = await import('../domain/doctor.js');
  const failed = doctorFailed(report);
  if (failed === 0) return undefined;
  return new VnetError('checksFailed', `${failed} check${failed === 1 ? '' : 's'} failed for virtualmachine ${report.namespace}/${report.name}`, {
    hint: 'apply the fixes above and run kubectl vnet doctor again',
  });
}
