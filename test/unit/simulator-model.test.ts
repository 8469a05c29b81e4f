// The node-side simulator's pure helpers (test/simulator/model.ts, and
// migratableError of node.ts): KubeVirt's names, annotation formats and rules.
import { describe, expect, it } from 'vitest';
import {
  joinInfoSources,
  parseMac,
  parseNetconf,
  runsNetconfSidecar,
  podInterfaceName,
  setCondition,
  stableMac,
} from '../simulator/model.ts';
import { migratableError } from '../simulator/node.ts';

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

  it('tells whether the hook sidecars run the netconf sidecar (the only reader of the netconf annotation)', () => {
    expect(runsNetconfSidecar(undefined)).toBe(false);
    expect(runsNetconfSidecar('nope')).toBe(false);
    expect(runsNetconfSidecar('[{"image":"registry:5000/kubevirt/sidecar-shim:devel"}]')).toBe(false);
    expect(runsNetconfSidecar('[{"image":"registry.example/netconf:v1"}]')).toBe(true);
    expect(runsNetconfSidecar('[{"args":["x"]},{"image":"quay.io/kubevirt/netconf-hook-sidecar@sha256:ab"}]')).toBe(true);
    expect(runsNetconfSidecar('[{"image":"netconf.example/shim:v1"}]')).toBe(false);
  });

  it('orders infoSource like KubeVirt and keeps condition transition times when nothing changed', () => {
    expect(joinInfoSources(['multus-status', 'domain'])).toBe('domain, multus-status');
    const first = setCondition([], { type: 'Ready', status: 'True' }, 't1');
    expect(setCondition(first, { type: 'Ready', status: 'True' }, 't2')[0].lastTransitionTime).toBe('t1');
    expect(setCondition(first, { type: 'Ready', status: 'False' }, 't2')[0].lastTransitionTime).toBe('t2');
  });

  it('tells whether a VMI can live-migrate because of its pod network interface, as VerifyVMIMigratable does', () => {
    const vmi = (primary: object, annotations: Record<string, string> = {}) => ({
      metadata: { annotations },
      spec: { domain: { devices: { interfaces: [{ name: 'default', ...primary }, { name: 'fast', sriov: {} }] } }, networks: [{ name: 'default', pod: {} }, { name: 'fast', multus: { networkName: 'sriov-net' } }] },
    });
    expect(migratableError(vmi({ masquerade: {} }))).toBe('');
    expect(migratableError(vmi({ passtBinding: {} }))).toBe('');
    expect(migratableError(vmi({ bridge: {} }))).toMatch(/cannot migrate VMI which does not use masquerade/);
    expect(migratableError(vmi({ bridge: {} }, { 'kubevirt.io/allow-pod-bridge-network-live-migration': '' }))).toBe('');
    expect(migratableError({ metadata: {}, spec: { domain: { devices: { interfaces: [{ name: 'fast', sriov: {} }] } }, networks: [{ name: 'fast', multus: { networkName: 'x' } }] } })).toBe('');
  });
});
