/**
 * The presenter of `doctor`: one line per check (ok, warn or FAIL) with its fix, and a count.
 */
import type { DoctorReport } from '../domain/doctor.js';
import type { Paint } from './output.js';

export function renderDoctor(report: DoctorReport, paint: Paint): string {
  const word = { ok: paint('green', 'ok  '), warn: paint('yellow', 'warn'), fail: paint('red', 'FAIL') };
  let text = `Doctor for virtualmachine ${report.namespace}/${report.name}\n`;
  for (const c of report.checks) {
    text += `${word[c.result]}  ${c.id}: ${c.message}\n`;
    if (c.fix) text += `      fix: ${c.fix}\n`;
  }
  const count = (r: string) => report.checks.filter((c) => c.result === r).length;
  text += `\n${report.checks.length} checks: ${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail\n`;
  return text;
}
