/**
 * The other half of `--wait`: watches for a failure that concerns the edited
 * interface, so the wait stops at once instead of running into its timeout.
 * Two watches, both from "now" (what was there before the edit is not news):
 *  - the namespace's events from the dynamic networks controller (one
 *    field-selected watch), for FailedAddingInterface, FailedRemovingInterface
 *    or InterfaceAddRejected on the VM's launcher pod about this interface;
 *  - the VM, for a Failure condition with reason HotPlugNetworkInterfaceError
 *    that was not there (or not the same) when the wait began.
 * When it cannot read either (RBAC, say), it just does not report: the main
 * wait goes on and says what it sees.
 */
import { VnetError } from '../errors.js';
import { eventInterface, hotplugErrorCondition, isFailureEvent, isLauncherPodOf, NETWORK_EVENT_FIELD_SELECTOR, type KubeEvent } from '../domain/network-events.js';
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

  constructor(
    private readonly client: KubeApi,
    vm: VirtualMachine,
    private readonly iface: string,
    private readonly lastState: () => string,
  ) {
    this.namespace = vm.metadata.namespace ?? 'default';
    this.vmName = vm.metadata.name;
    this.networks = networksOf(vm.spec?.template?.spec).map((n) => n.name);
    if (!this.networks.includes(iface)) this.networks.push(iface);
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
    return new VnetError('changeFailed', `interface ${this.iface} of virtualmachine "${this.vmName}": ${what} (it was ${this.lastState()})`, {
      hint: `the edit stays in place; fix the cause, then check with: kubectl vnet status ${this.vmName} -n ${this.namespace} (kubectl vnet doctor ${this.vmName} looks further)`,
    });
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
        for (const e of list.items) seen.add(key(e));
        rv = list.metadata?.resourceVersion;
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
        if (!isFailureEvent(e) || !isLauncherPodOf(e.involvedObject?.name, this.vmName)) continue;
        if (eventInterface(e, this.networks) !== this.iface) continue;
        fail(this.failure(`${e.reason} on pod ${e.involvedObject?.name}: ${e.message ?? ''}`));
        return;
      }
    }
  }

  /** The VM's Failure condition (HotPlugNetworkInterfaceError), new since the wait began. */
  private async watchVM(fail: (err: VnetError) => void): Promise<void> {
    const path = resourcePath(Resources.vm, this.namespace);
    const before = await this.client.getOrNull<VirtualMachine>(resourcePath(Resources.vm, this.namespace, this.vmName));
    const was = hotplugErrorCondition(before);
    const sig = (c: { lastTransitionTime?: string | null; message?: string } | undefined) => (c ? `${c.lastTransitionTime ?? ''}/${c.message ?? ''}` : '');
    let rv = before?.metadata.resourceVersion;
    while (!this.ctl.signal.aborted) {
      const events = this.client.watch<VirtualMachine>(path, { resourceVersion: rv, fieldSelector: `metadata.name=${this.vmName}`, signal: this.ctl.signal, timeoutSeconds: 300 });
      for await (const ev of events as AsyncGenerator<WatchEvent<VirtualMachine>>) {
        if (ev.type === 'ERROR') {
          rv = undefined;
          break;
        }
        if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
        const c = hotplugErrorCondition(ev.object);
        if (c && sig(c) !== sig(was)) {
          fail(this.failure(`KubeVirt could not update the VMI's interfaces (VM condition Failure, reason ${c.reason}): ${c.message ?? ''}`));
          return;
        }
      }
    }
  }
}
