// `kubectl vnet doctor` on a healthy VM and on a broken one. The checks read
// cluster singletons (the KubeVirt CR, kubemacpool's webhook configuration,
// DaemonSets cluster-wide) that other test files change, so this file starts
// its own sandbox with KubeVirt (its CR as the sandbox makes it: Deployed,
// LiveMigrate, the Sidecar gate; the node side's DaemonSets, the multus dynamic
// networks controller's among them) and adds kubemacpool as its release
// manifests install it (VMs opt-out), with failurePolicy Ignore and a service
// that does not exist, since no kubemacpool server runs here.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import type { KubernetesObjectApi } from '@kubernetes/client-node';
import { eventually, repoRoot, runCli, sandbox } from '../support/cluster.js';
// @ts-expect-error plain ESM script without types
import { kubevirtVersion } from '../../scripts/sandbox-lib.mjs';
import { kubemacpoolMutator, VMS_WEBHOOK } from '../support/kubemacpool.js';
import { usePrivateSandbox } from '../support/private-sandbox.js';

const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas', 'doctor-report.schema.json'), 'utf8')));
const NS = 'doc';
const VMH = VMS_WEBHOOK;

const sb = usePrivateSandbox('vnet-doctor-', { simulatorArgs: ['--step-ms', '200'] });
let kubeconfig: string;
let api: KubernetesObjectApi;

function kubectl(args: string[]): string {
  return execFileSync(sandbox().kubectl, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
}

async function create(obj: object): Promise<void> {
  await api.create(obj as never);
}

function vm(name: string, spec: { interfaces: object[]; networks: object[]; annotations?: Record<string, string>; runStrategy?: string }) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: NS },
    spec: {
      runStrategy: spec.runStrategy ?? 'Always',
      template: {
        metadata: spec.annotations ? { annotations: spec.annotations } : {},
        spec: { domain: { devices: { interfaces: spec.interfaces }, resources: { requests: { memory: '1Gi' } } }, networks: spec.networks },
      },
    },
  };
}

const bridgeNad = (name: string, config: object) => ({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name, namespace: NS }, spec: { config: JSON.stringify(config) } });

beforeAll(async () => {
  ({ kubeconfig, api } = sb);

  await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubemacpool-system' } });
  await create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubemacpool-mac-range-config', namespace: 'kubemacpool-system' }, data: { RANGE_START: '02:00:00:00:00:00', RANGE_END: '02:00:00:ff:ff:ff' } });
  const mgrLabels = { 'control-plane': 'mac-controller-manager' };
  await create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kubemacpool-mac-controller-manager', namespace: 'kubemacpool-system', labels: mgrLabels }, spec: { replicas: 1, selector: { matchLabels: mgrLabels }, template: { metadata: { labels: mgrLabels }, spec: { containers: [{ name: 'manager', image: 'quay.io/kubevirt/kubemacpool:latest' }] } } } });
  kubectl(['patch', 'deployment', 'kubemacpool-mac-controller-manager', '-n', 'kubemacpool-system', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] } })]);
  await create(kubemacpoolMutator('kubemacpool-system', { vms: 'opt-out' }));

  await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await create(bridgeNad('blue-net', { cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }));
  await create(bridgeNad('mv-net', { cniVersion: '0.3.1', type: 'macvlan', master: 'eth0', mode: 'bridge' }));
}, 180_000);

describe('doctor', () => {
  it('a healthy running VM: every check ok, exit 0, JSON matches the schema', async () => {
    await create(
      vm('healthy', {
        interfaces: [{ name: 'default', masquerade: {}, macAddress: '02:00:00:00:10:01' }, { name: 'blue', bridge: {}, macAddress: '02:00:00:00:10:02' }],
        networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }],
      }),
    );
    // The simulator starts it: VMI Running, blue plugged into the domain and seen by the guest.
    await eventually(
      async () => {
        const vmi = (await api.read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', metadata: { name: 'healthy', namespace: NS } } as never)) as any;
        const blue = vmi.status?.interfaces?.find((i: any) => i.name === 'blue');
        if (!(vmi.status?.phase === 'Running' && blue?.infoSource?.includes('domain') && blue?.infoSource?.includes('guest-agent'))) return false;
        // The VM's Ready condition (checked by vm-conditions) is written a pass after the VMI's.
        const vmObj = (await api.read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'healthy', namespace: NS } } as never)) as any;
        return vmObj.status?.ready === true;
      },
      30_000,
      'VMI healthy running with blue in the domain, and the VM ready',
    );
    const r = await runCli(['doctor', 'healthy', '-n', NS, '-o', 'json'], { kubeconfig });
    const report = JSON.parse(r.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.checks.filter((c: any) => c.result !== 'ok')).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(report).toMatchObject({ kind: 'DoctorReport', namespace: NS, name: 'healthy' });
    const byId = (id: string) => report.checks.filter((c: any) => c.id === id).map((c: any) => c.message);
    expect(byId('kubevirt-version')).toEqual([`KubeVirt ${kubevirtVersion()}`]);
    expect(byId('nad-exists')).toEqual(['interface "blue": NetworkAttachmentDefinition doc/blue-net exists (CNI bridge)']);
    expect(byId('dynamic-networks-controller')[0]).toContain('kube-system/dynamic-networks-controller-ds 2/2');
    expect(byId('kubemacpool')[0]).toContain(`kubemacpool manages VMs in ${NS} (opt-out mode; namespace not labelled ${VMH}=ignore), range 02:00:00:00:00:00-02:00:00:ff:ff:ff`);
    expect(byId('hotplug-slots')[0]).toMatch(/^2 of about 5 interfaces: 3 more can be hot-plugged/);

    const table = await runCli(['doctor', 'healthy', '-n', NS], { kubeconfig });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`ok    kubevirt-version: KubeVirt ${kubevirtVersion()}\n`);
    expect(table.stdout).toMatch(/^\d+ checks: \d+ ok, 0 warn, 0 fail$/m);
    expect(table.stdout).not.toContain('fix:');
  });

  it('as viewer, who cannot read the webhook configuration: the kubemacpool check warns and says why, never ok', async () => {
    const r = await runCli(['doctor', 'healthy', '-n', NS, '-o', 'json'], { kubeconfig: sb.viewer });
    expect(r.code, r.stdout).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const notOk = report.checks.filter((c: any) => c.result !== 'ok');
    expect(notOk).toEqual([
      {
        id: 'kubemacpool',
        result: 'warn',
        message: expect.stringMatching(/^cannot tell whether kubemacpool manages VMs in namespace doc: mode unknown \(kubemacpool-mutator not readable\)/),
        fix: 'ask an administrator, or see kubectl vnet macpool status -n doc',
      },
    ]);
  });

  it('a broken VM: each problem fails its check with the fix, exit code 8', async () => {
    await create(
      vm('broken', {
        runStrategy: 'Halted',
        // a malformed netconf value, a macvlan NAD under bridge binding, a NAD that does not exist,
        // and the healthy VM's MAC again
        annotations: { 'netconf.kubevirt.io/macAddress': '{"name": "blue", "macAddress": "02:00:00:00:20:01"}' },
        interfaces: [{ name: 'default', masquerade: {} }, { name: 'mv', bridge: {} }, { name: 'red', bridge: {}, macAddress: '02:00:00:00:10:02' }],
        networks: [{ name: 'default', pod: {} }, { name: 'mv', multus: { networkName: 'mv-net' } }, { name: 'red', multus: { networkName: 'red-net' } }],
      }),
    );
    const r = await runCli(['doctor', 'broken', '-n', NS, '-o', 'json'], { kubeconfig });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`error: 4 checks failed for virtualmachine ${NS}/broken`);
    const report = JSON.parse(r.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const failed = report.checks.filter((c: any) => c.result === 'fail');
    expect(failed.map((c: any) => [c.id, c.message])).toEqual([
      ['annotations', expect.stringContaining('annotation netconf.kubevirt.io/macAddress is malformed: not a JSON list')],
      ['nad-exists', 'interface "red": NetworkAttachmentDefinition doc/red-net not found'],
      ['cni-binding', expect.stringContaining('interface "mv" (bridge) on doc/mv-net: its CNI type macvlan does not work with KubeVirt\'s bridge binding')],
      ['mac-collisions', expect.stringContaining('interface "red": MAC 02:00:00:00:10:02 (spec) is also claimed by VirtualMachine doc/healthy interface "blue"')],
    ]);
    for (const c of failed) expect(c.fix).toEqual(expect.any(String));
    // the stopped VM's slots and conditions are fine
    expect(report.checks.find((c: any) => c.id === 'hotplug-slots').result).toBe('ok');

    const table = await runCli(['doctor', 'broken', '-n', NS], { kubeconfig });
    expect(table.code).toBe(8);
    expect(table.stdout).toContain('FAIL  nad-exists: interface "red": NetworkAttachmentDefinition doc/red-net not found\n      fix: create it, or point the network at an existing NAD (kubectl get network-attachment-definitions -n doc)\n');
    expect(table.stdout).toMatch(/^\d+ checks: \d+ ok, \d+ warn, 4 fail$/m);
    expect(table.stderr).toContain('hint: apply the fixes above and run kubectl vnet doctor again');
  });

  it('a VM that does not exist is "not found" (exit 3), a standalone VMI is refused (exit 5); neither is a failed check', async () => {
    const r = await runCli(['doctor', 'nope', '-n', NS], { kubeconfig });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('virtualmachine "nope" not found in namespace "doc"');
    await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'lonely', namespace: NS },
      spec: { domain: { devices: {}, resources: { requests: { memory: '64Mi' } } } },
    });
    const vmi = await runCli(['doctor', 'lonely', '-n', NS], { kubeconfig });
    expect(vmi.code).toBe(5);
    expect(vmi.stderr).toContain('"lonely" in namespace "doc" is a VirtualMachineInstance without a VirtualMachine; doctor checks VirtualMachines');
  });
});
