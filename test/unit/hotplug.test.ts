import { describe, expect, it } from 'vitest';
import { spellOptions } from '../../src/errors.js';
import { refusalOf, testVM, testVMI } from '../support/vm.js';
import { defaultInterfaceName, estimateInterfaceSlots, parseQuantity, planHotplug, planLinkState, planUnplug, type ClusterFacts } from '../../src/domain/hotplug.js';
import { parseVersion } from '../../src/domain/kubevirt-config.js';
import { applyPatch, PatchConflict } from '../../src/domain/patch.js';
import type { MacUse } from '../../src/domain/mac.js';
import type { KubeVirtCR, NetworkAttachmentDefinition, VirtualMachine, VirtualMachineInstance } from '../../src/domain/types.js';

/** vm1 in ns1 with the pod network, a root disk and 1Gi of memory; `spec` goes into its template's spec. */
function vm(spec: Record<string, unknown> = {}, extra: Partial<VirtualMachine> = {}): VirtualMachine {
  const templateSpec = {
    domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }], disks: [{ name: 'root', disk: { bus: 'virtio' } }] }, memory: { guest: '1Gi' } },
    networks: [{ name: 'default', pod: {} }],
    ...spec,
  };
  return { ...testVM({ templateSpec }), ...extra };
}

/** A VM whose template has no interfaces and no networks (the implicit default). */
const bareVM = (): VirtualMachine => testVM({ templateSpec: { domain: { devices: { disks: [] } } }, resourceVersion: null });

function nad(config: unknown, name = 'blue-net', namespace = 'ns1'): NetworkAttachmentDefinition {
  return { metadata: { name, namespace }, spec: { config: JSON.stringify(config) } };
}

function kubevirt(version: string, conf: Record<string, unknown> = {}, workload: string[] = ['LiveMigrate']): KubeVirtCR {
  return {
    metadata: { name: 'kubevirt', namespace: 'kubevirt' },
    spec: { configuration: { ...conf }, workloadUpdateStrategy: { workloadUpdateMethods: workload } },
    status: { observedKubeVirtVersion: version },
  };
}

/** The running VMI of a VM (its template's spec, phase Running). */
const vmiOf = testVMI;

const bridgeNad = nad({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' });
const healthy: ClusterFacts = { nad: bridgeNad, kubevirt: kubevirt('v1.6.0') };

const refusal = refusalOf;

describe('defaultInterfaceName', () => {
  it('derives a valid name from the NAD and avoids taken ones', () => {
    expect(defaultInterfaceName('blue-net')).toBe('blue-net');
    expect(defaultInterfaceName('blue.net.v2')).toBe('blue-net-v2');
    expect(defaultInterfaceName('blue-net', new Set(['blue-net']))).toBe('blue-net-2');
    expect(defaultInterfaceName('blue-net', new Set(['blue-net', 'blue-net-2']))).toBe('blue-net-3');
    expect(defaultInterfaceName('...')).toBe('net');
    const long = 'a'.repeat(80);
    expect(defaultInterfaceName(long)).toHaveLength(63);
    expect(defaultInterfaceName(long, new Set(['a'.repeat(63)]))).toBe('a'.repeat(61) + '-2');
    expect(defaultInterfaceName('x.y')).toMatch(/^[A-Za-z0-9-_]+$/);
  });
});

describe('planHotplug', () => {
  it('appends the interface and its network in one patch, guarded by tests of both lists', () => {
    const v = vm();
    const plan = planHotplug(v, { network: 'blue-net', name: 'blue' }, healthy);
    expect(plan.summary).toBe('add interface blue (bridge) on ns1/blue-net');
    expect(plan.ops).toEqual([
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces', value: [{ name: 'default', masquerade: {} }] },
      { op: 'test', path: '/spec/template/spec/networks', value: [{ name: 'default', pod: {} }] },
      { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/-', value: { name: 'blue', bridge: {} } },
      { op: 'add', path: '/spec/template/spec/networks/-', value: { name: 'blue', multus: { networkName: 'blue-net' } } },
    ]);
    const after = applyPatch(v, plan.ops);
    expect(after.spec.template.spec.domain!.devices!.interfaces!.map((i) => i.name)).toEqual(['default', 'blue']);
    expect(after.spec.template.spec.networks!.map((n) => n.name)).toEqual(['default', 'blue']);
    expect(plan.warnings).toEqual([]);
    expect(plan.interfaceName).toBe('blue');
  });

  it('fails its test when another writer changed the lists meanwhile', () => {
    const v = vm();
    const plan = planHotplug(v, { network: 'blue-net', name: 'blue' }, healthy);
    const concurrent = applyPatch(v, planHotplug(v, { network: 'blue-net', name: 'red' }, healthy).ops);
    expect(() => applyPatch(concurrent, plan.ops)).toThrow(PatchConflict);
    // Re-planned on the new VM, it applies and keeps the other edit.
    const again = applyPatch(concurrent, planHotplug(concurrent, { network: 'blue-net', name: 'blue' }, healthy).ops);
    expect(again.spec.template.spec.networks!.map((n) => n.name)).toEqual(['default', 'red', 'blue']);
  });

  it('writes sriov, MAC (normalised) and model, and a namespaced network name as given', () => {
    const facts: ClusterFacts = { nad: nad({ type: 'sriov' }, 'sriov-net', 'infra'), kubevirt: kubevirt('v1.6.0') };
    const plan = planHotplug(vm(), { network: 'infra/sriov-net', name: 'fast', binding: 'SRIOV', mac: '02-00-00-AA-BB-01', model: 'virtio' }, facts);
    const adds = plan.ops.filter((o) => o.op === 'add');
    expect(adds.map((o) => (o as { value: unknown }).value)).toEqual([
      { name: 'fast', sriov: {}, macAddress: '02:00:00:aa:bb:01', model: 'virtio' },
      { name: 'fast', multus: { networkName: 'infra/sriov-net' } },
    ]);
    expect(plan.summary).toBe('add interface fast (sriov) on infra/sriov-net');
  });

  it('takes 02:00:00:00:00:00 on a bridge interface: KubeVirt reserves it only on masquerade interfaces (admitter validateMasqueradeBinding)', () => {
    const plan = planHotplug(vm(), { network: 'blue-net', name: 'blue', mac: '02:00:00:00:00:00' }, healthy);
    expect(plan.ops.filter((o) => o.op === 'add').map((o) => (o as { value: unknown }).value)[0]).toEqual({ name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:00' });
  });

  it('derives the name from the NAD when --name is absent, past taken names', () => {
    const v = vm({ domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue-net', bridge: {} }] } }, networks: [{ name: 'default', pod: {} }, { name: 'blue-net', multus: { networkName: 'blue-net' } }] });
    const plan = planHotplug(v, { network: 'blue-net' }, healthy);
    expect(plan.interfaceName).toBe('blue-net-2');
    // Notes name the option; the presenter spells it as the flag.
    expect(plan.notes.map((n) => spellOptions(n))).toContain('interface name "blue-net-2" derived from the NAD (set it with --name)');
  });

  describe('the implicit default network', () => {
    it('of a stopped VM is refused when it would be bridge and the KubeVirt CR forbids bridge on the pod network', () => {
      const noBridge = kubevirt('v1.6.0', { network: { permitBridgeInterfaceOnPodNetwork: false } });
      for (const run of [() => planHotplug(bareVM(), { network: 'blue-net', name: 'blue' }, { nad: bridgeNad, kubevirt: noBridge, vmi: null }), () => planLinkState(bareVM(), { name: 'default', state: 'down' }, { kubevirt: noBridge, vmi: null })]) {
        const err = refusal(run);
        expect(err.code).toBe('precondition');
        expect(err.message).toContain('permitBridgeInterfaceOnPodNetwork: false');
        expect(err.hint).toContain('masquerade');
      }
      // With masquerade as the cluster's default, or with bridge permitted, it is written out.
      const masq = planHotplug(bareVM(), { network: 'blue-net', name: 'blue' }, { nad: bridgeNad, kubevirt: kubevirt('v1.6.0', { network: { permitBridgeInterfaceOnPodNetwork: false, defaultNetworkInterface: 'masquerade' } }), vmi: null });
      expect(JSON.stringify(masq.ops)).toContain('"masquerade":{}');
      expect(() => planHotplug(bareVM(), { network: 'blue-net', name: 'blue' }, { nad: bridgeNad, kubevirt: kubevirt('v1.6.0', { network: { permitBridgeInterfaceOnPodNetwork: true } }), vmi: null })).not.toThrow();
    });

    it('is copied from the running VMI into the same patch', () => {
      const v = bareVM();
      const vmi: VirtualMachineInstance = {
        metadata: { name: 'vm1', namespace: 'ns1' },
        spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {}, model: 'virtio' }] } }, networks: [{ name: 'default', pod: {} }] },
        status: { phase: 'Running' },
      };
      const plan = planHotplug(v, { network: 'blue-net', name: 'blue' }, { ...healthy, vmi });
      expect(plan.ops).toEqual([
        { op: 'test', path: '/spec/template/spec/domain/devices', value: { disks: [] } },
        { op: 'test', path: '/spec/template/spec', value: { domain: { devices: { disks: [] } } } },
        { op: 'add', path: '/spec/template/spec/domain/devices/interfaces', value: [{ name: 'default', masquerade: {}, model: 'virtio' }, { name: 'blue', bridge: {} }] },
        { op: 'add', path: '/spec/template/spec/networks', value: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }] },
      ]);
      expect(plan.summary).toMatch(/write out the implicit default pod network/);
      expect(plan.notes.join('\n')).toMatch(/copied from the running VMI/);
      const after = applyPatch(v, plan.ops);
      expect(after.spec.template.spec.networks).toHaveLength(2);
    });

    it('with empty interface and network lists: guards the devices it read, so a concurrent autoattachPodInterface: false fails the patch', () => {
      const v = bareVM();
      v.spec.template.spec.domain!.devices!.interfaces = [];
      v.spec.template.spec.networks = [];
      const changed = structuredClone(v);
      changed.spec.template.spec.domain!.devices!.autoattachPodInterface = false;
      for (const plan of [planHotplug(v, { network: 'blue-net', name: 'blue' }, { ...healthy, vmi: null }), planLinkState(v, { name: 'default', state: 'down' }, { ...healthy, vmi: null })]) {
        expect(applyPatch(v, plan.ops).spec.template.spec.networks![0]).toEqual({ name: 'default', pod: {} });
        expect(() => applyPatch(changed, plan.ops)).toThrow(PatchConflict);
      }
    });

    it('uses KubeVirt\'s default binding when the VM is stopped: the CR\'s, else bridge', () => {
      const masq = planHotplug(bareVM(), { network: 'blue-net', name: 'blue' }, { nad: bridgeNad, kubevirt: kubevirt('v1.6.0', { network: { defaultNetworkInterface: 'masquerade' } }), vmi: null });
      const ifaces = masq.ops.find((o) => o.op === 'add' && o.path.endsWith('/interfaces')) as { value: unknown[] };
      expect(ifaces.value[0]).toEqual({ name: 'default', masquerade: {} });
      expect(masq.notes).toContain('the VM is not running: the interface is added to the VM and applies at its next start');

      const builtin = planHotplug(bareVM(), { network: 'blue-net', name: 'blue' }, { nad: bridgeNad, kubevirt: kubevirt('v1.6.0'), vmi: null });
      const ifaces2 = builtin.ops.find((o) => o.op === 'add' && o.path.endsWith('/interfaces')) as { value: unknown[] };
      expect(ifaces2.value[0]).toEqual({ name: 'default', bridge: {} });
    });

    it('adds the devices object when even that is missing', () => {
      const v: VirtualMachine = { metadata: { name: 'vm1', namespace: 'ns1' }, spec: { template: { spec: { domain: {} } } } };
      const plan = planHotplug(v, { network: 'blue-net', name: 'blue' }, { nad: bridgeNad, vmi: null });
      expect(plan.ops[0]).toEqual({ op: 'test', path: '/spec/template/spec/domain', value: {} });
      expect(plan.ops[2]).toMatchObject({ op: 'add', path: '/spec/template/spec/domain/devices' });
      const after = applyPatch(v, plan.ops);
      expect(after.spec.template.spec.domain!.devices!.interfaces!.map((i) => i.name)).toEqual(['default', 'blue']);
    });

    it('does not write a default when autoattachPodInterface is false', () => {
      const v: VirtualMachine = { metadata: { name: 'vm1', namespace: 'ns1' }, spec: { template: { spec: { domain: { devices: { autoattachPodInterface: false } } } } } };
      const plan = planHotplug(v, { network: 'blue-net', name: 'blue' }, { nad: bridgeNad, vmi: null });
      const after = applyPatch(v, plan.ops);
      expect(after.spec.template.spec.networks).toEqual([{ name: 'blue', multus: { networkName: 'blue-net' } }]);
    });
  });

  describe('refusals (precondition, nothing planned)', () => {
    it.each([
      ['an invalid name', { network: 'blue-net', name: 'blue.1' }, /not a valid interface name/],
      ['a name used by an interface', { network: 'blue-net', name: 'default' }, /already used by an interface and a network/],
      ['a binding other than bridge or SR-IOV', { network: 'blue-net', name: 'b', binding: 'masquerade' }, /binding "masquerade" cannot be hot-plugged/],
    ])('%s', (_what, req, msg) => {
      const err = refusal(() => planHotplug(vm(), req, healthy));
      expect(err.code).toBe('precondition');
      expect(err.message).toMatch(msg);
      expect(err.hint).toBeTruthy();
    });

    it('a name used only by a network', () => {
      const v = vm({ networks: [{ name: 'default', pod: {} }, { name: 'orphan', multus: { networkName: 'x' } }] });
      expect(refusal(() => planHotplug(v, { network: 'blue-net', name: 'orphan' }, healthy)).message).toMatch(/already used by a network/);
    });

    it('"default" on a VM with the implicit default network', () => {
      expect(refusal(() => planHotplug(bareVM(), { network: 'blue-net', name: 'default' }, healthy)).message).toMatch(/already used/);
    });

    it('a NAD that does not exist', () => {
      const err = refusal(() => planHotplug(vm(), { network: 'infra/nope', name: 'b' }, { nad: null }));
      expect(err.code).toBe('precondition');
      expect(err.message).toBe('NetworkAttachmentDefinition "nope" not found in namespace "infra"');
      expect(err.hint).toMatch(/kubectl get network-attachment-definitions -n infra/);
    });

    it('macvlan / ipvlan with bridge binding, also in a plugins list; --force turns it into a warning', () => {
      for (const config of [{ type: 'macvlan', master: 'eth0' }, { plugins: [{ type: 'ipvlan' }, { type: 'tuning' }] }]) {
        const facts = { nad: nad(config), kubevirt: kubevirt('v1.6.0') };
        const err = refusal(() => planHotplug(vm(), { network: 'blue-net', name: 'b' }, facts));
        expect(err.code).toBe('precondition');
        expect(err.hint).toMatch(/--force/);
        const forced = planHotplug(vm(), { network: 'blue-net', name: 'b', force: true }, facts);
        expect(forced.warnings.map((w) => w.code)).toContain('cni-incompatible');
        expect(forced.ops.length).toBeGreaterThan(0);
      }
      // SR-IOV binding on such a NAD is not bridge binding: not refused for that reason.
      expect(() => planHotplug(vm(), { network: 'blue-net', name: 'b', binding: 'sriov' }, { nad: nad({ type: 'macvlan' }) })).not.toThrow();
    });

    it('a kube-ovn NAD without a Subnet of provider <nad>.<ns>.ovn; --force overrides; unreadable Subnets skip the check', () => {
      const ovn = nad({ type: 'kube-ovn', provider: 'attachnet.ns1.ovn' }, 'attachnet');
      const err = refusal(() => planHotplug(vm(), { network: 'attachnet', name: 'b' }, { nad: ovn, subnets: [] }));
      expect(err.message).toMatch(/no Kube-OVN Subnet has provider "attachnet.ns1.ovn"/);
      expect(err.hint).toMatch(/spec.provider: attachnet.ns1.ovn/);
      expect(planHotplug(vm(), { network: 'attachnet', name: 'b', force: true }, { nad: ovn, subnets: [] }).warnings.map((w) => w.code)).toContain('kube-ovn-subnet');
      const ok = planHotplug(vm(), { network: 'attachnet', name: 'b' }, { nad: ovn, subnets: [{ metadata: { name: 's' }, spec: { provider: 'attachnet.ns1.ovn' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }] });
      expect(ok.warnings).toEqual([]);
      const skipped = planHotplug(vm(), { network: 'attachnet', name: 'b' }, { nad: ovn, subnetsUnreadable: 'forbidden' });
      expect(skipped.notes).toContain('Kube-OVN Subnets not checked (forbidden)');
      // The VM template's logical_switch annotation names the Subnet instead.
      const withSwitch = (subnet: string) => {
        const v = vm();
        v.spec!.template!.metadata = { annotations: { 'attachnet.ns1.ovn.kubernetes.io/logical_switch': subnet } };
        return v;
      };
      const vlan = { metadata: { name: 'vlan-a' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
      expect(planHotplug(withSwitch('vlan-a'), { network: 'attachnet', name: 'b' }, { nad: ovn, subnets: [vlan] }).warnings).toEqual([]);
      const gone = refusal(() => planHotplug(withSwitch('nope'), { network: 'attachnet', name: 'b' }, { nad: ovn, subnets: [vlan] }));
      expect(gone.message).toContain('names Kube-OVN Subnet "nope", which does not exist');
      expect(gone.hint).toContain('create Subnet nope, or fix the annotation attachnet.ns1.ovn.kubernetes.io/logical_switch');
    });

    it('--force never overrides admission rules', () => {
      expect(refusal(() => planHotplug(vm(), { network: 'blue-net', name: 'a/b', force: true }, healthy)).code).toBe('precondition');
      expect(refusal(() => planHotplug(vm(), { network: 'blue-net', name: 'x', binding: 'slirp', force: true }, healthy)).code).toBe('precondition');
    });

    it('a name still being unplugged: absent in the VM, or still in the VMI', () => {
      const v = vm({
        domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, state: 'absent' }] } },
        networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }],
      });
      const err = refusal(() => planHotplug(v, { network: 'blue-net', name: 'blue' }, healthy));
      expect(err.message).toMatch(/still being unplugged \(state: absent in the VM\)/);
      expect(err.hint).toMatch(/wait until it is gone/);

      const gone = vm();
      const vmi = vmiOf(gone, { interfaces: [{ name: 'blue', infoSource: 'domain' }] });
      vmi.spec.domain!.devices!.interfaces!.push({ name: 'blue', bridge: {}, state: 'absent' });
      expect(refusal(() => planHotplug(gone, { network: 'blue-net', name: 'blue' }, { ...healthy, vmi })).message).toMatch(/still in the running VMI with state: absent/);
      // Without --name, the derived name steps around it.
      expect(planHotplug(gone, { network: 'blue', name: undefined }, { nad: nad({ type: 'bridge' }, 'blue'), vmi }).interfaceName).toBe('blue-2');
    });

    it('an invalid MAC or model is a usage error', () => {
      expect(refusal(() => planHotplug(vm(), { network: 'blue-net', name: 'b', mac: 'zz:00' }, healthy)).code).toBe('usage');
      expect(refusal(() => planHotplug(vm(), { network: 'blue-net', name: 'b', model: 'e1000x' }, healthy)).code).toBe('usage');
      expect(refusal(() => planHotplug(vm(), { network: 'a/b/c', name: 'b' }, healthy)).code).toBe('usage');
    });
  });

  describe('--mac against the MACs other interfaces claim', () => {
    const other = { kind: 'VirtualMachine', namespace: 'ns2', name: 'web', iface: 'blue', mac: '02:00:00:00:00:aa', source: 'spec' } as MacUse;
    const req = { network: 'blue-net', name: 'blue', mac: '02-00-00-00-00-AA' };

    it('refuses a MAC another VM has, naming it; nothing is planned', () => {
      const err = refusal(() => planHotplug(vm(), req, { ...healthy, macUses: { uses: [other] } }));
      expect(err.code).toBe('precondition');
      expect(err.message).toBe('02:00:00:00:00:aa is already used by VirtualMachine ns2/web interface "blue" (spec macAddress)');
      expect(err.hint).toContain('--force');
    });

    it('--force sends it with a warning', () => {
      const plan = planHotplug(vm(), { ...req, force: true }, { ...healthy, macUses: { uses: [other] } });
      expect(plan.warnings.map((w) => w.code)).toContain('mac-collision');
      expect(plan.ops.some((o) => o.op === 'add' && (o as { value?: { macAddress?: string } }).value?.macAddress === '02:00:00:00:00:aa')).toBe(true);
    });

    it('a MAC nobody else has passes; a partial check says what it could not read', () => {
      const free = planHotplug(vm(), req, { ...healthy, macUses: { uses: [{ ...other, mac: '02:00:00:00:00:bb' }] } });
      expect(free.warnings.map((w) => w.code)).not.toContain('mac-collision');
      const partial = planHotplug(vm(), req, { ...healthy, macUses: { uses: [], partial: 'cannot list virtualmachines across namespaces; checked namespace "ns1" only' } });
      expect(partial.warnings.find((w) => w.code === 'mac-collision-check-partial')?.message).toContain('checked namespace "ns1" only');
    });

    it('without cluster facts (a manifest file) the check is skipped, and a note says so', () => {
      const plan = planHotplug(vm(), req, healthy);
      expect(plan.notes).toContain('the MAC collision check was skipped (no cluster facts)');
    });
  });

  describe('warnings from the KubeVirt CR', () => {
    it('KubeVirt older than 1.4 without HotplugNICs', () => {
      const w = planHotplug(vm(), { network: 'blue-net', name: 'b' }, { nad: bridgeNad, kubevirt: kubevirt('v1.3.1', { vmRolloutStrategy: 'LiveUpdate' }) }).warnings;
      expect(w.map((x) => x.code)).toEqual(['hotplug-gate-missing']);
      const gated = planHotplug(vm(), { network: 'blue-net', name: 'b' }, { nad: bridgeNad, kubevirt: kubevirt('v1.3.1', { vmRolloutStrategy: 'LiveUpdate', developerConfiguration: { featureGates: ['HotplugNICs'] } }) }).warnings;
      expect(gated).toEqual([]);
    });

    it('rollout strategy not LiveUpdate (explicit Stage, or unset before v1.6)', () => {
      const stage = planHotplug(vm(), { network: 'blue-net', name: 'b' }, { nad: bridgeNad, kubevirt: kubevirt('v1.6.0', { vmRolloutStrategy: 'Stage' }) }).warnings;
      expect(stage.map((x) => x.message)).toEqual(['the KubeVirt rollout strategy is Stage, not LiveUpdate: a running VM gets this change only after a restart (RestartRequired)']);
      const unset15 = planHotplug(vm(), { network: 'blue-net', name: 'b' }, { nad: bridgeNad, kubevirt: kubevirt('v1.5.2') }).warnings;
      expect(unset15.map((x) => x.code)).toEqual(['rollout-not-liveupdate']);
      expect(unset15[0].message).toMatch(/unset; the default before v1.6/);
      expect(planHotplug(vm(), { network: 'blue-net', name: 'b' }, { nad: bridgeNad, kubevirt: kubevirt('v1.6.0') }).warnings).toEqual([]);
    });

    it('an SR-IOV plug without LiveMigrate in workloadUpdateMethods', () => {
      const facts = { nad: nad({ type: 'sriov' }), kubevirt: kubevirt('v1.6.0', {}, ['Evict']) };
      expect(planHotplug(vm(), { network: 'blue-net', name: 'b', binding: 'sriov' }, facts).warnings.map((x) => x.code)).toEqual(['no-live-migrate']);
      expect(planHotplug(vm(), { network: 'blue-net', name: 'b' }, { ...facts, nad: bridgeNad }).warnings).toEqual([]);
    });

    it('near or over the hot-plug slot limit of the version', () => {
      const four = vm({
        domain: { devices: { interfaces: ['default', 'a', 'b'].map((n) => (n === 'default' ? { name: n, masquerade: {} } : { name: n, bridge: {} })) } },
        networks: [{ name: 'default', pod: {} }, { name: 'a', multus: { networkName: 'x' } }, { name: 'b', multus: { networkName: 'x' } }],
      });
      const running = vmiOf(four);
      const near = planHotplug(four, { network: 'blue-net', name: 'c' }, { nad: bridgeNad, kubevirt: kubevirt('v1.5.2', { vmRolloutStrategy: 'LiveUpdate' }), vmi: running });
      expect(near.warnings.map((w) => w.code)).toEqual(['slots-near-limit']);
      const five = applyPatch(four, near.ops);
      const over = planHotplug(five, { network: 'blue-net', name: 'd' }, { nad: bridgeNad, kubevirt: kubevirt('v1.5.2', { vmRolloutStrategy: 'LiveUpdate' }), vmi: vmiOf(five) });
      expect(over.warnings.map((w) => w.code)).toEqual(['slots-exhausted']);
      expect(over.warnings[0].message).toMatch(/would have 5 interfaces, above the estimated 4/);
      // Stopped: no slot advice (it boots with whatever it has).
      expect(planHotplug(five, { network: 'blue-net', name: 'd' }, { nad: bridgeNad, kubevirt: kubevirt('v1.5.2', { vmRolloutStrategy: 'LiveUpdate' }), vmi: null }).warnings).toEqual([]);
    });

    it('notes the checks it skipped when facts are absent (offline)', () => {
      const plan = planHotplug(vm(), { network: 'blue-net', name: 'b' }, {});
      expect(plan.notes).toEqual([
        'NetworkAttachmentDefinition ns1/blue-net not checked (no cluster): existence, CNI type and Subnet checks skipped',
        'KubeVirt CR not checked: version, feature gate and rollout strategy checks skipped',
        'the VMI was not checked: whether the VM runs is not known',
      ]);
      expect(plan.ops).toHaveLength(4);
    });

    it('MAC advice from the NAD: flannel without tuning', () => {
      const plan = planHotplug(vm(), { network: 'blue-net', name: 'b', mac: '02:00:00:00:00:01' }, { nad: nad({ type: 'flannel' }), kubevirt: kubevirt('v1.6.0') });
      expect(plan.warnings.map((w) => w.code)).toEqual(['mac-unsupported']);
    });
  });
});

describe('planUnplug', () => {
  const withBlue = () =>
    vm({
      domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }, { name: 'fast', sriov: {} }] } },
      networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }, { name: 'fast', multus: { networkName: 'sriov-net' } }],
    });

  it('sets state absent on the interface, guarded by tests of the entry and its network', () => {
    const v = withBlue();
    const plan = planUnplug(v, { name: 'blue' }, { kubevirt: kubevirt('v1.6.0'), vmi: vmiOf(v) });
    expect(plan.ops).toEqual([
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces/1', value: { name: 'blue', bridge: {} } },
      { op: 'test', path: '/spec/template/spec/networks/1', value: { name: 'blue', multus: { networkName: 'blue-net' } } },
      { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/1/state', value: 'absent' },
    ]);
    expect(plan.summary).toBe('unplug interface blue (state: absent)');
    const after = applyPatch(v, plan.ops);
    expect(after.spec.template.spec.domain!.devices!.interfaces![1]).toEqual({ name: 'blue', bridge: {}, state: 'absent' });
    // The network stays: KubeVirt removes both later.
    expect(after.spec.template.spec.networks).toHaveLength(3);
  });

  it('is a no-op when already absent', () => {
    const v = applyPatch(withBlue(), [{ op: 'add', path: '/spec/template/spec/domain/devices/interfaces/1/state', value: 'absent' }]);
    const plan = planUnplug(v, { name: 'blue' });
    expect(plan.noop).toBe(true);
    expect(plan.ops).toEqual([]);
  });

  it('notes that a stopped VM loses it at once', () => {
    expect(planUnplug(withBlue(), { name: 'blue' }, { vmi: null, kubevirt: kubevirt('v1.6.0') }).notes).toContain('the VM is not running: KubeVirt removes the interface from the VM right away');
  });

  it.each([
    ['SR-IOV', 'fast', /uses sriov binding: KubeVirt unplugs only bridge interfaces \(an SR-IOV interface cannot be unplugged live\)/],
    ['the pod network', 'default', /on the VM's pod network: KubeVirt does not unplug default networks/],
    ['an unknown name', 'nope', /has no interface "nope" \(it has: default, blue, fast\)/],
  ])('refuses %s', (_w, name, msg) => {
    const err = refusal(() => planUnplug(withBlue(), { name }));
    expect(err.code).toBe('precondition');
    expect(err.message).toMatch(msg);
  });

  it('refuses the multus default network and the implicit default', () => {
    const v = vm({ domain: { devices: { interfaces: [{ name: 'main', bridge: {} }] } }, networks: [{ name: 'main', multus: { networkName: 'x', default: true } }] });
    expect(refusal(() => planUnplug(v, { name: 'main' })).message).toMatch(/multus default network/);
    expect(refusal(() => planUnplug(bareVM(), { name: 'default' })).message).toMatch(/implicit pod network/);
  });
});

describe('planLinkState', () => {
  const v = () =>
    vm({
      domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }, { name: 'fast', sriov: {} }] } },
      networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }, { name: 'fast', multus: { networkName: 'sriov-net' } }],
    });

  it('sets state down and back up, guarded by a test of the entry', () => {
    const down = planLinkState(v(), { name: 'blue', state: 'down' }, { kubevirt: kubevirt('v1.6.0') });
    expect(down.ops).toEqual([
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces/1', value: { name: 'blue', bridge: {} } },
      { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/1/state', value: 'down' },
    ]);
    expect(down.warnings).toEqual([]);
    const after = applyPatch(v(), down.ops);
    const up = planLinkState(after, { name: 'blue', state: 'up' }, { kubevirt: kubevirt('v1.6.0') });
    expect(up.ops[1]).toEqual({ op: 'add', path: '/spec/template/spec/domain/devices/interfaces/1/state', value: 'up' });
  });

  it('is a no-op when the link already is as asked (empty means up)', () => {
    expect(planLinkState(v(), { name: 'blue', state: 'up' }).noop).toBe(true);
  });

  it('refuses SR-IOV, unknown names and interfaces being unplugged', () => {
    expect(refusal(() => planLinkState(v(), { name: 'fast', state: 'down' })).message).toMatch(/SR-IOV/);
    expect(refusal(() => planLinkState(v(), { name: 'nope', state: 'down' })).code).toBe('precondition');
    const absent = applyPatch(v(), [{ op: 'add', path: '/spec/template/spec/domain/devices/interfaces/1/state', value: 'absent' }]);
    expect(refusal(() => planLinkState(absent, { name: 'blue', state: 'down' })).message).toMatch(/being unplugged/);
    expect(refusal(() => planLinkState(v(), { name: 'blue', state: 'sideways' })).code).toBe('usage');
  });

  it('warns on KubeVirt older than 1.5 and on the primary network going down', () => {
    expect(planLinkState(v(), { name: 'blue', state: 'down' }, { kubevirt: kubevirt('v1.4.1', { vmRolloutStrategy: 'LiveUpdate' }) }).warnings.map((w) => w.code)).toEqual(['link-state-unsupported']);
    expect(planLinkState(v(), { name: 'default', state: 'down' }, { kubevirt: kubevirt('v1.6.0') }).warnings.map((w) => w.code)).toEqual(['primary-link-down']);
  });

  it('writes out the implicit default to carry a link state', () => {
    const plan = planLinkState(bareVM(), { name: 'default', state: 'down' }, { vmi: null, kubevirt: kubevirt('v1.6.0', { network: { defaultNetworkInterface: 'masquerade' } }) });
    const after = applyPatch(bareVM(), plan.ops);
    expect(after.spec.template.spec.domain!.devices!.interfaces).toEqual([{ name: 'default', masquerade: {}, state: 'down' }]);
    expect(after.spec.template.spec.networks).toEqual([{ name: 'default', pod: {} }]);
  });
});

describe('slot estimates', () => {
  it('parses quantities', () => {
    expect(parseQuantity('2Gi')).toBe(2 * 2 ** 30);
    expect(parseQuantity('1024M')).toBe(1.024e9);
    expect(parseQuantity('x')).toBeNaN();
  });

  it('follows the version: 4 in total before 1.6, memory-scaled free ports from 1.6, the frozen annotation when set', () => {
    const v = vm();
    expect(estimateInterfaceSlots(v, parseVersion('v1.0.1'), 1)).toBeUndefined();
    expect(estimateInterfaceSlots(v, parseVersion('v1.5.0'), 1)?.limit).toBe(4);
    expect(estimateInterfaceSlots(v, parseVersion('v1.5.0'), 6)?.limit).toBe(6);
    // 1 Gi guest, 1 interface + 1 virtio disk + 3 controllers = 5 ports: max(8-5, 3) = 3 free.
    expect(estimateInterfaceSlots(v, parseVersion('v1.6.0'), 1)?.limit).toBe(4);
    const big = vm({ domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }], disks: [] }, memory: { guest: '4Gi' } } });
    // 4 Gi: max(16 - 4, 6) = 12 free.
    expect(estimateInterfaceSlots(big, parseVersion('v1.7.0'), 1)?.limit).toBe(13);
    const frozen = vm({}, {});
    frozen.spec.template.metadata = { annotations: { 'kubevirt.io/pci-interface-slot-count': '11' } };
    expect(estimateInterfaceSlots(frozen, parseVersion('v1.8.0'), 1)).toMatchObject({ limit: 11 });
  });
});
