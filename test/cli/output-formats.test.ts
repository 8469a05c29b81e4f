// Machine output of the read commands: every -o json has its -o yaml twin with the same
// document, and stdout holds nothing else (warnings and errors go to stderr). Text from the
// cluster shown escaped: output-escapes.test.ts (a hand-made VM status, in the bare sandbox).
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { create, freshNamespace, runCli, settledVM } from '../support/cluster.js';
import { testVM } from '../support/vm.js';

let ns: string;
beforeAll(async () => {
  ns = await freshNamespace('vnet-fmt');
  await create(testVM({ name: 'fmt', namespace: ns, runStrategy: 'Halted', bridges: { blue: 'no-such-nad' }, memory: '128Mi', resourceVersion: null }) as never);
  // virt-controller has written the stopped VM's status: no write of it lands between two runs compared here
  await settledVM(ns, 'fmt');
});

describe('-o yaml matches -o json', () => {
  it('doctor (failing checks: exit 8 either way, the report alone on stdout)', async () => {
    const json = await runCli(['doctor', 'fmt', '-n', ns, '-o', 'json']);
    const yaml = await runCli(['doctor', 'fmt', '-n', ns, '-o', 'yaml']);
    expect(json.code, json.stderr).toBe(8);
    expect(yaml.code, yaml.stderr).toBe(8);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ kind: 'DoctorReport', namespace: ns, name: 'fmt' });
    expect(parse(yaml.stdout)).toEqual(report);
    expect(yaml.stderr).toMatch(/^error: \d+ checks? failed for virtualmachine /m);
    expect(report.checks.find((c: { id: string }) => c.id === 'nad-exists')).toMatchObject({ result: 'fail' });
  });
});
