// What KubeVirt v1.8.2's own code says about the v1.8/v1.9 rules, on the shared sandbox:
// - virt-api's admission on the bindings (slirp, macvtap, the old passt key, passtBinding without
//   its gate, a binding plugin, no binding), compared with the offline view's verdict for v1.8.2;
// - the PCI topology annotation virt-api writes into a new VM's template, and the slot estimate
//   doctor and hotplug add draw from it (placePCIDevicesOnRootComplex included);
// - kubemacpool's MACCollision events: no kubemacpool runs on the sandbox, so the test records
//   Warning events on the VMIs as its collision controller does (reason MACCollision, component
//   kubemacpool, message "MAC <mac>: Collision between vmi/<ns>/<name>, ...");
// - mac set's plain form (the spec way) accepted by KubeVirt's admission.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminApi, create, eventually, freshNamespace, readVM, readVMI, runCli } from '../support/cluster.js';

let ns: string;
let other: string;

function vm(namespace: string, name: string, o: { interfaces: object[]; networks: object[]; annotations?: Record<string, string>; runStrategy?: string }) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace },
    spec: {
      runStrategy: o.runStrategy ?? 'Halted',
      template: {
        ...(o.annotations ? { metadata: { annotations: o.annotations } } : {}),
        spec: { domain: { devices: { interfaces: o.interfaces }, resources: { requests: { memory: '1Gi' } } }, networks: o.networks },
      },
    },
  };
}

const POD = { name: 'default', pod: {} };
const BLUE_NET = { name: 'blue', multus: { networkName: 'blue-net' } };

/** virt-api's answer to a server-side dry run of the VM: null when admitted, else its message. */
async function admission(obj: object): Promise<string | null> {
  try {
    await adminApi().create(obj as never, undefined, 'All');
    return null;
  } catch (err) {
    const body = (err as { body?: string | { message?: string } }).body;
    const parsed = typeof body === 'string' ? JSON.parse(body) : body;
    return parsed?.message ?? String(err);
  }
}

beforeAll(async () => {
  ns = await freshNamespace('vnet-v18');
  other = await freshNamespace('vnet-v18-other');
  for (const n of [ns, other]) {
    await create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'blue-net', namespace: n }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }) } } as never);
  }
}, 60_000);

describe('KubeVirt v1.8.2 admission and the bindings', () => {
  const cases: { name: string; iface: object; net: object; admission: RegExp | null; offline: string[] }[] = [
    { name: 'slirp', iface: { name: 'default', slirp: {} }, net: POD, admission: /denied the request: Slirp interface support has been discontinued since v1.3$/, offline: ['binding-rejected'] },
    { name: 'macvtap', iface: { name: 'blue', macvtap: {} }, net: BLUE_NET, admission: /denied the request: Macvtap network binding has been discontinued since v1.3$/, offline: ['binding-rejected'] },
    { name: 'the old passt key', iface: { name: 'default', passt: {} }, net: POD, admission: /denied the request: Passt network binding has been discontinued since v1.3$/, offline: ['binding-rejected'] },
    // The sandbox's KubeVirt CR enables Sidecar and LiveUpdateNADRef, not PasstBinding.
    { name: 'passtBinding without its gate', iface: { name: 'default', passtBinding: {} }, net: POD, admission: /PasstBinding feature gate is not enabled$/, offline: [] },
    { name: 'a binding plugin', iface: { name: 'default', binding: { name: 'passt' } }, net: POD, admission: null, offline: [] },
    { name: 'no binding (rejected only from v1.9)', iface: { name: 'blue' }, net: BLUE_NET, admission: null, offline: ['binding-missing'] },
  ];
  for (const c of cases) {
    it(`${c.name}: virt-api ${c.admission ? 'rejects it' : 'admits it'}, and the offline view for v1.8.2 agrees`, async () => {
      const obj = vm(ns, `adm-${c.name.replace(/[^a-z]/g, '')}`.slice(0, 40), { interfaces: [c.iface], networks: [c.net] });
      const said = await admission(obj);
      if (c.admission) expect(said).toMatch(c.admission);
      else expect(said).toBeNull();
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-v18-')), 'vm.json');
      fs.writeFileSync(file, JSON.stringify(obj));
      const r = await runCli(['status', '-f', file, '--local', '--kubevirt-version', 'v1.8.2', '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).items[0].warnings.map((w: { code: string }) => w.code)).toEqual(c.offline);
    });
  }
});

describe('PCI topology v3 on KubeVirt v1.8.2', () => {
  it('virt-api writes kubevirt.io/pci-topology-version: v3 into a new VM\'s template (and the VMI), and no slot count', async () => {
    await create(vm(ns, 'topo', { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }], networks: [POD, BLUE_NET], runStrategy: 'Always' }) as never);
    const stored = await readVM(ns, 'topo');
    expect(stored.spec.template.metadata.annotations).toEqual({ 'kubevirt.io/pci-topology-version': 'v3' });
    const vmi = await eventually(async () => (await readVMI(ns, 'topo').catch(() => null))?.status?.phase === 'Running' && readVMI(ns, 'topo'), 60_000, 'VMI topo Running');
    expect(vmi.metadata.annotations['kubevirt.io/pci-topology-version']).toBe('v3');
    expect(vmi.metadata.annotations['kubevirt.io/pci-interface-slot-count']).toBeUndefined();
  }, 90_000);

  it('doctor\'s slot estimate follows that annotation', async () => {
    const r = await runCli(['doctor', 'topo', '-n', ns, '-o', 'json']);
    const slots = JSON.parse(r.stdout).checks.find((c: { id: string }) => c.id === 'hotplug-slots');
    // 2 interfaces, 1 GiB: 2 placeholder ports, topped up to 8 - (2 + 3) = 3 free root ports.
    expect(slots).toEqual({
      id: 'hotplug-slots',
      result: 'ok',
      message: '2 of about 5 interfaces: 3 more can be hot-plugged (PCI topology v3 (KubeVirt v1.8.2): 2 placeholder port(s) (max(0, 4 - interfaces)) topped up to 3 free root ports (max(8 - ports in use, 3) up to 2 GiB guest memory), shared with disk hot-plug)',
      fix: null,
    });
  });

  it('placePCIDevicesOnRootComplex: "true" (kept by virt-api next to v3): hotplug add warns that no hot-plug port exists', async () => {
    await create(vm(ns, 'rootc', { interfaces: [{ name: 'default', masquerade: {} }], networks: [POD], annotations: { 'kubevirt.io/placePCIDevicesOnRootComplex': 'true' }, runStrategy: 'Always' }) as never);
    expect((await readVM(ns, 'rootc')).spec.template.metadata.annotations).toEqual({ 'kubevirt.io/placePCIDevicesOnRootComplex': 'true', 'kubevirt.io/pci-topology-version': 'v3' });
    await eventually(async () => (await readVMI(ns, 'rootc').catch(() => null))?.status?.phase === 'Running', 60_000, 'VMI rootc Running');
    const r = await runCli(['hotplug', 'add', 'rootc', '--network', 'blue-net', '-n', ns, '--dry-run=client']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Warning: the VM would have 2 interfaces, above the estimated 1 it can have while running (the VM\'s kubevirt.io/placePCIDevicesOnRootComplex: "true" annotation puts every device on the root complex: no hot-plug port): the plug will likely fail until a restart');
  }, 90_000);
});

describe('kubemacpool MACCollision events (recorded here as its collision controller records them)', () => {
  // A MAC of this run only: the sandbox may keep the namespaces of earlier runs.
  const MAC = `02:5a:${randomBytes(4).toString('hex').match(/../g)!.join(':')}`;
  async function collisionEvent(namespace: string, vmiName: string, involved: string[]): Promise<void> {
    const vmi = await readVMI(namespace, vmiName);
    await create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${vmiName}.mac-collision`, namespace },
      involvedObject: { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', namespace, name: vmiName, uid: vmi.metadata.uid },
      reason: 'MACCollision',
      type: 'Warning',
      message: `MAC ${MAC}: Collision between ${involved.sort().join(', ')}`,
      source: { component: 'kubemacpool' },
      firstTimestamp: new Date().toISOString(),
      lastTimestamp: new Date().toISOString(),
      count: 1,
    } as never);
  }

  beforeAll(async () => {
    for (const n of [ns, other]) {
      await create(vm(n, 'twin', { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, macAddress: MAC }], networks: [POD, BLUE_NET], runStrategy: 'Always' }) as never);
    }
    for (const n of [ns, other]) await eventually(async () => (await readVMI(n, 'twin').catch(() => null))?.status?.phase === 'Running', 60_000, `VMI ${n}/twin Running`);
    const both = [`vmi/${ns}/twin`, `vmi/${other}/twin`];
    await collisionEvent(ns, 'twin', both);
    await collisionEvent(other, 'twin', both);
  }, 120_000);

  it('mac list in one namespace: found by kubemacpool only (the other VM is outside what was listed)', async () => {
    const r = await runCli(['mac', 'list', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const blue = JSON.parse(r.stdout).items.find((i: { vm: string; interface: string }) => i.vm === 'twin' && i.interface === 'blue');
    expect(blue.collision).toEqual({ mac: MAC, with: [`${other}/twin`], foundBy: ['kubemacpool'] });
  });

  it('mac list -A: found by kubemacpool and the cross-check, with a COLLISION column and a note', async () => {
    const r = await runCli(['mac', 'list', '-A']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/STATE\s+COLLISION$/);
    expect(lines.find((l) => l.startsWith(ns) && /\btwin\s+blue\b/.test(l))).toMatch(/kubemacpool\+cross-check$/);
    expect(r.stderr).toContain(`collision: ${ns}/twin interface blue: MAC ${MAC} is also used by ${other}/twin (found by kubemacpool's MACCollision events and the cross-check of the VMs and VMIs listed)`);
  });

  it('doctor\'s MAC check includes them', async () => {
    const r = await runCli(['doctor', 'twin', '-n', ns, '-o', 'json']);
    const fails = JSON.parse(r.stdout).checks.filter((c: { id: string; result: string }) => c.id === 'mac-collisions' && c.result === 'fail');
    expect(fails).toHaveLength(1);
    expect(fails[0].message).toMatch(new RegExp(`^interface "blue": MAC ${MAC} \\(spec\\) is also claimed by .*VirtualMachine ${other}/twin interface "blue".* \\(found by the cross-check; kubemacpool reports it too \\(MACCollision event\\)\\)$`));
  });
});

describe('mac set: the plain form takes the spec way', () => {
  it('sets interfaces[].macAddress, which KubeVirt\'s admission accepts, with no sidecar', async () => {
    await create(vm(ns, 'plainmac', { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }], networks: [POD, BLUE_NET] }) as never);
    // A MAC of this run only: mac set refuses one another VM of the sandbox uses.
    const mac = `02:5b:${randomBytes(4).toString('hex').match(/../g)!.join(':')}`;
    const r = await runCli(['mac', 'set', 'plainmac', 'blue', mac, '-n', ns]);
    expect(r.code, r.stderr).toBe(0);
    const stored = await readVM(ns, 'plainmac');
    expect(stored.spec.template.spec.domain.devices.interfaces[1]).toEqual({ name: 'blue', bridge: {}, macAddress: mac });
    expect(stored.spec.template.metadata.annotations).toEqual({ 'kubevirt.io/pci-topology-version': 'v3' });
  });
});
