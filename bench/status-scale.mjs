#!/usr/bin/env node
// Benchmark (not a test): `kubectl vnet status -A -o json` against
// `kubectl get vm,vmi,pods -A -o json` on the same N VMs, VMIs and
// virt-launcher pods in the sandbox. Reports median wall time, the ratio,
// peak RSS (from /usr/bin/time -v) and the number of API requests (vnet
// --debug prints one line per request; kubectl -v=6 one per round trip).
//
//   node bench/status-scale.mjs [--n 5000] [--runs 5] [--namespaces 10] [--dir .cache/sb-bench-status] [--keep]
//
// It starts its own sandbox in --dir (or reuses one running there), seeds the
// objects once (objects labelled bench=status-scale; a re-run with the same N
// reuses them), and stops the sandbox at the end unless --keep is given.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { down, ensureKubectl, up } from '../scripts/sandbox-lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '5' },
    namespaces: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    dir: { type: 'string', default: path.join(root, '.cache', 'sb-bench-status') },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(opt.n);
const RUNS = Number(opt.runs);
const NS_COUNT = Math.max(1, Math.min(Number(opt.namespaces), N));
const CONC = Number(opt.concurrency);
const log = (s) => process.stderr.write(`bench: ${s}\n`);

const hash = async (s) => 'pod' + (await import('node:crypto')).createHash('sha256').update(s).digest('hex').slice(0, 11);

async function pool(items, n, fn) {
  let i = 0;
  const workers = Array.from({ length: n }, async () => {
    while (i < items.length) {
      const k = i++;
      await fn(items[k], k);
    }
  });
  await Promise.all(workers);
}

function mac(i, nic) {
  const b = [0x02, nic, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 0x01];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** One VM with a pod network and one bridge secondary, its VMI (status as KubeVirt reports it) and its launcher pod. */
async function seedOne(api, ns, i) {
  const name = `vm-${String(i).padStart(5, '0')}`;
  const labels = { bench: 'status-scale', app: `app-${i % 7}` };
  const ifaces = [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, macAddress: mac(i, 0xb) }];
  const nets = [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue' } }];
  const spec = { domain: { devices: { interfaces: ifaces }, resources: { requests: { memory: '128Mi' } } }, networks: nets };
  await api.create({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace: ns, labels }, spec: { runStrategy: 'Manual', template: { metadata: { labels }, spec } } });
  const ip = `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
  const vmi = await api.create({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace: ns, labels },
    spec,
    status: {
      phase: 'Running',
      nodeName: `node-${i % 3}`,
      interfaces: [
        { name: 'default', mac: mac(i, 0xa), ipAddress: ip, ipAddresses: [ip], interfaceName: 'eth0', infoSource: 'domain, guest-agent', podInterfaceName: 'eth0', linkState: 'up' },
        { name: 'blue', mac: mac(i, 0xb), interfaceName: 'eth1', infoSource: 'domain, guest-agent, multus-status', podInterfaceName: await hash('blue'), linkState: 'up' },
      ],
    },
  });
  const uid = vmi.metadata.uid;
  const netStatus = [
    { name: 'kindnet', interface: 'eth0', ips: [ip], mac: mac(i, 0xc), default: true, dns: {} },
    { name: `${ns}/blue`, interface: await hash('blue'), ips: [], mac: mac(i, 0xb), dns: {} },
  ];
  await api.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `virt-launcher-${name}-abcde`,
      namespace: ns,
      labels: { ...labels, 'kubevirt.io': 'virt-launcher', 'kubevirt.io/created-by': uid },
      annotations: {
        'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'blue', namespace: ns, interface: await hash('blue'), mac: mac(i, 0xb) }]),
        'k8s.v1.cni.cncf.io/network-status': JSON.stringify(netStatus),
      },
      ownerReferences: [{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', name, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { nodeName: `node-${i % 3}`, containers: [{ name: 'compute', image: 'quay.io/kubevirt/virt-launcher:v1.9.0' }] },
  });
}

/**
 * The API client with every call retried while the server answers 429: a
 * sandbox that was just (re)started says "storage is (re)initializing" for
 * its CRDs for a few seconds after it reports ready.
 */
function patient(api) {
  return new Proxy(api, {
    get(target, prop) {
      const v = target[prop];
      if (typeof v !== 'function') return v;
      return async (...args) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await v.apply(target, args);
          } catch (err) {
            if (err?.code !== 429 || attempt >= 60) throw err;
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      };
    },
  });
}

async function seed(kubeconfig) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = patient(KubernetesObjectApi.makeApiClient(kc));
  const perNs = Math.ceil(N / NS_COUNT);
  const todo = [];
  for (let k = 0; k < NS_COUNT; k++) {
    const ns = `bench-status-${String(k).padStart(2, '0')}`;
    const count = Math.min(perNs, N - k * perNs);
    if (count <= 0) break;
    try {
      await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    } catch {}
    const have = await api.list('kubevirt.io/v1', 'VirtualMachine', ns);
    const existing = new Set(have.items.map((v) => v.metadata.name));
    const wanted = new Set();
    for (let j = 0; j < count; j++) {
      const i = k * perNs + j;
      wanted.add(`vm-${String(i).padStart(5, '0')}`);
      if (!existing.has(`vm-${String(i).padStart(5, '0')}`)) todo.push([ns, i]);
    }
    // Objects of an earlier run with another N or namespace count.
    const extra = [...existing].filter((n) => !wanted.has(n));
    await pool(extra, CONC, async (name) => {
      for (const [apiVersion, kind, n] of [['kubevirt.io/v1', 'VirtualMachine', name], ['kubevirt.io/v1', 'VirtualMachineInstance', name], ['v1', 'Pod', `virt-launcher-${name}-abcde`]]) {
        await api.delete({ apiVersion, kind, metadata: { name: n, namespace: ns } }).catch(() => undefined);
      }
    });
    if (extra.length > 0) log(`removed ${extra.length} VMs of an earlier run from ${ns}`);
    const stuck = (await api.list('v1', 'Pod', ns)).items.filter((p) => p.metadata.deletionTimestamp);
    // client-node drops a grace period of 0 from the request; kubectl sends it.
    if (stuck.length > 0) spawnSync(ensureKubectl(), ['--kubeconfig', kubeconfig, 'delete', 'pod', '-n', ns, '--force', '--grace-period=0', ...stuck.map((p) => p.metadata.name)], { stdio: 'ignore' });
    if (stuck.length > 0) log(`force-deleted ${stuck.length} terminating pods in ${ns}`);
  }
  if (todo.length === 0) return log(`${N} VMs already seeded`);
  const t0 = Date.now();
  let done = 0;
  await pool(todo, CONC, async ([ns, i]) => {
    await seedOne(api, ns, i);
    if (++done % 500 === 0) log(`seeded ${done}/${todo.length}`);
  });
  log(`seeded ${todo.length} VMs + VMIs + pods in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

/** Runs a command under /usr/bin/time -v; returns wall ms, peak RSS (MiB), exit code, stdout bytes and stderr. */
function measure(cmd, args, env) {
  const out = path.join(os.tmpdir(), `bench-status-${process.pid}.out`);
  const timeFile = path.join(os.tmpdir(), `bench-status-${process.pid}.time`);
  const fd = fs.openSync(out, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', '-o', timeFile, cmd, ...args], { env, stdio: ['ignore', fd, 'pipe'], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.closeSync(fd);
  const tv = fs.readFileSync(timeFile, 'utf8');
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(tv)?.[1] ?? 0) / 1024;
  const bytes = fs.statSync(out).size;
  const doc = r.status === 0 ? fs.readFileSync(out, 'utf8') : '';
  fs.rmSync(out, { force: true });
  fs.rmSync(timeFile, { force: true });
  return { ms, rss, code: r.status, bytes, stderr: r.stderr.toString(), doc };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const started = Date.now();
  // Seeded VMs, VMIs and pods stay as written: the bare API server, nothing acting on them.
  const sb = await up({ dir: opt.dir, kubevirt: false });
  try {
    await seed(sb.kubeconfig);
    const kubectl = ensureKubectl();
    const env = { ...process.env, KUBECONFIG: sb.kubeconfig, NO_COLOR: '1' };
    const vnetCmd = [process.execPath, [path.join(root, 'bin', 'kubectl-vnet.js'), 'status', '-A', '-o', 'json']];
    const kubectlCmd = [kubectl, ['get', 'vm,vmi,pods', '-A', '-o', 'json']];

    // Correctness and request counts (untimed: debug output costs time).
    const dv = measure(vnetCmd[0], [...vnetCmd[1], '--debug'], env);
    if (dv.code !== 0) throw new Error(`kubectl vnet status failed: ${dv.stderr}`);
    const list = JSON.parse(dv.doc);
    const benchItems = list.items.filter((it) => it.namespace.startsWith('bench-status-'));
    const ready = benchItems.filter((it) => it.interfaces.length === 2 && it.interfaces.every((x) => x.state === 'ready') && it.interfaces[1].multus).length;
    if (benchItems.length !== N || ready !== N) throw new Error(`expected ${N} VMs with 2 ready interfaces, got ${benchItems.length} items, ${ready} ready`);
    const vnetRequests = dv.stderr.split('\n').filter((l) => /^debug: (GET|POST|PUT|PATCH|DELETE) /.test(l));
    const dk = measure(kubectlCmd[0], [...kubectlCmd[1], '-v=6'], env);
    if (dk.code !== 0) throw new Error(`kubectl get failed: ${dk.stderr.slice(-2000)}`);
    const kubectlRequests = dk.stderr.split('\n').filter((l) => /verb="(GET|POST)"|\b(GET|POST) https?:\/\//.test(l) && /\b200\b|200 OK/.test(l));

    // Timed runs, interleaved, after one warm-up each.
    measure(vnetCmd[0], vnetCmd[1], env);
    measure(kubectlCmd[0], kubectlCmd[1], env);
    const v = [];
    const k = [];
    for (let r = 0; r < RUNS; r++) {
      const a = measure(vnetCmd[0], vnetCmd[1], env);
      const b = measure(kubectlCmd[0], kubectlCmd[1], env);
      if (a.code !== 0 || b.code !== 0) throw new Error(`run ${r} failed: ${a.stderr}${b.stderr}`);
      v.push(a);
      k.push(b);
      log(`run ${r + 1}/${RUNS}: vnet ${a.ms.toFixed(0)} ms ${a.rss.toFixed(0)} MiB, kubectl ${b.ms.toFixed(0)} ms ${b.rss.toFixed(0)} MiB`);
    }
    const vm = median(v.map((x) => x.ms));
    const km = median(k.map((x) => x.ms));
    const result = {
      n: N,
      namespaces: NS_COUNT,
      runs: RUNS,
      node: process.version,
      cpus: os.cpus().length,
      loadAverageAtEnd: os.loadavg().map((x) => Number(x.toFixed(1))),
      vnet: { medianMs: Math.round(vm), peakRssMiB: Math.round(Math.max(...v.map((x) => x.rss))), requests: vnetRequests.length, outputBytes: v[0].bytes },
      kubectl: { medianMs: Math.round(km), peakRssMiB: Math.round(Math.max(...k.map((x) => x.rss))), requests: kubectlRequests.length, outputBytes: k[0].bytes },
      ratio: Number((vm / km).toFixed(2)),
      vnetRequestLines: vnetRequests.map((l) => l.replace(/continue=[^&\s]+/, 'continue=…')),
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      [
        '',
        `| ${N} VMs + VMIs + launcher pods, ${NS_COUNT} namespaces, median of ${RUNS} | wall time | peak RSS | API requests | output |`,
        '|---|---:|---:|---:|---:|',
        `| \`kubectl vnet status -A -o json\` | ${(vm / 1000).toFixed(2)} s | ${result.vnet.peakRssMiB} MiB | ${result.vnet.requests} | ${(result.vnet.outputBytes / 1048576).toFixed(1)} MiB |`,
        `| \`kubectl get vm,vmi,pods -A -o json\` | ${(km / 1000).toFixed(2)} s | ${result.kubectl.peakRssMiB} MiB | ${result.kubectl.requests} | ${(result.kubectl.outputBytes / 1048576).toFixed(1)} MiB |`,
        `| ratio vnet / kubectl | ${result.ratio} | | | |`,
        '',
        `${os.cpus().length} CPUs, load average at the end ${result.loadAverageAtEnd.join(', ')}, Node ${process.version}.`,
        '',
      ].join('\n'),
    );
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)}s`);
  } finally {
    if (!opt.keep) await down({ dir: opt.dir });
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
