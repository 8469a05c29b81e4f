/**
 * The other half of `--wait`: watches for a failure that concerns the edited
 * interface, so the wait stops at once instead of running into its timeout.
 * Two watches, both from "now" (what was there before the edit is not news):
 *  - the namespace's events from the dynamic networks controller (one
 *    field-selected watch), for FailedAddingInterface, FailedRemovingInterface
 *    or InterfaceAddRejected on the VM's launcher pod about this interface;
 *  - the VM, for a Failure condition with reason HotPlugNetworkInterfaceError
 *    that stands for a grace time (KubeVirt clears one a retry gets past).
 * When it cannot read either (RBAC, say), it just does not report: the main
 * wait goes on and says what it sees.
 */
import { VnetError } from '../errors.js';
import { eventInterface, eventTime, hotplugErrorCondition, isFailureEvent, isLauncherPodOf, NETWORK_EVENT_FIELD_SELECTOR, type KubeEvent } from '../domain/network-events.js';
import type { Condition, VirtualMachine } from '../domain/types.js';
import { networksOf } from '../domain/vmspec.js';
import type { KubeApi } from './api.js';
import type { WatchEvent } from './client.js';
import { Resources, resourcePath } from './resources.js';

export class FailureWatch {
  private readonly ctl = new AbortController();
  private readonly namespace: string;
  private readonly vmName: string;
  private readonly networks: string[];
  /** When the edit was stored (the server's time, from the VM's managedFields), if known. */
  private readonly editTime?: number;

  constructor(
    private readonly client: KubeApi,
    /** The VM as the edit left it: the baseline for its conditions and the watch's resourceVersion. */
    private readonly vm: VirtualMachine,
    private readonly iface: string,
    private readonly lastState: () => string,
    /** How long a Failure condition must stand before it counts (KubeVirt's retries clear passing ones). */
    private readonly graceMs = 10_000,
  ) {
    this.namespace = vm.metadata.namespace ?? 'default';
    this.vmName = vm.metadata.name;
    this.networks = interfaceNamesOf(vm, iface);
    this.editTime = editTimeOf(vm);
  }

  stop(): void {
    this.ctl.abort();
  }

  /** Rejects with a VnetError `changeFailed` when a failure concerns the interface; never resolves otherwise. */
  run(): Promise<never> {
    return new Promise<never>((_, reject) => {
      const fail = (err: VnetError) => {
        this.stop();
        reject(err);
      };
      void this.watchEvents(fail).catch(() => undefined);
      void this.watchVM(fail).catch(() => undefined);
    });
  }

  private failure(what: string): VnetError {
    // The state the wait last saw; none yet when the failure came before its first read.
    const state = this.lastState();
    const was = state && state !== 'unknown' ? ` (it was ${state})` : '';
    return new VnetError('changeFailed', `interface ${this.iface} of virtualmachine "${this.vmName}": ${what}${was}`, {
      hint: `the edit stays in place; fix the cause, then check with: kubectl vnet status ${this.vmName} -n ${this.namespace} (kubectl vnet doctor ${this.vmName} looks further)`,
    });
  }

  private concerns(e: KubeEvent): boolean {
    return isFailureEvent(e) && eventConcerns(e, this.vmName, this.networks, this.iface);
  }

  private eventFailure(e: KubeEvent): VnetError {
    return this.failure(eventFailureText(e));
  }

  private async watchEvents(fail: (err: VnetError) => void): Promise<void> {
    await watchFailureEvents(this.client, this.namespace, {
      signal: this.ctl.signal,
      since: this.editTime,
      onFailure: (e) => {
        if (!this.concerns(e)) return false;
        fail(this.eventFailure(e));
        return true;
      },
    });
  }

  /**
   * The VM's Failure condition (HotPlugNetworkInterfaceError) counts once it has stood for `graceMs`.
   * KubeVirt sets it whenever one sync of the VMI's interfaces fails, and that includes a patch whose
   * `test` operation met a VMI newer than virt-controller's cache: the sync is requeued at once and the
   * next success removes the condition. A cause that stays (an admission policy, say) fails every retry,
   * so the condition is still there when the grace time is up. The same holds for a condition the edit
   * found: the sync the edit triggers clears it when it succeeds.
   */
  private async watchVM(fail: (err: VnetError) => void): Promise<void> {
    const grace = new StandingCondition(this.graceMs, (c) => fail(this.failure(hotplugErrorText(c))));
    this.ctl.signal.addEventListener('abort', () => grace.stop(), { once: true });
    grace.observe(this.vmName, hotplugErrorCondition(this.vm));
    await watchVMs(this.client, this.namespace, {
      signal: this.ctl.signal,
      resourceVersion: this.vm.metadata.resourceVersion,
      fieldSelector: `metadata.name=${this.vmName}`,
      onVM: (vm) => grace.observe(this.vmName, hotplugErrorCondition(vm)),
    });
  }
}

/**
 * A message that says the request met a newer object: KubeVirt's patch of the VMI carries `test`
 * operations (a failed one is a 422 with the API server's generic "error in our request"), or a
 * 409 conflict. virt-controller requeues the sync and a retry gets past it.
 */
export function isConflictMessage(message: string | undefined): boolean {
  return /the server rejected our request due to an error in our request$|the object has been modified; please apply your changes to the latest version/.test(message ?? '');
}

/** The names an event's pod interface may stand for: the VM's networks, and the edited interface. */
export function interfaceNamesOf(vm: VirtualMachine, iface: string): string[] {
  const names = networksOf(vm.spec?.template?.spec).map((n) => n.name);
  return names.includes(iface) ? names : [...names, iface];
}

/** True when a dynamic networks controller event is about interface `iface` on a launcher pod of `vmName`. */
export function eventConcerns(e: KubeEvent, vmName: string, networks: readonly string[], iface: string): boolean {
  return isLauncherPodOf(e.involvedObject?.name, vmName) && eventInterface(e, networks) === iface;
}

/** How a failure event reads in a failure. */
export function eventFailureText(e: KubeEvent): string {
  return `${e.reason} on pod ${e.involvedObject?.name}: ${e.message ?? ''}`;
}

/** How a standing HotPlugNetworkInterfaceError reads in a failure. */
export function hotplugErrorText(c: { reason?: string; message?: string }): string {
  return `KubeVirt could not update the VMI's interfaces (VM condition Failure, reason ${c.reason}): ${c.message ?? ''}`;
}

/**
 * KubeVirt's HotPlugNetworkInterfaceError, per VM, counted once it has stood for `graceMs`: KubeVirt
 * sets it whenever one sync of the VMI's interfaces fails, and that includes a patch whose `test`
 * operation met a VMI newer than virt-controller's cache; it requeues the sync at once and the next
 * success removes the condition. A cause that stays (an admission policy, say) fails every retry,
 * so the condition is still there when the grace time is up.
 */
export class StandingCondition {
  private readonly current = new Map<string, Condition>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly graceMs: number,
    private readonly onStanding: (c: Condition, key: string) => void,
  ) {}

  observe(key: string, c: Condition | undefined): void {
    if (this.stopped) return;
    // A patch that met a newer VMI than KubeVirt's cache: KubeVirt retries it, whatever the time it takes.
    if (c && isConflictMessage(c.message)) c = undefined;
    if (!c) {
      this.current.delete(key);
      clearTimeout(this.timers.get(key));
      this.timers.delete(key);
      return;
    }
    this.current.set(key, c);
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        const standing = this.current.get(key);
        if (standing) this.onStanding(standing, key);
      }, this.graceMs),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/**
 * Watches a namespace's events from the dynamic networks controller (one field-selected list and
 * watch) and hands each failure event to `onFailure` once, until it returns true or the signal
 * aborts. Listed events count only when they happened at or after `since` (ms; none without it);
 * what the watch brings is new. A watch the server ends resumes from the last resourceVersion; an
 * ERROR lists again.
 */
export async function watchFailureEvents(
  client: KubeApi,
  namespace: string,
  o: { signal: AbortSignal; since?: number; onFailure: (e: KubeEvent, how: { listed: boolean }) => boolean },
): Promise<void> {
  const path = resourcePath(Resources.event, namespace);
  const seen = new Set<string>();
  const key = (e: KubeEvent) => `${e.metadata.uid ?? e.metadata.name}/${e.count ?? 1}`;
  let rv: string | undefined;
  while (!o.signal.aborted) {
    if (rv === undefined) {
      const list = await client.list<KubeEvent>(path, { fieldSelector: NETWORK_EVENT_FIELD_SELECTOR });
      if (o.signal.aborted) return;
      rv = list.metadata?.resourceVersion;
      for (const e of list.items) {
        const t = Date.parse(eventTime(e) ?? '');
        const counts = o.since !== undefined && t >= o.since && !seen.has(key(e));
        seen.add(key(e));
        if (counts && isFailureEvent(e) && o.onFailure(e, { listed: true })) return;
      }
    }
    const events = client.watch<KubeEvent>(path, { resourceVersion: rv, fieldSelector: NETWORK_EVENT_FIELD_SELECTOR, signal: o.signal, timeoutSeconds: 300 });
    for await (const ev of events as AsyncGenerator<WatchEvent<KubeEvent>>) {
      if (ev.type === 'ERROR') {
        rv = undefined;
        break;
      }
      const e = ev.object;
      if (e?.metadata?.resourceVersion) rv = e.metadata.resourceVersion;
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
      if (seen.has(key(e))) continue;
      seen.add(key(e));
      if (isFailureEvent(e) && o.onFailure(e, { listed: false })) return;
    }
  }
}

/**
 * Watches VMs of a namespace, handing each added or changed one to `onVM`: from `resourceVersion`
 * when given, else (and after a 410) from a list whose items are handed over first.
 */
export async function watchVMs(
  client: KubeApi,
  namespace: string,
  o: { signal: AbortSignal; resourceVersion?: string; fieldSelector?: string; onVM: (vm: VirtualMachine) => void },
): Promise<void> {
  const path = resourcePath(Resources.vm, namespace);
  let rv = o.resourceVersion;
  while (!o.signal.aborted) {
    if (rv === undefined) {
      const list = await client.list<VirtualMachine>(path, { fieldSelector: o.fieldSelector });
      if (o.signal.aborted) return;
      rv = list.metadata.resourceVersion;
      for (const vm of list.items) o.onVM(vm);
    }
    const events = client.watch<VirtualMachine>(path, { resourceVersion: rv, fieldSelector: o.fieldSelector, signal: o.signal, timeoutSeconds: 300 });
    for await (const ev of events as AsyncGenerator<WatchEvent<VirtualMachine>>) {
      if (ev.type === 'ERROR') {
        rv = undefined;
        break;
      }
      if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED') o.onVM(ev.object);
    }
  }
}

/** When an edit of the VM was stored (the server's time, from its managedFields), if known. */
export function editTimeOf(vm: VirtualMachine): number | undefined {
  const times = ((vm.metadata.managedFields as { time?: string }[] | undefined) ?? []).map((f) => Date.parse(f.time ?? '')).filter((t) => t > 0);
  return times.length > 0 ? Math.max(...times) : undefined;
}
