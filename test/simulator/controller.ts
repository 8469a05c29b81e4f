// The simulator's controllers: what virt-controller (VM and VMI controllers,
// the network VM controller, the workload updater), virt-handler, Multus and
// the multus-dynamic-networks-controller do to VMs, VMIs and launcher pods.
// One serial work queue, level-triggered: every pass reads the cache, works
// out the next step and writes it; delays between steps are per-object
// timers that requeue the object.
import { randomUUID } from 'node:crypto';
import { ApiError, Cache, keyOf, runInformer, type Obj, type Rest } from './kube.ts';
import {
  NETCONF_MAC_ANNOTATION,
  NETWORKS_ANNOTATION,
  NETWORK_STATUS_ANNOTATION,
  applyDefaultNetwork,
  defaultNetworkInterface,
  bindingOf,
  clone,
  controllerRef,
  filterNetworksByInterfaces,
  getCondition,
  infoSources,
  interfacesOf,
  isAbsent,
  isHandMade,
  isIgnored,
  MANAGED_ANNOTATION,
  isPrimaryNetwork,
  isSecondaryMultus,
  joinInfoSources,
  jsonEqual,
  multusNetworksAnnotation,
  nadNamespacedName,
  networksOf,
  parseList,
  parseMac,
  parseNetconf,
  runsNetconfSidecar,
  podInterfaceName,
  removeCondition,
  setCondition,
  stableMac,
  vmiFromVM,
} from './model.ts';

export interface SimulatorOptions {
  stepMs: number;
  nodes: string[];
  defaultNetworkName: string;
  log: (msg: string) => void;
}

const KV = '/apis/kubevirt.io/v1';
const LAUNCHER_IMAGE = 'quay.io/kubevirt/virt-launcher:v1.6.0';
const HOOK_SIDECARS_ANNOTATION = 'hooks.kubevirt.io/hookSidecars';
const RESTART_REQUIRED_MESSAGE = 'a non-live-updatable field was changed in the template spec';

const vmPath = (ns: string, name = '') => `${KV}/namespaces/${ns}/virtualmachines${name ? '/' + name : ''}`;
const vmiPath = (ns: string, name = '') => `${KV}/namespaces/${ns}/virtualmachineinstances${name ? '/' + name : ''}`;
const podPath = (ns: string, name = '') => `/api/v1/namespaces/${ns}/pods${name ? '/' + name : ''}`;

/** What is wrong with a hooks.kubevirt.io/hookSidecars value, or '' (absent or a JSON list of objects). */
function hookSidecarsError(value: unknown): string {
  if (value === undefined || value === null) return '';
  try {
    const v = JSON.parse(String(value));
    if (!Array.isArray(v)) return 'expected a JSON list';
    if (v.some((e) => !e || typeof e !== 'object' || Array.isArray(e))) return 'every entry must be an object';
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/** A failed write that a fresh read and another pass will fix. */
class Retry extends Error {}

/** Per-object step timers; only timers touched in a pass survive it. */
class Timers {
  private old: Map<string, number>;
  private next = new Map<string, number>();
  private owner: Simulator;
  private uid: string;
  private key: string;

  constructor(owner: Simulator, uid: string, key: string) {
    this.owner = owner;
    this.uid = uid;
    this.key = key;
    this.old = owner.timers.get(uid) ?? new Map();
  }

  /** True once `ms` have passed since this step was first asked about. */
  due(name: string, ms = this.owner.opts.stepMs): boolean {
    const now = Date.now();
    const at = this.old.get(name) ?? this.next.get(name) ?? now + ms;
    if (now >= at) {
      this.next.delete(name);
      return true;
    }
    this.next.set(name, at);
    this.owner.enqueueAfter(this.key, at - now + 5);
    return false;
  }

  commit(ok: boolean): void {
    const map = ok ? this.next : new Map([...this.old, ...this.next]);
    if (map.size) this.owner.timers.set(this.uid, map);
    else this.owner.timers.delete(this.uid);
  }
}

export class Simulator {
  readonly opts: SimulatorOptions;
  readonly rest: Rest;
  readonly vms = new Cache('virtualmachines');
  readonly vmis = new Cache('virtualmachineinstances');
  readonly pods = new Cache('launcher pods');
  readonly kubevirts = new Cache('kubevirts');
  readonly timers = new Map<string, Map<string, number>>();
  private vmiKeyByUid = new Map<string, string>();
  private podKeysByCreator = new Map<string, Set<string>>();
  private pending = new Set<string>();
  private delayed = new Map<string, { at: number; handle: NodeJS.Timeout }>();
  private working = false;
  private retries = new Map<string, number>();
  private crashes = new Map<string, number>();
  private failures = new Map<string, { n: number; until: number }>();
  private stopped = false;
  private podIpCounter = 10;
  private netIndex = new Map<string, number>();
  private netHostCounter = new Map<string, number>();
  private pciCounter = 2;

  constructor(rest: Rest, opts: SimulatorOptions) {
    this.rest = rest;
    this.opts = opts;
    this.vms.onChange((_t, obj) => this.enqueue(`vm:${keyOf(obj)}`));
    this.vmis.onChange((type, obj, old) => {
      const key = keyOf(obj);
      const uid = obj.metadata?.uid;
      if (type === 'DELETED') {
        if (uid) {
          this.vmiKeyByUid.delete(uid);
          this.enqueue(`gc:${obj.metadata.namespace}/${uid}`);
        }
      } else if (uid) {
        if (old?.metadata?.uid && old.metadata.uid !== uid) this.vmiKeyByUid.delete(old.metadata.uid);
        this.vmiKeyByUid.set(uid, key);
      }
      this.enqueue(`vmi:${key}`);
      // The VM controller watches VMIs too (same name as their VM).
      this.enqueue(`vm:${key}`);
    });
    this.pods.onChange((type, obj, old) => {
      const key = keyOf(obj);
      const creator = obj.metadata?.labels?.['kubevirt.io/created-by'];
      const oldCreator = old?.metadata?.labels?.['kubevirt.io/created-by'];
      if (oldCreator) this.podKeysByCreator.get(oldCreator)?.delete(key);
      if (type !== 'DELETED' && creator) {
        if (!this.podKeysByCreator.has(creator)) this.podKeysByCreator.set(creator, new Set());
        this.podKeysByCreator.get(creator)!.add(key);
      }
      const vmiKey = creator ? this.vmiKeyByUid.get(creator) : undefined;
      if (vmiKey) this.enqueue(`vmi:${vmiKey}`);
      // Give the VMI watch time to catch up before calling a pod an orphan.
      else if (type !== 'DELETED') this.enqueueAfter(`podgc:${key}`, 2000);
    });
    this.kubevirts.onChange(() => {
      for (const vmi of this.vmis.values()) if (getCondition(vmi, 'MigrationRequired')) this.enqueue(`vmi:${keyOf(vmi)}`);
    });
  }

  log(msg: string): void {
    this.opts.log(msg);
  }

  /** Starts the four informers; the work queue runs once all have listed. */
  start(): void {
    const stopped = () => this.stopped;
    const log = (m: string) => this.log(m);
    void runInformer(this.rest, this.vms, `${KV}/virtualmachines`, {}, stopped, log);
    void runInformer(this.rest, this.vmis, `${KV}/virtualmachineinstances`, {}, stopped, log);
    void runInformer(this.rest, this.pods, '/api/v1/pods', { labelSelector: 'kubevirt.io=virt-launcher' }, stopped, log);
    void runInformer(this.rest, this.kubevirts, `${KV}/kubevirts`, {}, stopped, log);
    const waitSynced = setInterval(() => {
      if (this.stopped) return clearInterval(waitSynced);
      if (this.vms.synced && this.vmis.synced && this.pods.synced && this.kubevirts.synced) {
        clearInterval(waitSynced);
        this.log(`caches synced: ${this.vms.items.size} VMs, ${this.vmis.items.size} VMIs, ${this.pods.items.size} launcher pods`);
        void this.work();
      }
    }, 50);
    // A slow resync catches anything a missed event would leave behind.
    const resync = setInterval(() => {
      if (this.stopped) return clearInterval(resync);
      for (const vm of this.vms.values()) this.enqueue(`vm:${keyOf(vm)}`);
      for (const vmi of this.vmis.values()) this.enqueue(`vmi:${keyOf(vmi)}`);
    }, 30_000);
    resync.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const d of this.delayed.values()) clearTimeout(d.handle);
    this.rest.abortAll();
  }

  enqueue(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    void this.work();
  }

  enqueueAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    const cur = this.delayed.get(key);
    if (cur && cur.at <= at) return;
    if (cur) clearTimeout(cur.handle);
    const handle = setTimeout(() => {
      this.delayed.delete(key);
      this.enqueue(key);
    }, Math.max(0, ms));
    this.delayed.set(key, { at, handle });
  }

  private async work(): Promise<void> {
    if (this.working || this.stopped) return;
    if (!(this.vms.synced && this.vmis.synced && this.pods.synced && this.kubevirts.synced)) return;
    this.working = true;
    try {
      while (this.pending.size && !this.stopped) {
        const key = this.pending.values().next().value as string;
        this.pending.delete(key);
        const failed = this.failures.get(key);
        if (failed && failed.until > Date.now()) {
          this.enqueueAfter(key, failed.until - Date.now());
          continue;
        }
        try {
          await this.reconcile(key);
          this.retries.delete(key);
          this.failures.delete(key);
        } catch (err) {
          if (this.stopped) return;
          if (err instanceof Retry) {
            const n = this.retries.get(key) ?? 0;
            this.retries.set(key, n + 1);
            this.enqueueAfter(key, Math.min(20 * 2 ** n, 2000));
          } else {
            // Back off (up to 30 s) so a persistent error cannot flood the server or the log.
            const n = (failed?.n ?? 0) + 1;
            const delay = Math.min(500 * 2 ** (n - 1), 30_000);
            this.failures.set(key, { n, until: Date.now() + delay });
            this.log(`error: ${key}: ${(err as Error).message} (retrying in ${delay} ms)`);
            this.enqueueAfter(key, delay);
          }
        }
      }
    } finally {
      this.working = false;
    }
  }

  private async reconcile(key: string): Promise<void> {
    const i = key.indexOf(':');
    const kind = key.slice(0, i);
    const rest = key.slice(i + 1);
    if (kind === 'vm') return this.reconcileVM(rest);
    if (kind === 'vmi') return this.reconcileVMI(rest);
    if (kind === 'gc') {
      const [ns, uid] = rest.split('/');
      return this.deletePodsOf(ns, uid, 'its VMI was deleted');
    }
    if (kind === 'podgc') return this.collectOrphanPod(rest);
  }

  // ---------------------------------------------------------------- writes

  /** Runs a write; a conflict or failed `test` re-reads the object and asks for another pass. */
  private async write<T>(what: string, cache: Cache, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const stale = err instanceof ApiError && (err.code === 409 || err.code === 404 || (err.code === 422 && /error in our request|test operation|testing value/i.test(err.message)));
      if (err instanceof ApiError && stale) {
        try {
          cache.upsert(await this.rest.get(path));
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
          const key = path.split('/namespaces/')[1]?.split('/');
          const cached = key ? cache.get(`${key[0]}/${key[2]}`) : undefined;
          if (cached) cache.remove(cached);
        }
        if (err.code !== 404) this.log(`${what}: ${err.code === 409 ? 'conflict' : 'stale (a test op failed)'}, re-reading and retrying`);
        throw new Retry(err.message);
      }
      throw err;
    }
  }

  private async deleteVMI(vmi: Obj, why: string): Promise<void> {
    const ns = vmi.metadata.namespace;
    await this.rest.delete(vmiPath(ns, vmi.metadata.name));
    this.vmis.remove(vmi);
    this.log(`vmi ${ns}/${vmi.metadata.name}: deleted (${why})`);
    await this.deletePodsOf(ns, vmi.metadata.uid, `its VMI was deleted`);
  }

  private podsOf(uid: string): Obj[] {
    const keys = this.podKeysByCreator.get(uid);
    if (!keys) return [];
    return [...keys]
      .map((k) => this.pods.get(k))
      .filter((p): p is Obj => Boolean(p) && p!.metadata?.labels?.['kubevirt.io/created-by'] === uid)
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
  }

  private async deletePodsOf(ns: string, uid: string, why: string): Promise<void> {
    for (const pod of this.podsOf(uid)) {
      if (pod.metadata.namespace !== ns) continue;
      await this.rest.delete(podPath(ns, pod.metadata.name));
      this.pods.remove(pod);
      this.log(`pod ${ns}/${pod.metadata.name}: deleted (${why})`);
    }
  }

  /** The garbage collector the sandbox lacks: a launcher pod whose VMI is gone goes too. */
  private async collectOrphanPod(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod || isIgnored(pod) || pod.metadata.deletionTimestamp) return;
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'VirtualMachineInstance' || !ref.uid) return;
    if (this.vmiKeyByUid.has(ref.uid)) return;
    const ns = pod.metadata.namespace;
    try {
      const vmi = await this.rest.get(vmiPath(ns, ref.name));
      if (vmi.metadata?.uid === ref.uid) {
        this.vmis.upsert(vmi);
        return;
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    await this.rest.delete(podPath(ns, pod.metadata.name));
    this.pods.remove(pod);
    this.log(`pod ${key}: deleted (its owner VMI ${ref.name} no longer exists)`);
  }

  // ------------------------------------------------------------ VM controller

  private async reconcileVM(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const vm = this.vms.get(key);
    let vmi = this.vmis.get(key);
    const ownedBy = (o: Obj | undefined, uid?: string) => {
      const ref = o && controllerRef(o);
      return Boolean(ref && ref.kind === 'VirtualMachine' && (uid ? ref.uid === uid : ref.name === name));
    };
    if (!vm) {
      if (vmi && ownedBy(vmi) && !isIgnored(vmi) && !isHandMade(vmi)) await this.deleteVMI(vmi, 'its VM was deleted');
      return;
    }
    // Left alone: ignored VMs, Manual ones (tests seed hand-made states with
    // them), and VMs whose VMI someone else stored with a status.
    if (isIgnored(vm) || vm.spec?.runStrategy === 'Manual' || isHandMade(vmi)) return;
    if (vm.metadata.deletionTimestamp) {
      if (vmi && ownedBy(vmi, vm.metadata.uid)) await this.deleteVMI(vmi, 'its VM is being deleted');
      return;
    }
    if (vmi && !ownedBy(vmi, vm.metadata.uid)) {
      if (ownedBy(vmi)) {
        await this.deleteVMI(vmi, 'it belonged to an earlier VM of the same name');
        vmi = undefined;
      } else {
        // A standalone VMI with the VM's name: KubeVirt would not adopt it either.
        return this.updateVMStatus(vm, undefined, false);
      }
    }
    const t = new Timers(this, vm.metadata.uid, `vm:${key}`);
    let ok = false;
    try {
      await this.syncVM(vm, vmi, t);
      ok = true;
    } finally {
      t.commit(ok);
    }
  }

  private runStrategy(vm: Obj): string {
    const s = vm.spec?.runStrategy;
    if (typeof s === 'string' && s) return s;
    if (vm.spec?.running === true) return 'Always';
    if (vm.spec?.running === false) return 'Halted';
    return 'Halted';
  }

  private async syncVM(vm: Obj, vmi: Obj | undefined, t: Timers): Promise<void> {
    const ns = vm.metadata.namespace;
    const name = vm.metadata.name;
    const strategy = this.runStrategy(vm);
    const wantRunning = ['Always', 'RerunOnFailure', 'Once'].includes(strategy) ? true : strategy === 'Halted' ? false : null;
    const restarts = strategy === 'Always' || strategy === 'RerunOnFailure';

    if (vmi && wantRunning === false) {
      await this.deleteVMI(vmi, `VM stopped (runStrategy ${strategy})`);
      vmi = undefined;
    } else if (vmi && restarts && ['Failed', 'Succeeded'].includes(vmi.status?.phase)) {
      if (strategy === 'Always' || vmi.status.phase === 'Failed') {
        // KubeVirt restarts with a back-off (CrashLoopBackOff meanwhile).
        const n = this.crashes.get(vm.metadata.uid) ?? 0;
        if (t.due(`restart/${vmi.metadata.uid}`, Math.min(10 * this.opts.stepMs * 2 ** n, 300_000))) {
          this.crashes.set(vm.metadata.uid, n + 1);
          await this.deleteVMI(vmi, `restarting after phase ${vmi.status.phase}`);
          vmi = undefined;
        }
      }
    }
    if (vmi?.status?.phase === 'Running') this.crashes.delete(vm.metadata.uid);
    if (!vmi && wantRunning === true) {
      const body = vmiFromVM(vm, defaultNetworkInterface(this.kubevirts.values()));
      try {
        vmi = await this.rest.create(vmiPath(ns), body);
      } catch (err) {
        if (err instanceof ApiError && err.code === 409) {
          this.vmis.upsert(await this.rest.get(vmiPath(ns, name)));
          throw new Retry('VMI already exists');
        }
        throw err;
      }
      this.vmis.upsert(vmi);
      const nics = interfacesOf(vmi!.spec).map((i) => i.name).join(', ');
      this.log(`vm ${ns}/${name}: created VMI (runStrategy ${strategy}; interfaces: ${nics || 'none'})`);
    }

    // The network VM controller (pkg/network/controllers/vm.go).
    let vmiIfaces = new Map<string, Obj>();
    let vmiStatusNames = new Set<string>();
    const live = vmi && !vmi.metadata.deletionTimestamp && !['Failed', 'Succeeded'].includes(vmi.status?.phase);
    if (vmi && live) {
      vmiStatusNames = new Set(((vmi.status?.interfaces as Obj[]) ?? []).map((s) => s?.name).filter(Boolean));
      const { interfaces, networks, changes } = this.syncVMIInterfaces(vm, vmi, vmiStatusNames);
      if (changes.length) {
        const ops: Obj[] = [];
        if (vmi.spec?.networks !== undefined) ops.push({ op: 'test', path: '/spec/networks', value: vmi.spec.networks });
        ops.push({ op: 'add', path: '/spec/networks', value: networks });
        if (vmi.spec?.domain?.devices?.interfaces !== undefined) ops.push({ op: 'test', path: '/spec/domain/devices/interfaces', value: vmi.spec.domain.devices.interfaces });
        ops.push({ op: 'add', path: '/spec/domain/devices/interfaces', value: interfaces });
        const updated = await this.write(`vmi ${ns}/${name} spec`, this.vmis, vmiPath(ns, name), () => this.rest.jsonPatch(vmiPath(ns, name), ops));
        this.vmis.upsert(updated);
        vmi = updated;
        for (const c of changes) this.log(`vmi ${ns}/${name}: ${c}`);
      }
      for (const i of interfacesOf(vmi!.spec)) vmiIfaces.set(i.name, i);
    } else if (vmi) {
      for (const i of interfacesOf(vmi.spec)) vmiIfaces.set(i.name, i);
      vmiStatusNames = new Set(((vmi.status?.interfaces as Obj[]) ?? []).map((s) => s?.name).filter(Boolean));
    }

    // clearDetachedIfacesFromVM: absent interfaces gone from the VMI leave the VM template.
    const tmplSpec = vm.spec?.template?.spec ?? {};
    const tIfaces = interfacesOf(tmplSpec);
    const kept = tIfaces.filter((i) => !isAbsent(i) || vmiIfaces.has(i.name) || vmiStatusNames.has(i.name));
    if (kept.length !== tIfaces.length) {
      const tNets = networksOf(tmplSpec);
      const keptNets = filterNetworksByInterfaces(tNets, kept);
      const ops: Obj[] = [
        { op: 'test', path: '/spec/template/spec/domain/devices/interfaces', value: tmplSpec.domain.devices.interfaces },
        { op: 'replace', path: '/spec/template/spec/domain/devices/interfaces', value: kept },
      ];
      if (tmplSpec.networks !== undefined) {
        ops.push({ op: 'test', path: '/spec/template/spec/networks', value: tmplSpec.networks });
        ops.push({ op: 'replace', path: '/spec/template/spec/networks', value: keptNets });
      }
      const updated = await this.write(`vm ${ns}/${name} template`, this.vms, vmPath(ns, name), () => this.rest.jsonPatch(vmPath(ns, name), ops));
      this.vms.upsert(updated);
      vm = updated;
      const gone = tIfaces.filter((i) => !kept.includes(i)).map((i) => i.name);
      this.log(`vm ${ns}/${name}: unplug done, removed interface and network ${gone.join(', ')} from the VM template`);
    }
    await this.updateVMStatus(vm, vmi, restarts);
  }

  /** applyDynamicIfaceRequestOnVMI + clearDetachedIfacesFromVMI on the VMI spec. */
  private syncVMIInterfaces(vm: Obj, vmi: Obj, statusNames: Set<string>): { interfaces: Obj[]; networks: Obj[]; changes: string[] } {
    const changes: string[] = [];
    const interfaces = clone(interfacesOf(vmi.spec));
    const networks = clone(networksOf(vmi.spec));
    const vmNets = new Map(networksOf(vm.spec?.template?.spec).map((n) => [n.name, n]));
    const byName = new Map(interfaces.map((i) => [i.name, i]));
    for (const vmIface of interfacesOf(vm.spec?.template?.spec)) {
      const cur = byName.get(vmIface.name);
      const binding = bindingOf(vmIface);
      if (!cur) {
        if (!isAbsent(vmIface) && (binding === 'bridge' || binding === 'sriov') && (vmIface.bridge || vmIface.sriov) && vmNets.has(vmIface.name)) {
          const copy = clone(vmIface);
          interfaces.push(copy);
          byName.set(copy.name, copy);
          networks.push(clone(vmNets.get(vmIface.name)!));
          changes.push(`hot-plug: copied ${binding} interface ${vmIface.name} from the VM template`);
        }
      } else if ((vmIface.state ?? '') !== (cur.state ?? '') && cur.state !== 'absent') {
        if (vmIface.state) cur.state = vmIface.state;
        else delete cur.state;
        changes.push(`interface ${vmIface.name}: state ${vmIface.state ? `set to ${vmIface.state}` : 'cleared'} from the VM template`);
      }
    }
    const retained = interfaces.filter((i) => !isAbsent(i) || statusNames.has(i.name));
    for (const i of interfaces) if (!retained.includes(i)) changes.push(`unplug: removed detached interface and network ${i.name} from the VMI spec`);
    const retainedNets = filterNetworksByInterfaces(networks, retained);
    return { interfaces: retained, networks: retainedNets, changes };
  }

  private restartRequired(vm: Obj, vmi: Obj): boolean {
    const norm = (spec: Obj, fromTemplate: boolean) => {
      const s = clone(spec ?? {}) as Obj;
      if (fromTemplate) applyDefaultNetwork(s, defaultNetworkInterface(this.kubevirts.values()));
      const ifaces = interfacesOf(s)
        .filter((i) => !isAbsent(i))
        .map((i) => {
          const c = { ...i };
          delete c.state;
          return c;
        });
      const nets = filterNetworksByInterfaces(networksOf(s), ifaces);
      const byName = (l: Obj[]) => Object.fromEntries(l.map((x) => [x.name, x]));
      return { ifaces: byName(ifaces), nets: byName(nets) };
    };
    const a = norm(vm.spec?.template?.spec, true);
    const b = norm(vmi.spec, false);
    return !jsonEqual(a, b);
  }

  private async updateVMStatus(vm: Obj, vmi: Obj | undefined, restarts: boolean): Promise<void> {
    const ns = vm.metadata.namespace;
    const name = vm.metadata.name;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cur = vm.status ?? {};
    const phase = vmi?.status?.phase;
    const migrating = Boolean(vmi?.status?.migrationState && !vmi.status.migrationState.completed);
    let printable = 'Stopped';
    if (vmi) {
      if (vmi.metadata.deletionTimestamp) printable = 'Stopping';
      else if (phase === 'Running') printable = migrating ? 'Migrating' : 'Running';
      else if (phase === 'Failed') printable = restarts ? 'CrashLoopBackOff' : 'Stopped';
      else if (phase === 'Succeeded') printable = restarts ? 'Starting' : 'Stopped';
      else printable = 'Starting';
    }
    const vmiReady = getCondition(vmi ?? {}, 'Ready');
    const ready = Boolean(vmi && phase === 'Running' && vmiReady?.status === 'True');
    let conditions = (Array.isArray(cur.conditions) ? cur.conditions : []) as Obj[];
    if (!vmi) conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'VMINotExists', message: 'VMI does not exist' }, now);
    else if (ready) conditions = setCondition(conditions, { type: 'Ready', status: 'True' }, now);
    else conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: vmiReady?.reason ?? 'NotReady', message: vmiReady?.message ?? `VMI phase ${phase ?? 'Pending'}` }, now);
    if (vmi && phase === 'Running' && controllerRef(vmi)?.uid === vm.metadata.uid && this.restartRequired(vm, vmi)) {
      conditions = setCondition(conditions, { type: 'RestartRequired', status: 'True', message: RESTART_REQUIRED_MESSAGE }, now);
    } else conditions = removeCondition(conditions, 'RestartRequired');
    const desired: Obj = {
      created: vmi ? true : null,
      ready: ready ? true : null,
      printableStatus: printable,
      runStrategy: this.runStrategy(vm),
      observedGeneration: vm.metadata.generation ?? null,
      desiredGeneration: vm.metadata.generation ?? null,
      conditions,
    };
    const differs = Object.entries(desired).some(([k, v]) => {
      const c = cur[k] === undefined ? null : cur[k];
      if (k === 'conditions') {
        const strip = (l: Obj[]) => (l ?? []).map((x) => ({ ...x, lastProbeTime: null, lastTransitionTime: null }));
        return !jsonEqual(strip(c ?? []), strip(v));
      }
      return !jsonEqual(c, v);
    });
    if (!differs) return;
    const updated = await this.write(`vm ${ns}/${name} status`, this.vms, vmPath(ns, name), () => this.rest.mergePatch(vmPath(ns, name) + '/status', { status: desired }));
    this.vms.upsert(updated);
    if (cur.printableStatus !== printable) this.log(`vm ${ns}/${name}: status ${printable}`);
  }

  // ----------------------------------------------------------- VMI, pods, Multus

  private async reconcileVMI(key: string): Promise<void> {
    const vmi = this.vmis.get(key);
    if (!vmi || isIgnored(vmi) || isHandMade(vmi) || vmi.metadata.deletionTimestamp) return;
    const ref = controllerRef(vmi);
    const owner = ref?.kind === 'VirtualMachine' ? this.vms.get(key) : undefined;
    if (owner && (isIgnored(owner) || owner.spec?.runStrategy === 'Manual')) return;
    const t = new Timers(this, vmi.metadata.uid, `vmi:${key}`);
    let ok = false;
    try {
      const phase = vmi.status?.phase ?? '';
      if (phase === 'Running') await this.runVMI(vmi, t);
      else if (['', 'Pending', 'Scheduling', 'Scheduled'].includes(phase)) await this.bootVMI(vmi, t);
      ok = true;
    } finally {
      t.commit(ok);
    }
  }

  private nextPodIp(): string {
    const n = this.podIpCounter++;
    return `10.244.${(n >> 8) & 255}.${n & 255 || 1}`;
  }

  private nextNetIp(network: string): string {
    if (!this.netIndex.has(network)) this.netIndex.set(network, (this.netIndex.size % 250) + 1);
    const idx = this.netIndex.get(network)!;
    const host = this.netHostCounter.get(network) ?? 10;
    this.netHostCounter.set(network, host >= 250 ? 10 : host + 1);
    return `192.168.${idx}.${host}`;
  }

  /** Multus's network-status entry for one secondary attachment. */
  private attachmentStatus(vmi: Obj, podUid: string, net: Obj, iface: Obj | undefined): Obj {
    const nn = nadNamespacedName(vmi.metadata.namespace, net.multus.networkName);
    const full = `${nn.namespace}/${nn.name}`;
    const entry: Obj = {
      name: full,
      interface: podInterfaceName(net.name),
      ips: [this.nextNetIp(full)],
      mac: parseMac(iface?.macAddress) ?? stableMac(`${podUid}/${net.name}`),
      dns: {},
    };
    if (iface && bindingOf(iface) === 'sriov') {
      entry['device-info'] = { type: 'pci', version: '1.1.0', pci: { 'pci-address': `0000:3b:0${(this.pciCounter >> 3) & 7}.${this.pciCounter & 7}` } };
      this.pciCounter++;
    }
    return entry;
  }

  private primaryNetworkName(vmi: Obj): string {
    const mdef = networksOf(vmi.spec).find((n) => n.multus?.default);
    if (mdef) {
      const nn = nadNamespacedName(vmi.metadata.namespace, mdef.multus.networkName);
      return `${nn.namespace}/${nn.name}`;
    }
    return this.opts.defaultNetworkName;
  }

  private buildPod(vmi: Obj, node: string): Obj {
    const ns = vmi.metadata.namespace;
    const annotations: Obj = { 'kubevirt.io/domain': vmi.metadata.name, 'kubectl.kubernetes.io/default-container': 'compute' };
    const nets = multusNetworksAnnotation(ns, interfacesOf(vmi.spec), networksOf(vmi.spec));
    if (nets) annotations[NETWORKS_ANNOTATION] = nets;
    const mdef = networksOf(vmi.spec).find((n) => n.multus?.default);
    if (mdef) {
      const nn = nadNamespacedName(ns, mdef.multus.networkName);
      annotations['v1.multus-cni.io/default-network'] = `${nn.namespace}/${nn.name}`;
    }
    const hooks = vmi.metadata.annotations?.[HOOK_SIDECARS_ANNOTATION];
    const containers: Obj[] = [{ name: 'compute', image: LAUNCHER_IMAGE, command: ['/usr/bin/virt-launcher-monitor'] }];
    for (const [i, h] of parseList(hooks).entries()) containers.push({ name: `hook-sidecar-${i}`, image: typeof h.image === 'string' && h.image ? h.image : 'quay.io/kubevirt/sidecar-shim:v1.6.0' });
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `virt-launcher-${vmi.metadata.name}-`,
        namespace: ns,
        labels: { ...(vmi.metadata.labels ?? {}), 'kubevirt.io': 'virt-launcher', 'kubevirt.io/created-by': vmi.metadata.uid, 'vm.kubevirt.io/name': vmi.metadata.name },
        annotations,
        ownerReferences: [{ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', name: vmi.metadata.name, uid: vmi.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { nodeName: node, containers, restartPolicy: 'Never', terminationGracePeriodSeconds: 30, automountServiceAccountToken: false },
    };
  }

  private async createPod(vmi: Obj, node: string): Promise<Obj> {
    const pod = await this.rest.create(podPath(vmi.metadata.namespace), this.buildPod(vmi, node));
    this.pods.upsert(pod);
    return pod;
  }

  /** kubelet + Multus: the pod runs, with its network-status. */
  private async startPod(vmi: Obj, pod: Obj): Promise<Obj> {
    const ns = pod.metadata.namespace;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const ip = this.nextPodIp();
    const netStatus: Obj[] = [{ name: this.primaryNetworkName(vmi), interface: 'eth0', ips: [ip], mac: stableMac(`${pod.metadata.uid}/eth0`), default: true, dns: {}, gateway: ['10.244.0.1'] }];
    const ifaces = new Map(interfacesOf(vmi.spec).map((i) => [i.name, i]));
    const requested = new Set(parseList(pod.metadata.annotations?.[NETWORKS_ANNOTATION]).map((e) => e.interface));
    for (const net of networksOf(vmi.spec)) {
      if (isSecondaryMultus(net) && requested.has(podInterfaceName(net.name))) netStatus.push(this.attachmentStatus(vmi, pod.metadata.uid, net, ifaces.get(net.name)));
    }
    let updated = pod;
    const existing = parseList(pod.metadata.annotations?.[NETWORK_STATUS_ANNOTATION]);
    if (existing.length) netStatus.splice(0, netStatus.length, ...existing);
    else {
      updated = await this.rest.mergePatch(podPath(ns, pod.metadata.name), { metadata: { annotations: { [NETWORK_STATUS_ANNOTATION]: JSON.stringify(netStatus) } } });
      this.pods.upsert(updated);
    }
    const primaryIp = netStatus.find((e) => e.default)?.ips?.[0] ?? ip;
    const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
    updated = await this.rest.mergePatch(podPath(ns, pod.metadata.name) + '/status', {
      status: {
        phase: 'Running',
        hostIP: '192.168.66.101',
        hostIPs: [{ ip: '192.168.66.101' }],
        podIP: primaryIp,
        podIPs: [{ ip: primaryIp }],
        startTime: now,
        conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
        containerStatuses: (pod.spec.containers as Obj[]).map((c) => ({ name: c.name, image: c.image, imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
      },
    });
    this.pods.upsert(updated);
    this.log(`pod ${ns}/${pod.metadata.name}: Running on ${pod.spec.nodeName}, ip ${primaryIp}, ${netStatus.length - 1} secondary attachment(s)`);
    return updated;
  }

  private async patchVMIStatus(vmi: Obj, status: Obj, extraOps: Obj[] = []): Promise<Obj> {
    const ns = vmi.metadata.namespace;
    const name = vmi.metadata.name;
    // Guarded by the resourceVersion the status was computed from: a concurrent edit (a test
    // adding a guest-only interface, say) makes this fail and the next pass starts from it.
    const ops: Obj[] = [
      { op: 'test', path: '/metadata/uid', value: vmi.metadata.uid },
      { op: 'test', path: '/metadata/resourceVersion', value: vmi.metadata.resourceVersion },
      { op: 'add', path: '/status', value: status },
      ...extraOps,
    ];
    const updated = await this.write(`vmi ${ns}/${name} status`, this.vmis, vmiPath(ns, name), () => this.rest.jsonPatch(vmiPath(ns, name), ops));
    this.vmis.upsert(updated);
    return updated;
  }

  private nodeLabelOps(vmi: Obj, node: string): Obj[] {
    if (vmi.metadata.labels?.['kubevirt.io/nodeName'] === node) return [];
    if (!vmi.metadata.labels) return [{ op: 'add', path: '/metadata/labels', value: { 'kubevirt.io/nodeName': node } }];
    return [{ op: 'add', path: '/metadata/labels/kubevirt.io~1nodeName', value: node }];
  }

  private async bootVMI(vmi: Obj, t: Timers): Promise<void> {
    const ns = vmi.metadata.namespace;
    const name = vmi.metadata.name;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // The VMI mutating webhook's default, for VMIs created without one (standalone).
    if (!vmi.status?.phase && !controllerRef(vmi)) {
      const spec = clone(vmi.spec ?? {}) as Obj;
      const binding = defaultNetworkInterface(this.kubevirts.values());
      if (applyDefaultNetwork(spec, binding)) {
        const updated = await this.write(`vmi ${ns}/${name} spec`, this.vmis, vmiPath(ns, name), () =>
          this.rest.jsonPatch(vmiPath(ns, name), [
            { op: 'test', path: '/metadata/resourceVersion', value: vmi.metadata.resourceVersion },
            { op: 'add', path: '/spec/domain', value: spec.domain },
            { op: 'add', path: '/spec/networks', value: spec.networks },
          ]),
        );
        this.vmis.upsert(updated);
        this.log(`vmi ${ns}/${name}: added the implicit default pod network (${binding})`);
        return;
      }
    }
    // virt-controller renders hook sidecars into the pod: a malformed list means no pod at all.
    const hookError = hookSidecarsError(vmi.metadata.annotations?.[HOOK_SIDECARS_ANNOTATION]);
    if (hookError) {
      const message = `failed to render launch manifest: invalid ${HOOK_SIDECARS_ANNOTATION} annotation: ${hookError}`;
      const conditions = setCondition(vmi.status?.conditions, { type: 'Synchronized', status: 'False', reason: 'FailedCreate', message }, now);
      if (!jsonEqual(conditions, vmi.status?.conditions) || vmi.status?.phase !== 'Pending') {
        await this.patchVMIStatus(vmi, { ...(vmi.status ?? {}), phase: 'Pending', conditions });
        this.log(`vmi ${ns}/${name}: no launcher pod (FailedCreate): ${message}`);
      }
      return;
    }
    let pods = this.podsOf(vmi.metadata.uid).filter((p) => !p.metadata.deletionTimestamp);
    if (pods.length === 0) {
      const pod = await this.createPod(vmi, this.opts.nodes[0]);
      this.log(`vmi ${ns}/${name}: created launcher pod ${pod.metadata.name} on ${pod.spec.nodeName}`);
      const mark = vmi.metadata.annotations?.[MANAGED_ANNOTATION] === 'true' ? [] : vmi.metadata.annotations ? [{ op: 'add', path: `/metadata/annotations/${MANAGED_ANNOTATION.replace('/', '~1')}`, value: 'true' }] : [{ op: 'add', path: '/metadata/annotations', value: { [MANAGED_ANNOTATION]: 'true' } }];
      await this.patchVMIStatus(vmi, {
        ...(vmi.status ?? {}),
        phase: 'Scheduling',
        activePods: { [pod.metadata.uid]: pod.spec.nodeName },
        conditions: setCondition(vmi.status?.conditions, { type: 'Ready', status: 'False', reason: 'PodNotReady', message: 'virt-launcher pod is starting' }, now),
        phaseTransitionTimestamps: [{ phase: 'Pending', phaseTransitionTimestamp: now }, { phase: 'Scheduling', phaseTransitionTimestamp: now }],
        guestOSInfo: {},
      }, mark);
      t.due('boot');
      return;
    }
    if (!t.due('boot')) return;
    let pod = pods[pods.length - 1];
    if (pod.status?.phase !== 'Running') pod = await this.startPod(vmi, pod);
    const node = pod.spec.nodeName;
    const phases = (vmi.status?.phaseTransitionTimestamps as Obj[]) ?? [];

    // virt-handler defines the domain; hook sidecars run now (onDefineDomain).
    const annotations = vmi.metadata.annotations ?? {};
    // Only the netconf sidecar reads its annotation: without one the annotation is ignored.
    const sidecar = runsNetconfSidecar(annotations[HOOK_SIDECARS_ANNOTATION]);
    const netconf: ReturnType<typeof parseNetconf> = sidecar ? parseNetconf(annotations[NETCONF_MAC_ANNOTATION]) : { macs: new Map<string, string>() };
    if (netconf.error) return this.failVMI(vmi, pod, 'SidecarFailed', `hook sidecar failed in onDefineDomain: malformed ${NETCONF_MAC_ANNOTATION} annotation: ${netconf.error}`);
    if (!sidecar && annotations[NETCONF_MAC_ANNOTATION] !== undefined) this.log(`vmi ${ns}/${name}: ${NETCONF_MAC_ANNOTATION} without a netconf hook sidecar: ignored, as KubeVirt does`);

    const netStatus = parseList(pod.metadata.annotations?.[NETWORK_STATUS_ANNOTATION]);
    const podIp = netStatus.find((e) => e.default)?.ips?.[0] ?? pod.status?.podIP;
    const nets = new Map(networksOf(vmi.spec).map((n) => [n.name, n]));
    const interfaces: Obj[] = [];
    let eth = 0;
    for (const iface of interfacesOf(vmi.spec)) {
      if (isAbsent(iface)) continue;
      const net = nets.get(iface.name);
      const desired = netconf.macs.get(iface.name) ?? parseMac(iface.macAddress);
      const entry: Obj = { name: iface.name, infoSource: 'domain, guest-agent', interfaceName: '', queueCount: 1, linkState: iface.state === 'down' ? 'down' : 'up' };
      if (net && isPrimaryNetwork(net)) {
        entry.mac = desired ?? stableMac(`${vmi.metadata.uid}/${iface.name}`);
        entry.podInterfaceName = 'eth0';
        if (podIp) Object.assign(entry, { ipAddress: podIp, ipAddresses: [podIp] });
      } else if (net && isSecondaryMultus(net)) {
        const pif = podInterfaceName(net.name);
        const ns1 = netStatus.find((e) => e.interface === pif);
        // Plugged into the VMI after its pod was made: the running VMI hot-plugs it later.
        if (!ns1) continue;
        const b = bindingOf(iface);
        entry.mac = desired ?? (ns1?.mac && (b === 'bridge' || b === 'sriov') ? ns1.mac : stableMac(`${vmi.metadata.uid}/${iface.name}`));
        entry.podInterfaceName = pif;
        if (ns1) {
          entry.infoSource = 'domain, guest-agent, multus-status';
          const ips = Array.isArray(ns1.ips) ? ns1.ips : [];
          if (ips.length) Object.assign(entry, { ipAddress: ips[0], ipAddresses: ips });
        }
      } else {
        entry.mac = desired ?? stableMac(`${vmi.metadata.uid}/${iface.name}`);
      }
      entry.interfaceName = `eth${eth++}`;
      interfaces.push(entry);
    }
    const status: Obj = {
      ...(vmi.status ?? {}),
      phase: 'Running',
      nodeName: node,
      activePods: { [pod.metadata.uid]: node },
      interfaces,
      conditions: setCondition(setCondition(removeCondition(vmi.status?.conditions, 'Ready'), { type: 'Ready', status: 'True' }, now), { type: 'AgentConnected', status: 'True' }, now),
      phaseTransitionTimestamps: [...phases, { phase: 'Scheduled', phaseTransitionTimestamp: now }, { phase: 'Running', phaseTransitionTimestamp: now }],
      guestOSInfo: { id: 'fedora', name: 'Fedora Linux', prettyName: 'Fedora Linux 41 (Cloud Edition)', version: '41', kernelRelease: '6.11.4-301.fc41.x86_64' },
      launcherContainerImageVersion: LAUNCHER_IMAGE,
      qosClass: 'Burstable',
      migrationMethod: 'BlockMigration',
      migrationTransport: 'Unix',
    };
    await this.patchVMIStatus(vmi, status, this.nodeLabelOps(vmi, node));
    const macs = interfaces.map((i) => `${i.name}=${i.mac}`).join(' ');
    this.log(`vmi ${ns}/${name}: Running on ${node}; interfaces ${macs || 'none'}${netconf.macs.size ? ' (netconf MACs applied by the sidecar)' : ''}`);
  }

  private async failVMI(vmi: Obj, pod: Obj | undefined, reason: string, message: string): Promise<void> {
    const ns = vmi.metadata.namespace;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await this.patchVMIStatus(vmi, {
      ...(vmi.status ?? {}),
      phase: 'Failed',
      reason,
      conditions: setCondition(vmi.status?.conditions, { type: 'Ready', status: 'False', reason, message }, now),
      phaseTransitionTimestamps: [...((vmi.status?.phaseTransitionTimestamps as Obj[]) ?? []), { phase: 'Failed', phaseTransitionTimestamp: now }],
    });
    if (pod) {
      const updated = await this.rest.mergePatch(podPath(ns, pod.metadata.name) + '/status', { status: { phase: 'Failed', reason: 'Error', message } });
      this.pods.upsert(updated);
    }
    this.log(`vmi ${ns}/${vmi.metadata.name}: Failed (${reason}): ${message}`);
  }

  private liveMigrateEnabled(): boolean {
    const kvs = this.kubevirts.values();
    if (kvs.length === 0) return true;
    return kvs.some((kv) => {
      const m = kv.spec?.workloadUpdateStrategy?.workloadUpdateMethods;
      return Array.isArray(m) && m.includes('LiveMigrate');
    });
  }

  private async runVMI(vmi: Obj, t: Timers): Promise<void> {
    const ns = vmi.metadata.namespace;
    const name = vmi.metadata.name;
    const id = `vmi ${ns}/${name}`;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const node = vmi.status.nodeName;
    const pods = this.podsOf(vmi.metadata.uid).filter((p) => !p.metadata.deletionTimestamp);
    const mig = vmi.status.migrationState as Obj | undefined;
    const migrating = Boolean(mig && !mig.completed);
    const current = [...pods].reverse().find((p) => p.spec?.nodeName === node && (!migrating || p.metadata.name === mig!.sourcePod)) ?? [...pods].reverse().find((p) => p.spec?.nodeName === node);
    if (!current) {
      return this.failVMI(vmi, undefined, 'PodVanished', 'the virt-launcher pod of the running VMI disappeared');
    }
    const status = clone(vmi.status) as Obj;
    const ifaces = interfacesOf(vmi.spec);
    const nets = new Map(networksOf(vmi.spec).map((n) => [n.name, n]));
    const oldEntries = ((status.interfaces as Obj[]) ?? []).filter((e) => e && typeof e === 'object');
    const entryOf = (n: string) => oldEntries.find((e) => e.name === n);

    // 1. The pod's attachments: virt-controller's networks annotation and the
    //    dynamic networks controller's network-status.
    const podAnn = current.metadata.annotations ?? {};
    let netStatus = parseList(podAnn[NETWORK_STATUS_ANNOTATION]);
    let requested = parseList(podAnn[NETWORKS_ANNOTATION]);
    let podChanged = false;
    const needMigration: string[] = [];
    for (const iface of ifaces) {
      const net = nets.get(iface.name);
      if (!isSecondaryMultus(net)) continue;
      const pif = podInterfaceName(net!.name);
      const attached = netStatus.some((e) => e.interface === pif);
      if (!isAbsent(iface) && !attached) {
        if (bindingOf(iface) === 'sriov') {
          needMigration.push(iface.name);
          continue;
        }
        if (t.due(`attach/${iface.name}`)) {
          const nn = nadNamespacedName(ns, net!.multus.networkName);
          const req: Obj = { name: nn.name, namespace: nn.namespace };
          if (iface.macAddress) req.mac = iface.macAddress;
          req.interface = pif;
          requested = [...requested.filter((e) => e.interface !== pif), req];
          netStatus = [...netStatus, this.attachmentStatus(vmi, current.metadata.uid, net!, iface)];
          podChanged = true;
          this.log(`${id}: hot-plug ${iface.name}: attached ${nn.namespace}/${nn.name} to pod ${current.metadata.name} as ${pif}`);
        }
      } else if (isAbsent(iface) && attached) {
        const e = entryOf(iface.name);
        if ((!e || !infoSources(e).includes('domain')) && t.due(`unplug-pod/${iface.name}`)) {
          requested = requested.filter((x) => x.interface !== pif);
          netStatus = netStatus.filter((x) => x.interface !== pif);
          podChanged = true;
          this.log(`${id}: unplug ${iface.name}: detached ${pif} from pod ${current.metadata.name}`);
        }
      }
    }
    if (podChanged) {
      // A merge patch with the resourceVersion it was computed from: a conflict re-reads the pod.
      const body = {
        metadata: { resourceVersion: current.metadata.resourceVersion, annotations: { [NETWORKS_ANNOTATION]: requested.length ? JSON.stringify(requested) : null, [NETWORK_STATUS_ANNOTATION]: JSON.stringify(netStatus) } },
      };
      const updated = await this.write(`pod ${ns}/${current.metadata.name}`, this.pods, podPath(ns, current.metadata.name), () => this.rest.mergePatch(podPath(ns, current.metadata.name), body));
      this.pods.upsert(updated);
    }

    // 2. The VMI's interface status (virt-controller from Multus, virt-handler from the domain and guest agent).
    const usedEth = new Set(oldEntries.map((e) => e.interfaceName).filter(Boolean));
    const nextEth = () => {
      let n = 0;
      while (usedEth.has(`eth${n}`)) n++;
      usedEth.add(`eth${n}`);
      return `eth${n}`;
    };
    const podIp = netStatus.find((e) => e.default)?.ips?.[0] ?? current.status?.podIP;
    const entries: Obj[] = [];
    for (const iface of ifaces) {
      const net = nets.get(iface.name);
      let e = entryOf(iface.name) ? clone(entryOf(iface.name)!) : undefined;
      if (net && isPrimaryNetwork(net)) {
        // The guest agent reports the pod's address (masquerade) as the pod changes (migration).
        if (e && podIp && infoSources(e).includes('guest-agent') && e.ipAddress !== podIp) Object.assign(e, { ipAddress: podIp, ipAddresses: [podIp] });
        if (!e) {
          if (isAbsent(iface)) continue;
          e = { name: iface.name, infoSource: 'domain, guest-agent', interfaceName: nextEth(), mac: parseMac(iface.macAddress) ?? stableMac(`${vmi.metadata.uid}/${iface.name}`), podInterfaceName: 'eth0', queueCount: 1, linkState: 'up' };
          if (podIp) Object.assign(e, { ipAddress: podIp, ipAddresses: [podIp] });
        }
      } else if (net && isSecondaryMultus(net)) {
        const pif = podInterfaceName(net.name);
        const nsEntry = netStatus.find((x) => x.interface === pif);
        if (!e) {
          if (!nsEntry || isAbsent(iface)) continue;
          e = { name: iface.name, infoSource: 'multus-status', podInterfaceName: pif };
          this.log(`${id}: hot-plug ${iface.name}: attaching (multus-status)`);
        } else {
          const src = new Set(infoSources(e));
          if (nsEntry) src.add('multus-status');
          else src.delete('multus-status');
          e.infoSource = joinInfoSources([...src]);
          e.podInterfaceName = pif;
        }
        let src = new Set(infoSources(e));
        if (!isAbsent(iface)) {
          if (!src.has('domain') && src.has('multus-status')) {
            if (t.due(`domain/${iface.name}`)) {
              const b = bindingOf(iface);
              src.add('domain');
              e.mac = parseMac(iface.macAddress) ?? (nsEntry?.mac && (b === 'bridge' || b === 'sriov') ? nsEntry.mac : stableMac(`${vmi.metadata.uid}/${iface.name}`));
              e.queueCount = 1;
              e.linkState = iface.state === 'down' ? 'down' : 'up';
              this.log(`${id}: hot-plug ${iface.name}: in the domain (ready), mac ${e.mac}`);
            }
          } else if (src.has('domain') && !src.has('guest-agent')) {
            if (t.due(`guest/${iface.name}`)) {
              src.add('guest-agent');
              e.interfaceName = nextEth();
              const ips = Array.isArray(nsEntry?.ips) ? nsEntry!.ips : [];
              if (ips.length) Object.assign(e, { ipAddress: ips[0], ipAddresses: ips });
              this.log(`${id}: ${iface.name}: seen by the guest agent as ${e.interfaceName}`);
            }
          }
        } else if (src.has('domain') || src.has('guest-agent')) {
          if (t.due(`detach/${iface.name}`)) {
            src.delete('domain');
            src.delete('guest-agent');
            for (const k of ['interfaceName', 'ipAddress', 'ipAddresses', 'linkState', 'queueCount']) delete e[k];
            this.log(`${id}: unplug ${iface.name}: detached from the domain`);
          }
        } else if (!nsEntry) {
          this.log(`${id}: unplug ${iface.name}: gone from the VMI status`);
          continue;
        }
        e.infoSource = joinInfoSources([...src]);
        if (!e.infoSource) continue;
      } else {
        if (!e) {
          if (isAbsent(iface)) continue;
          e = { name: iface.name, infoSource: 'domain, guest-agent', interfaceName: nextEth(), mac: parseMac(iface.macAddress) ?? stableMac(`${vmi.metadata.uid}/${iface.name}`), queueCount: 1, linkState: 'up' };
        }
      }
      // Link state (virt-handler sets the domain link; reported after a step).
      if (infoSources(e).includes('domain') && !isAbsent(iface)) {
        const want = iface.state === 'down' ? 'down' : 'up';
        if (!e.linkState) e.linkState = want;
        else if (e.linkState !== want && t.due(`link-${want}/${iface.name}`)) {
          e.linkState = want;
          this.log(`${id}: ${iface.name}: link ${want}`);
        }
      }
      entries.push(e);
    }
    // Interfaces the guest agent reports that are not in the spec stay (guest-only).
    for (const e of oldEntries) if (!e.name || !nets.has(e.name)) entries.push(e);
    status.interfaces = entries;

    // 3. SR-IOV needs a migration (workload updater + migration controller).
    let conditions = (status.conditions as Obj[]) ?? [];
    let deleteSource: string | undefined;
    if (migrating) {
      const target = pods.find((p) => p.metadata.name === mig!.targetPod);
      if (!target) {
        status.migrationState = { ...mig, completed: true, failed: true, endTimestamp: now, failureReason: 'target pod disappeared' };
        status.activePods = { [current.metadata.uid]: node };
        this.log(`${id}: migration failed: target pod ${mig!.targetPod} disappeared`);
      } else if (t.due('migrated', 2 * this.opts.stepMs)) {
        const tnode = target.spec.nodeName;
        status.migrationState = { ...mig, completed: true, endTimestamp: now, targetNodeDomainDetected: true, targetNodeDomainReadyTimestamp: now };
        status.nodeName = tnode;
        status.activePods = { [target.metadata.uid]: tnode };
        conditions = removeCondition(conditions, 'MigrationRequired');
        deleteSource = current.metadata.name;
        this.log(`${id}: migration completed, now on ${tnode} (pod ${target.metadata.name})`);
      }
    } else if (needMigration.length) {
      if (!getCondition({ status: { conditions } }, 'MigrationRequired')) this.log(`${id}: ${needMigration.join(', ')} need a migration: condition MigrationRequired`);
      conditions = setCondition(conditions, { type: 'MigrationRequired', status: 'True', reason: 'AutoMigrationPending', message: `the VMI needs a migration to plug interface(s) ${needMigration.join(', ')}` }, now);
      // The workload updater picks the VMI up after a while (KubeVirt: ~15 s; here three steps).
      if (this.liveMigrateEnabled() && t.due('migrate', 3 * this.opts.stepMs)) {
        conditions = setCondition(conditions, { type: 'MigrationRequired', status: 'True', reason: 'AutoMigrationDueToLiveUpdate', message: `the VMI needs a migration to plug interface(s) ${needMigration.join(', ')}` }, now);
        const tnode = this.opts.nodes.find((n) => n !== node) ?? node;
        const target = await this.createPod(vmi, tnode);
        const running = await this.startPod(vmi, target);
        status.migrationState = {
          migrationUid: randomUUID(),
          mode: 'PreCopy',
          sourceNode: node,
          sourcePod: current.metadata.name,
          targetNode: tnode,
          targetPod: running.metadata.name,
          startTimestamp: now,
        };
        status.activePods = { [current.metadata.uid]: node, [running.metadata.uid]: tnode };
        this.log(`${id}: live migration started: ${current.metadata.name} (${node}) -> ${running.metadata.name} (${tnode})`);
        t.due('migrated', 2 * this.opts.stepMs);
      }
    } else {
      conditions = removeCondition(conditions, 'MigrationRequired');
      if (!status.activePods || Object.keys(status.activePods).length !== 1 || !status.activePods[current.metadata.uid]) status.activePods = { [current.metadata.uid]: node };
    }
    status.conditions = conditions;

    const labelOps = this.nodeLabelOps(vmi, status.nodeName);
    if (!jsonEqual(status, vmi.status) || labelOps.length) await this.patchVMIStatus(vmi, status, labelOps);
    if (deleteSource) {
      await this.rest.delete(podPath(ns, deleteSource));
      const p = pods.find((x) => x.metadata.name === deleteSource);
      if (p) this.pods.remove(p);
      this.log(`pod ${ns}/${deleteSource}: deleted (migration source)`);
    }
  }
}
