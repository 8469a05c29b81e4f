// 429 Too Many Requests with Retry-After against the sandbox: an HTTPS front on 127.0.0.1 (the API server's own
// serving certificate, so the kubeconfig's CA trusts it) answers the first request of each path with 429 and
// `Retry-After: 1`, as a loaded API server or one whose watch cache is still initializing does, and passes every
// later request to the sandbox's API server. Commands read through it as if nothing happened, a second or so later.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { freshNamespace, runCli, sandbox } from '../support/cluster.js';
import { bridgeNad, makeVM } from '../support/hotplug.js';
import { tempDirs } from '../support/tmp.js';

vi.setConfig({ testTimeout: 120_000 });

const tmpDir = tempDirs();
let front: https.Server;
let kubeconfig: string;
const answered: { path: string; status: number }[] = [];

beforeAll(async () => {
  const kc = parse(fs.readFileSync(sandbox().kubeconfig, 'utf8'));
  const upstream = new URL(kc.clusters[0].cluster.server);
  const pki = path.join(sandbox().dir, 'pki', 'serving');
  const ca = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64');
  const tooMany = new Set<string>();
  front = https.createServer({ cert: fs.readFileSync(path.join(pki, 'apiserver.crt')), key: fs.readFileSync(path.join(pki, 'apiserver.key')) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://front');
    const key = `${req.method} ${url.pathname}${url.searchParams.has('watch') ? ' watch' : ''}`;
    if (!tooMany.has(key)) {
      tooMany.add(key);
      answered.push({ path: key, status: 429 });
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', code: 429, message: 'storage is (re)initializing' }));
      return;
    }
    answered.push({ path: key, status: 0 });
    const up = https.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, ca }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  kc.clusters[0].cluster.server = `https://127.0.0.1:${(front.address() as { port: number }).port}`;
  kubeconfig = path.join(tmpDir('vnet-429-'), 'config');
  fs.writeFileSync(kubeconfig, stringify(kc));
});

afterAll(() => new Promise<void>((r) => (front ? front.close(() => r()) : r())));

describe('429 with Retry-After', () => {
  it('networks and status answer as without the 429s, each request sent again after the delay', async () => {
    const ns = await freshNamespace('vnet-429');
    await bridgeNad(ns);
    await makeVM(ns, 'web', { running: false, extra: [{ name: 'blue', nad: 'blue-net' }] });
    const started = Date.now();
    const nets = await runCli(['networks', '-n', ns, '-o', 'json', '--debug'], { kubeconfig });
    expect(nets.code, nets.stderr).toBe(0);
    expect(JSON.parse(nets.stdout).items.map((i: any) => [i.name, i.uses.map((u: any) => `${u.vm}/${u.interface}`)])).toEqual([['blue-net', ['web/blue']]]);
    // Sent in parallel, each waited the second it was asked to.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(nets.stderr).toMatch(/^debug: GET \/apis\/k8s\.cni\.cncf\.io\/v1\/namespaces\/[^ ]+\/network-attachment-definitions: 429 with Retry-After, retry 1\/10 in 1s$/m);
    const nadList = `GET /apis/k8s.cni.cncf.io/v1/namespaces/${ns}/network-attachment-definitions`;
    expect(answered.filter((a) => a.path === nadList).map((a) => a.status)).toEqual([429, 0]);

    const st = await runCli(['status', 'web', '-n', ns], { kubeconfig });
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/^web\s+blue\s+bridge\s+\S+\s+stopped\b/m);
    expect(answered.filter((a) => a.path === `GET /apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines/web`).map((a) => a.status)).toEqual([429, 0]);
  });
});
