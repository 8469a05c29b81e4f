// A fleet edit (-l) on the sandbox: eight VMs selected by label, one refused (its interface name is
// taken by another NAD), one failing (the user may not patch it: RBAC), the others patched; then,
// with the right granted, a re-run that patches only the one that failed and reports the rest unchanged.
import fs from 'node:fs';
import path from 'node:path';
import { PatchStrategy } from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import { describe, expect, it, vi } from 'vitest';
import { adminApi, bindRole, create, eventually, freshNamespace, readVM, readVMI, runCli, untilAllowed, writtenState } from '../support/cluster.js';
import { bridgeNad, inDomain, makeVM, pauseSimulator, runningWith } from '../support/hotplug.js';

vi.setConfig({ testTimeout: 150_000 });

const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', 'schemas', 'fleet-edit-result-list.schema.json'), 'utf8')));

/** A stopped VM with the pod network (and optionally a bridge interface), labelled. */
function labelledVM(namespace: string, name: string, labels: Record<string, string>, extra?: { name: string; nad: string }) {
  const interfaces: unknown[] = [{ name: 'default', masquerade: {} }];
  const networks: unknown[] = [{ name: 'default', pod: {} }];
  if (extra) {
    interfaces.push({ name: extra.name, bridge: {} });
    networks.push({ name: extra.name, multus: { networkName: extra.nad } });
  }
  return create({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace, labels },
    spec: { runStrategy: 'Halted', template: { spec: { domain: { devices: { interfaces }, resources: { requests: { memory: '1Gi' } } }, networks } } },
  } as never);
}

const fleet = ['vm1', 'vm2', 'vm3', 'vm4', 'vm5', 'vm6', 'vm7', 'vm8'];

/** The role of the fleet's user: read what the edit reads, patch the VMs named. */
function role(ns: string, patchable: string[]) {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'fleet-editor', namespace: ns },
    rules: [
      { apiGroups: ['kubevirt.io'], resources: ['virtualmachines', 'virtualmachineinstances'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'], verbs: ['get', 'list'] },
      { apiGroups: ['kubevirt.io'], resources: ['virtualmachines'], verbs: ['patch'], resourceNames: patchable },
    ],
  };
}

const sorted = (text: string) => text.split('\n').filter(Boolean).sort();

describe('a fleet edit with -l', () => {
  it('patches the VMs it may, refuses one, fails one, exits 10; a re-run finishes the rest', async () => {
    const ns = await freshNamespace('vnet-fleet');
    await bridgeNad(ns, 'blue-net');
    await bridgeNad(ns, 'red-net');
    for (const name of fleet) await labelledVM(ns, name, { app: 'fleet' }, name === 'vm3' ? { name: 'blue', nad: 'red-net' } : undefined);
    await labelledVM(ns, 'other', { app: 'other' });
    const user = `fleet-user-${ns}`;
    await create(role(ns, fleet.filter((n) => n !== 'vm6')) as never);
    await bindRole(ns, 'fleet-editor', user);
    const before = Object.fromEntries(await Promise.all([...fleet, 'other'].map(async (n) => [n, writtenState(await readVM(ns, n))] as const)));
    const add = ['hotplug', 'add', '-l', 'app=fleet', '-n', ns, '--network', 'blue-net', '--name', 'blue', '--as', user, '--parallel', '3'];

    // A client dry run: the same results, nothing written.
    const dry = await runCli([...add, '--dry-run=client']);
    expect(dry.code, dry.stderr).toBe(10);
    expect(sorted(dry.stdout).filter((l) => / patched: /.test(l))).toHaveLength(7);
    for (const n of [...fleet, 'other']) expect(writtenState(await readVM(ns, n))).toEqual(before[n]);

    const first = await runCli(add);
    expect(first.code, first.stderr).toBe(10);
    const lines = sorted(first.stdout);
    const summary = lines.find((l) => l.startsWith('8 VirtualMachines: '));
    expect(summary).toBe('8 VirtualMachines: 6 patched, 0 unchanged, 1 refused, 1 failed');
    const perVM = lines.filter((l) => l !== summary);
    expect(perVM).toHaveLength(8);
    for (const n of ['vm1', 'vm2', 'vm4', 'vm5', 'vm7', 'vm8']) expect(perVM).toContain(`virtualmachine.kubevirt.io/${n} patched: add interface blue (bridge) on ${ns}/blue-net`);
    expect(perVM).toContain('virtualmachine.kubevirt.io/vm3 refused: the name "blue" is already used by an interface and a network of virtualmachine "vm3" (hint: pick another --name)');
    const vm6 = perVM.find((l) => l.startsWith('virtualmachine.kubevirt.io/vm6 '));
    expect(vm6).toMatch(new RegExp(`^virtualmachine\\.kubevirt\\.io/vm6 failed: forbidden: virtualmachines\\.kubevirt\\.io "vm6" is forbidden: User "${user}" cannot patch resource "virtualmachines"`));
    expect(vm6).toContain(`check with: kubectl auth can-i patch virtualmachines.kubevirt.io -n ${ns} --as ${user})`);
    expect(first.stderr).toContain('error: 2 of 8 VirtualMachines were not edited (6 patched, 0 unchanged, 1 refused, 1 failed)');
    expect(first.stderr).not.toMatch(/\u001b\[| {4}at /);

    for (const n of ['vm1', 'vm2', 'vm4', 'vm5', 'vm7', 'vm8']) {
      const vm = await readVM(ns, n);
      expect(vm.spec.template.spec.networks).toEqual([{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }]);
    }
    for (const n of ['vm3', 'vm6', 'other']) expect(writtenState(await readVM(ns, n))).toEqual(before[n]);

    // The right to patch vm6, then the same command again: only vm6 is patched.
    await adminApi().replace(role(ns, fleet) as never);
    await untilAllowed(user, 'patch', { group: 'kubevirt.io', resource: 'virtualmachines', namespace: ns, name: 'vm6' });
    const again = await runCli([...add, '-o', 'json', '--debug']);
    expect(again.code, again.stderr).toBe(10);
    // The VMs selected by one list are not read again, nor their VMIs one by one: one list (and one
    // watch) of the namespace's VMIs; the one VM to change costs its patch (--debug prints each request).
    const requests = again.stderr
      .split('\n')
      .filter((l) => /^debug: (GET|PATCH|POST|PUT|DELETE) \//.test(l))
      .map((l) => l.split(' ').slice(1, 3).join(' '));
    expect(requests.filter((r) => /\/(virtualmachines|virtualmachineinstances)\/[^/?]+$/.test(r.replace(/\?.*/, ''))), again.stderr).toEqual([
      `PATCH /apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines/vm6`,
    ]);
    const vmiReads = requests.filter((r) => r.startsWith(`GET /apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`));
    expect(vmiReads.filter((r) => !/[?&]watch=(1|true)/.test(r)), again.stderr).toHaveLength(1);
    expect(vmiReads.filter((r) => /[?&]watch=(1|true)/.test(r)).length, again.stderr).toBeLessThanOrEqual(1);
    const doc = JSON.parse(again.stdout);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.items.map((i: { name: string; result: string }) => `${i.name} ${i.result}`)).toEqual([
      'vm1 unchanged',
      'vm2 unchanged',
      'vm3 refused',
      'vm4 unchanged',
      'vm5 unchanged',
      'vm6 patched',
      'vm7 unchanged',
      'vm8 unchanged',
    ]);
    expect((await readVM(ns, 'vm6')).spec.template.spec.networks).toEqual([{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }]);
    expect(writtenState(await readVM(ns, 'other'))).toEqual(before.other);

    // Without vm3 (another selection), a third run is all unchanged and exits 0.
    await adminApi().patch({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'vm3', namespace: ns, labels: { app: 'fleet-odd' } } } as never, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    const third = await runCli(add);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout.trim().split('\n').at(-1)).toBe('7 VirtualMachines: 0 patched, 7 unchanged, 0 refused, 0 failed');
  });

  it('several names: VM1,VM2 for link set, a missing one refused', async () => {
    const ns = await freshNamespace('vnet-fleet');
    await bridgeNad(ns, 'blue-net');
    for (const n of ['a', 'b']) await labelledVM(ns, n, { app: 'x' }, { name: 'blue', nad: 'blue-net' });
    const r = await runCli(['link', 'set', 'a,b,ghost', 'blue', 'down', '-n', ns, '-o', 'name']);
    expect(r.code, r.stderr).toBe(10);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([
      '3 VirtualMachines: 2 patched, 0 unchanged, 1 refused, 0 failed',
      'virtualmachine.kubevirt.io/a patched',
      'virtualmachine.kubevirt.io/b patched',
      'virtualmachine.kubevirt.io/ghost refused',
    ]);
    for (const n of ['a', 'b']) expect((await readVM(ns, n)).spec.template.spec.domain.devices.interfaces[1]).toEqual({ name: 'blue', bridge: {}, state: 'down' });
  });

  it('--wait with several VMs: one watch of the namespace, each VM until its interface is ready', async () => {
    const ns = await freshNamespace('vnet-fleet');
    await bridgeNad(ns, 'blue-net');
    const vms = ['w1', 'w2', 'w3'];
    for (const n of vms) await makeVM(ns, n);
    for (const n of vms) await runningWith(ns, n, ['default']);
    const r = await runCli(['hotplug', 'add', ...vms, '-n', ns, '--network', 'blue-net', '--name', 'blue', '--wait', '--timeout', '60s', '--debug'], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.slice(0, 4).sort()).toEqual([
      '3 VirtualMachines: 3 patched, 0 unchanged, 0 refused, 0 failed',
      ...vms.map((n) => `virtualmachine.kubevirt.io/${n} patched: add interface blue (bridge) on ${ns}/blue-net`),
    ]);
    expect(lines.slice(4).sort()).toEqual([...vms.map((n) => `virtualmachine.kubevirt.io/${n} done: ready`), 'waited for 3 VirtualMachines: 3 done, 0 not running']);
    for (const n of vms) expect(inDomain(await readVMI(ns, n), 'blue')).toBeTruthy();
    // One list and (at most) one watch of the namespace's VMIs, none per VM (--debug prints each request).
    const nsWide = r.stderr.split('\n').filter((l) => l.startsWith('debug: GET ') && l.includes(`/namespaces/${ns}/virtualmachineinstances`) && !/virtualmachineinstances\/w\d/.test(l));
    const watches = nsWide.filter((l) => /[?&]watch=(1|true)/.test(l));
    expect(nsWide.length - watches.length, r.stderr).toBe(1);
    expect(watches.length, r.stderr).toBeLessThanOrEqual(1);
    expect(nsWide.every((l) => !l.includes('fieldSelector')), r.stderr).toBe(true);
  });

  it('--wait with several VMs: a VM whose plug Multus reports as failed ends as failed at once, the others are waited for; exit 9', async () => {
    const ns = await freshNamespace('vnet-fleet');
    await bridgeNad(ns, 'doomed-net', { cniVersion: '0.3.1', type: 'bridge', bridge: 'br9' });
    // ok already has the interface (attached); bad gets it now, and its NAD is deleted before Multus acts.
    await makeVM(ns, 'ok', { extra: [{ name: 'green', nad: 'doomed-net' }] });
    await makeVM(ns, 'bad');
    await runningWith(ns, 'ok', ['default', 'green']);
    await runningWith(ns, 'bad', ['default']);
    const { cliPath, sandbox } = await import('../support/cluster.js');
    const { spawn } = await import('node:child_process');
    await pauseSimulator(ns, 'bad', true);
    const started = Date.now();
    const child = spawn(process.execPath, [cliPath, 'hotplug', 'add', 'ok', 'bad', '-n', ns, '--network', 'doomed-net', '--name', 'green', '--wait', '--timeout', '150s'], {
      env: { ...process.env, KUBECONFIG: sandbox().kubeconfig, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const edited = new Promise<void>((resolve) => child.stdout.on('data', (d) => ((stdout += d), stdout.includes(' VirtualMachines: ') && resolve())));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    try {
      await Promise.race([edited, exited]);
      await adminApi().delete({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'doomed-net', namespace: ns } } as never);
    } finally {
      await pauseSimulator(ns, 'bad', false);
    }
    const code = await exited;
    clearTimeout(killer);
    expect(code, stderr).toBe(9);
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines.slice(0, 3).sort()).toEqual([
      '2 VirtualMachines: 1 patched, 1 unchanged, 0 refused, 0 failed',
      `virtualmachine.kubevirt.io/bad patched: add interface green (bridge) on ${ns}/doomed-net`,
      expect.stringMatching(/^virtualmachine\.kubevirt\.io\/ok unchanged: /),
    ]);
    expect(lines.slice(3).sort()).toEqual([
      expect.stringMatching(new RegExp(`^virtualmachine\\.kubevirt\\.io/bad failed: FailedAddingInterface on pod virt-launcher-bad-\\w+: pod \\[${ns}/virt-launcher-bad-\\w+\\]: failed adding interface pod\\w{11} to network: doomed-net$`)),
      'virtualmachine.kubevirt.io/ok done: ready',
      'waited for 2 VirtualMachines: 1 done, 0 not running, 1 failed',
    ]);
    expect(stderr).toMatch(/^error: 1 of 2 VirtualMachines did not get the change: KubeVirt or Multus reported a failure/m);
    expect(stderr).toMatch(new RegExp(`^hint: the edits stay in place; fix the cause, then check each, e.g. kubectl vnet status bad -n ${ns} `, 'm'));
    // Well before the timeout.
    expect(Date.now() - started).toBeLessThan(100_000);
  });

  it('Ctrl-C starts no new VM, lets the started edit finish, lists the rest as skipped, exits 130', async () => {
    const ns = await freshNamespace('vnet-fleet');
    await bridgeNad(ns, 'blue-net');
    const names = Array.from({ length: 16 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    for (const n of names) await labelledVM(ns, n, { app: 'c' }, { name: 'blue', nad: 'blue-net' });
    const { cliPath, sandbox } = await import('../support/cluster.js');
    const { spawn } = await import('node:child_process');
    // One VM at a time and 2 requests a second: the run is still going when it gets SIGINT.
    const child = spawn(process.execPath, [cliPath, 'link', 'set', '-l', 'app=c', 'blue', 'down', '-n', ns, '--parallel', '1', '--qps', '2', '--burst', '1'], {
      env: { ...process.env, KUBECONFIG: sandbox().kubeconfig, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const first = new Promise<void>((resolve) => child.stdout.on('data', (d) => ((stdout += d), stdout.includes(' patched: ') && resolve())));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await Promise.race([first, exited]);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    const lines = stdout.split('\n').filter(Boolean);
    const patched = lines.filter((l) => / patched: /.test(l)).map((l) => l.split(' ')[0]?.split('/')[1]);
    const skipped = lines.filter((l) => l.endsWith(' skipped: not started: interrupted'));
    expect(patched.length).toBeGreaterThanOrEqual(1);
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(patched.length + skipped.length).toBe(16);
    expect(lines.at(-1)).toBe(`16 VirtualMachines: ${patched.length} patched, 0 unchanged, 0 refused, 0 failed, ${skipped.length} not started`);
    expect(stderr).toContain('Interrupted: no new VM is started; waiting for the edits under way to finish');
    // Exactly the VMs reported patched were written: the started edit finished, nothing else was started.
    const down = [];
    for (const n of names) if ((await readVM(ns, n)).spec.template.spec.domain.devices.interfaces[1].state === 'down') down.push(n);
    expect(down.sort()).toEqual([...patched].sort());
  });

  it('hotplug remove VM1,VM2 twice: patched, then unchanged once KubeVirt removed the entries of the stopped VMs', async () => {
    const ns = await freshNamespace('vnet-fleet');
    await bridgeNad(ns, 'blue-net');
    for (const n of ['r1', 'r2']) await labelledVM(ns, n, { app: 'r' }, { name: 'blue', nad: 'blue-net' });
    const first = await runCli(['hotplug', 'remove', 'r1,r2', 'blue', '-n', ns, '-o', 'name']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.split('\n').filter(Boolean).sort()).toEqual(['2 VirtualMachines: 2 patched, 0 unchanged, 0 refused, 0 failed', 'virtualmachine.kubevirt.io/r1 patched', 'virtualmachine.kubevirt.io/r2 patched']);
    // A stopped VM has no VMI: KubeVirt drops the absent entries from the template at once.
    for (const n of ['r1', 'r2']) await eventually(async () => (await readVM(ns, n)).spec.template.spec.networks.length === 1, 30_000, `${n} without blue`);
    const again = await runCli(['hotplug', 'remove', 'r1,r2', 'blue', '-n', ns]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.split('\n').filter(Boolean).sort()).toEqual([
      '2 VirtualMachines: 0 patched, 2 unchanged, 0 refused, 0 failed',
      'virtualmachine.kubevirt.io/r1 unchanged: interface blue is not on the VM (nothing to unplug)',
      'virtualmachine.kubevirt.io/r2 unchanged: interface blue is not on the VM (nothing to unplug)',
    ]);
  });
});
