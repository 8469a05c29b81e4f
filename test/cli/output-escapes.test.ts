// Text from the cluster cannot drive the terminal: a VM condition message carrying escape
// sequences. virt-controller owns a VM's status and rewrites its conditions, so a condition
// with a crafted message is hand-made: this file runs in the bare sandbox (KubeVirt's CRDs and
// RBAC, nothing acting on the objects), where the status stays as written.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { create, freshNamespace, runCli, sandbox, useBareSandbox } from '../support/cluster.js';
import { testVM } from '../support/vm.js';

useBareSandbox();

let ns: string;
beforeAll(async () => {
  ns = await freshNamespace('vnet-esc');
  await create(testVM({ name: 'fmt', namespace: ns, runStrategy: 'Halted', bridges: { blue: 'no-such-nad' }, memory: '128Mi', resourceVersion: null }) as never);
});

describe('text from the cluster cannot drive the terminal', () => {
  it('a condition message with escape sequences is shown escaped by doctor; -o json keeps it as data', async () => {
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
