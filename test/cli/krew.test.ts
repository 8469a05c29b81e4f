// The release as krew installs it, through a real kubectl: builds the
// linux-amd64 archive and its manifest with scripts/release.mjs, validates
// both, unpacks the archive into a krew root (store/vnet/vX.Y.Z), links the
// binary into KREW_ROOT/bin, puts only that folder and kubectl's on PATH, and
// runs kubectl's plugin dispatch and completion against the sandbox.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, freshNamespace, repoRoot, runCli, sandbox } from '../support/cluster.js';
import { validateKrewManifest } from '../support/krew-validate.js';
// @ts-expect-error plain ESM script without types
import { readArchive } from '../../scripts/archive.mjs';

const run = promisify(execFile);
const pjson = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const tag = `v${pjson.version}`;
const archiveFile = `kubectl-vnet_${pjson.version}_linux_amd64.tar.gz`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('krew-style install of the linux-amd64 archive', () => {
  let work: string;
  let krewRoot: string;
  let env: NodeJS.ProcessEnv;
  let ns: string;

  async function kubectl(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
    try {
      const r = await run(sandbox().kubectl, args, { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 60_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
    }
  }

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'vnet-krew-'));
    const out = path.join(work, 'release');
    // The release script, as a maintainer runs it (dist/ is built by `npm test`).
    await run(process.execPath, [path.join(repoRoot, 'scripts', 'release.mjs'), '--platforms', 'linux-amd64', '--no-build', '--out', out, '--manifest', path.join(work, 'vnet.yaml')], {
      cwd: repoRoot,
      timeout: 600_000,
      maxBuffer: 16 << 20,
    });

    // Install like krew: unpack into store/<plugin>/<version>, link bin into KREW_ROOT/bin.
    krewRoot = path.join(work, 'krew');
    const store = path.join(krewRoot, 'store', 'vnet', tag);
    mkdirSync(store, { recursive: true });
    mkdirSync(path.join(krewRoot, 'bin'));
    for (const e of readArchive(archiveFile, readFileSync(path.join(out, archiveFile)))) {
      writeFileSync(path.join(store, e.name), e.data);
      chmodSync(path.join(store, e.name), e.mode);
    }
    symlinkSync(path.join(store, 'kubectl-vnet'), path.join(krewRoot, 'bin', 'kubectl-vnet'));
    // The completion helper, linked as the README says.
    symlinkSync(path.join(store, 'kubectl_complete-vnet'), path.join(krewRoot, 'bin', 'kubectl_complete-vnet'));
    env = {
      HOME: work,
      PATH: [path.join(krewRoot, 'bin'), path.dirname(sandbox().kubectl), '/usr/bin', '/bin'].join(path.delimiter),
      KUBECONFIG: sandbox().kubeconfig,
      NO_COLOR: '1',
    };

    ns = await freshNamespace('vnet-krew');
    await create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'krew-vm', namespace: ns },
      spec: {
        runStrategy: 'Halted',
        template: {
          spec: {
            domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }] }, resources: { requests: { memory: '1Gi' } } },
            networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }],
          },
        },
      },
    } as never);
  }, 660_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the release wrote a manifest that krew accepts for the archive it built', () => {
    const text = readFileSync(path.join(work, 'vnet.yaml'), 'utf8');
    const archives = new Map([[archiveFile, readFileSync(path.join(work, 'release', archiveFile))]]);
    expect(validateKrewManifest(text, path.join(work, 'vnet.yaml'), archives)).toEqual([]);
    const entries = readArchive(archiveFile, archives.get(archiveFile)!).map((e: { name: string; mode: number }) => `${e.name} ${(e.mode & 0o777).toString(8)}`);
    expect(entries.sort()).toEqual(['LICENSE 644', 'kubectl-vnet 755', 'kubectl_complete-vnet 755']);
    // The binary is an x86-64 ELF executable, not a script.
    const head = readFileSync(path.join(krewRoot, 'store', 'vnet', tag, 'kubectl-vnet')).subarray(0, 20);
    expect(head.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(head.readUInt16LE(18)).toBe(62); // EM_X86_64
    expect(readFileSync(path.join(work, 'release', 'checksums.txt'), 'utf8')).toContain(archiveFile);
  });

  it('kubectl plugin list finds the linked binary', async () => {
    const r = await kubectl(['plugin', 'list']);
    expect(r.stdout).toContain(path.join(krewRoot, 'bin', 'kubectl-vnet'));
    expect(r.stderr).not.toMatch(/warning/i);
  });

  it('kubectl vnet version runs the packaged binary', async () => {
    const r = await kubectl(['vnet', 'version']);
    expect(r).toMatchObject({ code: 0, stdout: `Client Version: ${tag}\n` });
    const server = await kubectl(['vnet', 'version', '--server', '-o', 'json']);
    expect(server.code).toBe(0);
    const doc = JSON.parse(server.stdout);
    expect(doc.clientVersion).toEqual({ version: tag, node: 'v26.10.0', platform: 'linux/x64' });
    expect(doc.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+/);
  });

  it('kubectl vnet status reads the VM from the sandbox', async () => {
    const r = await kubectl(['vnet', 'status', 'krew-vm', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const text = JSON.stringify(doc);
    expect(text).toContain('krew-vm');
    expect(text).toContain('"blue"');
    const table = await kubectl(['vnet', 'status', 'krew-vm', '-n', ns]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/blue/);
    // Errors keep their exit codes through kubectl.
    const missing = await kubectl(['vnet', 'status', 'no-such-vm', '-n', ns]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^error: /m);
    // A token kubeconfig is read without the client library (only credential plugins load it).
    const traced = await kubectl(['vnet', 'status', 'krew-vm', '-n', ns], { KUBECTL_VNET_DEBUG_STARTUP: '1' });
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.stderr).toContain('startup: kubectl-vnet.cjs code cache used');
    expect(traced.stderr).not.toContain('kubelib');
  });

  it('the packaged binary prints what the npm-installed CLI prints', async () => {
    // `version` alone takes the executable's fast path (scripts/sea-main.cjs); the npm CLI runs oclif.
    // The executable loads parts of oclif lazily (scripts/bundle.mjs): every command's help, topics and
    // the usage errors must come out the same.
    const commands = ['completion', 'doctor', 'hotplug add', 'hotplug remove', 'link set', 'mac list', 'network set', 'mac set', 'mac unset', 'macpool opt-in', 'macpool opt-out', 'macpool status', 'status', 'version'];
    const cases = [
      [], ['--version'], ['version'], ['--help'], ['hotplug'], ['mac'], ['macpool', '--help'], ['version', '-o', 'yaml'], ['completion', 'bash'],
      ...commands.map((c) => [...c.split(' '), '--help']),
      ['no-such-command'], ['status', '--output', 'bogus'], ['status', '--bogus'], ['mac', 'set'], ['hotplug', 'add', 'vm1'], ['status', '-A', 'vm1'],
      ['status', 'vm1', '--kubeconfig', path.join(work, 'no-such-kubeconfig')], ['status', 'vm1', '--request-timeout', 'soon'],
    ];
    for (const args of cases) {
      const packaged = await kubectl(['vnet', ...args]);
      // NODE_ENV: vitest sets "test", which makes oclif print development warnings.
      const npm = await runCli(args, { env: { HOME: work, NODE_ENV: undefined } });
      expect({ args, ...packaged }).toEqual({ args, code: npm.code, stdout: npm.stdout, stderr: npm.stderr });
    }
  }, 180_000);

  it('kubectl completes `kubectl vnet` through kubectl_complete-vnet: commands, flags, VMs, interfaces', async () => {
    const complete = async (...words: string[]) => {
      const r = await kubectl(['__complete', 'vnet', ...words]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout
        .split('\n')
        .filter((l) => l && !l.startsWith(':'))
        .map((l) => l.split('\t')[0]);
    };
    expect(await complete('sta')).toEqual(['status']);
    expect(await complete('hotplug', '')).toEqual(['add', 'remove']);
    expect(await complete('status', '--out')).toEqual(['--output']);
    expect(await complete('status', '-n', ns, '')).toEqual(['krew-vm']);
    expect(await complete('mac', 'set', '-n', ns, 'krew-vm', '')).toEqual(['blue', 'default']);
    expect(await complete('status', '-n', 'vnet-krew-')).toContain(ns);
    // No cluster: no names and no error text.
    const offline = await kubectl(['__complete', 'vnet', 'status', ''], { KUBECONFIG: path.join(work, 'missing') });
    expect(offline.stdout).toBe(':4\n');
  });

  it('the archive holds only what the manifest lists', () => {
    const files = readdirSync(path.join(krewRoot, 'store', 'vnet', tag)).sort();
    expect(files).toEqual(['LICENSE', 'kubectl-vnet', 'kubectl_complete-vnet']);
  });
});
