// kubectl vnet status on VMs driven by the KubeVirt network simulator
// (test/simulator, started by the global set-up with --step-ms 300): VMs
// with runStrategy Always, templates patched as a user (or kubectl vnet
// hotplug) would, states observed as they change. The observer (the same
// join the CLI runs, on objects watched with an independent client) records
// every state an interface walks through; the CLI is then checked on the
// settled result.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { adminApi, create, freshNamespace, repoRoot, runCli, sandbox } from '../support/cluster.js';
import { joinVMNetworkStatus, type VMNetworkStatus } from '../../src/domain/status.js';

const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas', 'vm-network-status.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function kubectl(args: string[]): string {
  return execFileSync(sandbox().kubectl, ['--kubeconfig', sandbox().kubeconfig, ...args], { encoding: 'utf8' });
}

/** Patches the VM; returns the resourceVersion of the write. */
function jsonPatch(ns: string, name: string, ops: unknown[]): string {
  return kubectl(['patch', 'vm', name, '-n', ns, '--type=json', '-p', JSON.stringify(ops), '-o', 'jsonpath={.metadata.resourceVersion}']).trim();
}

async function snapshot(ns: string, name: string): Promise<VMNetworkStatus> {
  const api = adminApi();
  const get = async (apiVersion: string, kind: string) => {
    try {
      return (await api.read({ apiVersion, kind, metadata: { name, namespace: ns } })) as any;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  };
  // One round trip (three reads in parallel), so a 300 ms simulator step is not missed; the join picks the VMI's pods.
  const [vm, vmi, podList] = await Promise.all([
    get('kubevirt.io/v1', 'VirtualMachine'),
    get('kubevirt.io/v1', 'VirtualMachineInstance'),
    api.list('v1', 'Pod', ns, undefined, undefined, undefined, undefined, 'kubevirt.io=virt-launcher'),
  ]);
  const pods = vmi ? (podList.items as any[]) : [];
  return joinVMNetworkStatus({ vm, vmi, pods });
}

interface Observed {
  last: VMNetworkStatus;
  /** Each interface's distinct states, in order (from `act`'s write on, when there is one). */
  seen: Record<string, string[]>;
  /** Each warning code, with the status in which it first showed. */
  firstWarned: Map<string, VMNetworkStatus>;
}

/**
 * Records every state the VM's interfaces walk through until `done` holds. Watches on the VM, its VMI and
 * the namespace's launcher pods say WHEN something changed (the resourceVersion of each write: one etcd,
 * so one order); what the status was then is read as a consistent snapshot of all three AT that revision
 * (resourceVersionMatch=Exact) and joined as the CLI joins it. So no state is missed however briefly it
 * lasts, and no mix of objects from different moments is ever seen, however late one stream is
 * delivered: the states are put in revision order at the end. With `act`, the watches are open before
 * the action, and states are recorded from the action's own write on.
 */
async function watchStates(ns: string, name: string, done: (s: VMNetworkStatus) => boolean, opts: { act?: () => string; timeoutMs?: number } = {}): Promise<Observed> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox().kubeconfig);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const byName = `metadata.name=${name}`;
  const launcher = 'kubevirt.io=virt-launcher';
  const listVMs = (plural: string, rv?: string) =>
    custom.listNamespacedCustomObject({ group: 'kubevirt.io', version: 'v1', namespace: ns, plural, fieldSelector: byName, ...(rv ? { resourceVersion: rv, resourceVersionMatch: 'Exact' } : {}) }) as Promise<any>;
  const snapshots = new Map<number, VMNetworkStatus>();
  const at = async (rv: number): Promise<VMNetworkStatus> => {
    const cached = snapshots.get(rv);
    if (cached) return cached;
    const exact = { resourceVersion: String(rv), resourceVersionMatch: 'Exact' };
    const [vms, vmis, pods] = await Promise.all([listVMs('virtualmachines', String(rv)), listVMs('virtualmachineinstances', String(rv)), core.listNamespacedPod({ namespace: ns, labelSelector: launcher, ...exact })]);
    const vmi = vmis.items[0] ?? null;
    const s = joinVMNetworkStatus({ vm: vms.items[0] ?? null, vmi, pods: vmi ? (pods.items as any[]) : [] });
    snapshots.set(rv, s);
    return s;
  };

  // The revision to start from, and the status then.
  const start = Number((await listVMs('virtualmachines')).metadata.resourceVersion);
  let last = await at(start);
  if (!opts.act && done(last)) return history(start, start);

  const changed = new Set<number>();
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  const controllers: AbortController[] = [];
  const watch = async (path: string, query: Record<string, string>) => {
    const w = new Watch(kc);
    // client-node ends a quiet stream after 30 s by default; the field is private in its types.
    (w as unknown as { requestTimeoutMs: number }).requestTimeoutMs = timeoutMs + 30_000;
    controllers.push(
      await w.watch(path, { ...query, resourceVersion: String(start) }, (type, obj) => {
        if (type === 'BOOKMARK') return;
        if (type === 'ERROR') failed ??= new Error(`watch ${path}: ${obj?.message ?? JSON.stringify(obj)}`);
        else changed.add(Number(obj.metadata.resourceVersion));
        wake?.();
      }, (err) => {
        if (err && !failed) failed = new Error(`watch ${path} ended: ${err.message ?? err}`);
        wake?.();
      }),
    );
  };
  try {
    await Promise.all([
      watch(`/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines`, { fieldSelector: byName }),
      watch(`/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`, { fieldSelector: byName }),
      watch(`/api/v1/namespaces/${ns}/pods`, { labelSelector: launcher }),
    ]);
    const from = opts.act ? Number(opts.act()) : start;
    if (!Number.isSafeInteger(from) || from <= 0) throw new Error(`act returned no resourceVersion (${from})`);
    const deadline = Date.now() + timeoutMs;
    const processed = new Set<number>();
    for (;;) {
      if (failed) throw failed;
      const next = [...changed].filter((rv) => !processed.has(rv) && rv >= from).sort((a, b) => a - b)[0];
      if (next === undefined) {
        if (Date.now() > deadline) {
          const h = history(from, Math.max(from, ...processed));
          throw new Error(`timed out; states seen: ${JSON.stringify(h.seen)}; last: ${JSON.stringify(last.interfaces.map((i) => [i.name, i.state]))}`);
        }
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
        continue;
      }
      processed.add(next);
      last = await at(next);
      if (done(last)) {
        // A stream delivered late may still hold earlier revisions: let them arrive, then read them too.
        await new Promise((r) => setTimeout(r, 300));
        for (const rv of changed) if (rv >= from && rv < next) await at(rv);
        return history(from, next);
      }
    }
  } finally {
    for (const c of controllers) c.abort();
  }

  /** The snapshots from revision `from` to `to`, in revision order: states and first warnings. */
  function history(from: number, to: number): Observed {
    const seen: Record<string, string[]> = {};
    const firstWarned = new Map<string, VMNetworkStatus>();
    for (const [, s] of [...snapshots].filter(([rv]) => rv >= from && rv <= to).sort(([a], [b]) => a - b)) {
      for (const w of s.warnings) if (!firstWarned.has(w.code)) firstWarned.set(w.code, s);
      for (const i of s.interfaces) {
        const l = (seen[i.name] ??= []);
        if (l[l.length - 1] !== i.state) l.push(i.state);
      }
    }
    return { last: snapshots.get(to) ?? last, seen, firstWarned };
  }
}

const stateOf = (s: VMNetworkStatus, n: string) => s.interfaces.find((i) => i.name === n)?.state;

async function cliStatus(ns: string, name: string): Promise<VMNetworkStatus> {
  const r = await runCli(['status', name, '-n', ns, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout);
  validate(doc);
  expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
  return doc;
}

function vmObject(ns: string, name: string, opts: { runStrategy?: string; annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: ns },
    spec: {
      runStrategy: opts.runStrategy ?? 'Always',
      template: {
        metadata: { annotations: opts.annotations ?? {} },
        spec: {
          domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] }, resources: { requests: { memory: '128Mi' } } },
          networks: [{ name: 'default', pod: {} }],
        },
      },
    },
  };
}

const addIface = (iface: Record<string, unknown>, network: Record<string, unknown>) => [
  { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/-', value: iface },
  { op: 'add', path: '/spec/template/spec/networks/-', value: network },
];

describe('status driven by the simulator', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace('vnet-status-sim');
    for (const [name, type] of [['blue', 'bridge'], ['sriov-net', 'sriov']]) {
      await create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name, namespace: ns }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', name, type }) } } as any);
    }
  });

  it('stopped, then started: stopped -> ready on the pod network', async () => {
    await create(vmObject(ns, 'halted', { runStrategy: 'Halted' }) as any);
    let doc = await cliStatus(ns, 'halted');
    expect(doc).toMatchObject({ running: false, launcherPod: null });
    expect(doc.interfaces.map((i) => [i.name, i.state])).toEqual([['default', 'stopped']]);
    kubectl(['patch', 'vm', 'halted', '-n', ns, '--type=merge', '-p', '{"spec":{"runStrategy":"Always"}}']);
    await watchStates(ns, 'halted', (s) => s.running && stateOf(s, 'default') === 'ready');
    doc = await cliStatus(ns, 'halted');
    expect(doc.running).toBe(true);
    expect(doc.launcherPod).toMatch(/^virt-launcher-halted-/);
    const d = doc.interfaces[0];
    expect(d).toMatchObject({ name: 'default', binding: 'masquerade', network: 'pod', state: 'ready', podInterface: 'eth0' });
    expect(d.multus).toMatchObject({ interface: 'eth0' });
  });

  it('hot-plug a bridge NIC: pending -> attaching -> ready; link down; unplug: unplugging -> detached -> gone', async () => {
    await create(vmObject(ns, 'web') as any);
    await watchStates(ns, 'web', (s) => s.running && stateOf(s, 'default') === 'ready');
    const plug = await watchStates(ns, 'web', (s) => stateOf(s, 'blue') === 'ready', {
      act: () => jsonPatch(ns, 'web', addIface({ name: 'blue', bridge: {}, macAddress: '02:00:00:00:0b:01' }, { name: 'blue', multus: { networkName: 'blue' } })),
    });
    expect(plug.seen.blue).toEqual(['pending', 'attaching', 'ready']);
    let doc = await cliStatus(ns, 'web');
    const blue = doc.interfaces.find((i) => i.name === 'blue')!;
    expect(blue).toMatchObject({ binding: 'bridge', network: `${ns}/blue`, state: 'ready', mac: '02:00:00:00:0b:01', podInterface: 'pod16477688c0e', linkState: 'up' });
    expect(blue.multus).toMatchObject({ name: `${ns}/blue`, interface: 'pod16477688c0e' });
    expect(blue.infoSource).toContain('domain');
    expect(doc.warnings).toEqual([]);

    // Link down is reported as the link state; the interface stays ready.
    const vm = JSON.parse(kubectl(['get', 'vm', 'web', '-n', ns, '-o', 'json']));
    const idx = vm.spec.template.spec.domain.devices.interfaces.findIndex((i: any) => i.name === 'blue');
    jsonPatch(ns, 'web', [{ op: 'test', path: `/spec/template/spec/domain/devices/interfaces/${idx}/name`, value: 'blue' }, { op: 'add', path: `/spec/template/spec/domain/devices/interfaces/${idx}/state`, value: 'down' }]);
    await watchStates(ns, 'web', (s) => s.interfaces.find((i) => i.name === 'blue')?.linkState === 'down');
    const t = await runCli(['status', 'web', '-n', ns]);
    expect(t.stdout).toMatch(/^web\s+blue\s+bridge\s+\S+\/blue\s+ready\s+down\s+02:00:00:00:0b:01\s/m);

    // Unplug: state absent.
    const unplug = await watchStates(ns, 'web', (s) => !s.interfaces.some((i) => i.name === 'blue'), {
      act: () => jsonPatch(ns, 'web', [{ op: 'test', path: `/spec/template/spec/domain/devices/interfaces/${idx}/name`, value: 'blue' }, { op: 'replace', path: `/spec/template/spec/domain/devices/interfaces/${idx}/state`, value: 'absent' }]),
    });
    expect(unplug.seen.blue).toEqual(['unplugging', 'detached']);
    doc = await cliStatus(ns, 'web');
    expect(doc.interfaces.map((i) => i.name)).toEqual(['default']);
  });

  it('an interface only the guest agent reports: guest-only', async () => {
    await create(vmObject(ns, 'guest') as any);
    await watchStates(ns, 'guest', (s) => s.running && stateOf(s, 'default') === 'ready');
    // The guest makes a NIC of its own (a bridge, a VPN); virt-handler reports it from the guest agent with
    // no spec name. (The node side's guest stands in for the guest OS: the annotation says what it has.)
    kubectl(['annotate', 'vmi', 'guest', '-n', ns, `sim.kubectl-vnet.io/guest-interfaces=${JSON.stringify([{ interfaceName: 'docker0', mac: '02:42:ac:11:00:01', ipAddresses: ['172.17.0.1'] }])}`]);
    await watchStates(ns, 'guest', (s) => s.interfaces.some((i) => i.state === 'guest-only'));
    const doc = await cliStatus(ns, 'guest');
    expect(doc.interfaces.map((i) => [i.name, i.state, i.guestInterface])).toEqual([['default', 'ready', 'eth0'], ['', 'guest-only', 'docker0']]);
    const t = await runCli(['status', 'guest', '-n', ns]);
    expect(t.stdout).toMatch(/^guest\s+<none>\s+<none>\s+<none>\s+guest-only\s+<none>\s+02:42:ac:11:00:01\s+172\.17\.0\.1\s+docker0$/m);
  });

  it('removing an interface from the template without an unplug: stale, with RestartRequired', async () => {
    // The interface is there from the start: KubeVirt compares the template with the spec the VMI started
    // from (its start revision), so removing one that was hot-plugged later returns the template to that
    // spec and KubeVirt asks for no restart.
    const vm = vmObject(ns, 'stale');
    vm.spec.template.spec.domain.devices.interfaces.push({ name: 'blue', bridge: {} } as any);
    vm.spec.template.spec.networks.push({ name: 'blue', multus: { networkName: 'blue' } } as any);
    await create(vm as any);
    await watchStates(ns, 'stale', (s) => stateOf(s, 'blue') === 'ready');
    jsonPatch(ns, 'stale', [
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces/1/name', value: 'blue' },
      { op: 'remove', path: '/spec/template/spec/domain/devices/interfaces/1' },
      { op: 'test', path: '/spec/template/spec/networks/1/name', value: 'blue' },
      { op: 'remove', path: '/spec/template/spec/networks/1' },
    ]);
    await watchStates(ns, 'stale', (s) => stateOf(s, 'blue') === 'stale' && s.warnings.some((w) => w.code === 'restart-required'));
    const doc = await cliStatus(ns, 'stale');
    expect(doc.interfaces.find((i) => i.name === 'blue')).toMatchObject({ state: 'stale', network: `${ns}/blue`, binding: 'bridge' });
    expect(doc.warnings.map((w) => w.code)).toContain('restart-required');
    const t = await runCli(['status', 'stale', '-n', ns]);
    expect(t.stderr).toMatch(/Warning: .*\/stale: VM condition RestartRequired/);
  });

  it('hot-plug SR-IOV: pending with MigrationRequired, a migration, attaching, ready on the target pod', async () => {
    await create(vmObject(ns, 'sr') as any);
    const first = await watchStates(ns, 'sr', (s) => s.running && stateOf(s, 'default') === 'ready');
    const sourcePod = first.last.launcherPod;
    // One watch from the hot-plug until the VF is ready on the target pod: every step is seen, however
    // briefly it lasts (the migration takes one 300 ms simulator step). The in-progress view (source pod
    // until the target runs, then the target) is tested in detail with seeded objects in status.test.ts.
    const done = await watchStates(ns, 'sr', (s) => stateOf(s, 'sriov1') === 'ready' && !s.warnings.some((w) => w.code === 'migrating'), {
      act: () => jsonPatch(ns, 'sr', addIface({ name: 'sriov1', sriov: {} }, { name: 'sriov1', multus: { networkName: 'sriov-net' } })),
      timeoutMs: 45_000,
    });
    const mr = done.firstWarned.get('migration-required')!;
    expect(mr, 'MigrationRequired was never reported').toBeDefined();
    expect(stateOf(mr, 'sriov1')).toBe('pending');
    expect(mr.warnings.find((w) => w.code === 'migration-required')!.message).toMatch(/^VMI condition MigrationRequired \(AutoMigration\w+\)/);
    const migrating = done.firstWarned.get('migrating')!;
    expect(migrating, 'the migration was never reported').toBeDefined();
    const targetPod = done.last.launcherPod;
    expect(migrating.warnings.find((w) => w.code === 'migrating')!.message).toMatch(new RegExp(`^migration in progress from pod ${sourcePod} to pod ${targetPod} \\(node node0\\d\\); showing the (source|target) pod's attachments$`));
    const vmi = JSON.parse(kubectl(['get', 'vmi', 'sr', '-n', ns, '-o', 'json']));
    expect(vmi.status.migrationState).toMatchObject({ sourcePod: sourcePod, completed: true });
    expect(done.last.launcherPod).toBe(vmi.status.migrationState.targetPod);
    expect(done.seen.sriov1).toEqual(['pending', 'attaching', 'ready']);
    expect(done.last.launcherPod).not.toBe(sourcePod);
    const doc = await cliStatus(ns, 'sr');
    expect(doc.launcherPod).toBe(done.last.launcherPod);
    const sr = doc.interfaces.find((i) => i.name === 'sriov1')!;
    expect(sr).toMatchObject({ binding: 'sriov', state: 'ready', podInterface: 'podb532bee5923' });
    expect(sr.multus).toMatchObject({ name: `${ns}/sriov-net`, interface: 'podb532bee5923' });
    expect(doc.warnings).toEqual([]);
  });

  it('a netconf MAC: mismatch warning until the VM restarts, then applied', async () => {
    const netconf = JSON.stringify([{ name: 'blue', macAddress: '02:aa:bb:cc:dd:01' }]);
    const vm = vmObject(ns, 'nc');
    vm.spec.template.spec.domain.devices.interfaces.push({ name: 'blue', bridge: {} } as any);
    vm.spec.template.spec.networks.push({ name: 'blue', multus: { networkName: 'blue' } } as any);
    await create(vm as any);
    await watchStates(ns, 'nc', (s) => stateOf(s, 'blue') === 'ready');
    const hooks = JSON.stringify([{ image: 'registry.example/netconf-hook-sidecar:v1' }]);
    kubectl(['patch', 'vm', 'nc', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { template: { metadata: { annotations: { 'netconf.kubevirt.io/macAddress': netconf, 'hooks.kubevirt.io/hookSidecars': hooks } } } } })]);
    let doc = await cliStatus(ns, 'nc');
    let blue = doc.interfaces.find((i) => i.name === 'blue')!;
    expect(blue).toMatchObject({ desiredMac: '02:aa:bb:cc:dd:01', desiredMacSource: 'netconf' });
    expect(blue.mac).not.toBe('02:aa:bb:cc:dd:01');
    expect(doc.warnings.find((w) => w.code === 'mac-mismatch')!.message).toMatch(/interface blue: desired MAC 02:aa:bb:cc:dd:01 \(netconf\) differs from the reported MAC .*stop and start the VM/);
    // Stop and start.
    const oldUid = (await snapshot(ns, 'nc')).launcherPod;
    kubectl(['patch', 'vm', 'nc', '-n', ns, '--type=merge', '-p', '{"spec":{"runStrategy":"Halted"}}']);
    await watchStates(ns, 'nc', (s) => stateOf(s, 'blue') === 'stopped');
    kubectl(['patch', 'vm', 'nc', '-n', ns, '--type=merge', '-p', '{"spec":{"runStrategy":"Always"}}']);
    await watchStates(ns, 'nc', (s) => stateOf(s, 'blue') === 'ready' && s.launcherPod !== oldUid);
    doc = await cliStatus(ns, 'nc');
    blue = doc.interfaces.find((i) => i.name === 'blue')!;
    expect(blue.mac).toBe('02:aa:bb:cc:dd:01');
    expect(doc.warnings.filter((w) => w.code === 'mac-mismatch')).toEqual([]);
  });
});
