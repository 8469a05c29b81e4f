/**
 * `--wait`: watches (never polls) the VM's VMI after an edit and reports the
 * interface's progress through the states of `kubectl vnet status`, until
 * the goal is reached, the time runs out, or the user presses Ctrl-C.
 * Waiting never changes anything: a timeout or an interrupt leaves the edit
 * in place, and a lost API server is reported as such.
 */
import { VnetError } from '../errors.js';
import { joinVMNetworkStatus, type InterfaceStatus } from '../domain/status.js';
import type { VirtualMachine, VirtualMachineInstance } from '../domain/types.js';
import type { KubeClient, WatchEvent } from './client.js';
import { Resources, resourcePath } from './resources.js';

export type WaitGoal =
  /** hotplug add: the interface is plugged (state ready). */
  | { kind: 'ready'; name: string }
  /** hotplug remove: the interface has left the VMI. */
  | { kind: 'gone'; name: string }
  /** link set: the VMI reports this link state. */
  | { kind: 'link'; name: string; state: 'up' | 'down' };

export interface Observation {
  done: boolean;
  /** The state shown to the user: a status state ("attaching"), "gone", or "link down". */
  state: string;
}

/**
 * Where the interface stands for this goal, from the VM (as edited) and the
 * VMI as last seen. Uses the same join and states as `kubectl vnet status`.
 */
export function observe(goal: WaitGoal, vm: VirtualMachine, vmi: VirtualMachineInstance): Observation {
  const status = joinVMNetworkStatus({ vm, vmi, pods: [] });
  const iface: InterfaceStatus | undefined = status.interfaces.find((i) => i.name === goal.name);
  const inVMI = (vmi.spec?.domain?.devices?.interfaces ?? []).some((i) => i.name === goal.name) || (vmi.status?.interfaces ?? []).some((s) => s.name === goal.name);
  switch (goal.kind) {
    case 'ready':
      return { done: iface?.state === 'ready', state: iface?.state ?? 'pending' };
    case 'gone':
      return inVMI ? { done: false, state: iface?.state ?? 'unplugging' } : { done: true, state: 'gone' };
    case 'link': {
      const reported = iface?.linkState ?? null;
      return { done: reported === goal.state, state: reported ? `link ${reported}` : `link not reported yet (${iface?.state ?? 'pending'})` };
    }
  }
}

export interface WaitOptions {
  /** 0 waits without a limit. */
  timeoutMs: number;
  /** Aborted by the caller on Ctrl-C. */
  signal?: AbortSignal;
  /** Called with each new state (only when it changes). */
  onState?: (state: string) => void;
}

export interface WaitResult {
  /** done: goal reached; no-vmi: the VM is not running (nothing to wait for). */
  outcome: 'done' | 'no-vmi';
  state: string;
  /** Set for no-vmi: why. */
  note?: string;
}

function goalText(goal: WaitGoal): string {
  return goal.kind === 'ready' ? `interface ${goal.name} to be ready` : goal.kind === 'gone' ? `interface ${goal.name} to leave the VM` : `interface ${goal.name} link ${goal.state}`;
}

/**
 * Waits for the goal by watching the VMI (a field-selected watch of one
 * object, resumed from the last resourceVersion when the server closes it,
 * re-read on 410 Gone). Throws VnetError `timeout` on timeout, `interrupted`
 * when `signal` aborts, `unreachable` when the API server goes away; all
 * carry the last state seen.
 */
export async function waitForInterface(client: KubeClient, vm: VirtualMachine, goal: WaitGoal, opts: WaitOptions): Promise<WaitResult> {
  const namespace = vm.metadata.namespace ?? 'default';
  const name = vm.metadata.name;
  const ctl = new AbortController();
  let timedOut = false;
  const timer = opts.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), ctl.abort()), opts.timeoutMs) : undefined;
  const onAbort = () => ctl.abort();
  if (opts.signal?.aborted) ctl.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let state = 'unknown';
  const see = (s: string) => {
    if (s !== state) {
      state = s;
      opts.onState?.(s);
    }
  };
  const stopped = (): never => {
    if (timedOut) {
      throw new VnetError('timeout', `timed out after ${formatMs(opts.timeoutMs)} waiting for ${goalText(goal)}; it is ${state}`, {
        hint: `the edit stays in place; follow it with: kubectl vnet status ${name} -n ${namespace}`,
      });
    }
    throw new VnetError('interrupted', `stopped waiting for ${goalText(goal)}; it is ${state}`, { hint: 'the edit stays in place; nothing was undone' });
  };
  const lost = (err: unknown): never => {
    if (ctl.signal.aborted) stopped();
    if (err instanceof VnetError && (err.code === 'unreachable' || err.code === 'timeout')) {
      throw new VnetError('unreachable', `lost the API server while waiting for ${goalText(goal)} (last state: ${state}): ${err.message}`, {
        hint: `the edit was stored before the wait began and nothing else was written; check it with kubectl vnet status ${name} -n ${namespace} when the server is back`,
        cause: err,
      });
    }
    throw err;
  };

  const vmiPath = resourcePath(Resources.vmi, namespace, name);
  const collection = resourcePath(Resources.vmi, namespace);
  try {
    let vmi: VirtualMachineInstance | null;
    try {
      vmi = await client.getOrNull<VirtualMachineInstance>(vmiPath);
    } catch (err) {
      return lost(err);
    }
    if (!vmi) return { outcome: 'no-vmi', state: 'stopped', note: `virtualmachine "${name}" has no running VMI: nothing to wait for; the change applies at its next start` };
    let obs = observe(goal, vm, vmi);
    see(obs.state);
    if (obs.done) return { outcome: 'done', state };
    let rv = vmi.metadata.resourceVersion;
    for (;;) {
      if (ctl.signal.aborted) stopped();
      let relist = false;
      try {
        const events = client.watch<VirtualMachineInstance | { code?: number; message?: string }>(collection, {
          resourceVersion: rv,
          fieldSelector: `metadata.name=${name}`,
          signal: ctl.signal,
          timeoutSeconds: 300,
        });
        for await (const ev of events as AsyncGenerator<WatchEvent<VirtualMachineInstance & { code?: number; message?: string }>>) {
          if (ev.type === 'ERROR') {
            // 410 Gone: our resourceVersion is too old; read the VMI again.
            relist = true;
            break;
          }
          const obj = ev.object;
          if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
          if (ev.type === 'BOOKMARK') continue;
          if (ev.type === 'DELETED') {
            if (goal.kind === 'gone') {
              see('gone');
              return { outcome: 'done', state };
            }
            see('stopped');
            return { outcome: 'no-vmi', state, note: `the VMI of "${name}" was deleted (the VM stopped) while waiting; the change applies at its next start` };
          }
          obs = observe(goal, vm, obj);
          see(obs.state);
          if (obs.done) return { outcome: 'done', state };
        }
      } catch (err) {
        return lost(err);
      }
      if (ctl.signal.aborted) stopped();
      if (relist) {
        try {
          vmi = await client.getOrNull<VirtualMachineInstance>(vmiPath);
        } catch (err) {
          return lost(err);
        }
        if (!vmi) {
          if (goal.kind === 'gone') {
            see('gone');
            return { outcome: 'done', state };
          }
          return { outcome: 'no-vmi', state: 'stopped', note: `the VMI of "${name}" is gone (the VM stopped); the change applies at its next start` };
        }
        rv = vmi.metadata.resourceVersion;
        obs = observe(goal, vm, vmi);
        see(obs.state);
        if (obs.done) return { outcome: 'done', state };
      }
      // Otherwise the server closed the watch (its timeout, or it went away): watch again from rv;
      // if it went away, the next request fails and `lost` reports it.
    }
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
