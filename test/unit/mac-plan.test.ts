import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { refusalOf, testVM } from '../support/vm.js';
import { planMacSet, planMacUnset, type MacFacts, type MacSetOptions } from '../../src/domain/mac-plan.js';
import { applyPatch, PatchConflict } from '../../src/domain/patch.js';
import { collectMacUses } from '../../src/domain/mac.js';
import { buildMacList } from '../../src/domain/mac-list.js';
import type { VirtualMachine } from '../../src/domain/types.js';

const NETCONF = 'netconf.kubevirt.io/macAddress';
const HOOKS = 'hooks.kubevirt.io/hookSidecars';
const IMAGE = 'registry:5000/kubevirt/netconf-hook-sidecar:latest';
const SMBIOS = '[{"args": ["--version", "v1alpha2"], "image": "registry:5000/kubevirt/sidecar-shim:devel", "configMap": {"name": "my-config-map", "key": "my_script.sh", "hookPath": "/usr/bin/onDefineDomain"}}]';

function makeVM(opts: { annotations?: Record<string, string>; noMetadata?: boolean; ifaces?: any[]; ns?: string; name?: string } = {}): VirtualMachine {
  return testVM({
    name: opts.name,
    namespace: opts.ns,
    resourceVersion: '42',
    templateSpec: {
      domain: { devices: { interfaces: opts.ifaces ?? [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, model: 'virtio' }] } },
      networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }],
    },
    templateMetadata: opts.noMetadata ? undefined : { labels: { app: 'x' }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
  });
}

const gateOn: MacFacts = { kubevirt: { state: 'installed', featureGates: ['Sidecar'] }, uses: { uses: [] }, macpool: { manages: false } };
const setOpts = (o: Partial<MacSetOptions> = {}): MacSetOptions => ({ iface: 'blue', mac: '02:00:00:00:00:01', via: 'netconf', sidecarImage: { image: IMAGE, from: '--sidecar-image' }, force: false, ...o });

const refusal = refusalOf;

function annotationsAfter(vm: VirtualMachine, ops: any[]) {
  return applyPatch(vm, ops).spec.template.metadata?.annotations ?? {};
}

describe('planMacSet --via netconf', () => {
  it('on a template with metadata but no annotations: adds both annotations, guarded by the metadata as read', () => {
    const vm = makeVM();
    const p = planMacSet(vm, setOpts(), gateOn);
    expect(p.noop).toBeUndefined();
    expect(p.ops).toEqual([
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces/1/name', value: 'blue' },
      { op: 'test', path: '/spec/template/metadata', value: { labels: { app: 'x' } } },
      { op: 'add', path: '/spec/template/metadata/annotations', value: { [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:01"}]', [HOOKS]: `[{"image":"${IMAGE}"}]` } },
    ]);
    expect(p.notes.join('\n')).toContain('KubeVirt does not flag a restart');
    expect(p.summary).toContain('02:00:00:00:00:01');
  });

  it('on a template without metadata: guarded by resourceVersion', () => {
    const vm = makeVM({ noMetadata: true });
    const p = planMacSet(vm, setOpts(), gateOn);
    expect(p.ops[1]).toEqual({ op: 'test', path: '/metadata/resourceVersion', value: '42' });
    expect(annotationsAfter(vm, p.ops)).toEqual({ [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:01"}]', [HOOKS]: `[{"image":"${IMAGE}"}]` });
  });

  it('keeps an unrelated sidecar (smbios) and other annotations exactly; guards the values it rewrites', () => {
    const vm = makeVM({ annotations: { [HOOKS]: SMBIOS, 'smbios.vm.kubevirt.io/baseBoardManufacturer': 'Radical Edward' } });
    const p = planMacSet(vm, setOpts(), gateOn);
    expect(p.ops).toContainEqual({ op: 'test', path: '/spec/template/metadata/annotations/hooks.kubevirt.io~1hookSidecars', value: SMBIOS });
    // the netconf annotation is absent: the whole map as read is tested first
    expect(p.ops[1]).toEqual({ op: 'test', path: '/spec/template/metadata/annotations', value: vm.spec.template.metadata!.annotations });
    const after = annotationsAfter(vm, p.ops);
    expect(after['smbios.vm.kubevirt.io/baseBoardManufacturer']).toBe('Radical Edward');
    expect(JSON.parse(after[HOOKS])).toEqual([...JSON.parse(SMBIOS), { image: IMAGE }]);
    expect(JSON.parse(after[NETCONF])).toEqual([{ name: 'blue', macAddress: '02:00:00:00:00:01' }]);
  });

  it('updates only the entry of the interface, keeping other entries and their fields', () => {
    const nc = '[{"name":"red","macAddress":"02:00:00:00:00:0a","owner":"ops"},{"name":"blue","macAddress":"02:00:00:00:00:0b"}]';
    const vm = makeVM({ annotations: { [NETCONF]: nc, [HOOKS]: `[{"image":"${IMAGE}","imagePullPolicy":"IfNotPresent"}]` } });
    const p = planMacSet(vm, setOpts({ sidecarImage: undefined }), gateOn);
    expect(p.ops).toEqual([
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces/1/name', value: 'blue' },
      { op: 'test', path: '/spec/template/metadata/annotations/netconf.kubevirt.io~1macAddress', value: nc },
      { op: 'replace', path: '/spec/template/metadata/annotations/netconf.kubevirt.io~1macAddress', value: '[{"name":"red","macAddress":"02:00:00:00:00:0a","owner":"ops"},{"name":"blue","macAddress":"02:00:00:00:00:01"}]' },
      { op: 'test', path: '/spec/template/metadata/annotations/hooks.kubevirt.io~1hookSidecars', value: `[{"image":"${IMAGE}","imagePullPolicy":"IfNotPresent"}]` },
    ]);
  });

  it('guards the existing netconf sidecar it relies on: a concurrent removal of the sidecar fails the patch', () => {
    const vm = makeVM({ annotations: { [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:0b"}]', [HOOKS]: `[{"image":"${IMAGE}"}]` } });
    const p = planMacSet(vm, setOpts({ sidecarImage: undefined }), gateOn);
    const changed = structuredClone(vm);
    changed.spec.template.metadata!.annotations![HOOKS] = SMBIOS;
    expect(() => applyPatch(changed, p.ops)).toThrow(PatchConflict);
    expect(JSON.parse(annotationsAfter(vm, p.ops)[NETCONF])).toEqual([{ name: 'blue', macAddress: '02:00:00:00:00:01' }]);
  });

  it('is a no-op when the MAC and the sidecar are already there (even formatted differently)', () => {
    const vm = makeVM({ annotations: { [NETCONF]: '[ {"name": "blue", "macAddress": "02:00:00:00:00:01"} ]', [HOOKS]: `[{"image": "${IMAGE}"}]` } });
    const p = planMacSet(vm, setOpts(), { ...gateOn, kubevirt: { state: 'installed', featureGates: [] } });
    expect(p.noop).toBe(true);
    expect(p.ops).toEqual([]);
  });

  it('a different --sidecar-image replaces the image of the existing netconf entry and says so', () => {
    const vm = makeVM({ annotations: { [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:01"}]', [HOOKS]: `[{"image":"${IMAGE}"}]` } });
    const p = planMacSet(vm, setOpts({ sidecarImage: { image: 'mirror.example/netconf-hook-sidecar:v1', from: 'KUBECTL_VNET_NETCONF_IMAGE' } }), gateOn);
    expect(JSON.parse(annotationsAfter(vm, p.ops)[HOOKS])).toEqual([{ image: 'mirror.example/netconf-hook-sidecar:v1' }]);
    expect(p.notes.join('\n')).toContain(`changes from ${IMAGE} to mirror.example/netconf-hook-sidecar:v1 (KUBECTL_VNET_NETCONF_IMAGE)`);
  });

  it.each(['bad image', 'Registry.example/Kubevirt/Netconf:v1', 'reg/x:v1"},{"a', 'reg/x:', '', 'reg//x'])('refuses %j as --sidecar-image: a usage error, before anything is planned', (image) => {
    const e = refusal(() => planMacSet(makeVM(), setOpts({ sidecarImage: { image, from: '--sidecar-image' } }), gateOn));
    expect(e.code).toBe('usage');
    expect(e.message).toContain('is not a container image reference');
    expect(e.message).toContain(JSON.stringify(image));
  });

  it.each([IMAGE, 'quay.io/kubevirt/netconf-hook-sidecar:v1.9.0', 'netconf', 'localhost:5000/a/b__c-d', `reg.example/x@sha256:${'a'.repeat(64)}`, '[fd00::1]:5000/x:v1'])('accepts %j as --sidecar-image', (image) => {
    const p = planMacSet(makeVM(), setOpts({ sidecarImage: { image, from: '--sidecar-image' } }), gateOn);
    expect(JSON.parse(annotationsAfter(makeVM(), p.ops)[HOOKS])).toEqual([{ image }]);
  });

  it('refuses without any image, and says how to give one', () => {
    const e = refusal(() => planMacSet(makeVM(), setOpts({ sidecarImage: undefined }), gateOn));
    expect(e.code).toBe('precondition');
    expect(e.message).toContain('no netconf sidecar yet');
    expect(e.hint).toContain('--sidecar-image');
    expect(e.hint).toContain('KUBECTL_VNET_NETCONF_IMAGE');
  });

  it.each([
    [NETCONF, '{"name":"blue"}', 'not a JSON list'],
    [NETCONF, '[{"name":"blue","macAddress":1}]', '"macAddress" is a number'],
    [NETCONF, 'nope', 'not valid JSON'],
    [HOOKS, '[{"image": 3}]', '"image" is a number'],
    [HOOKS, '[', 'not valid JSON'],
  ])('refuses a malformed %s (%j), naming it', (key, value, what) => {
    const e = refusal(() => planMacSet(makeVM({ annotations: { [key]: value } }), setOpts(), gateOn));
    expect(e.code).toBe('precondition');
    expect(e.message).toContain(`annotation ${key}`);
    expect(e.message).toContain(what);
    expect(e.message).toContain('nothing was changed');
  });

  it('refuses when the KubeVirt CR is readable and has no Sidecar gate; warns when it is not readable; notes when offline', () => {
    const e = refusal(() => planMacSet(makeVM(), setOpts(), { ...gateOn, kubevirt: { state: 'installed', featureGates: ['HotplugNICs'] } }));
    expect(e.message).toContain('Sidecar feature gate is not enabled');
    expect(e.hint).toContain('spec.configuration.developerConfiguration.featureGates');
    const w = planMacSet(makeVM(), setOpts(), { ...gateOn, kubevirt: { state: 'unreadable', message: 'forbidden' } });
    expect(w.warnings.map((x) => x.code)).toContain('sidecar-gate-unknown');
    const off = planMacSet(makeVM(), setOpts(), {});
    expect(off.notes.join('\n')).toMatch(/Sidecar feature gate was not checked[\s\S]*collision check was skipped|collision check was skipped[\s\S]*Sidecar feature gate was not checked/);
  });

  it('refuses a MAC used by another VM unless --force; says when the check was partial', () => {
    const other = makeVM({ ns: 'ns2', name: 'vm2', ifaces: [{ name: 'eth1', bridge: {}, macAddress: '02-00-00-00-00-01' }] });
    const facts: MacFacts = { ...gateOn, uses: { uses: collectMacUses([other], []), partial: 'cannot list virtualmachines across namespaces' } };
    const e = refusal(() => planMacSet(makeVM(), setOpts(), facts));
    expect(e.message).toBe('02:00:00:00:00:01 is already used by VirtualMachine ns2/vm2 interface "eth1" (spec macAddress)');
    expect(e.hint).toContain('--force');
    const forced = planMacSet(makeVM(), setOpts({ force: true }), facts);
    expect(forced.warnings.map((w) => w.code)).toEqual(['mac-collision-check-partial', 'mac-collision']);
    expect(forced.ops.length).toBeGreaterThan(0);
  });

  it('kubemacpool: warns that netconf is invisible to it, refuses a MAC in its range unless --force', () => {
    const facts: MacFacts = { ...gateOn, macpool: { manages: true, range: { start: '02:00:00:00:00:00', end: '02:00:00:00:ff:ff' } } };
    const e = refusal(() => planMacSet(makeVM(), setOpts(), facts));
    expect(e.message).toContain("inside kubemacpool's range 02:00:00:00:00:00-02:00:00:00:ff:ff");
    const outside = planMacSet(makeVM(), setOpts({ mac: '0a:00:00:00:00:01' }), facts);
    expect(outside.warnings.map((w) => w.code)).toEqual(['netconf-invisible-to-kubemacpool']);
    const forced = planMacSet(makeVM(), setOpts({ force: true }), facts);
    expect(forced.warnings.map((w) => w.code)).toEqual(['netconf-invisible-to-kubemacpool', 'mac-in-kubemacpool-range']);
  });

  it('refuses 02:00:00:00:00:00 on masquerade, and an unknown interface (listing the real ones)', () => {
    expect(refusal(() => planMacSet(makeVM(), setOpts({ iface: 'default', mac: '02:00:00:00:00:00' }), gateOn)).message).toContain('reserved');
    const nf = refusal(() => planMacSet(makeVM(), setOpts({ iface: 'pink' }), gateOn));
    expect(nf.code).toBe('precondition');
    expect(nf.hint).toBe('its interfaces are: default, blue');
  });

  it('warns on a globally administered MAC', () => {
    expect(planMacSet(makeVM(), setOpts({ mac: '00:1a:2b:3c:4d:5e' }), gateOn).warnings.map((w) => w.code)).toContain('mac-globally-administered');
  });

  it('its test ops make a stale plan fail', () => {
    const vm = makeVM({ annotations: { [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:0b"}]', [HOOKS]: `[{"image":"${IMAGE}"}]` } });
    const p = planMacSet(vm, setOpts(), gateOn);
    const changed = structuredClone(vm);
    changed.spec.template.metadata!.annotations![NETCONF] = '[{"name":"blue","macAddress":"02:00:00:00:00:0c"}]';
    expect(() => applyPatch(changed, p.ops)).toThrow(PatchConflict);
    // a netconf annotation added concurrently to a map that had none: the whole-map test catches it
    const fresh = makeVM({ annotations: { other: 'x' } });
    const p2 = planMacSet(fresh, setOpts(), gateOn);
    const raced = structuredClone(fresh);
    raced.spec.template.metadata!.annotations![NETCONF] = '[{"name":"red","macAddress":"02:00:00:00:00:0d"}]';
    expect(() => applyPatch(raced, p2.ops)).toThrow(PatchConflict);
    expect(() => applyPatch(fresh, p2.ops)).not.toThrow();
    const reordered = structuredClone(vm);
    reordered.spec.template.spec.domain!.devices!.interfaces!.reverse();
    expect(() => applyPatch(reordered, p.ops)).toThrow(PatchConflict);
  });
});

describe('planMacSet --via spec', () => {
  it('replaces the interface entry, guarded by a test of that entry', () => {
    const vm = makeVM();
    const p = planMacSet(vm, setOpts({ via: 'spec', sidecarImage: undefined }), gateOn);
    expect(p.ops).toEqual([
      { op: 'test', path: '/spec/template/spec/domain/devices/interfaces/1', value: { name: 'blue', bridge: {}, model: 'virtio' } },
      { op: 'replace', path: '/spec/template/spec/domain/devices/interfaces/1', value: { name: 'blue', bridge: {}, model: 'virtio', macAddress: '02:00:00:00:00:01' } },
    ]);
    expect(p.notes.join('\n')).toContain('RestartRequired');
    const again = applyPatch(vm, p.ops);
    expect(planMacSet(again, setOpts({ via: 'spec' }), gateOn).noop).toBe(true);
  });

  it('does not need the Sidecar gate, warns when a netconf entry overrides the spec MAC', () => {
    const vm = makeVM({ annotations: { [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:09"}]' } });
    const p = planMacSet(vm, setOpts({ via: 'spec' }), { ...gateOn, kubevirt: { state: 'installed', featureGates: [] } });
    expect(p.warnings.map((w) => w.code)).toEqual(['mac-netconf-overrides-spec']);
  });

  it('checks collisions too', () => {
    const other = makeVM({ name: 'vm2', annotations: { [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:01"}]' } });
    const e = refusal(() => planMacSet(makeVM(), setOpts({ via: 'spec' }), { ...gateOn, uses: { uses: collectMacUses([other], []) } }));
    expect(e.message).toContain('VirtualMachine ns1/vm2 interface "blue" (netconf annotation)');
  });
});

describe('planMacUnset', () => {
  it('--via netconf removes the entry and keeps the sidecar while other entries remain', () => {
    const vm = makeVM({ annotations: { [NETCONF]: '[{"name":"red","macAddress":"02:00:00:00:00:0a"},{"name":"blue","macAddress":"02:00:00:00:00:0b"}]', [HOOKS]: `[{"image":"${IMAGE}"}]` } });
    const p = planMacUnset(vm, { iface: 'blue', via: 'netconf' }, gateOn);
    const after = annotationsAfter(vm, p.ops);
    expect(after).toEqual({ [NETCONF]: '[{"name":"red","macAddress":"02:00:00:00:00:0a"}]', [HOOKS]: `[{"image":"${IMAGE}"}]` });
  });

  it('--via netconf removes both annotations when the last entry goes and no other sidecar exists', () => {
    const vm = makeVM({ annotations: { [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:0b"}]', [HOOKS]: `[{"image":"${IMAGE}"}]`, other: 'x' } });
    const p = planMacUnset(vm, { iface: 'blue', via: 'netconf' }, { ...gateOn, kubevirt: { state: 'installed', featureGates: [] } });
    expect(annotationsAfter(vm, p.ops)).toEqual({ other: 'x' });
    expect(p.summary).toContain('and the netconf sidecar');
  });

  it('--via netconf keeps the smbios sidecar when the netconf one goes (and then needs the gate)', () => {
    const hooks = JSON.stringify([...JSON.parse(SMBIOS), { image: IMAGE }]);
    const vm = makeVM({ annotations: { [NETCONF]: '[{"name":"blue","macAddress":"02:00:00:00:00:0b"}]', [HOOKS]: hooks } });
    const p = planMacUnset(vm, { iface: 'blue', via: 'netconf' }, gateOn);
    expect(JSON.parse(annotationsAfter(vm, p.ops)[HOOKS])).toEqual(JSON.parse(SMBIOS));
    expect(refusal(() => planMacUnset(vm, { iface: 'blue', via: 'netconf' }, { ...gateOn, kubevirt: { state: 'installed', featureGates: [] } })).message).toContain('Sidecar feature gate');
  });

  it('--via netconf is a no-op without an entry; refuses a malformed annotation', () => {
    expect(planMacUnset(makeVM(), { iface: 'blue', via: 'netconf' }, gateOn).noop).toBe(true);
    expect(refusal(() => planMacUnset(makeVM({ annotations: { [NETCONF]: '[{"name":"blue"}]' } }), { iface: 'blue', via: 'netconf' }, gateOn)).message).toContain('has no "macAddress"');
  });

  it('--via spec clears macAddress; kubemacpool write-back is announced', () => {
    const vm = makeVM({ ifaces: [{ name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:0b' }] });
    const p = planMacUnset(vm, { iface: 'blue', via: 'spec' }, { ...gateOn, macpool: { manages: true } });
    expect(applyPatch(vm, p.ops).spec.template.spec.domain!.devices!.interfaces![0]).toEqual({ name: 'blue', bridge: {} });
    expect(p.warnings.map((w) => w.message).join('\n')).toContain('writes the MAC it had allocated (02:00:00:00:00:0b) back');
    expect(planMacUnset(makeVM(), { iface: 'blue', via: 'spec' }, gateOn).noop).toBe(true);
  });
});

describe('buildMacList', () => {
  it('desired MAC and source, reported MAC, and the state', () => {
    const vm1 = makeVM({ ifaces: [{ name: 'default', masquerade: {}, macAddress: '02:00:00:00:00:aa' }, { name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:bb' }, { name: 'red', bridge: {} }], annotations: { [NETCONF]: '[{"name":"blue","macAddress":"02-00-00-00-00-CC"}]' } });
    vm1.metadata.annotations = { 'kubemacpool.io/transaction-timestamp': '2026-01-01T00:00:00Z' };
    const vm2 = makeVM({ name: 'vm2', ifaces: [{ name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:dd' }] });
    const vmi1 = { metadata: { name: 'vm1', namespace: 'ns1' }, spec: {}, status: { interfaces: [{ name: 'default', mac: '02:00:00:00:00:AA' }, { name: 'blue', mac: '02:00:00:00:00:bb' }, { name: 'red', mac: '02:00:00:00:00:ee' }] } };
    const list = buildMacList([vm2, vm1], [vmi1]);
    expect(list.items.map((i) => [i.vm, i.interface, i.desired, i.source, i.reported, i.state])).toEqual([
      ['vm1', 'default', '02:00:00:00:00:aa', 'kubemacpool', '02:00:00:00:00:aa', 'match'],
      ['vm1', 'blue', '02:00:00:00:00:cc', 'netconf', '02:00:00:00:00:bb', 'pending'],
      ['vm1', 'red', null, null, '02:00:00:00:00:ee', 'auto'],
      ['vm2', 'blue', '02:00:00:00:00:dd', 'spec', null, 'stopped'],
    ]);
    expect(list.items[1].specMac).toBe('02:00:00:00:00:bb');
    const schema = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'schemas', 'mac-list.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(list), JSON.stringify(validate.errors)).toBe(true);
    // the schema is not a rubber stamp
    expect(validate({ ...list, items: [{ ...list.items[0], state: 'fine' }] })).toBe(false);
  });

  it('a malformed netconf annotation is a warning, not an error', () => {
    const list = buildMacList([makeVM({ annotations: { [NETCONF]: 'x' } })], []);
    expect(list.warnings.map((w) => w.code)).toEqual(['netconf-malformed']);
    expect(list.items).toHaveLength(2);
  });
});
