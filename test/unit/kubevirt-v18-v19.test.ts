// The rules that follow KubeVirt v1.8 and v1.9 (and kubemacpool v0.51), each keyed by the KubeVirt
// CR's observedKubeVirtVersion and checked for v1.4, v1.6, v1.8 and v1.9.
import { describe, expect, it } from 'vitest';
import { desiredNetworkView } from '../../src/domain/desired.js';
import { checkBindingSupport, checkHookSidecars, checkMacCollisions, type DoctorFacts } from '../../src/domain/doctor.js';
import { estimateInterfaceSlots, planHotplug, planLinkState, planUnplug } from '../../src/domain/hotplug.js';
import { bindingAdmission, hookSidecarsDeprecated, parseVersion } from '../../src/domain/kubevirt-config.js';
import { buildMacList, parseCollisionEvent, type CollisionEvent } from '../../src/domain/mac-list.js';
import { planMacSet, planMacUnset } from '../../src/domain/mac-plan.js';
import { collectMacUses } from '../../src/domain/mac.js';
import { joinVMNetworkStatus } from '../../src/domain/status.js';
import type { KubeVirtCR, VirtualMachine, VMInterface, VMNetwork } from '../../src/domain/types.js';
import { renderMacList } from '../../src/render/mac-list.js';
import { painter } from '../../src/render/output.js';
import { refusalOf, testVM, testVMI } from '../support/vm.js';

const VERSIONS = ['v1.4.1', 'v1.6.0', 'v1.8.2', 'v1.9.0'] as const;

function cr(version: string, gates: string[] = ['Sidecar']): KubeVirtCR {
  return { metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: { configuration: { developerConfiguration: { featureGates: gates } } }, status: { observedKubeVirtVersion: version } };
}

/** A VM with the pod network (masquerade) and one more interface with its network. */
function vmWith(iface: VMInterface, net: VMNetwork = { name: iface.name, multus: { networkName: 'blue-net' } }, annotations?: Record<string, string>): VirtualMachine {
  return testVM({
    templateSpec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, iface] } }, networks: [{ name: 'default', pod: {} }, net] },
    templateAnnotations: annotations,
  });
}

function doctorFacts(vm: VirtualMachine, kubevirt: KubeVirtCR | null, over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    vm,
    vmi: null,
    pods: [],
    nads: new Map(),
    kubevirt: kubevirt ? { state: 'found', value: kubevirt } : { state: 'unreadable', message: 'forbidden' },
    dynamicNetworks: { state: 'absent' },
    macpool: { view: { installed: false } as DoctorFacts['macpool']['view'], namespace: null },
    ...over,
  };
}

describe('bindingAdmission, by version', () => {
  // admitted at v1.4.1, v1.6.0, v1.8.2, v1.9.0
  const table: Record<string, [boolean, boolean, boolean, boolean]> = {
    slirp: [false, false, false, false],
    macvtap: [false, false, false, false],
    passt: [false, false, false, false],
    passtBinding: [false, false, true, true],
    '': [true, true, true, false],
    bridge: [true, true, true, true],
    masquerade: [true, true, true, true],
    sriov: [true, true, true, true],
  };
  for (const [binding, expected] of Object.entries(table)) {
    it(`${binding || 'no binding'}: ${expected.join(', ')}`, () => {
      expect(VERSIONS.map((v) => bindingAdmission(binding, parseVersion(v)).admitted)).toEqual(expected);
    });
  }
  it('before v1.3 the core slirp binding was still admitted; an unknown version leaves it open', () => {
    expect(bindingAdmission('slirp', parseVersion('v1.2.0')).admitted).toBe(true);
    expect(bindingAdmission('slirp', null)).toEqual({ admitted: 'unknown', reason: expect.stringContaining('rejects it from v1.3 on') });
    expect(bindingAdmission('', null).admitted).toBe('unknown');
    expect(bindingAdmission('bridge', null).admitted).toBe(true);
  });
});

describe('the offline view (status -f FILE --local [--kubevirt-version])', () => {
  const codes = (vm: VirtualMachine, version?: string) => desiredNetworkView(vm, 'f.yaml', version ? parseVersion(version) : null).warnings.map((w) => w.code);

  it('fails slirp and macvtap for every version given, with the fix', () => {
    for (const v of VERSIONS) {
      const slirp = desiredNetworkView(vmWith({ name: 'u', slirp: {} }, { name: 'u', pod: {} }), 'f.yaml', parseVersion(v)).warnings.find((w) => w.code === 'binding-rejected');
      expect(slirp?.message).toBe(`interface "u": the core slirp binding is discontinued: KubeVirt ${v}'s admission rejects it; use a network binding plugin (binding: {name: slirp}) or masquerade on the pod network`);
      const macvtap = desiredNetworkView(vmWith({ name: 'blue', macvtap: {} }), 'f.yaml', parseVersion(v)).warnings.find((w) => w.code === 'binding-rejected');
      expect(macvtap?.message).toMatch(/the core macvtap binding is discontinued: .*; use a network binding plugin \(binding: \{name: macvtap\}\) or bridge binding$/);
    }
  });

  it('without a version, says that it depends on it', () => {
    expect(codes(vmWith({ name: 'blue', macvtap: {} }))).toEqual(['binding-version']);
    expect(codes(vmWith({ name: 'blue' }))).toEqual(['binding-missing']);
  });

  it('no binding: a warning before v1.9, rejected from v1.9', () => {
    expect(VERSIONS.map((v) => codes(vmWith({ name: 'blue' }), v))).toEqual([['binding-missing'], ['binding-missing'], ['binding-missing'], ['binding-rejected']]);
  });

  it('two bindings stay a binding-count finding for every version', () => {
    for (const v of VERSIONS) expect(codes(vmWith({ name: 'blue', bridge: {}, sriov: {} }), v)).toEqual(['binding-count']);
  });

  it('passtBinding: rejected before v1.8, known from v1.8; a link state on it is flagged', () => {
    const vm = vmWith({ name: 'p', passtBinding: {} }, { name: 'p', pod: {} });
    vm.spec.template.spec.domain!.devices!.interfaces!.shift();
    vm.spec.template.spec.networks!.shift();
    expect(VERSIONS.map((v) => codes(vm, v))).toEqual([['binding-rejected'], ['binding-rejected'], [], []]);
    expect(desiredNetworkView(vm, 'f.yaml', parseVersion('v1.8.2')).interfaces[0]).toMatchObject({ name: 'p', binding: 'passtBinding', network: 'pod' });
    vm.spec.template.spec.domain!.devices!.interfaces![0].state = 'down';
    expect(desiredNetworkView(vm, 'f.yaml', parseVersion('v1.8.2')).warnings).toEqual([expect.objectContaining({ code: 'invalid-state', message: 'interface "p": a passtBinding interface has no link state in KubeVirt; the state is ignored' })]);
  });

  it('a binding plugin is shown by name; a DRA network by its claim, with no network-source finding', () => {
    const view = desiredNetworkView(vmWith({ name: 'fast', sriov: {} }, { name: 'fast', resourceClaim: { claimName: 'sriov-claim', requestName: 'vf' } }), 'f.yaml', parseVersion('v1.9.0'));
    expect(view.warnings).toEqual([]);
    expect(view.interfaces[1]).toMatchObject({ name: 'fast', binding: 'sriov', network: 'claim:sriov-claim/vf' });
    const plugin = desiredNetworkView(vmWith({ name: 'p', binding: { name: 'passt' } }, { name: 'p', pod: {} }), 'f.yaml', parseVersion('v1.9.0'));
    expect(plugin.interfaces[1].binding).toBe('binding:passt');
    expect(plugin.warnings.map((w) => w.code)).toEqual(['network-source']); // two pod networks
  });
});

describe('doctor: binding-support', () => {
  it('slirp fails for v1.4 to v1.9 with the fix; unknown version warns', () => {
    const vm = vmWith({ name: 'u', slirp: {} }, { name: 'u', pod: {} });
    vm.spec.template.spec.domain!.devices!.interfaces!.shift();
    vm.spec.template.spec.networks!.shift();
    for (const v of VERSIONS) {
      expect(checkBindingSupport(doctorFacts(vm, cr(v)))).toEqual([
        { id: 'binding-support', result: 'fail', message: `interface "u": the core slirp binding is discontinued: KubeVirt ${v}'s admission rejects it`, fix: 'use a network binding plugin (binding: {name: slirp}) or masquerade on the pod network' },
      ]);
    }
    expect(checkBindingSupport(doctorFacts(vm, null))[0].result).toBe('warn');
  });

  it('no binding: warn before v1.9, fail from v1.9', () => {
    const vm = vmWith({ name: 'blue' });
    expect(VERSIONS.map((v) => checkBindingSupport(doctorFacts(vm, cr(v)))[0].result)).toEqual(['warn', 'warn', 'warn', 'fail']);
    expect(checkBindingSupport(doctorFacts(vm, cr('v1.9.0')))[0].message).toBe('interface "blue" has no binding: KubeVirt v1.9.0\'s admission rejects an interface with no binding');
  });

  it('passtBinding: fails before v1.8, needs the PasstBinding gate from v1.8', () => {
    const vm = vmWith({ name: 'p', passtBinding: {} }, { name: 'p', pod: {} });
    vm.spec.template.spec.domain!.devices!.interfaces!.shift();
    vm.spec.template.spec.networks!.shift();
    expect(VERSIONS.map((v) => checkBindingSupport(doctorFacts(vm, cr(v)))[0].result)).toEqual(['fail', 'fail', 'fail', 'fail']);
    expect(checkBindingSupport(doctorFacts(vm, cr('v1.8.2')))[0].message).toMatch(/PasstBinding feature gate is not enabled/);
    expect(checkBindingSupport(doctorFacts(vm, cr('v1.4.1', ['PasstBinding'])))[0].message).toMatch(/has no passtBinding \(added in v1.8\)/);
    expect(checkBindingSupport(doctorFacts(vm, cr('v1.8.2', ['PasstBinding'])))).toEqual([{ id: 'binding-support', result: 'ok', message: 'every binding is one KubeVirt v1.8.2 admits', fix: null }]);
  });

  it('names binding plugins', () => {
    const r = checkBindingSupport(doctorFacts(vmWith({ name: 'blue', binding: { name: 'macvtap' } }), cr('v1.8.2')));
    expect(r).toEqual([{ id: 'binding-support', result: 'ok', message: 'every binding is one KubeVirt v1.8.2 admits; network binding plugins: blue (macvtap)', fix: null }]);
  });
});

describe('not hot-pluggable: passtBinding, binding plugins, DRA networks', () => {
  it('hotplug add refuses passtBinding and a plugin name, with the reason', () => {
    const vm = testVM();
    expect(refusalOf(() => planHotplug(vm, { network: 'blue-net', binding: 'passtBinding' })).message).toBe(
      'binding "passtBinding" cannot be hot-plugged: passtBinding works on the pod network only, which a running VM never gains, and KubeVirt copies only bridge and SR-IOV interfaces into a running VM',
    );
    const plugin = refusalOf(() => planHotplug(vm, { network: 'blue-net', binding: 'my-plugin' }));
    expect(plugin.message).toBe('"my-plugin" is not a core binding: an interface with a network binding plugin (binding: {name: my-plugin}) is not hot-plugged by KubeVirt, which copies only bridge and SR-IOV interfaces into a running VM');
    expect(plugin.hint).toBe('use --binding bridge or --binding sriov, or add the plugin interface to the VM spec and restart the VM');
    expect(refusalOf(() => planHotplug(vm, { network: 'blue-net', binding: 'macvtap' })).message).toBe(
      'binding "macvtap" cannot be hot-plugged: the core macvtap binding is discontinued (KubeVirt\'s admission rejects it from v1.3), and KubeVirt copies only bridge and SR-IOV interfaces into a running VM',
    );
    expect(refusalOf(() => planHotplug(vm, { network: 'blue-net', binding: 'masquerade' })).message).toMatch(/^binding "masquerade" cannot be hot-plugged: KubeVirt copies only bridge and SR-IOV/);
  });

  it('unplug refuses a DRA network and names a plugin; link set refuses passtBinding', () => {
    const dra = vmWith({ name: 'fast', bridge: {} }, { name: 'fast', resourceClaim: { claimName: 'c' } });
    expect(refusalOf(() => planUnplug(dra, { name: 'fast' })).message).toBe('interface "fast" is on a DRA network (resourceClaim): KubeVirt neither plugs nor unplugs DRA networks in a running VM');
    expect(refusalOf(() => planUnplug(vmWith({ name: 'blue', binding: { name: 'macvtap' } }), { name: 'blue' })).message).toBe('interface "blue" uses the network binding plugin macvtap: KubeVirt unplugs only bridge interfaces');
    const passt = vmWith({ name: 'p', passtBinding: {} }, { name: 'p', pod: {} });
    expect(refusalOf(() => planLinkState(passt, { name: 'p', state: 'down' })).message).toBe('interface "p" uses passtBinding: KubeVirt has no link state for passt interfaces');
  });

  it('status: a DRA network is shown with its claim, never matched to a Multus attachment, and a pending one is not hot-pluggable', () => {
    const vm = vmWith({ name: 'fast', sriov: {} }, { name: 'fast', resourceClaim: { claimName: 'sriov-claim' } });
    const vmi = testVMI(testVM(), { interfaces: [{ name: 'default', mac: '02:00:00:00:00:05', infoSource: 'domain, guest-agent' }] });
    const pod = {
      metadata: {
        name: 'virt-launcher-vm1-x',
        namespace: 'ns1',
        labels: { 'kubevirt.io': 'virt-launcher', 'kubevirt.io/created-by': 'u1' },
        annotations: { 'k8s.v1.cni.cncf.io/network-status': JSON.stringify([{ name: 'kindnet', interface: 'eth0', default: true }, { name: 'ns1/sriov-claim', interface: 'net1' }]) },
      },
      status: { phase: 'Running' },
    };
    const st = joinVMNetworkStatus({ vm, vmi, pods: [pod], kubevirt: cr('v1.9.0') });
    const fast = st.interfaces.find((i) => i.name === 'fast');
    expect(fast).toMatchObject({ network: 'claim:sriov-claim', multus: null, state: 'pending' });
    expect(st.warnings).toContainEqual(expect.objectContaining({ code: 'not-hotpluggable', message: 'interface fast: a DRA network (resourceClaim) is not hot-plugged by KubeVirt; it is added when the VM restarts' }));
  });

  it('status names a pending binding plugin interface by its plugin', () => {
    const vm = vmWith({ name: 'blue', binding: { name: 'macvtap' } });
    const st = joinVMNetworkStatus({ vm, vmi: testVMI(testVM()), pods: [], kubevirt: cr('v1.8.2') });
    expect(st.interfaces.find((i) => i.name === 'blue')?.binding).toBe('binding:macvtap');
    expect(st.warnings).toContainEqual(expect.objectContaining({ message: 'interface blue: the network binding plugin macvtap is not hot-plugged by KubeVirt (only bridge and sriov are); it is added when the VM restarts' }));
  });
});

describe('hot-plug slots and PCI topology v3', () => {
  const at = (v: string, annotations?: Record<string, string>, interfaces = 2) => estimateInterfaceSlots(testVM({ bridges: { blue: 'blue-net' }, templateAnnotations: annotations }), parseVersion(v), interfaces);

  it('without annotations: about 4 before v1.6; v1.6 free ports from v1.6 on (v1.8+ says the layout predates v1.8)', () => {
    expect(VERSIONS.map((v) => at(v)?.limit)).toEqual([4, 5, 5, 5]);
    expect(at('v1.8.2')?.basis).toMatch(/no kubevirt.io\/pci-topology-version in the template yet, so the running VM was laid out before v1.8$/);
    expect(at('v1.6.0')?.basis).not.toMatch(/pci-topology-version/);
  });

  it('v3 on v1.8+: placeholders (4 - interfaces) topped up to the free root ports', () => {
    const v3 = { 'kubevirt.io/pci-topology-version': 'v3' };
    // 2 interfaces, no disks: 2 placeholders; 8 - (2 + 3) = 3 free ports: max(2, 3) = 3 more.
    expect(VERSIONS.map((v) => at(v, v3)?.limit)).toEqual([4, 5, 5, 5]);
    expect(at('v1.8.2', v3)?.basis).toBe('PCI topology v3 (KubeVirt v1.8.2): 2 placeholder port(s) (max(0, 4 - interfaces)) topped up to 3 free root ports (max(8 - ports in use, 3) up to 2 GiB guest memory), shared with disk hot-plug');
    // One interface: 3 placeholders, 8 - 4 = 4 free: 4 more.
    expect(at('v1.9.0', v3, 1)?.limit).toBe(5);
  });

  it('a frozen slot count (v2 detected by virt-handler) gives the placeholders on v1.8+, the interface total before', () => {
    const v2 = { 'kubevirt.io/pci-topology-version': 'v2', 'kubevirt.io/pci-interface-slot-count': '9' };
    expect(VERSIONS.map((v) => at(v, v2)?.limit)).toEqual([9, 9, 9, 9]);
    expect(at('v1.8.2', v2)?.basis).toMatch(/^PCI topology v2 \(KubeVirt v1.8.2\): 7 placeholder port\(s\) \(kubevirt.io\/pci-interface-slot-count 9\)/);
    const small = { 'kubevirt.io/pci-topology-version': 'v2', 'kubevirt.io/pci-interface-slot-count': '3' };
    // v1.8: 1 placeholder topped up to 3 free ports: 5; a frozen total of 3 otherwise.
    expect(VERSIONS.map((v) => at(v, small)?.limit)).toEqual([3, 3, 5, 5]);
  });

  it('placePCIDevicesOnRootComplex: "true" leaves no hot-plug port, for every version', () => {
    const root = { 'kubevirt.io/placePCIDevicesOnRootComplex': 'true', 'kubevirt.io/pci-topology-version': 'v3' };
    for (const v of VERSIONS) {
      expect(at(v, root)).toEqual({ limit: 2, basis: 'the VM\'s kubevirt.io/placePCIDevicesOnRootComplex: "true" annotation puts every device on the root complex: no hot-plug port' });
    }
    expect(at('v1.8.2', { 'kubevirt.io/placePCIDevicesOnRootComplex': 'false', 'kubevirt.io/pci-topology-version': 'v3' })?.limit).toBe(5);
  });

  it('hotplug add on a running root-complex VM warns that the plug will likely fail', () => {
    const vm = testVM({ bridges: { blue: 'blue-net' }, templateAnnotations: { 'kubevirt.io/placePCIDevicesOnRootComplex': 'true' } });
    const plan = planHotplug(vm, { network: 'red-net' }, { kubevirt: cr('v1.8.2'), vmi: testVMI(vm) });
    expect(plan.warnings).toContainEqual(expect.objectContaining({ code: 'slots-exhausted', message: expect.stringContaining('above the estimated 2 it can have while running') }));
  });
});

describe('hook sidecars and the --via default', () => {
  const netconfVM = () =>
    testVM({
      bridges: { blue: 'blue-net' },
      templateAnnotations: {
        'netconf.kubevirt.io/macAddress': JSON.stringify([{ name: 'blue', macAddress: '02:00:00:00:00:aa' }]),
        'hooks.kubevirt.io/hookSidecars': JSON.stringify([{ args: ['--version', 'v1alpha3'], image: 'registry.example/netconf:v1' }]),
      },
    });
  const installed = (version: string) => ({ kubevirt: { state: 'installed' as const, featureGates: ['Sidecar'], version } });

  it('hookSidecarsDeprecated from v1.9 only', () => {
    expect(VERSIONS.map((v) => hookSidecarsDeprecated(parseVersion(v)))).toEqual([false, false, false, true]);
    expect(hookSidecarsDeprecated(null)).toBe(false);
  });

  it('mac set --via netconf keeps working and warns on v1.9+, with the spec command', () => {
    const warned = VERSIONS.map((v) => planMacSet(netconfVM(), { iface: 'blue', mac: '02:00:00:00:00:bb', via: 'netconf', force: false }, installed(v)).warnings.some((w) => w.code === 'hook-sidecars-deprecated'));
    expect(warned).toEqual([false, false, false, true]);
    const plan = planMacSet(netconfVM(), { iface: 'blue', mac: '02:00:00:00:00:bb', via: 'netconf', force: false }, installed('v1.9.0'));
    expect(plan.ops.length).toBeGreaterThan(0);
    expect(plan.warnings.find((w) => w.code === 'hook-sidecars-deprecated')?.message).toBe(
      'KubeVirt v1.9.0 deprecates hook sidecars (the Plugins CRD, alpha, replaces them; the Sidecar gate is still alpha): the netconf way keeps working for now; {{via}} spec needs no sidecar, and kubemacpool and KubeVirt see it: kubectl vnet mac set vm1 blue 02:00:00:00:00:bb --via spec',
    );
  });

  it('the default way (spec) sets the spec MAC with no sidecar image', () => {
    const plan = planMacSet(testVM({ bridges: { blue: 'blue-net' } }), { iface: 'blue', mac: '02:00:00:00:00:bb', via: 'spec', viaDefaulted: true, force: false }, {});
    expect(plan.summary).toBe('set spec macAddress of interface "blue" to 02:00:00:00:00:bb');
  });

  it('the default way refuses over a netconf MAC, with the exact commands; an explicit --via spec warns instead', () => {
    const err = refusalOf(() => planMacSet(netconfVM(), { iface: 'blue', mac: '02:00:00:00:00:bb', via: 'spec', viaDefaulted: true, force: false }, {}));
    expect(err.message).toBe('interface "blue" has its MAC (02:00:00:00:00:aa) in the netconf annotation, and the default way writes the VM spec, whose MAC the netconf one overrides in the guest; nothing was changed');
    expect(err.hint).toBe('keep the netconf way: kubectl vnet mac set vm1 blue 02:00:00:00:00:bb --via netconf; or move to the spec: kubectl vnet mac unset vm1 blue --via netconf, then kubectl vnet mac set vm1 blue 02:00:00:00:00:bb');
    const explicit = planMacSet(netconfVM(), { iface: 'blue', mac: '02:00:00:00:00:bb', via: 'spec', force: false }, {});
    expect(explicit.warnings.map((w) => w.code)).toContain('mac-netconf-overrides-spec');
    const unset = refusalOf(() => planMacUnset(netconfVM(), { iface: 'blue', via: 'spec', viaDefaulted: true }, {}));
    expect(unset.hint).toBe('remove the netconf MAC: kubectl vnet mac unset vm1 blue --via netconf');
  });

  it('doctor: hook-sidecars warns on v1.9+ with the spec commands, ok before', () => {
    const results = VERSIONS.map((v) => checkHookSidecars(doctorFacts(netconfVM(), cr(v)))[0]);
    expect(results.map((r) => r.result)).toEqual(['ok', 'ok', 'ok', 'warn']);
    expect(results[3].message).toBe('the VM uses hook sidecars, which KubeVirt v1.9.0 deprecates (the Plugins CRD, alpha, replaces them; the Sidecar gate is still alpha); its MACs are set through the netconf sidecar (blue)');
    expect(results[3].fix).toBe('set the MACs in the VM spec, which kubemacpool and KubeVirt see and which needs no sidecar: kubectl vnet mac set vm1 blue 02:00:00:00:00:aa --via spec; then kubectl vnet mac unset vm1 IFACE --via netconf for each');
    expect(checkHookSidecars(doctorFacts(testVM(), cr('v1.9.0')))).toEqual([{ id: 'hook-sidecars', result: 'ok', message: 'no hook sidecars', fix: null }]);
    expect(checkHookSidecars(doctorFacts(netconfVM(), null))[0].result).toBe('warn');
  });
});

describe('kubemacpool v0.51 MACCollision events', () => {
  const event = (vmi: string, message: string, ns = 'ns1'): CollisionEvent => ({ type: 'Warning', reason: 'MACCollision', message, involvedObject: { kind: 'VirtualMachineInstance', namespace: ns, name: vmi }, lastTimestamp: '2026-01-01T00:00:00Z' });

  it('parses kubemacpool\'s message; other events are not collisions', () => {
    expect(parseCollisionEvent(event('vm1', 'MAC 02:00:00:00:00:AA: Collision between vmi/ns1/vm1, vmi/ns2/vm9, pod/ns3/p'))).toEqual({ vmi: 'ns1/vm1', mac: '02:00:00:00:00:aa', objects: ['ns1/vm1', 'ns2/vm9', 'pod/ns3/p'], seen: '2026-01-01T00:00:00Z' });
    expect(parseCollisionEvent({ ...event('vm1', 'MAC 02:00:00:00:00:aa: Collision between vmi/ns1/vm1'), reason: 'Started' })).toBeNull();
    expect(parseCollisionEvent(event('vm1', 'something else'))).toBeNull();
  });

  it('mac list marks a collision and says which source found it', () => {
    const a = testVM({ name: 'a', templateSpec: { domain: { devices: { interfaces: [{ name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:aa' }] } }, networks: [{ name: 'blue', multus: { networkName: 'n' } }] } });
    const b = testVM({ name: 'b', templateSpec: { domain: { devices: { interfaces: [{ name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:AA' }] } }, networks: [{ name: 'blue', multus: { networkName: 'n' } }] } });
    const c = testVM({ name: 'c', templateSpec: { domain: { devices: { interfaces: [{ name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:cc' }] } }, networks: [{ name: 'blue', multus: { networkName: 'n' } }] } });
    const events = [event('a', 'MAC 02:00:00:00:00:aa: Collision between vmi/ns1/a, vmi/ns1/b'), event('c', 'MAC 02:00:00:00:00:cc: Collision between vmi/ns1/c, vmi/other/z')];
    const list = buildMacList([a, b, c], [], { events });
    expect(list.items.map((i) => [i.vm, i.collision])).toEqual([
      ['a', { mac: '02:00:00:00:00:aa', with: ['ns1/b'], foundBy: ['kubemacpool', 'cross-check'] }],
      ['b', { mac: '02:00:00:00:00:aa', with: ['ns1/a'], foundBy: ['cross-check'] }],
      ['c', { mac: '02:00:00:00:00:cc', with: ['other/z'], foundBy: ['kubemacpool'] }],
    ]);
    const out = renderMacList(list, { showNamespace: false, emptyNote: '', paint: painter(false) });
    expect(out.stdout.split('\n')[0]).toMatch(/STATE\s+COLLISION$/);
    expect(out.stdout.split('\n')[1]).toMatch(/kubemacpool\+cross-check$/);
    expect(out.after).toContain('collision: ns1/c interface blue: MAC 02:00:00:00:00:cc is also used by other/z (found by kubemacpool\'s MACCollision events)');
    // No collision: <none>.
    expect(renderMacList(buildMacList([c], []), { showNamespace: false, emptyNote: '', paint: painter(false) }).stdout.split('\n')[1]).toMatch(/auto\s+<none>$|stopped\s+<none>$/);
  });

  it('doctor\'s mac-collisions fails on a MACCollision event even when the cross-check cannot see the other VMI', () => {
    const vm = testVM({ bridges: { blue: 'blue-net' } });
    vm.spec.template.spec.domain!.devices!.interfaces![1].macAddress = '02:00:00:00:00:aa';
    const facts = doctorFacts(vm, cr('v1.8.2'), { macUses: { uses: collectMacUses([vm], []) }, collisionEvents: [event('vm1', 'MAC 02:00:00:00:00:aa: Collision between vmi/ns1/vm1, vmi/team-b/other')] });
    expect(checkMacCollisions(facts)).toEqual([
      {
        id: 'mac-collisions',
        result: 'fail',
        message: 'interface "blue": MAC 02:00:00:00:00:aa (spec) collides with team-b/other (found by kubemacpool: MACCollision event on the VMI)',
        fix: 'give one of them another MAC (kubectl vnet mac set vm1 blue <mac>)',
      },
    ]);
    const unread = checkMacCollisions({ ...facts, collisionEvents: undefined, collisionEventsUnreadable: 'forbidden' });
    expect(unread.map((c) => c.result)).toEqual(['warn', 'ok']);
  });
});
