// Starts and stops the sandbox: a real kube-apiserver and etcd (one Go
// process built from test/sandbox), and optionally the KubeVirt network
// simulator. Used by `npm run sandbox` and by the integration test set-up.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const goDir = path.join(root, 'test', 'sandbox');
const cacheDir = process.env.VNET_SANDBOX_CACHE ? path.resolve(process.env.VNET_SANDBOX_CACHE) : path.join(root, '.cache', 'sandbox');
const crdDir = path.join(root, 'test', 'crds');

function log(msg) {
  process.stderr.write(`sandbox: ${msg}\n`);
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {}
  }
  return null;
}

/** How the Go binaries are built: flags, the packages stamped with the Kubernetes version, environment. */
const BUILD_RECIPE = {
  flags: ['-trimpath'],
  ldflags: ['-s', '-w'],
  versionPackages: ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'],
  env: { CGO_ENABLED: '0' },
};

function sourceHash() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.go$|^go\.(mod|sum)$/.test(e.name)) h.update(path.relative(goDir, p)).update(fs.readFileSync(p));
    }
  };
  walk(goDir);
  // The build recipe (version stamp, flags) is part of what the binary is. It is hashed as data, not as
  // goBuild's source text: vitest transforms this module, so the text differs between vitest and node,
  // and the two would rebuild (and delete) each other's binary.
  h.update(JSON.stringify(BUILD_RECIPE)).update(kubernetesVersion());
  return h.digest('hex').slice(0, 16);
}

/** The Kubernetes version the sandbox is built from, read from its go.mod. */
export function kubernetesVersion() {
  const m = /k8s\.io\/kubernetes (v[0-9.]+)/.exec(fs.readFileSync(path.join(goDir, 'go.mod'), 'utf8'));
  return m ? m[1] : 'v0.0.0';
}

function goBuild(pkg, out) {
  const go = which('go');
  if (!go) {
    throw new Error(
      'the sandbox needs either Go (1.26 or newer), to build kube-apiserver and etcd from Go modules, ' +
        'or envtest binaries: set KUBEBUILDER_ASSETS to a folder with kube-apiserver and etcd (setup-envtest fetches them). ' +
        'Install Go from your distribution or go.dev, or set KUBEBUILDER_ASSETS, then run this again.',
    );
  }
  log(`building ${path.basename(out)} from Go modules (a cold build takes several minutes; it is cached in .cache/sandbox)`);
  const tmp = `${out}.tmp-${process.pid}`;
  const v = kubernetesVersion();
  const [major, minor] = v.slice(1).split('.');
  const stamps = ['gitVersion=' + v, 'gitMajor=' + major, 'gitMinor=' + minor, 'gitTreeState=clean'];
  const ldflags = [...BUILD_RECIPE.ldflags, ...stamps.flatMap((kv) => BUILD_RECIPE.versionPackages.flatMap((p) => ['-X', `${p}.${kv}`]))].join(' ');
  const r = spawnSync(go, ['build', ...BUILD_RECIPE.flags, '-ldflags', ldflags, '-o', tmp, pkg], { cwd: goDir, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...BUILD_RECIPE.env } });
  if (r.status !== 0) throw new Error(`go build ${pkg} failed (exit ${r.status})`);
  fs.renameSync(tmp, out);
}

/** The sandbox binary for the current sources, built once and cached. */
export function ensureSandboxBinary() {
  fs.mkdirSync(cacheDir, { recursive: true });
  const bin = path.join(cacheDir, `vnet-sandbox-${sourceHash()}`);
  if (!fs.existsSync(bin)) {
    goBuild('.', bin);
    for (const f of fs.readdirSync(cacheDir)) if (f.startsWith('vnet-sandbox-') && path.join(cacheDir, f) !== bin) fs.rmSync(path.join(cacheDir, f), { force: true });
  }
  return bin;
}

/**
 * Standalone kube-apiserver and etcd binaries built from the sandbox's module
 * set, laid out as envtest's KUBEBUILDER_ASSETS folder. The tests use them to
 * prove the no-Go path; people with setup-envtest have such a folder already.
 */
export function ensureEnvtestAssets() {
  const dir = path.join(cacheDir, `envtest-assets-${sourceHash()}`);
  if (!fs.existsSync(path.join(dir, 'kube-apiserver')) || !fs.existsSync(path.join(dir, 'etcd'))) {
    fs.mkdirSync(dir, { recursive: true });
    goBuild('./envtest/etcd', path.join(dir, 'etcd'));
    goBuild('./envtest/kube-apiserver', path.join(dir, 'kube-apiserver'));
  }
  return dir;
}

/** kubectl from PATH, else built from the same Go module set. */
export function ensureKubectl() {
  const onPath = which('kubectl');
  if (onPath) return onPath;
  const bin = path.join(cacheDir, `kubectl-${sourceHash()}`);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    goBuild('./kubectl', bin);
  }
  return bin;
}

/** What KUBEBUILDER_ASSETS / TEST_ASSET_* name, envtest style, if anything. */
export function externalAssets(env = process.env) {
  const dir = env.KUBEBUILDER_ASSETS;
  const apiserver = env.TEST_ASSET_KUBE_APISERVER ?? (dir ? path.join(dir, 'kube-apiserver') : undefined);
  const etcd = env.TEST_ASSET_ETCD ?? (dir ? path.join(dir, 'etcd') : undefined);
  if (!apiserver && !etcd) return null;
  for (const [name, p] of [['kube-apiserver', apiserver], ['etcd', etcd]]) {
    if (!p || !fs.existsSync(p)) throw new Error(`KUBEBUILDER_ASSETS is set but ${name} is not at ${p}`);
  }
  return { apiserver, etcd };
}

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file) {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

export function sandboxPaths(dir) {
  const abs = path.resolve(dir);
  return {
    dir: abs,
    kubeconfig: path.join(abs, 'kubeconfig'),
    viewer: path.join(abs, 'viewer.kubeconfig'),
    editor: path.join(abs, 'editor.kubeconfig'),
    pidFile: path.join(abs, 'sandbox.pid'),
    simPidFile: path.join(abs, 'simulator.pid'),
    ready: path.join(abs, 'ready'),
    log: path.join(abs, 'sandbox.log'),
    simLog: path.join(abs, 'simulator.log'),
    /** etcd's data (the supervisor keeps it in etcd/data). */
    etcd: path.join(abs, 'etcd'),
  };
}

export function sandboxRunning(dir) {
  const p = sandboxPaths(dir);
  return alive(readPid(p.pidFile)) && fs.existsSync(p.ready);
}

async function waitFor(check, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = check();
    if (r) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${what} did not happen within ${Math.round(timeoutMs / 1000)}s`);
}

/**
 * Starts the sandbox in the background (or reuses the one already running in
 * dir) and resolves once every CRD is Established.
 */
/**
 * Starts the sandbox of `dir`, or reuses it when it runs. `fresh`: when it has
 * to be started, start it on empty etcd data (what earlier runs stored is
 * deleted); a running sandbox is reused as it is.
 */
export async function up({ dir = '.sandbox', simulate = false, simulatorArgs = [], fresh = false } = {}) {
  const p = sandboxPaths(dir);
  fs.mkdirSync(p.dir, { recursive: true });
  let reused = false;
  if (sandboxRunning(dir)) {
    reused = true;
    log(`already running in ${p.dir} (pid ${readPid(p.pidFile)}); reusing it`);
  } else {
    if (groupAlive(readPid(p.pidFile))) await down({ dir });
    if (fresh && fs.existsSync(p.etcd)) {
      fs.rmSync(p.etcd, { recursive: true, force: true });
      log(`starting on empty data (deleted ${p.etcd})`);
    }
    const assets = externalAssets();
    const launch = assets ? ['--apiserver', assets.apiserver, '--etcd', assets.etcd] : ['--sandbox-bin', ensureSandboxBinary()];
    const out = fs.openSync(p.log, 'a');
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'sandbox-supervisor.mjs'), '--dir', p.dir, '--crds', crdDir, ...launch], { detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    fs.writeFileSync(p.pidFile, String(child.pid));
    let exited = null;
    child.on('exit', (code) => (exited = code ?? -1));
    child.unref();
    const started = Date.now();
    try {
      await waitFor(() => {
        if (exited !== null) throw new Error(`the sandbox exited with code ${exited}; last lines of ${p.log}:\n${tail(p.log)}`);
        return fs.existsSync(p.ready);
      }, 120_000, 'sandbox readiness');
    } catch (err) {
      await down({ dir });
      throw err;
    }
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s (${p.dir})`);
  }
  if (simulate && !alive(readPid(p.simPidFile))) {
    const out = fs.openSync(p.simLog, 'a');
    const sim = spawn(process.execPath, [path.join(root, 'test', 'simulator', 'main.ts'), '--kubeconfig', p.kubeconfig, ...simulatorArgs], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    fs.writeFileSync(p.simPidFile, String(sim.pid));
    sim.unref();
    log(`KubeVirt network simulator started (pid ${sim.pid}, log ${p.simLog})`);
  }
  return { ...p, reused };
}

function tail(file, n = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

function groupAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return alive(pid);
  }
}

function signalGroup(pid, sig) {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {}
  }
}

/**
 * Stops a detached process and everything in its process group (the
 * supervisor's etcd and kube-apiserver too, even when the supervisor itself
 * already died).
 */
async function stopPid(pid, what) {
  if (!groupAlive(pid)) return false;
  signalGroup(pid, 'SIGTERM');
  try {
    await waitFor(() => !groupAlive(pid), 20_000, `${what} exit`);
  } catch {
    signalGroup(pid, 'SIGKILL');
    await waitFor(() => !groupAlive(pid), 5_000, `${what} exit after SIGKILL`);
  }
  return true;
}

/** Stops the simulator and the sandbox of dir; leaves no process behind. */
export async function down({ dir = '.sandbox' } = {}) {
  const p = sandboxPaths(dir);
  const sim = await stopPid(readPid(p.simPidFile), 'simulator');
  const api = await stopPid(readPid(p.pidFile), 'sandbox');
  fs.rmSync(p.simPidFile, { force: true });
  fs.rmSync(p.pidFile, { force: true });
  fs.rmSync(p.ready, { force: true });
  return { stopped: sim || api };
}

/** Stops only the simulator of dir. */
export async function stopSimulator({ dir = '.sandbox' } = {}) {
  const p = sandboxPaths(dir);
  await stopPid(readPid(p.simPidFile), 'simulator');
  fs.rmSync(p.simPidFile, { force: true });
}
