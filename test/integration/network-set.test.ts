// network set against the sandbox: KubeVirt v1.8.2 with LiveUpdateNADRef copies the new NAD into the
// VMI, marks it MigrationRequired (AutoMigrationDueToLiveUpdate), and its workload updater migrates
// the VM to a launcher pod attached to the new NAD. Also: a failed attachment (the node side's Multus
// reports FailedAddingInterface for a NAD deleted after the check) stops --wait with exit 9, and
// status and doctor show it.
import { spawn } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { adminApi, cliPath, eventually, freshNamespace, readVM, readVMI, runCli, sandbox } from '../support/cluster.js';
import { bridgeNad, expectSpecUnchanged, makeVM, pauseSimulator, runningWith } from '../support/hotplug.js';

vi.setConfig({ testTimeout: 180_000 });

/** A namespace with NADs blue-net and red-net, and VM vm1 running with interface blue on blue-net. */
async function vmOnBlue(): Promise<string> {
  const ns = await freshNamespace('vnet-ns');
  await bridgeNad(ns);
  await bridgeNad(ns, 'red-net', { cniVersion: '0.3.1', type: 'bridge', bridge: 'br2' });
  await makeVM(ns, 'vm1', { extra: [{ name: 'blue', nad: 'blue-net' }] });
  await runningWith(ns, 'vm1', ['default', 'blue']);
  return ns;
}

/**
 * Runs the CLI with the node side paused for the VM until the command has printed a line matching
 * `first`; then runs `meanwhile` (still paused) and resumes the node side.
 */
async function runPausedUntil(ns: string, args: string[], first: RegExp, meanwhile: () => Promise<void>): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  await pauseSimulator(ns, 'vm1', true);
  const started = Date.now();
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, KUBECONFIG: sandbox().kubeconfig, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  const printed = new Promise<void>((resolve) => child.stderr.on('data', (d) => ((stderr += d), stderr.split('\n').some((l) => first.test(l)) && resolve())));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  try {
    try {
      await Promise.race([printed, exited]);
      await meanwhile();
    } finally {
      await pauseSimulator(ns, 'vm1', false);
    }
    return { code: await exited, stdout, stderr, ms: Date.now() - started };
  } finally {
    clearTimeout(killer);
  }
}

describe('network set', () => {
  it('moves the NIC through virt-controller and a live migration; --wait follows it to done', async () => {
    const ns = await vmOnBlue();
    const r = await runCli(['network', 'set', 'vm1', 'blue', 'red-net', '-n', ns, '--wait', '--timeout', '150s'], { timeoutMs: 170_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`virtualmachine.kubevirt.io/vm1 patched: move interface blue from ${ns}/blue-net to ${ns}/red-net\n`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('interface blue: '));
    // KubeVirt's own states, in order (some may pass between two reads, so only the order is checked).
    expect(lines.at(-1)).toBe(`interface blue: on ${ns}/red-net`);
    expect(lines.some((l) => l === 'interface blue: MigrationRequired=True (AutoMigrationDueToLiveUpdate)' || l.startsWith('interface blue: migrating (pod '))).toBe(true);
    expect(new Set(lines).size).toBe(lines.length);
    const vm = await readVM(ns, 'vm1');
    expect(vm.spec.template.spec.networks[1]).toEqual({ name: 'blue', multus: { networkName: 'red-net' } });
    const vmi = await readVMI(ns, 'vm1');
    expect(vmi.spec.networks.find((n: any) => n.name === 'blue')).toEqual({ name: 'blue', multus: { networkName: 'red-net' } });
    expect(vmi.status.migrationState.completed).toBe(true);
    expect(vmi.status.migrationState.failed ?? false).toBe(false);
    // The launcher pod the VM runs in now is attached to red-net.
    const s = await runCli(['status', 'vm1', '-n', ns, '-o', 'json']);
    const blue = JSON.parse(s.stdout).interfaces.find((i: any) => i.name === 'blue');
    expect(blue.network).toBe(`${ns}/red-net`);
    expect(blue.state).toBe('ready');
    expect(blue.multus.name).toBe(`${ns}/red-net`);
    // Again: unchanged, exit 0, nothing written.
    const again = await runCli(['network', 'set', 'vm1', 'blue', 'red-net', '-n', ns]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`virtualmachine.kubevirt.io/vm1 unchanged: interface blue is already on ${ns}/red-net\n`);
  });

  it('refuses before sending: a NAD that does not exist, macvlan under bridge, the pod network (exit 5, nothing written)', async () => {
    const ns = await vmOnBlue();
    await bridgeNad(ns, 'mv-net', { cniVersion: '0.3.1', type: 'macvlan', master: 'eth0' });
    const before = await readVM(ns, 'vm1');
    const cases: [string[], RegExp][] = [
      [['network', 'set', 'vm1', 'blue', 'nope-net', '-n', ns], new RegExp(`^error: NetworkAttachmentDefinition "nope-net" not found in namespace "${ns}"`, 'm')],
      [['network', 'set', 'vm1', 'blue', 'mv-net', '-n', ns], /^error: NetworkAttachmentDefinition .*mv-net: .*macvlan/m],
      [['network', 'set', 'vm1', 'default', 'red-net', '-n', ns], /^error: interface "default" is on the pod network/m],
      [['network', 'set', 'vm1', 'nope', 'red-net', '-n', ns], /^error: virtualmachine "vm1" has no interface "nope" \(it has: default, blue\)/m],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/^hint: /m);
      expect(r.stdout).toBe('');
    }
    expectSpecUnchanged(before, await readVM(ns, 'vm1'));
  });

  it('status shows the pending NAD change while the migration that carries it cannot run', async () => {
    const ns = await vmOnBlue();
    await pauseSimulator(ns, 'vm1', true);
    try {
      const r = await runCli(['network', 'set', 'vm1', 'blue', 'red-net', '-n', ns]);
      expect(r.code, r.stderr).toBe(0);
      // virt-controller puts red-net in the VMI; the pod stays on blue-net (the node side is paused: no migration completes).
      await eventually(async () => (await readVMI(ns, 'vm1')).spec.networks.some((n: any) => n.multus?.networkName === 'red-net') || undefined, 60_000, 'red-net in the VMI spec');
      const s = await runCli(['status', 'vm1', '-n', ns]);
      expect(s.code).toBe(0);
      expect(s.stderr).toMatch(new RegExp(`^Warning: ${ns}/vm1: interface blue: moving from ${ns}/blue-net to ${ns}/red-net: (it waits for the live migration that carries it|the live migration that carries it is running)`, 'm'));
      const json = JSON.parse((await runCli(['status', 'vm1', '-n', ns, '-o', 'json'])).stdout);
      expect(json.warnings.filter((w: any) => w.code === 'nad-change-pending')).toHaveLength(1);
    } finally {
      await pauseSimulator(ns, 'vm1', false);
    }
  });

  it('a hot-plug whose NAD is deleted after the check: --wait stops on FailedAddingInterface with exit 9; status and doctor show it', async () => {
    const ns = await vmOnBlue();
    await bridgeNad(ns, 'doomed-net', { cniVersion: '0.3.1', type: 'bridge', bridge: 'br9' });
    const r = await runPausedUntil(ns, ['hotplug', 'add', 'vm1', '-n', ns, '--network', 'doomed-net', '--name', 'green', '--wait', '--timeout', '150s'], /^interface green: /, async () => {
      await adminApi().delete({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'doomed-net', namespace: ns } } as never);
    });
    expect(r.code, r.stderr).toBe(9);
    expect(r.stderr).toMatch(new RegExp(`^error: interface green of virtualmachine "vm1": FailedAddingInterface on pod virt-launcher-vm1-\\w+: pod \\[${ns}/virt-launcher-vm1-\\w+\\]: failed adding interface pod\\w{11} to network: doomed-net \\(it was \\w+\\)$`, 'm'));
    expect(r.stderr).toMatch(/^hint: the edit stays in place/m);
    // Well before the timeout.
    expect(r.ms).toBeLessThan(100_000);

    const s = await runCli(['status', 'vm1', '-n', ns]);
    expect(s.stderr).toMatch(new RegExp(`^Warning: ${ns}/vm1: interface green: FailedAddingInterface on pod virt-launcher-vm1-\\w+ \\d+[sm] ago: `, 'm'));
    const d = await runCli(['doctor', 'vm1', '-n', ns, '-o', 'json']);
    expect(d.code).toBe(8);
    const check = JSON.parse(d.stdout).checks.find((c: any) => c.id === 'interface-failures' && c.result === 'fail');
    expect(check?.message).toMatch(/^interface green: FailedAddingInterface on pod virt-launcher-vm1-\w+/);
  });
});
