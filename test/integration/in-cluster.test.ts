// In-cluster configuration against the real sandbox API server: no
// kubeconfig anywhere, KUBERNETES_SERVICE_HOST/PORT in the environment and a
// service-account directory (token, ca.crt, namespace), as in a pod.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConnection, connectionTransport } from '../../src/kube/config.js';
import { KubeClient } from '../../src/kube/client.js';
import { VnetError } from '../../src/errors.js';
import { freshNamespace, sandbox } from '../support/cluster.js';
import { tempDirs } from '../support/tmp.js';

interface SandboxAccess {
  port: string;
  token: string;
  ca: Buffer;
}

/** The admin token, CA and port of the sandbox, read from its kubeconfig. */
function sandboxAccess(): SandboxAccess {
  const doc = parse(fs.readFileSync(sandbox().kubeconfig, 'utf8'));
  const ctx = doc.contexts.find((c: { name: string }) => c.name === doc['current-context']).context;
  const cluster = doc.clusters.find((c: { name: string }) => c.name === ctx.cluster).cluster;
  const user = doc.users.find((u: { name: string }) => u.name === ctx.user).user;
  const server = new URL(cluster.server);
  expect(server.hostname).toBe('127.0.0.1');
  expect(typeof user.token).toBe('string');
  return { port: server.port, token: user.token, ca: Buffer.from(cluster['certificate-authority-data'], 'base64') };
}

const tmpdir = tempDirs();

/** A service-account directory as the kubelet mounts it. */
function serviceAccountDir(files: { token?: string; ca?: Buffer | string; namespace?: string }): string {
  const dir = tmpdir('vnet-sa-');
  if (files.token !== undefined) fs.writeFileSync(path.join(dir, 'token'), files.token);
  if (files.ca !== undefined) fs.writeFileSync(path.join(dir, 'ca.crt'), files.ca);
  if (files.namespace !== undefined) fs.writeFileSync(path.join(dir, 'namespace'), files.namespace);
  return dir;
}

/** A pod's environment: the service host and port, and a HOME without ~/.kube/config. */
function podEnv(port: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: tmpdir('vnet-home-'), KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port, ...extra };
}

describe('in-cluster configuration against the sandbox', () => {
  let access: SandboxAccess;
  let ns: string;
  beforeAll(async () => {
    access = sandboxAccess();
    ns = await freshNamespace('vnet-incluster');
  });

  it('talks to the API server with the service account token and CA, in the namespace of the namespace file', async () => {
    const saDir = serviceAccountDir({ token: `${access.token}\n`, ca: access.ca, namespace: `${ns}\n` });
    const conn = await loadConnection({}, podEnv(access.port), { serviceAccountDir: saDir });
    expect(conn.source).toBe('in-cluster service account');
    expect(conn.server).toBe(`https://127.0.0.1:${access.port}`);
    expect(conn.namespace).toBe(ns);
    expect(conn.namespaceFromFlag).toBe(false);
    expect(conn.contextName).toBe('in-cluster');
    expect(conn.cluster['certificate-authority']).toBe(path.join(saDir, 'ca.crt'));
    // verification is on: the CA is the file's, and nothing turns checking off
    const transport = await connectionTransport(conn);
    expect(transport.ca).toEqual(access.ca);
    expect(transport.rejectUnauthorized).toBeUndefined();
    expect(transport.headers.Authorization).toBe(`Bearer ${access.token}`);

    const client = new KubeClient(conn);
    try {
      const version = await client.get<{ gitVersion: string }>('/version');
      expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+/);
      // /version is open to anyone; listing namespaces needs the admin token
      const namespaces = await client.list<{ metadata: { name: string } }>('/api/v1/namespaces');
      expect(namespaces.items.map((n) => n.metadata.name)).toContain(ns);
      const configMaps = await client.list(`/api/v1/namespaces/${conn.namespace}/configmaps`);
      expect(Array.isArray(configMaps.items)).toBe(true);
      expect(client.requestCount).toBe(3);
    } finally {
      client.close();
    }
  });

  it('-n wins over the namespace file, and without a namespace file it is "default"', async () => {
    const withFile = serviceAccountDir({ token: access.token, ca: access.ca, namespace: ns });
    expect((await loadConnection({ namespace: 'other' }, podEnv(access.port), { serviceAccountDir: withFile })).namespace).toBe('other');
    const without = serviceAccountDir({ token: access.token, ca: access.ca });
    const conn = await loadConnection({}, podEnv(access.port), { serviceAccountDir: without });
    expect(conn.namespace).toBe('default');
    const client = new KubeClient(conn);
    try {
      expect((await client.get<{ metadata: { name: string } }>('/api/v1/namespaces/default')).metadata.name).toBe('default');
    } finally {
      client.close();
    }
  });

  it('TLS verification stays on: a CA that did not sign the server certificate fails the request as unreachable', async () => {
    // any well-formed CA certificate that is not the sandbox's: a public root from Node's bundle
    const otherCa = tls.rootCertificates[0];
    expect(otherCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(Buffer.from(otherCa).equals(access.ca)).toBe(false);
    const saDir = serviceAccountDir({ token: access.token, ca: otherCa, namespace: ns });
    const client = new KubeClient(await loadConnection({}, podEnv(access.port), { serviceAccountDir: saDir }));
    try {
      const err = await client.get('/version').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VnetError);
      expect(err).toMatchObject({ code: 'unreachable', message: expect.stringMatching(new RegExp(`^TLS verification of https://127\\.0\\.0\\.1:${access.port} failed \\(`)) });
      expect((err as VnetError).hint).toContain('verification stays on');
    } finally {
      client.close();
    }
  });

  it('the token of the token file is what authenticates: a wrong one is rejected as Unauthorized', async () => {
    const saDir = serviceAccountDir({ token: 'not-the-sandbox-token', ca: access.ca, namespace: ns });
    const client = new KubeClient(await loadConnection({}, podEnv(access.port), { serviceAccountDir: saDir }));
    try {
      const err = await client.list('/api/v1/namespaces').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VnetError);
      expect(err).toMatchObject({ code: 'forbidden', status: 401 });
      expect((err as VnetError).hint).toContain('context "in-cluster"');
    } finally {
      client.close();
    }
  });

  it('a kubeconfig, when there is one, wins over the in-cluster configuration', async () => {
    const saDir = serviceAccountDir({ token: 'unused', ca: access.ca, namespace: 'from-sa' });
    const viaEnv = await loadConnection({}, podEnv(access.port, { KUBECONFIG: sandbox().kubeconfig }), { serviceAccountDir: saDir });
    expect(viaEnv.source).toBe(`KUBECONFIG=${sandbox().kubeconfig}`);
    expect(viaEnv.namespace).not.toBe('from-sa');
    const home = tmpdir('vnet-home-');
    fs.mkdirSync(path.join(home, '.kube'));
    fs.copyFileSync(sandbox().kubeconfig, path.join(home, '.kube', 'config'));
    const viaHome = await loadConnection({}, { ...podEnv(access.port), HOME: home }, { serviceAccountDir: saDir });
    expect(viaHome.source).toBe(path.join(home, '.kube', 'config'));
  });

  it('without the service host, the port or the token file there is no configuration (unreachable)', async () => {
    const saDir = serviceAccountDir({ token: access.token, ca: access.ca, namespace: ns });
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ ...podEnv(access.port), KUBERNETES_SERVICE_HOST: undefined }, saDir],
      [{ ...podEnv(access.port), KUBERNETES_SERVICE_PORT: undefined }, saDir],
      [podEnv(access.port), serviceAccountDir({ ca: access.ca, namespace: ns })],
    ];
    for (const [env, dir] of cases) {
      await expect(loadConnection({}, env, { serviceAccountDir: dir })).rejects.toMatchObject({ code: 'unreachable', message: expect.stringContaining('no kubeconfig found') });
    }
  });

  it('an IPv6 service host is bracketed in the server URL', async () => {
    const saDir = serviceAccountDir({ token: access.token, ca: access.ca });
    const conn = await loadConnection({}, { ...podEnv('443'), KUBERNETES_SERVICE_HOST: 'fd00::1' }, { serviceAccountDir: saDir });
    expect(conn.server).toBe('https://[fd00::1]:443');
  });

  it('a namespace file that is not a namespace name is refused before any request', async () => {
    const saDir = serviceAccountDir({ token: access.token, ca: access.ca, namespace: 'Not/A Namespace' });
    await expect(loadConnection({}, podEnv(access.port), { serviceAccountDir: saDir })).rejects.toMatchObject({
      code: 'usage',
      message: expect.stringContaining('(the in-cluster service account) is not a valid namespace name'),
    });
  });
});
