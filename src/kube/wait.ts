/**
 * `--wait`: watches (never polls) the VM's VMI after an edit and reports the
 * interface's progress through the states of `kubectl vnet status`, until
 * the goal is reached, the time runs out, or the user presses Ctrl-C.
 * Waiting never changes anything: a timeout or an interrupt leaves the edit
 * in place, and a lost API server is reported as such.
 */
import { VnetError } from '../errors.js';
import { joinVMNetworkStatus, type InterfaceStatus } from '../domain/status.js';
import { networkRefOf, networksOf } from '../domain/vmspec.js';
import type { VirtualMachine, VirtualMachineInstance } from '../domain/types.js';
import type { WatchEvent } from './client.js';
import type { KubeApi } from './api.js';
import { Resources, resourcePath } from './resources.js';

export type WaitGoal =
  /** hotplug add: the interface is plugged (state ready). */
  | { kind: 'ready'; name: string }
  /** hotplug remove: the interface has left the VMI. */
  | { kind: 'gone'; name: string }
  /** link set: the VMI reports this link state. */
  | { kind: 'link'; name: string; state: 'up' | 'down' }
  /**
   * network set: the VMI's network names the NAD ("ns/name") and a migration
   * that began after the edit (not `priorMigration`, the one the VMI showed before) completed.
   */
  | { kind: 'nad'; name: string; nad: string; priorMigration?: string };

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
    case 'nad':
      return observeNadChange(goal, vmi, iface);
  }
}

/** Where a NAD change stands: VMI spec updated, MigrationRequired, migrating, done. */
function observeNadChange(goal: Extract<WaitGoal, { kind: 'nad' }>, vmi: VirtualMachineInstance, iface: InterfaceStatus | undefined): Observation {
  const net = networksOf(vmi.spec).find((n) => n.name === goal.name);
  const onVMI = networkRefOf(net, vmi.metadata.namespace ?? 'default').nad;
  if (onVMI !== goal.nad) return { done: false, state: `waiting for KubeVirt to put ${goal.nad} in the VMI spec (it names ${onVMI ?? 'no NAD'})` };
  const ms = vmi.status?.migrationState;
  const uid = typeof ms?.migrationUid === 'string' ? ms.migrationUid : undefined;
  const fresh = ms && uid !== goal.priorMigration;
  if (fresh && !ms.completed && !ms.failed) return { done: false, state: `migrating (pod ${ms.sourcePod ?? '?'} -> pod ${ms.targetPod ?? '?'})` };
  if (fresh && ms.failed) return { done: false, state: 'the migration failed; KubeVirt retries it' };
  if (fresh && ms.completed) {
    return iface?.state === 'ready' ? { done: true, state: `on ${goal.nad}` } : { done: false, state: `migrated; interface ${iface?.state ?? 'pending'}` };
  }
  const mr = (vmi.status?.conditions ?? []).find((c) => c.type === 'MigrationRequired');
  if (mr) return { done: false, state: `MigrationRequired=${mr.status}${mr.reason ? ` (${mr.reason})` : ''}` };
  return { done: false, state: 'VMI spec updated; waiting for MigrationRequired' };
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
  switch (goal.kind) {
    case 'ready':
      return `interface ${goal.name} to be ready`;
    case 'gone':
      return `interface ${goal.name} to leave the VM`;
    case 'link':
      return `interface ${goal.name} link ${goal.state}`;
    case 'nad':
      return `interface ${goal.name} to move to ${goal.nad}`;
  }
}

/**
 * Waits for the goal by watching the VMI (a field-selected watch of one
 * object, resumed from the last resourceVersion when the server closes it,
 * re-read on 410 Gone). Throws VnetError `timeout` on timeout, `interrupted`
 * when `signal` aborts, `unreachable` when the API server goes away; all
 * carry the last state seen.
 */
export async function waitForInterface(client: KubeApi, vm: VirtualMachine, goal: WaitGoal, opts: WaitOptions): Promise<WaitResult> {
  const wait = new InterfaceWait(client, vm, goal, opts);
  const { FailureWatch } = await import('./failure-watch.js');
  const failures = new FailureWatch(client, vm, goal.name, () => wait.lastState);
  const running = wait.run();
  // When a failure ends the wait first, the watch it stops ends as interrupted: nobody listens.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, failures.run()]);
  } finally {
    failures.stop();
    wait.dispose();
    wait.stop();
  }
}

/** What one step of the wait found: the answer, or go on watching (from the resourceVersion kept). */
type Step = WaitResult | 'watch';

/** One --wait: its timer and abort signal, the last state seen, and the steps of the watch loop. */
class InterfaceWait {
  private readonly namespace: string;
  private readonly name: string;
  private readonly ctl = new AbortController();
  private readonly timer?: NodeJS.Timeout;
  private readonly onAbort = () => this.ctl.abort();
  private timedOut = false;
  private state = 'unknown';
  private rv?: string;

  constructor(
    private readonly client: KubeApi,
    private readonly vm: VirtualMachine,
    private readonly goal: WaitGoal,
    private readonly opts: WaitOptions,
  ) {
    this.namespace = vm.metadata.namespace ?? 'default';
    this.name = vm.metadata.name;
    if (opts.timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.ctl.abort();
      }, opts.timeoutMs);
    }
    if (opts.signal?.aborted) this.ctl.abort();
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.opts.signal?.removeEventListener('abort', this.onAbort);
  }

  /** Ends the watch (the wait is over, one way or another). */
  stop(): void {
    this.ctl.abort();
  }

  get lastState(): string {
    return this.state;
  }

  /** Read the VMI, then watch it until the goal, re-reading it after a 410 Gone. */
  async run(): Promise<WaitResult> {
    let step = await this.guard(() => this.readAndJudge('start'));
    while (step === 'watch') {
      this.throwIfStopped();
      const watched = await this.guard(() => this.watchOnce());
      if (watched !== 'relist' && watched !== 'closed') return watched;
      this.throwIfStopped();
      // 'closed': the server ended the watch (its timeout, or it went away): watch again from rv;
      // if it went away, the next request fails and guard() reports it.
      step = watched === 'relist' ? await this.guard(() => this.readAndJudge('relist')) : 'watch';
    }
    return step;
  }

  private see(s: string): void {
    if (s === this.state) return;
    this.state = s;
    this.opts.onState?.(s);
  }

  private judge(vmi: VirtualMachineInstance): Step {
    const obs = observe(this.goal, this.vm, vmi);
    this.see(obs.state);
    return obs.done ? { outcome: 'done', state: this.state } : 'watch';
  }

  /** The VMI as it is now (at the start, or after the watch's resourceVersion expired). */
  private async readAndJudge(when: 'start' | 'relist'): Promise<Step> {
    const vmi = await this.client.getOrNull<VirtualMachineInstance>(resourcePath(Resources.vmi, this.namespace, this.name));
    if (!vmi) {
      if (when === 'start') return { outcome: 'no-vmi', state: 'stopped', note: `virtualmachine "${this.name}" has no running VMI: nothing to wait for; the change applies at its next start` };
      if (this.goal.kind === 'gone') return this.gone();
      return { outcome: 'no-vmi', state: 'stopped', note: `the VMI of "${this.name}" is gone (the VM stopped); the change applies at its next start` };
    }
    this.rv = vmi.metadata.resourceVersion;
    return this.judge(vmi);
  }

  private gone(): WaitResult {
    this.see('gone');
    return { outcome: 'done', state: this.state };
  }

  /** One watch from rv: the answer, 'relist' on an ERROR event (410 Gone), 'closed' when the server ends it. */
  private async watchOnce(): Promise<WaitResult | 'relist' | 'closed'> {
    const events = this.client.watch<VirtualMachineInstance | { code?: number; message?: string }>(resourcePath(Resources.vmi, this.namespace), {
      resourceVersion: this.rv,
      fieldSelector: `metadata.name=${this.name}`,
      signal: this.ctl.signal,
      timeoutSeconds: 300,
    });
    for await (const ev of events as AsyncGenerator<WatchEvent<VirtualMachineInstance & { code?: number; message?: string }>>) {
      if (ev.type === 'ERROR') return 'relist';
      const obj = ev.object;
      if (obj?.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
      if (ev.type === 'BOOKMARK') continue;
      if (ev.type === 'DELETED') {
        if (this.goal.kind === 'gone') return this.gone();
        this.see('stopped');
        return { outcome: 'no-vmi', state: this.state, note: `the VMI of "${this.name}" was deleted (the VM stopped) while waiting; the change applies at its next start` };
      }
      const step = this.judge(obj);
      if (step !== 'watch') return step;
    }
    return 'closed';
  }

  /** Runs a step that talks to the server; a failure is the timeout or Ctrl-C when that stopped it, else the lost server. */
  private async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      this.throwIfStopped();
      if (err instanceof VnetError && (err.code === 'unreachable' || err.code === 'timeout')) {
        throw new VnetError('unreachable', `lost the API server while waiting for ${goalText(this.goal)} (last state: ${this.state}): ${err.message}`, {
          hint: `the edit was stored before the wait began and nothing else was written; check it with kubectl vnet status ${this.name} -n ${this.namespace} when the server is back`,
          cause: err,
        });
      }
      throw err;
    }
  }

  private throwIfStopped(): void {
    if (!this.ctl.signal.aborted) return;
    if (this.timedOut) {
      throw new VnetError('timeout', `timed out after ${formatMs(this.opts.timeoutMs)} waiting for ${goalText(this.goal)}; it is ${this.state}`, {
        hint: `the edit stays in place; follow it with: kubectl vnet status ${this.name} -n ${this.namespace}`,
      });
    }
    throw new VnetError('interrupted', `stopped waiting for ${goalText(this.goal)}; it is ${this.state}`, { hint: 'the edit stays in place; nothing was undone' });
  }
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
