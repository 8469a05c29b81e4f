// The sandbox's supervisor: one detached process per sandbox folder. It
// prepares credentials, starts etcd and kube-apiserver (the Go vnet-sandbox
// binary that embeds both, or envtest's binaries), installs the CRDs and
// RBAC a KubeVirt + Multus cluster has, writes one kubeconfig per user and
// DIR/ready, and stops its children on SIGTERM.
//
//   node sandbox-supervisor.mjs --dir DIR --crds DIR (--sandbox-bin BIN | --apiserver BIN --etcd BIN)
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments, stringify } from 'yaml';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const dir = path.resolve(args.dir);
const pkiDir = path.join(dir, 'pki');
const children = [];

function log(msg) {
  process.stdout.write(`${new Date().toISOString()} supervisor: ${msg}\n`);
}

export const USERS = [
  { name: 'admin', groups: ['system:masters'] },
  { name: 'viewer', groups: ['vnet:viewers'] },
  { name: 'editor', groups: ['vnet:editors'] },
];

/** Service-account signing key and one bearer token per user, made once per folder. */
function credentials() {
  fs.mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const saKey = path.join(pkiDir, 'sa.key');
  const tokenFile = path.join(pkiDir, 'tokens.csv');
  if (!fs.existsSync(saKey)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    fs.writeFileSync(saKey, privateKey, { mode: 0o600 });
  }
  if (!fs.existsSync(tokenFile)) {
    const lines = USERS.map((u, i) => `${randomBytes(24).toString('hex')},${u.name},uid-${i + 1},"${u.groups.join(',')}"`);
    fs.writeFileSync(tokenFile, lines.join('\n') + '\n', { mode: 0o600 });
  }
  const tokens = {};
  for (const line of fs.readFileSync(tokenFile, 'utf8').split('\n')) {
    const [tok, user] = line.split(',');
    if (tok && user) tokens[user] = tok;
  }
  return { saKey, tokenFile, tokens };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitTcp(port, what) {
  for (let i = 0; i < 600; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within 60s`);
}

function startChild(bin, argv, name) {
  const out = fs.openSync(path.join(dir, `${name}.log`), 'a');
  const child = spawn(bin, argv, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  children.push(child);
  child.on('exit', (code, signal) => {
    log(`${name} exited (${code ?? signal})`);
    if (!stopping) shutdown(1);
  });
  return child;
}

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  fs.rmSync(path.join(dir, 'ready'), { force: true });
  for (const c of [...children].reverse()) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await Promise.race([new Promise((r) => c.once('exit', r)), sleep(15_000).then(() => c.kill('SIGKILL'))]);
    }
  }
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.on('uncaughtException', (err) => {
  log(`failed: ${err.stack ?? err}`);
  void shutdown(1);
});

/** A minimal HTTPS JSON client for the bootstrap (admin token, sandbox CA). */
function api(server, ca, token) {
  return (method, p, body) =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = https.request(new URL(server + p), { method, ca, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = { message: text.slice(0, 300) };
          }
          resolve({ status: res.statusCode, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(data);
    });
}

async function must(call, what, okStatuses = [200, 201]) {
  const r = await call;
  if (!okStatuses.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.body?.message ?? ''}`);
  return r.body;
}

function rbacObjects() {
  const read = ['get', 'list', 'watch'];
  const write = [...read, 'create', 'update', 'patch', 'delete', 'deletecollection'];
  const groups = ['kubevirt.io', 'k8s.cni.cncf.io'];
  const role = (name, aggregate, verbs) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { [`rbac.authorization.k8s.io/aggregate-to-${aggregate}`]: 'true' } },
    rules: [{ apiGroups: groups, resources: ['*'], verbs }],
  });
  const subject = (name) => [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name }];
  return [
    ['/apis/rbac.authorization.k8s.io/v1/clusterroles', role('vnet-sandbox:aggregate-to-view', 'view', read)],
    ['/apis/rbac.authorization.k8s.io/v1/clusterroles', role('vnet-sandbox:aggregate-to-edit', 'edit', write)],
    ['/apis/rbac.authorization.k8s.io/v1/clusterroles', role('vnet-sandbox:aggregate-to-admin', 'admin', write)],
    ['/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'vnet-sandbox:viewers' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: subject('vnet:viewers') }],
    ['/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }],
    ['/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'vnet-sandbox:editors', namespace: 'team-a' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: subject('vnet:editors') }],
  ];
}

function matches(selector, labels = {}) {
  const ml = selector.matchLabels ?? {};
  return Object.entries(ml).every(([k, v]) => labels[k] === v) && (selector.matchExpressions ?? []).length === 0;
}

async function bootstrap(call) {
  // CRDs, then wait until each is Established.
  const names = [];
  for (const f of fs.readdirSync(args.crds).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(args.crds, f), 'utf8'))) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      await must(call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd), `creating CRD ${crd.metadata.name}`, [201, 409]);
      names.push(crd.metadata.name);
    }
  }
  for (const name of names) {
    for (let i = 0; ; i++) {
      const r = await call('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      if ((r.body?.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 600) throw new Error(`CRD ${name} not Established within 60s`);
      await sleep(100);
    }
  }
  for (const [p, obj] of rbacObjects()) await must(call('POST', p, obj), `creating ${obj.kind} ${obj.metadata.name}`, [201, 409]);
  // What kube-controller-manager's ClusterRole aggregation controller does (the
  // sandbox runs none): roles with an aggregationRule get the union of the
  // rules of the roles their selectors match.
  const roles = (await must(call('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles'), 'listing ClusterRoles')).items;
  for (const target of roles.filter((r) => r.aggregationRule)) {
    const rules = roles
      .filter((src) => src.metadata.name !== target.metadata.name && !src.aggregationRule)
      .filter((src) => target.aggregationRule.clusterRoleSelectors.some((s) => matches(s, src.metadata.labels)))
      .flatMap((src) => src.rules ?? []);
    await must(call('PUT', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${target.metadata.name}`, { ...target, rules }), `aggregating ${target.metadata.name}`);
  }
}

function writeKubeconfigs(server, caPem, tokens) {
  for (const u of USERS) {
    const file = path.join(dir, u.name === 'admin' ? 'kubeconfig' : `${u.name}.kubeconfig`);
    const cfg = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'vnet-sandbox', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: u.name, user: { token: tokens[u.name] } }],
      contexts: [{ name: `vnet-sandbox-${u.name}`, context: { cluster: 'vnet-sandbox', user: u.name, namespace: u.name === 'editor' ? 'team-a' : 'default' } }],
      'current-context': `vnet-sandbox-${u.name}`,
    };
    fs.writeFileSync(file, stringify(cfg), { mode: 0o600 });
  }
}

async function main() {
  fs.rmSync(path.join(dir, 'ready'), { force: true });
  const { saKey, tokenFile, tokens } = credentials();
  const [etcdClient, etcdPeer, port] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${port}`;
  const certDir = path.join(pkiDir, 'serving');
  const apiserverArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // Self-signed serving certificate and CA, made by kube-apiserver once per folder.
    `--cert-dir=${certDir}`,
    `--service-account-issuer=${server}`,
    `--service-account-key-file=${saKey}`,
    `--service-account-signing-key-file=${saKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    `--token-auth-file=${tokenFile}`,
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    '--endpoint-reconciler-type=none',
    '--v=0',
  ];
  const etcdData = path.join(dir, 'etcd', 'data');
  fs.mkdirSync(path.dirname(etcdData), { recursive: true });
  if (args['sandbox-bin']) {
    startChild(args['sandbox-bin'], ['--etcd-dir', etcdData, '--etcd-client-port', String(etcdClient), '--etcd-peer-port', String(etcdPeer), '--', ...apiserverArgs], 'apiserver');
  } else {
    const c = `http://127.0.0.1:${etcdClient}`;
    const p = `http://127.0.0.1:${etcdPeer}`;
    startChild(args.etcd, ['--data-dir', etcdData, '--listen-client-urls', c, '--advertise-client-urls', c, '--listen-peer-urls', p, '--initial-advertise-peer-urls', p, '--initial-cluster', `default=${p}`, '--unsafe-no-fsync'], 'etcd');
    await waitTcp(etcdClient, 'etcd');
    startChild(args.apiserver, apiserverArgs, 'apiserver');
  }
  await waitTcp(port, 'kube-apiserver');
  const caFile = path.join(certDir, 'apiserver.crt');
  for (let i = 0; !fs.existsSync(caFile); i++) {
    if (i > 600) throw new Error(`${caFile} was not written`);
    await sleep(100);
  }
  // apiserver.crt holds the serving certificate followed by the CA that signed it.
  const caPem = fs.readFileSync(caFile, 'utf8');
  const call = api(server, caPem, tokens.admin);
  for (let i = 0; ; i++) {
    const r = await call('GET', '/readyz').catch(() => ({ status: 0 }));
    if (r.status === 200) break;
    if (i > 1200) throw new Error('kube-apiserver not ready within 120s');
    await sleep(100);
  }
  await bootstrap(call);
  writeKubeconfigs(server, caPem, tokens);
  fs.writeFileSync(path.join(dir, 'ready'), server + '\n');
  log(`ready at ${server}`);
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  void shutdown(1);
});
