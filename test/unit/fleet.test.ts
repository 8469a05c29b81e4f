import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { VnetError } from '../../src/errors.js';
import { planHotplugOnce, planUnplugOnce } from '../../src/domain/hotplug.js';
import { fleetSelection } from '../../src/cli/edit-command.js';
import { waitForFleet } from '../../src/kube/fleet-wait.js';
import { hashedPodInterfaceName } from '../../src/domain/vmspec.js';
import { createFleetProgress, renderFleetLine, renderFleetList, renderFleetSummary } from '../../src/render/fleet.js';
import { vnet } from '../support/in-process.js';
import { refusalOf, testVM, testVMI } from '../support/vm.js';
import { countOutcomes, editFleetLive, fleetBucket, fleetExit, isFleetSharedPath, knownFromCaches, primedReads, rateLimited, resultOfError, runFleet, sharingReads, TokenBucket, type FleetResult, type FleetVM } from '../../src/core/fleet.js';
import type { KubeApi } from '../../src/kube/api.js';

const vms = (n: number): FleetVM[] => Array.from({ length: n }, (_, i) => ({ namespace: 'ns', name: `vm${i}` }));
const patched = (vm: FleetVM): FleetResult => ({ ...vm, outcome: 'patched', message: 'ok' });
const tick = () => new Promise<void>((r) => setImmediate(r));

/** A clock the test moves by hand; sleeps resolve when it passes their time. */
function fakeClock() {
  let now = 0;
  const sleepers: { at: number; wake: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ at: now + ms, wake })),
    advance(ms: number) {
      now += ms;
      for (const s of sleepers.filter((x) => x.at <= now)) {
        sleepers.splice(sleepers.indexOf(s), 1);
        s.wake();
      }
    },
  };
}

describe('runFleet', () => {
  it('never has more than --parallel edits in flight, and edits every VM once', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: string[] = [];
    const summary = await runFleet(
      vms(25),
      async (vm) => {
        inFlight++;
        most = Math.max(most, inFlight);
        seen.push(vm.name);
        await new Promise((r) => setTimeout(r, 1 + (Number(vm.name.slice(2)) % 3)));
        inFlight--;
        return patched(vm);
      },
      { parallel: 4 },
    );
    expect(most).toBe(4);
    expect(seen.sort()).toEqual(vms(25).map((v) => v.name).sort());
    expect(summary.results.map((r) => r.name)).toEqual(vms(25).map((v) => v.name));
    expect(summary.counts).toEqual({ patched: 25, unchanged: 0, refused: 0, failed: 0, skipped: 0 });
    expect(fleetExit(summary)).toBe('ok');
  });

  it('gives one result per VM in the order named: refusals and failures do not stop the others', async () => {
    const summary = await runFleet(
      vms(5),
      async (vm) => {
        if (vm.name === 'vm1') throw new VnetError('precondition', 'the name "blue" is already used', { hint: 'pick another --name' });
        if (vm.name === 'vm3') throw new VnetError('forbidden', 'cannot patch virtualmachines');
        if (vm.name === 'vm4') return { ...vm, outcome: 'unchanged', message: 'already there' };
        return patched(vm);
      },
      { parallel: 2 },
    );
    expect(summary.results.map((r) => [r.name, r.outcome])).toEqual([
      ['vm0', 'patched'],
      ['vm1', 'refused'],
      ['vm2', 'patched'],
      ['vm3', 'failed'],
      ['vm4', 'unchanged'],
    ]);
    expect(summary.results[1]).toMatchObject({ message: 'the name "blue" is already used', hint: 'pick another --name' });
    expect(summary.counts).toEqual({ patched: 2, unchanged: 1, refused: 1, failed: 1, skipped: 0 });
    expect(fleetExit(summary)).toBe('partialFailure');
  });

  it('is ok when every VM is patched or unchanged', async () => {
    const summary = await runFleet(vms(3), async (vm) => ({ ...vm, outcome: vm.name === 'vm0' ? 'unchanged' : 'patched', message: '' }), { parallel: 10 });
    expect(fleetExit(summary)).toBe('ok');
  });

  it('on Ctrl-C starts no new edit, lets the started ones finish, and reports the rest as not started', async () => {
    const ctl = new AbortController();
    const release: (() => void)[] = [];
    const started: string[] = [];
    const run = runFleet(
      vms(6),
      (vm) => {
        started.push(vm.name);
        return new Promise<FleetResult>((resolve) => release.push(() => resolve(patched(vm))));
      },
      { parallel: 2, signal: ctl.signal },
    );
    await tick();
    expect(started).toEqual(['vm0', 'vm1']);
    ctl.abort();
    for (const r of release.splice(0)) r();
    const summary = await run;
    expect(started).toEqual(['vm0', 'vm1']);
    expect(summary.results.map((r) => r.outcome)).toEqual(['patched', 'patched', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(summary.interrupted).toBe(true);
    expect(fleetExit(summary)).toBe('interrupted');
  });

  it('refuses a --parallel below 1', async () => {
    await expect(runFleet(vms(1), async (vm) => patched(vm), { parallel: 0 })).rejects.toThrow(/--parallel must be a whole number of at least 1/);
  });

  it('an unexpected error is a failure, a refusal is refused', () => {
    expect(resultOfError({ namespace: 'a', name: 'b' }, new Error('boom'))).toEqual({ namespace: 'a', name: 'b', outcome: 'failed', message: 'boom' });
    expect(resultOfError({ namespace: 'a', name: 'b' }, new VnetError('precondition', 'no')).outcome).toBe('refused');
    expect(resultOfError({ namespace: 'a', name: 'b' }, new VnetError('unreachable', 'gone')).outcome).toBe('failed');
  });
});

describe('TokenBucket', () => {
  it('lets a burst through at once, then one request per 1/QPS seconds', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(5, 10, clock);
    let granted = 0;
    for (let i = 0; i < 14; i++) void bucket.take().then(() => granted++);
    await tick();
    expect(granted).toBe(10);
    clock.advance(199);
    await tick();
    expect(granted).toBe(10);
    clock.advance(1);
    await tick();
    await tick();
    expect(granted).toBe(11);
    clock.advance(600);
    for (let i = 0; i < 6; i++) {
      await tick();
      clock.advance(0);
    }
    expect(granted).toBeLessThanOrEqual(14);
    expect(granted).toBeGreaterThanOrEqual(12);
  });

  it('refuses a rate of 0', () => {
    expect(() => new TokenBucket(0, 10)).toThrow(/QPS above 0/);
  });

  it('every request of a rate-limited client takes a token', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1, 2, clock);
    const calls: string[] = [];
    const fake = {
      conn: {} as KubeApi['conn'],
      get: async (p: string) => (calls.push(`get ${p}`), {}),
      getOrNull: async (p: string) => (calls.push(`getOrNull ${p}`), null),
      list: async (p: string) => (calls.push(`list ${p}`), { items: [] }),
      patch: async (p: string) => (calls.push(`patch ${p}`), {}),
      mergePatch: async (p: string) => (calls.push(`mergePatch ${p}`), {}),
      watch: async function* (p: string) {
        calls.push(`watch ${p}`);
        yield { type: 'ADDED', object: {} };
      },
    } as unknown as KubeApi;
    const client = rateLimited(fake, bucket);
    void client.get('/a');
    void client.list('/b');
    void client.patch('/c', []);
    await tick();
    await tick();
    expect(calls).toEqual(['get /a', 'list /b']);
    clock.advance(1000);
    await tick();
    await tick();
    expect(calls).toEqual(['get /a', 'list /b', 'patch /c']);
    // A watch is still a stream of events, opened once a token is there.
    const events = client.watch('/d', {});
    const first = events.next();
    await tick();
    expect(calls).toHaveLength(3);
    clock.advance(1000);
    expect((await first).value).toEqual({ type: 'ADDED', object: {} });
    expect(calls.at(-1)).toBe('watch /d');
  });
});

describe('what the selecting lists tell (a VM costs its patch)', () => {
  const vmPath = (n: string) => `/apis/kubevirt.io/v1/namespaces/ns1/virtualmachines/${n}`;
  const vmiPath = (n: string) => `/apis/kubevirt.io/v1/namespaces/ns1/virtualmachineinstances/${n}`;
  const vmsPath = '/apis/kubevirt.io/v1/namespaces/ns1/virtualmachines';
  const vmisPath = '/apis/kubevirt.io/v1/namespaces/ns1/virtualmachineinstances';

  /** A client that answers the reads of a hot-plug from these objects and records every request. */
  function fakeCluster(o: { vms: ReturnType<typeof testVM>[]; vmis: ReturnType<typeof testVMI>[]; watched?: { path: string; event: unknown }[]; watchFails?: boolean }) {
    const calls: string[] = [];
    const nad = { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'blue-net', namespace: 'ns1' }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }) } };
    const byPath = new Map<string, unknown>(o.vms.map((v) => [vmPath(v.metadata.name), v]));
    const client = {
      conn: {} as KubeApi['conn'],
      get: async (p: string) => {
        calls.push(`get ${p}`);
        if (p.endsWith('/network-attachment-definitions/blue-net')) return structuredClone(nad);
        throw new VnetError('notFound', `${p} not found`);
      },
      getOrNull: async (p: string) => (calls.push(`getOrNull ${p}`), structuredClone(byPath.get(p) ?? null)),
      list: async (p: string) => {
        calls.push(`list ${p}`);
        const items = p === vmisPath ? o.vmis : p === vmsPath ? o.vms : [];
        return { metadata: { resourceVersion: '100' }, items: structuredClone(items) };
      },
      patch: async (p: string) => (calls.push(`patch ${p}`), structuredClone(byPath.get(p))),
      mergePatch: async () => ({}),
      watch: async function* (p: string, opts: { signal?: AbortSignal }) {
        calls.push(`watch ${p}`);
        if (o.watchFails) throw new VnetError('forbidden', 'cannot watch');
        for (const w of o.watched ?? []) if (w.path === p) yield w.event;
        await new Promise((r) => opts.signal?.addEventListener('abort', r, { once: true }));
      },
    } as unknown as KubeApi;
    return { client, calls };
  }

  async function sourceOf(client: KubeApi) {
    const { Reflector } = await import('../../src/kube/reflector.js');
    const vms = new Reflector<ReturnType<typeof testVM>>(client, { path: vmsPath, labelSelector: 'app=x' });
    await vms.list();
    return { vms, allNamespaces: false };
  }

  it('a selected VM is not read again, nor its VMI: one list and one watch of each, then one patch per VM', async () => {
    const listed = ['vm0', 'vm1', 'vm2'].map((name) => testVM({ name }));
    const { client, calls } = fakeCluster({ vms: listed, vmis: [testVMI(listed[1] as never)] });
    const source = await sourceOf(client);
    const summary = await editFleetLive(
      listed.map((vm) => ({ namespace: 'ns1', name: vm.metadata.name })),
      { change: { kind: 'hotplug-add', request: { network: 'blue-net', name: 'blue' }, once: true }, dryRun: 'none', parallel: 2 },
      { client, source },
    );
    expect(summary.counts.patched, JSON.stringify(summary.results)).toBe(3);
    expect(calls.filter((c) => /virtualmachine(instance)?s\/vm\d$/.test(c)).sort()).toEqual(['patch ' + vmPath('vm0'), 'patch ' + vmPath('vm1'), 'patch ' + vmPath('vm2')]);
    expect(calls.filter((c) => c.endsWith(vmisPath) || c.endsWith(vmsPath)).sort()).toEqual([`list ${vmisPath}`, `list ${vmsPath}`, `watch ${vmisPath}`, `watch ${vmsPath}`]);
  });

  it('the caches follow their watches; a path read a second time, or with a watch gone, asks the server', async () => {
    const vm = testVM({ name: 'late' });
    const changed = { ...testVM({ name: 'late' }), metadata: { ...vm.metadata, resourceVersion: '11' } };
    const { client, calls } = fakeCluster({
      vms: [vm],
      vmis: [],
      watched: [
        { path: vmisPath, event: { type: 'ADDED', object: testVMI(vm) } },
        { path: vmsPath, event: { type: 'MODIFIED', object: changed } },
      ],
    });
    const source = await sourceOf(client);
    const known = await knownFromCaches(client, [{ namespace: 'ns1', name: 'late' }], source);
    expect(known.first(vmiPath('late'))).toEqual({ value: null }); // listed, and absent then
    await tick();
    await tick();
    expect(known.first(vmiPath('late'))).toEqual({ value: expect.objectContaining({ metadata: expect.objectContaining({ name: 'late' }) }) });
    expect(known.first(vmPath('late'))).toEqual({ value: changed });
    expect(known.first(vmiPath('other'))).toBeUndefined();
    const primed = primedReads(client, known.first);
    expect(await primed.getOrNull(vmPath('late'))).toEqual(changed);
    expect(calls.filter((c) => c.startsWith('getOrNull'))).toEqual([]);
    await primed.getOrNull(vmPath('late'));
    expect(calls.filter((c) => c.startsWith('getOrNull'))).toEqual([`getOrNull ${vmPath('late')}`]);
    known.stop();
    expect(known.first(vmPath('late'))).toBeUndefined();

    const broken = fakeCluster({ vms: [vm], vmis: [], watchFails: true });
    const k2 = await knownFromCaches(broken.client, [{ namespace: 'ns1', name: 'late' }], await sourceOf(broken.client));
    await tick();
    expect(k2.first(vmiPath('late'))).toBeUndefined();
    expect(k2.first(vmPath('late'))).toBeUndefined();
    k2.stop();
  });

  it('--qps -1 is no client-side limit; a QPS of 0 or a burst below 1 is refused', () => {
    expect(fleetBucket(-1, 1)).toBeUndefined();
    expect(fleetBucket(50, 100)).toBeInstanceOf(TokenBucket);
    expect(() => fleetBucket(0, 100)).toThrow(/--qps must be above 0 \(or -1 for no client-side limit\)/);
    expect(() => fleetBucket(Number.NaN, 100)).toThrow(/--qps/);
    expect(() => fleetBucket(5, 0)).toThrow(/--burst a whole number of at least 1/);
  });
});

describe('sharingReads', () => {
  it('reads a NAD and the KubeVirt CR once for every VM, and the VM and VMI each time', async () => {
    const calls: string[] = [];
    const fake = {
      conn: {} as KubeApi['conn'],
      get: async (p: string) => (calls.push(p), { metadata: { name: p } }),
      getOrNull: async (p: string) => (calls.push(p), { metadata: { name: p } }),
      list: async (p: string) => (calls.push(p), { items: [{ p }] }),
      patch: async () => ({}),
      mergePatch: async () => ({}),
      watch: async () => undefined,
    } as unknown as KubeApi;
    const client = sharingReads(fake, isFleetSharedPath);
    const nad = '/apis/k8s.cni.cncf.io/v1/namespaces/ns/network-attachment-definitions/blue';
    const kv = '/apis/kubevirt.io/v1/kubevirts';
    const vm = '/apis/kubevirt.io/v1/namespaces/ns/virtualmachines/vm0';
    const answers = await Promise.all([client.get(nad), client.get(nad), client.list(kv), client.list(kv), client.getOrNull(vm), client.getOrNull(vm)]);
    expect(calls.sort()).toEqual([kv, nad, vm, vm].sort());
    // Each caller has its own copy.
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]).not.toBe(answers[1]);
  });

  it('shares a failed read too (the same refusal for every VM, one request)', async () => {
    let n = 0;
    const fake = { conn: {}, get: async () => (n++, Promise.reject(new VnetError('forbidden', 'no'))) } as unknown as KubeApi;
    const client = sharingReads(fake, isFleetSharedPath);
    const p = '/apis/k8s.cni.cncf.io/v1/namespaces/ns/network-attachment-definitions/blue';
    await expect(client.get(p)).rejects.toThrow('no');
    await expect(client.get(p)).rejects.toThrow('no');
    expect(n).toBe(1);
  });
});

describe('planHotplugOnce (the re-runnable add of a fleet)', () => {
  const bridgeNad = { metadata: { name: 'blue-net', namespace: 'ns1' }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }) } };
  const facts = { nad: bridgeNad };

  it('is unchanged when the interface is already on the same NAD', () => {
    const plan = planHotplugOnce(testVM({ bridges: { blue: 'blue-net' } }), { network: 'blue-net', name: 'blue' }, facts);
    expect(plan.noop).toBe(true);
    expect(plan.ops).toEqual([]);
    expect(plan.summary).toBe('interface blue is already on NetworkAttachmentDefinition ns1/blue-net');
  });

  it('names the NAD\'s own name when --name is not given (never a suffixed name on a re-run)', () => {
    expect(planHotplugOnce(testVM({ bridges: { 'blue-net': 'ns1/blue-net' } }), { network: 'blue-net' }, facts).noop).toBe(true);
    const fresh = planHotplugOnce(testVM(), { network: 'blue-net' }, facts);
    expect(fresh.interfaceName).toBe('blue-net');
    expect(fresh.noop).toBeFalsy();
  });

  it('refuses when the name is taken by another NAD, where a single add would pick another name', () => {
    const err = refusalOf(() => planHotplugOnce(testVM({ bridges: { 'blue-net': 'red-net' } }), { network: 'blue-net' }, facts));
    expect(err.code).toBe('precondition');
    expect(err.message).toBe('the name "blue-net" is already used by an interface and a network of virtualmachine "vm1"');
  });

  it('an interface being unplugged is not unchanged: the add is refused until the unplug is done', () => {
    const v = testVM({ bridges: { blue: 'blue-net' } });
    const ifaces = (v.spec.template?.spec?.domain?.devices?.interfaces ?? []) as { name: string; state?: string }[];
    (ifaces.find((i) => i.name === 'blue') as { state?: string }).state = 'absent';
    expect(refusalOf(() => planHotplugOnce(v, { network: 'blue-net', name: 'blue' }, facts)).message).toMatch(/unplug/);
  });
});

describe('the fleet output', () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', 'schemas', 'fleet-edit-result-list.schema.json'), 'utf8')));
  const results: FleetResult[] = [
    { namespace: 'ns', name: 'a', outcome: 'patched', message: 'interface blue added' },
    { namespace: 'ns', name: 'b', outcome: 'refused', message: 'the name "blue" is already used', hint: 'pick another --name' },
    { namespace: 'ns', name: 'c', outcome: 'unchanged', message: 'interface blue is already on NetworkAttachmentDefinition ns/blue-net' },
  ];

  it('-o json is a List of one result per VM that the schema accepts', () => {
    const doc = JSON.parse(renderFleetList(results, 'json'));
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.items.map((i: { name: string; result: string }) => `${i.name} ${i.result}`)).toEqual(['a patched', 'b refused', 'c unchanged']);
    expect(doc.items[1].hint).toBe('pick another --name');
    expect(validate({ ...doc, items: [{ ...doc.items[0], result: 'done' }] })).toBe(false);
  });

  it('one line per VM and a summary', () => {
    expect(renderFleetLine(results[1] as FleetResult, 'default', false)).toBe('virtualmachine.kubevirt.io/b refused: the name "blue" is already used (hint: pick another --name)\n');
    expect(renderFleetLine(results[0] as FleetResult, 'name', true)).toBe('virtualmachine.kubevirt.io/a -n ns patched\n');
    const summary = { results, counts: countOutcomes(results), interrupted: false };
    expect(renderFleetSummary(summary)).toBe('3 VirtualMachines: 1 patched, 1 unchanged, 1 refused, 0 failed\n');
  });
});

describe('fleetSelection: which VMs, and what does not go with several', () => {
  const base = { 'dry-run': 'none' as const, local: false, 'in-place': false, all: false };
  const link = { kind: 'link-set' as const, iface: 'blue', state: 'down' as const };

  it('one name is the single edit; VM1,VM2, several names, -l and -A are a fleet', () => {
    expect(fleetSelection(base, ['vm1'], link)).toBeUndefined();
    expect(fleetSelection(base, ['vm1,vm2'], link)).toEqual({ names: ['vm1', 'vm2'] });
    expect(fleetSelection(base, ['vm1', 'vm2,vm1'], link)).toEqual({ names: ['vm1', 'vm2'] });
    expect(fleetSelection({ ...base, selector: 'app=web' }, [], link)).toEqual({ selector: 'app=web', allNamespaces: false });
    expect(fleetSelection({ ...base, 'all-namespaces': true }, [], link)).toEqual({ selector: undefined, allNamespaces: true });
  });

  it.each([
    [{ selector: 'app=web' }, ['vm1'], /name VMs or select them with -l\/-A, not both/],
    [{}, ['vm1,,vm2'], /has an empty name/],
    [{ filename: 'vms.yaml', local: true }, ['a,b'], /-f FILE --local edits a file/],
    [{ selector: '' }, [], /the -l selector must not be empty/],
  ])('%j with %j is a usage error', (flags, vms, message) => {
    const err = refusalOf(() => fleetSelection({ ...base, ...flags }, vms, link));
    expect(err.code).toBe('usage');
    expect(err.message).toMatch(message);
  });

  it('hotplug add --mac with several VMs is refused (every VM would get the same MAC)', () => {
    const err = refusalOf(() => fleetSelection(base, ['a,b'], { kind: 'hotplug-add', request: { network: 'blue-net', mac: '02:00:00:00:00:01' } }));
    expect(err.code).toBe('precondition');
    expect(err.message).toBe('--mac with several VMs would give every one of them the same MAC');
  });
});

describe('waitForFleet: one list and one watch per namespace', () => {
  const vmOf = (namespace: string, name: string) => testVM({ name, namespace, bridges: { blue: 'blue-net' } });
  const vmiWith = (namespace: string, name: string, ifaces: string[], rv: string) =>
    ({ metadata: { name, namespace, resourceVersion: rv }, spec: { domain: { devices: { interfaces: ifaces.map((n) => ({ name: n, bridge: {} })) } } }, status: { interfaces: [] } }) as never;

  /**
   * A fake API: VMI lists answer from `vmis`, VMI watches play `events` per namespace and then hang
   * until aborted; the events and VMs of a namespace answer from `side` the same way.
   */
  function fakeApi(vmis: Record<string, unknown[]>, events: Record<string, unknown[]>, side: { events?: Record<string, { listed?: unknown[]; watched?: unknown[] }>; vms?: Record<string, { listed?: unknown[]; watched?: unknown[] }> } = {}) {
    const calls: string[] = [];
    const kindOf = (p: string) => (p.endsWith('/events') ? 'events' : p.endsWith('/virtualmachines') ? 'vms' : 'vmis');
    const api = {
      conn: {},
      list: async (p: string) => {
        calls.push(`list ${p}`);
        const ns = /namespaces\/([^/]+)\//.exec(p)?.[1] ?? '';
        const kind = kindOf(p);
        const items = kind === 'vmis' ? vmis[ns] : side[kind]?.[ns]?.listed;
        return { items: items ?? [], metadata: { resourceVersion: '100' } };
      },
      watch: (p: string, o: { resourceVersion?: string; signal?: AbortSignal }) => {
        calls.push(`watch ${p} from ${o.resourceVersion}`);
        const ns = /namespaces\/([^/]+)\//.exec(p)?.[1] ?? '';
        const kind = kindOf(p);
        const played = kind === 'vmis' ? events[ns] : side[kind]?.[ns]?.watched;
        return (async function* () {
          for (const e of played ?? []) yield e;
          await new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
        })();
      },
    } as unknown as KubeApi;
    return { api, calls };
  }

  it('judges each VM from its namespace\'s list and watch, and reports each as it ends', async () => {
    const { api, calls } = fakeApi(
      { a: [vmiWith('a', 'x', ['default', 'blue'], '90'), vmiWith('a', 'y', ['default'], '91')], b: [vmiWith('b', 'z', ['default', 'blue'], '92')] },
      { a: [{ type: 'MODIFIED', object: vmiWith('a', 'x', ['default'], '101') }], b: [{ type: 'MODIFIED', object: vmiWith('b', 'other', ['default'], '102') }, { type: 'DELETED', object: vmiWith('b', 'z', ['default'], '103') }] },
    );
    const gone = { kind: 'gone' as const, name: 'blue' };
    const ends: string[] = [];
    const results = await waitForFleet(
      api,
      [
        { vm: vmOf('a', 'x'), goal: gone },
        { vm: vmOf('a', 'y'), goal: gone },
        { vm: vmOf('b', 'z'), goal: gone },
        { vm: vmOf('b', 'stopped'), goal: { kind: 'ready', name: 'blue' } },
      ],
      { timeoutMs: 5000, onDone: (r, done, total) => ends.push(`${r.name} ${done}/${total}`) },
    );
    expect(results.map((r) => `${r.namespace}/${r.name} ${r.outcome}: ${r.state}`)).toEqual([
      'a/x done: gone',
      'a/y done: gone',
      'b/z done: gone',
      'b/stopped not-running: no running VMI: the change applies at its next start',
    ]);
    expect(ends).toHaveLength(4);
    expect(ends.at(-1)).toMatch(/ 4\/4$/);
    expect(calls.filter((c) => c.includes('/virtualmachineinstances')).sort()).toEqual([
      'list /apis/kubevirt.io/v1/namespaces/a/virtualmachineinstances',
      'list /apis/kubevirt.io/v1/namespaces/b/virtualmachineinstances',
      'watch /apis/kubevirt.io/v1/namespaces/a/virtualmachineinstances from 100',
      'watch /apis/kubevirt.io/v1/namespaces/b/virtualmachineinstances from 100',
    ]);
    // The failures: one events watch and one VM watch per namespace, never one per VM.
    expect(calls.filter((c) => c.startsWith('watch ') && !c.includes('/virtualmachineinstances')).sort()).toEqual([
      'watch /api/v1/namespaces/a/events from 100',
      'watch /api/v1/namespaces/b/events from 100',
      'watch /apis/kubevirt.io/v1/namespaces/a/virtualmachines from 100',
      'watch /apis/kubevirt.io/v1/namespaces/b/virtualmachines from 100',
    ]);
  });

  it('a failure KubeVirt or Multus report ends that VM as failed at once; the others go on', async () => {
    const edited = (name: string) => {
      const v = vmOf('a', name);
      v.metadata.managedFields = [{ manager: 'kubectl-vnet', time: '2026-01-01T00:00:05Z' }] as never;
      return v;
    };
    const failure = (pod: string, at: string) => ({
      metadata: { name: `${pod}.1`, uid: `${pod}-${at}`, resourceVersion: '120' },
      involvedObject: { kind: 'Pod', name: pod },
      reason: 'FailedAddingInterface',
      message: `pod [a/${pod}]: failed adding interface ${hashedPodInterfaceName('blue')} to network: blue-net`,
      lastTimestamp: at,
    });
    const denied = { ...edited('c'), status: { conditions: [{ type: 'Failure', status: 'True', reason: 'HotPlugNetworkInterfaceError', message: 'error encountered when trying to patch vmi: denied' }] } };
    const { api } = fakeApi({ a: ['x', 'y', 'c', 'old'].map((n) => vmiWith('a', n, ['default', 'blue'], '90')) }, {}, {
      // Before the edit (not news), then one for x since the edit; y has none.
      events: { a: { listed: [failure('virt-launcher-old-aaaaa', '2026-01-01T00:00:01Z')], watched: [{ type: 'ADDED', object: failure('virt-launcher-x-bbbbb', '2026-01-01T00:00:09Z') }] } },
      vms: { a: { watched: [{ type: 'MODIFIED', object: denied }] } },
    });
    const ready = { kind: 'ready' as const, name: 'blue' };
    const results = await waitForFleet(api, ['x', 'y', 'c', 'old'].map((n) => ({ vm: edited(n), goal: ready })), { timeoutMs: 300, graceMs: 20 });
    expect(results.map((r) => `${r.name} ${r.outcome}: ${r.state}`)).toEqual([
      `x failed: FailedAddingInterface on pod virt-launcher-x-bbbbb: pod [a/virt-launcher-x-bbbbb]: failed adding interface ${hashedPodInterfaceName('blue')} to network: blue-net`,
      expect.stringMatching(/^y timeout: /),
      "c failed: KubeVirt could not update the VMI's interfaces (VM condition Failure, reason HotPlugNetworkInterfaceError): error encountered when trying to patch vmi: denied",
      expect.stringMatching(/^old timeout: /),
    ]);
  });

  it('on timeout, the VMs not there yet are timeout with their last state; Ctrl-C makes them interrupted', async () => {
    const { api } = fakeApi({ a: [vmiWith('a', 'x', ['default', 'blue'], '90')] }, {});
    const item = { vm: vmOf('a', 'x'), goal: { kind: 'gone' as const, name: 'blue' } };
    const [late] = await waitForFleet(api, [item], { timeoutMs: 30 });
    expect(late).toMatchObject({ outcome: 'timeout' });
    expect(late?.state).not.toBe('unknown');
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 20);
    const [stopped] = await waitForFleet(api, [item], { timeoutMs: 0, signal: ctl.signal });
    expect(stopped?.outcome).toBe('interrupted');
  });
});

describe('planUnplugOnce (the re-runnable remove of a fleet)', () => {
  it('is unchanged where the interface is not on the VM, and unplugs where it is', () => {
    const gone = planUnplugOnce(testVM(), { name: 'blue' });
    expect(gone).toMatchObject({ ops: [], noop: true, summary: 'interface blue is not on the VM (nothing to unplug)' });
    const there = planUnplugOnce(testVM({ bridges: { blue: 'blue-net' } }), { name: 'blue' });
    expect(there.noop).toBeFalsy();
    expect(there.ops.some((o) => o.op === 'add' && String(o.path).endsWith('/state'))).toBe(true);
  });

  it('still refuses what planUnplug refuses (the pod network)', () => {
    expect(refusalOf(() => planUnplugOnce(testVM(), { name: 'default' })).code).toBe('precondition');
  });
});

describe('createFleetProgress: a counter only on a terminal', () => {
  const stream = (isTTY: boolean) => {
    // What ora calls on a terminal stream besides write.
    const out = { text: '', isTTY, columns: 80, write: (t: string) => ((out.text += t), true), cursorTo: () => true, moveCursor: () => true, clearLine: () => true, on: () => out, removeListener: () => out };
    return out;
  };

  it.each([
    ['not a terminal', false, {}, false],
    ['NO_COLOR', true, { NO_COLOR: '1' }, false],
    ['-o json', true, {}, true],
  ])('%s: writes nothing', async (_what, isTTY, env, machineOutput) => {
    const s = stream(isTTY);
    const p = await createFleetProgress(3, { machineOutput, stream: s, env, verb: 'done' });
    let wrote = false;
    p.around(() => (wrote = true));
    p.update(1, 3, 'bad');
    p.finish();
    expect(wrote).toBe(true);
    expect(s.text).toBe('');
  });

  it('on a terminal: counts the VMs done and those not edited', async () => {
    const s = stream(true);
    const p = await createFleetProgress(3, { machineOutput: false, stream: s, env: {}, verb: 'done' });
    p.update(1, 3, 'ok');
    p.update(2, 3, 'bad');
    p.around(() => undefined);
    p.finish();
    expect(s.text).toContain('2/3 VirtualMachines done, 1 not edited');
  });
});

describe('naming VMs and selecting them (in process, nothing sent)', () => {
  it.each([
    [['link', 'set', '-l', 'app=web', 'vm1', 'blue', 'down'], 'error: too many arguments: down'],
    [['hotplug', 'add', '-l', 'app=web', 'vm1', '--network', 'blue-net'], 'error: too many arguments: vm1'],
  ])('%j: a VM name with -l is a usage error whose hint says to leave it out', async (args, message) => {
    const r = await vnet(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('hint: -l and -A select the VMs: leave out the VM name (or drop -l and -A and name the VMs: VM1,VM2)');
    expect(r.stdout).toBe('');
  });

  it('hotplug add a,b --mac is refused before anything is read (exit 5)', async () => {
    const r = await vnet(['hotplug', 'add', 'a,b', '--network', 'blue-net', '--mac', '02:00:00:00:00:01', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('error: --mac with several VMs would give every one of them the same MAC');
  });
});
