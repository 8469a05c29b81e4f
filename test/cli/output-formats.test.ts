// Machine output of the read commands: every -o json has its -o yaml twin with the same
// document, and stdout holds nothing else (warnings and errors go to stderr).
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { create, freshNamespace, runCli } from '../support/cluster.js';

let ns: string;
beforeAll(async () => {
  ns = await freshNamespace('vnet-fmt');
  await create({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    // Left alone by the simulator: no status write lands between two runs compared here, or replaces the injected condition.
    metadata: { name: 'fmt', namespace: ns, annotations: { 'sim.kubectl-vnet.io/ignore': 'true' } },
    spec: {
      runStrategy: 'Halted',
      template: {
        spec: {
          domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }] } },
          networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'no-such-nad' } }],
        },
      },
    },
  } as never);
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

describe('text from the cluster cannot drive the terminal', () => {
  it('a condition message with escape sequences is shown escaped by doctor; -o json keeps it as data', async () => {
    const { execFileSync } = await import('node:child_process');
    const { sandbox } = await import('../support/cluster.js');
    const message = 'boom \u001b]0;pwned\u0007\u001b[2J cleared';
    const status = { conditions: [{ type: 'Failure', status: 'True', message }] };
    execFileSync(sandbox().kubectl, ['--kubeconfig', sandbox().kubeconfig, 'patch', 'vm', 'fmt', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    const r = await runCli(['doctor', 'fmt', '-n', ns]);
    expect(r.stdout).toContain('boom ^[]0;pwned^G^[[2J cleared');
    expect(r.stdout + r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    const json = await runCli(['doctor', 'fmt', '-n', ns, '-o', 'json']);
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain(JSON.stringify(message).slice(1, -1));
  });
});
