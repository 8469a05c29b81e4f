// The sandbox without Go: the bare API server (--no-kubevirt) runs envtest-style
// KUBEBUILDER_ASSETS binaries instead of building; KubeVirt needs Go; with
// neither Go nor assets it fails saying what to install.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sandbox } from '../support/cluster.js';
// @ts-expect-error plain ESM script without types
import { ensureEnvtestAssets } from '../../scripts/sandbox-lib.mjs';

/** PATH with every folder that holds a `go` removed. */
function pathWithoutGo(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => !fs.existsSync(path.join(d, 'go')))
    .join(path.delimiter);
}

function sandboxCli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'sandbox.mjs'), ...args], {
    env: { ...process.env, ...env, PATH: pathWithoutGo() },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('sandbox without Go', () => {
  let assets: string;
  // Building kube-apiserver and etcd takes minutes on a machine with a cold Go cache.
  beforeAll(() => {
    assets = ensureEnvtestAssets();
  }, 20 * 60_000);

  it('fails with a message saying what to install when there is neither Go nor KUBEBUILDER_ASSETS', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-nogo-'));
    const env: Record<string, string> = { VNET_SANDBOX_CACHE: empty };
    const r = sandboxCli(['up', '--dir', path.join(empty, 'sb')], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the sandbox needs Go (1.26 or newer) to build kube-apiserver and etcd from Go modules');
    expect(r.stderr).toContain('set KUBEBUILDER_ASSETS to a folder with kube-apiserver and etcd');
    expect(r.stderr).toContain('--no-kubevirt');
  });

  it('with KUBEBUILDER_ASSETS but no Go, KubeVirt cannot be built: it says so and how to run without it', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-nogo-kv-'));
    const r = sandboxCli(['up', '--dir', path.join(empty, 'sb')], { KUBEBUILDER_ASSETS: assets, VNET_SANDBOX_CACHE: path.join(empty, 'cache') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the sandbox needs Go \(1\.26 or newer\) to build KubeVirt v\d+\.\d+\.\d+ \(virt-controller and virt-api\)/);
    expect(r.stderr).toContain('`npm run sandbox -- up --no-kubevirt` runs the bare API server (no KubeVirt) from envtest binaries in KUBEBUILDER_ASSETS');
    expect(fs.existsSync(path.join(empty, 'sb', 'sandbox.pid'))).toBe(false);
  });

  it('runs envtest binaries from KUBEBUILDER_ASSETS without building anything', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-assets-'));
    const dir = path.join(empty, 'sb');
    // An empty build cache and no Go on PATH: only the assets can make this work.
    const env = { KUBEBUILDER_ASSETS: assets, VNET_SANDBOX_CACHE: path.join(empty, 'cache') };
    const r = sandboxCli(['up', '--dir', dir, '--no-kubevirt'], env);
    try {
      expect(r.stderr).not.toContain('building');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`export KUBECONFIG=${dir}/kubeconfig\n`);
      const crds = spawnSync(sandbox().kubectl, ['--kubeconfig', path.join(dir, 'kubeconfig'), 'get', 'crd', '-o', 'name'], { encoding: 'utf8' });
      // KubeVirt's 21 CRDs, Multus's and Kube-OVN's.
      expect(crds.stdout.trim().split('\n')).toHaveLength(23);
      const ps = spawnSync('pgrep', ['-f', `${assets}/kube-apiserver`], { encoding: 'utf8' });
      expect(ps.stdout.trim()).not.toBe('');
      expect(fs.existsSync(path.join(empty, 'cache'))).toBe(false);
    } finally {
      const d = sandboxCli(['down', '--dir', dir], env);
      expect(d.status).toBe(0);
    }
    const left = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
  }, 300_000);
});
