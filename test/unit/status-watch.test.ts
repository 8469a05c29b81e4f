// status -w without a cluster: the reflector resumes a watch the server closed from the last resourceVersion
// (bookmarks included) and lists again on 410 Gone; the printer streams changed rows (or objects) only.
import { describe, expect, it } from 'vitest';
import type { KubeApi } from '../../src/kube/api.js';
import type { KubeList, WatchEvent } from '../../src/kube/client.js';
import { Reflector } from '../../src/kube/reflector.js';
import { joinVMNetworkStatus } from '../../src/domain/status.js';
import { StatusWatchPrinter } from '../../src/render/status-watch.js';
import { testVM, testVMI } from '../support/vm.js';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string }; v?: number };

/** A KubeApi whose lists and watches answer from scripts, recording each call. */
function fakeApi(lists: KubeList<Obj>[], watches: WatchEvent<Obj>[][], onDrained: () => void) {
  const calls: string[] = [];
  const api = {
    list: async () => {
      const l = lists.shift();
      calls.push(`list -> ${l?.metadata.resourceVersion}`);
      if (!l) throw new Error('no more lists');
      return l;
    },
    watch: async function* (_path: string, o: { resourceVersion?: string; signal?: AbortSignal }) {
      calls.push(`watch from ${o.resourceVersion}`);
      const events = watches.shift();
      if (!events) {
        onDrained();
        if (!o.signal?.aborted) await new Promise((r) => o.signal?.addEventListener('abort', r));
        return;
      }
      for (const e of events) yield e;
    },
  } as unknown as KubeApi;
  return { api, calls };
}

const obj = (name: string, rv: string, v = 0): Obj => ({ metadata: { name, namespace: 'a', resourceVersion: rv }, v });

describe('Reflector', () => {
  it('resumes from the last resourceVersion (a bookmark too) when the server closes the watch, and lists again on 410', async () => {
    const ctl = new AbortController();
    const { api, calls } = fakeApi(
      [
        { items: [obj('x', '5')], metadata: { resourceVersion: '10' } },
        { items: [obj('y', '40')], metadata: { resourceVersion: '41' } },
      ],
      [
        [{ type: 'ADDED', object: obj('z', '11') }, { type: 'BOOKMARK', object: obj('', '15') }],
        [{ type: 'MODIFIED', object: obj('x', '20', 1) }, { type: 'DELETED', object: obj('z', '21') }],
        [{ type: 'ERROR', object: { code: 410, message: 'too old resource version' } as unknown as Obj }],
      ],
      () => ctl.abort(),
    );
    const r = new Reflector<Obj>(api, { path: '/x' });
    await r.list();
    const seen: string[] = [];
    await r.run(ctl.signal, () => seen.push([...r.items.keys()].join(',')));
    expect(calls).toEqual(['list -> 10', 'watch from 10', 'watch from 15', 'watch from 21', 'list -> 41', 'watch from 41']);
    expect(seen).toEqual(['a/x,a/z', 'a/x,a/z', 'a/x', 'a/y']);
  });

  it('an ERROR event other than 410 ends the watch with an error that says so', async () => {
    const { api } = fakeApi([{ items: [], metadata: { resourceVersion: '1' } }], [[{ type: 'ERROR', object: { code: 500, message: 'etcd is gone' } as unknown as Obj }]], () => undefined);
    const r = new Reflector<Obj>(api, { path: '/apis/kubevirt.io/v1/virtualmachines' });
    await r.list();
    await expect(r.run(new AbortController().signal, () => undefined)).rejects.toMatchObject({ code: 'unreachable', message: 'the watch of /apis/kubevirt.io/v1/virtualmachines failed: etcd is gone' });
  });
});

describe('StatusWatchPrinter', () => {
  const web = testVM({ name: 'web', namespace: 'a', bridges: { blue: 'blue-net' } });
  const pending = joinVMNetworkStatus({ vm: web, vmi: testVMI(web, { interfaces: [{ name: 'default', infoSource: 'domain', linkState: 'up' }] }), pods: [] });
  const ready = joinVMNetworkStatus({
    vm: web,
    vmi: testVMI(web, { interfaces: [{ name: 'default', infoSource: 'domain', linkState: 'up' }, { name: 'blue', infoSource: 'domain, multus-status', linkState: 'up' }] }),
    pods: [],
  });

  it('table stream: the table once, then only the rows that changed, without the header', () => {
    const p = new StatusWatchPrinter({ format: 'table', showNamespace: false, redraw: false, empty: 'No resources found in a namespace.' });
    const first = p.update({ items: [pending], changed: ['a/web'], removed: [] }).stdout;
    expect(first.split('\n')[0]).toMatch(/^VM\s+INTERFACE\s+BINDING/);
    expect(first.split('\n').filter(Boolean)).toHaveLength(3);
    const next = p.update({ items: [ready], changed: ['a/web'], removed: [] }).stdout;
    expect(next.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^web\s+blue\s+bridge\s+a\/blue-net\s+ready\s/)]);
    expect(p.update({ items: [ready], changed: ['a/web'], removed: [] }).stdout).toBe('');
  });

  it('table stream: nothing in scope at first gives the note once; the header comes with the first VM', () => {
    const p = new StatusWatchPrinter({ format: 'table', showNamespace: false, redraw: false, empty: 'No resources found in a namespace.' });
    expect(p.update({ items: [], changed: [], removed: [] })).toEqual({ stdout: '', stderr: ['No resources found in a namespace.'] });
    expect(p.update({ items: [], changed: [], removed: [] })).toEqual({ stdout: '', stderr: [] });
    expect(p.update({ items: [pending], changed: ['a/web'], removed: [] }).stdout.split('\n')[0]).toMatch(/^VM\s+INTERFACE\s+BINDING/);
  });

  it('json: one object per line for each changed VM; redraw: the whole table each time', () => {
    const p = new StatusWatchPrinter({ format: 'json', showNamespace: false, redraw: false, empty: '' });
    const out = p.update({ items: [ready], changed: ['a/web'], removed: [] }).stdout;
    expect(out.endsWith('\n')).toBe(true);
    expect(out.trimEnd().split('\n').map((l) => JSON.parse(l).name)).toEqual(['web']);
    expect(p.update({ items: [ready], changed: [], removed: [] }).stdout).toBe('');
    const r = new StatusWatchPrinter({ format: 'table', showNamespace: false, redraw: true, empty: 'No resources found in a namespace.' });
    expect(r.update({ items: [pending], changed: ['a/web'], removed: [] }).stdout.split('\n').filter(Boolean)).toHaveLength(3);
    expect(r.update({ items: [ready], changed: ['a/web'], removed: [] }).stdout.split('\n').filter(Boolean)).toHaveLength(3);
    expect(r.update({ items: [], changed: [], removed: ['a/web'] }).stdout).toBe('No resources found in a namespace.\n');
  });
});
