// Starts and stops the sandbox: a real kube-apiserver and etcd (one Go
// process built from test/sandbox), KubeVirt's own virt-controller and virt-api
// (built from test/kubevirt) and the node-side simulator (test/simulator), or
// with --no-kubevirt the bare API server. Used by `npm run sandbox` and by the
// integration test set-up.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const goDir = path.join(root, 'test', 'sandbox');
/** KubeVirt's virt-controller and virt-api (and the sandbox's PKI helper): a Go module of its own. */
const kubevirtDir = path.join(root, 'test', 'kubevirt');
const cacheDir = process.env.VNET_SANDBOX_CACHE ? path.resolve(process.env.VNET_SANDBOX_CACHE) : path.join(root, '.cache', 'sandbox');
const crdDir = path.join(root, 'test', 'crds');
/** What virt-operator installs (CRDs, RBAC, webhooks), generated from the KubeVirt module. */
export const kubevirtManifestDir = path.join(kubevirtDir, 'generated');

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

/** The hash of a Go module's sources (go.mod, go.sum, every .go file). */
function moduleHash(h, moduleDir) {
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.go$|^go\.(mod|sum)$/.test(e.name)) h.update(path.relative(moduleDir, p)).update(fs.readFileSync(p));
    }
  };
  walk(moduleDir);
  return h;
}

function sourceHash() {
  const h = moduleHash(createHash('sha256'), goDir);
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

function requireGo(what) {
  const go = which('go');
  if (go) return go;
  const kubevirt = what.startsWith('KubeVirt');
  throw new Error(
    `the sandbox needs Go (1.26 or newer) to build ${what} from Go modules. Install Go from your distribution or go.dev, then run this again` +
      (kubevirt
        ? '; without Go, `npm run sandbox -- up --no-kubevirt` runs the bare API server (no KubeVirt) from envtest binaries in KUBEBUILDER_ASSETS.'
        : '; or, for the bare API server (--no-kubevirt), set KUBEBUILDER_ASSETS to a folder with kube-apiserver and etcd (setup-envtest fetches them).'),
  );
}

function goBuild(pkg, out) {
  const go = requireGo('kube-apiserver and etcd');
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

/** The KubeVirt version the sandbox runs, read from test/kubevirt/go.mod. */
export function kubevirtVersion() {
  const m = /^\s*kubevirt\.io\/kubevirt (v[0-9][^\s]*)/m.exec(fs.readFileSync(path.join(kubevirtDir, 'go.mod'), 'utf8'));
  return m ? m[1] : 'v0.0.0';
}

/** How KubeVirt's binaries are built: as KubeVirt's own build stamps them (pkg/version), no cgo. */
const KUBEVIRT_RECIPE = {
  flags: ['-trimpath'],
  ldflags: ['-s', '-w'],
  versionPackage: 'kubevirt.io/client-go/version',
  env: { CGO_ENABLED: '0' },
  programs: { 'virt-controller': 'kubevirt.io/kubevirt/cmd/virt-controller', 'virt-api': 'kubevirt.io/kubevirt/cmd/virt-api', pki: './cmd/pki' },
};

/**
 * virt-controller, virt-api and the PKI helper of the KubeVirt version in
 * test/kubevirt/go.mod, built once per recipe into .cache/sandbox/kubevirt-HASH/.
 * A cold build takes 8-11 minutes on two cores (it compiles KubeVirt and its
 * Kubernetes libraries); a warm one is a stat.
 */
export function ensureKubevirtBinaries() {
  const h = moduleHash(createHash('sha256'), kubevirtDir).update(JSON.stringify(KUBEVIRT_RECIPE));
  const dir = path.join(cacheDir, `kubevirt-${h.digest('hex').slice(0, 16)}`);
  const names = Object.keys(KUBEVIRT_RECIPE.programs);
  if (names.every((n) => fs.existsSync(path.join(dir, n)))) return dir;
  const go = requireGo(`KubeVirt ${kubevirtVersion()} (virt-controller and virt-api)`);
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const v = kubevirtVersion();
  const stamps = [`gitVersion=${v}`, 'gitTreeState=clean'];
  const ldflags = [...KUBEVIRT_RECIPE.ldflags, ...stamps.flatMap((kv) => ['-X', `${KUBEVIRT_RECIPE.versionPackage}.${kv}`])].join(' ');
  log(`building KubeVirt ${v} virt-controller and virt-api from Go modules (a cold build takes 8-11 minutes on two cores; cached in .cache/sandbox)`);
  const started = Date.now();
  const r = spawnSync(go, ['build', ...KUBEVIRT_RECIPE.flags, '-ldflags', ldflags, '-o', tmp + path.sep, ...Object.values(KUBEVIRT_RECIPE.programs)], {
    cwd: kubevirtDir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...KUBEVIRT_RECIPE.env },
  });
  if (r.status !== 0) throw new Error(`go build of KubeVirt ${v} failed (exit ${r.status})`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  for (const f of fs.readdirSync(cacheDir)) if (f.startsWith('kubevirt-') && path.join(cacheDir, f) !== dir && !f.includes('.tmp-')) fs.rmSync(path.join(cacheDir, f), { recursive: true, force: true });
  log(`built KubeVirt ${v} in ${Math.round((Date.now() - started) / 1000)} s`);
  return dir;
}

/** The sandbox binary for the current sources, built once and cached. */
export function ensureSandboxBinary() {
  fs.mkdirSync(cacheDir, { recursive: true });
  const bin = path.join(cacheDir, `vnet-sandbox-${sourceHash()}`);
  if (!fs.existsSync(bin)) {
    goBuild('.', bin);
    for (const f of fs.readdirSync(cacheDir)) if (f.startsWith('vnet-sandbox-') && path.join(cacheDir, f) !== bin && !f.includes('.tmp-')) fs.rmSync(path.join(cacheDir, f), { force: true });
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
    ready: path.join(abs, 'ready'),
    /** The mode it was started in: "kubevirt vX.Y.Z" or "bare". */
    mode: path.join(abs, 'mode'),
    /** Written by the supervisor when a process it runs died (which, and where its log is). */
    failed: path.join(abs, 'failed'),
    log: path.join(abs, 'sandbox.log'),
    simLog: path.join(abs, 'simulator.log'),
    /** etcd's data (the supervisor keeps it in etcd/data). */
    etcd: path.join(abs, 'etcd'),
  };
}

export function sandboxRunning(dir) {
  const p = sandboxPaths(dir);
  return isSupervisor(readPid(p.pidFile), p.dir) && fs.existsSync(p.ready);
}

/**
 * Whether pid is this folder's supervisor (after a reboot the pid file may name another process).
 * Where /proc is not there to tell, a live process is taken for it.
 */
function isSupervisor(pid, dir) {
  if (!alive(pid)) return false;
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.some((a) => a.endsWith('sandbox-supervisor.mjs')) && cmd.includes(dir);
  } catch {
    return true;
  }
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
 * Starts the sandbox of `dir`, or reuses it when it runs, and resolves once it
 * is ready. `kubevirt` (the default): KubeVirt's own virt-controller and
 * virt-api and the node-side simulator run with it, and the demo world is
 * made; without it, the bare API server with the CRDs. `fresh`: when it has
 * to be started, start it on empty etcd data (what earlier runs stored is
 * deleted); a running sandbox is reused as it is.
 */
export async function up({ dir = '.sandbox', kubevirt = true, simulatorArgs = [], fresh = false } = {}) {
  const p = sandboxPaths(dir);
  fs.mkdirSync(p.dir, { recursive: true });
  // One `up` at a time per folder: a second one waits for the first (which may be building for minutes).
  const release = await lockFolder(p);
  try {
    return await upLocked(p, { kubevirt, simulatorArgs, fresh });
  } finally {
    release();
  }
}

/** The mode a sandbox runs in, as recorded in DIR/mode. */
function modeOf(kubevirt) {
  return kubevirt ? `kubevirt ${kubevirtVersion()}` : 'bare';
}

async function upLocked(p, { kubevirt, simulatorArgs, fresh }) {
  const dir = p.dir;
  if (sandboxRunning(dir)) {
    const mode = readMode(p);
    if (mode && mode !== modeOf(kubevirt)) {
      throw new Error(`the sandbox in ${p.dir} runs ${mode === 'bare' ? 'without KubeVirt' : mode}, not ${kubevirt ? 'with KubeVirt' : 'without it (--no-kubevirt)'}; stop it first: npm run sandbox -- down --dir ${dir}`);
    }
    log(`already running in ${p.dir} (pid ${readPid(p.pidFile)}); reusing it`);
    return { ...p, reused: true };
  }
  if (groupAlive(readPid(p.pidFile))) await down({ dir });
  if (fresh && fs.existsSync(p.etcd)) {
    fs.rmSync(p.etcd, { recursive: true, force: true });
    log(`starting on empty data (deleted ${p.etcd})`);
  }
  const assets = externalAssets();
  const launch = assets ? ['--apiserver', assets.apiserver, '--etcd', assets.etcd] : ['--sandbox-bin', ensureSandboxBinary()];
  const kv = kubevirt ? ['--kubevirt', ensureKubevirtBinaries(), '--kubevirt-version', kubevirtVersion(), '--simulator-args', JSON.stringify(simulatorArgs)] : [];
  fs.rmSync(p.failed, { force: true });
  fs.writeFileSync(p.mode, `${modeOf(kubevirt)}\n`);
  const out = fs.openSync(p.log, 'a');
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'sandbox-supervisor.mjs'), '--dir', p.dir, '--crds', crdDir, '--kubevirt-manifests', kubevirtManifestDir, ...launch, ...kv], { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  fs.writeFileSync(p.pidFile, String(child.pid));
  let exited = null;
  child.on('exit', (code) => (exited = code ?? -1));
  child.unref();
  const started = Date.now();
  try {
    await waitFor(() => {
      if (exited !== null) throw new Error(`the sandbox exited with code ${exited}${failure(p)}; last lines of ${p.log}:\n${tail(p.log)}`);
      return fs.existsSync(p.ready);
    }, 240_000, 'sandbox readiness');
  } catch (err) {
    await down({ dir });
    throw err;
  }
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s (${p.dir}${kubevirt ? `, KubeVirt ${kubevirtVersion()}` : ', no KubeVirt'})`);
  return { ...p, reused: false };
}

function readMode(p) {
  try {
    return fs.readFileSync(p.mode, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Takes DIR/up.lock (created exclusively, holding this process's pid); waits while another live
 * process holds it, and takes over a lock whose holder is gone. Returns the release function.
 */
async function lockFolder(p) {
  const lock = path.join(p.dir, 'up.lock');
  let said = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = readPid(lock);
    if (!alive(holder)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (!said) log(`another process (pid ${holder}) is starting the sandbox in ${p.dir}; waiting for it`);
    said = true;
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** What the supervisor recorded when one of its processes died (`DIR/failed`), as a clause. */
export function failure(p) {
  try {
    return ` (${fs.readFileSync(p.failed, 'utf8').trim()})`;
  } catch {
    return '';
  }
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

/** Stops the sandbox of dir (the supervisor and everything it runs); leaves no process behind. */
export async function down({ dir = '.sandbox' } = {}) {
  const p = sandboxPaths(dir);
  const pid = readPid(p.pidFile);
  // A pid file that names another process (after a reboot) is stale: nothing of ours to stop.
  const stopped = isSupervisor(pid, p.dir) || !fs.existsSync('/proc') ? await stopPid(pid, 'sandbox') : false;
  // A simulator started on its own by an older version of this script.
  const oldSim = path.join(p.dir, 'simulator.pid');
  if (fs.existsSync(oldSim)) {
    await stopPid(readPid(oldSim), 'simulator');
    fs.rmSync(oldSim, { force: true });
  }
  fs.rmSync(p.pidFile, { force: true });
  fs.rmSync(p.ready, { force: true });
  return { stopped };
}
