// kubectl's connection overrides (--server, --token, --certificate-authority, ...): what they change
// in the connection and in the TLS and credential options, and what they refuse. No server is contacted.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionTransport, loadConnection } from '../../src/kube/config.js';
import { VnetError } from '../../src/errors.js';
import { tempDirs } from '../support/tmp.js';
import { vnet } from '../support/in-process.js';

const tmpDir = tempDirs();

/** A kubeconfig whose user has a token file and whose cluster has a CA, and the CA file next to it. */
function setup() {
  const dir = tmpDir('vnet-overrides-');
  fs.writeFileSync(path.join(dir, 'ca.crt'), 'KUBECONFIG-CA');
  fs.writeFileSync(path.join(dir, 'other-ca.crt'), 'OTHER-CA');
  fs.writeFileSync(path.join(dir, 'token'), 'file-token');
  fs.writeFileSync(path.join(dir, 'client.crt'), 'CERT');
  fs.writeFileSync(path.join(dir, 'client.key'), 'KEY');
  const config = path.join(dir, 'config');
  fs.writeFileSync(
    config,
    [
      'current-context: c',
      'clusters:',
      '- name: k',
      '  cluster:',
      '    server: https://kubeconfig.example:6443',
      '    certificate-authority: ca.crt',
      'users:',
      '- name: u',
      '  user:',
      '    tokenFile: token',
      'contexts:',
      '- name: c',
      '  context: {cluster: k, user: u, namespace: team-a}',
      '',
    ].join('\n'),
  );
  return { dir, env: { KUBECONFIG: config, HOME: dir } };
}

describe('connection overrides', () => {
  it('without overrides the kubeconfig decides (the baseline the others change)', async () => {
    const { env } = setup();
    const conn = await loadConnection({}, env);
    expect(conn.server).toBe('https://kubeconfig.example:6443');
    const t = await connectionTransport(conn);
    expect(t.headers.Authorization).toBe('Bearer file-token');
    expect(t.ca?.toString()).toBe('KUBECONFIG-CA');
  });

  it('--server and --token win over the cluster entry and the token file; the namespace stays the context\'s', async () => {
    const { env } = setup();
    const conn = await loadConnection({ server: 'https://flag.example:8443/', token: 'flag-token' }, env);
    expect(conn.server).toBe('https://flag.example:8443');
    expect(conn.namespace).toBe('team-a');
    const t = await connectionTransport(conn);
    expect(t.headers.Authorization).toBe('Bearer flag-token');
    expect(t.ca?.toString()).toBe('KUBECONFIG-CA');
  });

  it('--server needs no kubeconfig; a bare HOST:PORT is https', async () => {
    const dir = tmpDir('vnet-overrides-none-');
    const conn = await loadConnection({ server: '10.0.0.1:6443', token: 't', namespace: 'ns1' }, { HOME: dir });
    expect(conn.server).toBe('https://10.0.0.1:6443');
    expect(conn.namespace).toBe('ns1');
    expect((await connectionTransport(conn)).headers.Authorization).toBe('Bearer t');
  });

  it('--certificate-authority, --tls-server-name, --client-certificate/--client-key', async () => {
    const { dir, env } = setup();
    const conn = await loadConnection(
      { 'certificate-authority': path.join(dir, 'other-ca.crt'), 'tls-server-name': 'api.internal', 'client-certificate': path.join(dir, 'client.crt'), 'client-key': path.join(dir, 'client.key') },
      env,
    );
    const t = await connectionTransport(conn);
    expect(t.ca?.toString()).toBe('OTHER-CA');
    expect(t.servername).toBe('api.internal');
    expect(t.cert?.toString()).toBe('CERT');
    expect(t.key?.toString()).toBe('KEY');
  });

  it('--insecure-skip-tls-verify drops the kubeconfig\'s CA, as client-go does', async () => {
    const { env } = setup();
    const t = await connectionTransport(await loadConnection({ 'insecure-skip-tls-verify': true }, env));
    expect(t.rejectUnauthorized).toBe(false);
    expect(t.ca).toBeUndefined();
  });

  it('--username and --password: basic authentication', async () => {
    const { env } = setup();
    const t = await connectionTransport(await loadConnection({ username: 'jane', password: 's3cret' }, env));
    expect(t.auth).toBe('jane:s3cret');
  });

  it.each([
    [{ 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': true }, /cannot be used together/],
    [{ password: 'x' }, /--password needs --username/],
    [{ 'client-key': 'k' }, /go together/],
    [{ server: ' ' }, /--server must not be empty/],
  ])('refuses %j as a usage error', async (flags, message) => {
    const { env } = setup();
    const err = await loadConnection(flags, env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VnetError);
    expect((err as VnetError).code).toBe('usage');
    expect((err as VnetError).message).toMatch(message);
  });

  it('the flags are the CLUSTER flags of every cluster command (`version` keeps its own --server: ask the server)', async () => {
    const help = (await vnet(['status', '--help'])).stdout;
    for (const flag of ['-s, --server=<value>', '--token=<value>', '--certificate-authority=<value>', '--client-certificate=<value>', '--client-key=<value>', '--tls-server-name=<value>', '--insecure-skip-tls-verify', '--username=<value>', '--password=<value>', '--cache-dir=<value>']) {
      expect(help).toContain(flag);
    }
    const version = (await vnet(['version', '--help'])).stdout;
    expect(version).toContain('--token=<value>');
    expect(version).toMatch(/ {2}--server +Also ask the cluster/);
    expect(version).not.toContain('--server=<value>');
  });
});
