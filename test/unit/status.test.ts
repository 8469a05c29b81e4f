// The status join: golden fixtures (test/fixtures/status/*.yaml) with every
// state, table-driven interfaceState, launcher pod choice, attachment
// matching, and the -o json shape against schemas/vm-network-status.schema.json.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import {
  chooseLauncherPod,
  interfaceState,
  joinAll,
  joinVMNetworkStatus,
  matchAttachment,
  needsKubeVirtCR,
  normalizeMac,
  projectPodForStatus,
  projectVMForStatus,
  projectVMIForStatus,
  readNetworkStatus,
  INTERFACE_STATES,
  type InterfaceFacts,
  type VMNetworkStatus,
} from '../../src/domain/status.js';
import { parseVersion, restartRequiredOnAnyNetworkChange } from '../../src/domain/kubevirt-config.js';
import { statusTable } from '../../src/render/status.js';
import { alignColumns, cliTableLayout, renderTable } from '../../src/render/table.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const fixturesDir = path.join(root, 'test', 'fixtures', 'status');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'vm-network-status.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

function expectValid(doc: unknown) {
  const ok = validate(doc);
  expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
  expect(ok).toBe(true);
}

const fixtures = fs.readdirSync(fixturesDir).filter((f) => f.endsWith('.yaml')).sort();

describe('joinVMNetworkStatus on fixtures', () => {
  it('has fixtures covering every state', () => {
    const seen = new Set<string>();
    for (const f of fixtures) {
      const fx = parse(fs.readFileSync(path.join(fixturesDir, f), 'utf8'));
      for (const s of Object.values(fx.expect.states ?? {})) seen.add(s as string);
    }
    expect([...seen].sort()).toEqual([...INTERFACE_STATES].sort());
  });

  for (const f of fixtures) {
    it(f, () => {
      const fx = parse(fs.readFileSync(path.join(fixturesDir, f), 'utf8'));
      const st = joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: fx.pods ?? [], kubevirt: fx.kubevirt ?? null });
      expectValid(st);
      const e = fx.expect;
      expect(st.kind).toBe('VMNetworkStatus');
      expect(st.name).toBe((fx.vm ?? fx.vmi).metadata.name);
      expect(st.namespace).toBe((fx.vm ?? fx.vmi).metadata.namespace);
      expect(st.running).toBe(e.running);
      expect(st.phase).toBe(e.phase);
      expect(st.launcherPod).toBe(e.launcherPod);
      const byName = Object.fromEntries(st.interfaces.map((i) => [i.name, i]));
      expect(Object.fromEntries(st.interfaces.map((i) => [i.name, i.state]))).toEqual(e.states);
      for (const [n, iface] of Object.entries(e.multusInterface ?? {})) expect(byName[n].multus?.interface ?? null, n).toBe(iface);
      for (const [n, mac] of Object.entries(e.multusMac ?? {})) expect(byName[n].multus?.mac, n).toBe(mac);
      for (const [n, [mac, src]] of Object.entries(e.desiredMac ?? {}) as [string, [string | null, string | null]][]) {
        expect([byName[n].desiredMac, byName[n].desiredMacSource], n).toEqual([mac, src]);
      }
      for (const [n, ls] of Object.entries(e.linkState ?? {})) expect(byName[n].linkState, n).toBe(ls);
      expect(st.warnings.map((w) => w.code)).toEqual(e.warnings);
      for (const w of st.warnings) expect(w.object).toBe(`${st.namespace}/${st.name}`);
    });
  }

  it('every-state: fields of a ready interface come from the VM, the VMI status and the pod', () => {
    const fx = parse(fs.readFileSync(path.join(fixturesDir, 'every-state.yaml'), 'utf8'));
    const st = joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: fx.pods });
    const blue = st.interfaces.find((i) => i.name === 'blue')!;
    expect(blue).toEqual({
      name: 'blue',
      binding: 'bridge',
      network: 'ns1/blue',
      state: 'ready',
      linkState: 'up',
      mac: '02:00:00:00:00:0b',
      desiredMac: '02:00:00:00:00:0b',
      desiredMacSource: 'spec',
      ips: ['192.168.1.10'],
      guestInterface: 'eth1',
      podInterface: 'pod16477688c0e',
      infoSource: ['domain', 'guest-agent', 'multus-status'],
      model: 'virtio',
      multus: { name: 'ns1/blue', interface: 'pod16477688c0e', mac: '02:00:00:00:00:0b', ips: ['192.168.1.10'] },
    });
    const green = st.interfaces.find((i) => i.name === 'green')!;
    expect(green.network).toBe('other/green');
    const guest = st.interfaces.find((i) => i.name === '')!;
    expect(guest).toMatchObject({ guestInterface: 'docker0', ips: ['172.17.0.1'], binding: null, network: null, multus: null });
    // Order: template, then VMI spec extras, then guest-only.
    expect(st.interfaces.map((i) => i.name)).toEqual(['default', 'blue', 'green', 'red', 'yellow', 'gone1', 'gone2', 'sriov1', 'old', '']);
  });

  it('malformed: the warnings name the annotation and what is wrong', () => {
    const fx = parse(fs.readFileSync(path.join(fixturesDir, 'malformed.yaml'), 'utf8'));
    const st = joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: fx.pods, kubevirt: fx.kubevirt });
    const msgs = st.warnings.map((w) => w.message);
    expect(msgs[0]).toMatch(/^annotation k8s\.v1\.cni\.cncf\.io\/network-status of pod virt-launcher-bad-1 is not valid JSON/);
    expect(msgs[1]).toMatch(/networks-status of pod virt-launcher-bad-1: entry 0 has no "name"/);
    expect(msgs[2]).toMatch(/entry 1 has no "name"/);
    expect(msgs[3]).toMatch(/netconf\.kubevirt\.io\/macAddress of the VM template is malformed/);
    expect(msgs[4]).toMatch(/hooks\.kubevirt\.io\/hookSidecars of the VM template is malformed: not a JSON list/);
    expect(msgs[5]).toMatch(/Sidecar feature gate/);
    expect(msgs[6]).toBe('VM condition RestartRequired: a non-live-updatable field was changed in the template spec');
  });

  it('never throws on garbage in any field', () => {
    const garbage: unknown[] = [null, 7, 'x', [], {}, [null], [{ name: 5 }], { interfaces: 'no' }];
    for (const g of garbage) {
      const vm = { metadata: { name: 'g', namespace: 'n', annotations: g }, spec: { template: { metadata: { annotations: { 'netconf.kubevirt.io/macAddress': JSON.stringify(g), 'hooks.kubevirt.io/hookSidecars': String(g) } }, spec: { domain: { devices: { interfaces: g } }, networks: g } } }, status: { conditions: g } };
      const vmi = { metadata: { name: 'g', namespace: 'n', uid: 'u' }, spec: { domain: { devices: { interfaces: g } }, networks: g }, status: { phase: 'Running', interfaces: g, conditions: g, migrationState: g } };
      const pod = { metadata: { name: 'p', namespace: 'n', labels: { 'kubevirt.io/created-by': 'u' }, annotations: { 'k8s.v1.cni.cncf.io/network-status': JSON.stringify(g) } } };
      const st = joinVMNetworkStatus({ vm: vm as never, vmi: vmi as never, pods: [pod as never] });
      expectValid(st);
    }
  });

  it('pods not readable: empty multus fields and one warning naming the permission', () => {
    const fx = parse(fs.readFileSync(path.join(fixturesDir, 'every-state.yaml'), 'utf8'));
    const st = joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: [], podsUnreadable: 'cannot list pods in namespace "ns1" (forbidden)' });
    expectValid(st);
    expect(st.launcherPod).toBeNull();
    expect(st.interfaces.every((i) => i.multus === null)).toBe(true);
    expect(st.warnings).toEqual([{ code: 'pods-forbidden', message: 'cannot list pods in namespace "ns1" (forbidden)', object: 'ns1/web' }]);
    // yellow is still attaching from the VMI status alone; red (not reported) stays pending.
    expect(st.interfaces.find((i) => i.name === 'yellow')!.state).toBe('attaching');
    expect(st.interfaces.find((i) => i.name === 'red')!.state).toBe('pending');
  });

  it('a template interface with a binding KubeVirt does not hot-plug stays pending, with a warning', () => {
    const fx = parse(fs.readFileSync(path.join(fixturesDir, 'stopped.yaml'), 'utf8'));
    const vm = structuredClone(fx.vm);
    vm.spec.template.spec = {
      domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'p', binding: { name: 'passt' } }, { name: 'b', bridge: {} }] } },
      networks: [{ name: 'default', pod: {} }, { name: 'p', multus: { networkName: 'x' } }, { name: 'b', multus: { networkName: 'y' } }],
    };
    const vmi = { metadata: { name: 'db', namespace: 'ns1', uid: 'u' }, spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } }, networks: [{ name: 'default', pod: {} }] }, status: { phase: 'Running', interfaces: [{ name: 'default', infoSource: 'domain' }] } };
    const st = joinVMNetworkStatus({ vm, vmi: vmi as never, pods: [] });
    expect(st.interfaces.map((i) => [i.name, i.binding, i.state])).toEqual([['default', 'masquerade', 'ready'], ['p', 'binding:passt', 'pending'], ['b', 'bridge', 'pending']]);
    expect(st.warnings).toEqual([{ code: 'not-hotpluggable', object: 'ns1/db', message: 'interface p: the network binding plugin passt is not hot-plugged by KubeVirt (only bridge and sriov are); it is added when the VM restarts' }]);
  });

  it('the implicit default interface of a stopped VM: bridge (KubeVirt\'s built-in default), or the KubeVirt CR\'s defaultNetworkInterface', () => {
    const vm = { metadata: { name: 'bare', namespace: 'ns1', uid: 'u' }, spec: { runStrategy: 'Halted', template: { spec: { domain: { devices: {} } } } } };
    const binding = (kubevirt: any) => joinVMNetworkStatus({ vm, vmi: null, pods: [], kubevirt }).interfaces.map((i) => [i.name, i.binding, i.network]);
    expect(binding(null)).toEqual([['default', 'bridge', 'pod']]);
    expect(binding({ metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: { configuration: { network: { defaultNetworkInterface: 'masquerade' } } } })).toEqual([['default', 'masquerade', 'pod']]);
  });

  it('a netconf MAC without a netconf hook sidecar: warns that nothing applies it (restarting does not help)', () => {
    const fx = parse(fs.readFileSync(path.join(fixturesDir, 'netconf-mac.yaml'), 'utf8'));
    delete fx.vm.spec.template.metadata.annotations['hooks.kubevirt.io/hookSidecars'];
    const st = joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: [], kubevirt: null });
    expect(st.warnings.map((w) => w.code)).toEqual(['netconf-without-sidecar', 'mac-mismatch']);
    expect(st.warnings[1].message).toMatch(/no netconf hook sidecar applies it$/);
    fx.vm.spec.template.metadata.annotations['hooks.kubevirt.io/hookSidecars'] = '[{"image":"registry:5000/kubevirt/sidecar-shim:devel"}]';
    expect(joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: [], kubevirt: null }).warnings.map((w) => w.code)).toEqual(['netconf-without-sidecar', 'mac-mismatch']);
  });

  it('a running VM with the implicit default shows the binding its VMI got, and a stopped one asks for the KubeVirt CR', () => {
    const vm = { metadata: { name: 'bare', namespace: 'ns1', uid: 'u' }, spec: { runStrategy: 'Always', template: { spec: { domain: { devices: {} } } } } };
    const vmi = { metadata: { name: 'bare', namespace: 'ns1', uid: 'i' }, spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } }, networks: [{ name: 'default', pod: {} }] }, status: { phase: 'Running', interfaces: [{ name: 'default', infoSource: 'domain' }] } };
    expect(joinVMNetworkStatus({ vm, vmi, pods: [], kubevirt: null }).interfaces.map((i) => [i.name, i.binding, i.state])).toEqual([['default', 'masquerade', 'ready']]);
    expect(needsKubeVirtCR(vm, null)).toBe(true);
    expect(needsKubeVirtCR(vm, vmi)).toBe(false);
  });

  it('the Sidecar gate is checked only when the KubeVirt CR is readable', () => {
    const fx = parse(fs.readFileSync(path.join(fixturesDir, 'netconf-mac.yaml'), 'utf8'));
    const noGate = { metadata: { name: 'kv' }, spec: { configuration: { developerConfiguration: { featureGates: [] } } } };
    expect(joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: [], kubevirt: noGate }).warnings.map((w) => w.code)).toEqual(['sidecar-gate-missing', 'mac-mismatch']);
    expect(joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: [], kubevirt: null }).warnings.map((w) => w.code)).toEqual(['mac-mismatch']);
  });
});

describe('RestartRequired on KubeVirt versions that set it after any network change', () => {
  // A running VM with a hot-plugged bridge NIC that KubeVirt applied live, and the condition v1.2-v1.5.1 set anyway.
  const ifaces = [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }];
  const nets = [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue' } }];
  const restart = { type: 'RestartRequired', status: 'True', message: 'a non-live-updatable field was changed in the template spec' };
  const make = (templateIfaces = ifaces, templateNets = nets) => ({
    vm: { metadata: { name: 'web', namespace: 'ns1', uid: 'v' }, spec: { runStrategy: 'Always', template: { spec: { domain: { devices: { interfaces: templateIfaces } }, networks: templateNets } } }, status: { conditions: [restart] } },
    vmi: {
      metadata: { name: 'web', namespace: 'ns1', uid: 'i' },
      spec: { domain: { devices: { interfaces: ifaces } }, networks: nets },
      status: { phase: 'Running', interfaces: [{ name: 'default', infoSource: 'domain, guest-agent' }, { name: 'blue', infoSource: 'domain, guest-agent, multus-status' }] },
    },
  });
  const kv = (version: string) => ({ metadata: { name: 'kubevirt' }, status: { observedKubeVirtVersion: version } });
  const restartWarning = (st: VMNetworkStatus) => st.warnings.find((w) => w.code === 'restart-required')!.message;

  it('the affected versions: v1.2.0 to v1.5.1, except v1.4.1 and later v1.4', () => {
    const affected = ['v1.2.0', 'v1.2.2', 'v1.3.1', 'v1.4.0', 'v1.5.0', 'v1.5.1', 'v1.5.1-rc.0'];
    const fixed = ['v1.1.1', 'v1.4.1', 'v1.4.3', 'v1.5.2', 'v1.5.3', 'v1.6.0', 'v1.6.0-rc.1', 'v1.7.2', 'v0.59.0', 'v2.2.0'];
    for (const v of affected) expect([v, restartRequiredOnAnyNetworkChange(parseVersion(v))]).toEqual([v, true]);
    for (const v of fixed) expect([v, restartRequiredOnAnyNetworkChange(parseVersion(v))]).toEqual([v, false]);
    expect(restartRequiredOnAnyNetworkChange(null)).toBe(false);
  });

  it('says the condition may be spurious when every interface is applied, on an affected version only', () => {
    const { vm, vmi } = make();
    const st = joinVMNetworkStatus({ vm, vmi, pods: [], kubevirt: kv('v1.5.1') });
    expectValid(st);
    expect(st.interfaces.map((i) => i.state)).toEqual(['ready', 'ready']);
    expect(restartWarning(st)).toBe(
      'VM condition RestartRequired: a non-live-updatable field was changed in the template spec; KubeVirt v1.5.1 sets this after any change of interfaces or networks, even one it applied live (fixed in v1.4.1, v1.5.2 and v1.6.0). Every interface change is applied: if interfaces were all you changed, nothing waits for the restart',
    );
    for (const k of [kv('v1.5.2'), kv('v1.6.1'), { metadata: { name: 'kubevirt' } }, null]) {
      expect(restartWarning(joinVMNetworkStatus({ vm, vmi, pods: [], kubevirt: k }))).toBe('VM condition RestartRequired: a non-live-updatable field was changed in the template spec');
    }
  });

  it('names the bug but does not call the condition spurious while an interface is not applied', () => {
    // A third NIC only in the template (pending): the note stops short of "nothing waits".
    const pendingOne = make([...ifaces, { name: 'red', bridge: {} }], [...nets, { name: 'red', multus: { networkName: 'red' } }]);
    let st = joinVMNetworkStatus({ ...pendingOne, pods: [], kubevirt: kv('v1.3.0') });
    expect(st.interfaces.map((i) => i.state)).toEqual(['ready', 'ready', 'pending']);
    expect(restartWarning(st)).toMatch(/; KubeVirt v1\.3\.0 sets this after any change of interfaces or networks, even one it applied live \(fixed in v1\.4\.1, v1\.5\.2 and v1\.6\.0\)$/);
    // blue removed from the template without an unplug (stale): that one does need the restart.
    const stale = make([ifaces[0]], [nets[0]]);
    st = joinVMNetworkStatus({ ...stale, pods: [], kubevirt: kv('v1.4.0') });
    expect(st.interfaces.map((i) => [i.name, i.state])).toEqual([['default', 'ready'], ['blue', 'stale']]);
    expect(restartWarning(st)).not.toContain('nothing waits');
    // A spec MAC the running VM does not have yet: waits for a restart too.
    const mac = make([ifaces[0], { name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:aa' } as never], nets);
    mac.vmi.status.interfaces[1] = { ...mac.vmi.status.interfaces[1], mac: '02:00:00:00:00:bb' } as never;
    st = joinVMNetworkStatus({ ...mac, pods: [], kubevirt: kv('v1.4.0') });
    expect(st.warnings.map((w) => w.code)).toContain('mac-mismatch');
    expect(restartWarning(st)).toContain('KubeVirt v1.4.0 sets this');
    expect(restartWarning(st)).not.toContain('nothing waits');
  });

  it('a change the VMI does not have yet (network, model, link state) is not called applied', () => {
    const check = (templateIfaces: unknown[], templateNets: unknown[], version = 'v1.3.1') => {
      const m = make(templateIfaces as never, templateNets as never);
      return restartWarning(joinVMNetworkStatus({ ...m, pods: [], kubevirt: kv(version) }));
    };
    // blue moved to another NAD: needs a restart on every version.
    expect(check(ifaces, [nets[0], { name: 'blue', multus: { networkName: 'green' } }])).not.toContain('nothing waits');
    // blue's model changed.
    expect(check([ifaces[0], { name: 'blue', bridge: {}, model: 'e1000' }], nets)).not.toContain('nothing waits');
    // Link down asked for, the VMI still reports it up.
    expect(check([ifaces[0], { name: 'blue', bridge: {}, state: 'down' }], nets)).not.toContain('nothing waits');
    // Key order does not matter, content does.
    expect(check([{ masquerade: {}, name: 'default' }, { bridge: {}, name: 'blue' }], [{ pod: {}, name: 'default' }, { multus: { networkName: 'blue' }, name: 'blue' }])).toContain('nothing waits');
  });

  it('an unplug applied live (detached) is applied; one still in the domain is not', () => {
    const absent = [ifaces[0], { name: 'blue', bridge: {}, state: 'absent' }];
    const gone = make(absent as never, nets);
    gone.vmi.spec.domain.devices.interfaces = absent as never;
    gone.vmi.status.interfaces = [gone.vmi.status.interfaces[0], { name: 'blue', infoSource: 'multus-status' }] as never;
    let st = joinVMNetworkStatus({ ...gone, pods: [], kubevirt: kv('v1.5.0') });
    expect(st.interfaces.map((i) => [i.name, i.state])).toEqual([['default', 'ready'], ['blue', 'detached']]);
    expect(restartWarning(st)).toContain('Every interface change is applied');
    const leaving = make(absent as never, nets);
    st = joinVMNetworkStatus({ ...leaving, pods: [], kubevirt: kv('v1.5.0') });
    expect(st.interfaces.map((i) => [i.name, i.state])).toEqual([['default', 'ready'], ['blue', 'unplugging']]);
    expect(restartWarning(st)).not.toContain('nothing waits');
  });

  it('status of one VM reads the KubeVirt CR when the running VM has the condition (not when stopped or without it)', () => {
    const { vm, vmi } = make();
    expect(needsKubeVirtCR(vm, vmi)).toBe(true);
    expect(needsKubeVirtCR({ ...vm, status: { conditions: [{ ...restart, status: 'False' }] } }, vmi)).toBe(false);
    expect(needsKubeVirtCR({ ...vm, status: { conditions: 'garbage' as never } }, vmi)).toBe(false);
  });
});

describe('projections for large lists', () => {
  for (const f of fixtures) {
    it(`${f}: the join of projected objects equals the join of the full ones`, () => {
      const fx = parse(fs.readFileSync(path.join(fixturesDir, f), 'utf8'));
      const full = joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: fx.pods ?? [], kubevirt: fx.kubevirt ?? null });
      const projected = joinVMNetworkStatus({
        vm: fx.vm && projectVMForStatus(fx.vm),
        vmi: fx.vmi && projectVMIForStatus(fx.vmi),
        pods: (fx.pods ?? []).map(projectPodForStatus),
        kubevirt: fx.kubevirt ?? null,
      });
      expect(projected).toEqual(full);
    });
  }

  it('drops what the join does not read', () => {
    const pod = projectPodForStatus({
      metadata: { name: 'p', namespace: 'n', managedFields: [{ manager: 'x' }], labels: { a: 'b', 'kubevirt.io/created-by': 'u' }, annotations: { big: 'x'.repeat(1000), 'k8s.v1.cni.cncf.io/network-status': '[]' } },
      spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
      status: { phase: 'Running', conditions: [] },
    } as never);
    expect(pod).toEqual({
      metadata: { name: 'p', namespace: 'n', labels: { 'kubevirt.io/created-by': 'u' }, annotations: { 'k8s.v1.cni.cncf.io/network-status': '[]' } },
      spec: { nodeName: 'n1' },
      status: { phase: 'Running' },
    });
    const vm = projectVMForStatus({ metadata: { name: 'v', managedFields: [] }, spec: { template: { spec: { domain: { devices: { disks: [{}], interfaces: [] }, cpu: {} } } } } } as never);
    expect(vm.spec.template.spec).toEqual({ domain: { devices: { interfaces: [] } }, networks: undefined });
    expect(vm.metadata).toEqual({ name: 'v' });
  });
});

describe('interfaceState', () => {
  const base: InterfaceFacts = { hasVM: true, hasVMI: true, inTemplate: true, inVMISpec: true, reported: true, infoSource: ['domain'], inPod: true };
  const cases: [string, Partial<InterfaceFacts>, string][] = [
    ['no VMI', { hasVMI: false }, 'stopped'],
    ['no VMI, absent in template', { hasVMI: false, templateState: 'absent' }, 'stopped'],
    ['template only', { inVMISpec: false, reported: false, infoSource: [], inPod: false }, 'pending'],
    ['VMI spec, not reported, not in pod', { reported: false, infoSource: [], inPod: false }, 'pending'],
    ['VMI spec, not reported, in pod', { reported: false, infoSource: [], inPod: true }, 'attaching'],
    ['multus-status only', { infoSource: ['multus-status'] }, 'attaching'],
    ['domain', { infoSource: ['domain', 'multus-status'] }, 'ready'],
    ['domain + guest agent', { infoSource: ['domain', 'guest-agent'] }, 'ready'],
    ['absent in VMI, in domain', { vmiSpecState: 'absent', templateState: 'absent', infoSource: ['domain', 'multus-status'] }, 'unplugging'],
    ['absent in template only, in domain', { templateState: 'absent', infoSource: ['domain'] }, 'unplugging'],
    ['absent, out of the domain', { vmiSpecState: 'absent', templateState: 'absent', infoSource: ['multus-status'] }, 'detached'],
    ['absent, gone from status', { vmiSpecState: 'absent', templateState: 'absent', reported: false, infoSource: [] }, 'detached'],
    ['guest agent only', { infoSource: ['guest-agent'] }, 'guest-only'],
    ['removed from template, still in VMI', { inTemplate: false }, 'stale'],
    ['removed from template and VMI spec, still in domain', { inTemplate: false, inVMISpec: false }, 'stale'],
    ['removed from template and VMI spec, only in pod', { inTemplate: false, inVMISpec: false, infoSource: ['multus-status'] }, 'detached'],
    ['standalone VMI, in domain', { hasVM: false, inTemplate: false }, 'ready'],
    ['standalone VMI, absent in VMI spec, in domain', { hasVM: false, inTemplate: false, vmiSpecState: 'absent' }, 'unplugging'],
    ['legacy status entry without infoSource', { infoSource: [] }, 'ready'],
  ];
  for (const [what, facts, state] of cases) {
    it(`${what} -> ${state}`, () => expect(interfaceState({ ...base, ...facts })).toBe(state));
  }
});

describe('launcher pod and attachments', () => {
  const vmi = { metadata: { name: 'v', namespace: 'n', uid: 'U' }, spec: {}, status: { nodeName: 'node-a' } };
  const pod = (name: string, o: { node?: string; phase?: string; ts?: string; label?: string; owner?: string; ns?: string } = {}) => ({
    metadata: {
      name,
      namespace: o.ns ?? 'n',
      creationTimestamp: o.ts ?? '2026-01-01T00:00:00Z',
      labels: { 'kubevirt.io': 'virt-launcher', ...(o.label ? { 'kubevirt.io/created-by': o.label } : {}) },
      ownerReferences: o.owner ? [{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', name: 'v', uid: o.owner }] : undefined,
    },
    spec: { nodeName: o.node ?? 'node-a' },
    status: { phase: o.phase ?? 'Running' },
  });

  it('prefers the VMI node, then a running pod, then the newest', () => {
    const pods = [
      pod('newest-other-node', { node: 'node-b', ts: '2026-01-03T00:00:00Z', label: 'U' }),
      pod('old-same-node', { ts: '2026-01-01T00:00:00Z', label: 'U' }),
      pod('new-same-node', { ts: '2026-01-02T00:00:00Z', owner: 'U' }),
      pod('not-mine', { ts: '2026-01-04T00:00:00Z', label: 'X' }),
      pod('other-namespace', { ts: '2026-01-04T00:00:00Z', label: 'U', ns: 'm' }),
    ];
    expect(chooseLauncherPod(vmi as never, pods as never).pod?.metadata.name).toBe('new-same-node');
    pods[2].status.phase = 'Succeeded';
    expect(chooseLauncherPod(vmi as never, pods as never).pod?.metadata.name).toBe('old-same-node');
    expect(chooseLauncherPod(vmi as never, [pods[3]] as never).pod).toBeNull();
  });

  it('during a migration: the source pod until the target runs, then the target', () => {
    const m = { ...vmi, status: { nodeName: 'node-a', migrationState: { sourcePod: 'src', targetPod: 'dst', targetNode: 'node-b' } } };
    const src = pod('src', { label: 'U' });
    const dst = pod('dst', { label: 'U', node: 'node-b', phase: 'Pending', ts: '2026-01-02T00:00:00Z' });
    let c = chooseLauncherPod(m as never, [src, dst] as never);
    expect(c.pod?.metadata.name).toBe('src');
    expect(c.migration).toMatchObject({ sourcePod: 'src', targetPod: 'dst', usingTarget: false });
    dst.status.phase = 'Running';
    c = chooseLauncherPod(m as never, [src, dst] as never);
    expect(c.pod?.metadata.name).toBe('dst');
    expect(c.migration?.usingTarget).toBe(true);
    // Completed: no migration any more, the VMI's node is the target node.
    const done = { ...vmi, status: { nodeName: 'node-b', migrationState: { sourcePod: 'src', targetPod: 'dst', completed: true } } };
    c = chooseLauncherPod(done as never, [src, dst] as never);
    expect(c.pod?.metadata.name).toBe('dst');
    expect(c.migration).toBeNull();
  });

  it('matches a secondary attachment by hashed name first, then the only entry of the NAD, then net<N>', () => {
    const net = { name: 'blue', multus: { networkName: 'blue' } };
    const hashed = { name: 'n/blue', interface: 'pod16477688c0e' };
    const legacy1 = { name: 'n/blue', interface: 'net1' };
    const legacy2 = { name: 'n/blue', interface: 'net2' };
    expect(matchAttachment(net, 'n', [legacy1, hashed], 0)).toBe(hashed);
    expect(matchAttachment(net, 'n', [legacy2], 0)).toBe(legacy2);
    expect(matchAttachment(net, 'n', [legacy1, legacy2], 1)).toBe(legacy2);
    expect(matchAttachment(net, 'n', [{ name: 'n/red', interface: 'net1' }], 0)).toBeNull();
    expect(matchAttachment({ name: 'blue', multus: { networkName: 'other/blue' } }, 'n', [legacy1], 0)).toBeNull();
    // Multus default network: the default entry.
    const def = { name: 'x', interface: 'eth0', default: true };
    expect(matchAttachment({ name: 'm', multus: { networkName: 'ovn', default: true } }, 'n', [legacy1, def], 0)).toBe(def);
  });

  it('reads network-status before the legacy networks-status', () => {
    const p = { metadata: { name: 'p', annotations: { 'k8s.v1.cni.cncf.io/network-status': '[{"name":"a"}]', 'k8s.v1.cni.cncf.io/networks-status': '[{"name":"b"}]' } } };
    expect(readNetworkStatus(p as never).entries.map((e) => e.name)).toEqual(['a']);
    expect(readNetworkStatus({ metadata: { name: 'p' } } as never)).toEqual({ entries: [], annotation: null, problems: [] });
  });

  it('normalizes MACs of every accepted notation', () => {
    expect(normalizeMac('AA-BB-CC-DD-EE-FF')).toBe('aa:bb:cc:dd:ee:ff');
    expect(normalizeMac('aabb.ccdd.eeff')).toBe('aa:bb:cc:dd:ee:ff');
    expect(normalizeMac('zz')).toBe('zz');
  });
});

describe('joinAll and the table', () => {
  const load = (f: string) => parse(fs.readFileSync(path.join(fixturesDir, f), 'utf8'));

  it('joins namespaces: VMs with their VMIs and pods, standalone VMIs, pods indexed by VMI uid', () => {
    const a = load('every-state.yaml');
    const b = load('stopped.yaml');
    const c = load('standalone-vmi.yaml');
    const items = joinAll({ vms: [a.vm, b.vm], vmis: [a.vmi, c.vmi], pods: [...a.pods, ...c.pods], includeStandalone: true });
    expect(items.map((i) => `${i.namespace}/${i.name}:${i.launcherPod}`)).toEqual(['ns1/web:virt-launcher-web-abcde', 'ns1/db:null', 'ns6/solo:virt-launcher-solo-x']);
    expectValid({ kind: 'List', items });
    const withoutStandalone = joinAll({ vms: [a.vm, b.vm], vmis: [a.vmi, c.vmi], pods: [], includeStandalone: false });
    expect(withoutStandalone.map((i) => i.name)).toEqual(['web', 'db']);
  });

  it('renders the issue\'s columns, NAMESPACE with -A, and the wide ones', () => {
    const a = load('every-state.yaml');
    const st: VMNetworkStatus = joinVMNetworkStatus({ vm: a.vm, vmi: a.vmi, pods: a.pods });
    const t = statusTable([st], { wide: false, showNamespace: false });
    expect(t.headers).toEqual(['VM', 'INTERFACE', 'BINDING', 'NETWORK', 'STATE', 'LINK', 'MAC', 'IPS', 'GUEST-IFACE']);
    expect(t.rows[0]).toEqual(['web', 'default', 'masquerade', 'pod', 'ready', 'up', '02:00:00:aa:aa:aa', '10.244.0.5,fd00::5', 'eth0']);
    const w = statusTable([st], { wide: true, showNamespace: true });
    expect(w.headers).toEqual(['NAMESPACE', 'VM', 'INTERFACE', 'BINDING', 'NETWORK', 'STATE', 'LINK', 'MAC', 'IPS', 'GUEST-IFACE', 'POD-IFACE', 'DESIRED-MAC', 'INFO-SOURCE', 'MODEL', 'MULTUS-MAC', 'MULTUS-IPS']);
    expect(w.rows[1]).toEqual(['ns1', 'web', 'blue', 'bridge', 'ns1/blue', 'ready', 'up', '02:00:00:00:00:0b', '192.168.1.10', 'eth1', 'pod16477688c0e', '02:00:00:00:00:0b (spec)', 'domain,guest-agent,multus-status', 'virtio', '02:00:00:00:00:0b', '192.168.1.10']);
    expect(t.rows.length).toBe(st.interfaces.length);
  });

  it('the linear layout is the same text as cli-table3\'s, colours included', () => {
    const items = fixtures.flatMap((f) => {
      const fx = load(f);
      return [joinVMNetworkStatus({ vm: fx.vm, vmi: fx.vmi, pods: fx.pods ?? [], kubevirt: fx.kubevirt ?? null })];
    });
    for (const wide of [false, true]) {
      for (const colour of [false, true]) {
        const paint = colour ? (_s: string, t: string) => `\u001b[32m${t}\u001b[0m` : undefined;
        const { headers, rows } = statusTable(items, { wide, showNamespace: true, paint: paint as never });
        expect(alignColumns(headers, rows)).toBe(cliTableLayout(headers, rows));
        expect(renderTable(headers, rows)).toBe(cliTableLayout(headers, rows));
      }
    }
  });

  it('lays out 10,000 rows in well under a second', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ['ns', `vm-${i}`, 'blue', 'bridge', 'ns/blue', 'ready', 'up', '02:00:00:00:00:0b', '10.0.0.1', 'eth1']);
    const t0 = performance.now();
    const text = alignColumns(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'], rows);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(text.split('\n')).toHaveLength(10_002);
    // renderTable takes this layout for every command's large tables.
    expect(renderTable(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'], rows)).toBe(text);
  });

  it('lays out wide characters by their terminal width (through cli-table3)', () => {
    // "名前" takes four columns, "é" (e + combining accent) one: counting code points would misalign both.
    const text = renderTable(['NAME', 'NOTE'], [['名前', 'x'], ['e\u0301', 'y'], ['abcd', 'z']]);
    expect(text).toBe('NAME   NOTE\n名前   x\ne\u0301      y\nabcd   z\n');
    expect(text).toBe(cliTableLayout(['NAME', 'NOTE'], [['名前', 'x'], ['e\u0301', 'y'], ['abcd', 'z']]));
  });
});
