// hotplug remove against the sandbox: state absent, then KubeVirt (virt-controller,
// once the node simulator has detached the NIC and Multus has removed it) removes
// the interface from the VMI and the VM.
import { describe, expect, it, vi } from 'vitest';
import { eventually, freshNamespace, readVM, readVMI, runCli } from '../support/cluster.js';
import { bridgeNad, expectSpecUnchanged, inDomain, makeVM, names, pauseSimulator, runningWith, runWaitingCli } from '../support/hotplug.js';

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
    // Then KubeVirt completes the unplug (the node side detaches the NIC, virt-controller removes both entries).
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
    await makeVM(ns, 'vm1', { extra: [{ name: 'blue', nad: 'blue-net' }] });
    await runningWith(ns, 'vm1', ['default', 'blue']);
    // The node side leaves this VM alone, so the NIC never leaves the domain: KubeVirt keeps the absent entry
    // in the VMI and the VM as long as the VMI status reports the interface.
    await pauseSimulator(ns, 'vm1', true);
    const first = await runCli(['hotplug', 'remove', 'vm1', 'blue', '-n', ns]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('Note: KubeVirt removes the interface and its network from the VM once the NIC has left the guest');
    // virt-controller takes the unplug into the VMI spec; the interface is still in the domain.
    const vmi = await eventually(async () => {
      const v = await readVMI(ns, 'vm1');
      return v.spec.domain.devices.interfaces.find((i: any) => i.name === 'blue')?.state === 'absent' ? v : undefined;
    }, 30_000, 'state absent in the VMI spec');
    expect(inDomain(vmi, 'blue')).toBeTruthy();
    const before = await readVM(ns, 'vm1');
    expect(before.spec.template.spec.domain.devices.interfaces).toContainEqual({ name: 'blue', bridge: {}, state: 'absent' });
    const second = await runCli(['hotplug', 'remove', 'vm1', 'blue', '-n', ns]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('virtualmachine.kubevirt.io/vm1 unchanged: interface blue is already being unplugged (state: absent)\n');
    const readd = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue']);
    expect(readd.code).toBe(5);
    expect(readd.stderr).toMatch(/interface "blue" is still being unplugged \(state: absent in the VM\)/);
    const after = await readVM(ns, 'vm1');
    expectSpecUnchanged(before, after);
  });

  it('on a stopped VM, KubeVirt removes the interface and its network from the VM at once, as the note says', async () => {
    const ns = await freshNamespace('vnet-unplug');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { running: false, extra: [{ name: 'blue', nad: 'blue-net' }] });
    const r = await runCli(['hotplug', 'remove', 'vm1', 'blue', '-n', ns]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Note: the VM is not running: KubeVirt removes the interface from the VM right away');
    // No VMI reports it, so virt-controller drops the absent entry and its network from the template.
    const vm = await eventually(async () => {
      const v = await readVM(ns, 'vm1');
      return !names(v.spec.template.spec.domain.devices.interfaces).includes('blue') ? v : undefined;
    }, 30_000, 'blue gone from the stopped VM');
    expect(names(vm.spec.template.spec.networks)).toEqual(['default']);
    // Then there is nothing left to unplug.
    const again = await runCli(['hotplug', 'remove', 'vm1', 'blue', '-n', ns]);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/has no interface "blue"/);
  });
});
