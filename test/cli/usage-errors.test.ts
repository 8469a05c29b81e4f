// Usage errors of the built CLI: oclif's parse errors (unknown flag, missing argument, a value
// not among the options, a missing required flag) are printed as one `error:` line and one
// `hint:` line, exit 2, with nothing on stdout. No cluster is needed: parsing fails first
// (--as-group reads the kubeconfig first, and sends nothing).
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cluster.js';

const noCluster = path.join(os.tmpdir(), 'vnet-usage-errors-no-such-kubeconfig');

async function usage(args: string[], env: Record<string, string> = {}, stdin?: string) {
  const r = await runCli(args, { kubeconfig: noCluster, env, stdin });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^error: \S/);
  expect(lines[1]).toMatch(/^hint: /);
  return lines;
}

describe('usage errors are one error line and one hint line', () => {
  it('an unknown flag (with NODE_ENV=development too: no oclif warning)', async () => {
    const [e, h] = await usage(['status', '--bogus'], { NODE_ENV: 'development' });
    expect(e).toBe('error: unknown flag: --bogus');
    expect(h).toBe('hint: see kubectl vnet status --help');
  });

  it('missing arguments name them, without oclif\'s note on --as-group', async () => {
    const [e, h] = await usage(['mac', 'set', 'web']);
    expect(e).toBe('error: missing arguments: IFACE MAC');
    expect(h).toBe('hint: see kubectl vnet mac set --help');
  });

  it('a value that is not one of the options', async () => {
    const [e] = await usage(['link', 'set', 'web', 'blue', 'sideways']);
    expect(e).toBe('error: argument STATE must be one of up, down, not "sideways"');
    const [e2] = await usage(['status', '-o', 'xml']);
    expect(e2).toBe('error: invalid value "xml" for --output: must be one of table, wide, json, yaml');
  });

  it('a missing required flag', async () => {
    const [e] = await usage(['hotplug', 'add', 'web']);
    expect(e).toBe('error: missing required flag --network');
  });

  it('--as-group without --as (and no as: in the kubeconfig\'s user) says what to add, before any request', async () => {
    // The user entry's `as` may supply the user (kubectl merges field by field), so the kubeconfig is
    // read first; its server is never contacted.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vnet-usage-asgroup-'));
    const kubeconfig = path.join(dir, 'config');
    writeFileSync(kubeconfig, 'current-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n');
    const r = await runCli(['status', '--as-group', 'team-a', '--kubeconfig', kubeconfig]);
    expect(r.code, r.stderr).toBe(2);
    const [e, h] = r.stderr.trimEnd().split('\n');
    expect(e).toMatch(/^error: --as-group needs --as/);
    expect(h).toMatch(/^hint: .*--as USER/);
  });
});

describe('an unknown command is a usage error too', () => {
  it('names the command with spaces, exit 2', async () => {
    const [e, h] = await usage(['nosuchcmd']);
    expect(e).toBe('error: unknown command "nosuchcmd" for "kubectl vnet"');
    expect(h).toBe("hint: run 'kubectl vnet --help' for the list of commands");
    const [e2] = await usage(['hotplug', 'bogus']);
    expect(e2).toBe('error: unknown command "hotplug bogus" for "kubectl vnet"');
  });
});

describe('a reader that stops early', () => {
  it('`kubectl vnet --help | head -1` ends quietly: nothing on stderr, exit 0', async () => {
    const { spawn } = await import('node:child_process');
    const { cliPath } = await import('../support/cluster.js');
    for (let i = 0; i < 3; i++) {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [cliPath, '--help'], { env: { ...process.env, NO_COLOR: '1', KUBECONFIG: noCluster }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        // Read the first chunk, then close the pipe as head does.
        child.stdout.once('data', () => child.stdout.destroy());
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });
});

describe('words after a command that takes no arguments', () => {
  it('are unexpected arguments of that command, not an unknown command', async () => {
    const [e, h] = await usage(['macpool', 'status', 'team-a']);
    expect(e).toBe('error: unexpected argument for "kubectl vnet macpool status": team-a');
    expect(h).toContain("see 'kubectl vnet macpool status --help'");
    expect(h).toContain('-n NAMESPACE');
    const [e2] = await usage(['version', 'a', 'b']);
    expect(e2).toBe('error: unexpected arguments for "kubectl vnet version": a b');
  });
});

describe('empty arguments, bad namespaces and NAD references are usage errors, not requests', () => {
  it('an empty argument is refused before any request (an empty name would address a whole collection)', async () => {
    const [e, h] = await usage(['doctor', '']);
    expect(e).toBe('error: the VM argument must not be empty');
    expect(h).toBe('hint: see kubectl vnet doctor --help');
    const [e2] = await usage(['status', '']);
    expect(e2).toBe('error: the TARGET argument must not be empty');
  });

  it('-n that is not a namespace name (instead of a 404 blamed on a missing API)', async () => {
    for (const ns of ['a/b', 'Team-A', '-x']) {
      const r = await runCli(['status', '-n', ns]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`error: ${JSON.stringify(ns)} (-n) is not a valid namespace name\nhint: a namespace name is at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit; list them with: kubectl get namespaces\n`);
    }
  });

  it('hotplug add --network /NAME (an empty namespace) is refused as a usage error, nothing sent', async () => {
    const { create, freshNamespace, readVM } = await import('../support/cluster.js');
    const ns = await freshNamespace('vnet-usage');
    await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'u', namespace: ns },
      spec: { runStrategy: 'Halted', template: { spec: { domain: { devices: {} } } } },
    } as never);
    const before = await readVM(ns, 'u');
    const r = await runCli(['hotplug', 'add', 'u', '--network', '/blue', '-n', ns]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe('error: --network "/blue" is not a NetworkAttachmentDefinition name\nhint: write it as NAME or NAMESPACE/NAME\n');
    const after = await readVM(ns, 'u');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.spec).toEqual(before.spec);
  });
});

describe('arguments come from the command line only, never from stdin', () => {
  const example = (async () => (await import('node:fs')).readFileSync(path.join(import.meta.dirname, '..', '..', 'examples', 'vm.yaml'), 'utf8'))();

  it('cat vm.yaml | status -f - --local reads the manifest (oclif took it for the TARGET argument)', async () => {
    const r = await runCli(['status', '-f', '-', '--local'], { kubeconfig: noCluster, stdin: await example });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^demo\s+default\s+masquerade\s+pod\b/m);
  });

  it('cat vm.yaml | hotplug add --all ... -f - --local edits the manifest (file mode took it for the VM argument)', async () => {
    const r = await runCli(['hotplug', 'add', '--all', '--network', 'lab/blue-net', '--name', 'blue', '-f', '-', '--local'], { kubeconfig: noCluster, stdin: await example });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('networkName: lab/blue-net');
  });

  it('a missing argument is missing even when stdin has lines (a command in a `while read` loop)', async () => {
    const [e] = await usage(['mac', 'set', 'web'], {}, 'blue\n02:00:00:00:00:01\n');
    expect(e).toBe('error: missing arguments: IFACE MAC');
    const { freshNamespace } = await import('../support/cluster.js');
    const ns = await freshNamespace('vnet-stdin');
    const r = await runCli(['status', '-n', ns], { stdin: 'nope\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`No resources found in ${ns} namespace.\n`);
  });
});
