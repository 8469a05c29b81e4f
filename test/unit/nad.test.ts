import { describe, expect, it } from 'vitest';
import {
  analyzeNad,
  bridgeBindingProblem,
  checkKubeOvnNad,
  cniTypes,
  customMacSupport,
  declaredKubeOvnProvider,
  expectedKubeOvnProvider,
  mainCniType,
  parseNadConfig,
  spoofCheck,
  subnetReady,
  type KubeOvnSubnet,
} from '../../src/domain/nad.js';
import type { NetworkAttachmentDefinition } from '../../src/domain/types.js';

function nad(config: unknown, name = 'blue', namespace = 'ns1'): NetworkAttachmentDefinition {
  return { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name, namespace }, spec: { config: typeof config === 'string' ? config : JSON.stringify(config) } };
}

function subnet(name: string, provider: string, ready?: boolean): KubeOvnSubnet {
  return { metadata: { name }, spec: { provider, cidrBlock: '10.0.0.0/24' }, status: ready === undefined ? {} : { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } };
}

describe('parseNadConfig / cniTypes', () => {
  it('reads a single plugin and a plugins list in order', () => {
    expect(cniTypes(nad({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }))).toEqual(['bridge']);
    expect(cniTypes(nad({ cniVersion: '0.3.1', name: 'x', plugins: [{ type: 'flannel' }, { type: 'tuning' }, { type: 'portmap' }] }))).toEqual(['flannel', 'tuning', 'portmap']);
    expect(mainCniType(nad({ plugins: [{ type: 'macvlan' }, { type: 'tuning' }] }))).toBe('macvlan');
    expect(parseNadConfig(nad({ plugins: [{ type: 'ovs' }] })).isList).toBe(true);
  });

  it('reports empty, malformed and typeless configs without throwing', () => {
    expect(parseNadConfig({ spec: {} }).error).toMatch(/empty/);
    expect(parseNadConfig(nad('{not json')).error).toMatch(/not valid JSON/);
    expect(parseNadConfig(nad('[1,2]')).error).toMatch(/not a JSON object/);
    expect(parseNadConfig(nad({ cniVersion: '1.0.0' })).error).toMatch(/neither "type" nor "plugins"/);
    expect(parseNadConfig(nad({ plugins: [{ foo: 1 }] })).error).toMatch(/without any plugin type/);
    expect(cniTypes(nad('{not json'))).toEqual([]);
  });
});

describe('bridgeBindingProblem', () => {
  it('flags macvlan and ipvlan, also inside a plugins list', () => {
    expect(bridgeBindingProblem(nad({ type: 'macvlan', master: 'eth0' }))).toMatch(/macvlan does not work with KubeVirt's bridge binding/);
    expect(bridgeBindingProblem(nad({ plugins: [{ type: 'ipvlan' }, { type: 'tuning' }] }))).toMatch(/ipvlan/);
    expect(bridgeBindingProblem(nad({ plugins: [{ type: 'tuning' }, { type: 'macvlan' }] }))).toMatch(/macvlan/);
  });
  it('accepts bridge, ovs and unknown configs', () => {
    expect(bridgeBindingProblem(nad({ type: 'bridge' }))).toBeUndefined();
    expect(bridgeBindingProblem(nad({ plugins: [{ type: 'ovs' }] }))).toBeUndefined();
    expect(bridgeBindingProblem({ spec: {} })).toBeUndefined();
  });
});

describe('Kube-OVN', () => {
  const ovn = nad({ cniVersion: '0.3.0', type: 'kube-ovn', server_socket: '/run/openvswitch/kube-ovn-daemon.sock', provider: 'attachnet.default.ovn' }, 'attachnet', 'default');

  it('knows the provider <nad>.<ns>.ovn and the declared one', () => {
    expect(expectedKubeOvnProvider(ovn)).toBe('attachnet.default.ovn');
    expect(declaredKubeOvnProvider(ovn)).toBe('attachnet.default.ovn');
    expect(declaredKubeOvnProvider(nad({ type: 'kube-ovn' }))).toBeUndefined();
  });

  it('finds the Subnet serving the provider and checks Ready', () => {
    const ok = checkKubeOvnNad(ovn, [subnet('other', 'x.y.ovn', true), subnet('attachnet', 'attachnet.default.ovn', true)]);
    expect(ok.problem).toBeUndefined();
    expect(ok.warning).toBeUndefined();
    expect(ok.subnets.map((s) => s.metadata.name)).toEqual(['attachnet']);

    const notReady = checkKubeOvnNad(ovn, [subnet('attachnet', 'attachnet.default.ovn', false)]);
    expect(notReady.problem).toBeUndefined();
    expect(notReady.warning).toMatch(/Subnet attachnet .* is not Ready/);

    expect(subnetReady(subnet('a', 'p'))).toBeUndefined();
  });

  it('reports a NAD no Subnet serves', () => {
    const none = checkKubeOvnNad(ovn, [subnet('s1', 'ovn')]);
    expect(none.problem).toBe('no Kube-OVN Subnet has provider "attachnet.default.ovn": the attachment gets no address and the pod stays pending');
  });

  it('takes the Subnet the VM\'s logical_switch annotation names, whatever its provider', () => {
    const key = 'attachnet.default.ovn.kubernetes.io/logical_switch';
    // A Subnet without the provider, named by the annotation: served, and checked for Ready.
    const named = checkKubeOvnNad(ovn, [subnet('vlan-a', '', false)], { [key]: 'vlan-a' });
    expect(named.problem).toBeUndefined();
    expect(named.named).toEqual({ annotation: key, subnet: 'vlan-a' });
    expect(named.warning).toMatch(/Subnet vlan-a .* is not Ready/);
    // The annotation wins over a Subnet that has the provider.
    expect(checkKubeOvnNad(ovn, [subnet('vlan-a', '', true), subnet('attachnet', 'attachnet.default.ovn', true)], { [key]: 'vlan-a' }).subnets.map((s) => s.metadata.name)).toEqual(['vlan-a']);
    // A name that does not exist is the problem, even when another Subnet has the provider.
    const missing = checkKubeOvnNad(ovn, [subnet('attachnet', 'attachnet.default.ovn', true)], { [key]: 'nope' });
    expect(missing.problem).toBe(`the VM's annotation ${key} names Kube-OVN Subnet "nope", which does not exist: the attachment gets no address and the pod stays pending`);
    // Other annotations change nothing.
    expect(checkKubeOvnNad(ovn, [subnet('s1', 'ovn')], { 'ovn.kubernetes.io/logical_switch': 's1' }).problem).toMatch(/^no Kube-OVN Subnet has provider/);
  });

  it('points at a Subnet that matches a misspelled declared provider', () => {
    const wrong = nad({ type: 'kube-ovn', provider: 'attachnet.ovn' }, 'attachnet', 'default');
    const r = checkKubeOvnNad(wrong, [subnet('s1', 'attachnet.ovn', true)]);
    expect(r.providerMismatch).toMatch(/declares provider "attachnet.ovn"/);
    expect(r.problem).toMatch(/Subnet s1 has the NAD's declared provider "attachnet.ovn"/);
  });
});

describe('customMacSupport', () => {
  it.each([
    [{ type: 'bridge' }, 'yes'],
    [{ type: 'ovs', bridge: 'br1' }, 'yes'],
    [{ type: 'sriov' }, 'yes'],
    [{ type: 'flannel' }, 'no'],
    [{ plugins: [{ type: 'ptp' }] }, 'no'],
    [{ plugins: [{ type: 'flannel' }, { type: 'tuning' }] }, 'yes'],
    [{ plugins: [{ type: 'ptp' }, { type: 'tuning', capabilities: { mac: true } }] }, 'yes'],
    [{ type: 'weird-cni' }, 'unknown'],
  ])('%j -> %s', (config, expected) => {
    expect(customMacSupport(nad(config)).supported).toBe(expected);
  });

  it('says how to fix flannel', () => {
    const r = customMacSupport(nad({ type: 'flannel' }));
    expect(r.reason).toBe('the flannel plugin does not set a requested MAC without a chained tuning plugin');
    expect(r.fix).toMatch(/"type": "tuning"/);
  });

  it('is unknown for an empty config', () => {
    expect(customMacSupport({ spec: { config: '' } }).supported).toBe('unknown');
  });
});

describe('spoofCheck', () => {
  it('finds bridge macspoofchk and sriov spoofchk', () => {
    expect(spoofCheck(nad({ type: 'bridge', macspoofchk: true }))).toEqual({ enabled: true, setting: 'bridge macspoofchk' });
    expect(spoofCheck(nad({ plugins: [{ type: 'sriov', spoofchk: 'on' }] }))).toEqual({ enabled: true, setting: 'sriov spoofchk' });
    expect(spoofCheck(nad({ type: 'sriov', spoofchk: 'off' }))).toEqual({ enabled: false });
    expect(spoofCheck(nad({ type: 'bridge', macspoofchk: false }))).toEqual({ enabled: false });
  });
});

describe('analyzeNad', () => {
  it('summarises a NAD', () => {
    const a = analyzeNad(nad({ plugins: [{ type: 'macvlan' }, { type: 'tuning' }] }, 'mv', 'team'));
    expect(a).toMatchObject({ ref: 'team/mv', types: ['macvlan', 'tuning'], mainType: 'macvlan', kubeOvn: false, spoofCheck: { enabled: false } });
    expect(a.bridgeBindingProblem).toMatch(/macvlan/);
    expect(a.customMac.supported).toBe('yes');
  });
});
