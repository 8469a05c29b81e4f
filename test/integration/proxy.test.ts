// Proxies as kubectl uses them, against the sandbox through real forwarding
// proxies (test/support/proxies.ts): the cluster entry's proxy-url (http,
// https and socks5, with and without a user), HTTPS_PROXY with NO_PROXY and the loopback
// exemption, and the errors. kubectl itself is run through the same proxies
// with the same settings, so the tool is held to kubectl's behaviour.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runCli, sandbox } from '../support/cluster.js';
import { startConnectProxy, startSocks5Proxy, type TestProxy } from '../support/proxies.js';

let dir: string;
let serverPort: string;
const proxies: TestProxy[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-proxy-'));
  serverPort = new URL(parse(fs.readFileSync(sandbox().kubeconfig, 'utf8')).clusters[0].cluster.server).port;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function proxy(kind: 'connect' | 'socks5', opts: { auth?: string; hosts?: Record<string, string>; tls?: import('node:tls').TlsOptions } = {}): Promise<TestProxy> {
  const p = kind === 'connect' ? await startConnectProxy(opts) : await startSocks5Proxy(opts);
  proxies.push(p);
  return p;
}

/** The sandbox's admin kubeconfig with its cluster entry changed. */
function kubeconfigWith(name: string, cluster: Record<string, unknown>): string {
  const kc = parse(fs.readFileSync(sandbox().kubeconfig, 'utf8'));
  Object.assign(kc.clusters[0].cluster, cluster);
  const file = path.join(dir, name);
  fs.writeFileSync(file, stringify(kc), { mode: 0o600 });
  return file;
}

function kubectl(kubeconfig: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(sandbox().kubectl, ['--kubeconfig', kubeconfig, 'get', 'namespace', 'default', '-o', 'name'], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const version = (kubeconfig: string, env: Record<string, string | undefined> = {}, extra: string[] = []) => runCli(['version', '--server', '-o', 'json', ...extra], { kubeconfig, env: { HTTPS_PROXY: undefined, https_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined, ...env } });

describe('proxy-url in the cluster entry', () => {
  it('http: every request goes through CONNECT to the server, as with kubectl', async () => {
    const p = await proxy('connect');
    const kc = kubeconfigWith('http.kubeconfig', { 'proxy-url': p.url });
    const r = await version(kc);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).serverVersion.gitVersion).toMatch(/^v1\./);
    expect(p.targets.length).toBeGreaterThan(0);
    expect(new Set(p.targets)).toEqual(new Set([`127.0.0.1:${serverPort}`]));
    const before = p.targets.length;
    const k = await kubectl(kc);
    expect(k.stdout.trim(), k.stderr).toBe('namespace/default');
    expect(p.targets.length).toBeGreaterThan(before);
  });

  it('http with a user and password: sent as Basic proxy authentication, never printed, even with --debug', async () => {
    const p = await proxy('connect', { auth: 'alice:s3cr%t pw' });
    const kc = kubeconfigWith('auth.kubeconfig', { 'proxy-url': `http://alice:s3cr%25t%20pw@127.0.0.1:${p.port}` });
    const r = await version(kc, {}, ['--debug']);
    expect(r.code, r.stderr).toBe(0);
    expect(p.credentials.at(-1)).toBe('alice:s3cr%t pw');
    expect(r.stderr).toContain(`debug: through the proxy http://127.0.0.1:${p.port} (proxy-url)`);
    expect(r.stderr + r.stdout).not.toMatch(/alice|s3cr/);

    const wrong = kubeconfigWith('wrong.kubeconfig', { 'proxy-url': `http://alice:nope@127.0.0.1:${p.port}` });
    const w = await version(wrong);
    expect(w.code).toBe(7);
    expect(w.stderr).toContain(`error: cannot reach the Kubernetes API server at https://127.0.0.1:${serverPort} through the proxy http://127.0.0.1:${p.port} (proxy-url): the proxy refused CONNECT 127.0.0.1:${serverPort}: 407 Proxy Authentication Required`);
    expect(w.stderr).toMatch(/^hint: /m);
    expect(w.stderr).not.toContain('nope');
    expect(w.stderr).not.toMatch(/^\s+at /m);
  });

  it('socks5, with and without a user, as with kubectl', async () => {
    const open = await proxy('socks5');
    const kc = kubeconfigWith('socks.kubeconfig', { 'proxy-url': open.url });
    const r = await version(kc);
    expect(r.code, r.stderr).toBe(0);
    expect(new Set(open.targets)).toEqual(new Set([`127.0.0.1:${serverPort}`]));
    const k = await kubectl(kc);
    expect(k.stdout.trim(), k.stderr).toBe('namespace/default');

    const locked = await proxy('socks5', { auth: 'bob:pw' });
    const withUser = kubeconfigWith('socks-auth.kubeconfig', { 'proxy-url': `socks5://bob:pw@127.0.0.1:${locked.port}` });
    expect((await version(withUser)).code).toBe(0);
    expect(locked.credentials.at(-1)).toBe('bob:pw');
    const withoutUser = kubeconfigWith('socks-noauth.kubeconfig', { 'proxy-url': locked.url });
    const refused = await version(withoutUser);
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('the SOCKS5 proxy accepts none of the offered authentication methods');
  });

  it("https: TLS to the proxy, verified against the trusted roots (NODE_EXTRA_CA_CERTS here); an untrusted proxy is refused", async () => {
    // A self-signed certificate for the proxy at 127.0.0.1, trusted only through NODE_EXTRA_CA_CERTS.
    const key = path.join(dir, 'proxy.key');
    const cert = path.join(dir, 'proxy.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=vnet test proxy', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const p = await proxy('connect', { auth: 'dora:tls pw', tls: { key: fs.readFileSync(key), cert: fs.readFileSync(cert) } });
    const kc = kubeconfigWith('https.kubeconfig', { 'proxy-url': `https://dora:tls%20pw@127.0.0.1:${p.port}` });
    const r = await version(kc, { NODE_EXTRA_CA_CERTS: cert });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).serverVersion.gitVersion).toMatch(/^v1\./);
    expect(new Set(p.targets)).toEqual(new Set([`127.0.0.1:${serverPort}`]));
    expect(p.credentials.at(-1)).toBe('dora:tls pw');

    // Without the proxy's CA the handshake fails: verification stays on, and the error is the proxy's.
    const before = p.targets.length;
    const untrusted = await version(kc, { NODE_EXTRA_CA_CERTS: undefined });
    expect(untrusted.code).toBe(7);
    expect(untrusted.stderr).toContain(`error: cannot reach the proxy https://127.0.0.1:${p.port} (proxy-url) on the way to https://127.0.0.1:${serverPort}`);
    expect(untrusted.stderr).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    expect(untrusted.stderr).toContain("hint: the proxy's certificate must be trusted");
    expect(untrusted.stderr).not.toMatch(/dora|tls pw/);
    expect(p.targets.length).toBe(before);
  });

  it('a proxy that is not running: "cannot reach the proxy", exit 7', async () => {
    const p = await proxy('connect');
    await p.close();
    const kc = kubeconfigWith('dead.kubeconfig', { 'proxy-url': p.url });
    const r = await version(kc);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(`error: cannot reach the proxy http://127.0.0.1:${p.port} (proxy-url) on the way to https://127.0.0.1:${serverPort} (ECONNREFUSED)`);
  });

  it('a proxy that accepts but never answers: the command gives up after --request-timeout (exit 7), not hangs', async () => {
    const net = await import('node:net');
    const held: import('node:net').Socket[] = [];
    const silent = net.createServer((c) => held.push(c));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const kc = kubeconfigWith('silent.kubeconfig', { 'proxy-url': `http://127.0.0.1:${port}` });
      const started = Date.now();
      const r = await version(kc, {}, ['--request-timeout', '2s']);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`error: cannot reach the Kubernetes API server at https://127.0.0.1:${serverPort} through the proxy http://127.0.0.1:${port} (proxy-url): no answer within 2s while opening the tunnel to 127.0.0.1:${serverPort}`);
      expect(held.length).toBeGreaterThan(0);
    } finally {
      for (const c of held) c.destroy();
      silent.close();
    }
  });

  it('a proxy-url kubectl would refuse is refused before any request, without echoing it', async () => {
    const kc = kubeconfigWith('ftp.kubeconfig', { 'proxy-url': 'ftp://carol:hunter2@proxy.example:21' });
    const r = await version(kc);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('error: the cluster of context "vnet-sandbox-admin": proxy-url has scheme "ftp"; kubectl accepts http, https and socks5 URLs with a host');
    expect(r.stderr).not.toContain('hunter2');
  });
});

describe('HTTPS_PROXY and NO_PROXY', () => {
  it('a loopback server never goes through the environment proxy (kubectl does the same)', async () => {
    const p = await proxy('connect');
    const r = await version(sandbox().kubeconfig, { HTTPS_PROXY: p.url });
    expect(r.code, r.stderr).toBe(0);
    const k = await kubectl(sandbox().kubeconfig, { HTTPS_PROXY: p.url });
    expect(k.code, k.stderr).toBe(0);
    expect(p.targets).toEqual([]);
  });

  it('a name only the proxy can resolve: reached through HTTPS_PROXY; NO_PROXY sends it direct (and it fails)', async () => {
    // api.vnet.test resolves nowhere but at the proxy; tls-server-name keeps verification against the sandbox's certificate.
    const p = await proxy('connect', { hosts: { 'api.vnet.test': '127.0.0.1' } });
    const kc = kubeconfigWith('named.kubeconfig', { server: `https://api.vnet.test:${serverPort}`, 'tls-server-name': 'kubernetes.default' });
    const r = await version(kc, { https_proxy: p.url });
    expect(r.code, r.stderr).toBe(0);
    expect(p.targets).toContain(`api.vnet.test:${serverPort}`);
    const k = await kubectl(kc, { https_proxy: p.url });
    expect(k.stdout.trim(), k.stderr).toBe('namespace/default');

    const count = p.targets.length;
    const direct = await version(kc, { https_proxy: p.url, NO_PROXY: 'example.com,.vnet.test' });
    expect(direct.code).toBe(7);
    expect(direct.stderr).toContain(`cannot reach the Kubernetes API server at https://api.vnet.test:${serverPort} (ENOTFOUND)`);
    expect(p.targets.length).toBe(count);
  });
});
