// network set against the sandbox: KubeVirt v1.8.2 with LiveUpdateNADRef copies the new NAD into the
// VMI, marks it MigrationRequired (AutoMigrationDueToLiveUpdate), and its workload updater migrates
// the VM to a launcher pod attached to the new NAD. Also: a failed attachment (the node side's Multus
// reports FailedAddingInterface for a NAD deleted after the check) stops --wait with exit 9, and
// status and doctor show it.
import { type KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { adminApi, eventually, freshNamespace, readVM, readVMI, runCli } from '../support/cluster.js';
import { bridgeNad, expectSpecUnchanged, makeVM, pauseSimulator, runningWith, runWaitingCli } from '../support/hotplug.js';
import { usePrivateSandbox } from '../support/private-sandbox.js';

vi.setConfig({ testTimeout: 180_000 });

const redNet = { cniVersion: '0.3.1', type: 'bridge', bridge: 'br2' };

/** NADs blue-net and red-net in the namespace (a fresh one when not given), and VM `name` running with interface blue on blue-net. */
async function vmOnBlue(o: { ns?: string; name?: string; kubeconfig?: string } = {}): Promise<string> {
  const ns = o.ns ?? (await freshNamespace('vnet-ns'));
  const name = o.name ?? 'vm1';
  if (!o.ns) {
    await bridgeNad(ns);
    await bridgeNad(ns, 'red-net', redNet);
  }
  await makeVM(ns, name, { extra: [{ name: 'blue', nad: 'blue-net' }], kubeconfig: o.kubeconfig });
  await runningWith(ns, name, ['default', 'blue'], o.kubeconfig);
  return ns;
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
    const r = await runWaitingCli(ns, 'vm1', ['hotplug', 'add', 'vm1', '-n', ns, '--network', 'doomed-net', '--name', 'green', '--wait', '--timeout', '150s'], /^interface green: /, {
      meanwhile: async () => {
        await adminApi().delete({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'doomed-net', namespace: ns } } as never);
      },
      killAfterMs: 150_000,
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

describe('on a private sandbox (the tests add a ValidatingAdmissionPolicy and turn LiveUpdateNADRef off)', () => {
  const sb = usePrivateSandbox('vnet-network-set-');
  let api: KubernetesObjectApi;
  let kubeconfig: string;
  const ns = 'plug';
  const obj = (apiVersion: string, kind: string, name: string, namespace?: string) => ({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } }) as any;
  beforeAll(async () => {
    ({ api, kubeconfig } = sb);
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'vnet-test/deny-vmi-plug': 'true' } } } as any);
    await bridgeNad(ns, 'blue-net', undefined, kubeconfig);
    await bridgeNad(ns, 'red-net', redNet, kubeconfig);
  });

  it('KubeVirt cannot patch the VMI (an admission policy refuses it): HotPlugNetworkInterfaceError stops --wait with exit 9; status and doctor show it', async () => {
    await vmOnBlue({ ns, name: 'vm1', kubeconfig });
    // An administrator's policy: no interface may be added to a running VMI in this namespace. KubeVirt's VM
    // controller then fails to sync the VMI's interfaces and says so in the VM's Failure condition.
    await api.create({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: 'deny-vmi-plug' },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector: { matchLabels: { 'vnet-test/deny-vmi-plug': 'true' } },
          resourceRules: [{ apiGroups: ['kubevirt.io'], apiVersions: ['*'], operations: ['UPDATE'], resources: ['virtualmachineinstances'] }],
        },
        validations: [{ expression: 'object.spec.domain.devices.interfaces.size() <= oldObject.spec.domain.devices.interfaces.size()', message: 'interfaces may not be added to a running VMI in this namespace' }],
      },
    } as any);
    await api.create({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'deny-vmi-plug' }, spec: { policyName: 'deny-vmi-plug', validationActions: ['Deny'] } } as any);
    try {
      // The policy takes a moment to load: until then the plug goes through, so use a fresh name per try.
      let r!: { code: number; stdout: string; stderr: string };
      let i = 0;
      await eventually(async () => {
        r = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'red-net', '--name', `red${i++}`, '--wait', '--timeout', '60s'], { kubeconfig, timeoutMs: 80_000 });
        return r.code !== 0 ? r : undefined;
      }, 170_000, 'the policy to refuse KubeVirt\'s VMI patch');
      expect(r.code, r.stderr).toBe(9);
      expect(r.stderr).toMatch(
        /^error: interface red\d+ of virtualmachine "vm1": KubeVirt could not update the VMI's interfaces \(VM condition Failure, reason HotPlugNetworkInterfaceError\): error encountered when trying to patch vmi: .*interfaces may not be added to a running VMI in this namespace( \(it was pending\))?$/m,
      );
      const vm = await readVM(ns, 'vm1', kubeconfig);
      expect(vm.status.conditions.find((c: any) => c.type === 'Failure')).toMatchObject({ status: 'True', reason: 'HotPlugNetworkInterfaceError' });
      const s = await runCli(['status', 'vm1', '-n', ns], { kubeconfig });
      expect(s.stderr).toMatch(/^Warning: plug\/vm1: KubeVirt could not update the VMI's interfaces \(VM condition Failure, reason HotPlugNetworkInterfaceError\)/m);
      const d = await runCli(['doctor', 'vm1', '-n', ns, '-o', 'json'], { kubeconfig });
      expect(d.code).toBe(8);
      expect(JSON.parse(d.stdout).checks.filter((c: any) => c.id === 'interface-failures').map((c: any) => c.result)).toContain('fail');
    } finally {
      await api.delete(obj('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', 'deny-vmi-plug'));
      await api.delete(obj('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', 'deny-vmi-plug'));
    }
  });

  it('without LiveUpdateNADRef: network set warns that the change waits for a restart; KubeVirt sets RestartRequired and status says so', async () => {
    await api.patch(
      { apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: { configuration: { developerConfiguration: { featureGates: ['Sidecar'] } } } } as any,
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
    );
    // virt-controller reads the gate from the CR through its informer: the gate goes off first, then the VM
    // starts (seconds), and the edit comes after both, with a few seconds more to spare.
    await vmOnBlue({ ns, name: 'vm2', kubeconfig });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const r = await runCli(['network', 'set', 'vm2', 'blue', 'red-net', '-n', ns], { kubeconfig });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Warning: KubeVirt v1\.8\.\d+ needs the LiveUpdateNADRef feature gate to move a NIC to another NAD live \(Beta in v1\.8, GA in v1\.9\): KubeVirt sets RestartRequired/m);
    // virt-controller reads the gate from the CR it watches: it may still see it on for a moment, so the
    // VMI is checked only once RestartRequired is there.
    const vm = await eventually(async () => {
      const v = await readVM(ns, 'vm2', kubeconfig);
      return (v.status?.conditions ?? []).some((c: any) => c.type === 'RestartRequired' && c.status === 'True') ? v : undefined;
    }, 60_000, 'RestartRequired on vm2');
    expect(vm.spec.template.spec.networks[1].multus.networkName).toBe('red-net');
    const vmi = await readVMI(ns, 'vm2', kubeconfig);
    expect(vmi.spec.networks.find((n: any) => n.name === 'blue').multus.networkName).toBe('blue-net');
    const s = await runCli(['status', 'vm2', '-n', ns], { kubeconfig });
    expect(s.stderr).toMatch(/^Warning: plug\/vm2: interface blue: moving from plug\/blue-net to plug\/red-net: it waits for a restart \(VM condition RestartRequired\)$/m);
  });
});
