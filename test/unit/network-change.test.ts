// network set: the planner's refusals and warnings, the version rule, what --wait sees, the
// events and conditions that say why a plug did not happen, and how status and doctor show them.
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import type { ClusterFacts } from '../../src/domain/hotplug.js';
import { nadChangeSupport } from '../../src/domain/kubevirt-config.js';
import { planNetworkChange } from '../../src/domain/network-change.js';
import { age, currentInterfaceFailures, hotplugErrorCondition, isLauncherPodOf, parseNetworkEventMessage, pendingNadChange, type KubeEvent } from '../../src/domain/network-events.js';
import { applyPatch } from '../../src/domain/patch.js';
import { joinVMNetworkStatus } from '../../src/domain/status.js';
import type { KubeVirtCR, NetworkAttachmentDefinition, VirtualMachine } from '../../src/domain/types.js';
import { hashedPodInterfaceName } from '../../src/domain/vmspec.js';
import { observe } from '../../src/kube/wait.js';
import { refusalOf, testVM, testVMI } from '../support/vm.js';

const nad = (name: string, config: Record<string, unknown>, namespace = 'ns1'): NetworkAttachmentDefinition => ({ metadata: { name, namespace }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', ...config }) } });
const red = nad('red-net', { type: 'bridge', bridge: 'br2' });
const kv = (version: string, o: { gates?: string[]; methods?: string[]; rollout?: string } = {}): KubeVirtCR => ({
  metadata: { name: 'kubevirt', namespace: 'kubevirt' },
  spec: {
    configuration: { developerConfiguration: { featureGates: o.gates ?? ['LiveUpdateNADRef'] }, ...(o.rollout ? { vmRolloutStrategy: o.rollout } : {}) },
    workloadUpdateStrategy: { workloadUpdateMethods: o.methods ?? ['LiveMigrate'] },
  },
  status: { observedKubeVirtVersion: version },
}) as KubeVirtCR;
const vm = () => testVM({ bridges: { blue: 'blue-net' } });
const running = (v: VirtualMachine = vm(), status = {}) => testVMI(v, status);
const plan = (facts: ClusterFacts, network = 'red-net', iface = 'blue', v: VirtualMachine = vm()) => planNetworkChange(v, { iface, network }, facts);
const codes = (p: { warnings: { code: string }[] }) => p.warnings.map((w) => w.code);

describe('nadChangeSupport: keyed by observedKubeVirtVersion', () => {
  it.each([
    ['v1.4.1', ['LiveUpdateNADRef'], false],
    ['v1.6.3', ['LiveUpdateNADRef'], false],
    ['v1.8.2', [], false],
    ['v1.8.2', ['LiveUpdateNADRef'], true],
    ['v1.9.0', [], true],
  ] as const)('%s with gates %j: live %s', (version, gates, live) => {
    expect(nadChangeSupport(kv(version, { gates: [...gates] })).live).toBe(live);
  });
  it('an unknown version is unknown', () => {
    expect(nadChangeSupport({ metadata: { name: 'k' }, spec: {}, status: {} } as KubeVirtCR).live).toBe('unknown');
  });
});

describe('planNetworkChange', () => {
  it('one guarded replace of networks[i].multus.networkName; the patched VM names the new NAD', () => {
    const v = vm();
    const p = plan({ nad: red, kubevirt: kv('v1.8.2'), vmi: running() }, 'red-net', 'blue', v);
    expect(p.ops).toEqual([
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces/1', value: { name: 'blue', bridge: {} } },
      { op: 'test', path: '/spec/template/spec/networks/1', value: { name: 'blue', multus: { networkName: 'blue-net' } } },
      { op: 'replace', path: '/spec/template/spec/networks/1/multus/networkName', value: 'red-net' },
    ]);
    expect(p.summary).toBe('move interface blue from ns1/blue-net to ns1/red-net');
    expect(p.warnings).toEqual([]);
    expect(p.notes.join('\n')).toMatch(/live migration .*\(the dynamic networks controller does not change a NIC's NAD/);
    expect(applyPatch(v, p.ops).spec.template.spec.networks?.[1]).toEqual({ name: 'blue', multus: { networkName: 'red-net' } });
  });

  it('the same NAD (short or namespaced) is unchanged: nothing to send', () => {
    for (const network of ['blue-net', 'ns1/blue-net', ' blue-net ']) {
      const p = plan({ nad: nad('blue-net', { type: 'bridge' }) }, network);
      expect(p.noop).toBe(true);
      expect(p.ops).toEqual([]);
    }
  });

  it('refuses, exit 5, with the fix: unknown interface, pod network, Multus default, missing NAD, unplug in progress', () => {
    const cases: [() => unknown, RegExp, RegExp][] = [
      [() => plan({ nad: red }, 'red-net', 'nope'), /has no interface "nope" \(it has: default, blue\)/, /kubectl vnet status vm1/],
      [() => plan({ nad: red }, 'red-net', 'default'), /is on the pod network/, /hot-plug one/],
      [() => plan({ nad: red }, 'red-net', 'default', testVM({ templateSpec: { domain: { devices: {} } } })), /implicit pod network/, /secondary Multus/],
      [
        () => plan({ nad: red }, 'red-net', 'prim', testVM({ templateSpec: { domain: { devices: { interfaces: [{ name: 'prim', bridge: {} }] } }, networks: [{ name: 'prim', multus: { networkName: 'blue-net', default: true } }] } })),
        /Multus default network/,
        /restart the VM/,
      ],
      [() => plan({ nad: null }), /NetworkAttachmentDefinition "red-net" not found in namespace "ns1"/, /create it first/],
      [
        () => plan({ nad: red }, 'red-net', 'blue', testVM({ templateSpec: { domain: { devices: { interfaces: [{ name: 'blue', bridge: {}, state: 'absent' }] } }, networks: [{ name: 'blue', multus: { networkName: 'blue-net' } }] } })),
        /being unplugged/,
        /cannot change network/,
      ],
    ];
    for (const [fn, message, hint] of cases) {
      const err = refusalOf(fn);
      expect(err.exitCode).toBe(ExitCode.precondition);
      expect(err.message).toMatch(message);
      expect(err.hint).toMatch(hint);
    }
  });

  it('refuses a NAD whose CNI does not fit the binding: macvlan/ipvlan under bridge, SR-IOV vs non-SR-IOV', () => {
    expect(refusalOf(() => plan({ nad: nad('mv', { type: 'macvlan' }) }, 'mv')).message).toMatch(/NetworkAttachmentDefinition ns1\/mv: .*macvlan/);
    expect(refusalOf(() => plan({ nad: nad('iv', { type: 'ipvlan' }) }, 'iv')).code).toBe('precondition');
    expect(refusalOf(() => plan({ nad: nad('vf', { type: 'sriov' }) }, 'vf')).message).toMatch(/is an SR-IOV network, and interface "blue" uses bridge binding/);
    const sriovVM = testVM({ templateSpec: { domain: { devices: { interfaces: [{ name: 'vf', sriov: {} }] } }, networks: [{ name: 'vf', multus: { networkName: 'vf-a' } }] } });
    expect(refusalOf(() => plan({ nad: red }, 'red-net', 'vf', sriovVM)).message).toMatch(/runs CNI type bridge, not sriov: interface "vf" uses SR-IOV binding/);
    expect(plan({ nad: nad('vf-b', { type: 'sriov' }) }, 'vf-b', 'vf', sriovVM).ops).toHaveLength(3);
  });

  it('refuses a Kube-OVN NAD without its Subnet; a Subnet of its provider passes; unreadable Subnets are a note', () => {
    const ovn = nad('ovn-net', { type: 'kube-ovn', provider: 'ovn-net.ns1.ovn' });
    expect(refusalOf(() => plan({ nad: ovn, subnets: [] }, 'ovn-net')).message).toMatch(/no Kube-OVN Subnet has provider "ovn-net.ns1.ovn"/);
    expect(plan({ nad: ovn, subnets: [{ metadata: { name: 's' }, spec: { provider: 'ovn-net.ns1.ovn' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }] }, 'ovn-net').ops).toHaveLength(3);
    expect(plan({ nad: ovn, subnetsUnreadable: 'forbidden' }, 'ovn-net').notes).toContain('Kube-OVN Subnets not checked (forbidden)');
  });

  it('a NAD in another namespace is written as given', () => {
    const p = plan({ nad: nad('red-net', { type: 'bridge' }, 'other') }, 'other/red-net');
    expect(p.ops.at(-1)).toEqual({ op: 'replace', path: '/spec/template/spec/networks/1/multus/networkName', value: 'other/red-net' });
    expect(p.summary).toBe('move interface blue from ns1/blue-net to other/red-net');
  });

  it('a NAD name with two slashes is a usage error', () => {
    expect(refusalOf(() => plan({}, 'a/b/c')).code).toBe('usage');
  });

  it('warns that the change waits for a restart: before v1.8, v1.8 without the gate', () => {
    for (const cr of [kv('v1.4.1'), kv('v1.6.3'), kv('v1.8.2', { gates: [] })]) {
      const p = plan({ nad: red, kubevirt: cr, vmi: running() });
      expect(codes(p)).toEqual(['nad-change-restart']);
      expect(p.warnings[0].message).toMatch(/RestartRequired/);
    }
    expect(codes(plan({ nad: red, kubevirt: kv('v1.9.0', { gates: [] }), vmi: running() }))).toEqual([]);
    // A stopped VM gets it at its next start either way: nothing to warn about.
    expect(codes(plan({ nad: red, kubevirt: kv('v1.6.3'), vmi: null }))).toEqual([]);
  });

  it('warns when nothing migrates the VM: no LiveMigrate, a VMI that cannot migrate, a Stage rollout', () => {
    expect(codes(plan({ nad: red, kubevirt: kv('v1.8.2', { methods: [] }), vmi: running() }))).toEqual(['no-live-migrate']);
    const vmi = running(vm(), { conditions: [{ type: 'LiveMigratable', status: 'False', reason: 'InterfaceNotLiveMigratable', message: 'cannot migrate VMI which does not use masquerade' }] });
    const p = plan({ nad: red, kubevirt: kv('v1.9.0'), vmi });
    expect(codes(p)).toEqual(['not-migratable']);
    expect(p.warnings[0].message).toMatch(/InterfaceNotLiveMigratable: cannot migrate/);
    expect(codes(plan({ nad: red, kubevirt: kv('v1.9.0', { rollout: 'Stage' }), vmi: running() }))).toEqual(['rollout-not-liveupdate']);
  });

  it('keeps the migration the VMI showed, so --wait waits for a later one', () => {
    expect(plan({ nad: red, vmi: running(vm(), { migrationState: { migrationUid: 'old', completed: true } }) }).priorMigration).toBe('old');
  });
});

describe('--wait on a NAD change (observe)', () => {
  const goal = { kind: 'nad', name: 'blue', nad: 'ns1/red-net', priorMigration: 'old' } as const;
  const moved = () => {
    const v = vm();
    v.spec.template.spec.networks![1] = { name: 'blue', multus: { networkName: 'red-net' } };
    return v;
  };
  const ready = { name: 'blue', infoSource: 'domain, guest-agent, multus-status' };
  it('follows the VMI spec, MigrationRequired, the migration, and is done on the new NAD', () => {
    expect(observe(goal, moved(), running(vm(), { interfaces: [ready] })).state).toBe('waiting for KubeVirt to put ns1/red-net in the VMI spec (it names ns1/blue-net)');
    expect(observe(goal, moved(), running(moved(), { interfaces: [ready] })).state).toBe('VMI spec updated; waiting for MigrationRequired');
    const mr = running(moved(), { interfaces: [ready], conditions: [{ type: 'MigrationRequired', status: 'True', reason: 'AutoMigrationDueToLiveUpdate' }] });
    expect(observe(goal, moved(), mr)).toEqual({ done: false, state: 'MigrationRequired=True (AutoMigrationDueToLiveUpdate)' });
    const migrating = running(moved(), { interfaces: [ready], migrationState: { migrationUid: 'new', sourcePod: 'a', targetPod: 'b' } });
    expect(observe(goal, moved(), migrating)).toEqual({ done: false, state: 'migrating (pod a -> pod b)' });
    // The migration from before the edit does not count.
    expect(observe(goal, moved(), running(moved(), { interfaces: [ready], migrationState: { migrationUid: 'old', completed: true } })).done).toBe(false);
    expect(observe(goal, moved(), running(moved(), { interfaces: [ready], migrationState: { migrationUid: 'new', completed: true, failed: true } })).state).toBe('the migration failed; KubeVirt retries it');
    expect(observe(goal, moved(), running(moved(), { interfaces: [ready], migrationState: { migrationUid: 'new', completed: true } }))).toEqual({ done: true, state: 'on ns1/red-net' });
  });
});

const event = (reason: string, iface: string, pod: string, time: string, type = 'Warning'): KubeEvent => {
  const verb = reason === 'FailedAddingInterface' ? 'failed adding interface' : reason === 'AddedInterface' ? 'added interface' : 'removed interface';
  const prep = reason === 'RemovedInterface' ? 'from' : 'to';
  return {
    metadata: { name: `${pod}.${reason}.${time}`, namespace: 'ns1', uid: `${pod}-${reason}-${time}` },
    involvedObject: { kind: 'Pod', name: pod, namespace: 'ns1' },
    reason,
    type,
    message: `pod [ns1/${pod}]: ${verb} ${hashedPodInterfaceName(iface)} ${prep} network: blue-net`,
    lastTimestamp: time,
    source: { component: 'pod-networks-updates' },
  };
};

describe('the events and conditions that say why a plug did not happen', () => {
  it('parses the dynamic networks controller\'s messages', () => {
    expect(parseNetworkEventMessage('pod [ns1/p]: failed adding interface pod1234567890a to network: blue-net')).toEqual({ podIface: 'pod1234567890a', nad: 'blue-net' });
    expect(parseNetworkEventMessage('pod [ns1/p]: removed interface pod1234567890a from network: blue-net')).toEqual({ podIface: 'pod1234567890a', nad: 'blue-net' });
    expect(parseNetworkEventMessage('something else')).toEqual({});
  });

  it('launcher pods by name: virt-launcher-<vmi>-<suffix>, not another VM\'s with a longer name', () => {
    expect(isLauncherPodOf('virt-launcher-vm1-abcde', 'vm1')).toBe(true);
    expect(isLauncherPodOf('virt-launcher-vm1-b-abcde', 'vm1')).toBe(false);
    expect(isLauncherPodOf('virt-launcher-vm1-b-abcde', 'vm1-b')).toBe(true);
  });

  it('a failure stands until an AddedInterface for the same pod interface on the same pod follows it', () => {
    const failed = event('FailedAddingInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:10Z');
    const o = { vmiName: 'vm1', networkNames: ['default', 'blue', 'green'] };
    expect(currentInterfaceFailures([failed], o)).toEqual([
      { iface: 'blue', reason: 'FailedAddingInterface', message: failed.message, pod: 'virt-launcher-vm1-aaaaa', time: '2026-01-01T00:00:10Z' },
    ]);
    expect(currentInterfaceFailures([failed, event('AddedInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:20Z', 'Normal')], o)).toEqual([]);
    // Another interface's success, another VM's pod, or a pod not among the VMI's: still failed / not this VM's.
    expect(currentInterfaceFailures([failed, event('AddedInterface', 'green', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:20Z', 'Normal')], o)).toHaveLength(1);
    expect(currentInterfaceFailures([event('FailedAddingInterface', 'blue', 'virt-launcher-vm2-aaaaa', '2026-01-01T00:00:10Z')], o)).toEqual([]);
    expect(currentInterfaceFailures([failed], { ...o, pods: ['virt-launcher-vm1-bbbbb'] })).toEqual([]);
  });

  it('the VM Failure condition with reason HotPlugNetworkInterfaceError, and only that one', () => {
    const c = { type: 'Failure', status: 'True', reason: 'HotPlugNetworkInterfaceError', message: 'error encountered when trying to patch vmi: denied' };
    expect(hotplugErrorCondition({ status: { conditions: [c] } })).toEqual(c);
    expect(hotplugErrorCondition({ status: { conditions: [{ ...c, reason: 'FailedCreate' }] } })).toBeUndefined();
    expect(hotplugErrorCondition({ status: { conditions: [{ ...c, status: 'False' }] } })).toBeUndefined();
  });

  it('ages', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    expect(age('2026-01-01T00:59:30Z', now)).toBe('30s');
    expect(age('2026-01-01T00:30:00Z', now)).toBe('30m');
    expect(age(null, now)).toBe('');
  });

  it('pending NAD change: template vs VMI, then VMI vs the attachment, with where it stands', () => {
    expect(pendingNadChange({ name: 'blue', template: 'ns1/red', vmi: 'ns1/blue', attached: 'ns1/blue' }, { restartRequired: true, migrating: false })).toBe(
      'interface blue: moving from ns1/blue to ns1/red: it waits for a restart (VM condition RestartRequired)',
    );
    expect(pendingNadChange({ name: 'blue', template: 'ns1/red', vmi: 'ns1/red', attached: 'ns1/blue' }, { restartRequired: false, migrationRequired: { status: 'True', reason: 'AutoMigrationDueToLiveUpdate' }, migrating: false })).toBe(
      'interface blue: moving from ns1/blue to ns1/red: it waits for the live migration that carries it (VMI condition MigrationRequired=True, AutoMigrationDueToLiveUpdate)',
    );
    expect(pendingNadChange({ name: 'blue', template: 'ns1/red', vmi: 'ns1/red', attached: 'ns1/blue' }, { restartRequired: false, migrating: true })).toMatch(/migration that carries it is running/);
    expect(pendingNadChange({ name: 'blue', template: 'ns1/red', vmi: 'ns1/red', attached: 'ns1/red' }, { restartRequired: false, migrating: false })).toBeUndefined();
  });
});

describe('status shows them for the interface they concern', () => {
  const pod = (vmi: ReturnType<typeof running>, nadName: string) => ({
    metadata: {
      name: 'virt-launcher-vm1-aaaaa',
      namespace: 'ns1',
      labels: { 'kubevirt.io/created-by': vmi.metadata.uid as string },
      annotations: { 'k8s.v1.cni.cncf.io/network-status': JSON.stringify([{ name: 'k8s-pod-network', interface: 'eth0', default: true }, { name: `ns1/${nadName}`, interface: hashedPodInterfaceName('blue') }]) },
    },
    status: { phase: 'Running' },
  });

  it('a pending NAD change, a failed attachment with its age, and KubeVirt\'s failed interface sync', () => {
    const v = vm();
    v.spec.template.spec.networks![1] = { name: 'blue', multus: { networkName: 'red-net' } };
    v.status = { conditions: [{ type: 'Failure', status: 'True', reason: 'HotPlugNetworkInterfaceError', message: 'error encountered when trying to patch vmi: denied' }] };
    const vmi = running(vm(), { interfaces: [{ name: 'blue', infoSource: 'domain, multus-status' }] });
    const failed = event('FailedAddingInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:59:00Z');
    const s = joinVMNetworkStatus({ vm: v, vmi, pods: [pod(vmi, 'blue-net')], events: [failed], now: Date.parse('2026-01-01T01:00:00Z') });
    const w = s.warnings.filter((x) => ['nad-change-pending', 'interface-failed', 'hotplug-error'].includes(x.code));
    expect(w.map((x) => x.message)).toEqual([
      'interface blue: moving from ns1/blue-net to ns1/red-net: KubeVirt has not put it in the VMI yet (a live change needs LiveUpdateNADRef on v1.8, or v1.9+)',
      `interface blue: FailedAddingInterface on pod virt-launcher-vm1-aaaaa 60s ago: ${failed.message}`,
      'KubeVirt could not update the VMI\'s interfaces (VM condition Failure, reason HotPlugNetworkInterfaceError): error encountered when trying to patch vmi: denied',
    ]);
  });

  it('a VMI on the new NAD with the pod still on the old one waits for the migration', () => {
    const v = vm();
    v.spec.template.spec.networks![1] = { name: 'blue', multus: { networkName: 'red-net' } };
    const vmi = running(v, { interfaces: [{ name: 'blue', infoSource: 'domain, multus-status' }], conditions: [{ type: 'MigrationRequired', status: 'True', reason: 'AutoMigrationDueToLiveUpdate' }] });
    const s = joinVMNetworkStatus({ vm: v, vmi, pods: [pod(vmi, 'blue-net')] });
    expect(s.warnings.find((x) => x.code === 'nad-change-pending')?.message).toBe(
      'interface blue: moving from ns1/blue-net to ns1/red-net: it waits for the live migration that carries it (VMI condition MigrationRequired=True, AutoMigrationDueToLiveUpdate)',
    );
    const after = joinVMNetworkStatus({ vm: v, vmi, pods: [pod(vmi, 'red-net')] });
    expect(after.warnings.find((x) => x.code === 'nad-change-pending')).toBeUndefined();
  });
});

describe('FailureWatch: --wait stops on a new failure for its interface (exit 9), not on old ones or other interfaces', () => {
  // A KubeApi that answers the lists and gets from fixed objects and plays the given watch events.
  const fakeApi = (o: { listed: KubeEvent[]; watched: KubeEvent[]; vm?: VirtualMachine; vmWatched?: VirtualMachine[] }) =>
    ({
      conn: {},
      list: async () => ({ items: o.listed, metadata: { resourceVersion: '5' } }),
      getOrNull: async () => o.vm ?? null,
      get: async () => o.vm,
      patch: async () => undefined,
      mergePatch: async () => undefined,
      async *watch(path: string, opts: { signal?: AbortSignal }) {
        const items = path.includes('/events') ? o.watched : (o.vmWatched ?? []);
        for (const object of items) yield { type: 'ADDED', object };
        // Then nothing more until the caller stops.
        await new Promise((resolve) => opts.signal?.addEventListener('abort', resolve, { once: true }));
      },
    }) as unknown as import('../../src/kube/api.js').KubeApi;

  const outcome = async (p: Promise<never>) => Promise.race([p.catch((e: unknown) => e), new Promise((r) => setTimeout(() => r('still waiting'), 200))]);

  it('a FailedAddingInterface for the interface on the VM\'s launcher pod ends it with changeFailed', async () => {
    const { FailureWatch } = await import('../../src/kube/failure-watch.js');
    const failed = event('FailedAddingInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:10Z');
    const w = new FailureWatch(fakeApi({ listed: [], watched: [failed] }), vm(), 'blue', () => 'pending');
    const err = (await outcome(w.run())) as { code?: string; exitCode?: number; message?: string };
    w.stop();
    expect(err.code).toBe('changeFailed');
    expect(err.exitCode).toBe(ExitCode.changeFailed);
    expect(err.message).toBe(`interface blue of virtualmachine "vm1": FailedAddingInterface on pod virt-launcher-vm1-aaaaa: ${failed.message} (it was pending)`);
  });

  it('a failure that comes before the wait has read the VMI says no state (not "unknown")', async () => {
    const { FailureWatch } = await import('../../src/kube/failure-watch.js');
    const failed = event('FailedAddingInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:10Z');
    const w = new FailureWatch(fakeApi({ listed: [], watched: [failed] }), vm(), 'blue', () => 'unknown');
    const err = (await outcome(w.run())) as { message?: string };
    w.stop();
    expect(err.message).toBe(`interface blue of virtualmachine "vm1": FailedAddingInterface on pod virt-launcher-vm1-aaaaa: ${failed.message}`);
  });

  it('a failure listed at the start counts when it is not older than the edit (the VM\'s managedFields time)', async () => {
    const { FailureWatch } = await import('../../src/kube/failure-watch.js');
    const edited = { ...vm(), metadata: { ...vm().metadata, managedFields: [{ manager: 'kubectl-vnet', time: '2026-01-01T00:00:10Z' }] } };
    const before = event('FailedAddingInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:09Z');
    expect(await outcome(new FailureWatch(fakeApi({ listed: [before], watched: [] }), edited, 'blue', () => 'pending').run())).toBe('still waiting');
    const since = event('FailedAddingInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:11Z');
    const w = new FailureWatch(fakeApi({ listed: [since], watched: [] }), edited, 'blue', () => 'pending');
    expect(((await outcome(w.run())) as { code?: string }).code).toBe('changeFailed');
    w.stop();
  });

  it('an event listed before the wait, another interface\'s, or another VM\'s does not', async () => {
    const { FailureWatch } = await import('../../src/kube/failure-watch.js');
    const old = event('FailedAddingInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:10Z');
    const w = new FailureWatch(
      fakeApi({ listed: [old], watched: [old, event('FailedAddingInterface', 'green', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:00:11Z'), event('FailedAddingInterface', 'blue', 'virt-launcher-vm2-aaaaa', '2026-01-01T00:00:12Z')] }),
      testVM({ bridges: { blue: 'blue-net', green: 'green-net' } }),
      'blue',
      () => 'pending',
    );
    expect(await outcome(w.run())).toBe('still waiting');
    w.stop();
  });

  it('a HotPlugNetworkInterfaceError ends it once it has stood for the grace time; one KubeVirt clears (a retry got past it) does not', async () => {
    const { FailureWatch } = await import('../../src/kube/failure-watch.js');
    const cond = { type: 'Failure', status: 'True', reason: 'HotPlugNetworkInterfaceError', message: 'error encountered when trying to patch vmi: denied', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const withCond = (c: typeof cond) => ({ ...vm(), status: { conditions: [c] } });
    // Found by the edit, cleared by KubeVirt's next sync: not this edit's failure.
    const cleared = new FailureWatch(fakeApi({ listed: [], watched: [], vmWatched: [vm()] }), withCond(cond), 'blue', () => 'pending', 50);
    expect(await outcome(cleared.run())).toBe('still waiting');
    cleared.stop();
    // Found by the edit and still there after the grace time: the sync fails again.
    const stuck = new FailureWatch(fakeApi({ listed: [], watched: [], vmWatched: [withCond(cond)] }), withCond(cond), 'blue', () => 'pending', 50);
    const stuckErr = (await outcome(stuck.run())) as { code?: string };
    stuck.stop();
    expect(stuckErr.code).toBe('changeFailed');
    // New after the edit, then gone (a retry of KubeVirt's got past it): not a failure.
    const later = { ...cond, lastTransitionTime: '2026-01-01T00:01:00Z', message: 'error encountered when trying to patch vmi: the server rejected our request due to an error in our request' };
    const passing = new FailureWatch(fakeApi({ listed: [], watched: [], vmWatched: [withCond({ ...cond, lastTransitionTime: '2026-01-01T00:01:00Z' }), vm()] }), vm(), 'blue', () => 'pending', 50);
    expect(await outcome(passing.run())).toBe('still waiting');
    passing.stop();
    // A conflict that stands (KubeVirt's queue is slow to retry under load) never counts.
    const conflict = new FailureWatch(fakeApi({ listed: [], watched: [], vmWatched: [withCond(later)] }), vm(), 'blue', () => 'pending', 50);
    expect(await outcome(conflict.run())).toBe('still waiting');
    conflict.stop();
    // New after the edit and standing: it ends the wait, with KubeVirt's message.
    const denied = { ...cond, lastTransitionTime: '2026-01-01T00:01:00Z' };
    const w = new FailureWatch(fakeApi({ listed: [], watched: [], vmWatched: [withCond(denied)] }), vm(), 'blue', () => 'pending', 50);
    const err = (await outcome(w.run())) as { code?: string; message?: string };
    w.stop();
    expect(err.code).toBe('changeFailed');
    expect(err.message).toMatch(/VM condition Failure, reason HotPlugNetworkInterfaceError\): error encountered when trying to patch vmi: denied/);
  });
});

describe('doctor: interface-failures', () => {
  it('fails on a standing failure event and on HotPlugNetworkInterfaceError (counted once), warns on a pending NAD change, ok otherwise', async () => {
    const { checkConditions, checkInterfaceFailures } = await import('../../src/domain/doctor.js');
    const base = (v: VirtualMachine, vmi: ReturnType<typeof running> | null, events?: KubeEvent[]) =>
      ({ vm: v, vmi, pods: [], nads: new Map(), kubevirt: { state: 'absent' }, dynamicNetworks: { state: 'absent' }, macpool: { view: {}, namespace: null }, events, now: Date.parse('2026-01-01T01:00:00Z') }) as never;
    const healthy = vm();
    expect(checkInterfaceFailures(base(healthy, running(healthy), []))).toEqual([{ id: 'interface-failures', result: 'ok', message: 'no failed attachment, failed interface sync or pending NAD change', fix: null }]);

    const failed = event('FailedAddingInterface', 'blue', 'virt-launcher-vm1-aaaaa', '2026-01-01T00:59:00Z');
    const withEvent = checkInterfaceFailures(base(healthy, running(healthy), [failed]));
    expect(withEvent.map((c) => [c.result, c.message])).toEqual([['fail', `interface blue: FailedAddingInterface on pod virt-launcher-vm1-aaaaa 60s ago: ${failed.message}`]]);

    const broken = vm();
    broken.status = { conditions: [{ type: 'Failure', status: 'True', reason: 'HotPlugNetworkInterfaceError', message: 'error encountered when trying to patch vmi: denied' }] };
    const f = base(broken, running(broken), []);
    expect(checkInterfaceFailures(f).map((c) => c.result)).toEqual(['fail']);
    expect(checkConditions(f).filter((c) => c.result === 'fail')).toEqual([]);

    const moving = vm();
    moving.spec.template.spec.networks![1] = { name: 'blue', multus: { networkName: 'red-net' } };
    expect(checkInterfaceFailures(base(moving, running(vm()), [])).map((c) => [c.result, c.message])).toEqual([
      ['warn', 'interface blue: moving from ns1/blue-net to ns1/red-net: KubeVirt has not put it in the VMI yet (a live change needs LiveUpdateNADRef on v1.8, or v1.9+)'],
    ]);
    expect(checkInterfaceFailures({ ...(base(healthy, running(healthy)) as object), eventsUnreadable: 'cannot list events: forbidden' } as never).map((c) => c.result)).toEqual(['warn']);
  });
});
