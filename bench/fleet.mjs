#!/usr/bin/env node
// Benchmark (not a test): one NIC hot-plugged into N running VMs on the sandbox (KubeVirt's own
// virt-controller and virt-api), three ways, side by side in one run:
//   loop   what users do today: a bash loop of `kubectl patch --type=json`, one VM after the other
//   xargs  the same patch through `xargs -P PARALLEL`
//   vnet   `kubectl vnet hotplug add -l SELECTOR --parallel PARALLEL`
// For each: wall time, API requests (kubectl -v=6 and vnet --debug print one line per request),
// peak memory (the resident memory of all the processes of the run, summed, sampled every 50 ms),
// and that every VM got the NIC. Each repetition adds a NIC of its own name (the methods take turns
// in a rotating order); between runs the cluster settles (every VMI has the NIC, attached), so
// KubeVirt's work for one run does not land in the next. Medians over the repetitions, and the
// ratios to vnet.
//
//   node bench/fleet.mjs [--n 1000] [--parallel 10] [--reps 1] [--only loop,xargs,vnet]
//                        [--dir .cache/sb-bench-fleet] [--keep]
//
// It starts its own sandbox in --dir (or reuses one running there), seeds the VMs once (running,
// labelled bench=fleet, namespace bench-fleet; a re-run with the same N reuses them), and stops the
// sandbox at the end unless --keep is given. Needs kubectl on PATH and the built CLI (npm run build).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { down, up } from '../scripts/sandbox-lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    parallel: { type: 'string', default: '10' },
    reps: { type: 'string', default: '1' },
    only: { type: 'string', default: 'loop,xargs,vnet' },
    dir: { type: 'string', default: path.join(root, '.cache', 'sb-bench-fleet') },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(opt.n);
const P = Number(opt.parallel);
const REPS = Number(opt.reps);
const METHODS = opt.only.split(',');
const NS = 'bench-fleet';
const SELECTOR = 'bench=fleet';
const log = (s) => process.stderr.write(`bench: ${new Date().toISOString().slice(11, 19)} ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

/** A running VM with the pod network only. */
function vm(name) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: NS, labels: { bench: 'fleet' } },
    spec: {
      runStrategy: 'Always',
      template: { spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] }, resources: { requests: { memory: '128Mi' } } }, networks: [{ name: 'default', pod: {} }] } },
    },
  };
}

async function listAll(api, kind) {
  return (await api.list('kubevirt.io/v1', kind, NS)).items;
}

/** Polls until `done(vms, vmis)` holds (or the time is up), saying how far it is. */
async function until(api, what, done, target = N, timeoutMs = 30 * 60_000) {
  const start = Date.now();
  let lastSaid = 0;
  for (;;) {
    const [vms, vmis] = await Promise.all([listAll(api, 'VirtualMachine'), listAll(api, 'VirtualMachineInstance')]);
    const n = done(vms, vmis);
    if (n >= target) return;
    if (Date.now() - lastSaid > 15_000) {
      log(`${what}: ${n}/${target}`);
      lastSaid = Date.now();
    }
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: only ${n}/${target} after ${timeoutMs / 1000}s`);
    await sleep(2000);
  }
}

const attached = (vmi, iface) => (vmi.status?.interfaces ?? []).some((i) => i.name === iface && i.interfaceName);
const running = (vmi) => vmi.status?.phase === 'Running' && attached(vmi, 'default');

async function seed(api) {
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch(() => undefined);
  await api
    .create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'blue-net', namespace: NS }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }) } })
    .catch(() => undefined);
  const have = new Set((await listAll(api, 'VirtualMachine')).map((v) => v.metadata.name));
  const todo = Array.from({ length: N }, (_, i) => `vm-${String(i).padStart(5, '0')}`).filter((n) => !have.has(n));
  log(`seeding ${todo.length} running VMs (${have.size} there already)`);
  await pool(todo, 8, (name) => api.create(vm(name)));
  await until(api, 'VMIs running', (_, vmis) => vmis.filter(running).length);
}

/** The summed resident memory (bytes) of the processes in a process group. */
function groupRss(pgid) {
  let sum = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      sum += Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** Runs a shell command in a process group of its own: wall time, peak memory of the group, output. */
function measure(command, env) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-c', command], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, groupRss(child.pid))), 50);
    child.on('close', (code) => {
      clearInterval(sampler);
      resolve({ code, seconds: Number(process.hrtime.bigint() - started) / 1e9, peakMiB: peak / 2 ** 20, stdout, stderr });
    });
  });
}

const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;

function patchOf(iface) {
  return JSON.stringify([
    { op: 'add', path: '/spec/template/spec/domain/devices/interfaces/-', value: { name: iface, bridge: {} } },
    { op: 'add', path: '/spec/template/spec/networks/-', value: { name: iface, multus: { networkName: 'blue-net' } } },
  ]);
}

/** The shell command of each method, adding interface `iface` to every selected VM. */
function commandOf(method, iface) {
  const list = `kubectl get vm -n ${NS} -l ${SELECTOR} -o name -v=6`;
  const patch = `kubectl patch -n ${NS} --type=json -p ${q(patchOf(iface))} -v=6`;
  const vnet = `${q(process.execPath)} ${q(path.join(root, 'bin', 'kubectl-vnet.js'))}`;
  switch (method) {
    case 'loop':
      return `for vm in $(${list}); do ${patch} "$vm"; done`;
    case 'xargs':
      return `${list} | xargs -P ${P} -I@VM@ ${patch} @VM@`;
    case 'vnet':
      return `${vnet} hotplug add -l ${SELECTOR} -n ${NS} --network blue-net --name ${iface} --parallel ${P} --debug`;
  }
  throw new Error(`unknown method ${method}`);
}

/** Requests made: kubectl -v=6 logs one round_trippers line per response, vnet --debug one "debug: VERB" line. */
function requestsOf(stderr) {
  return stderr.split('\n').filter((l) => /round_trippers\.go:\d+\] (GET|PATCH|POST|PUT|DELETE) https?:/.test(l) || /^debug: (GET|PATCH|POST|PUT|DELETE) \//.test(l)).length;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const sb = await up({ dir: opt.dir, kubevirt: true });
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-bench-kubecache-'));
try {
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfig);
  const api = KubernetesObjectApi.makeApiClient(kc);
  await seed(api);
  const env = { KUBECONFIG: sb.kubeconfig, KUBECACHEDIR: cacheDir, NO_COLOR: '1' };
  // A warm discovery cache, as a user's is.
  await measure(`kubectl get vm -n ${NS} -o name > /dev/null`, env);
  const runs = [];
  for (let rep = 1; rep <= REPS; rep++) {
    const order = METHODS.map((_, i) => METHODS[(i + rep - 1) % METHODS.length]);
    for (const method of order) {
      const iface = `${method[0]}${rep}-${Date.now().toString(36).slice(-4)}`;
      log(`rep ${rep}: ${method} adds ${iface}`);
      const r = await measure(commandOf(method, iface), env);
      const vms = await listAll(api, 'VirtualMachine');
      const got = vms.filter((v) => v.metadata.labels?.bench === 'fleet' && v.spec.template.spec.networks.some((n) => n.name === iface)).length;
      const run = { rep, method, exit: r.code, seconds: Number(r.seconds.toFixed(1)), requests: requestsOf(r.stderr), peakMiB: Number(r.peakMiB.toFixed(0)), vmsWithNic: got };
      log(JSON.stringify(run));
      if (r.code !== 0 || got !== N) process.stderr.write(r.stderr.split('\n').filter((l) => !/round_trippers|^debug: /.test(l)).slice(-20).join('\n') + '\n');
      runs.push(run);
      await until(api, `KubeVirt attaches ${iface}`, (_, vmis) => vmis.filter((i) => attached(i, iface)).length, got);
    }
  }
  const summary = METHODS.map((method) => {
    const mine = runs.filter((r) => r.method === method);
    return { method, seconds: median(mine.map((r) => r.seconds)), requests: median(mine.map((r) => r.requests)), peakMiB: median(mine.map((r) => r.peakMiB)), allVMs: mine.every((r) => r.vmsWithNic === N && r.exit === 0) };
  });
  const vnet = summary.find((s) => s.method === 'vnet');
  for (const s of summary) if (vnet) s.timesVnet = Number((s.seconds / vnet.seconds).toFixed(1));
  process.stdout.write(`${JSON.stringify({ n: N, parallel: P, reps: REPS, cpus: os.cpus().length, kubectl: 'on PATH', summary, runs }, null, 2)}\n`);
  process.stdout.write(
    ['', '| method | wall time (s, median) | API requests | peak memory (MiB) | every VM got the NIC | time / vnet |', '|---|---:|---:|---:|---|---:|', ...summary.map((s) => `| ${s.method} | ${s.seconds} | ${s.requests} | ${s.peakMiB} | ${s.allVMs ? 'yes' : 'no'} | ${s.timesVnet ?? ''} |`), ''].join('\n'),
  );
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  if (!opt.keep) await down({ dir: opt.dir });
}
