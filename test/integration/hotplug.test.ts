// hotplug add|remove against the sandbox: KubeVirt's own virt-controller copies
// hot-plugged bridge/SR-IOV interfaces into the VMI and the launcher pod's
// networks annotation, and the node simulator (Multus, virt-handler; --step-ms
// 300 in tests) attaches them and reports them in the VMI status.
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { create, eventually, freshNamespace, readVM, readVMI, runCli, sandbox } from '../support/cluster.js';
import { bridgeNad, expectSpecUnchanged, inDomain, makeVM, names, runningWith, runWaitingCli, setRunStrategy } from '../support/hotplug.js';

// Each test runs several CLI processes; on a loaded machine (two cores shared with other suites) 60 s is tight.
vi.setConfig({ testTimeout: 150_000 });

describe('hotplug add', () => {
  it('adds the interface and its network in one edit; KubeVirt plugs it', async () => {
    const ns = await freshNamespace('vnet-hp');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1');
    await runningWith(ns, 'vm1', ['default']);
    const r = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue']);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('virtualmachine.kubevirt.io/vm1 patched: add interface blue (bridge) on ' + ns + '/blue-net\n');
    const vm = await readVM(ns, 'vm1');
    expect(vm.spec.template.spec.domain.devices.interfaces).toEqual([{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }]);
    expect(vm.spec.template.spec.networks).toEqual([{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }]);
    await runningWith(ns, 'vm1', ['default', 'blue']);
  });

  it('--wait watches the VMI through the status states until the interface is ready', async () => {
    const ns = await freshNamespace('vnet-hp');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1');
    await runningWith(ns, 'vm1', ['default']);
    const r = await runWaitingCli(ns, 'vm1', ['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--wait', '--timeout', '40s'], /^interface blue-net: /);
    expect(r.code, r.stderr).toBe(0);
    // No TTY: plain lines, one per state, from pending to ready. The node side waited for the first line: by then
    // virt-controller may have copied the interface into the VMI spec, but nothing has attached it (no
    // multus-status entry), so the first state is pending either way.
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('interface blue-net: '));
    expect(lines[0]).toBe('interface blue-net: pending');
    expect(lines.at(-1)).toBe('interface blue-net: ready');
    expect(new Set(lines).size).toBe(lines.length);
    expect(r.stderr).not.toMatch(/\u001b\[/);
    // It returned only once the VMI reported the interface in the domain.
    const vmi = await readVMI(ns, 'vm1');
    expect(inDomain(vmi, 'blue-net')).toBeTruthy();
    expect(r.stderr).toContain('Note: interface name "blue-net" derived from the NAD (set it with --name)');
  });

  it('writes out the implicit default network in the same patch, so the next boot keeps it', async () => {
    const ns = await freshNamespace('vnet-hp');
    await bridgeNad(ns);
    await makeVM(ns, 'bare', { bare: true });
    const before = await runningWith(ns, 'bare', ['default']);
    const r = await runCli(['hotplug', 'add', 'bare', '-n', ns, '--network', 'blue-net', '--name', 'blue', '--wait', '--timeout', '40s']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/and write out the implicit default pod network/);
    const vm = await readVM(ns, 'bare');
    const defaultIface = before.spec.domain.devices.interfaces.find((i: any) => i.name === 'default');
    expect(vm.spec.template.spec.domain.devices.interfaces).toEqual([defaultIface, { name: 'blue', bridge: {} }]);
    expect(vm.spec.template.spec.networks).toEqual([{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }]);
    // Stop and start: the new VMI has both the default and the plugged interface.
    await setRunStrategy(ns, 'bare', 'Halted');
    await eventually(async () => (await readVMI(ns, 'bare').then(() => false, () => true)) || undefined, 60_000, 'VMI gone');
    await setRunStrategy(ns, 'bare', 'Always');
    const vmi = await runningWith(ns, 'bare', ['default', 'blue']);
    expect(names(vmi.spec.networks)).toEqual(['default', 'blue']);
  });

  it('ten concurrent hotplug add processes on one VM leave all ten interfaces', async () => {
    const ns = await freshNamespace('vnet-hp');
    await bridgeNad(ns);
    await makeVM(ns, 'busy');
    await runningWith(ns, 'busy', ['default']);
    const ids = Array.from({ length: 10 }, (_, i) => `nic${i}`);
    const results = await Promise.all(ids.map((id) => runCli(['hotplug', 'add', 'busy', '-n', ns, '--network', 'blue-net', '--name', id], { timeoutMs: 55_000 })));
    for (const r of results) {
      expect(r.stderr).not.toMatch(/^error/m);
      expect(r.code).toBe(0);
    }
    const vm = await readVM(ns, 'busy');
    const ifaceNames = names(vm.spec.template.spec.domain.devices.interfaces);
    const netNames = names(vm.spec.template.spec.networks);
    expect(ifaceNames).toHaveLength(11);
    expect(netNames).toHaveLength(11);
    expect([...ifaceNames].sort()).toEqual(['default', ...ids].sort());
    expect([...netNames].sort()).toEqual(['default', ...ids].sort());
    // Every interface has its own network entry, in the same order.
    expect(netNames).toEqual(ifaceNames);
  }, 180_000);

  it('--dry-run=client prints the JSON Patch and sends nothing', async () => {
    const ns = await freshNamespace('vnet-hp');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { running: false });
    const before = await readVM(ns, 'vm1');
    const r = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue', '--dry-run=client']);
    expect(r.code).toBe(0);
    const ops = JSON.parse(r.stdout);
    expect(ops.filter((o: any) => o.op === 'test').map((o: any) => o.path)).toEqual(['/spec/template/spec/domain/devices/interfaces', '/spec/template/spec/networks']);
    expect(ops.filter((o: any) => o.op === 'add')).toEqual([
      { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/-', value: { name: 'blue', bridge: {} } },
      { op: 'add', path: '/spec/template/spec/networks/-', value: { name: 'blue', multus: { networkName: 'blue-net' } } },
    ]);
    expect(r.stderr).toContain(`virtualmachine.kubevirt.io/vm1 would be patched (client dry run): add interface blue (bridge) on ${ns}/blue-net`);
    const after = await readVM(ns, 'vm1');
    expectSpecUnchanged(before, after);
    const named = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue', '--dry-run=client', '-o', 'name']);
    expect(named.stdout).toBe('virtualmachine.kubevirt.io/vm1 patched (dry run)\n');
  });

  it('--dry-run=server sends with dryRun=All: the answer has the interface, the stored VM does not', async () => {
    const ns = await freshNamespace('vnet-hp');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { running: false });
    const before = await readVM(ns, 'vm1');
    const r = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue', '--dry-run=server', '-o', 'json']);
    expect(r.code).toBe(0);
    const answered = JSON.parse(r.stdout);
    expect(names(answered.spec.template.spec.domain.devices.interfaces)).toEqual(['default', 'blue']);
    const named = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue', '--dry-run=server', '-o', 'name']);
    expect(named.stdout).toBe('virtualmachine.kubevirt.io/vm1 patched (dry run)\n');
    const after = await readVM(ns, 'vm1');
    expectSpecUnchanged(before, after);
  });

  it('a stopped VM gets the edit, the output says it applies at the next start, and --wait returns at once', async () => {
    const ns = await freshNamespace('vnet-hp');
    await bridgeNad(ns);
    await makeVM(ns, 'off', { running: false });
    const started = Date.now();
    const r = await runCli(['hotplug', 'add', 'off', '-n', ns, '--network', 'blue-net', '--name', 'blue', '--wait', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('virtualmachine.kubevirt.io/off patched\n');
    expect(r.stderr).toContain('Note: the VM is not running: the interface is added to the VM and applies at its next start');
    expect(r.stderr).toMatch(/Note: virtualmachine "off" has no running VMI: nothing to wait for/);
    expect(Date.now() - started).toBeLessThan(15_000);
    const vm = await readVM(ns, 'off');
    expect(names(vm.spec.template.spec.networks)).toEqual(['default', 'blue']);
  });

  it('RBAC: the viewer gets a forbidden message and the VM is unchanged', async () => {
    const ns = await freshNamespace('vnet-hp');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1', { running: false });
    const before = await readVM(ns, 'vm1');
    const r = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue'], { kubeconfig: sandbox().viewer });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('error: forbidden: virtualmachines.kubevirt.io "vm1" is forbidden: User "viewer" cannot patch resource "virtualmachines"');
    expect(r.stderr).toContain(`hint: you need permission to patch virtualmachines.kubevirt.io in namespace "${ns}"`);
    const after = await readVM(ns, 'vm1');
    expectSpecUnchanged(before, after);
    const rm = await runCli(['hotplug', 'remove', 'vm1', 'default', '-n', ns], { kubeconfig: sandbox().viewer });
    // Refused before anything is sent, whatever the rights.
    expect(rm.code).toBe(5);
  });

  describe('refused before anything is sent (exit 5, VM unchanged)', () => {
    it.each([
      ['a VM that does not exist', ['hotplug', 'add', 'nope', '--network', 'blue-net'], /virtualmachine "nope" not found in namespace/],
      ['a VMI without a VM', ['hotplug', 'add', 'solo', '--network', 'blue-net'], /"solo" in namespace "vnet-hp-ref-[0-9a-f]+" is a VirtualMachineInstance without a VirtualMachine: only VirtualMachines can be hot-plugged/],
      ['an invalid name', ['hotplug', 'add', 'vm1', '--network', 'blue-net', '--name', 'a.b'], /not a valid interface name/],
      ['a name in use', ['hotplug', 'add', 'vm1', '--network', 'blue-net', '--name', 'default'], /already used by an interface and a network/],
      ['a NAD that does not exist', ['hotplug', 'add', 'vm1', '--network', 'nope'], /NetworkAttachmentDefinition "nope" not found in namespace/],
      ['a binding other than bridge or SR-IOV', ['hotplug', 'add', 'vm1', '--network', 'blue-net', '--binding', 'masquerade'], /binding "masquerade" cannot be hot-plugged/],
      ['macvlan with bridge binding', ['hotplug', 'add', 'vm1', '--network', 'mv-net'], /CNI type macvlan does not work with KubeVirt's bridge binding/],
      ['a kube-ovn NAD without a Subnet', ['hotplug', 'add', 'vm1', '--network', 'ovn-net'], /no Kube-OVN Subnet has provider "ovn-net\.vnet-hp-ref-[0-9a-f]+\.ovn"/],
      ['remove of the pod network', ['hotplug', 'remove', 'vm1', 'default'], /KubeVirt does not unplug default networks/],
      ['remove of an unknown name', ['hotplug', 'remove', 'vm1', 'nope'], /has no interface "nope"/],
      ['remove of an SR-IOV interface', ['hotplug', 'remove', 'vm1', 'fast'], /KubeVirt unplugs only bridge interfaces/],
      ['link set on SR-IOV', ['link', 'set', 'vm1', 'fast', 'down'], /cannot set the link state of an SR-IOV NIC/],
    ])('%s', async (_what, args, msg) => {
      const ns = await refNamespace();
      const before = await readVM(ns, 'vm1');
      const r = await runCli([...args, '-n', ns]);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toMatch(/^hint: /m);
      expect(r.code).toBe(5);
      const after = await readVM(ns, 'vm1');
      expectSpecUnchanged(before, after);
    });

    it('--mac that another VM\'s interface has (in another namespace) is refused; --force sends it with a warning', async () => {
      // A MAC of this run only: a kept sandbox (VNET_TEST_KEEP_SANDBOX) still has the owners of earlier runs.
      const mac = `02:0c:${randomBytes(4).toString('hex').replace(/(..)(?!$)/g, '$1:')}`;
      const ns = await refNamespace();
      const other = await freshNamespace('vnet-hp-mac');
      await bridgeNad(other);
      await create({
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachine',
        metadata: { name: 'owner', namespace: other },
        spec: {
          runStrategy: 'Halted',
          template: { spec: { domain: { devices: { interfaces: [{ name: 'blue', bridge: {}, macAddress: mac }] }, resources: { requests: { memory: '1Gi' } } }, networks: [{ name: 'blue', multus: { networkName: 'blue-net' } }] } },
        },
      } as never);
      const before = await readVM(ns, 'vm1');
      const r = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'dup', '--mac', mac.toUpperCase().replaceAll(':', '-')]);
      expect(r.code).toBe(5);
      expect(r.stderr).toContain(`error: ${mac} is already used by VirtualMachine ${other}/owner interface "blue" (spec macAddress)`);
      expect(r.stderr).toMatch(/^hint: pick another MAC, or pass --force/m);
      expectSpecUnchanged(before, await readVM(ns, 'vm1'));
      const forced = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'dup', '--mac', mac, '--force', '--dry-run=server', '-o', 'name']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).toContain(`Warning: ${mac} is also used by VirtualMachine ${other}/owner interface "blue" (spec macAddress) (--force given)`);
    });

    it('--force overrides the CNI advice, not admission rules', async () => {
      const ns = await refNamespace();
      const forced = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'mv-net', '--name', 'mv', '--force', '--dry-run=server', '-o', 'name']);
      expect(forced.code).toBe(0);
      expect(forced.stderr).toMatch(/Warning: .*macvlan.*\(sent anyway: --force\)/);
      const bad = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'a/b', '--force']);
      expect(bad.code).toBe(5);
    });
  });
});

let refNs: Promise<string> | undefined;
/** One namespace with a VM (pod + SR-IOV interfaces) and NADs of every kind, for the refusal cases. */
function refNamespace(): Promise<string> {
  refNs ??= (async () => {
    const ns = await freshNamespace('vnet-hp-ref');
    await bridgeNad(ns);
    await bridgeNad(ns, 'mv-net', { cniVersion: '0.3.1', type: 'macvlan', master: 'eth0' });
    await bridgeNad(ns, 'ovn-net', { cniVersion: '0.3.0', type: 'kube-ovn', provider: `ovn-net.${ns}.ovn` });
    await bridgeNad(ns, 'sriov-net', { cniVersion: '0.3.1', type: 'sriov' });
    await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'vm1', namespace: ns },
      spec: {
        runStrategy: 'Halted',
        template: {
          spec: {
            domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'fast', sriov: {} }] }, resources: { requests: { memory: '1Gi' } } },
            networks: [{ name: 'default', pod: {} }, { name: 'fast', multus: { networkName: 'sriov-net' } }],
          },
        },
      },
    } as never);
    await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'solo', namespace: ns, annotations: { 'sim.kubectl-vnet.io/ignore': 'true' } },
      // virt-api refuses a VMI that requests no memory. virt-controller gives it a launcher pod; the node side
      // leaves it alone (the ignore annotation), so it stays a VMI without a VM, never started.
      spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] }, resources: { requests: { memory: '1Gi' } } }, networks: [{ name: 'default', pod: {} }] },
    } as never);
    return ns;
  })();
  return refNs;
}
