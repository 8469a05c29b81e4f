// The release, as it is published and as krew installs it:
// - scripts/release.mjs builds every platform's archive; the krew manifest it
//   writes must be the committed plugin-manifest/vnet.yaml (so the committed
//   sha256s are those of a rebuild of the committed tree), and a second build
//   of the host's archive must be byte-identical to the first;
// - krew itself (sigs.k8s.io/krew, built from the Go module proxy, cached;
//   test/support/krew.ts) installs the linux-amd64 archive with the committed
//   manifest into a private KREW_ROOT, as the README says; kubectl's plugin
//   dispatch and completion then run the packaged binary against the sandbox;
//   `kubectl krew uninstall vnet` removes it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, freshNamespace, repoRoot, runCli, sandbox } from '../support/cluster.js';
import { krewRoot as makeKrewRoot } from '../support/krew.js';
import { validateKrewManifest } from '../support/krew-validate.js';
// @ts-expect-error plain ESM script without types
import { readArchive } from '../../scripts/archive.mjs';

const run = promisify(execFile);
const pjson = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const tag = `v${pjson.version}`;
const archiveFile = `kubectl-vnet_${pjson.version}_linux_amd64.tar.gz`;
const committedManifest = path.join(repoRoot, 'plugin-manifest', 'vnet.yaml');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('the release, installed by krew', () => {
  let work: string;
  let krewRoot: string;
  let env: NodeJS.ProcessEnv;
  let ns: string;
  let installed: Result;

  async function kubectl(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
    try {
      const r = await run(sandbox().kubectl, args, { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
    }
  }

  /** scripts/release.mjs as a maintainer runs it (dist/ is built by `npm test`). */
  async function release(out: string, platforms: string[] | undefined, manifest: string | null): Promise<void> {
    const args = [path.join(repoRoot, 'scripts', 'release.mjs'), '--no-build', '--out', out, ...(platforms ? ['--platforms', platforms.join(',')] : []), ...(manifest ? ['--manifest', manifest] : ['--no-manifest'])];
    await run(process.execPath, args, { cwd: repoRoot, timeout: 1_500_000, maxBuffer: 16 << 20 });
  }

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'vnet-krew-'));
    // Every platform, as `npm run release` builds them (the Node packages come from the npm registry once).
    await release(path.join(work, 'release'), undefined, path.join(work, 'vnet.yaml'));
    // The host's archive once more, into another folder.
    await release(path.join(work, 'again'), ['linux-amd64'], null);

    const k = makeKrewRoot(path.join(work, 'krew'));
    krewRoot = k.krewRoot;
    env = {
      HOME: work,
      ...k.env,
      PATH: [...k.path, path.dirname(sandbox().kubectl), '/usr/bin', '/bin'].join(path.delimiter),
      KUBECONFIG: sandbox().kubeconfig,
      NO_COLOR: '1',
    };
    // The README's command: krew checks the archive against the manifest's sha256 and installs it.
    installed = await kubectl(['krew', 'install', `--manifest=${committedManifest}`, `--archive=${path.join(work, 'release', archiveFile)}`]);
    // The completion helper, linked as the README says (krew links only the manifest's bin).
    if (installed.code === 0) symlinkSync(path.join(krewRoot, 'store', 'vnet', tag, 'kubectl_complete-vnet'), path.join(krewRoot, 'bin', 'kubectl_complete-vnet'));

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
  }, 1_800_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('two builds of the host archive are byte-identical, and so are their checksums', () => {
    const first = readFileSync(path.join(work, 'release', archiveFile));
    const second = readFileSync(path.join(work, 'again', archiveFile));
    expect(second.length).toBe(first.length);
    expect(second.equals(first)).toBe(true);
    const line = (dir: string) => readFileSync(path.join(work, dir, 'checksums.txt'), 'utf8').split('\n').find((l) => l.endsWith(`  ${archiveFile}`));
    expect(line('again')).toBeDefined();
    expect(line('again')).toBe(line('release'));
  });

  it('the committed manifest is the one a rebuild of the tree writes (every sha256 included)', () => {
    const rebuilt = readFileSync(path.join(work, 'vnet.yaml'), 'utf8');
    const committed = readFileSync(committedManifest, 'utf8');
    // When this fails: `npm run release` and commit plugin-manifest/vnet.yaml with the change that altered the archives.
    expect(committed).toBe(rebuilt);
    const archives = new Map(readdirSync(path.join(work, 'release')).filter((f) => /\.(tar\.gz|zip)$/.test(f)).map((f) => [f, readFileSync(path.join(work, 'release', f))]));
    expect(archives.size).toBe(5);
    expect(validateKrewManifest(committed, committedManifest, archives)).toEqual([]);
    const entries = readArchive(archiveFile, archives.get(archiveFile)!).map((e: { name: string; mode: number }) => `${e.name} ${(e.mode & 0o777).toString(8)}`);
    expect(entries.sort()).toEqual(['LICENSE 644', 'kubectl-vnet 755', 'kubectl_complete-vnet 755']);
  });

  it('krew installs the archive with the committed manifest', () => {
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stderr).toContain('Installed plugin: vnet');
    expect(existsSync(path.join(krewRoot, 'receipts', 'vnet.yaml'))).toBe(true);
    // The binary krew linked is an x86-64 ELF executable, not a script.
    const head = readFileSync(path.join(krewRoot, 'bin', 'kubectl-vnet')).subarray(0, 20);
    expect(head.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(head.readUInt16LE(18)).toBe(62); // EM_X86_64
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
    const commands = ['completion', 'doctor', 'hotplug add', 'hotplug remove', 'link set', 'mac list', 'mac set', 'mac unset', 'macpool opt-in', 'macpool opt-out', 'macpool status', 'network set', 'networks', 'status', 'version'];
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

  it('kubectl krew list shows it, and kubectl krew uninstall removes it', async () => {
    const list = await kubectl(['krew', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^(\S+\/)?vnet$/m);
    const gone = await kubectl(['krew', 'uninstall', 'vnet']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stderr).toContain('Uninstalled plugin: vnet');
    expect(existsSync(path.join(krewRoot, 'store', 'vnet'))).toBe(false);
    expect(existsSync(path.join(krewRoot, 'bin', 'kubectl-vnet'))).toBe(false);
    const after = await kubectl(['vnet', 'version']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('unknown command "vnet"');
  });
});
