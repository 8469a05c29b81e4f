// The API server goes away during `hotplug add --wait`: a clear error (exit 7)
// naming the last state, and nothing half-written. Runs on its own bare sandbox
// (the API server with KubeVirt's CRDs, no KubeVirt: nothing acts on the objects,
// so the interface stays pending) to stop it freely, and to hold hand-made
// objects KubeVirt would change: the KubeVirt CR of an old KubeVirt (real
// KubeVirt's CR says v1.8.2 and is shared) and a running VMI with a crafted
// status (virt-api drops VMI status writes of anyone but KubeVirt).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { cliPath, repoRoot, runCli } from '../support/cluster.js';
// @ts-expect-error plain ESM script without types
import { down, ensureKubectl, up } from '../../scripts/sandbox-lib.mjs';

const dir = path.join(repoRoot, '.cache', `sb-hotplug-down-${process.pid}`);

function api(kubeconfig: string): KubernetesObjectApi {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return KubernetesObjectApi.makeApiClient(kc);
}

// The bare sandbox: no virt-controller, virt-api or node simulator.
const start = () => up({ dir, kubevirt: false });

afterAll(async () => {
  await down({ dir });
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

// The KubeVirt CR is cluster-wide, so its warnings are checked here, on this
// file's own sandbox, where no other test file creates one.
describe('warnings from the KubeVirt CR', () => {
  it('old KubeVirt without HotplugNICs, Stage rollout, SR-IOV without LiveMigrate; the edit is still made', async () => {
    const sb = await start();
    const a = api(sb.kubeconfig);
    const ns = 'kv-warn';
    await a.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // The sandbox makes the namespace kubevirt (for KubeVirt's RBAC), not the CR.
    await a.create({ apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: { configuration: { vmRolloutStrategy: 'Stage' }, workloadUpdateStrategy: { workloadUpdateMethods: ['Evict'] } } } as never);
    execFileSync(ensureKubectl(), ['--kubeconfig', sb.kubeconfig, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { observedKubeVirtVersion: 'v1.3.1', phase: 'Deployed' } })]);
    await a.create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'sriov-net', namespace: ns }, spec: { config: '{"cniVersion":"0.3.1","type":"sriov"}' } } as never);
    const tpl = { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] }, resources: { requests: { memory: '1Gi' } } }, networks: [{ name: 'default', pod: {} }] };
    await a.create({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: ns }, spec: { runStrategy: 'Halted', template: { spec: tpl } } } as never);
    const r = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'sriov-net', '--name', 'fast', '--binding', 'sriov'], { kubeconfig: sb.kubeconfig });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: KubeVirt v1.3.1 needs the HotplugNICs feature gate for NIC hot-plug (GA only from v1.4)');
    expect(r.stderr).toContain('Warning: the KubeVirt rollout strategy is Stage, not LiveUpdate');
    expect(r.stderr).toMatch(/Warning: an SR-IOV interface is plugged by a live migration, but .* lacks LiveMigrate/);
    const link = await runCli(['link', 'set', 'vm1', 'default', 'down', '-n', ns, '--dry-run=client', '-o', 'name'], { kubeconfig: sb.kubeconfig });
    expect(link.code).toBe(0);
    expect(link.stderr).toContain('Warning: KubeVirt v1.3.1 has no interface link state (added in v1.5)');
    const vm: any = await a.read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: ns } });
    expect(vm.spec.template.spec.domain.devices.interfaces).toEqual([{ name: 'default', masquerade: {} }, { name: 'fast', sriov: {} }]);
  }, 180_000);
});

describe('hotplug add --wait when the API server stops', () => {
  it('fails with exit 7 and the last state; the VM holds the whole edit', async () => {
    const sb = await start();
    const a = api(sb.kubeconfig);
    const ns = 'down-test';
    await a.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await a.create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'blue-net', namespace: ns }, spec: { config: '{"cniVersion":"0.3.1","type":"bridge","bridge":"br1"}' } } as never);
    const tpl = { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] }, resources: { requests: { memory: '1Gi' } } }, networks: [{ name: 'default', pod: {} }] };
    await a.create({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: ns }, spec: { runStrategy: 'Always', template: { spec: tpl } } } as never);
    // A running VMI, made by hand: nothing here will ever plug the interface.
    await a.create({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', metadata: { name: 'vm1', namespace: ns }, spec: tpl, status: { phase: 'Running', interfaces: [{ name: 'default', infoSource: 'domain, guest-agent', mac: '02:00:00:00:00:01' }] } } as never);

    const child = spawn(process.execPath, [cliPath, 'hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue', '--wait', '--timeout', '50s'], {
      env: { ...process.env, KUBECONFIG: sb.kubeconfig, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const waiting = new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('interface blue: pending')) resolve();
      });
    });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await Promise.race([waiting, exited.then(() => undefined)]);
    expect(stderr).toContain('interface blue: pending');
    await down({ dir });
    const code = await exited;
    expect(code).toBe(7);
    expect(stdout).toBe(`virtualmachine.kubevirt.io/vm1 patched: add interface blue (bridge) on ${ns}/blue-net\n`);
    expect(stderr).toMatch(/error: lost the API server while waiting for interface blue to be ready \(last state: pending\): cannot reach the Kubernetes API server/);
    expect(stderr).toMatch(/hint: the edit was stored before the wait began and nothing else was written/);
    expect(stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace

    // Back up (same etcd data): the VM holds the interface and its network, both or neither.
    const again = await start();
    const vm: any = await api(again.kubeconfig).read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: ns } });
    expect(vm.spec.template.spec.domain.devices.interfaces).toEqual([{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }]);
    expect(vm.spec.template.spec.networks).toEqual([{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }]);
  }, 240_000);
});
