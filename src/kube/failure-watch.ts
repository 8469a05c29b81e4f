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
import type { VirtualMachine } from '../domain/types.js';
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
    this.networks = networksOf(vm.spec?.template?.spec).map((n) => n.name);
    if (!this.networks.includes(iface)) this.networks.push(iface);
    const times = ((vm.metadata.managedFields as { time?: string }[] | undefined) ?? []).map((f) => Date.parse(f.time ?? '')).filter((t) => t > 0);
    if (times.length > 0) this.editTime = Math.max(...times);
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
    return isFailureEvent(e) && isLauncherPodOf(e.involvedObject?.name, this.vmName) && eventInterface(e, this.networks) === this.iface;
  }

  private eventFailure(e: KubeEvent): VnetError {
    return this.failure(`${e.reason} on pod ${e.involvedObject?.name}: ${e.message ?? ''}`);
  }

  /** Events of the namespace from the dynamic networks controller, from the list's resourceVersion on. */
  private async watchEvents(fail: (err: VnetError) => void): Promise<void> {
    const path = resourcePath(Resources.event, this.namespace);
    const seen = new Set<string>();
    const key = (e: KubeEvent) => `${e.metadata.uid ?? e.metadata.name}/${e.count ?? 1}`;
    let rv: string | undefined;
    while (!this.ctl.signal.aborted) {
      if (rv === undefined) {
        const list = await this.client.list<KubeEvent>(path, { fieldSelector: NETWORK_EVENT_FIELD_SELECTOR });
        rv = list.metadata?.resourceVersion;
        for (const e of list.items) {
          // A failure between the edit and the start of the wait counts; older ones are not news.
          const t = Date.parse(eventTime(e) ?? '');
          if (this.editTime !== undefined && t >= this.editTime && this.concerns(e)) {
            fail(this.eventFailure(e));
            return;
          }
          seen.add(key(e));
        }
      }
      const events = this.client.watch<KubeEvent>(path, { resourceVersion: rv, fieldSelector: NETWORK_EVENT_FIELD_SELECTOR, signal: this.ctl.signal, timeoutSeconds: 300 });
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
        if (!this.concerns(e)) continue;
        fail(this.eventFailure(e));
        return;
      }
    }
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
    const path = resourcePath(Resources.vm, this.namespace);
    let current = hotplugErrorCondition(this.vm);
    let timer: NodeJS.Timeout | undefined;
    const observe = (c: typeof current) => {
      current = c;
      if (!c) {
        clearTimeout(timer);
        timer = undefined;
      } else if (!timer) {
        timer = setTimeout(() => {
          const standing = current;
          if (standing) fail(this.failure(`KubeVirt could not update the VMI's interfaces (VM condition Failure, reason ${standing.reason}): ${standing.message ?? ''}`));
        }, this.graceMs);
      }
    };
    this.ctl.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    observe(current);
    let rv = this.vm.metadata.resourceVersion;
    while (!this.ctl.signal.aborted) {
      const events = this.client.watch<VirtualMachine>(path, { resourceVersion: rv, fieldSelector: `metadata.name=${this.vmName}`, signal: this.ctl.signal, timeoutSeconds: 300 });
      for await (const ev of events as AsyncGenerator<WatchEvent<VirtualMachine>>) {
        if (ev.type === 'ERROR') {
          // 410 Gone: the edit is too long ago to replay; go on from now.
          rv = (await this.client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, this.namespace, this.vmName)))?.metadata.resourceVersion;
          break;
        }
        if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
        observe(hotplugErrorCondition(ev.object));
      }
    }
  }
}
