// 429 Too Many Requests and Retry-After, as client-go handles them: the request is sent again after the
// server's delay, at most 10 times; without Retry-After (or past the retries) the command ends with exit 7.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConnection } from '../../src/kube/config.js';
import { KubeClient, MAX_RETRIES, retryDelay } from '../../src/kube/client.js';
import { tempDirs } from '../support/tmp.js';
import { vnet } from '../support/in-process.js';

const tmpDir = tempDirs();

/** A server on 127.0.0.1 whose answers come from `answer` in turn (the last one repeats); it records each request. */
async function scriptedServer(answers: { status: number; retryAfter?: string; body: unknown }[]) {
  const seen: { method: string; url: string; at: number; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', at: Date.now(), body });
      const a = answers[Math.min(seen.length - 1, answers.length - 1)];
      if (a.retryAfter !== undefined) res.setHeader('Retry-After', a.retryAfter);
      res.statusCode = a.status;
      res.setHeader('Content-Type', 'application/json');
      res.end(`${JSON.stringify(a.body)}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = tmpDir('vnet-retry-');
  const kc = path.join(dir, 'config');
  fs.writeFileSync(kc, ['apiVersion: v1', 'kind: Config', 'current-context: c', 'clusters:', '- name: k', '  cluster:', `    server: ${url}`, 'users:', '- name: u', '  user:', '    token: t', 'contexts:', '- name: c', '  context:', '    cluster: k', '    user: u', ''].join('\n'));
  const debug: string[] = [];
  const client = new KubeClient(await loadConnection({ kubeconfig: kc }, { HOME: dir }), (l) => debug.push(l));
  closers.push(() => {
    client.close();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { client, seen, debug, kubeconfig: kc };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const tooMany = { kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, message: 'storage is (re)initializing' };
const list = { kind: 'PodList', metadata: { resourceVersion: '7' }, items: [{ metadata: { name: 'p' } }] };

describe('429 and Retry-After', () => {
  it('retries a 429 with Retry-After after the delay the server asked for, then returns the answer', async () => {
    const { client, seen, debug } = await scriptedServer([{ status: 429, retryAfter: '1', body: tooMany }, { status: 200, body: list }]);
    const got = await client.list<{ metadata: { name: string } }>('/api/v1/pods');
    expect(got.items.map((p) => p.metadata.name)).toEqual(['p']);
    expect(seen).toHaveLength(2);
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(950);
    expect(debug.some((l) => l.includes('429 with Retry-After, retry 1/10 in 1s'))).toBe(true);
  });

  it('retries a write too (a 429 was not processed), sending the same body', async () => {
    const { client, seen } = await scriptedServer([{ status: 429, retryAfter: '0', body: tooMany }, { status: 429, retryAfter: '0', body: tooMany }, { status: 200, body: { kind: 'Pod' } }]);
    await client.mergePatch('/api/v1/namespaces/a/pods/p', { metadata: { labels: { x: 'y' } } });
    expect(seen.map((s) => s.method)).toEqual(['PATCH', 'PATCH', 'PATCH']);
    expect(new Set(seen.map((s) => s.body)).size).toBe(1);
    expect(JSON.parse(seen[2].body)).toEqual({ metadata: { labels: { x: 'y' } } });
  });

  it('gives up after 10 retries with exit 7, saying it retried', async () => {
    const { client, seen } = await scriptedServer([{ status: 429, retryAfter: '0', body: tooMany }]);
    const err = await client.get('/api/v1/pods').catch((e: unknown) => e);
    expect(seen).toHaveLength(MAX_RETRIES + 1);
    expect(err).toMatchObject({ code: 'unreachable', exitCode: 7, message: 'the server is unavailable (still after 10 retries at the delay it asked for): storage is (re)initializing' });
  });

  it('a 429 without Retry-After is not retried (client-go does not either)', async () => {
    const { client, seen } = await scriptedServer([{ status: 429, body: tooMany }, { status: 200, body: list }]);
    const err = await client.get('/api/v1/pods').catch((e: unknown) => e);
    expect(seen).toHaveLength(1);
    expect(err).toMatchObject({ code: 'unreachable', message: 'the server is unavailable: storage is (re)initializing' });
  });

  it('a watch that opens on a 429 with Retry-After is opened again', async () => {
    const event = { type: 'ADDED', object: { metadata: { name: 'p' } } };
    const server = await scriptedServer([{ status: 429, retryAfter: '0', body: tooMany }, { status: 200, body: event }]);
    const got: unknown[] = [];
    for await (const e of server.client.watch('/api/v1/pods', {})) got.push(e);
    expect(got).toEqual([event]);
    expect(server.seen).toHaveLength(2);
    expect(server.seen.every((s) => s.url.includes('watch=1'))).toBe(true);
  });

  it('a command (mac list) whose lists are answered 429 with Retry-After succeeds after the retries', async () => {
    const empty = { kind: 'List', metadata: { resourceVersion: '3' }, items: [] };
    const server = await scriptedServer([{ status: 429, retryAfter: '0', body: tooMany }, { status: 429, retryAfter: '0', body: tooMany }, { status: 200, body: empty }]);
    const r = await vnet(['mac', 'list', '-n', 'a', '--kubeconfig', server.kubeconfig]);
    expect(r.stderr).toBe('No VirtualMachines found in namespace a.\n');
    expect(r.code).toBe(0);
    // Three lists (VMs, VMIs, the namespace's events for kubemacpool's MACCollision), two 429s answered
    // to the first two requests, then each list's 200.
    expect(server.seen).toHaveLength(5);
    expect(new Set(server.seen.map((x) => x.url.split('?')[0]))).toEqual(
      new Set(['/apis/kubevirt.io/v1/namespaces/a/virtualmachines', '/apis/kubevirt.io/v1/namespaces/a/virtualmachineinstances', '/api/v1/namespaces/a/events']),
    );
  });

  it('decides the delay as client-go does', () => {
    expect(retryDelay(429, '3', 0)).toBe(3000);
    expect(retryDelay(503, '2', 0)).toBe(2000);
    expect(retryDelay(500, ' 1 ', 9)).toBe(1000);
    expect(retryDelay(429, '1', MAX_RETRIES)).toBeUndefined();
    expect(retryDelay(429, undefined, 0)).toBeUndefined();
    expect(retryDelay(429, 'Wed, 21 Oct 2026 07:28:00 GMT', 0)).toBeUndefined();
    expect(retryDelay(409, '1', 0)).toBeUndefined();
  });
});
