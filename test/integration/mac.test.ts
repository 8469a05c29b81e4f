// `kubectl vnet mac set|unset|list` against the shared sandbox: KubeVirt's own
// virt-api (admission, defaults) and virt-controller, with the node-side
// simulator running the VMIs for the restart test. Tests that need
// cluster-wide state (a KubeVirt CR, kubemacpool's webhook configuration) run
// in a private sandbox: mac-cluster.test.ts.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminApi, create, eventually, freshNamespace, readVM, readVMI, repoRoot, runCli, sandbox, settledVM, writtenState } from '../support/cluster.js';

const validateMacList = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas', 'mac-list.schema.json'), 'utf8')));

const NETCONF = 'netconf.kubevirt.io/macAddress';
const HOOKS = 'hooks.kubevirt.io/hookSidecars';
const IMAGE = 'registry:5000/kubevirt/netconf-hook-sidecar:latest';
// Seed 001: the smbios example, configMap flavour, as a user would write it (multi-line).
const SMBIOS = `[
    {
        "args": ["--version", "v1alpha2"],
        "image": "registry:5000/kubevirt/sidecar-shim:devel",
        "configMap": {"name": "my-config-map", "key": "my_script.sh", "hookPath": "/usr/bin/onDefineDomain"}
    }
]
`;

function vmManifest(ns: string, name: string, opts: { annotations?: Record<string, string>; ifaces?: any[]; runStrategy?: string } = {}) {
  const ifaces = opts.ifaces ?? [
    { name: 'default', masquerade: {} },
    { name: 'blue', bridge: {} },
  ];
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: ns },
    spec: {
      runStrategy: opts.runStrategy ?? 'Halted',
      template: {
        metadata: { labels: { app: name }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
        spec: {
          domain: { devices: { interfaces: ifaces }, resources: { requests: { memory: '128Mi' } } },
          networks: ifaces.map((i) => (i.name === 'default' ? { name: 'default', pod: {} } : { name: i.name, multus: { networkName: 'blue-net' } })),
        },
      },
    },
  };
}

async function createVM(ns: string, name: string, opts: Parameters<typeof vmManifest>[2] = {}): Promise<any> {
  return create(vmManifest(ns, name, opts) as any);
}

function kubectl(args: string[]): string {
  return execFileSync(sandbox().kubectl, ['--kubeconfig', sandbox().kubeconfig, ...args], { encoding: 'utf8' });
}

// A random MAC prefix per run, so leftovers of an earlier run on a kept sandbox never collide.
const R = randomBytes(2).toString('hex');
const P = `02:aa:${R.slice(0, 2)}:${R.slice(2)}`;
const DASH = P.toUpperCase().replaceAll(':', '-');
const DOT = `02aa.${R}`;

const mac = (...args: string[]) => runCli(['mac', ...args], { env: { KUBECTL_VNET_NETCONF_IMAGE: undefined } });

describe('mac set|unset', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace('vnet-mac');
  });

  it('--via netconf adds both annotations, keeps the smbios sidecar and other annotations exactly, and says a restart is needed', async () => {
    await createVM(ns, 'smbios', { annotations: { [HOOKS]: SMBIOS, 'smbios.vm.kubevirt.io/baseBoardManufacturer': 'Radical Edward' } });
    const r = await mac('set', 'smbios', 'blue', `${DASH}-00-01`, '-n', ns, '--sidecar-image', IMAGE);
    expect(r.stderr).toContain('KubeVirt does not flag a restart');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`virtualmachine.kubevirt.io/smbios patched: set the MAC of interface "blue" to ${P}:00:01 through the netconf sidecar (${IMAGE})\n`);
    const vm = await readVM(ns, 'smbios');
    const ann = vm.spec.template.metadata.annotations;
    expect(ann['smbios.vm.kubevirt.io/baseBoardManufacturer']).toBe('Radical Edward');
    expect(JSON.parse(ann[NETCONF])).toEqual([{ name: 'blue', macAddress: `${P}:00:01` }]);
    const hooks = JSON.parse(ann[HOOKS]);
    expect(hooks).toEqual([...JSON.parse(SMBIOS), { image: IMAGE }]);
    expect(hooks[0]).toEqual({ args: ['--version', 'v1alpha2'], image: 'registry:5000/kubevirt/sidecar-shim:devel', configMap: { name: 'my-config-map', key: 'my_script.sh', hookPath: '/usr/bin/onDefineDomain' } });
  });

  it('setting the same MAC again changes nothing (no PATCH is sent), and needs no image', async () => {
    const before = await settledVM(ns, 'smbios');
    const r = await mac('set', '--via', 'netconf', 'smbios', 'blue', `${DOT}.0001`, '-n', ns, '--debug');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('debug: GET /apis/kubevirt.io/v1/namespaces/');
    expect(r.stderr).not.toContain('debug: PATCH ');
    expect(r.stdout).toContain('virtualmachine.kubevirt.io/smbios unchanged');
    const after = await readVM(ns, 'smbios');
    expect(writtenState(after)).toEqual(writtenState(before));
  });

  it('a second interface gets its own entry; the existing entry and the sidecar image stay', async () => {
    kubectl(['patch', 'vm', 'smbios', '-n', ns, '--type=json', '-p', JSON.stringify([
      { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/-', value: { name: 'red', bridge: {} } },
      { op: 'add', path: '/spec/template/spec/networks/-', value: { name: 'red', multus: { networkName: 'red-net' } } },
    ])]);
    const r = await mac('set', '--via', 'netconf', 'smbios', 'red', `${P}:00:02`, '-n', ns);
    expect(r.code, r.stderr).toBe(0);
    const ann = (await readVM(ns, 'smbios')).spec.template.metadata.annotations;
    expect(JSON.parse(ann[NETCONF])).toEqual([
      { name: 'blue', macAddress: `${P}:00:01` },
      { name: 'red', macAddress: `${P}:00:02` },
    ]);
    expect(JSON.parse(ann[HOOKS])).toEqual([...JSON.parse(SMBIOS), { image: IMAGE }]);
  });

  it('unset removes one entry, and the netconf sidecar only when no entry remains; the smbios sidecar stays', async () => {
    let r = await mac('unset', '--via', 'netconf', 'smbios', 'blue', '-n', ns);
    expect(r.code, r.stderr).toBe(0);
    let ann = (await readVM(ns, 'smbios')).spec.template.metadata.annotations;
    expect(JSON.parse(ann[NETCONF])).toEqual([{ name: 'red', macAddress: `${P}:00:02` }]);
    expect(JSON.parse(ann[HOOKS])).toEqual([...JSON.parse(SMBIOS), { image: IMAGE }]);
    r = await mac('unset', '--via', 'netconf', 'smbios', 'red', '-n', ns);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('and the netconf sidecar (no netconf entry remains)');
    ann = (await readVM(ns, 'smbios')).spec.template.metadata.annotations;
    expect(ann[NETCONF]).toBeUndefined();
    expect(JSON.parse(ann[HOOKS])).toEqual(JSON.parse(SMBIOS));
    expect(ann['smbios.vm.kubevirt.io/baseBoardManufacturer']).toBe('Radical Edward');
    // and once more: nothing to do
    const rv = writtenState(await settledVM(ns, 'smbios'));
    r = await mac('unset', '--via', 'netconf', 'smbios', 'red', '-n', ns);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('unchanged');
    expect(writtenState(await readVM(ns, 'smbios'))).toEqual(rv);
  });

  it('without any sidecar the image comes from KUBECTL_VNET_NETCONF_IMAGE; with none at all it refuses and says how', async () => {
    const created = await createVM(ns, 'plain');
    // virt-api's VM mutator marks a new VM's template (kubevirt.io/pci-topology-version); the CLI adds only its two
    const kubevirtAnnotations = created.spec.template.metadata.annotations ?? {};
    expect(kubevirtAnnotations[NETCONF]).toBeUndefined();
    expect(kubevirtAnnotations[HOOKS]).toBeUndefined();
    const before = await settledVM(ns, 'plain');
    const none = await mac('set', '--via', 'netconf', 'plain', 'blue', `${P}:00:03`, '-n', ns);
    expect(none.code, none.stderr).toBe(5);
    expect(none.stderr).toContain('has no netconf sidecar yet, and no image for it was given');
    expect(none.stderr).toContain('hint: pass --sidecar-image IMAGE');
    expect(writtenState(await readVM(ns, 'plain'))).toEqual(writtenState(before));
    const r = await runCli(['mac', 'set', '--via', 'netconf', 'plain', 'blue', `${P}:00:03`, '-n', ns], { env: { KUBECTL_VNET_NETCONF_IMAGE: 'mirror.example/netconf-hook-sidecar:v1' } });
    expect(r.code, r.stderr).toBe(0);
    const ann = (await readVM(ns, 'plain')).spec.template.metadata.annotations;
    expect(ann).toEqual({ ...kubevirtAnnotations, [NETCONF]: `[{"name":"blue","macAddress":"${P}:00:03"}]`, [HOOKS]: '[{"image":"mirror.example/netconf-hook-sidecar:v1"}]' });
    // unset of the last entry with no other sidecar removes both annotations (and only them)
    expect((await mac('unset', '--via', 'netconf', 'plain', 'blue', '-n', ns)).code).toBe(0);
    expect((await readVM(ns, 'plain')).spec.template.metadata.annotations ?? {}).toEqual(kubevirtAnnotations);
  });

  it('--via spec sets and clears interfaces[].macAddress (lowercase colon form) and leaves the annotations alone', async () => {
    const created = await createVM(ns, 'specvm', { annotations: { [HOOKS]: SMBIOS } });
    expect(created.spec.template.metadata.annotations[HOOKS]).toBe(SMBIOS);
    // a globally administered MAC (0c: the locally administered bit is clear), unique per run
    const G = `0c:bb:${R.slice(0, 2)}:${R.slice(2)}:00:0a`;
    let r = await mac('set', 'specvm', 'blue', G.toUpperCase().replaceAll(':', '-'), '--via', 'spec', '-n', ns, '-o', 'name');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('virtualmachine.kubevirt.io/specvm patched\n');
    expect(r.stderr).toContain('globally administered');
    let vm = await settledVM(ns, 'specvm');
    expect(vm.spec.template.spec.domain.devices.interfaces).toEqual([{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, macAddress: G }]);
    expect(vm.spec.template.metadata.annotations).toEqual(created.spec.template.metadata.annotations);
    const rv = writtenState(vm);
    r = await mac('set', 'specvm', 'blue', G, '--via', 'spec', '-n', ns);
    expect(r.code, r.stderr).toBe(0);
    expect(writtenState(await readVM(ns, 'specvm'))).toEqual(rv);
    r = await mac('unset', 'specvm', 'blue', '--via', 'spec', '-n', ns, '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).spec.template.spec.domain.devices.interfaces[1]).toEqual({ name: 'blue', bridge: {} });
    vm = await readVM(ns, 'specvm');
    expect(vm.spec.template.spec.domain.devices.interfaces[1]).toEqual({ name: 'blue', bridge: {} });
  });

  it('--dry-run=client prints the patch and --dry-run=server sends it with dryRun; neither changes the VM', async () => {
    await createVM(ns, 'dry');
    const rv = writtenState(await settledVM(ns, 'dry'));
    const c = await mac('set', 'dry', 'blue', `${P}:00:04`, '-n', ns, '--sidecar-image', IMAGE, '--dry-run=client');
    expect(c.code, c.stderr).toBe(0);
    const ops = JSON.parse(c.stdout);
    expect(ops[0]).toEqual({ op: 'test', path: '/spec/template/spec/domain/devices/interfaces/1/name', value: 'blue' });
    expect(ops.at(-1).op).toBe('add');
    const s = await mac('set', 'dry', 'blue', `${P}:00:04`, '-n', ns, '--sidecar-image', IMAGE, '--dry-run=server', '-o', 'json');
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(JSON.parse(s.stdout).spec.template.metadata.annotations[NETCONF])).toEqual([{ name: 'blue', macAddress: `${P}:00:04` }]);
    expect(writtenState(await readVM(ns, 'dry'))).toEqual(rv);
  });

  it('refuses a MAC used by another VM in another namespace (naming it), unless --force', async () => {
    const other = await freshNamespace('vnet-mac-other');
    await createVM(other, 'owner', { ifaces: [{ name: 'eth1', bridge: {}, macAddress: `${P.toUpperCase()}:00:99` }] });
    await createVM(ns, 'wants');
    const rv = writtenState(await settledVM(ns, 'wants'));
    for (const via of ['netconf', 'spec']) {
      const r = await mac('set', 'wants', 'blue', `${P}:00:99`, '--via', via, '-n', ns, ...(via === 'netconf' ? ['--sidecar-image', IMAGE] : []));
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain(`error: ${P}:00:99 is already used by VirtualMachine ${other}/owner interface "eth1" (spec macAddress)`);
      expect(r.stderr).toContain('--force');
    }
    expect(writtenState(await readVM(ns, 'wants'))).toEqual(rv);
    const forced = await mac('set', 'wants', 'blue', `${P}:00:99`, '-n', ns, '--sidecar-image', IMAGE, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain(`Warning: ${P}:00:99 is also used by VirtualMachine ${other}/owner`);
    // the netconf MAC now claims it too: a third VM collides with both
    await createVM(ns, 'third');
    const third = await mac('set', 'third', 'blue', `${P}:00:99`, '--via', 'spec', '-n', ns);
    expect(third.code, third.stderr).toBe(5);
    expect(third.stderr).toContain(`VirtualMachine ${ns}/wants interface "blue" (netconf annotation)`);
  });

  it('a user who cannot list across namespaces gets a partial check, and is told so', async () => {
    const sb = sandbox();
    const name = `part-${Date.now().toString(36)}`;
    await createVM('team-a', name);
    try {
      const r = await runCli(['mac', 'set', name, 'blue', `${P}:01:00`, '--via', 'spec'], { kubeconfig: sb.editor });
      expect(r.stderr).toContain('the MAC collision check was partial: cannot list virtualmachines across namespaces; checked namespace "team-a" only');
      expect(r.code, r.stderr).toBe(0);
      expect((await readVM('team-a', name)).spec.template.spec.domain.devices.interfaces[1].macAddress).toBe(`${P}:01:00`);
    } finally {
      await adminApi().delete({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace: 'team-a' } });
    }
  });

  it('a malformed annotation is refused, named, and left untouched', async () => {
    const bad = '[{"name": "blue", "macAddress": 2}]';
    await createVM(ns, 'malformed', { annotations: { [NETCONF]: bad, [HOOKS]: `[{"image":"${IMAGE}"}]` } });
    const before = await settledVM(ns, 'malformed');
    // The netconf way edits that annotation: refused. (The spec way, the default, leaves it alone and warns.)
    for (const args of [['set', 'malformed', 'blue', `${P}:00:05`], ['unset', 'malformed', 'blue']]) {
      const r = await mac(...args, '--via', 'netconf', '-n', ns);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain(`error: annotation ${NETCONF} in the template of virtualmachine "malformed" is malformed: entry [0] ("blue"): "macAddress" is a number, not a string; nothing was changed`);
    }
    await createVM(ns, 'badhooks', { annotations: { [HOOKS]: '{"image": "x"}' } });
    const h = await mac('set', 'badhooks', 'blue', `${P}:00:05`, '-n', ns, '--sidecar-image', IMAGE);
    expect(h.code, h.stderr).toBe(5);
    expect(h.stderr).toContain(`annotation ${HOOKS} in the template of virtualmachine "badhooks" is malformed: not a JSON list: it is an object`);
    const after = await readVM(ns, 'malformed');
    expect(writtenState(after)).toEqual(writtenState(before));
    expect(after.spec.template.metadata.annotations[NETCONF]).toBe(bad);
    expect((await readVM(ns, 'badhooks')).spec.template.metadata.annotations[HOOKS]).toBe('{"image": "x"}');
  });

  it('refuses a standalone VMI and explains why', async () => {
    await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'lonely', namespace: ns },
      // virt-api refuses a VMI that requests no memory
      spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] }, resources: { requests: { memory: '128Mi' } } }, networks: [{ name: 'default', pod: {} }] },
    } as any);
    const r = await mac('set', 'lonely', 'default', `${P}:00:06`, '-n', ns, '--sidecar-image', IMAGE);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('"lonely" in namespace "' + ns + '" is a VirtualMachineInstance without a VirtualMachine; hook sidecar annotations are read only when a VMI is created');
    const u = await mac('unset', 'lonely', 'default', '--via', 'spec', '-n', ns);
    expect(u.code, u.stderr).toBe(5);
    expect(u.stderr).toContain("a VMI's spec cannot change while it runs");
    const l = await mac('list', 'lonely', '-n', ns);
    expect(l.code, l.stderr).toBe(3);
    expect(l.stderr).toContain('is a VirtualMachineInstance without a VirtualMachine; mac list shows VirtualMachines');
    const vmi = await readVMI(ns, 'lonely');
    expect(vmi.metadata.annotations?.[NETCONF]).toBeUndefined();
  });

  it('refuses bad MACs (usage) and the masquerade-reserved MAC (precondition); an unknown interface is not found', async () => {
    await createVM(ns, 'checks');
    const multicast = await mac('set', 'checks', 'blue', '01:00:5e:00:00:01', '-n', ns);
    expect(multicast.code, multicast.stderr).toBe(2);
    expect(multicast.stderr).toContain('multicast');
    const short = await mac('set', 'checks', 'blue', '02:00:00:00:01', '-n', ns);
    expect(short.code, short.stderr).toBe(2);
    const reserved = await mac('set', 'checks', 'default', '02:00:00:00:00:00', '--via', 'spec', '-n', ns);
    expect(reserved.code, reserved.stderr).toBe(5);
    expect(reserved.stderr).toContain('reserved by KubeVirt for the in-pod bridge');
    const img = await mac('set', 'checks', 'blue', `${P}:00:07`, '--via', 'spec', '--sidecar-image', IMAGE, '-n', ns);
    expect(img.code, img.stderr).toBe(2);
    const missing = await mac('set', 'checks', 'pink', `${P}:00:07`, '--via', 'spec', '-n', ns);
    expect(missing.code, missing.stderr).toBe(5);
    expect(missing.stderr).toContain('hint: its interfaces are: default, blue');
    const novm = await mac('set', 'nope', 'blue', `${P}:00:07`, '--via', 'spec', '-n', ns);
    expect(novm.code, novm.stderr).toBe(5);
  });
});

describe('mac list and status with the simulator: pending until a restart, matching after', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace('vnet-mac-sim');
    await create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'blue-net', namespace: ns }, spec: { config: '{"cniVersion":"0.3.1","name":"blue-net","type":"bridge","bridge":"br1"}' } } as any);
  });

  async function runningMac(name: string, iface: string): Promise<string> {
    return eventually(async () => {
      const vmi = await readVMI(ns, name).catch(() => null);
      if (vmi?.status?.phase !== 'Running') return null;
      return (vmi.status.interfaces ?? []).find((i: any) => i.name === iface)?.mac ?? null;
    }, 40_000, `VMI ${name} running with interface ${iface}`);
  }

  it('shows the netconf MAC pending while the VM runs, and matching after a stop and start', async () => {
    await createVM(ns, 'runner', { runStrategy: 'Always' });
    const before = await runningMac('runner', 'blue');
    expect(before).not.toBe(`${P}:00:10`);

    const set = await mac('set', 'runner', 'blue', `${P}:00:10`, '-n', ns, '--sidecar-image', IMAGE);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain('KubeVirt does not flag a restart');

    const list = await mac('list', 'runner', '-n', ns, '-o', 'json');
    expect(list.code, list.stderr).toBe(0);
    const doc0 = JSON.parse(list.stdout);
    expect(validateMacList(doc0), JSON.stringify(validateMacList.errors)).toBe(true);
    const row = doc0.items.find((i: any) => i.interface === 'blue');
    expect(row).toEqual({ namespace: ns, vm: 'runner', interface: 'blue', desired: `${P}:00:10`, source: 'netconf', reported: before.toLowerCase(), state: 'pending' });
    const table = await mac('list', '-n', ns);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^VM\s+INTERFACE\s+DESIRED\s+SOURCE\s+REPORTED\s+STATE\s+COLLISION$/m);
    expect(table.stdout).toMatch(new RegExp(`^runner\\s+blue\\s+${P}:00:10\\s+netconf\\s+${before.toLowerCase()}\\s+pending\\s+<none>$`, 'm'));
    expect(table.stderr).toContain('applies at the next start');

    const status = await runCli(['status', 'runner', '-n', ns, '-o', 'json']);
    expect(status.code, status.stderr).toBe(0);
    const st = JSON.parse(status.stdout);
    const doc = st.kind === 'List' ? st.items[0] : st;
    const blue = doc.interfaces.find((i: any) => i.name === 'blue');
    expect(blue.desiredMac).toBe(`${P}:00:10`);
    expect(blue.desiredMacSource).toBe('netconf');
    expect(blue.mac.toLowerCase()).toBe(before.toLowerCase());
    expect(doc.warnings.map((w: any) => w.code)).toContain('mac-mismatch');

    // No RestartRequired for an annotation change: restart by hand.
    kubectl(['patch', 'vm', 'runner', '-n', ns, '--type=merge', '-p', '{"spec":{"runStrategy":"Halted"}}']);
    await eventually(async () => (await readVMI(ns, 'runner').catch((err) => (err?.code === 404 ? null : Promise.reject(err)))) === null, 40_000, 'VMI gone');
    const stopped = JSON.parse((await mac('list', 'runner', '-n', ns, '-o', 'json')).stdout).items.find((i: any) => i.interface === 'blue');
    expect(stopped.state).toBe('stopped');
    kubectl(['patch', 'vm', 'runner', '-n', ns, '--type=merge', '-p', '{"spec":{"runStrategy":"Always"}}']);
    expect(await runningMac('runner', 'blue')).toBe(`${P}:00:10`);

    const afterDoc = JSON.parse((await mac('list', '-n', ns, '-o', 'json')).stdout);
    expect(validateMacList(afterDoc), JSON.stringify(validateMacList.errors)).toBe(true);
    const after = afterDoc.items.find((i: any) => i.vm === 'runner' && i.interface === 'blue');
    expect(after).toEqual({ namespace: ns, vm: 'runner', interface: 'blue', desired: `${P}:00:10`, source: 'netconf', reported: `${P}:00:10`, state: 'match' });
    const status2 = JSON.parse((await runCli(['status', 'runner', '-n', ns, '-o', 'json'])).stdout);
    const doc2 = status2.kind === 'List' ? status2.items[0] : status2;
    expect(doc2.warnings.map((w: any) => w.code)).not.toContain('mac-mismatch');
  });

  it('-A adds a NAMESPACE column and makes one list call per kind (VMs, VMIs, events)', async () => {
    const r = await mac('list', '-A', '--debug');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NAMESPACE\s+VM\s+INTERFACE\s+DESIRED\s+SOURCE\s+REPORTED\s+STATE\s+COLLISION$/m);
    expect(r.stdout).toMatch(new RegExp(`^${ns}\\s+runner\\s+blue\\s+${P}:00:10\\s+netconf\\s+${P}:00:10\\s+match\\s+<none>$`, 'm'));
    const gets = r.stderr.split('\n').filter((l) => /^debug: GET /.test(l));
    expect(gets.filter((l) => l.includes('/virtualmachines?'))).toHaveLength(1);
    expect(gets.filter((l) => l.includes('/virtualmachineinstances?'))).toHaveLength(1);
    // kubemacpool's MACCollision events: one list, selected by reason.
    expect(gets.filter((l) => l.includes('/events?') && l.includes('fieldSelector=reason%3DMACCollision'))).toHaveLength(1);
    expect(gets).toHaveLength(3);
  });
});
