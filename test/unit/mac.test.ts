import { describe, expect, it } from 'vitest';
import { refusalOf, testVM } from '../support/vm.js';
import { collectMacUses, findCollisions, goParseMac, isGloballyAdministered, macInRange, macWarnings, normaliseMac, parseMac, checkMacForInterface, describeMacUse } from '../../src/domain/mac.js';
import type { VirtualMachine, VirtualMachineInstance } from '../../src/domain/types.js';

/** The VnetError fn throws (a usage error or a refusal). */
const usage = refusalOf;

describe('goParseMac (Go net.ParseMAC)', () => {
  it.each([
    ['00:00:5e:00:53:01', [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01]],
    ['00-00-5E-00-53-01', [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01]],
    ['0000.5e00.5301', [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01]],
    ['AaBb.CcDd.EeFf', [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]],
    ['02:00:5e:10:00:00:00:01', [0x02, 0x00, 0x5e, 0x10, 0x00, 0x00, 0x00, 0x01]],
    ['0200.5e10.0000.0001', [0x02, 0x00, 0x5e, 0x10, 0x00, 0x00, 0x00, 0x01]],
  ])('accepts %s', (input, bytes) => {
    expect(goParseMac(input)).toEqual(bytes);
  });

  it('accepts the 20-byte InfiniBand form as Go does', () => {
    expect(goParseMac('00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01')).toHaveLength(20);
  });

  it.each([
    '',
    '00:00:5e:00:53', // 5 bytes
    '00:00:5e:00:53:01:02', // 7 bytes
    '00:00:5e:00:53:1', // short group
    '0:00:5e:00:53:01:0',
    '00:00-5e:00:53:01', // mixed separators
    '00.00.5e.00.53.01',
    '00005e005301', // no separators
    '0000:5e00:5301',
    '00:00:5g:00:53:01', // not hex
    '0x:00:5e:00:53:01',
    '00:00:5e:00:53:01 ', // trailing space
    ' 00:00:5e:00:53:01',
    '0000.5e00.530',
    '000.05e00.5301',
    '00:00:5e:00:53:+1',
  ])('refuses %j', (input) => {
    expect(goParseMac(input)).toBeNull();
  });
});

describe('parseMac', () => {
  it.each([
    ['02:AB:cd:EF:01:23', '02:ab:cd:ef:01:23'],
    ['02-AB-CD-EF-01-23', '02:ab:cd:ef:01:23'],
    ['02ab.cdef.0123', '02:ab:cd:ef:01:23'],
    ['  02:ab:cd:ef:01:23\n', '02:ab:cd:ef:01:23'],
  ])('%j -> %s', (input, out) => {
    expect(parseMac(input)).toBe(out);
  });

  it('refuses what is not a MAC, with the accepted forms in the hint', () => {
    const e = usage(() => parseMac('02:ab:cd:ef:01'));
    expect(e.code).toBe('usage');
    expect(e.message).toBe('"02:ab:cd:ef:01" is not a MAC address');
    expect(e.hint).toContain('aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff');
  });

  it('refuses 8- and 20-byte addresses Go would parse', () => {
    expect(usage(() => parseMac('02:00:5e:10:00:00:00:01')).message).toContain('8-byte hardware address; an interface MAC has 6 bytes');
    expect(usage(() => parseMac('00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01')).message).toContain('20-byte');
  });

  it('refuses multicast, all-zero and broadcast', () => {
    const m = usage(() => parseMac('03:00:00:00:00:01'));
    expect(m.message).toContain('03:00:00:00:00:01 is a multicast address');
    expect(m.hint).toContain('02:00:00:00:00:01');
    const m2 = usage(() => parseMac('01:00:5e:00:00:fb'));
    expect(m2.message).toContain('multicast');
    expect(m2.hint).toContain('e.g. 02:00:5e:00:00:fb');
    expect(usage(() => parseMac('00:00:00:00:00:00')).message).toContain('all-zero');
    expect(usage(() => parseMac('FF-FF-FF-FF-FF-FF')).message).toContain('ff:ff:ff:ff:ff:ff is the broadcast address');
  });

  it('accepts 02:00:00:00:00:00 by itself (only masquerade reserves it)', () => {
    expect(parseMac('02:00:00:00:00:00')).toBe('02:00:00:00:00:00');
  });
});

describe('MAC properties', () => {
  it('globally vs locally administered', () => {
    expect(isGloballyAdministered('00:1a:2b:3c:4d:5e')).toBe(true);
    expect(isGloballyAdministered('02:1a:2b:3c:4d:5e')).toBe(false);
    expect(isGloballyAdministered('fe:1a:2b:3c:4d:5e')).toBe(false);
    expect(macWarnings('00:1a:2b:3c:4d:5e').map((w) => w.code)).toEqual(['mac-globally-administered']);
    expect(macWarnings('0a:1a:2b:3c:4d:5e')).toEqual([]);
  });

  it('normaliseMac never throws and keeps only 6-byte forms', () => {
    expect(normaliseMac('AA-BB-CC-DD-EE-FF')).toBe('aa:bb:cc:dd:ee:ff');
    expect(normaliseMac('02:00:5e:10:00:00:00:01')).toBeNull();
    expect(normaliseMac('zz')).toBeNull();
    expect(normaliseMac(undefined)).toBeNull();
  });

  it('range membership is inclusive, bounds in any form', () => {
    expect(macInRange('02:00:00:00:00:10', '02:00:00:00:00:10', '02:00:00:00:00:20')).toBe(true);
    expect(macInRange('02:00:00:00:00:20', '02-00-00-00-00-10', '0200.0000.0020')).toBe(true);
    expect(macInRange('02:00:00:00:00:21', '02:00:00:00:00:10', '02:00:00:00:00:20')).toBe(false);
    expect(macInRange('02:00:00:00:00:0f', '02:00:00:00:00:10', '02:00:00:00:00:20')).toBe(false);
    expect(macInRange('02:00:00:00:00:15', 'garbage', '02:00:00:00:00:20')).toBe(false);
  });

  it('02:00:00:00:00:00 is refused on masquerade only', () => {
    const e = usage(() => checkMacForInterface('02:00:00:00:00:00', { name: 'default', masquerade: {} }));
    expect(e.code).toBe('precondition');
    expect(e.message).toContain('reserved by KubeVirt for the in-pod bridge');
    expect(() => checkMacForInterface('02:00:00:00:00:00', { name: 'blue', bridge: {} })).not.toThrow();
    expect(() => checkMacForInterface('02:00:00:00:00:01', { name: 'default', masquerade: {} })).not.toThrow();
  });
});

function vm(ns: string, name: string, ifaces: { name: string; macAddress?: string }[], annotations?: Record<string, string>): VirtualMachine {
  return testVM({ namespace: ns, name, resourceVersion: null, templateSpec: { domain: { devices: { interfaces: ifaces.map((i) => ({ ...i, bridge: {} })) } } }, templateAnnotations: annotations });
}

function vmi(ns: string, name: string, status: { name?: string; mac?: string }[], annotations?: Record<string, string>): VirtualMachineInstance {
  return { metadata: { name, namespace: ns, annotations }, spec: { domain: { devices: { interfaces: [] } } }, status: { interfaces: status } };
}

describe('collisions', () => {
  const vms = [
    vm('a', 'vm1', [{ name: 'blue', macAddress: '02:00:00:00:00:01' }, { name: 'red' }]),
    vm('b', 'vm2', [{ name: 'blue' }], { 'netconf.kubevirt.io/macAddress': JSON.stringify([{ name: 'blue', macAddress: '02-00-00-00-00-02' }]) }),
    vm('b', 'vm3', [{ name: 'blue' }], { 'netconf.kubevirt.io/macAddress': 'not json' }),
  ];
  const vmis = [vmi('c', 'standalone', [{ name: 'eth', mac: '02:00:00:00:00:03' }, { mac: '02:00:00:00:00:04' }]), vmi('a', 'vm1', [{ name: 'blue', mac: '02:00:00:00:00:01' }])];
  const uses = collectMacUses(vms, vmis);

  it('collects spec MACs, netconf entries (normalised) and VMI status MACs, skipping malformed annotations', () => {
    expect(uses.map((u) => `${u.kind}:${u.namespace}/${u.name}/${u.iface}/${u.source}=${u.mac}`).sort()).toEqual([
      'VirtualMachine:a/vm1/blue/spec=02:00:00:00:00:01',
      'VirtualMachine:b/vm2/blue/netconf=02:00:00:00:00:02',
      'VirtualMachineInstance:a/vm1/blue/status=02:00:00:00:00:01',
      'VirtualMachineInstance:c/standalone//status=02:00:00:00:00:04',
      'VirtualMachineInstance:c/standalone/eth/status=02:00:00:00:00:03',
    ]);
  });

  it('the same interface of the same VM (and its VMI) is not a collision', () => {
    expect(findCollisions('02:00:00:00:00:01', uses, { namespace: 'a', name: 'vm1', iface: 'blue' })).toEqual([]);
  });

  it('another interface of the same VM is', () => {
    const c = findCollisions('02:00:00:00:00:01', uses, { namespace: 'a', name: 'vm1', iface: 'red' });
    expect(c.map(describeMacUse)).toEqual(['VirtualMachine a/vm1 interface "blue" (spec macAddress)']);
  });

  it('another VM in another namespace is, via netconf or VMI status', () => {
    expect(findCollisions('02:00:00:00:00:02', uses, { namespace: 'a', name: 'vm1', iface: 'red' }).map(describeMacUse)).toEqual(['VirtualMachine b/vm2 interface "blue" (netconf annotation)']);
    expect(findCollisions('02:00:00:00:00:04', uses, { namespace: 'a', name: 'vm1', iface: 'red' }).map(describeMacUse)).toEqual(['VirtualMachineInstance c/standalone interface (guest-only) (reported in the VMI status)']);
  });

  it('reports one entry per owner interface', () => {
    expect(findCollisions('02:00:00:00:00:01', uses, { namespace: 'z', name: 'other', iface: 'x' })).toHaveLength(1);
  });
});
