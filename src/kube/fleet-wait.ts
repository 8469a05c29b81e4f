/**
 * `--wait` for a fleet edit: one list and one watch of the VMIs per namespace (not
 * one per VM), each VM's interface judged by the same observe() as a single --wait,
 * until every VM reached its goal, the time ran out, or Ctrl-C. Beside them, per namespace,
 * one watch of the dynamic networks controller's events and one of the VMs: a VM whose change
 * KubeVirt or Multus report as failed ends as `failed` at once, as a single --wait stops.
 * Waiting never changes anything.
 */
import { eventTime, hotplugErrorCondition, type KubeEvent } from '../domain/network-events.js';
import type { VirtualMachine, VirtualMachineInstance } from '../domain/types.js';
import type { KubeApi } from './api.js';
import { editTimeOf, eventConcerns, eventFailureText, hotplugErrorText, interfaceNamesOf, StandingCondition, watchFailureEvents, watchVMs } from './failure-watch.js';
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
  /** How long KubeVirt's HotPlugNetworkInterfaceError must stand to count (as for a single --wait). */
  graceMs?: number;
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
        waitNamespace(client, ns, list, { signal: ctl.signal, finish, last, graceMs: opts.graceMs ?? 10_000 }).catch((err: unknown) => {
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
  graceMs: number;
  finish(item: FleetWaitItem, outcome: FleetWaitOutcome, state: string): void;
  last: Map<FleetWaitItem, string>;
}

/**
 * One namespace: list its VMIs, judge each VM, then watch them from the list's resourceVersion
 * (relist on 410); beside that, the failures reported for the VMs still pending.
 */
async function waitNamespace(client: KubeApi, namespace: string, items: FleetWaitItem[], w: NamespaceWait): Promise<void> {
  const pending = new Map(items.map((i) => [i.vm.metadata.name, i]));
  // Aborted by the caller (time, Ctrl-C) or when no VM is left: ends the watches of this namespace.
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  w.signal.addEventListener('abort', onAbort, { once: true });
  const settle = (item: FleetWaitItem, outcome: FleetWaitOutcome, state: string) => {
    if (pending.get(item.vm.metadata.name) !== item) return;
    pending.delete(item.vm.metadata.name);
    w.finish(item, outcome, state);
    if (pending.size === 0) ctl.abort();
  };
  try {
    void watchFailures(client, namespace, pending, { signal: ctl.signal, graceMs: w.graceMs, fail: (item, why) => settle(item, 'failed', why) }).catch(() => undefined);
    await watchVMIs(client, namespace, pending, { signal: ctl.signal, settle, last: w.last });
  } catch (err) {
    if (!ctl.signal.aborted || w.signal.aborted) throw err;
  } finally {
    ctl.abort();
    w.signal.removeEventListener('abort', onAbort);
  }
}

async function watchVMIs(
  client: KubeApi,
  namespace: string,
  pending: Map<string, FleetWaitItem>,
  w: { signal: AbortSignal; settle: (item: FleetWaitItem, outcome: FleetWaitOutcome, state: string) => void; last: Map<FleetWaitItem, string> },
): Promise<void> {
  const judge = (item: FleetWaitItem, vmi: VirtualMachineInstance) => {
    const obs = observe(item.goal, item.vm, vmi);
    w.last.set(item, obs.state);
    if (obs.done) w.settle(item, 'done', obs.state);
  };
  const vmiGone = (item: FleetWaitItem) => {
    if (item.goal.kind === 'gone') w.settle(item, 'done', 'gone');
    else w.settle(item, 'not-running', 'no running VMI: the change applies at its next start');
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

/**
 * The failures of the pending VMs' changes, as a single --wait sees them: the dynamic networks
 * controller's failure events about the VM's interface on its launcher pod, from its edit on, and
 * KubeVirt's HotPlugNetworkInterfaceError once it has stood for the grace time. One events watch
 * and one VM watch for the namespace; when they cannot be read, the wait goes on without them.
 */
async function watchFailures(
  client: KubeApi,
  namespace: string,
  pending: Map<string, FleetWaitItem>,
  o: { signal: AbortSignal; graceMs: number; fail: (item: FleetWaitItem, why: string) => void },
): Promise<void> {
  const networks = new Map<FleetWaitItem, string[]>();
  const since = new Map<FleetWaitItem, number | undefined>();
  for (const item of pending.values()) {
    networks.set(item, interfaceNamesOf(item.vm, item.goal.name));
    since.set(item, editTimeOf(item.vm));
  }
  const times = [...since.values()].filter((t): t is number => t !== undefined);
  const grace = new StandingCondition(o.graceMs, (c, name) => {
    const item = pending.get(name);
    if (item) o.fail(item, hotplugErrorText(c));
  });
  o.signal.addEventListener('abort', () => grace.stop(), { once: true });
  const onEvent = (e: KubeEvent, how: { listed: boolean }): boolean => {
    for (const item of pending.values()) {
      if (!eventConcerns(e, item.vm.metadata.name, networks.get(item) ?? [], item.goal.name)) continue;
      // What the watch brings is new; a listed event counts when it came after this VM's edit.
      const from = since.get(item);
      if (how.listed && (from === undefined || Date.parse(eventTime(e) ?? '') < from)) continue;
      o.fail(item, eventFailureText(e));
    }
    return pending.size === 0;
  };
  await Promise.all([
    watchFailureEvents(client, namespace, { signal: o.signal, since: times.length > 0 ? Math.min(...times) : undefined, onFailure: onEvent }).catch(() => undefined),
    watchVMs(client, namespace, {
      signal: o.signal,
      onVM: (vm) => {
        if (pending.has(vm.metadata.name)) grace.observe(vm.metadata.name, hotplugErrorCondition(vm));
      },
    }).catch(() => undefined),
  ]);
}
