// krew itself, for the install test: sigs.k8s.io/krew built from the Go module
// proxy (`go install MODULE@VERSION`), once, cached in .cache/krew under a
// name keyed by the build recipe (as scripts/sandbox-lib.mjs caches the
// sandbox), and run as kubectl's plugin `kubectl krew` in a private KREW_ROOT.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cluster.js';

/** What the cached binary is: changing any of it builds another one. */
export const KREW_RECIPE = {
  module: 'sigs.k8s.io/krew',
  version: 'v0.4.4',
  package: 'cmd/krew',
  flags: ['-trimpath'],
  ldflags: ['-s', '-w'],
  env: { CGO_ENABLED: '0' },
};

const cacheDir = path.join(repoRoot, '.cache', 'krew');

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    if (dir && fs.existsSync(p) && fs.statSync(p).isFile()) return p;
  }
  return undefined;
}

/** The krew binary, built from the Go module proxy on first use; Go 1.26+ must be on PATH then. */
export function ensureKrew(): string {
  const key = createHash('sha256').update(JSON.stringify(KREW_RECIPE)).digest('hex').slice(0, 16);
  const bin = path.join(cacheDir, `krew-${KREW_RECIPE.version}-${key}`);
  if (fs.existsSync(bin)) return bin;
  const go = which('go');
  if (!go) throw new Error(`building krew ${KREW_RECIPE.version} needs Go (1.26 or newer) on PATH; it is fetched from the Go module proxy and cached in .cache/krew`);
  fs.mkdirSync(cacheDir, { recursive: true });
  const gobin = fs.mkdtempSync(path.join(cacheDir, 'build-'));
  try {
    const r = spawnSync(go, ['install', ...KREW_RECIPE.flags, '-ldflags', KREW_RECIPE.ldflags.join(' '), `${KREW_RECIPE.module}/${KREW_RECIPE.package}@${KREW_RECIPE.version}`], {
      cwd: gobin, // outside any module: `go install MODULE@VERSION` resolves from the module proxy
      env: { ...process.env, ...KREW_RECIPE.env, GOBIN: gobin, GOFLAGS: '' },
      encoding: 'utf8',
      timeout: 900_000,
    });
    if (r.status !== 0) throw new Error(`go install ${KREW_RECIPE.module}@${KREW_RECIPE.version} failed (exit ${r.status}): ${r.stderr}${r.error ?? ''}`);
    fs.renameSync(path.join(gobin, 'krew'), bin);
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
  // Older recipes' binaries go.
  for (const f of fs.readdirSync(cacheDir)) if (f.startsWith('krew-') && path.join(cacheDir, f) !== bin) fs.rmSync(path.join(cacheDir, f), { force: true });
  return bin;
}

/**
 * A private krew root, and a folder with `kubectl-krew` (a link to krew) so
 * that kubectl runs krew as its plugin; both go on PATH, the root's bin/ for
 * the plugins krew installs. kubectl-krew stays out of that bin/: krew takes
 * plugins there without receipts for an outdated krew home and stops. krew's
 * install, list and uninstall want a local index (KREW_ROOT/index/default, a
 * git repository); an empty one stands for it, so nothing is fetched: the
 * plugin comes from --manifest and --archive.
 */
export function krewRoot(root: string): { krewRoot: string; path: string[]; env: NodeJS.ProcessEnv } {
  const tool = path.join(root, 'tool');
  const krew = path.join(root, 'root');
  fs.mkdirSync(tool, { recursive: true });
  fs.symlinkSync(ensureKrew(), path.join(tool, 'kubectl-krew'));
  const index = path.join(krew, 'index', 'default');
  fs.mkdirSync(index, { recursive: true });
  const git = spawnSync('git', ['init', '-q', index], { encoding: 'utf8' });
  if (git.status !== 0) throw new Error(`git init of krew's local index failed: ${git.stderr}${git.error ?? ''}`);
  return { krewRoot: krew, path: [path.join(krew, 'bin'), tool], env: { KREW_ROOT: krew, KREW_NO_UPGRADE_CHECK: '1' } };
}
