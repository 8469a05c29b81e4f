// The sandbox's supervisor: one detached process per sandbox folder. It
// prepares credentials, starts etcd and kube-apiserver (the Go vnet-sandbox
// binary that embeds both, or envtest's binaries), installs the CRDs and
// RBAC a KubeVirt + Multus cluster has, writes one kubeconfig per user and
// DIR/ready, and stops its children on SIGTERM.
//
// With --kubevirt it also runs KubeVirt's own virt-api and virt-controller
// (as virt-operator would install them: CRDs, RBAC, service accounts, the
// KubeVirt CR, webhooks pointed at virt-api on 127.0.0.1) and the simulator
// of the node side (kubelet, Multus, virt-handler; test/simulator), and
// leaves a small demo world (scripts/sandbox-demo.mjs).
//
//   node sandbox-supervisor.mjs --dir DIR --crds DIR (--sandbox-bin BIN | --apiserver BIN --etcd BIN)
//        [--kubevirt BINDIR --kubevirt-manifests DIR --kubevirt-version V --simulator-args JSON]
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { demoObjects } from './sandbox-demo.mjs';
import {
  KUBEVIRT_NAMESPACE,
  LAUNCHER_IMAGE,
  SERVICE_ACCOUNTS,
  collectionPath,
  kubevirtCR,
  kubevirtStatus,
  makePki,
  readManifests,
  requestHeaderFlags,
  serviceAccountKubeconfig,
  waitHttps,
  webhooksFor,
} from './sandbox-kubevirt.mjs';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])),
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

function startChild(bin, argv, name, env = {}) {
  const out = fs.openSync(path.join(dir, `${name}.log`), 'a');
  const child = spawn(bin, argv, { stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  fs.closeSync(out);
  children.push(child);
  child.on('exit', (code, signal) => {
    log(`${name} exited (${code ?? signal})`);
    if (!stopping) {
      // `sandbox up` and `sandbox status` report this file.
      fs.writeFileSync(path.join(dir, 'failed'), `${name} exited (${code ?? signal}); its log: ${path.join(dir, `${name}.log`)}\n`);
      shutdown(1);
    }
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
/** Records why the sandbox stopped, for `sandbox up` and `sandbox status`. */
function recordFailure(what) {
  try {
    fs.writeFileSync(path.join(dir, 'failed'), `${what}; the supervisor's log: ${path.join(dir, 'sandbox.log')}\n`);
  } catch {}
}

process.on('uncaughtException', (err) => {
  log(`failed: ${err.stack ?? err}`);
  recordFailure(`the supervisor failed: ${err.message ?? err}`);
  void shutdown(1);
});

/** A minimal HTTPS JSON client for the bootstrap (admin token, sandbox CA). */
function api(server, ca, token) {
  return (method, p, body, contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = https.request(new URL(server + p), { method, ca, headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType, Accept: 'application/json' } }, (res) => {
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
  // KubeVirt's own aggregated roles (kubevirt.io:view|edit|admin, test/kubevirt/generated/rbac.yaml)
  // cover its resources; Multus ships none, so the sandbox grants NetworkAttachmentDefinitions
  // (and Kube-OVN Subnets to viewers) the way clusters that use them usually do.
  const groups = ['k8s.cni.cncf.io', 'kubeovn.io'];
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
  const files = [
    ...fs.readdirSync(args.crds).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(args.crds, f)),
    path.join(args['kubevirt-manifests'], 'crds.yaml'),
  ];
  for (const file of files) {
    for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
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
  // KubeVirt's cluster roles (view/edit/admin aggregated, its components' roles) and service accounts.
  await must(call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: KUBEVIRT_NAMESPACE } }), 'creating namespace kubevirt', [201, 409]);
  for (const obj of readManifests(args['kubevirt-manifests'], 'rbac.yaml')) await must(call('POST', collectionPath(obj), obj), `creating ${obj.kind} ${obj.metadata.name}`, [201, 409]);
  await aggregateClusterRoles(call);
}

/**
 * What kube-controller-manager's ClusterRole aggregation controller does (the
 * sandbox runs none): a role with an aggregationRule gets the union of the
 * rules of the roles its selectors match, aggregated ones included (edit
 * takes view's rules, admin edit's), repeated until nothing changes.
 */
async function aggregateClusterRoles(call) {
  const roles = (await must(call('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles'), 'listing ClusterRoles')).items;
  const byName = new Map(roles.map((r) => [r.metadata.name, r]));
  const changed = new Set();
  for (let round = 0, again = true; again && round < 10; round++) {
    again = false;
    for (const target of roles.filter((r) => r.aggregationRule)) {
      const seen = new Set();
      const rules = [];
      for (const src of roles) {
        if (src.metadata.name === target.metadata.name) continue;
        if (!target.aggregationRule.clusterRoleSelectors.some((sel) => matches(sel, src.metadata.labels))) continue;
        for (const rule of byName.get(src.metadata.name).rules ?? []) {
          const k = JSON.stringify(rule);
          if (!seen.has(k)) (seen.add(k), rules.push(rule));
        }
      }
      if (JSON.stringify(rules) !== JSON.stringify(byName.get(target.metadata.name).rules ?? [])) {
        byName.set(target.metadata.name, { ...byName.get(target.metadata.name), rules });
        changed.add(target.metadata.name);
        again = true;
      }
    }
  }
  for (const name of changed) {
    const r = byName.get(name);
    await must(call('PUT', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`, r), `aggregating ${name}`);
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

/** A token of a KubeVirt service account (TokenRequest, valid a year) and a kubeconfig with it. */
async function serviceAccountConfig(call, server, caPem, sa) {
  const tr = await must(
    call('POST', `/api/v1/namespaces/${KUBEVIRT_NAMESPACE}/serviceaccounts/${sa}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 365 * 24 * 3600 } }),
    `requesting a token for ${sa}`,
  );
  const file = path.join(dir, 'kubevirt', `${sa}.kubeconfig`);
  fs.writeFileSync(file, serviceAccountKubeconfig(server, caPem, sa, tr.status.token), { mode: 0o600 });
  return file;
}

/**
 * KubeVirt as virt-operator leaves it: the KubeVirt CR with its status, kubevirt-ca, virt-api
 * serving its admission webhooks (registered before any VM can exist), virt-controller as its
 * service account, and the node-side simulator. Then the demo world.
 */
async function startKubevirt(call, server, caPem, kvPki) {
  const bin = args.kubevirt;
  const version = args['kubevirt-version'];
  fs.mkdirSync(path.join(dir, 'kubevirt'), { recursive: true, mode: 0o700 });
  const kvCa = fs.readFileSync(kvPki.ca, 'utf8');
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubevirt-ca', namespace: KUBEVIRT_NAMESPACE }, data: { 'ca-bundle': kvCa } };
  const cmPath = `/api/v1/namespaces/${KUBEVIRT_NAMESPACE}/configmaps`;
  const made = await call('POST', cmPath, cm);
  if (made.status === 409) await must(call('PUT', `${cmPath}/kubevirt-ca`, cm), 'updating kubevirt-ca');
  else if (made.status !== 201) throw new Error(`creating kubevirt-ca: HTTP ${made.status} ${made.body?.message ?? ''}`);
  const kvPath = `/apis/kubevirt.io/v1/namespaces/${KUBEVIRT_NAMESPACE}/kubevirts`;
  await must(call('POST', kvPath, kubevirtCR()), 'creating the KubeVirt CR', [201, 409]);
  await must(call('PATCH', `${kvPath}/kubevirt/status`, { status: kubevirtStatus(version) }, 'application/merge-patch+json'), 'writing the KubeVirt CR status');
  // kube-apiserver publishes its requestheader CA in kube-system/extension-apiserver-authentication; virt-api needs it at start.
  for (let i = 0; ; i++) {
    const r = await call('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication');
    if (r.status === 200 && r.body?.data?.['requestheader-client-ca-file']) break;
    if (i > 600) throw new Error('kube-apiserver did not publish extension-apiserver-authentication within 60s');
    await sleep(100);
  }
  const apiConfig = await serviceAccountConfig(call, server, caPem, SERVICE_ACCOUNTS.api);
  const controllerConfig = await serviceAccountConfig(call, server, caPem, SERVICE_ACCOUNTS.controller);
  const handlerConfig = await serviceAccountConfig(call, server, caPem, SERVICE_ACCOUNTS.handler);

  const apiPort = await freePort();
  const virtApi = startChild(path.join(bin, 'virt-api'), ['--kubeconfig', apiConfig, '--listen', '127.0.0.1', '--port', String(apiPort), '--tls-cert-file', kvPki.virtApiCert, '--tls-key-file', kvPki.virtApiKey, '--v', '2'], 'virt-api', { POD_NAMESPACE: KUBEVIRT_NAMESPACE });
  const virtApiUrl = `https://127.0.0.1:${apiPort}`;
  await waitHttps(`${virtApiUrl}/healthz`, kvCa, 120_000, 'virt-api', () => virtApi.exitCode !== null);
  for (const cfg of webhooksFor(args['kubevirt-manifests'], virtApiUrl, kvCa)) {
    const kind = cfg.kind === 'MutatingWebhookConfiguration' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations';
    const base = `/apis/admissionregistration.k8s.io/v1/${kind}`;
    const r = await call('POST', base, cfg);
    if (r.status === 409) {
      const cur = await must(call('GET', `${base}/${cfg.metadata.name}`), `reading ${cfg.metadata.name}`);
      await must(call('PUT', `${base}/${cfg.metadata.name}`, { ...cfg, metadata: { ...cfg.metadata, resourceVersion: cur.metadata.resourceVersion } }), `updating ${cfg.metadata.name}`);
    } else if (r.status !== 201) throw new Error(`registering ${cfg.metadata.name}: HTTP ${r.status} ${r.body?.message ?? ''}`);
  }
  log(`virt-api ready at ${virtApiUrl}; its webhooks registered`);

  const ctlPort = await freePort();
  startChild(path.join(bin, 'virt-controller'), [
    '--kubeconfig', controllerConfig,
    '--launcher-image', `${LAUNCHER_IMAGE}:${version}`,
    '--listen', '127.0.0.1',
    '--port', String(ctlPort),
    '--v', '2',
  ], 'virt-controller', { POD_NAMESPACE: KUBEVIRT_NAMESPACE });
  // Leader election with KubeVirt's own timings (a lost lease makes virt-controller exit). The
  // identity is the host name, so on kept data the new process takes the old lease over at once;
  // ready once the lease is renewed after the spawn (the previous process is gone).
  const spawned = Date.now() - 1000;
  for (let i = 0; ; i++) {
    const r = await call('GET', `/apis/coordination.k8s.io/v1/namespaces/${KUBEVIRT_NAMESPACE}/leases/virt-controller`);
    const renewed = Date.parse(r.body?.spec?.renewTime ?? '');
    if (r.status === 200 && r.body?.spec?.holderIdentity && renewed >= spawned) break;
    if (i > 1200) throw new Error('virt-controller did not become leader within 120s');
    await sleep(100);
  }
  log('virt-controller is the leader');

  const simArgs = JSON.parse(args['simulator-args'] ?? '[]');
  // Node runs TypeScript by itself from 22.18; 22.12-22.17 need the flag.
  const ts = process.features.typescript ? [] : ['--experimental-strip-types'];
  startChild(process.execPath, [...ts, path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'simulator', 'main.ts'), '--kubeconfig', path.join(dir, 'kubeconfig'), '--handler-kubeconfig', handlerConfig, ...simArgs], 'simulator');
  for (const [p, obj] of demoObjects()) await must(call('POST', p, obj), `creating the demo ${obj.kind} ${obj.metadata.name}`, [201, 409]);
}

async function main() {
  fs.rmSync(path.join(dir, 'ready'), { force: true });
  fs.rmSync(path.join(dir, 'failed'), { force: true });
  const { saKey, tokenFile, tokens } = credentials();
  const kvPki = args.kubevirt ? makePki(args.kubevirt, path.join(pkiDir, 'kubevirt')) : null;
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
    ...(kvPki ? requestHeaderFlags(kvPki) : []),
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
  if (kvPki) await startKubevirt(call, server, caPem, kvPki);
  fs.writeFileSync(path.join(dir, 'ready'), server + '\n');
  log(`ready at ${server}`);
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  recordFailure(`start-up failed: ${err.message ?? err}`);
  void shutdown(1);
});
