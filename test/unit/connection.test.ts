import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeconfigFiles, loadConnection } from '../../src/kube/config.js';
import { parseDuration } from '../../src/kube/duration.js';
import { describeRequest, resourcePath, Resources } from '../../src/kube/resources.js';
import { VnetError } from '../../src/errors.js';
import { redact } from '../../src/cli/base.js';
import { VERSION } from '../../src/version.js';
import { tempDirs } from '../support/tmp.js';

const tmpDir = tempDirs();
const tmpdir = () => tmpDir('vnet-unit-');

function kubeconfig(dir: string, file: string, doc: { current?: string; clusters?: [string, string][]; users?: string[]; contexts?: [string, string, string, string?][] }): string {
  const p = path.join(dir, file);
  const lines = ['apiVersion: v1', 'kind: Config'];
  if (doc.current) lines.push(`current-context: ${doc.current}`);
  lines.push('clusters:');
  for (const [name, server] of doc.clusters ?? []) lines.push(`- name: ${name}`, '  cluster:', `    server: ${server}`, '    certificate-authority: ca.crt');
  lines.push('users:');
  for (const name of doc.users ?? []) lines.push(`- name: ${name}`, '  user:', `    token: tok-${name}`);
  lines.push('contexts:');
  for (const [name, cluster, user, ns] of doc.contexts ?? []) {
    lines.push(`- name: ${name}`, '  context:', `    cluster: ${cluster}`, `    user: ${user}`);
    if (ns) lines.push(`    namespace: ${ns}`);
  }
  fs.writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

describe('kubeconfig loading', () => {
  it('merges KUBECONFIG files with the first file winning, as kubectl does', async () => {
    const dir = tmpdir();
    const a = kubeconfig(dir, 'a', { current: 'ctx-a', clusters: [['shared', 'https://a.example:6443']], users: ['u'], contexts: [['ctx-a', 'shared', 'u', 'ns-a']] });
    const b = kubeconfig(dir, 'b', { current: 'ctx-b', clusters: [['shared', 'https://b.example:6443'], ['only-b', 'https://onlyb.example']], users: ['u', 'v'], contexts: [['ctx-b', 'only-b', 'v']] });
    const env = { KUBECONFIG: [path.join(dir, 'missing'), a, b].join(path.delimiter), HOME: dir };
    const conn = await loadConnection({}, env);
    expect(conn.contextName).toBe('ctx-a');
    expect(conn.server).toBe('https://a.example:6443');
    expect(conn.namespace).toBe('ns-a');
    expect(conn.namespaceFromFlag).toBe(false);
    // a context only the second file has is still usable, with its own cluster
    const other = await loadConnection({ context: 'ctx-b' }, env);
    expect(other.server).toBe('https://onlyb.example');
    expect(other.namespace).toBe('default');
    // relative certificate-authority paths resolve against their own file
    expect(other.cluster['certificate-authority']).toBe(path.join(dir, 'ca.crt'));
  });

  it('takes the namespace from -n first, then the context, then default', async () => {
    const dir = tmpdir();
    const a = kubeconfig(dir, 'a', { current: 'c', clusters: [['k', 'https://k:6443']], users: ['u'], contexts: [['c', 'k', 'u', 'ctx-ns'], ['bare', 'k', 'u']] });
    const env = { KUBECONFIG: a, HOME: dir };
    expect((await loadConnection({ namespace: 'flag-ns' }, env)).namespace).toBe('flag-ns');
    expect((await loadConnection({ namespace: 'flag-ns' }, env)).namespaceFromFlag).toBe(true);
    expect((await loadConnection({}, env)).namespace).toBe('ctx-ns');
    expect((await loadConnection({ context: 'bare' }, env)).namespace).toBe('default');
  });

  it('--kubeconfig overrides KUBECONFIG, and --cluster/--user override the context', async () => {
    const dir = tmpdir();
    const a = kubeconfig(dir, 'a', { current: 'c', clusters: [['k', 'https://k:6443'], ['j', 'https://j:6443']], users: ['u', 'w'], contexts: [['c', 'k', 'u', 'x']] });
    const b = kubeconfig(dir, 'b', { current: 'd', clusters: [['z', 'https://z:6443']], users: ['u'], contexts: [['d', 'z', 'u']] });
    const conn = await loadConnection({ kubeconfig: b }, { KUBECONFIG: a, HOME: dir });
    expect(conn.server).toBe('https://z:6443');
    const over = await loadConnection({ cluster: 'j', user: 'w' }, { KUBECONFIG: a, HOME: dir });
    expect(over.server).toBe('https://j:6443');
    expect(over.userName).toBe('w');
    expect(over.user?.token).toBe('tok-w');
    expect(over.namespace).toBe('x');
  });

  it('reports a missing kubeconfig, an unknown context and a malformed file as unreachable', async () => {
    const dir = tmpdir();
    await expect(loadConnection({ kubeconfig: path.join(dir, 'nope') }, { HOME: dir })).rejects.toMatchObject({ code: 'unreachable', message: expect.stringContaining('does not exist') });
    await expect(loadConnection({}, { HOME: dir })).rejects.toMatchObject({ code: 'unreachable', message: expect.stringContaining('no kubeconfig found') });
    const a = kubeconfig(dir, 'a', { current: 'c', clusters: [['k', 'https://k:6443']], users: ['u'], contexts: [['c', 'k', 'u']] });
    await expect(loadConnection({ context: 'other' }, { KUBECONFIG: a, HOME: dir })).rejects.toMatchObject({ code: 'unreachable', message: expect.stringContaining('context "other" does not exist') });
    const bad = path.join(dir, 'bad');
    fs.writeFileSync(bad, 'clusters: [ {name: x, cluster: {}} ]\n');
    await expect(loadConnection({ kubeconfig: bad }, { HOME: dir })).rejects.toBeInstanceOf(VnetError);
    // A YAML syntax error is one line (the parser's code frame is left out).
    const broken = path.join(dir, 'broken');
    fs.writeFileSync(broken, 'garbage: [\n');
    const err = await loadConnection({ kubeconfig: broken }, { HOME: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unreachable', message: expect.stringMatching(/^kubeconfig \S+ cannot be read: \S/) });
    expect((err as Error).message).not.toContain('\n');
  });

  it('an exec credential plugin that fails without a message is named in the error (not "credentials for context: ")', async () => {
    const dir = tmpdir();
    const p = path.join(dir, 'exec');
    fs.writeFileSync(
      p,
      ['apiVersion: v1', 'kind: Config', 'current-context: c', 'clusters:', '- name: k', '  cluster:', '    server: https://127.0.0.1:1', 'users:', '- name: u', '  user:', '    exec:',
        '      apiVersion: client.authentication.k8s.io/v1', `      command: ${process.execPath}`, '      args: ["-e", "process.exit(1)"]', '      interactiveMode: Never',
        'contexts:', '- name: c', '  context:', '    cluster: k', '    user: u', ''].join('\n'),
    );
    const { KubeClient } = await import('../../src/kube/client.js');
    const client = new KubeClient(await loadConnection({ kubeconfig: p }, { HOME: dir }));
    try {
      const err = await client.get('/version').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'unreachable', message: `cannot get credentials for context "c": the exec credential plugin ${process.execPath} failed without a message` });
    } finally {
      client.close();
    }
  });

  it('a connection attempt the operating system times out (ETIMEDOUT) is unreachable, not "timed out after 0ms"', async () => {
    const dir = tmpdir();
    const a = kubeconfig(dir, 'a', { current: 'c', clusters: [['k', 'https://10.0.0.1:6443']], users: ['u'], contexts: [['c', 'k', 'u']] });
    const { KubeClient } = await import('../../src/kube/client.js');
    const client = new KubeClient(await loadConnection({ kubeconfig: a }, { HOME: dir }));
    try {
      const err = (client as unknown as { networkError(e: Error, m: string, u: URL): Error }).networkError(
        Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:6443'), { code: 'ETIMEDOUT' }),
        'GET',
        new URL('https://10.0.0.1:6443/version'),
      );
      expect(err).toMatchObject({ code: 'unreachable', message: 'cannot reach the Kubernetes API server at https://10.0.0.1:6443 (ETIMEDOUT: the connection attempt timed out)' });
    } finally {
      client.close();
    }
  });

  it('lists files from KUBECONFIG and skips the missing ones', () => {
    const dir = tmpdir();
    const a = kubeconfig(dir, 'a', {});
    expect(kubeconfigFiles(undefined, { KUBECONFIG: `${a}${path.delimiter}${path.join(dir, 'gone')}`, HOME: dir }).files).toEqual([a]);
    expect(kubeconfigFiles(undefined, { HOME: dir }).files).toEqual([]);
  });
});

describe('durations', () => {
  it.each([
    ['0', 0],
    ['30', 30_000],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h2m', 3_720_000],
    ['250ms', 250],
    ['1.5s', 1500],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text, '--timeout')).toBe(ms));
  it.each(['', 'abc', '5x', '5m garbage'])('refuses %j', (text) => expect(() => parseDuration(text, '--timeout')).toThrow(/invalid duration/));
});

describe('resource paths', () => {
  it('builds namespaced, cluster and core paths', () => {
    expect(resourcePath(Resources.vm, 'ns1', 'vm1')).toBe('/apis/kubevirt.io/v1/namespaces/ns1/virtualmachines/vm1');
    expect(resourcePath(Resources.vm)).toBe('/apis/kubevirt.io/v1/virtualmachines');
    expect(resourcePath(Resources.pod, 'a')).toBe('/api/v1/namespaces/a/pods');
    expect(resourcePath(Resources.subnet, 'ignored', 's')).toBe('/apis/kubeovn.io/v1/subnets/s');
  });
  it('recovers verb, resource and namespace for RBAC hints', () => {
    expect(describeRequest('PATCH', '/apis/kubevirt.io/v1/namespaces/team-a/virtualmachines/vm1')).toEqual({ verb: 'patch', resource: 'virtualmachines.kubevirt.io', namespace: 'team-a', name: 'vm1' });
    expect(describeRequest('GET', '/api/v1/pods')).toEqual({ verb: 'list', resource: 'pods', namespace: undefined, name: undefined });
    expect(describeRequest('GET', '/api/v1/namespaces/x/pods', true).verb).toBe('watch');
    expect(describeRequest('GET', '/api/v1/namespaces/x').resource).toBe('namespaces');
  });
});

describe('redaction', () => {
  it('never lets a bearer token or a private key through', () => {
    const text = 'Authorization: Bearer abcdef0123456789abcdef token=0123456789abcdef -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY----- client-key-data: QUJD';
    const out = redact(text);
    expect(out).not.toContain('abcdef0123456789abcdef');
    expect(out).not.toContain('0123456789abcdef');
    expect(out).not.toContain('MHcCAQEE');
    expect(out).not.toContain('QUJD');
  });
});

describe('version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });
});
