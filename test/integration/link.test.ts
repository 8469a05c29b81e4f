// link set against the sandbox: KubeVirt's virt-controller copies the template's
// interface state into the VMI spec, and the node simulator's virt-handler sets
// it on the domain and reports it in vmi.status.interfaces[].linkState.
import { describe, expect, it, vi } from 'vitest';
import { eventually, freshNamespace, readVM, readVMI, runCli } from '../support/cluster.js';
import { bridgeNad, makeVM, pauseSimulator, runningWith } from '../support/hotplug.js';

// Each test runs several CLI processes; on a loaded machine (two cores shared with other suites) 60 s is tight.
vi.setConfig({ testTimeout: 150_000 });

const linkOf = (vmi: any, name: string) => (vmi.status?.interfaces ?? []).find((s: any) => s.name === name)?.linkState;

describe('link set', () => {
  it('sets the link down without --wait; the VMI reports it later', async () => {
    const ns = await freshNamespace('vnet-link');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { extra: [{ name: 'blue', nad: 'blue-net' }] });
    await runningWith(ns, 'vm1', ['default', 'blue']);
    const r = await runCli(['link', 'set', 'vm1', 'blue', 'down', '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('virtualmachine.kubevirt.io/vm1 patched: set link down on interface blue\n');
    const vm = await readVM(ns, 'vm1');
    expect(vm.spec.template.spec.domain.devices.interfaces[1]).toEqual({ name: 'blue', bridge: {}, state: 'down' });
    await eventually(async () => linkOf(await readVMI(ns, 'vm1'), 'blue') === 'down', 60_000, 'link down reported');
    // The same again is a no-op.
    const again = await runCli(['link', 'set', 'vm1', 'blue', 'down', '-n', ns, '-o', 'name']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('virtualmachine.kubevirt.io/vm1 unchanged\n');
  });

  it('--wait returns once the VMI reports the link state', async () => {
    const ns = await freshNamespace('vnet-link');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { extra: [{ name: 'blue', nad: 'blue-net' }] });
    await runningWith(ns, 'vm1', ['default', 'blue']);
    const down = await runCli(['link', 'set', 'vm1', 'blue', 'down', '-n', ns, '--wait', '--timeout', '40s']);
    expect(down.code).toBe(0);
    expect(down.stderr.split('\n').filter((l) => l.startsWith('interface blue: ')).at(-1)).toBe('interface blue: link down');
    expect(linkOf(await readVMI(ns, 'vm1'), 'blue')).toBe('down');
    const up = await runCli(['link', 'set', 'vm1', 'blue', 'up', '-n', ns, '--wait', '--timeout', '40s']);
    expect(up.code).toBe(0);
    expect(linkOf(await readVMI(ns, 'vm1'), 'blue')).toBe('up');
    const vm = await readVM(ns, 'vm1');
    expect(vm.spec.template.spec.domain.devices.interfaces[1].state).toBe('up');
  });

  it('--wait times out with exit 6 and the current state when the link never changes', async () => {
    const ns = await freshNamespace('vnet-link');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { extra: [{ name: 'blue', nad: 'blue-net' }] });
    await runningWith(ns, 'vm1', ['default', 'blue']);
    // From now on the node side leaves this VM alone: virt-controller still copies the state into the VMI
    // spec, but no virt-handler sets it on the domain, so nothing reports the new link state.
    await pauseSimulator(ns, 'vm1', true);
    const r = await runCli(['link', 'set', 'vm1', 'blue', 'down', '-n', ns, '--wait', '--timeout', '3s']);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('virtualmachine.kubevirt.io/vm1 patched: set link down on interface blue\n');
    expect(r.stderr).toContain('error: timed out after 3s waiting for interface blue link down; it is link up');
    expect(r.stderr).toMatch(/hint: the edit stays in place/);
    // The edit was not undone.
    const vm = await readVM(ns, 'vm1');
    expect(vm.spec.template.spec.domain.devices.interfaces[1].state).toBe('down');
    // virt-controller took the new state into the VMI spec; only the node side never applied it.
    const vmi = await eventually(async () => {
      const v = await readVMI(ns, 'vm1');
      return v.spec.domain.devices.interfaces.find((i: any) => i.name === 'blue')?.state === 'down' ? v : undefined;
    }, 30_000, 'state down in the VMI spec');
    expect(linkOf(vmi, 'blue')).toBe('up');
  });

  it('Ctrl-C stops waiting (exit 130) and undoes nothing', async () => {
    const ns = await freshNamespace('vnet-link');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { extra: [{ name: 'blue', nad: 'blue-net' }] });
    await runningWith(ns, 'vm1', ['default', 'blue']);
    const { cliPath, sandbox } = await import('../support/cluster.js');
    // The node side leaves this VM alone: the link stays up, so the command is still waiting when it gets SIGINT.
    await pauseSimulator(ns, 'vm1', true);
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [cliPath, 'link', 'set', 'vm1', 'blue', 'down', '-n', ns, '--wait', '--timeout', '50s'], {
      env: { ...process.env, KUBECONFIG: sandbox().kubeconfig, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const waiting = new Promise<void>((resolve) => child.stderr.on('data', (d) => ((stderr += d), stderr.includes('interface blue: link up') && resolve())));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await Promise.race([waiting, exited]);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('error: stopped waiting for interface blue link down; it is link up');
    expect(stderr).toContain('hint: the edit stays in place; nothing was undone');
    const vm = await readVM(ns, 'vm1');
    expect(vm.spec.template.spec.domain.devices.interfaces[1].state).toBe('down');
  });

  it('on a stopped VM: the edit is made and applies at the next start', async () => {
    const ns = await freshNamespace('vnet-link');
    await bridgeNad(ns);
    await makeVM(ns, 'off', { running: false, extra: [{ name: 'blue', nad: 'blue-net' }] });
    const r = await runCli(['link', 'set', 'off', 'blue', 'down', '-n', ns, '--wait']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Note: the VM is not running: the link state applies at its next start');
    expect(r.stderr).toMatch(/no running VMI: nothing to wait for/);
    const vm = await readVM(ns, 'off');
    expect(vm.spec.template.spec.domain.devices.interfaces[1].state).toBe('down');
  });
});
