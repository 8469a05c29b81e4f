// The from-source install (README, "From source"): bin/kubectl-vnet, linked
// into a folder on PATH, runs the CLI in a new shell whose `node` is too old,
// with the Node that scripts/node-env.sh put into the checkout's .toolchain/.
// Without one, bin/kubectl-vnet.js refuses the old Node and names the fix.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../support/tmp.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const version = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version;
const tmp = tempDirs();

/**
 * A checkout-like folder (bin/ with the launcher and links to the real
 * kubectl-vnet.js, .toolchain/ when asked), a folder on PATH with a link to
 * the launcher, and a `node` on PATH that is too old: it fails loudly when
 * it is run at all.
 */
function install(withToolchain: boolean): { env: NodeJS.ProcessEnv; onPath: string } {
  const root = tmp('vnet-launcher-');
  const checkout = path.join(root, 'checkout');
  mkdirSync(path.join(checkout, 'bin'), { recursive: true });
  copyFileSync(path.join(repo, 'bin', 'kubectl-vnet'), path.join(checkout, 'bin', 'kubectl-vnet'));
  chmodSync(path.join(checkout, 'bin', 'kubectl-vnet'), 0o755);
  // Node resolves the link, so the CLI loads the repository's dist/.
  symlinkSync(path.join(repo, 'bin', 'kubectl-vnet.js'), path.join(checkout, 'bin', 'kubectl-vnet.js'));
  if (withToolchain) {
    mkdirSync(path.join(checkout, '.toolchain', 'node-26.10.0', 'bin'), { recursive: true });
    symlinkSync(process.execPath, path.join(checkout, '.toolchain', 'node-26.10.0', 'bin', 'node'));
  }
  const onPath = path.join(root, 'path');
  mkdirSync(onPath);
  symlinkSync(path.join(checkout, 'bin', 'kubectl-vnet'), path.join(onPath, 'kubectl-vnet'));
  writeFileSync(path.join(onPath, 'node'), '#!/bin/sh\necho "the old node on PATH was run" >&2\nexit 42\n', { mode: 0o755 });
  return { env: { HOME: root, PATH: [onPath, '/usr/bin', '/bin'].join(path.delimiter), NO_COLOR: '1' }, onPath };
}

describe.runIf(process.platform !== 'win32')('bin/kubectl-vnet, the from-source launcher', () => {
  it("runs the checkout's .toolchain Node, whatever `node` on PATH is", () => {
    const { env } = install(true);
    const r = spawnSync('kubectl-vnet', ['version'], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Client Version: v${version}\n`);
    expect(r.status).toBe(0);
  });

  it('KUBECTL_VNET_NODE names the Node when the checkout has no .toolchain', () => {
    const { env } = install(false);
    const r = spawnSync('kubectl-vnet', ['version'], { env: { ...env, KUBECTL_VNET_NODE: process.execPath }, encoding: 'utf8' });
    expect(r.stdout).toBe(`Client Version: v${version}\n`);
    expect(r.status).toBe(0);
  });

  it('without either it runs `node` from PATH (here a stand-in that fails)', () => {
    const { env } = install(false);
    const r = spawnSync('kubectl-vnet', ['version'], { env, encoding: 'utf8' });
    expect(r.stderr).toContain('the old node on PATH was run');
    expect(r.status).toBe(42);
  });
});

describe('bin/kubectl-vnet.js on a Node older than 22.12', () => {
  it.each(['20.20.0', '22.11.0'])('Node %s: refused, and the hint names the fix', (old) => {
    // process.version(s) replaced before the entry point runs: its check is what is tested
    // (with -e, process.argv has no script path: a stand-in goes first).
    const script = `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '${old}' } }); Object.defineProperty(process, 'version', { value: 'v${old}' }); await import(${JSON.stringify(path.join(repo, 'bin', 'kubectl-vnet.js'))});`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, 'kubectl-vnet', 'version'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error: kubectl-vnet needs Node.js 22.12 or newer; this is v${old}`);
    expect(r.stderr).toContain('source scripts/node-env.sh');
    expect(r.stderr).toContain('bin/kubectl-vnet, not bin/kubectl-vnet.js, into a folder on PATH');
  });

  it('Node 22.12 and newer pass the check', () => {
    const script = `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '22.12.0' } }); await import(${JSON.stringify(path.join(repo, 'bin', 'kubectl-vnet.js'))});`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, 'kubectl-vnet', 'version'], { encoding: 'utf8' });
    expect(r.stdout).toBe(`Client Version: v${version}\n`);
    expect(r.status).toBe(0);
  });
});
