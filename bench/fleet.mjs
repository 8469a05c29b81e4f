#!/usr/bin/env node
// Benchmark (not a test): a fleet edit of N VMs selected by a label, in the sandbox with KubeVirt's
// virt-api admission. Reports, for `hotplug add -l` (every VM patched), the same command again (every
// VM unchanged) and `hotplug remove -l`: wall time, the API requests made (vnet --debug prints one line
// per request) and their rate, and the results' summary line. The client-side limit (5 requests a
// second, bursts of 10) bounds the rate: expect about N * 3 / 5 seconds for the first run.
//
//   node bench/fleet.mjs [--n 1000] [--parallel 10] [--dir .cache/sb-bench-fleet] [--keep]
//
// It starts its own sandbox in --dir (or reuses one running there), seeds the VMs once (stopped,
// labelled bench=fleet, in namespace bench-fleet; a re-run with the same N reuses them), and stops the
// sandbox at the end unless --keep is given.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { down, up } from '../scripts/sandbox-lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    parallel: { type: 'string', default: '10' },
    dir: { type: 'string', default: path.join(root, '.cache', 'sb-bench-fleet') },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(opt.n);
const NS = 'bench-fleet';
const log = (s) => process.stderr.write(`bench: ${s}\n`);

async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

/** A stopped VM with the pod network only. */
function vm(name) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: NS, labels: { bench: 'fleet' } },
    spec: {
      runStrategy: 'Halted',
      template: { spec: { domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] }, resources: { requests: { memory: '128Mi' } } }, networks: [{ name: 'default', pod: {} }] } },
    },
  };
}

async function seed(kubeconfig) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = KubernetesObjectApi.makeApiClient(kc);
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch(() => undefined);
  await api
    .create({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'blue-net', namespace: NS }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }) } })
    .catch(() => undefined);
  const have = new Set((await api.list('kubevirt.io/v1', 'VirtualMachine', NS)).items.map((v) => v.metadata.name));
  const todo = Array.from({ length: N }, (_, i) => `vm-${String(i).padStart(5, '0')}`).filter((n) => !have.has(n));
  log(`seeding ${todo.length} VMs (${have.size} there already)`);
  await pool(todo, 16, (name) => api.create(vm(name)));
}

function run(kubeconfig, args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'kubectl-vnet.js'), ...args, '-n', NS, '--debug'], {
    env: { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const requests = r.stderr.split('\n').filter((l) => /^debug: (GET|PATCH|POST|PUT|DELETE) /.test(l)).length;
  const summary = r.stdout.trim().split('\n').at(-1);
  return { args: args.join(' '), code: r.status, seconds: Number(seconds.toFixed(1)), requests, perSecond: Number((requests / seconds).toFixed(1)), summary };
}

const sb = await up({ dir: opt.dir, kubevirt: true });
try {
  await seed(sb.kubeconfig);
  const P = ['--parallel', opt.parallel];
  const results = [
    run(sb.kubeconfig, ['hotplug', 'add', '-l', 'bench=fleet', '--network', 'blue-net', '--name', 'blue', ...P]),
    run(sb.kubeconfig, ['hotplug', 'add', '-l', 'bench=fleet', '--network', 'blue-net', '--name', 'blue', ...P]),
    run(sb.kubeconfig, ['hotplug', 'remove', '-l', 'bench=fleet', 'blue', ...P]),
  ];
  process.stdout.write(JSON.stringify({ n: N, parallel: Number(opt.parallel), results }, null, 2) + '\n');
} finally {
  if (!opt.keep) await down({ dir: opt.dir });
}
