/**
 * `--wait` for a fleet edit: one list and one watch of the VMIs per namespace (not
 * one per VM), each VM's interface judged by the same observe() as a single --wait,
 * until every VM reached its goal, the time ran out, or Ctrl-C. Waiting never changes anything.
 */
import type { VirtualMachine, VirtualMachineInstance } from '../domain/types.js';
import type { KubeApi } from './api.js';
import type { WatchEvent } from './client.js';
import { Resources, resourcePath } from './resources.js';
import { observe, type WaitGoal } from './wait.js';

export interface FleetWaitItem {
  /** The VM as edited. */
  vm: VirtualMachine;
  goal: WaitGoal;
}

export type FleetWaitOutcome = 'done' | 'not-running' | 'timeout' | 'interrupted' | 'failed';

export interface FleetWaitResult {
  namespace: string;
  name: string;
  outcome: FleetWaitOutcome;
  /** The last state seen (a status state, "gone", "link down"), or why the wait failed. */
  state: string;
}

export interface FleetWaitOptions {
  /** 0: no limit. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called each time a VM's wait ends. */
  onDone?: (result: FleetWaitResult, done: number, total: number) => void;
}

/** Waits for every item; one result per item, in the order given. */
export async function waitForFleet(client: KubeApi, items: readonly FleetWaitItem[], opts: FleetWaitOptions): Promise<FleetWaitResult[]> {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = opts.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), ctl.abort()), opts.timeoutMs) : undefined;
  const onAbort = () => ctl.abort();
  if (opts.signal?.aborted) ctl.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const results = new Map<FleetWaitItem, FleetWaitResult>();
  let done = 0;
  const finish = (item: FleetWaitItem, outcome: FleetWaitOutcome, state: string) => {
    if (results.has(item)) return;
    const r = { namespace: nsOf(item), name: item.vm.metadata.name, outcome, state };
    results.set(item, r);
    done++;
    opts.onDone?.(r, done, items.length);
  };
  const byNamespace = new Map<string, FleetWaitItem[]>();
  for (const item of items) byNamespace.set(nsOf(item), [...(byNamespace.get(nsOf(item)) ?? []), item]);
  const last = new Map<FleetWaitItem, string>();
  try {
    await Promise.all(
      [...byNamespace].map(([ns, list]) =>
        waitNamespace(client, ns, list, { signal: ctl.signal, finish, last }).catch((err: unknown) => {
          if (ctl.signal.aborted) return;
          const why = err instanceof Error ? err.message : String(err);
          for (const item of list) finish(item, 'failed', `lost the watch: ${why}`);
        }),
      ),
    );
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  for (const item of items) finish(item, timedOut ? 'timeout' : 'interrupted', last.get(item) ?? 'unknown');
  return items.map((item) => results.get(item) as FleetWaitResult);
}

const nsOf = (item: FleetWaitItem) => item.vm.metadata.namespace ?? 'default';

interface NamespaceWait {
  signal: AbortSignal;
  finish(item: FleetWaitItem, outcome: FleetWaitOutcome, state: string): void;
  last: Map<FleetWaitItem, string>;
}

/** One namespace: list its VMIs, judge each VM, then watch them from the list's resourceVersion (relist on 410). */
async function waitNamespace(client: KubeApi, namespace: string, items: FleetWaitItem[], w: NamespaceWait): Promise<void> {
  const pending = new Map(items.map((i) => [i.vm.metadata.name, i]));
  const judge = (item: FleetWaitItem, vmi: VirtualMachineInstance) => {
    const obs = observe(item.goal, item.vm, vmi);
    w.last.set(item, obs.state);
    if (obs.done) {
      pending.delete(item.vm.metadata.name);
      w.finish(item, 'done', obs.state);
    }
  };
  const vmiGone = (item: FleetWaitItem) => {
    pending.delete(item.vm.metadata.name);
    if (item.goal.kind === 'gone') w.finish(item, 'done', 'gone');
    else w.finish(item, 'not-running', 'no running VMI: the change applies at its next start');
  };
  let rv: string | undefined;
  let relist = true;
  while (pending.size > 0 && !w.signal.aborted) {
    if (relist) {
      const list = await client.list<VirtualMachineInstance>(resourcePath(Resources.vmi, namespace));
      rv = list.metadata.resourceVersion;
      const byName = new Map(list.items.map((v) => [v.metadata.name, v]));
      for (const item of [...pending.values()]) {
        const vmi = byName.get(item.vm.metadata.name);
        if (vmi) judge(item, vmi);
        else vmiGone(item);
      }
      relist = false;
      if (pending.size === 0) return;
    }
    const events = client.watch<VirtualMachineInstance>(resourcePath(Resources.vmi, namespace), { resourceVersion: rv, signal: w.signal, timeoutSeconds: 300 });
    for await (const ev of events as AsyncGenerator<WatchEvent<VirtualMachineInstance>>) {
      if (ev.type === 'ERROR') {
        relist = true;
        break;
      }
      if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
      if (ev.type === 'BOOKMARK') continue;
      const item = pending.get(ev.object.metadata.name);
      if (!item) continue;
      if (ev.type === 'DELETED') vmiGone(item);
      else judge(item, ev.object);
      if (pending.size === 0) return;
    }
  }
}
