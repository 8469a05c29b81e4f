// The simulator's pure helpers (test/simulator/model.ts): KubeVirt's names,
// defaults and annotation formats.
import { describe, expect, it } from 'vitest';
import {
  MANAGED_ANNOTATION,
  applyDefaultNetwork,
  defaultNetworkInterface,
  isHandMade,
  joinInfoSources,
  multusNetworksAnnotation,
  nadNamespacedName,
  parseMac,
  parseNetconf,
  runsNetconfSidecar,
  podInterfaceName,
  setCondition,
  stableMac,
  vmiFromVM,
} from '../simulator/model.ts';

describe('simulator model', () => {
  it('names pod interfaces as KubeVirt does: "pod" + 11 hex characters of sha256(network name)', () => {
    expect(podInterfaceName('blue')).toBe('pod16477688c0e');
    expect(podInterfaceName('dyniface1')).toBe('pod9a6a0c3b4d8');
  });

  it('parses MACs the way Go net.ParseMAC accepts them (6 bytes), normalised', () => {
    expect(parseMac('AA:BB:CC:DD:EE:FF')).toBe('aa:bb:cc:dd:ee:ff');
    expect(parseMac('AA-BB-CC-DD-EE-01')).toBe('aa:bb:cc:dd:ee:01');
    expect(parseMac('aabb.ccdd.eeff')).toBe('aa:bb:cc:dd:ee:ff');
    for (const bad of ['zz', 'aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'aa:bb-cc:dd:ee:ff', 7, undefined]) expect(parseMac(bad)).toBeNull();
  });

  it('makes stable, locally administered unicast MACs', () => {
    const m = stableMac('uid/blue');
    expect(m).toBe(stableMac('uid/blue'));
    expect(m).not.toBe(stableMac('uid/red'));
    expect(parseInt(m.slice(0, 2), 16) & 0b11).toBe(0b10);
  });

  it('reads the netconf annotation, and says what is wrong with a malformed one', () => {
    expect([...parseNetconf('[{"name":"blue","macAddress":"02:02:02:02:02:02"}]').macs]).toEqual([['blue', '02:02:02:02:02:02']]);
    expect(parseNetconf(undefined)).toEqual({ macs: new Map() });
    expect(parseNetconf('[{"name":"blue","macAddress":').error).toMatch(/^invalid JSON/);
    expect(parseNetconf('{"name":"blue"}').error).toBe('expected a JSON list of {name, macAddress}');
    expect(parseNetconf('[1]').error).toBe('entry 0 is not an object');
    expect(parseNetconf('[{"name":"blue","macAddress":5}]').error).toBe('entry 0: name and macAddress must be strings');
    expect(parseNetconf('[{"name":"blue","macAddress":"nope"}]').error).toMatch(/libvirt cannot parse MAC address "nope"/);
  });

  it('writes k8s.v1.cni.cncf.io/networks like KubeVirt: secondary multus networks only, not absent, mac only when set', () => {
    const value = multusNetworksAnnotation(
      'ns1',
      [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:01' }, { name: 'red', bridge: {} }, { name: 'gone', bridge: {}, state: 'absent' }, { name: 'mdef', bridge: {} }],
      [
        { name: 'default', pod: {} },
        { name: 'blue', multus: { networkName: 'blue-net' } },
        { name: 'red', multus: { networkName: 'other/red-net' } },
        { name: 'gone', multus: { networkName: 'gone-net' } },
        { name: 'mdef', multus: { networkName: 'primary', default: true } },
      ],
    );
    expect(value).toBe(
      '[{"name":"blue-net","namespace":"ns1","mac":"02:00:00:00:00:01","interface":"pod16477688c0e"},' + `{"name":"red-net","namespace":"other","interface":"${podInterfaceName('red')}"}]`,
    );
    expect(multusNetworksAnnotation('ns1', [{ name: 'default', masquerade: {} }], [{ name: 'default', pod: {} }])).toBeUndefined();
    expect(nadNamespacedName('a', 'b/c')).toEqual({ namespace: 'b', name: 'c' });
  });

  it('applies the implicit default network only when there are no interfaces and no networks and autoattach is not false', () => {
    const empty: any = { domain: { devices: {} } };
    expect(applyDefaultNetwork(empty)).toBe(true);
    expect(empty.domain.devices.interfaces).toEqual([{ name: 'default', bridge: {} }]);
    expect(empty.networks).toEqual([{ name: 'default', pod: {} }]);
    const masq: any = { domain: { devices: {} } };
    expect(applyDefaultNetwork(masq, 'masquerade')).toBe(true);
    expect(masq.domain.devices.interfaces).toEqual([{ name: 'default', masquerade: {} }]);
    const off: any = { domain: { devices: { autoattachPodInterface: false } } };
    expect(applyDefaultNetwork(off)).toBe(false);
    expect(off.networks).toBeUndefined();
    const some: any = { domain: { devices: {} }, networks: [{ name: 'x', multus: { networkName: 'x' } }] };
    expect(applyDefaultNetwork(some)).toBe(false);
  });

  it('takes the default binding from the KubeVirt CR\'s defaultNetworkInterface, else KubeVirt\'s built-in bridge', () => {
    expect(defaultNetworkInterface([])).toBe('bridge');
    expect(defaultNetworkInterface([{ spec: {} }])).toBe('bridge');
    expect(defaultNetworkInterface([{ spec: { configuration: { network: { defaultNetworkInterface: 'masquerade' } } } }])).toBe('masquerade');
    const vm = { metadata: { name: 'v', namespace: 'n', uid: 'u', generation: 1 }, spec: { template: { spec: { domain: { devices: {} } } } } };
    expect(vmiFromVM(vm).spec.domain.devices.interfaces).toEqual([{ name: 'default', bridge: {} }]);
    expect(vmiFromVM(vm, 'masquerade').spec.domain.devices.interfaces).toEqual([{ name: 'default', masquerade: {} }]);
  });

  it('tells whether the hook sidecars run the netconf sidecar (the only reader of the netconf annotation)', () => {
    expect(runsNetconfSidecar(undefined)).toBe(false);
    expect(runsNetconfSidecar('nope')).toBe(false);
    expect(runsNetconfSidecar('[{"image":"registry:5000/kubevirt/sidecar-shim:devel"}]')).toBe(false);
    expect(runsNetconfSidecar('[{"image":"registry.example/netconf:v1"}]')).toBe(true);
    expect(runsNetconfSidecar('[{"args":["x"]},{"image":"quay.io/kubevirt/netconf-hook-sidecar@sha256:ab"}]')).toBe(true);
    expect(runsNetconfSidecar('[{"image":"netconf.example/shim:v1"}]')).toBe(false);
  });

  it('builds a VMI from a VM: template metadata, owner reference, absent interfaces left out, marked as its own', () => {
    const vm = {
      metadata: { name: 'vm1', namespace: 'ns1', uid: 'u1', generation: 3 },
      spec: {
        template: {
          metadata: { labels: { a: 'b' }, annotations: { 'netconf.kubevirt.io/macAddress': '[]' } },
          spec: {
            domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'gone', bridge: {}, state: 'absent' }] } },
            networks: [{ name: 'default', pod: {} }, { name: 'gone', multus: { networkName: 'g' } }],
          },
        },
      },
    };
    const vmi = vmiFromVM(vm);
    expect(vmi.metadata).toEqual({
      name: 'vm1',
      namespace: 'ns1',
      labels: { a: 'b' },
      annotations: { 'netconf.kubevirt.io/macAddress': '[]', 'kubevirt.io/vm-generation': '3', [MANAGED_ANNOTATION]: 'true' },
      ownerReferences: [{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name: 'vm1', uid: 'u1', controller: true, blockOwnerDeletion: true }],
    });
    expect(vmi.spec.domain.devices.interfaces).toEqual([{ name: 'default', masquerade: {} }]);
    expect(vmi.spec.networks).toEqual([{ name: 'default', pod: {} }]);
    expect(vm.spec.template.spec.networks).toHaveLength(2);
    expect(isHandMade(vmi)).toBe(false);
    expect(isHandMade({ ...vmi, status: { phase: 'Running' } })).toBe(false);
    expect(isHandMade({ metadata: {}, status: { phase: 'Running' } })).toBe(true);
  });

  it('orders infoSource like KubeVirt and keeps condition transition times when nothing changed', () => {
    expect(joinInfoSources(['multus-status', 'domain'])).toBe('domain, multus-status');
    const first = setCondition([], { type: 'Ready', status: 'True' }, 't1');
    expect(setCondition(first, { type: 'Ready', status: 'True' }, 't2')[0].lastTransitionTime).toBe('t1');
    expect(setCondition(first, { type: 'Ready', status: 'False' }, 't2')[0].lastTransitionTime).toBe('t2');
  });
});
