// KubeVirt on the sandbox: what virt-operator would install and run, done by
// the sandbox's supervisor with KubeVirt's own manifests (test/kubevirt/generated)
// and binaries (built from test/kubevirt). The node side (kubelet, Multus,
// virt-handler) is the simulator's (test/simulator).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments, stringify } from 'yaml';

export const KUBEVIRT_NAMESPACE = 'kubevirt';
const SERVICE_ACCOUNTS = { controller: 'kubevirt-controller', api: 'kubevirt-apiserver', handler: 'kubevirt-handler' };
/** The image virt-controller names in launcher pods (nothing pulls it: the kubelet is simulated). */
export const LAUNCHER_IMAGE = 'quay.io/kubevirt/virt-launcher';

/** kube-apiserver flags that make it publish a requestheader CA (virt-api reads it at start). */
export function requestHeaderFlags(pki) {
  return [
    `--requestheader-client-ca-file=${pki.ca}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyCert}`,
    `--proxy-client-key-file=${pki.frontProxyKey}`,
  ];
}

/** The sandbox's KubeVirt PKI (CA, virt-api's serving pair, the front proxy's client pair), made once per folder. */
export function makePki(binDir, dir) {
  const r = spawnSync(path.join(binDir, 'pki'), [dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`making KubeVirt's certificates failed: ${r.stderr || r.error}`);
  const f = (n) => path.join(dir, n);
  return { dir, ca: f('ca.crt'), virtApiCert: f('virt-api.crt'), virtApiKey: f('virt-api.key'), frontProxyCert: f('front-proxy.crt'), frontProxyKey: f('front-proxy.key') };
}

export function readManifests(manifestDir, file) {
  return parseAllDocuments(fs.readFileSync(path.join(manifestDir, file), 'utf8'))
    .map((d) => d.toJS())
    .filter(Boolean);
}

const plural = { ServiceAccount: 'serviceaccounts', ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings' };

/** The REST collection path of a namespaced or cluster-scoped object of a kind this module creates. */
export function collectionPath(obj) {
  const kind = obj.kind;
  if (kind === 'ServiceAccount') return `/api/v1/namespaces/${obj.metadata.namespace}/serviceaccounts`;
  const base = '/apis/rbac.authorization.k8s.io/v1';
  if (kind === 'Role' || kind === 'RoleBinding') return `${base}/namespaces/${obj.metadata.namespace}/${plural[kind]}`;
  if (plural[kind]) return `${base}/${plural[kind]}`;
  throw new Error(`no path for kind ${kind}`);
}

/**
 * The KubeVirt CR as virt-operator leaves it: spec as an administrator writes it, and the status
 * virt-controller and virt-api read (they ignore a CR without status.phase).
 */
export function kubevirtCR() {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'KubeVirt',
    metadata: { name: 'kubevirt', namespace: KUBEVIRT_NAMESPACE },
    spec: {
      // Sidecar: hook sidecars (the netconf MAC path) are refused by virt-api without it.
      // LiveUpdateNADRef (Beta in v1.8, GA in v1.9): a NIC moves to another NAD live, through a migration.
      configuration: { developerConfiguration: { featureGates: ['Sidecar', 'LiveUpdateNADRef'] } },
      workloadUpdateStrategy: { workloadUpdateMethods: ['LiveMigrate'] },
    },
  };
}

export function kubevirtStatus(version) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cond = (type, status, reason, message) => ({ type, status, reason, message, lastProbeTime: now, lastTransitionTime: now });
  return {
    phase: 'Deployed',
    observedKubeVirtVersion: version,
    targetKubeVirtVersion: version,
    observedKubeVirtRegistry: 'quay.io/kubevirt',
    targetKubeVirtRegistry: 'quay.io/kubevirt',
    observedDeploymentID: 'vnet-sandbox',
    targetDeploymentID: 'vnet-sandbox',
    observedDeploymentConfig: JSON.stringify({ id: 'vnet-sandbox', namespace: KUBEVIRT_NAMESPACE, registry: 'quay.io/kubevirt', kubeVirtVersion: version }),
    targetDeploymentConfig: JSON.stringify({ id: 'vnet-sandbox', namespace: KUBEVIRT_NAMESPACE, registry: 'quay.io/kubevirt', kubeVirtVersion: version }),
    operatorVersion: version,
    defaultArchitecture: 'amd64',
    conditions: [
      cond('Available', 'True', 'AllComponentsReady', 'All components are ready.'),
      cond('Progressing', 'False', 'AllComponentsReady', 'All components are ready.'),
      cond('Degraded', 'False', 'AllComponentsReady', 'All components are ready.'),
      cond('Created', 'True', 'AllResourcesCreated', 'All resources were created.'),
    ],
  };
}

/** KubeVirt's webhook configurations, pointed at virt-api's URL on 127.0.0.1 instead of its Service. */
export function webhooksFor(manifestDir, virtApiUrl, caPem) {
  return readManifests(manifestDir, 'webhooks.yaml').map((cfg) => ({
    ...cfg,
    webhooks: cfg.webhooks.map((w) => {
      const { service, ...rest } = w.clientConfig;
      return { ...w, clientConfig: { ...rest, url: virtApiUrl + (service?.path ?? '/'), caBundle: Buffer.from(caPem).toString('base64') } };
    }),
  }));
}

/** A kubeconfig for a service account's token. */
export function serviceAccountKubeconfig(server, caPem, sa, token) {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'vnet-sandbox', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: sa, user: { token } }],
    contexts: [{ name: sa, context: { cluster: 'vnet-sandbox', user: sa, namespace: KUBEVIRT_NAMESPACE } }],
    'current-context': sa,
  });
}

/** Waits until an HTTPS endpoint answers 200 (virt-api's health check). */
export async function waitHttps(url, ca, timeoutMs, what, failed = () => false) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const status = await new Promise((resolve) => {
      const req = https.get(url, { ca, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
    });
    if (status === 200) return;
    if (failed()) throw new Error(`${what} exited before it was ready`);
    if (Date.now() > end) throw new Error(`${what} was not ready within ${Math.round(timeoutMs / 1000)} s (last HTTP status ${status})`);
    await sleep(200);
  }
}

export { SERVICE_ACCOUNTS };
