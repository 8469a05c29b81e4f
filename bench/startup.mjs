#!/usr/bin/env node
// Start-up benchmark of the packaged kubectl-vnet, side by side with kubectl.
//
//   node bench/startup.mjs [--runs 30] [--bin PATH] [--kubeconfig FILE --namespace NS --vm NAME] [--json FILE]
//                          [--also LABEL=PATH ...]
//
// Without --bin it unpacks the host platform's archive from release/ (and
// builds it with scripts/release.mjs when it is missing). Without
// --kubeconfig it starts a sandbox with the KubeVirt simulator in
// .cache/bench-sandbox, creates a running VM with a secondary interface,
// and stops the sandbox at the end.
//
// `--also LABEL=PATH` (repeatable) adds another build of the CLI (an
// executable, or a release archive that is unpacked) whose `status VM` runs
// in the same rounds as the others, so two builds are compared side by side
// under the same load (a variant of the kubeconfig reader, say).
//
// Every command runs once per round, in turn, so that machine load falls on
// all of them alike; the first rounds are warm-up. It reports the median and
// the 90th percentile wall time of each, and the ratio of medians to the
// kubectl command of its group. The budget: packaged `version` within 1.5x
// of `kubectl version --client`, `status VM` within 1.5x of `kubectl get vm VM -o json`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const runs = Number(opt('runs', '30'));
const warmup = Number(opt('warmup', '3'));

function log(line) {
  process.stderr.write(`bench: ${line}\n`);
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(dir, cmd);
    if (dir && existsSync(f)) return f;
  }
  return null;
}

/** The packaged binary: --bin, else the host archive of release/ unpacked (built if missing). */
function packagedBinary(tmp) {
  const given = opt('bin');
  if (given) return path.resolve(given);
  const goos = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform];
  const goarch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  const name = `kubectl-vnet_${pjson.version}_${goos}_${goarch}.${goos === 'windows' ? 'zip' : 'tar.gz'}`;
  const archive = path.join(root, 'release', name);
  if (!existsSync(archive)) {
    log(`${path.relative(root, archive)} is missing: building it with scripts/release.mjs`);
    execFileSync(process.execPath, [path.join(root, 'scripts', 'release.mjs'), '--platforms', `${goos}-${goarch}`, '--no-manifest'], { stdio: 'inherit' });
  }
  return unpackArchive(archive, path.join(tmp, 'bin'));
}

/** Unpacks a release archive into `dir` (a new folder); returns the executable's path. */
function unpackArchive(archive, dir) {
  mkdirSync(dir, { recursive: true });
  const name = path.basename(archive);
  // Unpacked by a child process: this process stays small. Node starts each
  // measured command by forking this one, and a fork costs in proportion to
  // what the parent has mapped; holding the archive's 100 MB here added about
  // 20 ms to every command measured, kubectl's and node's alike, which made
  // the ratios look better than they are.
  const unpack = `
    import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
    import path from 'node:path';
    import { readArchive } from ${JSON.stringify(pathToFileURL(path.join(root, 'scripts', 'archive.mjs')).href)};
    const [name, archive, dir] = process.argv.slice(1);
    for (const e of readArchive(name, readFileSync(archive))) {
      writeFileSync(path.join(dir, e.name), e.data);
      chmodSync(path.join(dir, e.name), e.mode || 0o755);
    }`;
  execFileSync(process.execPath, ['--input-type=module', '-e', unpack, name, archive, dir], { stdio: 'inherit' });
  return path.join(dir, name.endsWith('.zip') ? 'kubectl-vnet.exe' : 'kubectl-vnet');
}

/** The --also builds: [{ label, bin }]. */
function otherBuilds(tmp) {
  return args.flatMap((a, i) => (a === '--also' ? [args[i + 1]] : [])).map((v, n) => {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new Error(`--also wants LABEL=PATH, not ${v}`);
    const file = path.resolve(v.slice(eq + 1));
    const bin = /\.(tar\.gz|zip)$/.test(file) ? unpackArchive(file, path.join(tmp, `also-${n}`)) : file;
    return { label: v.slice(0, eq), bin };
  });
}

function time(cmd, argv, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function quantile(sorted, q) {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** Runs each case `runs` times round-robin; returns rows with median, p90 and ratio to the group's baseline. */
function measure(cases) {
  const samples = cases.map(() => []);
  for (let round = 0; round < warmup + runs; round++) {
    cases.forEach((c, i) => {
      const ms = time(c.cmd, c.argv, c.env);
      if (round >= warmup) samples[i].push(ms);
    });
  }
  const rows = cases.map((c, i) => {
    const s = [...samples[i]].sort((a, b) => a - b);
    return { label: c.label, median: quantile(s, 0.5), p90: quantile(s, 0.9) };
  });
  const base = rows[0].median;
  return rows.map((r) => ({ ...r, ratio: r.median / base }));
}

function table(title, rows) {
  let out = `${title}\n\n| command | median | p90 | vs ${rows[0].label} |\n|---|---:|---:|---:|\n`;
  for (const r of rows) out += `| \`${r.label}\` | ${r.median.toFixed(1)} ms | ${r.p90.toFixed(1)} ms | ${r.ratio.toFixed(2)}x |\n`;
  return out;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vnet-bench-'));
let sandboxDir;
let down;
try {
  const kubectl = which('kubectl');
  if (!kubectl) throw new Error('kubectl is not on PATH');
  const bin = packagedBinary(tmp);
  const also = otherBuilds(tmp);
  // kubectl finds the plugin on PATH, as after a krew install.
  const env = { ...process.env, NO_COLOR: '1', PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH}` };
  const kubectlVersion = execFileSync(kubectl, ['version', '--client'], { encoding: 'utf8' }).split('\n')[0];
  log(`packaged ${bin}; ${kubectlVersion}; node ${process.version}; ${os.cpus().length} CPUs; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const client = measure([
    { label: 'kubectl version --client', cmd: kubectl, argv: ['version', '--client'], env },
    { label: 'node -e 0', cmd: process.execPath, argv: ['-e', '0'], env },
    { label: 'kubectl-vnet version', cmd: bin, argv: ['version'], env },
    { label: 'kubectl-vnet version (through oclif: KUBECTL_VNET_NO_FAST_PATH=1)', cmd: bin, argv: ['version'], env: { ...env, KUBECTL_VNET_NO_FAST_PATH: '1' } },
    { label: 'kubectl-vnet --help', cmd: bin, argv: ['--help'], env },
    { label: 'kubectl vnet version (through kubectl)', cmd: kubectl, argv: ['vnet', 'version'], env },
    { label: 'node bin/kubectl-vnet.js version (npm install)', cmd: process.execPath, argv: [path.join(root, 'bin', 'kubectl-vnet.js'), 'version'], env },
  ]);

  // The cluster part.
  let kubeconfig = opt('kubeconfig');
  let namespace = opt('namespace');
  let vm = opt('vm');
  if (!kubeconfig) {
    const lib = await import('../scripts/sandbox-lib.mjs');
    sandboxDir = path.join(root, '.cache', 'bench-sandbox');
    const sb = await lib.up({ dir: sandboxDir, simulatorArgs: ['--step-ms', '100'] });
    down = () => lib.down({ dir: sandboxDir });
    kubeconfig = sb.kubeconfig;
    namespace = 'bench';
    vm = 'bench-vm';
    const objects = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'blue-net', namespace },
        spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }) },
      },
      {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachine',
        metadata: { name: vm, namespace },
        spec: {
          runStrategy: 'Always',
          template: {
            spec: {
              domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }] }, resources: { requests: { memory: '1Gi' } } },
              networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }],
            },
          },
        },
      },
    ];
    execFileSync(kubectl, ['apply', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n'), env: { ...env, KUBECONFIG: kubeconfig }, stdio: ['pipe', 'ignore', 'inherit'] });
    // Wait for the simulator to start the VMI, so that status does its whole work.
    const end = Date.now() + 60_000;
    for (;;) {
      const r = spawnSync(kubectl, ['get', 'vmi', vm, '-n', namespace, '-o', 'jsonpath={.status.phase}'], { env: { ...env, KUBECONFIG: kubeconfig }, encoding: 'utf8' });
      if (r.stdout === 'Running') break;
      if (Date.now() > end) throw new Error(`VMI ${vm} did not reach Running (simulator running?)`);
      await new Promise((res) => setTimeout(res, 300));
    }
  }
  const cenv = { ...env, KUBECONFIG: kubeconfig };
  const cluster = measure([
    { label: `kubectl get vm ${vm} -o json`, cmd: kubectl, argv: ['get', 'vm', vm, '-n', namespace, '-o', 'json'], env: cenv },
    { label: `kubectl-vnet status ${vm}`, cmd: bin, argv: ['status', vm, '-n', namespace], env: cenv },
    { label: `kubectl vnet status ${vm}`, cmd: kubectl, argv: ['vnet', 'status', vm, '-n', namespace], env: cenv },
    { label: `kubectl-vnet status ${vm} -o json`, cmd: bin, argv: ['status', vm, '-n', namespace, '-o', 'json'], env: cenv },
    ...also.map((b) => ({ label: `kubectl-vnet status ${vm} (${b.label})`, cmd: b.bin, argv: ['status', vm, '-n', namespace], env: cenv })),
  ]);

  // The same user through an exec credential plugin (as EKS, GKE and AKS kubeconfigs have): the
  // plugin here is /bin/cat of a prepared ExecCredential, so what differs is the client's own cost
  // (kubectl-vnet then loads @kubernetes/client-node, which runs the plugin).
  let plugin = [];
  if (existsSync('/bin/cat')) {
    const { parse } = await import('yaml');
    const doc = parse(readFileSync(kubeconfig, 'utf8'));
    const ctx = doc.contexts.find((c) => c.name === doc['current-context']).context;
    const token = doc.users.find((u) => u.name === ctx.user).user.token;
    const cred = path.join(tmp, 'exec-credential.json');
    writeFileSync(cred, JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } }));
    const execKubeconfig = path.join(tmp, 'exec-kubeconfig');
    writeFileSync(
      execKubeconfig,
      JSON.stringify({
        ...doc,
        users: [{ name: ctx.user, user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/cat', args: [cred], interactiveMode: 'Never' } } }],
      }),
    );
    const penv = { ...env, KUBECONFIG: execKubeconfig };
    plugin = measure([
      { label: `kubectl get vm ${vm} -o json (exec plugin)`, cmd: kubectl, argv: ['get', 'vm', vm, '-n', namespace, '-o', 'json'], env: penv },
      { label: `kubectl-vnet status ${vm} (exec plugin)`, cmd: bin, argv: ['status', vm, '-n', namespace], env: penv },
      ...also.map((b) => ({ label: `kubectl-vnet status ${vm} (exec plugin, ${b.label})`, cmd: b.bin, argv: ['status', vm, '-n', namespace], env: penv })),
    ]);
  }

  const report =
    `${table(`Without a cluster (${runs} runs each, interleaved, after ${warmup} warm-up rounds)`, client)}\n` +
    `${table(`Against the sandbox (one VM with a VMI, a launcher pod and a secondary interface)`, cluster)}` +
    (plugin.length > 0 ? `\n${table('The same, the user\'s token from an exec credential plugin', plugin)}` : '');
  process.stdout.write(report);
  const version = client.find((r) => r.label === 'kubectl-vnet version');
  const status = cluster[1];
  process.stdout.write(
    `\nbudget: packaged version ${version.ratio.toFixed(2)}x of kubectl version --client (limit 1.50x): ${version.ratio <= 1.5 ? 'met' : 'NOT met'}\n` +
      `budget: status ${status.ratio.toFixed(2)}x of kubectl get vm -o json (limit 1.50x): ${status.ratio <= 1.5 ? 'met' : 'NOT met'}\n`,
  );
  const json = opt('json');
  if (json) writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), runs, node: process.version, kubectl: kubectlVersion, cpus: os.cpus().length, client, cluster, plugin }, null, 2));
} finally {
  if (down) await down();
  rmSync(tmp, { recursive: true, force: true });
}
