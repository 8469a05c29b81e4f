// The sandbox with KubeVirt v1.8.2's own virt-controller and virt-api, and the
// node-side simulator (kubelet, Multus, virt-handler): what KubeVirt does to
// VMs, VMIs and launcher pods, checked on what the API server stores (read
// with client-node's generic object API, test/support/cluster.ts), and the CLI
// against it where only a real KubeVirt can answer (its admission on
// --dry-run=server, its RBAC for the sandbox's users, the README's live quick
// start on the demo world).
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminApi, cliPath, create, eventually, freshNamespace, readVM, readVMI, repoRoot, runCli, sandbox } from '../support/cluster.js';
import { bridgeNad } from '../support/hotplug.js';
import { testVM } from '../support/vm.js';
import { usePrivateSandbox } from '../support/private-sandbox.js';
// @ts-expect-error plain ESM script without types
import { kubevirtVersion } from '../../scripts/sandbox-lib.mjs';

vi.setConfig({ testTimeout: 120_000 });

const run = promisify(execFile);
const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';
const podIface = (net: string) => 'pod' + createHash('sha256').update(net).digest('hex').slice(0, 11);

/** A VM for the sandbox: the pod network, bridges on Multus networks, memory as KubeVirt's admission wants. */
function vmManifest(ns: string, name: string, opts: { runStrategy?: string; bridges?: Record<string, string>; annotations?: Record<string, string> } = {}) {
  return testVM({ name, namespace: ns, runStrategy: opts.runStrategy, bridges: opts.bridges, templateAnnotations: opts.annotations, memory: '64Mi', resourceVersion: null });
}

async function launcherPods(ns: string, api = adminApi()): Promise<any[]> {
  return (await api.list('v1', 'Pod', ns, undefined, undefined, undefined, undefined, 'kubevirt.io=virt-launcher')).items as any[];
}

async function events(ns: string, api = adminApi()): Promise<any[]> {
  return (await api.list('v1', 'Event', ns)).items as any[];
}

async function runningVMI(ns: string, name: string, pred: (vmi: any) => boolean = () => true, timeoutMs = 30_000): Promise<any> {
  return eventually(async () => {
    const vmi = await readVMI(ns, name).catch(() => null);
    return vmi?.status?.phase === 'Running' && pred(vmi) ? vmi : null;
  }, timeoutMs, `VMI ${ns}/${name} running`);
}

const statusOf = (vmi: any, iface: string) => (vmi?.status?.interfaces ?? []).find((i: any) => i.name === iface);

async function jsonPatchVM(ns: string, name: string, ops: any[], kubeconfig = sandbox().kubeconfig) {
  await run(sandbox().kubectl, ['--kubeconfig', kubeconfig, '-n', ns, 'patch', 'virtualmachine', name, '--type', 'json', '-p', JSON.stringify(ops)]);
}

describe('KubeVirt on the sandbox', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace('vnet-kv');
    await bridgeNad(ns);
  });
  // The sandbox has no namespace controller: stop what runs, so a kept sandbox stays quiet.
  afterAll(async () => {
    const api = adminApi();
    const list = await api.list('kubevirt.io/v1', 'VirtualMachine', ns).catch(() => ({ items: [] as any[] }));
    for (const o of list.items) await api.delete({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: o.metadata!.name, namespace: ns } }).catch(() => undefined);
  });

  it("virt-controller gives a running VM its VMI and launcher pod; the node side runs them; VM and VMI report KubeVirt's statuses", async () => {
    const vm: any = await create(vmManifest(ns, 'basic', { bridges: { blue: 'blue-net' } }) as any);
    // Ready is virt-controller's: it copies the launcher pod's Ready once virt-handler reports the VMI Running.
    const ready = (v: any) => (v.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    const vmi = await runningVMI(ns, 'basic', (v) => ready(v) && ['default', 'blue'].every((n) => statusOf(v, n)?.infoSource?.includes('domain')));
    // What virt-controller wrote: owner, finalizers (the VM controller's and virt-api's), node label.
    expect(vmi.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'VirtualMachine', name: 'basic', uid: vm.metadata.uid, controller: true })]);
    expect(vmi.metadata.finalizers).toEqual(expect.arrayContaining(['kubevirt.io/virtualMachineControllerFinalize', 'kubevirt.io/foregroundDeleteVirtualMachine']));
    expect(vmi.metadata.labels['kubevirt.io/nodeName']).toBe(vmi.status.nodeName);
    expect(vmi.status.conditions.find((c: any) => c.type === 'LiveMigratable')).toMatchObject({ status: 'True' });
    const [pod] = await launcherPods(ns);
    expect(pod.metadata.name).toMatch(/^virt-launcher-basic-/);
    expect(pod.metadata.labels['kubevirt.io/created-by']).toBe(vmi.metadata.uid);
    expect(pod.spec.nodeName).toBe(vmi.status.nodeName);
    expect(Object.keys(vmi.status.activePods)).toEqual([pod.metadata.uid]);
    // KubeVirt's networks annotation: namespace always given, the pod interface named "pod" + hash.
    expect(JSON.parse(pod.metadata.annotations[NETWORKS])).toEqual([{ name: 'blue-net', namespace: ns, interface: podIface('blue') }]);
    const attachment = JSON.parse(pod.metadata.annotations[NETWORK_STATUS]).find((e: any) => e.interface === podIface('blue'));
    expect(attachment.name).toBe(`${ns}/blue-net`);
    expect(statusOf(vmi, 'blue')).toMatchObject({ podInterfaceName: podIface('blue'), infoSource: 'domain, guest-agent, multus-status', linkState: 'up', mac: attachment.mac });
    const readyVM = await eventually(async () => {
      const v = await readVM(ns, 'basic');
      return v.status?.printableStatus === 'Running' && v.status?.ready ? v : null;
    });
    expect(readyVM.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'True' });
  });

  it("virt-api's admission rejects an invalid VM with KubeVirt's own message, and drops VMI status changes from anyone but KubeVirt", async () => {
    const bad = vmManifest(ns, 'bad', { bridges: { blue: 'blue-net' } });
    bad.spec.template.spec.networks = bad.spec.template.spec.networks!.filter((n) => n.name !== 'blue');
    const err: any = await create(bad as any).catch((e) => e);
    expect(err?.code).toBe(422);
    expect(String(err.body)).toContain('admission webhook \\"virtualmachine-validator.kubevirt.io\\" denied the request');
    expect(String(err.body)).toContain("spec.template.spec.domain.devices.interfaces[1].name 'blue' not found.");
    const before = await readVMI(ns, 'basic');
    await adminApi().patch({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', metadata: { name: 'basic', namespace: ns }, status: { phase: 'Failed' } } as any, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    expect((await readVMI(ns, 'basic')).status.phase).toBe(before.status.phase);
  });

  it('a bridge hot-plug: virt-controller copies it into the VMI and the pod annotation, Multus attaches it (with its event), virt-handler plugs it', async () => {
    await create(vmManifest(ns, 'hp') as any);
    const vmi0 = await runningVMI(ns, 'hp', (v) => Boolean(statusOf(v, 'default')));
    await jsonPatchVM(ns, 'hp', [
      { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/-', value: { name: 'blue', bridge: {} } },
      { op: 'add', path: '/spec/template/spec/networks/-', value: { name: 'blue', multus: { networkName: 'blue-net' } } },
    ]);
    const vmi = await runningVMI(ns, 'hp', (v) => statusOf(v, 'blue')?.infoSource === 'domain, guest-agent, multus-status');
    expect(vmi.metadata.uid).toBe(vmi0.metadata.uid);
    expect(vmi.spec.domain.devices.interfaces.map((i: any) => i.name)).toEqual(['default', 'blue']);
    expect(vmi.spec.networks.find((n: any) => n.name === 'blue')).toEqual({ name: 'blue', multus: { networkName: 'blue-net' } });
    const [pod] = await launcherPods(ns).then((l) => l.filter((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi.metadata.uid));
    expect(JSON.parse(pod.metadata.annotations[NETWORKS])).toEqual([{ name: 'blue-net', namespace: ns, interface: podIface('blue') }]);
    const added = (await events(ns)).find((e) => e.reason === 'AddedInterface' && e.involvedObject.name === pod.metadata.name && e.message.includes(podIface('blue')));
    expect(added.message).toBe(`pod [${ns}/${pod.metadata.name}]: added interface ${podIface('blue')} to network: blue-net`);
    expect(added.source.component).toBe('pod-networks-updates');
    // No migration was needed: same pod, no MigrationRequired.
    expect(Object.keys(vmi.status.activePods)).toEqual([pod.metadata.uid]);
    expect((vmi.status.conditions ?? []).find((c: any) => c.type === 'MigrationRequired')).toBeUndefined();
  });

  it('link down, then an unplug: KubeVirt drops it from the pod annotation, Multus detaches it, KubeVirt removes it from the VMI and the VM', async () => {
    const vm = await readVM(ns, 'hp');
    const idx = vm.spec.template.spec.domain.devices.interfaces.findIndex((i: any) => i.name === 'blue');
    await jsonPatchVM(ns, 'hp', [{ op: 'add', path: `/spec/template/spec/domain/devices/interfaces/${idx}/state`, value: 'down' }]);
    const down = await runningVMI(ns, 'hp', (v) => statusOf(v, 'blue')?.linkState === 'down');
    expect(down.spec.domain.devices.interfaces.find((i: any) => i.name === 'blue').state).toBe('down');
    await jsonPatchVM(ns, 'hp', [{ op: 'replace', path: `/spec/template/spec/domain/devices/interfaces/${idx}/state`, value: 'absent' }]);
    const gone = await eventually(async () => {
      const v = await readVM(ns, 'hp');
      return v.spec.template.spec.domain.devices.interfaces.length === 1 ? v : null;
    }, 40_000, 'the unplugged interface to leave the VM template');
    expect(gone.spec.template.spec.networks).toEqual([{ name: 'default', pod: {} }]);
    const vmi = await readVMI(ns, 'hp');
    expect(vmi.spec.domain.devices.interfaces.map((i: any) => i.name)).toEqual(['default']);
    expect(statusOf(vmi, 'blue')).toBeUndefined();
    const [pod] = (await launcherPods(ns)).filter((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi.metadata.uid);
    // KubeVirt writes an empty string, it does not remove the annotation.
    expect(pod.metadata.annotations[NETWORKS]).toBe('');
    expect(JSON.parse(pod.metadata.annotations[NETWORK_STATUS]).map((e: any) => e.interface)).toEqual(['eth0']);
    expect((await events(ns)).some((e) => e.reason === 'RemovedInterface' && e.involvedObject.name === pod.metadata.name)).toBe(true);
  });

  it('a NAD that does not exist: KubeVirt still asks for it, Multus fails to add it and says so in a pod event', async () => {
    await jsonPatchVM(ns, 'hp', [
      { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/-', value: { name: 'ghost', bridge: {} } },
      { op: 'add', path: '/spec/template/spec/networks/-', value: { name: 'ghost', multus: { networkName: 'no-such-net' } } },
    ]);
    const failed = await eventually(async () => (await events(ns)).find((e) => e.reason === 'FailedAddingInterface'), 30_000, 'a FailedAddingInterface event');
    expect(failed.type).toBe('Warning');
    expect(failed.message).toBe(`pod [${ns}/${failed.involvedObject.name}]: failed adding interface ${podIface('ghost')} to network: no-such-net`);
    const vmi = await readVMI(ns, 'hp');
    expect(statusOf(vmi, 'ghost')).toBeUndefined();
  });

  it('stop deletes the VMI and its pod; start makes new ones', async () => {
    const first = await runningVMI(ns, 'basic');
    await adminApi().patch({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'basic', namespace: ns }, spec: { runStrategy: 'Halted' } } as any, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await eventually(async () => ((await readVMI(ns, 'basic').catch(() => null)) ? null : true), 40_000, 'the VMI to be gone');
    await eventually(async () => ((await launcherPods(ns)).some((p) => p.metadata.labels['kubevirt.io/created-by'] === first.metadata.uid) ? null : true), 20_000, 'its pod to be gone');
    const stopped = await eventually(async () => {
      const v = await readVM(ns, 'basic');
      return v.status?.printableStatus === 'Stopped' ? v : null;
    });
    expect(stopped.status.ready).toBeFalsy();
    await adminApi().patch({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'basic', namespace: ns }, spec: { runStrategy: 'Always' } } as any, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    const again = await runningVMI(ns, 'basic', (v) => Boolean(statusOf(v, 'blue')?.infoSource?.includes('domain')));
    expect(again.metadata.uid).not.toBe(first.metadata.uid);
  });

  it("the sandbox's users have KubeVirt's roles: the editor lists VMIs and pods in team-a and sees the Multus fields; the viewer cannot edit", async () => {
    const sb = sandbox();
    await bridgeNad('team-a').catch(() => undefined);
    await create(vmManifest('team-a', `ed-${ns.slice(-6)}`, { bridges: { blue: 'blue-net' } }) as any);
    const name = `ed-${ns.slice(-6)}`;
    try {
      await runningVMI('team-a', name, (v) => statusOf(v, 'blue')?.infoSource?.includes('guest-agent'));
      for (const [verb, res] of [['list', 'pods'], ['list', 'virtualmachineinstances.kubevirt.io'], ['patch', 'virtualmachines.kubevirt.io']]) {
        expect(execFileSync(sb.kubectl, ['--kubeconfig', sb.editor, 'auth', 'can-i', verb, res, '-n', 'team-a'], { encoding: 'utf8' }).trim()).toBe('yes');
      }
      const st = await runCli(['status', name, '-o', 'json'], { kubeconfig: sb.editor });
      expect(st.code, st.stderr).toBe(0);
      expect(st.stderr).toBe('');
      const report = JSON.parse(st.stdout);
      expect(report.launcherPod).toMatch(new RegExp(`^virt-launcher-${name}-`));
      const blue = report.interfaces.find((i: any) => i.name === 'blue');
      expect(blue).toMatchObject({ state: 'ready', network: 'team-a/blue-net' });
      expect(blue.multus).toMatchObject({ name: 'team-a/blue-net', interface: podIface('blue') });
      const viewer = await runCli(['hotplug', 'add', name, '-n', 'team-a', '--network', 'blue-net', '--name', 'blue2'], { kubeconfig: sb.viewer });
      expect(viewer.code).toBe(4);
      expect(viewer.stderr).toMatch(/forbidden/);
    } finally {
      await adminApi().delete({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace: 'team-a' } }).catch(() => undefined);
    }
  });
});

describe("the README's live quick start, as written, on the sandbox's demo world", () => {
  it('runs start to end', async () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const block = /<!-- live-quickstart -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README.md has a live quick start block after <!-- live-quickstart -->').toBeTruthy();
    const lines = block!.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l && !l.startsWith('#'));
    // The set-up lines start and point at a sandbox; the test has its own, so it runs what follows them.
    expect(lines.slice(0, 2)).toEqual(['npm run sandbox -- up', 'export KUBECONFIG=$PWD/.sandbox/kubeconfig']);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-qs-'));
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(cliPath, path.join(bin, 'kubectl-vnet'));
    fs.symlinkSync(sandbox().kubectl, path.join(bin, 'kubectl'));
    const kubeconfig = path.join(tmp, 'kubeconfig');
    fs.copyFileSync(sandbox().kubeconfig, kubeconfig);
    const env = { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1', PATH: `${bin}${path.delimiter}${process.env.PATH}` };
    const outputs: { line: string; code: number; stdout: string; stderr: string }[] = [];
    try {
      for (const line of lines.slice(2)) {
        const r = await run('bash', ['-c', line], { env, timeout: 90_000 }).then(
          (o) => ({ code: 0, stdout: o.stdout, stderr: o.stderr }),
          (e) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
        );
        outputs.push({ line, ...r });
      }
    } finally {
      // Leave the demo VM as the sandbox made it, whatever happened above.
      const vm = await readVM('lab', 'demo');
      const keep = vm.spec.template.spec.domain.devices.interfaces.filter((i: any) => i.name === 'default');
      if (keep.length !== vm.spec.template.spec.domain.devices.interfaces.length) {
        await jsonPatchVM('lab', 'demo', [
          { op: 'replace', path: '/spec/template/spec/domain/devices/interfaces', value: keep },
          { op: 'replace', path: '/spec/template/spec/networks', value: [{ name: 'default', pod: {} }] },
        ]).catch(() => undefined);
      }
    }
    const byCmd = (re: RegExp) => outputs.filter((o) => re.test(o.line));
    for (const o of outputs) {
      // Every line succeeds, except the one the README marks as refused.
      if (/macvlan-net/.test(o.line)) {
        expect(o.code, o.line).toBe(5);
        expect(o.stderr).toMatch(/macvlan/);
      } else expect(o.code, `${o.line}\n${o.stderr}`).toBe(0);
    }
    expect(byCmd(/hotplug add demo --network blue-net/)[0].stderr).toMatch(/interface blue: ready/);
    expect(byCmd(/^kubectl vnet status demo$/).at(-1)!.stdout).toMatch(/^demo\s+blue\s+bridge\s+lab\/blue-net\s+ready\s+down\s/m);
    expect(byCmd(/hotplug remove demo blue/)[0].stderr).toMatch(/interface blue: (gone|removed)/);
    const vm = await readVM('lab', 'demo');
    expect(vm.spec.template.spec.domain.devices.interfaces.map((i: any) => i.name)).toEqual(['default']);
  });
});

describe("KubeVirt's admission through --dry-run=server (a private sandbox: the test turns a feature gate off)", () => {
  const sb = usePrivateSandbox('vnet-kv-admission-');

  it('a VM that uses hook sidecars once the Sidecar gate is off: KubeVirt refuses the hot-plug, on a dry run as for real; nothing changes', async () => {
    const { api, kubeconfig } = sb;
    expect(kubevirtVersion()).toMatch(/^v1\.8\./);
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'adm' } });
    await api.create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'blue-net', namespace: 'adm' }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }) } } as any);
    await api.create(vmManifest('adm', 'hooked', { runStrategy: 'Halted', annotations: { 'hooks.kubevirt.io/hookSidecars': '[{"image":"registry.example/sidecar-shim:v1.8.2"}]' } }) as any);
    // The administrator turns the Sidecar gate off: virt-api now refuses every update of that VM.
    await api.patch({ apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: { configuration: { developerConfiguration: { featureGates: [] } } } } as any, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    const before = await api.read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'hooked', namespace: 'adm' } } as any);
    const args = ['hotplug', 'add', 'hooked', '-n', 'adm', '--network', 'blue-net', '--name', 'blue'];
    const dry = await eventually(async () => {
      const r = await runCli([...args, '--dry-run=server'], { kubeconfig });
      return r.code !== 0 ? r : null;
    }, 30_000, 'virt-api to see the gate off');
    expect(dry.code).toBe(5);
    expect(dry.stderr).toBe(
      'error: the server refused the request: admission webhook "virtualmachine-validator.kubevirt.io" denied the request: sidecar feature gate is not enabled in kubevirt-config, invalid entry spec.template.metadata.annotations.hooks.kubevirt.io/hookSidecars\n' +
        'hint: nothing was changed; fix what the message names and try again\n',
    );
    expect(dry.stderr).not.toMatch(/\n\s+at /);
    const real = await runCli(args, { kubeconfig });
    expect(real.code).toBe(5);
    expect(real.stderr).toContain('sidecar feature gate is not enabled in kubevirt-config');
    const after: any = await api.read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'hooked', namespace: 'adm' } } as any);
    expect(after.metadata.generation).toBe((before as any).metadata.generation);
    expect(after.spec).toEqual((before as any).spec);
  });
});
