// status -w against the sandbox: KubeVirt's virt-controller copies a hot-plugged interface into the VMI and the
// launcher pod's networks annotation; the node side (paused for the VM until the pending state was seen) attaches
// it and reports it in the domain. The watch follows it from pending to ready without polling, and Ctrl-C ends
// it with exit 0.
import { spawn } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { PatchStrategy } from '@kubernetes/client-node';
import { adminApi, cliPath, eventually, freshNamespace, runCli, sandbox } from '../support/cluster.js';
import { bridgeNad, makeVM, pauseSimulator, runningWith } from '../support/hotplug.js';

vi.setConfig({ testTimeout: 150_000 });

/** The CLI in the background, its output as it comes, stopped with SIGINT (Ctrl-C). */
function background(args: string[]) {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, KUBECONFIG: sandbox().kubeconfig, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => (clearTimeout(killer), resolve(code))));
  return {
    out: () => stdout,
    err: () => stderr,
    until: (re: RegExp, what: string) => eventually(async () => re.test(stdout), 60_000, `${what} in: ${args.join(' ')}\n${stdout}\n${stderr}`),
    interrupt: async () => {
      child.kill('SIGINT');
      return exited;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

describe('status -w', () => {
  it('follows a hot-plug from pending to ready (one VM, a namespace as JSON, -l, -A), and exits 0 on Ctrl-C', async () => {
    const ns = await freshNamespace('vnet-watch');
    await bridgeNad(ns);
    await makeVM(ns, 'vm1');
    await makeVM(ns, 'other', { running: false });
    await adminApi().patch({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'vm1', namespace: ns, labels: { app: 'web' } } } as never, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await runningWith(ns, 'vm1', ['default']);
    const labelled = background(['status', '-n', ns, '-l', 'app=web', '-w', '-o', 'json']);
    const one = background(['status', 'vm1', '-n', ns, '-w']);
    const json = background(['status', '-n', ns, '-w', '-o', 'json']);
    const all = background(['status', '-A', '-w', '-o', 'json']);
    // The same one-VM watch with --debug: every request it makes, to show it never polls.
    const debugged = background(['status', 'vm1', '-n', ns, '-w', '--debug']);
    try {
      await one.until(/^vm1\s+default\s+masquerade\s+pod\s+ready\b/m, 'the first table');
      await json.until(/"name":"other"/, 'the first objects');
      await all.until(new RegExp(`"namespace":"${ns}","name":"vm1"`), 'vm1 across all namespaces');
      // Held at the state right after the edit: the node side attaches nothing until it resumes.
      await pauseSimulator(ns, 'vm1', true);
      const add = await runCli(['hotplug', 'add', 'vm1', '-n', ns, '--network', 'blue-net', '--name', 'blue']);
      expect(add.code, add.stderr).toBe(0);
      await one.until(/^vm1\s+blue\s+bridge\s+\S+\s+pending\b/m, 'blue pending');
      await pauseSimulator(ns, 'vm1', false);
      await one.until(/^vm1\s+blue\s+bridge\s+\S+\s+ready\b/m, 'blue ready');
      await json.until(/"name":"blue","binding":"bridge","network":"[^"]+","state":"ready"/, 'blue ready as JSON');
      await all.until(new RegExp(`"namespace":"${ns}","name":"vm1".*"name":"blue","binding":"bridge","network":"[^"]+","state":"ready"`), 'blue ready across all namespaces');
      await labelled.until(/"name":"blue","binding":"bridge","network":"[^"]+","state":"ready"/, 'blue ready with -l');
      await debugged.until(/^vm1\s+blue\s+bridge\s+\S+\s+ready\b/m, 'blue ready with --debug');
    } finally {
      const codes = await Promise.all([one.interrupt(), json.interrupt(), all.interrupt(), labelled.interrupt(), debugged.interrupt()]);
      expect(codes, `${one.err()}${json.err()}${all.err()}${labelled.err()}${debugged.err()}`).toEqual([0, 0, 0, 0, 0]);
    }
    // Never polling: through the whole hot-plug, one list and then watches of each kind (and the KubeVirt CR once).
    const gets = debugged.err().split('\n').filter((l) => l.startsWith('debug: GET '));
    const lists = gets.filter((l) => !l.includes('watch=1')).map((l) => l.split(' ')[2].split('?')[0]);
    expect(lists.sort()).toEqual([`/api/v1/namespaces/${ns}/pods`, `/apis/kubevirt.io/v1/kubevirts`, `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`, `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines`]);
    expect(gets.filter((l) => l.includes('watch=1')).length).toBeGreaterThanOrEqual(3);
    // -l: only the labelled VM.
    expect(new Set(labelled.out().split('\n').filter(Boolean).map((l) => JSON.parse(l).name))).toEqual(new Set(['vm1']));

    // Table stream: the header once, then only changed rows; each state of blue appears in order.
    const lines = one.out().split('\n').filter(Boolean);
    expect(lines.filter((l) => l.startsWith('VM ')).length).toBe(1);
    const blue = lines.filter((l) => /^vm1\s+blue\s/.test(l)).map((l) => l.split(/\s+/)[4]);
    expect(blue[0]).toBe('pending');
    expect(blue.at(-1)).toBe('ready');
    expect(new Set(lines).size).toBe(lines.length);
    expect(one.out()).not.toMatch(/\u001b\[/);
    // JSON: one object per line, each a VM's whole status; the halted VM's object came once (it never changed).
    const docs = json.out().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(docs.every((d) => d.kind === 'VMNetworkStatus')).toBe(true);
    expect(docs.filter((d) => d.name === 'other')).toHaveLength(1);
    const states = docs.filter((d) => d.name === 'vm1').map((d) => d.interfaces.find((i: any) => i.name === 'blue')?.state ?? 'none');
    expect(states).toContain('pending');
    expect(states.at(-1)).toBe('ready');
  });

  it('a VM that does not exist is not found (exit 3) before any watch', async () => {
    const ns = await freshNamespace('vnet-watch');
    const r = await runCli(['status', 'nope', '-n', ns, '-w']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`error: virtualmachine "nope" not found in namespace "${ns}"\nhint: check the name and the namespace (-n); list them with: kubectl vnet status; a standalone VMI is vmi/NAME\n`);
  });
});
