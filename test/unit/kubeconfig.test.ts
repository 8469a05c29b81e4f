// Kubeconfig files as kubectl reads them (readKubeconfigFile), the TLS and
// credential options of a cluster and user (staticTransport), which users go
// through client-node (usesCredentialPlugin), and impersonation from the
// kubeconfig and the flags (loadConnection).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readKubeconfigFile, staticTransport, usesCredentialPlugin } from '../../src/kube/kubeconfig.js';
import { connectionTransport, loadConnection } from '../../src/kube/config.js';
import { KubeClient } from '../../src/kube/client.js';
import { VnetError } from '../../src/errors.js';
import { startConnectProxy, startSocks5Proxy } from '../support/proxies.js';
import { tempDirs } from '../support/tmp.js';

const tmpDir = tempDirs();
const tmpdir = () => tmpDir('vnet-kubeconfig-');

function write(file: string, text: string | Buffer): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('staticTransport', () => {
  it('takes certificate-authority, client-certificate and client-key from their files', () => {
    const dir = tmpdir();
    const ca = write(path.join(dir, 'ca.crt'), 'CA FILE');
    const cert = write(path.join(dir, 'c.crt'), 'CERT FILE');
    const key = write(path.join(dir, 'c.key'), Buffer.from([0, 1, 2, 255]));
    const t = staticTransport({ server: 'https://x', 'certificate-authority': ca }, { 'client-certificate': cert, 'client-key': key });
    expect(t.ca).toEqual(Buffer.from('CA FILE'));
    expect(t.cert).toEqual(Buffer.from('CERT FILE'));
    expect(t.key).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(t.headers).toEqual({});
    expect(t.auth).toBeUndefined();
    expect(t.rejectUnauthorized).toBeUndefined();
    expect(t.servername).toBeUndefined();
  });

  it('*-data wins over the file path, as in kubectl (the file is not even read)', () => {
    const dir = tmpdir();
    const missing = path.join(dir, 'does-not-exist');
    write(path.join(dir, 'present'), 'FROM FILE');
    const t = staticTransport(
      { 'certificate-authority-data': b64('CA DATA'), 'certificate-authority': missing },
      { 'client-certificate-data': b64('CERT DATA'), 'client-certificate': path.join(dir, 'present'), 'client-key-data': b64('KEY DATA'), 'client-key': missing },
    );
    expect(t.ca).toEqual(Buffer.from('CA DATA'));
    expect(t.cert).toEqual(Buffer.from('CERT DATA'));
    expect(t.key).toEqual(Buffer.from('KEY DATA'));
  });

  it('an empty *-data falls back to the file', () => {
    const dir = tmpdir();
    const ca = write(path.join(dir, 'ca.crt'), 'CA FILE');
    expect(staticTransport({ 'certificate-authority-data': '', 'certificate-authority': ca }, undefined).ca).toEqual(Buffer.from('CA FILE'));
  });

  it('a certificate file that cannot be read throws, naming the file', () => {
    const missing = path.join(tmpdir(), 'nope.crt');
    expect(() => staticTransport({ 'certificate-authority': missing }, undefined)).toThrow(missing);
    expect(() => staticTransport({}, { 'client-key': missing })).toThrow(missing);
  });

  it('a readable tokenFile wins over token, and its contents are trimmed', () => {
    const dir = tmpdir();
    const tokenFile = write(path.join(dir, 'token'), '  \n file-token-123 \r\n\n');
    const t = staticTransport({}, { token: 'inline-token', tokenFile });
    expect(t.headers).toEqual({ Authorization: 'Bearer file-token-123' });
  });

  it('a tokenFile alone gives the bearer token', () => {
    const tokenFile = write(path.join(tmpdir(), 'token'), 'only-file\n');
    expect(staticTransport({}, { tokenFile }).headers.Authorization).toBe('Bearer only-file');
  });

  it('an empty tokenFile leaves token in place (client-go); empty and no token sends none', () => {
    const empty = write(path.join(tmpdir(), 'token'), ' \n');
    expect(staticTransport({}, { token: 'inline-token', tokenFile: empty }).headers.Authorization).toBe('Bearer inline-token');
    expect(staticTransport({}, { tokenFile: empty }).headers.Authorization).toBeUndefined();
  });

  it('insecure-skip-tls-verify together with a certificate-authority is refused, as kubectl refuses it', () => {
    expect(() => staticTransport({ 'insecure-skip-tls-verify': true, 'certificate-authority-data': b64('x') }, undefined)).toThrow(/both insecure-skip-tls-verify and a certificate-authority/);
    expect(() => staticTransport({ 'insecure-skip-tls-verify': true, 'certificate-authority': '/nowhere/ca.crt' }, undefined)).toThrow(/both insecure-skip-tls-verify/);
  });

  it('an unreadable tokenFile falls back to token', () => {
    const t = staticTransport({}, { token: 'inline-token', tokenFile: path.join(tmpdir(), 'missing') });
    expect(t.headers).toEqual({ Authorization: 'Bearer inline-token' });
  });

  it('an unreadable tokenFile without a token throws', () => {
    const missing = path.join(tmpdir(), 'missing');
    expect(() => staticTransport({}, { tokenFile: missing })).toThrow(/ENOENT/);
    // a directory is not readable as a file either
    expect(() => staticTransport({}, { tokenFile: tmpdir() })).toThrow(/EISDIR/);
  });

  it('token alone gives the bearer token as written', () => {
    expect(staticTransport({}, { token: 'abc.def-ghi' }).headers).toEqual({ Authorization: 'Bearer abc.def-ghi' });
  });

  it('a token that YAML read as a number is refused, not sent as "Bearer 123"', () => {
    expect(() => staticTransport({}, { token: 123456789 as unknown as string })).toThrow(/token is not a string/);
  });

  it('username and password become basic auth', () => {
    expect(staticTransport({}, { username: 'admin', password: 's3cr:et' }).auth).toBe('admin:s3cr:et');
    expect(staticTransport({}, { username: 'admin' }).auth).toBe('admin:');
    expect(staticTransport({}, { password: 'orphan' }).auth).toBeUndefined();
  });

  it('insecure-skip-tls-verify: true turns verification off, and nothing else does', () => {
    expect(staticTransport({ 'insecure-skip-tls-verify': true }, undefined).rejectUnauthorized).toBe(false);
    expect(staticTransport({ 'insecure-skip-tls-verify': false }, undefined).rejectUnauthorized).toBeUndefined();
    expect(staticTransport({ 'insecure-skip-tls-verify': 'true' as unknown as boolean }, undefined).rejectUnauthorized).toBeUndefined();
    expect(staticTransport({}, undefined).rejectUnauthorized).toBeUndefined();
  });

  it('tls-server-name becomes the TLS servername', () => {
    expect(staticTransport({ 'tls-server-name': 'api.internal' }, undefined).servername).toBe('api.internal');
    expect(staticTransport({ 'tls-server-name': '' }, undefined).servername).toBeUndefined();
  });

  it('without a user only the cluster options are set', () => {
    const t = staticTransport({ 'certificate-authority-data': b64('CA'), 'tls-server-name': 'n' }, undefined);
    expect(t).toEqual({ headers: {}, ca: Buffer.from('CA'), servername: 'n' });
  });

  it('a client certificate and a token can be used together', () => {
    const t = staticTransport({}, { 'client-certificate-data': b64('C'), 'client-key-data': b64('K'), token: 't' });
    expect(t.cert).toEqual(Buffer.from('C'));
    expect(t.key).toEqual(Buffer.from('K'));
    expect(t.headers.Authorization).toBe('Bearer t');
  });
});

describe('usesCredentialPlugin', () => {
  it('is true for exec and auth-provider users only', () => {
    expect(usesCredentialPlugin({ exec: { command: 'aws' } })).toBe(true);
    expect(usesCredentialPlugin({ 'auth-provider': { name: 'oidc' } })).toBe(true);
    expect(usesCredentialPlugin({ token: 't', exec: { command: 'x' } })).toBe(true);
    expect(usesCredentialPlugin({ token: 't' })).toBe(false);
    expect(usesCredentialPlugin({ 'client-certificate-data': 'x', 'client-key-data': 'y' })).toBe(false);
    expect(usesCredentialPlugin({})).toBe(false);
    expect(usesCredentialPlugin(undefined)).toBe(false);
  });
});

const KUBECONFIG_WITH_PATHS = `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: rel
  cluster:
    server: https://rel.example:6443
    certificate-authority: ca.crt
- name: abs
  cluster:
    server: https://abs.example:6443
    certificate-authority: /etc/abs/ca.crt
- name: data
  cluster:
    server: https://data.example:6443
    certificate-authority-data: ${b64('CA')}
users:
- name: u
  user:
    client-certificate: certs/client.crt
    client-key: ../keys/client.key
    tokenFile: ./token
- name: v
  user:
    client-certificate: /abs/client.crt
    tokenFile: /abs/token
contexts:
- name: c
  context:
    cluster: rel
    user: u
    namespace: ns
`;

describe('readKubeconfigFile', () => {
  it('reads the entries in file order and makes relative paths absolute against the file\'s own directory', async () => {
    const dir = tmpdir();
    const file = write(path.join(dir, 'nested', 'config'), KUBECONFIG_WITH_PATHS);
    const k = await readKubeconfigFile(file);
    const base = path.join(dir, 'nested');
    expect(k.file).toBe(file);
    expect(k.currentContext).toBe('c');
    expect(k.clusters.map((c) => c.name)).toEqual(['rel', 'abs', 'data']);
    expect(k.clusters[0].value).toEqual({ server: 'https://rel.example:6443', 'certificate-authority': path.join(base, 'ca.crt') });
    expect(k.clusters[1].value['certificate-authority']).toBe('/etc/abs/ca.crt');
    expect(k.clusters[2].value['certificate-authority-data']).toBe(b64('CA'));
    expect(k.users[0]).toEqual({
      name: 'u',
      value: { 'client-certificate': path.join(base, 'certs', 'client.crt'), 'client-key': path.join(dir, 'keys', 'client.key'), tokenFile: path.join(base, 'token') },
    });
    expect(k.users[1].value).toEqual({ 'client-certificate': '/abs/client.crt', tokenFile: '/abs/token' });
    expect(k.contexts).toEqual([{ name: 'c', value: { cluster: 'rel', user: 'u', namespace: 'ns' } }]);
  });

  it('relative paths resolved against the file reach the files when the transport is built', async () => {
    const dir = tmpdir();
    const file = write(path.join(dir, 'kube', 'config'), KUBECONFIG_WITH_PATHS);
    write(path.join(dir, 'kube', 'ca.crt'), 'THE CA');
    write(path.join(dir, 'kube', 'certs', 'client.crt'), 'THE CERT');
    write(path.join(dir, 'keys', 'client.key'), 'THE KEY');
    write(path.join(dir, 'kube', 'token'), 'the-token\n');
    const k = await readKubeconfigFile(file);
    const t = staticTransport(k.clusters[0].value, k.users[0].value);
    expect(t.ca).toEqual(Buffer.from('THE CA'));
    expect(t.cert).toEqual(Buffer.from('THE CERT'));
    expect(t.key).toEqual(Buffer.from('THE KEY'));
    expect(t.headers.Authorization).toBe('Bearer the-token');
  });

  it('a file named by a relative path still resolves its entries to the right files', async () => {
    const dir = tmpdir();
    const file = write(path.join(dir, 'sub', 'config'), KUBECONFIG_WITH_PATHS);
    const rel = path.relative(process.cwd(), file);
    expect(path.isAbsolute(rel)).toBe(false);
    const k = await readKubeconfigFile(rel);
    expect(path.resolve(k.clusters[0].value['certificate-authority'] as string)).toBe(path.join(dir, 'sub', 'ca.crt'));
    expect(path.resolve(k.users[0].value['client-key'] as string)).toBe(path.join(dir, 'keys', 'client.key'));
  });

  it('an exec command with a path separator resolves against the file, a bare name stays for PATH', async () => {
    const dir = tmpdir();
    const file = write(path.join(dir, 'sub', 'config'), 'users:\n- name: rel\n  user:\n    exec:\n      command: ./bin/get-token\n      apiVersion: client.authentication.k8s.io/v1\n- name: bare\n  user:\n    exec:\n      command: aws\n- name: abs\n  user:\n    exec:\n      command: /usr/bin/gcloud\n');
    const k = await readKubeconfigFile(file);
    expect(k.users.map((u) => u.value.exec?.command)).toEqual([path.join(dir, 'sub', 'bin', 'get-token'), 'aws', '/usr/bin/gcloud']);
    expect(k.users[0].value.exec).toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1' });
  });

  it('reads a JSON kubeconfig (relative paths resolved the same way)', async () => {
    const dir = tmpdir();
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'j',
      clusters: [{ name: 'k', cluster: { server: 'https://json.example', 'certificate-authority': 'pki/ca.crt', 'insecure-skip-tls-verify': false } }],
      users: [{ name: 'u', user: { token: 'json-token' } }],
      contexts: [{ name: 'j', context: { cluster: 'k', user: 'u' } }],
    };
    const file = write(path.join(dir, 'config.json'), JSON.stringify(doc, null, 2));
    const k = await readKubeconfigFile(file);
    expect(k.currentContext).toBe('j');
    expect(k.clusters).toEqual([{ name: 'k', value: { server: 'https://json.example', 'certificate-authority': path.join(dir, 'pki', 'ca.crt'), 'insecure-skip-tls-verify': false } }]);
    expect(k.users).toEqual([{ name: 'u', value: { token: 'json-token' } }]);
    // and in one line, with leading white space
    const oneLine = write(path.join(dir, 'one'), `\n  ${JSON.stringify(doc)}`);
    expect((await readKubeconfigFile(oneLine)).contexts).toEqual([{ name: 'j', value: { cluster: 'k', user: 'u' } }]);
  });

  it('a YAML flow mapping that is not JSON is read as YAML', async () => {
    const text = '{apiVersion: v1, current-context: f, clusters: [{name: k, cluster: {server: "https://flow.example"}}], contexts: [{name: f, context: {cluster: k}}]}\n';
    expect(() => JSON.parse(text)).toThrow();
    const k = await readKubeconfigFile(write(path.join(tmpdir(), 'flow'), text));
    expect(k.currentContext).toBe('f');
    expect(k.clusters).toEqual([{ name: 'k', value: { server: 'https://flow.example' } }]);
    expect(k.users).toEqual([]);
  });

  it('a file with more of YAML than kubectl writes (flow sequence of exec args, block scalar) loads', async () => {
    const text = [
      'apiVersion: v1', 'kind: Config', 'current-context: e', 'clusters:', '- name: k', '  cluster:', '    server: https://exec.example', '    certificate-authority-data: |',
      '      Q0EgREFUQQ==', 'users:', '- name: u', '  user:', '    exec:', '      apiVersion: client.authentication.k8s.io/v1', '      command: aws',
      '      args: ["eks", "get-token", "--cluster-name", "prod"]', '      env: [{name: AWS_PROFILE, value: "x: y"}]', 'contexts:', '- name: e', '  context: {cluster: k, user: u}', '',
    ].join('\n');
    const k = await readKubeconfigFile(write(path.join(tmpdir(), 'config'), text));
    expect(k.users[0].value.exec).toEqual({ apiVersion: 'client.authentication.k8s.io/v1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'prod'], env: [{ name: 'AWS_PROFILE', value: 'x: y' }] });
    expect(k.clusters[0].value['certificate-authority-data']).toBe('Q0EgREFUQQ==\n');
    expect(k.contexts[0].value).toEqual({ cluster: 'k', user: 'u' });
    expect(usesCredentialPlugin(k.users[0].value)).toBe(true);
  });

  it('an empty file or a file of comments has no entries', async () => {
    const dir = tmpdir();
    for (const text of ['', '# nothing yet\n', '---\n']) {
      expect(await readKubeconfigFile(write(path.join(dir, 'empty'), text))).toEqual({ file: path.join(dir, 'empty'), clusters: [], users: [], contexts: [] });
    }
  });

  it('an entry with a null body (e.g. "user:" left empty) is an empty entry', async () => {
    const file = write(path.join(tmpdir(), 'config'), 'users:\n- name: anon\n  user:\ncontexts:\n- name: c\n');
    const k = await readKubeconfigFile(file);
    expect(k.users).toEqual([{ name: 'anon', value: {} }]);
    expect(k.contexts).toEqual([{ name: 'c', value: {} }]);
    expect(k.currentContext).toBeUndefined();
  });

  const malformed: [string, string, RegExp][] = [
    ['a YAML syntax error (the parser\'s code frame spans lines)', 'garbage: [\n', /\S/],
    ['duplicate keys', 'apiVersion: v1\napiVersion: v2\n', /unique/i],
    ['a tab as indentation', 'clusters:\n\t- name: x\n', /tab/i],
    ['a list at the top', '- a\n- b\n', /the file is not a mapping/],
    ['a scalar at the top', 'just some text\n', /the file is not a mapping/],
    ['clusters that are not a list', 'clusters:\n  name: x\n', /clusters is not a list/],
    ['an entry that is not a mapping', 'users:\n- just-a-name\n', /users\[0\] is not a mapping/],
    ['an entry without a name', 'contexts:\n- context:\n    cluster: k\n', /contexts\[0\]\.name is missing/],
    ['an entry whose body is not a mapping', 'clusters:\n- name: k\n  cluster: [a]\n', /clusters\[0\]\.cluster is not a mapping/],
    ['several documents', 'kind: Config\n---\nkind: Config\n', /document/i],
    ['malformed JSON', '{"apiVersion": "v1",, }\n', /\S/],
  ];
  it.each(malformed)('%s gives an unreachable VnetError of one line naming the file', async (_what, text, reason) => {
    const file = write(path.join(tmpdir(), 'bad config'), text);
    const err = await readKubeconfigFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VnetError);
    const e = err as VnetError;
    expect(e.code).toBe('unreachable');
    expect(e.message.startsWith(`kubeconfig ${file} cannot be read: `)).toBe(true);
    expect(e.message).not.toContain('\n');
    const why = e.message.slice(`kubeconfig ${file} cannot be read: `.length);
    expect(why).toMatch(reason);
    expect(why.trim()).not.toBe('');
    expect(e.hint).toMatch(/--kubeconfig/);
  });

  it('a missing file is an unreachable VnetError too', async () => {
    const file = path.join(tmpdir(), 'missing');
    await expect(readKubeconfigFile(file)).rejects.toMatchObject({ code: 'unreachable', message: expect.stringMatching(new RegExp(`^kubeconfig ${file} cannot be read: ENOENT`)) });
  });
});

describe('impersonation from the kubeconfig and the flags', () => {
  const KC = `apiVersion: v1
kind: Config
current-context: imp
clusters:
- name: k
  cluster:
    server: https://k.example:6443
users:
- name: impersonator
  user:
    token: t
    as: alice
    as-groups:
    - system:masters
    - team-a
- name: plain
  user:
    token: t
- name: user-only
  user:
    token: t
    as: carol
contexts:
- name: imp
  context:
    cluster: k
    user: impersonator
- name: plain
  context:
    cluster: k
    user: plain
- name: user-only
  context:
    cluster: k
    user: user-only
`;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = tmpdir();
    env = { KUBECONFIG: write(path.join(dir, 'config'), KC), HOME: dir };
  });

  it('takes as and as-groups from the user entry', async () => {
    const conn = await loadConnection({}, env);
    expect(conn.impersonateUser).toBe('alice');
    expect(conn.impersonateGroups).toEqual(['system:masters', 'team-a']);
  });

  it('--as replaces the user and keeps the kubeconfig\'s groups', async () => {
    const conn = await loadConnection({ as: 'bob' }, env);
    expect(conn.impersonateUser).toBe('bob');
    expect(conn.impersonateGroups).toEqual(['system:masters', 'team-a']);
  });

  it('--as-group replaces the groups and keeps the kubeconfig\'s user', async () => {
    const conn = await loadConnection({ 'as-group': ['ops'] }, env);
    expect(conn.impersonateUser).toBe('alice');
    expect(conn.impersonateGroups).toEqual(['ops']);
  });

  it('--as and --as-group together replace both', async () => {
    const conn = await loadConnection({ as: 'bob', 'as-group': ['ops', 'dev'] }, env);
    expect(conn.impersonateUser).toBe('bob');
    expect(conn.impersonateGroups).toEqual(['ops', 'dev']);
  });

  it('a user without as impersonates nobody unless --as says so', async () => {
    const plain = await loadConnection({ context: 'plain' }, env);
    expect(plain.impersonateUser).toBeUndefined();
    expect(plain.impersonateGroups).toEqual([]);
    const flagged = await loadConnection({ context: 'plain', as: 'dave', 'as-group': ['g'] }, env);
    expect(flagged.impersonateUser).toBe('dave');
    expect(flagged.impersonateGroups).toEqual(['g']);
    const userOnly = await loadConnection({ context: 'user-only' }, env);
    expect(userOnly.impersonateUser).toBe('carol');
    expect(userOnly.impersonateGroups).toEqual([]);
  });

  it('--user switches to another user entry and its impersonation', async () => {
    const conn = await loadConnection({ user: 'plain' }, env);
    expect(conn.impersonateUser).toBeUndefined();
    expect(conn.impersonateGroups).toEqual([]);
  });

  it('--as-group alone is enough when the user entry has as (kubectl merges field by field); with neither, --as-group is refused', async () => {
    const conn = await loadConnection({ context: 'user-only', 'as-group': ['g'] }, env);
    expect(conn.impersonateUser).toBe('carol');
    expect(conn.impersonateGroups).toEqual(['g']);
    await expect(loadConnection({ context: 'plain', 'as-group': ['g'] }, env)).rejects.toMatchObject({ code: 'usage', message: '--as-group needs --as: the API server impersonates groups only together with a user' });
  });

  it('as-groups without as is refused before any request, as kubectl refuses it', async () => {
    const d = tmpdir();
    const groupsOnly = KC.replace('    as: alice\n', '');
    const e = { KUBECONFIG: write(path.join(d, 'config'), groupsOnly), HOME: d };
    await expect(loadConnection({}, e)).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('user entry "impersonator" of the kubeconfig has as-groups but no as') });
    // --as supplies the user the groups need.
    expect((await loadConnection({ as: 'bob' }, e)).impersonateGroups).toEqual(['system:masters', 'team-a']);
  });
});

describe('a kubeconfig named by a relative path', () => {
  it('resolves the relative paths inside it to absolute ones, against the file\'s own directory', async () => {
    const d = tmpdir();
    write(path.join(d, 'sub', 'config'), 'current-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://k:6443\n    certificate-authority: ca.crt\nusers:\n- name: u\n  user:\n    tokenFile: tok\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n');
    const rel = path.relative(process.cwd(), path.join(d, 'sub', 'config'));
    expect(path.isAbsolute(rel)).toBe(false);
    const conn = await loadConnection({ kubeconfig: rel }, { HOME: d });
    expect(conn.cluster['certificate-authority']).toBe(path.join(d, 'sub', 'ca.crt'));
    expect(conn.user?.tokenFile).toBe(path.join(d, 'sub', 'tok'));
  });
});

describe('what reaches the server (a local plain-HTTP server records the headers)', () => {
  let server: http.Server;
  let url: string;
  const seen: http.IncomingHttpHeaders[] = [];
  const distinct: Record<string, string[]>[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      distinct.push(req.headersDistinct as Record<string, string[]>);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ gitVersion: 'v0.0.0-test' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function request(kubeconfig: string, flags: Parameters<typeof loadConnection>[0] = {}) {
    const dir = tmpdir();
    const file = write(path.join(dir, 'config'), kubeconfig);
    const client = new KubeClient(await loadConnection({ kubeconfig: file, ...flags }, { HOME: dir }));
    try {
      const before = seen.length;
      expect(await client.get('/version')).toEqual({ gitVersion: 'v0.0.0-test' });
      expect(seen.length).toBe(before + 1);
      return { headers: seen[seen.length - 1], distinct: distinct[distinct.length - 1], dir };
    } finally {
      client.close();
    }
  }

  it('sends the token of the tokenFile (relative to the kubeconfig) and the impersonation headers', async () => {
    const kc = (tokenFile: string) =>
      `current-context: c\nclusters:\n- name: k\n  cluster:\n    server: ${url}\nusers:\n- name: u\n  user:\n    token: inline\n    tokenFile: ${tokenFile}\n    as: alice\n    as-groups:\n    - g1\n    - g2\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n`;
    // the token file sits next to the kubeconfig, named relatively
    const dir = tmpdir();
    const file = write(path.join(dir, 'config'), kc('tok'));
    write(path.join(dir, 'tok'), 'from-file\n');
    const client = new KubeClient(await loadConnection({}, { KUBECONFIG: file, HOME: dir }));
    try {
      await client.get('/version');
    } finally {
      client.close();
    }
    const last = distinct[distinct.length - 1];
    expect(last.authorization).toEqual(['Bearer from-file']);
    expect(last['impersonate-user']).toEqual(['alice']);
    expect(last['impersonate-group']).toEqual(['g1', 'g2']);
    // with --as and --as-group the flags replace the kubeconfig's values
    const over = await request(kc(path.join(dir, 'tok')), { as: 'bob', 'as-group': ['ops'] });
    expect(over.distinct['impersonate-user']).toEqual(['bob']);
    expect(over.distinct['impersonate-group']).toEqual(['ops']);
  });

  it('sends Impersonate-Uid and Impersonate-Extra-* from as-uid and as-user-extra; --as-uid replaces the uid', async () => {
    const kc = JSON.stringify({
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: url } }],
      users: [{ name: 'u', user: { token: 't', as: 'alice', 'as-uid': 'uid-1', 'as-user-extra': { scopes: ['view', 'edit'], 'example.com/team': ['a b'], empty: [] } } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    });
    const r = await request(kc);
    expect(r.distinct['impersonate-user']).toEqual(['alice']);
    expect(r.distinct['impersonate-uid']).toEqual(['uid-1']);
    expect(r.distinct['impersonate-extra-scopes']).toEqual(['view', 'edit']);
    // client-go's escaping of the key: "/" is no token character.
    expect(r.distinct['impersonate-extra-example.com%2fteam']).toEqual(['a b']);
    expect(Object.keys(r.distinct).filter((k) => k.startsWith('impersonate-extra-'))).toHaveLength(2);
    const over = await request(kc, { 'as-uid': 'uid-2' });
    expect(over.distinct['impersonate-uid']).toEqual(['uid-2']);
  });

  it('impersonation values go out as UTF-8 bytes (as kubectl sends them); extra keys differing in case are one header; `key:` is an empty list', async () => {
    const kc = JSON.stringify({
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: url } }],
      users: [{ name: 'u', user: { token: 't', as: 'jösé', 'as-groups': ['équipe'], 'as-uid': 'id-€', 'as-user-extra': { Scopes: ['a'], scopes: ['b'], none: null } } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    });
    const r = await request(kc);
    // Node's server reads header bytes as Latin-1: turn them back into the bytes that were sent.
    const utf8 = (v: string[] | undefined) => (v ?? []).map((x) => Buffer.from(x, 'latin1').toString('utf8'));
    expect(utf8(r.distinct['impersonate-user'])).toEqual(['jösé']);
    expect(utf8(r.distinct['impersonate-group'])).toEqual(['équipe']);
    expect(utf8(r.distinct['impersonate-uid'])).toEqual(['id-€']);
    expect(r.distinct['impersonate-extra-scopes']).toEqual(['a', 'b']);
    expect(Object.keys(r.distinct).filter((k) => k.startsWith('impersonate-extra-'))).toEqual(['impersonate-extra-scopes']);
  });

  it('a uid or extra fields without a user to impersonate are refused before sending, as kubectl refuses them', async () => {
    const dir = tmpdir();
    const plain = write(path.join(dir, 'plain'), JSON.stringify({ 'current-context': 'c', clusters: [{ name: 'k', cluster: { server: url } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }] }));
    await expect(loadConnection({ kubeconfig: plain, 'as-uid': 'x' }, { HOME: dir })).rejects.toMatchObject({ code: 'usage', message: '--as-uid needs a user to impersonate: the API server impersonates a UID or extra fields only together with a user' });
    const extra = write(path.join(dir, 'extra'), JSON.stringify({ 'current-context': 'c', clusters: [{ name: 'k', cluster: { server: url } }], users: [{ name: 'u', user: { token: 't', 'as-user-extra': { s: ['v'] } } }], contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }] }));
    await expect(loadConnection({ kubeconfig: extra }, { HOME: dir })).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('as-user-extra in the user entry "u" needs a user to impersonate') });
    expect((await loadConnection({ kubeconfig: extra, as: 'bob' }, { HOME: dir })).impersonateExtra).toEqual({ s: ['v'] });
    const bad = write(path.join(dir, 'bad'), JSON.stringify({ 'current-context': 'c', clusters: [{ name: 'k', cluster: { server: url } }], users: [{ name: 'u', user: { token: 't', as: 'a', 'as-user-extra': { s: 'v' } } }], contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }] }));
    await expect(loadConnection({ kubeconfig: bad }, { HOME: dir })).rejects.toMatchObject({ code: 'usage', message: 'as-user-extra in the user entry "u" must map keys to lists of strings' });
  });

  it('a plain-http server through a proxy-url: the answer is read through the tunnel', async () => {
    for (const start of [startConnectProxy, startSocks5Proxy]) {
      const proxy = await start();
      try {
        const r = await request(JSON.stringify({ 'current-context': 'c', clusters: [{ name: 'k', cluster: { server: url, 'proxy-url': proxy.url } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }] }));
        expect(r.headers.authorization).toBe('Bearer t');
        expect(proxy.targets).toEqual([new URL(url).host]);
      } finally {
        await proxy.close();
      }
    }
  });

  it('sends the token an exec plugin prints (run by the tool, not client-node)', async () => {
    const script = write(path.join(tmpdir(), 'plugin.js'), `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } }))`);
    const exec = await request(
      JSON.stringify({
        'current-context': 'c',
        clusters: [{ name: 'k', cluster: { server: url } }],
        users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [script], interactiveMode: 'Never' } } }],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      }),
    );
    expect(exec.headers.authorization).toBe('Bearer from-exec');
  });

  it('an OIDC auth provider (run by client-node) gives its ID token when it has not expired (nothing refreshed, no issuer contacted)', async () => {
    // client-node wants an https server for auth providers; no request is needed to see the header.
    const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const idToken = `${b64url({ alg: 'none' })}.${b64url({ iss: 'https://127.0.0.1:1', exp: 4102444800 })}.sig`;
    const dir = tmpdir();
    const file = write(
      path.join(dir, 'config'),
      JSON.stringify({
        'current-context': 'c',
        clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { 'auth-provider': { name: 'oidc', config: { 'client-id': 'x', 'id-token': idToken, 'idp-issuer-url': 'https://127.0.0.1:1' } } } }],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      }),
    );
    const t = await connectionTransport(await loadConnection({ kubeconfig: file }, { HOME: dir }));
    expect(t.headers.Authorization).toBe(`Bearer ${idToken}`);
  });

  it('sends basic auth for username and password, and no impersonation headers by default', async () => {
    const r = await request(`current-context: c\nclusters:\n- name: k\n  cluster:\n    server: ${url}/\nusers:\n- name: u\n  user:\n    username: admin\n    password: "p@ss: word"\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n`);
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('admin:p@ss: word').toString('base64')}`);
    expect(r.headers['impersonate-user']).toBeUndefined();
    expect(r.headers['impersonate-group']).toBeUndefined();
  });
});

// Found by review and fixed: a client certificate or key that is not PEM made
// tls.createSecureContext throw in KubeClient.prepare outside the mapping of
// kubeconfig errors, and the user read "request to https://127.0.0.1:1 failed:
// error:0480006C:PEM routines::no start line" with no hint.
describe('certificate material that is not PEM', () => {
  const kc = (server: string) =>
    `current-context: c\nclusters:\n- name: k\n  cluster:\n    server: ${server}\nusers:\n- name: u\n  user:\n    client-certificate-data: ${b64('not a certificate')}\n    client-key-data: ${b64('not a key')}\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n`;

  it('is reported as an unreachable VnetError about the certificates of the context', async () => {
    const dir = tmpdir();
    const client = new KubeClient(await loadConnection({ kubeconfig: write(path.join(dir, 'config'), kc('https://127.0.0.1:1')) }, { HOME: dir }));
    try {
      const err = await client.get('/version').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VnetError);
      expect(err).toMatchObject({ code: 'unreachable', message: expect.stringContaining('the certificates or key of context "c" cannot be used'), hint: expect.stringContaining('client-certificate') });
    } finally {
      client.close();
    }
  });

  it('premise: staticTransport itself accepts the bytes (they are only rejected when the TLS context is built)', () => {
    const t = staticTransport({}, { 'client-certificate-data': b64('not a certificate'), 'client-key-data': b64('not a key') });
    expect(t.cert).toEqual(Buffer.from('not a certificate'));
  });
});

describe('the TLS context of the API server connections', () => {
  // A fresh copy of the module: which context comes first in the process matters.
  const fresh = async () => {
    vi.resetModules();
    return (await import('../../src/kube/client.js')).clusterSecureContext;
  };
  const fp = (pem: string) => new X509Certificate(pem).fingerprint256; // Node re-encodes and may reorder them
  const defaults = () => tls.getCACertificates('default').map(fp).sort();

  it('the first context with a CA makes the kubeconfig\'s CAs (and only them) the default roots', async () => {
    const make = await fresh();
    const [a, b] = tls.rootCertificates;
    expect(make({ ca: Buffer.from(`${a}\n${b}\n`) })).toBeDefined();
    expect(defaults()).toEqual([a, b].map(fp).sort());
  });

  it('later contexts do not change the default: another CA goes through `ca`, none gets Node\'s bundled roots explicitly', async () => {
    const make = await fresh();
    const [a, b, c] = tls.rootCertificates;
    make({ ca: Buffer.from(a) });
    const first = defaults();
    expect(first).toEqual([fp(a)]);
    expect(make({ ca: Buffer.from(`${b}\n${c}`) })).toBeDefined();
    expect(make({})).toBeDefined();
    expect(defaults()).toEqual(first);
  });

  it('refuses CA data that holds no PEM certificate (kubectl: unable to load root certificates)', async () => {
    const make = await fresh();
    expect(() => make({ ca: Buffer.from('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA') })).toThrow('the certificate-authority data holds no PEM certificate');
  });
});

describe('in-cluster configuration (no kubeconfig)', () => {
  it('takes the namespace from POD_NAMESPACE first, then the service account\'s file (client-go\'s order)', async () => {
    const sa = tmpdir();
    write(path.join(sa, 'token'), 'sa-token\n');
    write(path.join(sa, 'ca.crt'), 'unused here');
    write(path.join(sa, 'namespace'), 'from-file\n');
    const env = { HOME: tmpdir(), KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect((await loadConnection({}, env, { serviceAccountDir: sa })).namespace).toBe('from-file');
    const withPod = await loadConnection({}, { ...env, POD_NAMESPACE: 'from-env' }, { serviceAccountDir: sa });
    expect(withPod.namespace).toBe('from-env');
    expect(withPod.server).toBe('https://10.96.0.1:443');
    expect(withPod.source).toBe('in-cluster service account');
  });
});
