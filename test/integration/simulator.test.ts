// The KubeVirt network simulator (test/simulator/) against the real sandbox
// API server: the global set-up runs it with --step-ms 300. Everything is
// checked on what the API server stores, read with client-node's generic
// object API (test/support/cluster.ts); JSON patches are sent with kubectl.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, create, eventually, freshNamespace, readVM, readVMI, sandbox } from '../support/cluster.js';
// @ts-expect-error plain ESM script without types
import { down, up } from '../../scripts/sandbox-lib.mjs';

const run = promisify(execFile);
const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';
const NETCONF = 'netconf.kubevirt.io/macAddress';
const HOOKS = 'hooks.kubevirt.io/hookSidecars';

const podIface = (net: string) => 'pod' + createHash('sha256').update(net).digest('hex').slice(0, 11);

function vmManifest(ns: string, name: string, opts: { runStrategy?: string; interfaces?: any[]; networks?: any[]; annotations?: Record<string, string>; labels?: Record<string, string> } = {}) {
  const devices: any = {};
  if (opts.interfaces) devices.interfaces = opts.interfaces;
  const spec: any = { domain: { devices, resources: { requests: { memory: '64Mi' } } } };
  if (opts.networks) spec.networks = opts.networks;
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: ns },
    spec: {
      runStrategy: opts.runStrategy ?? 'Always',
      template: { metadata: { labels: opts.labels ?? { 'kubevirt.io/vm': name }, annotations: opts.annotations ?? {} }, spec },
    },
  };
}

const withBlue = (ns: string, name: string, extra: Parameters<typeof vmManifest>[2] = {}) =>
  vmManifest(ns, name, {
    interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }],
    networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }],
    ...extra,
  });

async function launcherPods(ns: string, api = adminApi()): Promise<any[]> {
  const list = await api.list('v1', 'Pod', ns, undefined, undefined, undefined, undefined, 'kubevirt.io=virt-launcher');
  return list.items as any[];
}

async function runningVMI(ns: string, name: string, pred: (vmi: any) => boolean = () => true, timeoutMs = 20_000): Promise<any> {
  return eventually(async () => {
    const vmi = await readVMI(ns, name).catch(() => null);
    return vmi?.status?.phase === 'Running' && pred(vmi) ? vmi : null;
  }, timeoutMs, `VMI ${ns}/${name} running`);
}

const statusOf = (vmi: any, iface: string) => (vmi?.status?.interfaces ?? []).find((i: any) => i.name === iface);

async function mergePatchVM(ns: string, name: string, body: any, api = adminApi()) {
  await api.patch({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace: ns }, ...body }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
}

async function jsonPatchVM(ns: string, name: string, ops: any[], kubeconfig = sandbox().kubeconfig) {
  await run(sandbox().kubectl, ['--kubeconfig', kubeconfig, '-n', ns, 'patch', 'virtualmachine', name, '--type', 'json', '-p', JSON.stringify(ops)]);
}

/** A hot-plug as a careful client sends it: guarded by test ops, re-read and retried on conflict. */
async function hotplug(ns: string, vm: string, iface: any, network: any, kubeconfig?: string, reader: (ns: string, name: string) => Promise<any> = readVM): Promise<number> {
  for (let attempt = 1; attempt <= 40; attempt++) {
    const cur = await reader(ns, vm);
    const ifaces = cur.spec.template.spec.domain.devices.interfaces ?? [];
    const nets = cur.spec.template.spec.networks ?? [];
    try {
      await jsonPatchVM(ns, vm, [
        { op: 'test', path: '/spec/template/spec/domain/devices/interfaces', value: ifaces },
        { op: 'test', path: '/spec/template/spec/networks', value: nets },
        { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/-', value: iface },
        { op: 'add', path: '/spec/template/spec/networks/-', value: network },
      ], kubeconfig);
      return attempt;
    } catch {
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
  throw new Error(`hot-plug of ${iface.name} kept conflicting`);
}

/**
 * Records every stored version of one object through a watch (started before
 * the change under test), so a walk is seen step by step however slow the
 * machine is. until() resolves once pred holds for the latest version.
 */
async function record(kind: 'virtualmachines' | 'virtualmachineinstances', ns: string, name: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox().kubeconfig);
  const versions: any[] = [];
  const waiters: { pred: (o: any) => boolean; resolve: () => void }[] = [];
  const check = () => {
    const last = versions[versions.length - 1];
    for (const w of [...waiters]) if (last && w.pred(last)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const ctl = await new Watch(kc).watch(
    `/apis/kubevirt.io/v1/namespaces/${ns}/${kind}`,
    { fieldSelector: `metadata.name=${name}` },
    (type, obj) => {
      versions.push(type === 'DELETED' ? null : obj);
      check();
    },
    () => undefined,
  );
  return {
    versions,
    stop: () => ctl.abort(),
    until: (pred: (o: any) => boolean, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`watch of ${kind} ${ns}/${name}: condition not met; saw ${versions.length} versions`)), timeoutMs);
        waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
        check();
      }),
  };
}

/** The distinct consecutive values of f over the recorded versions. */
function distinct<T>(versions: any[], f: (o: any) => T): T[] {
  const out: T[] = [];
  for (const v of versions) {
    const x = f(v);
    if (!out.length || JSON.stringify(out[out.length - 1]) !== JSON.stringify(x)) out.push(x);
  }
  return out;
}

describe('KubeVirt network simulator', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace('vnet-sim');
  });
  // The sandbox has no namespace controller: delete what runs, so a kept sandbox stays quiet.
  afterAll(async () => {
    const api = adminApi();
    for (const kind of ['VirtualMachine', 'VirtualMachineInstance']) {
      const list = await api.list('kubevirt.io/v1', kind, ns).catch(() => ({ items: [] as any[] }));
      for (const o of list.items) await api.delete({ apiVersion: 'kubevirt.io/v1', kind, metadata: { name: o.metadata!.name, namespace: ns } }).catch(() => undefined);
    }
  });

  it('gives a running VM a VMI, a launcher pod with Multus annotations, and statuses as KubeVirt reports them', async () => {
    const mac = '02:aa:bb:cc:00:01';
    const vm: any = await create(
      vmManifest(ns, 'basic', {
        labels: { app: 'web' },
        annotations: { 'example.com/note': 'kept' },
        interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, macAddress: mac }, { name: 'red', bridge: {} }],
        networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }, { name: 'red', multus: { networkName: 'other/red-net' } }],
      }),
    );
    const vmi = await runningVMI(ns, 'basic', (v) => (v.status.interfaces ?? []).length === 3);
    expect(vmi.metadata.ownerReferences).toEqual([{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name: 'basic', uid: vm.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(vmi.metadata.labels).toMatchObject({ app: 'web' });
    expect(vmi.metadata.annotations).toMatchObject({ 'example.com/note': 'kept' });
    expect(vmi.spec.domain.devices.interfaces.map((i: any) => i.name)).toEqual(['default', 'blue', 'red']);

    const pods = await launcherPods(ns);
    const pod = pods.find((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi.metadata.uid);
    expect(pod).toBeDefined();
    expect(pod.metadata.name).toMatch(/^virt-launcher-basic-[a-z0-9]{5}$/);
    expect(pod.metadata.labels).toMatchObject({ 'kubevirt.io': 'virt-launcher', 'vm.kubevirt.io/name': 'basic', app: 'web' });
    expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', name: 'basic', uid: vmi.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(pod.spec.nodeName).toBe(vmi.status.nodeName);
    expect(pod.status.phase).toBe('Running');
    // KubeVirt's networks annotation: mac only where the spec sets one; NAD namespace resolved.
    expect(JSON.parse(pod.metadata.annotations[NETWORKS])).toEqual([
      { name: 'blue-net', namespace: ns, mac, interface: podIface('blue') },
      { name: 'red-net', namespace: 'other', interface: podIface('red') },
    ]);
    expect(podIface('blue')).toBe('pod16477688c0e');
    const netStatus = JSON.parse(pod.metadata.annotations[NETWORK_STATUS]);
    expect(netStatus).toHaveLength(3);
    expect(netStatus[0]).toMatchObject({ interface: 'eth0', default: true, ips: [pod.status.podIP] });
    expect(netStatus[0].name).toBeTruthy();
    const blueNet = netStatus.find((e: any) => e.name === `${ns}/blue-net`);
    const redNet = netStatus.find((e: any) => e.name === 'other/red-net');
    expect(blueNet).toMatchObject({ interface: podIface('blue'), mac });
    expect(redNet.interface).toBe(podIface('red'));
    expect(blueNet.ips[0]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(blueNet.ips[0].split('.').slice(0, 3)).not.toEqual(redNet.ips[0].split('.').slice(0, 3));

    expect(vmi.status.activePods).toEqual({ [pod.metadata.uid]: pod.spec.nodeName });
    expect(vmi.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
    expect(statusOf(vmi, 'default')).toMatchObject({ infoSource: 'domain, guest-agent', interfaceName: 'eth0', podInterfaceName: 'eth0', ipAddress: pod.status.podIP, linkState: 'up' });
    expect(statusOf(vmi, 'blue')).toMatchObject({ infoSource: 'domain, guest-agent, multus-status', interfaceName: 'eth1', podInterfaceName: podIface('blue'), mac, ipAddresses: blueNet.ips, linkState: 'up' });
    // Bridge binding without a spec MAC: the guest gets the pod interface's (CNI) MAC.
    expect(statusOf(vmi, 'red')).toMatchObject({ infoSource: 'domain, guest-agent, multus-status', interfaceName: 'eth2', mac: redNet.mac });

    const vmAfter = await eventually(async () => {
      const v = await readVM(ns, 'basic');
      return v.status?.printableStatus === 'Running' ? v : null;
    });
    expect(vmAfter.status).toMatchObject({ created: true, ready: true, printableStatus: 'Running' });
  });

  it('adds the implicit default pod network (bridge, KubeVirt\'s built-in default) when the template has no interfaces and networks', async () => {
    await create(vmManifest(ns, 'implicit'));
    const vmi = await runningVMI(ns, 'implicit', (v) => Boolean(statusOf(v, 'default')));
    expect(vmi.spec.domain.devices.interfaces).toEqual([{ name: 'default', bridge: {} }]);
    expect(vmi.spec.networks).toEqual([{ name: 'default', pod: {} }]);
    expect(statusOf(vmi, 'default')).toMatchObject({ infoSource: 'domain, guest-agent', podInterfaceName: 'eth0' });
    const vm = await readVM(ns, 'implicit');
    expect(vm.spec.template.spec.networks).toBeUndefined();
    const pod = (await launcherPods(ns)).find((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi.metadata.uid);
    expect(pod.metadata.annotations[NETWORKS]).toBeUndefined();
    expect(JSON.parse(pod.metadata.annotations[NETWORK_STATUS])).toHaveLength(1);
  });

  it('walks a bridge hot-plug through attaching and ready, and does not propagate other bindings', async () => {
    await create(withBlue(ns, 'plug'));
    const before = await runningVMI(ns, 'plug', (v) => Boolean(statusOf(v, 'blue')));
    const rec = await record('virtualmachineinstances', ns, 'plug');
    await hotplug(ns, 'plug', { name: 'green', bridge: {} }, { name: 'green', multus: { networkName: 'green-net' } });
    await rec.until((v) => statusOf(v, 'green')?.infoSource === 'domain, guest-agent, multus-status');
    rec.stop();
    // In the VMI spec first, then attaching (multus-status), ready (domain), seen by the guest.
    expect(distinct(rec.versions, (v) => [v.spec.domain.devices.interfaces.some((i: any) => i.name === 'green'), statusOf(v, 'green')?.infoSource ?? null])).toEqual([
      [false, null],
      [true, null],
      [true, 'multus-status'],
      [true, 'domain, multus-status'],
      [true, 'domain, guest-agent, multus-status'],
    ]);
    const vmi = await readVMI(ns, 'plug');
    expect(vmi.metadata.uid).toBe(before.metadata.uid);
    expect(vmi.spec.domain.devices.interfaces.find((i: any) => i.name === 'green')).toEqual({ name: 'green', bridge: {} });
    expect(statusOf(vmi, 'green')).toMatchObject({ podInterfaceName: podIface('green'), interfaceName: 'eth2', linkState: 'up' });
    const pod = (await launcherPods(ns)).find((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi.metadata.uid);
    expect(JSON.parse(pod.metadata.annotations[NETWORKS]).map((e: any) => e.interface)).toEqual([podIface('blue'), podIface('green')]);
    const green = JSON.parse(pod.metadata.annotations[NETWORK_STATUS]).find((e: any) => e.interface === podIface('green'));
    expect(green.name).toBe(`${ns}/green-net`);
    expect(statusOf(vmi, 'green').mac).toBe(green.mac);

    // A binding plugin interface is not hot-pluggable: the VMI never gets it, the VM needs a restart.
    await hotplug(ns, 'plug', { name: 'pst', binding: { name: 'passt' } }, { name: 'pst', multus: { networkName: 'pst-net' } });
    const vm = await eventually(async () => {
      const v = await readVM(ns, 'plug');
      return (v.status?.conditions ?? []).some((c: any) => c.type === 'RestartRequired' && c.status === 'True') ? v : null;
    });
    expect(vm.status.conditions.find((c: any) => c.type === 'RestartRequired').message).toContain('non-live-updatable');
    expect((await readVMI(ns, 'plug')).spec.domain.devices.interfaces.map((i: any) => i.name)).toEqual(['default', 'blue', 'green']);
  });

  it('keeps guest-only interfaces someone adds to the VMI status while it is writing that status', async () => {
    await create(withBlue(ns, 'guestonly'));
    await runningVMI(ns, 'guestonly', (v) => Boolean(statusOf(v, 'blue')));
    const plug = hotplug(ns, 'guestonly', { name: 'green', bridge: {} }, { name: 'green', multus: { networkName: 'green-net' } });
    const added: string[] = [];
    for (let i = 0; i < 6; i++) {
      const name = `docker${i}`;
      await run(sandbox().kubectl, ['--kubeconfig', sandbox().kubeconfig, '-n', ns, 'patch', 'vmi', 'guestonly', '--type', 'json', '-p', JSON.stringify([{ op: 'add', path: '/status/interfaces/-', value: { interfaceName: name, mac: `02:42:ac:11:00:0${i}`, infoSource: 'guest-agent' } }])]);
      added.push(name);
      await new Promise((r) => setTimeout(r, 120));
    }
    await plug;
    const vmi = await runningVMI(ns, 'guestonly', (v) => statusOf(v, 'green')?.infoSource === 'domain, guest-agent, multus-status');
    const guestOnly = vmi.status.interfaces.filter((i: any) => !i.name).map((i: any) => i.interfaceName);
    expect(guestOnly).toEqual(added);
  });

  it('walks an unplug to detached, then removes the interface from the VMI status, the pod, the VMI spec and the VM template', async () => {
    await create(
      vmManifest(ns, 'unplug', {
        interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }, { name: 'gone', bridge: {} }],
        networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }, { name: 'gone', multus: { networkName: 'gone-net' } }],
      }),
    );
    const vmi0 = await runningVMI(ns, 'unplug', (v) => statusOf(v, 'gone')?.infoSource === 'domain, guest-agent, multus-status');
    const recVMI = await record('virtualmachineinstances', ns, 'unplug');
    const recVM = await record('virtualmachines', ns, 'unplug');
    await jsonPatchVM(ns, 'unplug', [
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces/2/name', value: 'gone' },
      { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/2/state', value: 'absent' },
    ]);
    await recVM.until((v) => !v.spec.template.spec.domain.devices.interfaces.some((i: any) => i.name === 'gone'));
    await recVMI.until((v) => !v.spec.domain.devices.interfaces.some((i: any) => i.name === 'gone'));
    recVM.stop();
    recVMI.stop();
    // The VMI: absent copied while in the domain (unplugging), out of the domain (detached),
    // gone from the status, and only then gone from the spec.
    const vmiSpecState = (v: any) => {
      const i = v.spec.domain.devices.interfaces.find((x: any) => x.name === 'gone');
      return i ? (i.state ?? 'up') : 'removed';
    };
    expect(distinct(recVMI.versions, (v) => [vmiSpecState(v), statusOf(v, 'gone')?.infoSource ?? 'removed'])).toEqual([
      ['up', 'domain, guest-agent, multus-status'],
      ['absent', 'domain, guest-agent, multus-status'],
      ['absent', 'multus-status'],
      ['absent', 'removed'],
      ['removed', 'removed'],
    ]);
    // The VM template: absent, then the interface and its network removed together, after the VMI.
    const vmSpecState = (v: any) => {
      const i = v.spec.template.spec.domain.devices.interfaces.find((x: any) => x.name === 'gone');
      return i ? (i.state ?? 'up') : 'removed';
    };
    expect(distinct(recVM.versions, (v) => [vmSpecState(v), v.spec.template.spec.networks.some((n: any) => n.name === 'gone')])).toEqual([
      ['up', true],
      ['absent', true],
      ['removed', false],
    ]);
    const vmiGoneRv = Number(recVMI.versions.find((v) => vmiSpecState(v) === 'removed').metadata.resourceVersion);
    const vmGoneRv = Number(recVM.versions.find((v) => !v.spec.template.spec.networks.some((n: any) => n.name === 'gone')).metadata.resourceVersion);
    // etcd revisions order writes across resources in this sandbox.
    expect(vmGoneRv).toBeGreaterThan(vmiGoneRv);
    const [vm, vmi] = await Promise.all([readVM(ns, 'unplug'), readVMI(ns, 'unplug')]);
    expect(vm.spec.template.spec.networks.map((n: any) => n.name)).toEqual(['default', 'blue']);
    expect(vmi.spec.networks.map((n: any) => n.name)).toEqual(['default', 'blue']);
    expect(vmi.metadata.uid).toBe(vmi0.metadata.uid);
    const pod = (await launcherPods(ns)).find((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi.metadata.uid);
    expect(pod.metadata.annotations[NETWORKS]).not.toContain(podIface('gone'));
    expect(pod.metadata.annotations[NETWORK_STATUS]).not.toContain(podIface('gone'));
    expect((vm.status.conditions ?? []).some((c: any) => c.type === 'RestartRequired')).toBe(false);
  });

  it('reports link state down and up after the template changes it', async () => {
    await create(withBlue(ns, 'link'));
    await runningVMI(ns, 'link', (v) => statusOf(v, 'blue')?.linkState === 'up');
    await jsonPatchVM(ns, 'link', [{ op: 'add', path: '/spec/template/spec/domain/devices/interfaces/1/state', value: 'down' }]);
    const vmi = await runningVMI(ns, 'link', (v) => statusOf(v, 'blue')?.linkState === 'down');
    expect(vmi.spec.domain.devices.interfaces[1].state).toBe('down');
    expect(statusOf(vmi, 'default').linkState).toBe('up');
    await jsonPatchVM(ns, 'link', [{ op: 'replace', path: '/spec/template/spec/domain/devices/interfaces/1/state', value: 'up' }]);
    await runningVMI(ns, 'link', (v) => statusOf(v, 'blue')?.linkState === 'up' && v.spec.domain.devices.interfaces[1].state === 'up');
  });

  it('stop deletes the VMI and its pods; start makes new ones; deleting the VMI restarts; deleting the VM cleans up', async () => {
    await create(withBlue(ns, 'life'));
    const first = await runningVMI(ns, 'life');
    await mergePatchVM(ns, 'life', { spec: { runStrategy: 'Halted' } });
    await eventually(async () => (await readVMI(ns, 'life').catch(() => null)) === null, 20_000, 'VMI deleted');
    await eventually(async () => !(await launcherPods(ns)).some((p) => p.metadata.labels['kubevirt.io/created-by'] === first.metadata.uid), 20_000, 'pods deleted');
    const stopped = await eventually(async () => {
      const v = await readVM(ns, 'life');
      return v.status?.printableStatus === 'Stopped' ? v : null;
    });
    expect(stopped.status.created).toBeUndefined();
    expect(stopped.status.ready).toBeUndefined();

    await mergePatchVM(ns, 'life', { spec: { runStrategy: 'Always' } });
    const second = await runningVMI(ns, 'life');
    expect(second.metadata.uid).not.toBe(first.metadata.uid);

    await adminApi().delete({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', metadata: { name: 'life', namespace: ns } });
    const third = await runningVMI(ns, 'life', (v) => v.metadata.uid !== second.metadata.uid);
    await eventually(async () => !(await launcherPods(ns)).some((p) => p.metadata.labels['kubevirt.io/created-by'] === second.metadata.uid), 20_000, 'old pods deleted');

    await adminApi().delete({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'life', namespace: ns } });
    await eventually(async () => (await readVMI(ns, 'life').catch(() => null)) === null, 20_000, 'VMI deleted with its VM');
    await eventually(async () => !(await launcherPods(ns)).some((p) => p.metadata.labels['kubevirt.io/created-by'] === third.metadata.uid), 20_000, 'pods deleted with the VM');
  });

  it('fails the VMI when its launcher pod vanishes, and an Always VM restarts after a back-off', async () => {
    await create(vmManifest(ns, 'vanish'));
    const first = await runningVMI(ns, 'vanish');
    const pod = (await launcherPods(ns)).find((p) => p.metadata.labels['kubevirt.io/created-by'] === first.metadata.uid);
    // Recorded by watch: the Failed VMI and CrashLoopBackOff last only the back-off (10 steps), too short to poll for safely.
    const vmis = await record('virtualmachineinstances', ns, 'vanish');
    const vms = await record('virtualmachines', ns, 'vanish');
    try {
      await adminApi().delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata.name, namespace: ns } });
      await vmis.until((v) => Boolean(v && v.metadata.uid !== first.metadata.uid && v.status?.phase === 'Running'), 40_000);
      const failed = vmis.versions.find((v) => v?.metadata.uid === first.metadata.uid && v.status?.phase === 'Failed');
      expect(failed, 'the first VMI was never Failed').toBeDefined();
      expect(failed.status.reason).toBe('PodVanished');
      expect(distinct(vms.versions, (v) => v?.status?.printableStatus)).toContain('CrashLoopBackOff');
    } finally {
      vmis.stop();
      vms.stop();
    }
    const second = await runningVMI(ns, 'vanish', (v) => v.metadata.uid !== first.metadata.uid, 30_000);
    expect(Object.keys(second.status.activePods)).not.toContain(pod.metadata.uid);
  });

  it('reports a netconf MAC only after a restart; the CNI keeps its own MAC', async () => {
    const want = '02:aa:00:00:00:42';
    await create(withBlue(ns, 'netconf'));
    const vmi1 = await runningVMI(ns, 'netconf', (v) => Boolean(statusOf(v, 'blue')?.mac));
    const macBefore = statusOf(vmi1, 'blue').mac;
    expect(macBefore).not.toBe(want);
    await mergePatchVM(ns, 'netconf', {
      spec: { template: { metadata: { annotations: { [HOOKS]: JSON.stringify([{ image: 'registry.example/netconf:v1' }]), [NETCONF]: JSON.stringify([{ name: 'blue', macAddress: want }]) } } } },
    });
    // Several steps later the running VMI is unchanged: annotations are read at start only.
    await new Promise((r) => setTimeout(r, 1500));
    const still = await readVMI(ns, 'netconf');
    expect(still.metadata.uid).toBe(vmi1.metadata.uid);
    expect(statusOf(still, 'blue').mac).toBe(macBefore);
    expect(still.metadata.annotations?.[NETCONF]).toBeUndefined();
    expect(((await readVM(ns, 'netconf')).status.conditions ?? []).some((c: any) => c.type === 'RestartRequired')).toBe(false);

    await mergePatchVM(ns, 'netconf', { spec: { runStrategy: 'Halted' } });
    await eventually(async () => (await readVMI(ns, 'netconf').catch(() => null)) === null, 20_000, 'VMI deleted');
    await mergePatchVM(ns, 'netconf', { spec: { runStrategy: 'Always' } });
    const vmi2 = await runningVMI(ns, 'netconf', (v) => v.metadata.uid !== vmi1.metadata.uid && Boolean(statusOf(v, 'blue')));
    expect(vmi2.metadata.annotations[NETCONF]).toBe(JSON.stringify([{ name: 'blue', macAddress: want }]));
    expect(statusOf(vmi2, 'blue').mac).toBe(want);
    const pod = (await launcherPods(ns)).find((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi2.metadata.uid);
    const entry = JSON.parse(pod.metadata.annotations[NETWORK_STATUS]).find((e: any) => e.interface === podIface('blue'));
    expect(entry.mac).not.toBe(want);
    expect(JSON.parse(pod.metadata.annotations[NETWORKS])[0].mac).toBeUndefined();
  });

  it('ignores a netconf annotation without a netconf hook sidecar, even a malformed one (nothing reads it)', async () => {
    await create(withBlue(ns, 'nosidecar', { annotations: { [NETCONF]: JSON.stringify([{ name: 'blue', macAddress: '02:aa:00:00:00:43' }]) } }));
    const vmi = await runningVMI(ns, 'nosidecar', (v) => Boolean(statusOf(v, 'blue')?.mac));
    expect(statusOf(vmi, 'blue').mac).not.toBe('02:aa:00:00:00:43');
    await create(withBlue(ns, 'nosidecarbad', { annotations: { [NETCONF]: '[{"name":"blue","macAddress":' } }));
    const vmi2 = await runningVMI(ns, 'nosidecarbad', (v) => Boolean(statusOf(v, 'blue')?.mac));
    expect(vmi2.status.phase).toBe('Running');
  });

  it('fails the VMI (not itself) on a malformed netconf annotation, and keeps serving other VMs', async () => {
    await create(withBlue(ns, 'badnetconf', { annotations: { [HOOKS]: '[{"image":"registry.example/netconf:v1"}]', [NETCONF]: '[{"name":"blue","macAddress":' } }));
    const failed = await eventually(async () => {
      const v = await readVMI(ns, 'badnetconf').catch(() => null);
      return v?.status?.phase === 'Failed' ? v : null;
    });
    expect(failed.status.reason).toBeTruthy();
    expect(failed.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'False' });
    expect(failed.status.conditions.find((c: any) => c.type === 'Ready').message).toContain(NETCONF);
    await create(withBlue(ns, 'afterbad'));
    await runningVMI(ns, 'afterbad', (v) => Boolean(statusOf(v, 'blue')));
  });

  it('survives bad input: a malformed hook list (no pod, Synchronized False), odd networks, garbage annotations', async () => {
    await create(vmManifest(ns, 'badhooks', { annotations: { [HOOKS]: 'nope' } }));
    const pendingVMI = await eventually(async () => {
      const v = await readVMI(ns, 'badhooks').catch(() => null);
      return (v?.status?.conditions ?? []).some((c: any) => c.type === 'Synchronized' && c.status === 'False' && c.reason === 'FailedCreate') ? v : null;
    });
    expect(pendingVMI.status.phase).toBe('Pending');
    expect((await launcherPods(ns)).some((p) => p.metadata.labels['kubevirt.io/created-by'] === pendingVMI.metadata.uid)).toBe(false);

    await create(
      vmManifest(ns, 'odd', {
        interfaces: [{ name: 'a', bridge: {} }, { name: 'nonet', bridge: {} }, { name: 'b', sriov: {}, state: 'down' }],
        networks: [{ name: 'a', multus: { networkName: 'x/y/z' } }, { name: 'b', multus: { networkName: '' } }, { name: 'orphan', pod: {} }],
      }),
    );
    await runningVMI(ns, 'odd');
    await create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'not-a-launcher', namespace: ns, labels: { 'kubevirt.io': 'virt-launcher', 'kubevirt.io/created-by': 'nobody' }, annotations: { [NETWORK_STATUS]: '[[[' } },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    });
    await create(withBlue(ns, 'garbage'));
    const vmi = await runningVMI(ns, 'garbage', (v) => Boolean(statusOf(v, 'blue')));
    const pod = (await launcherPods(ns)).find((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi.metadata.uid);
    await adminApi().patch({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata.name, namespace: ns, annotations: { [NETWORK_STATUS]: '{not json' } } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    // Still alive and working: a hot-plug on the VM with the garbage annotation and a fresh VM.
    await hotplug(ns, 'garbage', { name: 'late', bridge: {} }, { name: 'late', multus: { networkName: 'late-net' } });
    await runningVMI(ns, 'garbage', (v) => statusOf(v, 'late')?.infoSource === 'domain, guest-agent, multus-status');
    await create(vmManifest(ns, 'stillok'));
    await runningVMI(ns, 'stillok');
    expect((await launcherPods(ns)).some((p) => p.metadata.name === 'not-a-launcher')).toBe(true);
    const simPid = Number(fs.readFileSync(path.join(sandbox().dir, 'simulator.pid'), 'utf8'));
    expect(() => process.kill(simPid, 0)).not.toThrow();
  });

  it('gives a standalone VMI (no VM) the implicit default network, a launcher pod and a status', async () => {
    await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'solo', namespace: ns },
      spec: { domain: { devices: {}, resources: { requests: { memory: '64Mi' } } } },
    });
    const vmi = await runningVMI(ns, 'solo', (v) => Boolean(statusOf(v, 'default')));
    expect(vmi.spec.networks).toEqual([{ name: 'default', pod: {} }]);
    const pod = (await launcherPods(ns)).find((p) => p.metadata.labels['kubevirt.io/created-by'] === vmi.metadata.uid);
    expect(pod.status.phase).toBe('Running');
    expect(pod.metadata.ownerReferences[0]).toMatchObject({ kind: 'VirtualMachineInstance', name: 'solo', uid: vmi.metadata.uid });
  });

  it('leaves objects annotated sim.kubectl-vnet.io/ignore alone', async () => {
    const vm = withBlue(ns, 'ignored') as any;
    vm.metadata.annotations = { 'sim.kubectl-vnet.io/ignore': 'true' };
    await create(vm);
    await create(withBlue(ns, 'noticed'));
    await runningVMI(ns, 'noticed');
    expect(await readVMI(ns, 'ignored').catch(() => null)).toBeNull();
  });

  it('leaves hand-seeded states alone: a Manual VM and a VMI stored with a status it did not start', async () => {
    const vm: any = await create(withBlue(ns, 'seeded', { runStrategy: 'Manual' }));
    const absentTemplate = structuredClone(vm.spec.template.spec);
    absentTemplate.domain.devices.interfaces[1].state = 'absent';
    await mergePatchVM(ns, 'seeded', { spec: { template: { spec: absentTemplate } } });
    const vmi: any = await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'seeded', namespace: ns, ownerReferences: [{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name: 'seeded', uid: vm.metadata.uid, controller: true }] },
      spec: vm.spec.template.spec,
      status: { phase: 'Running', nodeName: 'node01', interfaces: [{ name: 'blue', infoSource: 'multus-status', podInterfaceName: podIface('blue') }] },
    });
    const solo: any = await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'seeded-solo', namespace: ns },
      spec: { domain: { devices: {} } },
      status: { phase: 'Running', nodeName: 'node09' },
    });
    const vmRv = (await readVM(ns, 'seeded')).metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await readVM(ns, 'seeded')).metadata.resourceVersion).toBe(vmRv);
    expect((await readVMI(ns, 'seeded')).metadata.resourceVersion).toBe(vmi.metadata.resourceVersion);
    expect((await readVMI(ns, 'seeded-solo')).metadata.resourceVersion).toBe(solo.metadata.resourceVersion);
    expect((await launcherPods(ns)).some((p) => [vmi.metadata.uid, solo.metadata.uid].includes(p.metadata.labels['kubevirt.io/created-by']))).toBe(false);
  });

  it('keeps ten concurrent hot-plugs on one VM while it edits that VM itself (unplug clean-up)', async () => {
    const base = Array.from({ length: 3 }, (_, i) => `old${i}`);
    await create(
      vmManifest(ns, 'busy', {
        interfaces: [{ name: 'default', masquerade: {} }, ...base.map((n) => ({ name: n, bridge: {} }))],
        networks: [{ name: 'default', pod: {} }, ...base.map((n) => ({ name: n, multus: { networkName: 'net-' + n } }))],
      }),
    );
    await runningVMI(ns, 'busy', (v) => base.every((n) => statusOf(v, n)?.infoSource === 'domain, guest-agent, multus-status'));
    // Unplug all three: the simulator will remove them from the template while the hot-plugs land.
    await jsonPatchVM(ns, 'busy', base.map((_, i) => ({ op: 'add', path: `/spec/template/spec/domain/devices/interfaces/${i + 1}/state`, value: 'absent' })));
    const added = Array.from({ length: 10 }, (_, i) => `new${i}`);
    await Promise.all(added.map((n) => hotplug(ns, 'busy', { name: n, bridge: {} }, { name: n, multus: { networkName: 'net-' + n } })));
    const vmi = await runningVMI(ns, 'busy', (v) => added.every((n) => statusOf(v, n)?.infoSource === 'domain, guest-agent, multus-status') && base.every((n) => !statusOf(v, n)), 40_000);
    const vm = await eventually(async () => {
      const v = await readVM(ns, 'busy');
      return v.spec.template.spec.domain.devices.interfaces.length === 11 ? v : null;
    });
    expect(vm.spec.template.spec.domain.devices.interfaces.map((i: any) => i.name).sort()).toEqual(['default', ...added].sort());
    expect(vm.spec.template.spec.networks.map((n: any) => n.name).sort()).toEqual(['default', ...added].sort());
    expect(vmi.spec.domain.devices.interfaces.map((i: any) => i.name).sort()).toEqual(['default', ...added].sort());
    const eths = vmi.status.interfaces.map((i: any) => i.interfaceName);
    expect(new Set(eths).size).toBe(eths.length);
  }, 120_000);
});

describe('SR-IOV hot-plug needs a migration (a private sandbox, so the KubeVirt CR is ours)', () => {
  let dir: string;
  let api: KubernetesObjectApi;
  let kubeconfig: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-sim-sriov-'));
    // Watches that the server ends every second: the simulator must keep watching again.
    const sb = await up({ dir, simulate: true, simulatorArgs: ['--step-ms', '200', '--watch-timeout', '1'] });
    kubeconfig = sb.kubeconfig;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    api = KubernetesObjectApi.makeApiClient(kc);
  }, 180_000);
  afterAll(async () => {
    if (dir) {
      await down({ dir });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const kv = (methods: string[]) => ({ apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: { workloadUpdateStrategy: { workloadUpdateMethods: methods } } });
  const read = (ns: string, name: string) => api.read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', metadata: { name, namespace: ns } } as any) as Promise<any>;

  it('sets MigrationRequired, migrates only once the KubeVirt CR allows LiveMigrate, then plugs the VF', async () => {
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubevirt' } }).catch(() => undefined);
    await api.create(kv(['Evict']) as any);
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sr' } });
    await api.create(withBlue('sr', 'vf') as any);
    const vmi0 = await eventually(async () => {
      const v = await read('sr', 'vf').catch(() => null);
      return v?.status?.phase === 'Running' ? v : null;
    });
    const node0 = vmi0.status.nodeName;
    const pod0 = Object.keys(vmi0.status.activePods)[0];
    const readVMHere = (n: string, name: string) => api.read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace: n } } as any) as Promise<any>;
    await hotplug('sr', 'vf', { name: 'vf1', sriov: {} }, { name: 'vf1', multus: { networkName: 'sriov-net' } }, kubeconfig, readVMHere);
    const pending = await eventually(async () => {
      const v = await read('sr', 'vf');
      return (v.status.conditions ?? []).find((c: any) => c.type === 'MigrationRequired') ? v : null;
    });
    expect(pending.status.conditions.find((c: any) => c.type === 'MigrationRequired')).toMatchObject({ status: 'True', reason: 'AutoMigrationPending' });
    expect(pending.spec.domain.devices.interfaces.map((i: any) => i.name)).toContain('vf1');
    // Without LiveMigrate nothing migrates and the VF is not plugged.
    await new Promise((r) => setTimeout(r, 1200));
    const waiting = await read('sr', 'vf');
    expect(waiting.status.migrationState).toBeUndefined();
    expect(waiting.status.nodeName).toBe(node0);
    expect((waiting.status.interfaces ?? []).find((i: any) => i.name === 'vf1')).toBeUndefined();

    await api.patch({ ...kv(['LiveMigrate']) } as any, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    const seenMigrating = await eventually(async () => {
      const v = await read('sr', 'vf');
      return v.status.migrationState ? v : null;
    });
    expect(seenMigrating.status.migrationState).toMatchObject({ sourcePod: expect.stringMatching(/^virt-launcher-vf-/), targetPod: expect.stringMatching(/^virt-launcher-vf-/), sourceNode: node0 });
    const done = await eventually(async () => {
      const v = await read('sr', 'vf');
      const s = (v.status.interfaces ?? []).find((i: any) => i.name === 'vf1');
      return v.status.migrationState?.completed && s?.infoSource === 'domain, guest-agent, multus-status' ? v : null;
    });
    expect(done.status.nodeName).toBe(done.status.migrationState.targetNode);
    expect(done.status.nodeName).not.toBe(node0);
    expect(done.status.conditions.find((c: any) => c.type === 'MigrationRequired')).toBeUndefined();
    expect(Object.keys(done.status.activePods)).not.toContain(pod0);
    const pods = (await api.list('v1', 'Pod', 'sr', undefined, undefined, undefined, undefined, 'kubevirt.io=virt-launcher')).items as any[];
    expect(pods.map((p) => p.metadata.name)).toEqual([done.status.migrationState.targetPod]);
    expect(pods[0].spec.nodeName).toBe(done.status.nodeName);
    const vfNet = JSON.parse(pods[0].metadata.annotations[NETWORK_STATUS]).find((e: any) => e.interface === podIface('vf1'));
    expect(vfNet.name).toBe('sr/sriov-net');
    expect(vfNet['device-info']?.type).toBe('pci');
    const log = fs.readFileSync(path.join(dir, 'simulator.log'), 'utf8');
    expect(log).toMatch(/virtualmachineinstances: watch ended by the server, watching again/);
    expect(log).toMatch(/launcher pods: watch ended by the server, watching again/);
  });
});
