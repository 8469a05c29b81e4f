// hotplug remove against the sandbox and the simulator: state absent, then
// KubeVirt (the simulator) removes the interface from the VMI and the VM.
import { describe, expect, it, vi } from 'vitest';
import { eventually, freshNamespace, readVM, readVMI, runCli } from '../support/cluster.js';
import { bridgeNad, expectSpecUnchanged, makeVM, names, runningWith, runWaitingCli } from '../support/hotplug.js';

// Each test runs several CLI processes; on a loaded machine (two cores shared with other suites) 60 s is tight.
vi.setConfig({ testTimeout: 150_000 });

describe('hotplug remove', () => {
  it('sets state absent and keeps the network; KubeVirt removes both later', async () => {
    const ns = await freshNamespace('vnet-unplug');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { extra: [{ name: 'blue', nad: 'blue-net' }] });
    await runningWith(ns, 'vm1', ['default', 'blue']);
    const r = await runCli(['hotplug', 'remove', 'vm1', 'blue', '-n', ns, '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Note: KubeVirt removes the interface and its network from the VM once the NIC has left the guest');
    // The server's answer to the patch: state absent, both entries still there (the tool never deletes them).
    const answered = JSON.parse(r.stdout);
    expect(answered.spec.template.spec.domain.devices.interfaces).toEqual([{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, state: 'absent' }]);
    expect(names(answered.spec.template.spec.networks)).toEqual(['default', 'blue']);
    // Then the simulator completes the unplug.
    await eventually(async () => {
      const v = await readVM(ns, 'vm1');
      return !names(v.spec.template.spec.networks).includes('blue') && !names(v.spec.template.spec.domain.devices.interfaces).includes('blue');
    }, 60_000, 'blue gone from the VM template');
  });

  it('--wait returns once the interface has left the VMI', async () => {
    const ns = await freshNamespace('vnet-unplug');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { extra: [{ name: 'blue', nad: 'blue-net' }] });
    await runningWith(ns, 'vm1', ['default', 'blue']);
    const r = await runWaitingCli(ns, 'vm1', ['hotplug', 'remove', 'vm1', 'blue', '-n', ns, '--wait', '--timeout', '40s'], /^interface blue: /);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('interface blue: '));
    expect(lines[0]).toBe('interface blue: unplugging');
    expect(lines.at(-1)).toBe('interface blue: gone');
    const vmi = await readVMI(ns, 'vm1');
    expect(names(vmi.spec.domain.devices.interfaces)).toEqual(['default']);
    expect((vmi.status.interfaces ?? []).map((s: any) => s.name)).not.toContain('blue');
  });

  it('is a no-op the second time, and refuses a re-add of the name while it is being unplugged', async () => {
    const ns = await freshNamespace('vnet-unplug');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { running: false, extra: [{ name: 'blue', nad: 'blue-net' }] });
    // The simulator leaves this VM alone, so the absent entry stays (KubeVirt would remove it at once on a stopped VM).
    const { adminApi } = await import('../support/cluster.js');
    const { PatchStrategy } = await import('@kubernetes/client-node');
    await adminApi().patch(
      { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: ns, annotations: { 'sim.kubectl-vnet.io/ignore': 'true' } } } as never,
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
    );
    const first = await runCli(['hotplug', 'remove', 'vm1', 'blue', '-n', ns]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('Note: the VM is not running: KubeVirt removes the interface from the VM right away');
    const before = await readVM(ns, 'vm1');
    const second = await runCli(['hotplug', 'remove', 'vm1', 'blue', '-n', ns]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('virtualmachine.kubevirt.io/vm1 unchanged: interface blue is already being unplugged (state: absent)\n');
    const readd = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue']);
    expect(readd.code).toBe(5);
    expect(readd.stderr).toMatch(/interface "blue" is still being unplugged \(state: absent in the VM\)/);
    const after = await readVM(ns, 'vm1');
    expectSpecUnchanged(before, after);
  });
});
