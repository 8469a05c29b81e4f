import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import {
  checkAnnotations,
  checkBindings,
  checkCniBinding,
  checkConditions,
  checkCustomMac,
  checkDynamicNetworks,
  checkFeatureGates,
  checkInterfacesNetworks,
  checkKubeOvn,
  checkKubeVirtVersion,
  checkMacCollisions,
  checkMacpool,
  checkNads,
  checkRolloutStrategy,
  checkSlots,
  checkSpoofCheck,
  checkWorkloadUpdate,
  doctorFailed,
  runDoctor,
  type DoctorCheck,
  type DoctorFacts,
} from '../../src/domain/doctor.js';
import { collectMacUses } from '../../src/domain/mac.js';
import { buildMacpoolView, releaseSelector } from '../../src/domain/macpool.js';
import type { KubeVirtCR, NetworkAttachmentDefinition, Pod, VirtualMachine, VirtualMachineInstance } from '../../src/domain/types.js';
import { hashedPodInterfaceName } from '../../src/domain/vmspec.js';

const schema = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'schemas', 'doctor-report.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

const NS = 'team-a';

function nad(name: string, config: unknown, ns = NS): NetworkAttachmentDefinition {
  return { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name, namespace: ns }, spec: { config: typeof config === 'string' ? config : JSON.stringify(config) } };
}

function kubevirt(over: { version?: string; gates?: string[]; rollout?: string; methods?: string[] } = {}): KubeVirtCR {
  return {
    metadata: { name: 'kubevirt', namespace: 'kubevirt' },
    spec: {
      configuration: { developerConfiguration: { featureGates: over.gates ?? ['Sidecar'] }, vmRolloutStrategy: over.rollout ?? 'LiveUpdate' },
      workloadUpdateStrategy: { workloadUpdateMethods: over.methods ?? ['LiveMigrate'] },
    },
    status: { observedKubeVirtVersion: over.version ?? 'v1.6.0' },
  };
}

function healthyVM(): VirtualMachine {
  return {
    metadata: { name: 'vm1', namespace: NS, uid: 'vm-uid' },
    spec: {
      runStrategy: 'Always',
      template: {
        spec: {
          domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, macAddress: '02:11:00:00:00:01' }] } },
          networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }],
        },
      },
    },
    status: { printableStatus: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function healthyVMI(vm: VirtualMachine): VirtualMachineInstance {
  return {
    metadata: { name: 'vm1', namespace: NS, uid: 'vmi-uid' },
    spec: structuredClone(vm.spec.template.spec),
    status: {
      phase: 'Running',
      nodeName: 'node01',
      conditions: [{ type: 'Ready', status: 'True' }],
      interfaces: [
        { name: 'default', mac: '02:22:00:00:00:01', infoSource: 'domain, guest-agent', interfaceName: 'eth0' },
        { name: 'blue', mac: '02:11:00:00:00:01', infoSource: 'domain, guest-agent, multus-status', interfaceName: 'eth1' },
      ],
    },
  };
}

function launcher(): Pod {
  return {
    metadata: {
      name: 'virt-launcher-vm1-abcde',
      namespace: NS,
      labels: { 'kubevirt.io': 'virt-launcher', 'kubevirt.io/created-by': 'vmi-uid' },
      annotations: {
        'k8s.v1.cni.cncf.io/network-status': JSON.stringify([
          { name: 'kindnet', interface: 'eth0', ips: ['10.0.0.5'], default: true },
          { name: `${NS}/blue-net`, interface: hashedPodInterfaceName('blue'), mac: '02:11:00:00:00:01' },
        ]),
      },
    },
    spec: { nodeName: 'node01' },
    status: { phase: 'Running' },
  };
}

function healthy(): DoctorFacts {
  const vm = healthyVM();
  const vmi = healthyVMI(vm);
  const mutator = {
    metadata: { name: 'kubemacpool-mutator' },
    webhooks: [
      { name: 'mutatevirtualmachines.kubemacpool.io', clientConfig: { service: { name: 's', namespace: 'kubemacpool-system' } }, failurePolicy: 'Fail', namespaceSelector: releaseSelector('mutatevirtualmachines.kubemacpool.io', 'opt-out') },
      { name: 'mutatepods.kubemacpool.io', clientConfig: { service: { name: 's', namespace: 'kubemacpool-system' } }, failurePolicy: 'Fail', namespaceSelector: releaseSelector('mutatepods.kubemacpool.io', 'opt-in') },
    ],
  };
  return {
    vm,
    vmi,
    pods: [launcher()],
    nads: new Map([[`${NS}/blue-net`, nad('blue-net', { cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' })]]),
    kubevirt: { state: 'found', value: kubevirt() },
    dynamicNetworks: { state: 'found', value: [{ namespace: 'kube-system', name: 'dynamic-networks-controller-ds', desired: 2, ready: 2 }] },
    macUses: { uses: collectMacUses([vm], [vmi]) },
    macpool: {
      view: buildMacpoolView({
        mutator: { state: 'found', config: mutator },
        rangeConfig: { state: 'found', data: { RANGE_START: '02:00:00:00:00:00', RANGE_END: '02:00:00:ff:ff:ff' } },
        manager: { state: 'found', available: true },
      }),
      namespace: { metadata: { name: NS, labels: {} } },
    },
  };
}

/** facts with the VM (and VMI spec) edited by fn. */
function withVM(fn: (vm: VirtualMachine) => void, base = healthy()): DoctorFacts {
  fn(base.vm);
  if (base.vmi) base.vmi.spec = structuredClone(base.vm.spec.template.spec);
  return base;
}

const results = (cs: DoctorCheck[]) => cs.map((c) => c.result);
const only = (cs: DoctorCheck[], result: DoctorCheck['result']) => cs.filter((c) => c.result === result);

describe('runDoctor', () => {
  it('a healthy running VM passes every check, and the report matches the schema', () => {
    const report = runDoctor(healthy());
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.checks.filter((c) => c.result !== 'ok')).toEqual([]);
    expect(new Set(report.checks.map((c) => c.id))).toEqual(
      new Set(['interfaces-networks', 'bindings', 'binding-support', 'annotations', 'nad-exists', 'cni-binding', 'custom-mac', 'spoof-check', 'kube-ovn-subnet', 'kubevirt-version', 'feature-gates', 'hook-sidecars', 'rollout-strategy', 'workload-update', 'dynamic-networks-controller', 'hotplug-slots', 'mac-collisions', 'kubemacpool', 'vm-conditions', 'interface-failures']),
    );
    expect(report.checks.every((c) => c.fix === null)).toBe(true);
    expect(doctorFailed(report)).toBe(0);
  });

  it('counts failures, and the schema rejects a wrong shape', () => {
    const report = runDoctor(withVM((vm) => vm.spec.template.spec.networks!.pop()));
    expect(doctorFailed(report)).toBeGreaterThan(0);
    expect(validate(report)).toBe(true);
    expect(validate({ ...report, checks: [{ id: 'x', result: 'bad', message: 'm', fix: null }] })).toBe(false);
  });
});

describe('interfaces-networks', () => {
  it('ok for the implicit default and for paired lists', () => {
    expect(checkInterfacesNetworks(healthyVM())[0]).toMatchObject({ result: 'ok', message: '2 interface(s), each with its network' });
    const bare = healthyVM();
    bare.spec.template.spec = { domain: { devices: {} } };
    expect(checkInterfacesNetworks(bare)[0].message).toContain('implicit default pod network');
  });
  it('fails an interface without network, a network without interface, duplicates and bad names', () => {
    const vm = healthyVM();
    vm.spec.template.spec.domain!.devices!.interfaces!.push({ name: 'green', bridge: {} }, { name: 'blue', bridge: {} }, { name: 'bad.name', bridge: {} });
    vm.spec.template.spec.networks!.push({ name: 'orphan', multus: { networkName: 'x' } }, { name: 'bad.name', multus: { networkName: 'y' } });
    const msgs = checkInterfacesNetworks(vm).map((c) => `${c.result}: ${c.message}`);
    expect(msgs).toEqual([
      'fail: interface "green" has no network of the same name: admission rejects the VM',
      'fail: two interfaces are named "blue"',
      'fail: interface name "bad.name" is not valid: KubeVirt accepts [A-Za-z0-9-_] only',
      'fail: network "orphan" has no interface of the same name: admission rejects the VM',
    ]);
    expect(checkInterfacesNetworks(vm).every((c) => c.fix)).toBe(true);
  });
});

describe('bindings', () => {
  it('ok for masquerade on pod and bridge on multus', () => {
    expect(results(checkBindings(healthyVM()))).toEqual(['ok']);
  });
  const cases: { name: string; edit: (vm: VirtualMachine) => void; message: RegExp; result?: 'fail' | 'warn' }[] = [
    { name: 'masquerade on multus', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1] = { name: 'blue', masquerade: {} }), message: /masquerade binding on team-a\/blue-net: masquerade works only on the pod network/ },
    { name: 'sriov on the pod network', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![0] = { name: 'default', sriov: {} }), message: /sriov binding on the pod network/ },
    { name: 'two bindings', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1] = { name: 'blue', bridge: {}, sriov: {} }), message: /needs exactly one binding, it has bridge and sriov/ },
    { name: 'passtBinding on multus', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1] = { name: 'blue', passtBinding: {} }), message: /passtBinding binding on team-a\/blue-net: passtBinding works only on the pod network/ },
    { name: 'two pod networks', edit: (vm) => { vm.spec.template.spec.domain!.devices!.interfaces!.push({ name: 'p2', bridge: {} }); vm.spec.template.spec.networks!.push({ name: 'p2', pod: {} }); }, message: /more than one pod network/ },
    { name: 'pod and multus default', edit: (vm) => (vm.spec.template.spec.networks![1] = { name: 'blue', multus: { networkName: 'blue-net', default: true } }), message: /a pod network and a multus default network together/ },
    { name: 'multus without networkName', edit: (vm) => (vm.spec.template.spec.networks![1] = { name: 'blue', multus: { networkName: '' } }), message: /multus needs a networkName/ },
    { name: 'invalid spec MAC', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1].macAddress = '02:11:00:00:00'), message: /macAddress: "02:11:00:00:00" is not a MAC address/ },
    { name: 'reserved masquerade MAC', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![0].macAddress = '02:00:00:00:00:00'), message: /reserved by KubeVirt for masquerade/ },
    { name: 'bad model', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1].model = 'virtio-net'), message: /model "virtio-net" is not one of/ },
    { name: 'absent on the primary', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![0].state = 'absent'), message: /state absent \(unplug\) is allowed for bridge interfaces only, not masquerade/ },
    { name: 'absent bridge on the primary', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![0] = { name: 'default', bridge: {}, state: 'absent' }), message: /absent \(being unplugged\) but on the primary network/ },
    { name: 'multicast spec MAC', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1].macAddress = '03:11:00:00:00:01'), message: /is a multicast address/ },
    { name: 'the same MAC twice', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![0].macAddress = '02:11:00:00:00:01'), message: /want the same MAC 02:11:00:00:00:01/, result: 'warn' },
    { name: 'link state on SR-IOV', edit: (vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1] = { name: 'blue', sriov: {}, state: 'down' }), message: /cannot set the link state of an SR-IOV interface/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const vm = healthyVM();
      c.edit(vm);
      const found = checkBindings(vm).find((x) => c.message.test(x.message));
      expect(found, JSON.stringify(checkBindings(vm))).toBeDefined();
      expect(found!.result).toBe(c.result ?? 'fail');
      expect(found!.fix).toBeTruthy();
    });
  }
});

describe('annotations', () => {
  const NC = 'netconf.kubevirt.io/macAddress';
  const HOOKS = 'hooks.kubevirt.io/hookSidecars';
  const withAnn = (ann: Record<string, string>, where: 'template' | 'meta' = 'template') => {
    const vm = healthyVM();
    if (where === 'template') vm.spec.template.metadata = { annotations: ann };
    else vm.metadata.annotations = ann;
    return vm;
  };
  it('ok without annotations and with a well-formed netconf + sidecar pair', () => {
    expect(checkAnnotations(healthyVM())).toEqual([{ id: 'annotations', result: 'ok', message: 'no netconf or hookSidecars annotations', fix: null }]);
    const vm = withAnn({ [NC]: '[{"name":"blue","macAddress":"02:33:00:00:00:01"}]', [HOOKS]: '[{"image":"quay.io/kubevirt/netconf-hook-sidecar:v1"}]' });
    expect(results(checkAnnotations(vm))).toEqual(['ok']);
  });
  it('fails malformed values (the VM would not start)', () => {
    expect(checkAnnotations(withAnn({ [NC]: '{"name":"blue"}' }))[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('is malformed: not a JSON list') });
    expect(checkAnnotations(withAnn({ [HOOKS]: '[{"image": 5}]' }))[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('"image" is a number') });
    expect(checkAnnotations(withAnn({ [NC]: '[{"name":"blue","macAddress":"zz"}]', [HOOKS]: '[{"image":"x/netconf:1"}]' }))[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('the netconf MAC of interface "blue": "zz" is not a MAC address') });
  });
  it('warns about unknown interfaces, a missing sidecar, and annotations on the VM metadata', () => {
    const w1 = checkAnnotations(withAnn({ [NC]: '[{"name":"nope","macAddress":"02:33:00:00:00:01"}]', [HOOKS]: '[{"image":"x/netconf:1"}]' }));
    expect(w1.map((c) => [c.result, c.message])).toEqual([['warn', expect.stringContaining('names interface "nope", which the VM does not have')]]);
    expect(checkBindings(withAnn({ [NC]: '[{"name":"blue","macAddress":"zz"}]' }))).toEqual([{ id: 'bindings', result: 'ok', message: 'every binding is allowed on its network', fix: null }]);
    const w2 = checkAnnotations(withAnn({ [NC]: '[{"name":"blue","macAddress":"02:33:00:00:00:01"}]' }));
    expect(w2[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('lists no netconf sidecar') });
    const w3 = checkAnnotations(withAnn({ [HOOKS]: '[]' }, 'meta'));
    expect(w3[0]).toMatchObject({ result: 'warn', message: expect.stringContaining("on the VM's metadata, where KubeVirt does not read it") });
  });
});

describe('NAD and CNI checks', () => {
  it('nad-exists: ok, not found, unreadable, unparsable', () => {
    expect(checkNads(healthy())[0]).toMatchObject({ result: 'ok', message: 'interface "blue": NetworkAttachmentDefinition team-a/blue-net exists (CNI bridge)' });
    const missing = healthy();
    missing.nads = new Map([[`${NS}/blue-net`, null]]);
    expect(checkNads(missing)[0]).toMatchObject({ result: 'fail', message: 'interface "blue": NetworkAttachmentDefinition team-a/blue-net not found' });
    const unreadable = healthy();
    unreadable.nads = new Map();
    unreadable.nadsUnreadable = { [NS]: 'forbidden' };
    expect(checkNads(unreadable)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('could not be read (forbidden)') });
    const broken = healthy();
    broken.nads = new Map([[`${NS}/blue-net`, nad('blue-net', '{not json')]]);
    expect(checkNads(broken)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('spec.config is not valid JSON') });
    const empty = healthy();
    empty.nads = new Map([[`${NS}/blue-net`, nad('blue-net', '')]]);
    expect(checkNads(empty)[0].result).toBe('warn');
    expect(checkNads(withVM((vm) => (vm.spec.template.spec = { domain: { devices: {} } })))[0]).toMatchObject({ result: 'ok', message: 'no multus networks' });
  });

  it('cni-binding: macvlan/ipvlan under bridge, bridge on SR-IOV, sriov on a non-SR-IOV NAD', () => {
    expect(results(checkCniBinding(healthy()))).toEqual(['ok']);
    const mv = healthy();
    mv.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { type: 'macvlan', master: 'eth0' })]]);
    expect(checkCniBinding(mv)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('macvlan does not work with KubeVirt') });
    const iv = healthy();
    iv.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { cniVersion: '0.4.0', plugins: [{ type: 'ipvlan' }, { type: 'tuning' }] })]]);
    expect(checkCniBinding(iv)[0].result).toBe('fail');
    const sr = healthy();
    sr.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { type: 'sriov' })]]);
    expect(checkCniBinding(sr)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('bridge binding on the SR-IOV network') });
    const sb = withVM((vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1] = { name: 'blue', sriov: {} }));
    expect(checkCniBinding(sb)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('sriov binding on team-a/blue-net, whose CNI is bridge') });
  });

  it('custom-mac: native, tuning-chained, missing tuning, unknown', () => {
    expect(checkCustomMac(healthy())[0]).toMatchObject({ result: 'ok', message: expect.stringContaining('sets a requested MAC natively') });
    const flannel = healthy();
    flannel.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { type: 'flannel' })]]);
    expect(checkCustomMac(flannel)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('will not take effect'), fix: expect.stringContaining('tuning') });
    const chained = healthy();
    chained.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { plugins: [{ type: 'ptp' }, { type: 'tuning' }] })]]);
    expect(checkCustomMac(chained)[0].result).toBe('ok');
    const odd = healthy();
    odd.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { type: 'host-device' })]]);
    expect(checkCustomMac(odd)[0].result).toBe('warn');
    const noMac = withVM((vm) => delete vm.spec.template.spec.domain!.devices!.interfaces![1].macAddress);
    expect(checkCustomMac(noMac)[0]).toMatchObject({ result: 'ok', message: 'no spec MAC on a multus interface' });
  });

  it('spoof-check: a netconf MAC on a bridge with macspoofchk fails; a spec MAC there is fine', () => {
    const f = withVM((vm) => (vm.spec.template.metadata = { annotations: { 'netconf.kubevirt.io/macAddress': '[{"name":"blue","macAddress":"02:44:00:00:00:01"}]' } }));
    f.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { type: 'bridge', bridge: 'br1', macspoofchk: true })]]);
    expect(checkSpoofCheck(f)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('bridge macspoofchk on') });
    const specOnly = healthy();
    specOnly.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { type: 'bridge', macspoofchk: true })]]);
    expect(checkSpoofCheck(specOnly)[0]).toMatchObject({ result: 'ok', message: 'no netconf MAC on a multus interface' });
    const noSpoof = withVM((vm) => (vm.spec.template.metadata = { annotations: { 'netconf.kubevirt.io/macAddress': '[{"name":"blue","macAddress":"02:44:00:00:00:01"}]' } }));
    expect(checkSpoofCheck(noSpoof)[0].result).toBe('ok');
  });

  it('kube-ovn-subnet: served and Ready, missing Subnet, not Ready, not readable', () => {
    const base = () => {
      const f = healthy();
      f.nads = new Map([[`${NS}/blue-net`, nad('blue-net', { type: 'kube-ovn', server_socket: '/run/openvswitch/kube-ovn-daemon.sock', provider: `blue-net.${NS}.ovn` })]]);
      return f;
    };
    const subnet = (ready: string) => ({ metadata: { name: 'blue-subnet' }, spec: { provider: `blue-net.${NS}.ovn` }, status: { conditions: [{ type: 'Ready', status: ready }] } });
    const good = base();
    good.subnets = [subnet('True')];
    expect(checkKubeOvn(good)[0]).toMatchObject({ result: 'ok', message: 'interface "blue": Subnet blue-subnet serves provider blue-net.team-a.ovn' });
    const none = base();
    none.subnets = [];
    expect(checkKubeOvn(none)[0]).toMatchObject({ result: 'fail', fix: "create a Subnet with spec.provider: blue-net.team-a.ovn, or name an existing Subnet in the VM template's annotation blue-net.team-a.ovn.kubernetes.io/logical_switch" });
    const notReady = base();
    notReady.subnets = [subnet('False')];
    expect(checkKubeOvn(notReady)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('is not Ready') });
    const unread = base();
    unread.subnetsUnreadable = 'forbidden';
    expect(checkKubeOvn(unread)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('could not be read (forbidden)') });
    expect(checkKubeOvn(healthy())[0]).toMatchObject({ result: 'ok', message: 'no Kube-OVN networks' });
  });
});

describe('KubeVirt checks', () => {
  const withKV = (cr: KubeVirtCR | 'absent' | 'unreadable', f = healthy()) => {
    f.kubevirt = cr === 'absent' ? { state: 'absent', message: 'no KubeVirt CR' } : cr === 'unreadable' ? { state: 'unreadable', message: 'forbidden' } : { state: 'found', value: cr };
    return f;
  };
  it('kubevirt-version', () => {
    expect(checkKubeVirtVersion(healthy())[0]).toMatchObject({ result: 'ok', message: 'KubeVirt v1.6.0' });
    expect(checkKubeVirtVersion(withKV('absent'))[0].result).toBe('fail');
    expect(checkKubeVirtVersion(withKV('unreadable'))[0].result).toBe('warn');
    const noVersion = kubevirt();
    delete noVersion.status;
    expect(checkKubeVirtVersion(withKV(noVersion))[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('reports no version yet') });
    expect(checkKubeVirtVersion(withKV(kubevirt({ version: 'v1.0.2' })))[0].result).toBe('warn');
  });
  it('feature-gates: Sidecar with hook annotations, HotplugNICs before v1.4', () => {
    const hooked = withVM((vm) => (vm.spec.template.metadata = { annotations: { 'hooks.kubevirt.io/hookSidecars': '[]' } }));
    expect(checkFeatureGates(hooked)[0]).toMatchObject({ result: 'ok', message: expect.stringContaining('Sidecar feature gate is enabled') });
    const noGate = withKV(kubevirt({ gates: [] }), withVM((vm) => (vm.spec.template.metadata = { annotations: { 'hooks.kubevirt.io/hookSidecars': '[]' } })));
    expect(checkFeatureGates(noGate)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('Sidecar feature gate is not enabled') });
    expect(checkFeatureGates(withKV(kubevirt({ version: 'v1.3.1', gates: [] })))[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('needs the HotplugNICs feature gate') });
    expect(checkFeatureGates(withKV(kubevirt({ version: 'v1.3.1', gates: ['HotplugNICs'] })))[0].result).toBe('ok');
    expect(checkFeatureGates(withKV(kubevirt({ gates: [] })))[0]).toMatchObject({ result: 'ok', message: expect.stringContaining('GA since v1.4') });
    expect(checkFeatureGates(withKV('absent'))[0]).toMatchObject({ result: 'warn', message: 'KubeVirt is not installed: feature gates not checked' });
  });
  it('rollout-strategy', () => {
    expect(checkRolloutStrategy(healthy())[0].result).toBe('ok');
    expect(checkRolloutStrategy(withKV(kubevirt({ rollout: 'Stage' })))[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('vmRolloutStrategy is Stage') });
    const unset = kubevirt({ version: 'v1.5.0' });
    delete unset.spec!.configuration!.vmRolloutStrategy;
    expect(checkRolloutStrategy(withKV(unset))[0].message).toContain('unset: the default before v1.6');
    expect(checkRolloutStrategy(withKV('unreadable'))[0].result).toBe('warn');
  });
  it('workload-update', () => {
    expect(checkWorkloadUpdate(healthy())[0].result).toBe('ok');
    const f = withKV(kubevirt({ methods: [] }), withVM((vm) => (vm.spec.template.spec.domain!.devices!.interfaces![1] = { name: 'blue', sriov: {} })));
    expect(checkWorkloadUpdate(f)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('this VM has SR-IOV interfaces') });
  });
});

describe('running-VM checks', () => {
  /** The VM got interface green hot-plugged: in the template and VMI spec, not yet in the pod or the domain. */
  const pendingPlug = () => {
    const f = withVM((vm) => {
      vm.spec.template.spec.domain!.devices!.interfaces!.push({ name: 'green', bridge: {} });
      vm.spec.template.spec.networks!.push({ name: 'green', multus: { networkName: 'blue-net' } });
    });
    return f;
  };
  it('dynamic-networks-controller: present, absent (warn; fail with a pending plug and no migration), unreadable', () => {
    expect(checkDynamicNetworks(healthy())[0]).toMatchObject({ result: 'ok', message: expect.stringContaining('kube-system/dynamic-networks-controller-ds 2/2') });
    const absent = healthy();
    absent.dynamicNetworks = { state: 'absent' };
    expect(checkDynamicNetworks(absent)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('no multus dynamic networks controller is installed') });
    const pending = pendingPlug();
    pending.dynamicNetworks = { state: 'absent' };
    pending.kubevirt = { state: 'found', value: kubevirt({ methods: [] }) };
    expect(checkDynamicNetworks(pending)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('hot-plugged interface(s) green stay pending') });
    const migrates = pendingPlug();
    migrates.dynamicNetworks = { state: 'found', value: [{ namespace: 'kube-system', name: 'dynamic-networks-controller-ds', desired: 2, ready: 0 }] };
    expect(checkDynamicNetworks(migrates)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('has no ready pod: hot-plugged interface(s) green are plugged through a live migration') });
    // only in the VM template (not propagated to the VMI yet): KubeVirt's business, not Multus's
    const templateOnly = healthy();
    templateOnly.vm.spec.template.spec.domain!.devices!.interfaces!.push({ name: 'green', bridge: {} });
    templateOnly.vm.spec.template.spec.networks!.push({ name: 'green', multus: { networkName: 'blue-net' } });
    templateOnly.dynamicNetworks = { state: 'absent' };
    templateOnly.kubevirt = { state: 'found', value: kubevirt({ methods: [] }) };
    expect(checkDynamicNetworks(templateOnly)[0].result).toBe('warn');
    const unread = healthy();
    unread.dynamicNetworks = { state: 'unreadable', message: 'forbidden' };
    expect(checkDynamicNetworks(unread)[0].result).toBe('warn');
  });

  it('hotplug-slots: headroom, at the limit, above it, stopped, unknown version', () => {
    expect(checkSlots(healthy())[0]).toMatchObject({ result: 'ok', message: expect.stringContaining('2 of about 5 interfaces: 3 more can be hot-plugged') });
    const add = (n: number) =>
      withVM((vm) => {
        for (let i = 0; i < n; i++) {
          vm.spec.template.spec.domain!.devices!.interfaces!.push({ name: `n${i}`, bridge: {} });
          vm.spec.template.spec.networks!.push({ name: `n${i}`, multus: { networkName: 'blue-net' } });
        }
      });
    // v1.6, 2 GiB or less: free = max(8 - (ifaces + 3), 3)
    expect(checkSlots(add(1))[0].result).toBe('ok');
    expect(checkSlots(add(1))[0].message).toContain('3 of about 6');
    const annotated = withVM((vm) => (vm.metadata.annotations = { 'kubevirt.io/pci-interface-slot-count': '2' }));
    expect(checkSlots(annotated)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('no hot-plug headroom left') });
    const over = withVM((vm) => (vm.metadata.annotations = { 'kubevirt.io/pci-interface-slot-count': '1' }));
    expect(checkSlots(over)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('above the estimated 1') });
    const stopped = healthy();
    stopped.vmi = null;
    expect(checkSlots(stopped)[0]).toMatchObject({ result: 'ok', message: expect.stringContaining('not running') });
    const old = healthy();
    old.kubevirt = { state: 'found', value: kubevirt({ version: 'v1.0.0' }) };
    expect(checkSlots(old)[0].result).toBe('warn');
  });

  it('mac-collisions: another VM with the same MAC fails; partial lists warn; none ok', () => {
    expect(checkMacCollisions(healthy())[0]).toMatchObject({ result: 'ok', message: '2 MAC(s), none claimed by another VM or VMI' });
    const f = healthy();
    const other = healthyVM();
    other.metadata = { name: 'vm2', namespace: 'team-b' };
    f.macUses = { uses: collectMacUses([f.vm, other], [f.vmi!]) };
    const c = checkMacCollisions(f);
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ result: 'fail', message: 'interface "blue": MAC 02:11:00:00:00:01 (spec) is also claimed by VirtualMachine team-b/vm2 interface "blue" (spec macAddress) (found by the cross-check)' });
    const partial = healthy();
    partial.macUses = { uses: partial.macUses!.uses, partial: 'cannot list virtualmachines across namespaces' };
    expect(checkMacCollisions(partial)[0].result).toBe('warn');
    const none = healthy();
    delete none.macUses;
    none.macUsesUnreadable = 'forbidden';
    expect(checkMacCollisions(none)[0].result).toBe('warn');
  });

  it('kubemacpool: managed, blocked manager, netconf MAC in the pool range, not managed, unknown', () => {
    expect(checkMacpool(healthy())[0]).toMatchObject({ result: 'ok', message: expect.stringContaining('kubemacpool manages VMs in team-a (opt-out mode; namespace not labelled mutatevirtualmachines.kubemacpool.io=ignore), range 02:00:00:00:00:00-02:00:00:ff:ff:ff') });
    const blocked = healthy();
    blocked.macpool.view = buildMacpoolView({ mutator: { state: 'found', config: { metadata: { name: 'kubemacpool-mutator' }, webhooks: [{ name: 'mutatevirtualmachines.kubemacpool.io', clientConfig: { service: { name: 's', namespace: 'kmp' } }, failurePolicy: 'Fail', namespaceSelector: releaseSelector('mutatevirtualmachines.kubemacpool.io', 'opt-out') }] } }, manager: { state: 'found', available: false } });
    expect(checkMacpool(blocked)[0]).toMatchObject({ result: 'fail', message: expect.stringContaining('has failurePolicy Fail') });
    const inRange = withVM((vm) => (vm.spec.template.metadata = { annotations: { 'netconf.kubevirt.io/macAddress': '[{"name":"blue","macAddress":"02:00:00:00:12:34"}]' } }));
    expect(checkMacpool(inRange)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining("netconf MAC 02:00:00:00:12:34 lies in kubemacpool's range") });
    const ignored = healthy();
    ignored.macpool.namespace = { metadata: { name: NS, labels: { 'mutatevirtualmachines.kubemacpool.io': 'ignore' } } };
    expect(checkMacpool(ignored)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('interface(s) default have no fixed MAC') });
    const allFixed = withVM((vm) => (vm.spec.template.spec.domain!.devices!.interfaces![0].macAddress = '02:99:00:00:00:01'), ignored);
    expect(checkMacpool(allFixed)[0].result).toBe('ok');
    const unknown = healthy();
    unknown.macpool.view = buildMacpoolView({ mutator: { state: 'unreadable', message: 'forbidden' } });
    expect(checkMacpool(unknown)[0]).toMatchObject({ result: 'warn', message: expect.stringContaining('cannot tell whether kubemacpool manages VMs') });
  });

  it('vm-conditions: failure, RestartRequired, MigrationRequired, error status, stale interface, MAC mismatch', () => {
    expect(checkConditions(healthy())[0]).toMatchObject({ result: 'ok', message: 'VMI Running; no condition needs attention' });
    const f = healthy();
    f.vm.status = { printableStatus: 'CrashLoopBackOff', conditions: [{ type: 'Failure', status: 'True', reason: 'FailedCreate', message: 'boom' }, { type: 'RestartRequired', status: 'True', message: 'a non-live-updatable field was changed' }] };
    f.vmi!.status!.conditions = [{ type: 'MigrationRequired', status: 'True', reason: 'AutoMigrationPending' }];
    expect(checkConditions(f).map((c) => [c.result, c.message])).toEqual([
      ['fail', "the VM's status is CrashLoopBackOff"],
      ['fail', 'VM condition Failure=True (FailedCreate): boom'],
      ['warn', 'VM condition RestartRequired=True: a non-live-updatable field was changed'],
      ['warn', 'VMI condition MigrationRequired=True (AutoMigrationPending)'],
    ]);
    // On KubeVirt v1.5.1 the condition follows any network change: with every interface applied, doctor says so.
    const spurious = healthy();
    spurious.kubevirt = { state: 'found', value: kubevirt({ version: 'v1.5.1' }) };
    spurious.vm.status = { conditions: [{ type: 'RestartRequired', status: 'True', message: 'a non-live-updatable field was changed' }] };
    expect(checkConditions(spurious).map((c) => [c.result, c.message])).toEqual([
      ['warn', 'VM condition RestartRequired=True: a non-live-updatable field was changed; KubeVirt v1.5.1 sets this after any change of interfaces or networks, even one it applied live (fixed in v1.4.1, v1.5.2 and v1.6.0). Every interface change is applied: if interfaces were all you changed, nothing waits for the restart'],
    ]);
    // blue removed from the VM (not unplugged) while still in the VMI
    const stale = healthy();
    stale.vm.spec.template.spec.domain!.devices!.interfaces!.pop();
    stale.vm.spec.template.spec.networks!.pop();
    expect(checkConditions(stale).map((c) => c.message)).toContain('interface "blue" is still in the running VMI but no longer in the VM: it was removed instead of unplugged');
    const mismatch = healthy();
    mismatch.vmi!.status!.interfaces![1].mac = '02:11:00:00:00:99';
    expect(only(checkConditions(mismatch), 'warn')[0].message).toContain('desired MAC 02:11:00:00:00:01 (spec) differs from the reported MAC 02:11:00:00:00:99');
    const stopped = healthy();
    stopped.vmi = null;
    stopped.vm.status = { printableStatus: 'Stopped' };
    expect(checkConditions(stopped)[0]).toMatchObject({ result: 'ok', message: 'the VM is Stopped; no condition needs attention' });
  });
});
