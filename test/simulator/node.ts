// The node side of a KubeVirt cluster, for the sandbox where KubeVirt's own
// virt-controller and virt-api run: what the kubelet, Multus (with the
// multus-dynamic-networks-controller) and virt-handler do on the nodes.
//
// - kubelet: the nodes exist and are schedulable; a launcher pod is bound to a
//   node (a migration target to another node than its VMI's), started (Running,
//   Ready, every container running) and, once deleted, removed.
// - Multus: the pod's network-status when it starts, one entry per network its
//   k8s.v1.cni.cncf.io/networks annotation asks for (a NAD that does not exist
//   keeps the pod from starting, with a FailedCreatePodSandBox event); the
//   dynamic networks controller adds and removes attachments of a running pod
//   when virt-controller changes that annotation, with its pod events.
// - virt-handler: a Scheduled VMI on a node becomes Running with its interface
//   status (domain, guest agent); hot-plugged interfaces enter the domain and
//   are seen by the guest agent; unplugged ones leave the domain; link state;
//   the netconf hook sidecar's MAC when the pod runs that sidecar; the source
//   and target sides of a live migration; shutdown of a deleted VMI.
//
// One serial work queue, level-triggered; each step of a walk waits stepMs.
import { createHash } from 'node:crypto';
import { ApiError, Cache, keyOf, runInformer, type Obj, type Rest } from './kube.ts';
import {
  NETCONF_MAC_ANNOTATION,
  NETWORKS_ANNOTATION,
  NETWORK_STATUS_ANNOTATION,
  bindingOf,
  clone,
  controllerRef,
  infoSources,
  interfacesOf,
  isAbsent,
  isIgnored,
  isPrimaryNetwork,
  isSecondaryMultus,
  joinInfoSources,
  jsonEqual,
  networksOf,
  parseList,
  parseMac,
  parseNetconf,
  podInterfaceName,
  runsNetconfSidecar,
  setCondition,
  stableMac,
} from './model.ts';

export interface SimulatorOptions {
  stepMs: number;
  nodes: string[];
  defaultNetworkName: string;
  log: (msg: string) => void;
}

const KV = '/apis/kubevirt.io/v1';
const HOOK_SIDECARS_ANNOTATION = 'hooks.kubevirt.io/hookSidecars';
const SCHEDULABLE_LABEL = 'kubevirt.io/schedulable';
const vmiPath = (ns: string, name = '') => `${KV}/namespaces/${ns}/virtualmachineinstances${name ? '/' + name : ''}`;
const podPath = (ns: string, name = '') => `/api/v1/namespaces/${ns}/pods${name ? '/' + name : ''}`;
const nadPath = (ns: string, name: string) => `/apis/k8s.cni.cncf.io/v1/namespaces/${ns}/network-attachment-definitions/${name}`;
/** The event source of multus-dynamic-networks-controller. */
const DYNAMIC_NETWORKS = 'pod-networks-updates';
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** A failed write that a fresh read and another pass will fix. */
class Retry extends Error {}

/** Per-object step timers; only timers touched in a pass survive it. */
class Timers {
  private old: Map<string, number>;
  private next = new Map<string, number>();
  private owner: NodeSimulator;
  private uid: string;
  private key: string;

  constructor(owner: NodeSimulator, uid: string, key: string) {
    this.owner = owner;
    this.uid = uid;
    this.key = key;
    this.old = owner.timers.get(uid) ?? new Map();
  }

  /** True once `ms` have passed since this step was first asked about. */
  due(name: string, ms = this.owner.opts.stepMs): boolean {
    const t = Date.now();
    const at = this.old.get(name) ?? this.next.get(name) ?? t + ms;
    if (t >= at) {
      this.next.delete(name);
      return true;
    }
    this.next.set(name, at);
    this.owner.enqueueAfter(this.key, at - t + 5);
    return false;
  }

  commit(ok: boolean): void {
    const map = ok ? this.next : new Map([...this.old, ...this.next]);
    if (map.size) this.owner.timers.set(this.uid, map);
    else this.owner.timers.delete(this.uid);
  }
}

/**
 * Why the VMI cannot live-migrate because of its pod network interface, or '' (VerifyVMIMigratable,
 * pkg/network/vmispec/interface.go): masquerade and passt migrate, bridge only with
 * kubevirt.io/allow-pod-bridge-network-live-migration; no pod network, nothing to say.
 */
export function migratableError(vmi: Obj): string {
  const podNet = networksOf(vmi.spec).find((n) => n.pod);
  if (!podNet || interfacesOf(vmi.spec).length === 0) return '';
  const primary = interfacesOf(vmi.spec).find((i) => i.name === podNet.name);
  if (!primary) return `no primary interface found for network ${podNet.name}`;
  if (primary.masquerade || primary.passtBinding) return '';
  if (primary.bridge && vmi.metadata.annotations?.['kubevirt.io/allow-pod-bridge-network-live-migration'] !== undefined) return '';
  return 'cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the pod network';
}

/**
 * The image ID a kubelet reports: the repository with the digest it pulled. virt-controller needs it
 * (a migration target pod pins container disks by digest).
 */
function imageID(image: string): string {
  const repo = String(image).split('@')[0].replace(/:[^/:]+$/, '');
  return `${repo}@sha256:${createHash('sha256').update(String(image)).digest('hex')}`;
}

/**
 * The guest's own NICs, which the guest agent reports without a spec name: the node side's stand-in
 * for a guest OS, set by tests with the VMI annotation sim.kubectl-vnet.io/guest-interfaces, a JSON
 * list of {interfaceName, mac, ipAddresses}.
 */
export const GUEST_INTERFACES_ANNOTATION = 'sim.kubectl-vnet.io/guest-interfaces';
function guestInterfaces(vmi: Obj): Obj[] {
  return parseList(vmi.metadata.annotations?.[GUEST_INTERFACES_ANNOTATION])
    .filter((g) => typeof g.interfaceName === 'string' && g.interfaceName)
    .map((g) => {
      const ips = Array.isArray(g.ipAddresses) ? g.ipAddresses.map(String) : [];
      const e: Obj = { interfaceName: g.interfaceName, mac: parseMac(g.mac) ?? stableMac(`${vmi.metadata.uid}/${g.interfaceName}`), infoSource: 'guest-agent' };
      if (ips.length) Object.assign(e, { ipAddress: ips[0], ipAddresses: ips });
      return e;
    });
}

/** A VMI as an event's involved object. */
function vmiObject(vmi: Obj): Obj {
  return { ...vmi, apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance' };
}

export class NodeSimulator {
  readonly opts: SimulatorOptions;
  readonly rest: Rest;
  /** virt-handler's service account: virt-api drops VMI status changes from anyone but KubeVirt's accounts. */
  readonly handler: Rest;
  /** Only to honour the ignore annotation on a VM (tests pause the node side of one VM). */
  readonly vms = new Cache('virtualmachines');
  readonly vmis = new Cache('virtualmachineinstances');
  readonly pods = new Cache('launcher pods');
  readonly timers = new Map<string, Map<string, number>>();
  private pending = new Set<string>();
  private delayed = new Map<string, { at: number; handle: NodeJS.Timeout }>();
  private working = false;
  private retries = new Map<string, number>();
  private failures = new Map<string, { n: number; until: number }>();
  private stopped = false;
  private podIpCounter = 10;
  private netIndex = new Map<string, number>();
  private netHostCounter = new Map<string, number>();
  private pciCounter = 2;
  /** The NAD ("ns/name") each guest interface got its address from (VMI uid / interface). */
  private attachedTo = new Map<string, string>();
  /** Failed additions already reported (pod uid / interface / NAD). */
  private failedAdds = new Set<string>();

  constructor(rest: Rest, handler: Rest, opts: SimulatorOptions) {
    this.rest = rest;
    this.handler = handler;
    this.opts = opts;
    this.vmis.onChange((_type, obj) => this.enqueue(`vmi:${keyOf(obj)}`));
    // A VM's ignore annotation removed: its VMI (same name) and pods get their turn again.
    this.vms.onChange((_type, obj) => {
      const vmi = this.vmis.get(keyOf(obj));
      if (!vmi) return;
      this.enqueue(`vmi:${keyOf(vmi)}`);
      for (const p of this.podsOf(vmi)) this.enqueue(`pod:${keyOf(p)}`);
    });
    this.pods.onChange((type, obj) => {
      if (type !== 'DELETED') this.enqueue(`pod:${keyOf(obj)}`);
      const vmi = this.vmiOfPod(obj);
      if (vmi) this.enqueue(`vmi:${keyOf(vmi)}`);
    });
  }

  log(msg: string): void {
    this.opts.log(msg);
  }

  /** Registers the nodes, then runs the informers; the work queue runs once both have listed. */
  async start(): Promise<void> {
    await this.ensureNodes();
    await this.ensureDaemonSets();
    const stopped = () => this.stopped;
    const log = (m: string) => this.log(m);
    void runInformer(this.rest, this.vms, `${KV}/virtualmachines`, {}, stopped, log);
    void runInformer(this.rest, this.vmis, `${KV}/virtualmachineinstances`, {}, stopped, log);
    void runInformer(this.rest, this.pods, '/api/v1/pods', { labelSelector: 'kubevirt.io=virt-launcher' }, stopped, log);
    const waitSynced = setInterval(() => {
      if (this.stopped) return clearInterval(waitSynced);
      if (this.vms.synced && this.vmis.synced && this.pods.synced) {
        clearInterval(waitSynced);
        this.log(`caches synced: ${this.vmis.items.size} VMIs, ${this.pods.items.size} launcher pods`);
        void this.work();
      }
    }, 50);
    // A slow resync catches anything a missed event would leave behind.
    const resync = setInterval(() => {
      if (this.stopped) return clearInterval(resync);
      for (const p of this.pods.values()) this.enqueue(`pod:${keyOf(p)}`);
      for (const v of this.vmis.values()) this.enqueue(`vmi:${keyOf(v)}`);
    }, 30_000);
    resync.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const d of this.delayed.values()) clearTimeout(d.handle);
    this.rest.abortAll();
    this.handler.abortAll();
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
    if (!(this.vms.synced && this.vmis.synced && this.pods.synced)) return;
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
    if (kind === 'pod') return this.reconcilePod(rest);
    if (kind === 'vmi') return this.reconcileVMI(rest);
  }

  /** Runs a write; a conflict or a failed `test` re-reads the object and asks for another pass. */
  private async write<T>(what: string, cache: Cache, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const stale = err instanceof ApiError && (err.code === 409 || err.code === 404 || (err.code === 422 && /test operation|testing value/i.test(err.message)));
      if (!stale) throw err;
      try {
        cache.upsert(await this.rest.get(path));
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
      if ((err as ApiError).code !== 404) this.log(`${what}: ${(err as ApiError).code === 409 ? 'conflict' : 'stale'}, re-reading and retrying`);
      throw new Retry((err as Error).message);
    }
  }

  /** A core/v1 Event about an object, as a node component records it. */
  private async event(obj: Obj, type: 'Normal' | 'Warning', reason: string, message: string, component: string): Promise<void> {
    const ns = obj.metadata.namespace;
    const t = new Date().toISOString();
    await this.rest
      .create(`/api/v1/namespaces/${ns}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${obj.metadata.name}.`, namespace: ns },
        involvedObject: { apiVersion: obj.apiVersion ?? 'v1', kind: obj.kind ?? 'Pod', name: obj.metadata.name, namespace: ns, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
        reason,
        message,
        type,
        source: { component },
        firstTimestamp: t.replace(/\.\d+Z$/, 'Z'),
        lastTimestamp: t.replace(/\.\d+Z$/, 'Z'),
        eventTime: null,
        count: 1,
        reportingComponent: component,
        reportingInstance: '',
      })
      .catch((err) => this.log(`event ${reason} on ${ns}/${obj.metadata.name} not recorded: ${(err as Error).message}`));
  }

  // ------------------------------------------------------------------ nodes

  /** The nodes, as virt-handler leaves them: schedulable for VMIs. */
  private async ensureNodes(): Promise<void> {
    for (const name of this.opts.nodes) {
      try {
        await this.rest.get(`/api/v1/nodes/${name}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
        await this.rest.create('/api/v1/nodes', {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', [SCHEDULABLE_LABEL]: 'true' } },
          spec: {},
        });
        this.log(`node ${name}: registered`);
      }
      const t = now();
      const capacity = { cpu: '16', memory: '64Gi', pods: '110', 'devices.kubevirt.io/kvm': '1k', 'devices.kubevirt.io/tun': '1k', 'devices.kubevirt.io/vhost-net': '1k' };
      await this.rest.mergePatch(`/api/v1/nodes/${name}/status`, {
        status: {
          capacity,
          allocatable: capacity,
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: t, lastTransitionTime: t }],
          addresses: [{ type: 'InternalIP', address: this.nodeIp(name) }, { type: 'Hostname', address: name }],
          nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'v1.34.2', containerRuntimeVersion: 'cri-o://1.34.0', kernelVersion: '6.12.0', osImage: 'Simulated', kubeProxyVersion: '', bootID: '', machineID: '', systemUUID: '' },
        },
      });
    }
  }

  /**
   * The DaemonSets of the components this process stands in for, as they look on a cluster where
   * they run on every node (no pods: nothing here runs a DaemonSet controller). Tools that ask
   * whether Multus's dynamic networks controller or virt-handler is installed find them.
   */
  private async ensureDaemonSets(): Promise<void> {
    const n = this.opts.nodes.length;
    const sets = [
      { ns: 'kube-system', name: 'kube-multus-ds', labels: { app: 'multus', name: 'multus' }, image: 'ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2-thick' },
      { ns: 'kube-system', name: 'dynamic-networks-controller-ds', labels: { app: 'dynamic-networks-controller' }, image: 'ghcr.io/k8snetworkplumbingwg/multus-dynamic-networks-controller:v0.3.7' },
      { ns: 'kubevirt', name: 'virt-handler', labels: { 'kubevirt.io': 'virt-handler' }, image: 'quay.io/kubevirt/virt-handler' },
    ];
    for (const d of sets) {
      const path = `/apis/apps/v1/namespaces/${d.ns}/daemonsets`;
      try {
        await this.rest.create(path, {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata: { name: d.name, namespace: d.ns, labels: d.labels },
          spec: { selector: { matchLabels: d.labels }, template: { metadata: { labels: d.labels }, spec: { containers: [{ name: d.name, image: d.image }] } } },
        });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      }
      await this.rest.mergePatch(`${path}/${d.name}/status`, { status: { desiredNumberScheduled: n, currentNumberScheduled: n, numberReady: n, numberAvailable: n, updatedNumberScheduled: n, numberMisscheduled: 0, observedGeneration: 1 } });
    }
  }

  private nodeIp(name: string): string {
    return `192.168.66.${101 + Math.max(0, this.opts.nodes.indexOf(name))}`;
  }

  // ---------------------------------------------------------- pods: kubelet

  private vmiOfPod(pod: Obj): Obj | undefined {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'VirtualMachineInstance') return undefined;
    const vmi = this.vmis.get(`${pod.metadata.namespace}/${ref.name}`);
    return vmi && vmi.metadata.uid === ref.uid ? vmi : undefined;
  }

  private async reconcilePod(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod || isIgnored(pod)) return;
    const vmi = this.vmiOfPod(pod);
    if (vmi && this.paused(vmi)) return;
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    const t = new Timers(this, pod.metadata.uid, `pod:${key}`);
    let ok = false;
    try {
      if (pod.metadata.deletionTimestamp) {
        // The containers stop; the kubelet removes the pod.
        if (!t.due('terminate')) return (ok = true), undefined;
        try {
          await this.rest.request('DELETE', podPath(ns, name), { body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } } });
        } catch (err) {
          if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
        }
        this.pods.remove(pod);
        this.log(`pod ${key}: terminated and removed`);
      } else if (!pod.spec?.nodeName) {
        await this.bindPod(pod, vmi);
      } else if (!pod.status?.phase || pod.status.phase === 'Pending') {
        if (t.due('start')) await this.startPod(pod);
      } else if (pod.status.phase === 'Running') {
        await this.syncDynamicNetworks(pod, t);
      }
      ok = true;
    } finally {
      t.commit(ok);
    }
  }

  /** The scheduler's part: bind to the first node, or a migration target to a node other than its VMI's. */
  private async bindPod(pod: Obj, vmi: Obj | undefined): Promise<void> {
    const ns = pod.metadata.namespace;
    const isTarget = Boolean(pod.metadata.labels?.['kubevirt.io/migrationJobUID']);
    const current = vmi?.status?.nodeName;
    const node = isTarget ? (this.opts.nodes.find((n) => n !== current) ?? this.opts.nodes[0]) : this.opts.nodes[0];
    await this.write(`pod ${ns}/${pod.metadata.name} binding`, this.pods, podPath(ns, pod.metadata.name), () =>
      this.rest.create(`${podPath(ns, pod.metadata.name)}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid }, target: { apiVersion: 'v1', kind: 'Node', name: node } }),
    );
    await this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${pod.metadata.name} to ${node}`, 'default-scheduler');
    this.log(`pod ${ns}/${pod.metadata.name}: bound to ${node}${isTarget ? ' (migration target)' : ''}`);
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

  private async nadExists(ns: string, name: string): Promise<Obj | null> {
    try {
      return await this.rest.get(nadPath(ns, name));
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return null;
      throw err;
    }
  }

  /** Multus's network-status entry for one requested secondary network. */
  private attachment(pod: Obj, req: Obj, nad: Obj): Obj {
    const full = `${req.namespace ?? pod.metadata.namespace}/${req.name}`;
    const entry: Obj = { name: full, interface: req.interface, ips: [this.nextNetIp(full)], mac: parseMac(req.mac) ?? stableMac(`${pod.metadata.uid}/${req.interface}`), dns: {} };
    const config = parseList(`[${nad.spec?.config ?? 'null'}]`)[0] ?? {};
    const resource = nad.metadata?.annotations?.['k8s.v1.cni.cncf.io/resourceName'];
    if (config.type === 'sriov' || resource) {
      entry['device-info'] = { type: 'pci', version: '1.1.0', pci: { 'pci-address': `0000:3b:0${(this.pciCounter >> 3) & 7}.${this.pciCounter & 7}` } };
      this.pciCounter++;
    }
    return entry;
  }

  /** CNI ADD for every network the pod asks for (Multus), then the containers run (kubelet). */
  private async startPod(pod: Obj): Promise<void> {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    const requested = parseList(pod.metadata.annotations?.[NETWORKS_ANNOTATION]);
    const ip = this.nextPodIp();
    const netStatus: Obj[] = [{ name: this.opts.defaultNetworkName, interface: 'eth0', ips: [ip], mac: stableMac(`${pod.metadata.uid}/eth0`), default: true, dns: {}, gateway: ['10.244.0.1'] }];
    for (const req of requested) {
      const nadNs = req.namespace ?? ns;
      const nad = await this.nadExists(nadNs, req.name);
      if (!nad) {
        const message = `Failed to create pod sandbox: plugin type="multus" failed (add): Multus: [${ns}/${name}/${pod.metadata.uid}]: error loading k8s delegates k8s args: TryLoadPodDelegates: error in getting k8s network for pod: GetNetworkDelegates: failed getting the delegate: getKubernetesDelegate: cannot find a network-attachment-definition (${req.name}) in namespace (${nadNs}): network-attachment-definitions.k8s.cni.cncf.io "${req.name}" not found`;
        await this.event(pod, 'Warning', 'FailedCreatePodSandBox', message, 'kubelet');
        this.log(`pod ${ns}/${name}: cannot start: NAD ${nadNs}/${req.name} does not exist`);
        return;
      }
      netStatus.push(this.attachment(pod, req, nad));
    }
    const withStatus = await this.write(`pod ${ns}/${name}`, this.pods, podPath(ns, name), () =>
      this.rest.mergePatch(podPath(ns, name), { metadata: { resourceVersion: pod.metadata.resourceVersion, annotations: { [NETWORK_STATUS_ANNOTATION]: JSON.stringify(netStatus) } } }),
    );
    this.pods.upsert(withStatus);
    for (const e of netStatus) {
      await this.event(pod, 'Normal', 'AddedInterface', `Add ${e.interface} [${(e.ips ?? []).map((x: string) => `${x}/24`).join(' ')}] from ${e.name}`, 'multus');
    }
    const t = now();
    const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
    const running = (c: Obj) => ({ name: c.name, image: c.image, imageID: imageID(c.image), ready: true, started: true, restartCount: 0, state: { running: { startedAt: t } } });
    // Init containers ran to completion; sidecar ones (restartPolicy Always, as guest-console-log) keep running.
    const done = (c: Obj) => (c.restartPolicy === 'Always' ? running(c) : { name: c.name, image: c.image, imageID: imageID(c.image), ready: false, restartCount: 0, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } } });
    const hostIP = this.nodeIp(pod.spec.nodeName);
    const updated = await this.write(`pod ${ns}/${name} status`, this.pods, podPath(ns, name), () =>
      this.rest.mergePatch(podPath(ns, name) + '/status', {
        status: {
          phase: 'Running',
          hostIP,
          hostIPs: [{ ip: hostIP }],
          podIP: ip,
          podIPs: [{ ip }],
          startTime: t,
          qosClass: 'Burstable',
          conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
          initContainerStatuses: ((pod.spec.initContainers as Obj[]) ?? []).map(done),
          containerStatuses: ((pod.spec.containers as Obj[]) ?? []).map(running),
        },
      }),
    );
    this.pods.upsert(updated);
    this.log(`pod ${ns}/${name}: Running on ${pod.spec.nodeName}, ip ${ip}, ${netStatus.length - 1} secondary attachment(s)`);
  }

  /**
   * The multus-dynamic-networks-controller: a running pod's networks annotation against its
   * network-status; one attachment added or removed per step, with its event.
   */
  private async syncDynamicNetworks(pod: Obj, t: Timers): Promise<void> {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    const requested = parseList(pod.metadata.annotations?.[NETWORKS_ANNOTATION]);
    const status = parseList(pod.metadata.annotations?.[NETWORK_STATUS_ANNOTATION]);
    const key = (e: Obj) => e.interface;
    const attached = new Set(status.filter((e) => !e.default).map(key));
    const wanted = new Set(requested.map(key));
    const toAdd = requested.find((r) => !attached.has(r.interface));
    const toRemove = status.find((e) => !e.default && !wanted.has(e.interface));
    if (!toAdd && !toRemove) return;
    if (!t.due(`dyn/${(toAdd ?? toRemove)!.interface}`)) return;
    let next = status;
    if (toAdd) {
      const nadNs = toAdd.namespace ?? ns;
      const nad = await this.nadExists(nadNs, toAdd.name);
      if (!nad) {
        // The controller gives up on the request (after its retries) and says so once.
        const key = `${pod.metadata.uid}/${toAdd.interface}/${nadNs}/${toAdd.name}`;
        if (!this.failedAdds.has(key)) {
          this.failedAdds.add(key);
          await this.event(pod, 'Warning', 'FailedAddingInterface', `pod [${ns}/${name}]: failed adding interface ${toAdd.interface} to network: ${toAdd.name}`, DYNAMIC_NETWORKS);
          this.log(`pod ${ns}/${name}: hot-plug of ${toAdd.interface} failed: NAD ${nadNs}/${toAdd.name} does not exist`);
        }
        return;
      }
      next = [...status, this.attachment(pod, toAdd, nad)];
      await this.patchNetworkStatus(pod, next);
      await this.event(pod, 'Normal', 'AddedInterface', `pod [${ns}/${name}]: added interface ${toAdd.interface} to network: ${toAdd.name}`, DYNAMIC_NETWORKS);
      this.log(`pod ${ns}/${name}: attached ${nadNs}/${toAdd.name} as ${toAdd.interface}`);
    } else if (toRemove) {
      next = status.filter((e) => e !== toRemove);
      await this.patchNetworkStatus(pod, next);
      const nadName = String(toRemove.name ?? '').split('/').pop();
      await this.event(pod, 'Normal', 'RemovedInterface', `pod [${ns}/${name}]: removed interface ${toRemove.interface} from network: ${nadName}`, DYNAMIC_NETWORKS);
      this.log(`pod ${ns}/${name}: detached ${toRemove.interface} (${toRemove.name})`);
    }
  }

  private async patchNetworkStatus(pod: Obj, status: Obj[]): Promise<void> {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    const updated = await this.write(`pod ${ns}/${name}`, this.pods, podPath(ns, name), () =>
      this.rest.mergePatch(podPath(ns, name), { metadata: { resourceVersion: pod.metadata.resourceVersion, annotations: { [NETWORK_STATUS_ANNOTATION]: JSON.stringify(status) } } }),
    );
    this.pods.upsert(updated);
  }

  // ---------------------------------------------------------- virt-handler

  /** The node side leaves a VMI alone (and its pods) when it, or the VM that owns it, is annotated ignore. */
  private paused(vmi: Obj): boolean {
    if (isIgnored(vmi)) return true;
    const ref = controllerRef(vmi);
    return ref?.kind === 'VirtualMachine' && isIgnored(this.vms.get(`${vmi.metadata.namespace}/${ref.name}`));
  }

  private podsOf(vmi: Obj): Obj[] {
    return this.pods
      .values()
      .filter((p) => p.metadata.namespace === vmi.metadata.namespace && p.metadata.labels?.['kubevirt.io/created-by'] === vmi.metadata.uid)
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
  }

  private async reconcileVMI(key: string): Promise<void> {
    const vmi = this.vmis.get(key);
    if (!vmi || this.paused(vmi)) return;
    const node = vmi.status?.nodeName;
    if (!node || !this.opts.nodes.includes(node)) return;
    const t = new Timers(this, vmi.metadata.uid, `vmi:${key}`);
    let ok = false;
    try {
      const phase = vmi.status?.phase ?? '';
      const mig = vmi.status?.migrationState;
      if (vmi.metadata.deletionTimestamp && ['Scheduled', 'Running'].includes(phase)) await this.shutdown(vmi, t);
      else if (phase === 'Scheduled') await this.boot(vmi, t);
      else if (phase === 'Running' && mig?.migrationUid && mig.targetPod && !mig.completed && !mig.failed) await this.migrate(vmi, mig, t);
      else if (phase === 'Running') await this.syncRunning(vmi, t);
      ok = true;
    } finally {
      t.commit(ok);
    }
  }

  private async patchVMI(vmi: Obj, ops: Obj[]): Promise<Obj> {
    const ns = vmi.metadata.namespace;
    const name = vmi.metadata.name;
    const guarded = [{ op: 'test', path: '/metadata/uid', value: vmi.metadata.uid }, { op: 'test', path: '/metadata/resourceVersion', value: vmi.metadata.resourceVersion }, ...ops];
    const updated = await this.write(`vmi ${ns}/${name}`, this.vmis, vmiPath(ns, name), () => this.handler.jsonPatch(vmiPath(ns, name), guarded));
    this.vmis.upsert(updated);
    return updated;
  }

  /** The launcher pod the domain runs in: the one on the VMI's node (the migration source while migrating). */
  private currentPod(vmi: Obj): Obj | undefined {
    const node = vmi.status?.nodeName;
    const mig = vmi.status?.migrationState;
    const pods = this.podsOf(vmi).filter((p) => p.spec?.nodeName === node && p.status?.phase === 'Running');
    return (mig?.sourcePod && !mig.completed ? pods.find((p) => p.metadata.name === mig.sourcePod) : undefined) ?? pods.at(-1);
  }

  /** The MACs the netconf hook sidecar sets in the domain, or its failure; only when the pod runs it. */
  private netconf(vmi: Obj, pod: Obj): { macs: Map<string, string>; error?: string } {
    const hooks = vmi.metadata.annotations?.[HOOK_SIDECARS_ANNOTATION];
    if (!runsNetconfSidecar(hooks)) return { macs: new Map() };
    const sidecarInPod = ((pod.spec?.containers as Obj[]) ?? []).some((c) => /^hook-sidecar-/.test(c.name));
    if (!sidecarInPod) return { macs: new Map() };
    return parseNetconf(vmi.metadata.annotations?.[NETCONF_MAC_ANNOTATION]);
  }

  /** The domain starts: the VMI Running, with every interface of its spec in the domain and the guest. */
  private async boot(vmi: Obj, t: Timers): Promise<void> {
    const ns = vmi.metadata.namespace;
    const name = vmi.metadata.name;
    const pod = this.currentPod(vmi);
    if (!pod) return;
    if (!t.due('boot')) return;
    const netconf = this.netconf(vmi, pod);
    if (netconf.error) {
      await this.patchVMI(vmi, [
        { op: 'replace', path: '/status/phase', value: 'Failed' },
        { op: 'add', path: '/status/reason', value: 'SidecarFailed' },
      ]);
      this.log(`vmi ${ns}/${name}: Failed: the netconf hook sidecar rejected ${NETCONF_MAC_ANNOTATION}: ${netconf.error}`);
      return;
    }
    const netStatus = parseList(pod.metadata.annotations?.[NETWORK_STATUS_ANNOTATION]);
    const nets = new Map(networksOf(vmi.spec).map((n) => [n.name, n]));
    const old = (vmi.status?.interfaces as Obj[]) ?? [];
    const interfaces: Obj[] = [];
    let eth = 0;
    for (const iface of interfacesOf(vmi.spec)) {
      if (isAbsent(iface)) continue;
      const net = nets.get(iface.name);
      const entry: Obj = { ...(old.find((e) => e.name === iface.name) ?? {}), name: iface.name };
      if (bindingOf(iface) !== 'sriov') Object.assign(entry, { queueCount: 1, linkState: iface.state === 'down' ? 'down' : 'up' });
      const sources = new Set(infoSources(entry));
      sources.add('domain');
      sources.add('guest-agent');
      const desired = netconf.macs.get(iface.name) ?? parseMac(iface.macAddress);
      if (net && isPrimaryNetwork(net)) {
        const ip = pod.status?.podIP;
        entry.podInterfaceName = 'eth0';
        entry.mac = desired ?? stableMac(`${vmi.metadata.uid}/${iface.name}`);
        if (ip) Object.assign(entry, { ipAddress: ip, ipAddresses: [ip] });
      } else if (net && isSecondaryMultus(net)) {
        const pif = podInterfaceName(net.name);
        const ns1 = netStatus.find((e) => e.interface === pif);
        if (!ns1) continue;
        const b = bindingOf(iface);
        entry.podInterfaceName = pif;
        entry.mac = desired ?? (ns1.mac && (b === 'bridge' || b === 'sriov') ? ns1.mac : stableMac(`${vmi.metadata.uid}/${iface.name}`));
        sources.add('multus-status');
        const ips = Array.isArray(ns1.ips) ? ns1.ips : [];
        if (ips.length) Object.assign(entry, { ipAddress: ips[0], ipAddresses: ips });
      } else {
        entry.mac = desired ?? stableMac(`${vmi.metadata.uid}/${iface.name}`);
      }
      entry.infoSource = joinInfoSources([...sources]);
      entry.interfaceName = `eth${eth++}`;
      interfaces.push(entry);
    }
    const t0 = now();
    let conditions = (vmi.status?.conditions as Obj[]) ?? [];
    const migratable = migratableError(vmi);
    conditions = setCondition(conditions, migratable ? { type: 'LiveMigratable', status: 'False', reason: 'InterfaceNotLiveMigratable', message: migratable } : { type: 'LiveMigratable', status: 'True' }, t0);
    conditions = setCondition(conditions, { type: 'AgentConnected', status: 'True' }, t0);
    const status = {
      ...(vmi.status ?? {}),
      phase: 'Running',
      interfaces,
      conditions,
      guestOSInfo: { id: 'fedora', name: 'Fedora Linux', prettyName: 'Fedora Linux 41 (Cloud Edition)', version: '41', kernelRelease: '6.11.4-301.fc41.x86_64' },
      migrationMethod: 'BlockMigration',
      migrationTransport: 'Unix',
      machine: { type: 'q35' },
      // virt-handler reports the launcher's SELinux context, "none" on hosts without SELinux; migrations need it.
      selinuxContext: 'none',
    };
    await this.patchVMI(vmi, [{ op: 'replace', path: '/status', value: status }]);
    await this.event(vmiObject(vmi), 'Normal', 'Started', 'VirtualMachineInstance started.', 'virt-handler');
    const macs = interfaces.map((i) => `${i.name}=${i.mac}`).join(' ');
    this.log(`vmi ${ns}/${name}: Running on ${vmi.status.nodeName}; interfaces ${macs || 'none'}${netconf.macs.size ? ' (netconf MACs applied by the sidecar)' : ''}`);
  }

  /**
   * The virt-handlers of a live migration, once virt-controller handed the target pod over
   * (migrationState with migrationUid, targetNode, targetPod), one step at a time: the target
   * listens, the source starts, the target detects and readies the domain, the VMI moves to the
   * target node, the migration completes; the source launcher exits.
   */
  private async migrate(vmi: Obj, mig: Obj, t: Timers): Promise<void> {
    const id = `vmi ${vmi.metadata.namespace}/${vmi.metadata.name}`;
    const target = this.podsOf(vmi).find((p) => p.metadata.name === mig.targetPod);
    if (!target || target.status?.phase !== 'Running') return;
    const at = now();
    const set = (field: string, value: unknown) => ({ op: 'add', path: `/status/migrationState/${field}`, value });
    if (!mig.targetNodeAddress) {
      if (!t.due('mig-target')) return;
      await this.patchVMI(vmi, [set('targetNodeAddress', this.nodeIp(mig.targetNode)), set('targetDirectMigrationNodePorts', { '49152': 0, '49153': 49152 })]);
      await this.event(vmiObject(vmi), 'Normal', 'PreparingTarget', `Migration Target is listening at ${this.nodeIp(mig.targetNode)}, on ports: 49152,49153`, 'virt-handler');
      this.log(`${id}: migration target on ${mig.targetNode} is listening`);
    } else if (!mig.startTimestamp) {
      if (!t.due('mig-start')) return;
      await this.patchVMI(vmi, [set('startTimestamp', at), set('mode', 'PreCopy')]);
      await this.event(vmiObject(vmi), 'Normal', 'Migrating', 'VirtualMachineInstance is migrating.', 'virt-handler');
      this.log(`${id}: migration started: ${mig.sourcePod} (${mig.sourceNode}) -> ${mig.targetPod} (${mig.targetNode})`);
    } else if (!mig.targetNodeDomainDetected) {
      if (!t.due('mig-domain', 2 * this.opts.stepMs)) return;
      const conditions = ((vmi.status.conditions as Obj[]) ?? []).filter((c) => c.type !== 'MigrationRequired');
      await this.patchVMI(vmi, [set('targetNodeDomainDetected', true), set('targetNodeDomainReadyTimestamp', at), { op: 'replace', path: '/status/conditions', value: conditions }]);
    } else if (!mig.endTimestamp) {
      if (!t.due('mig-end')) return;
      await this.patchVMI(vmi, [
        set('endTimestamp', at),
        { op: 'replace', path: '/status/nodeName', value: mig.targetNode },
        { op: 'add', path: '/metadata/labels/kubevirt.io~1nodeName', value: mig.targetNode },
        { op: 'add', path: '/status/launcherContainerImageVersion', value: '' },
        { op: 'add', path: '/status/migrationTransport', value: 'Unix' },
      ]);
      await this.event(vmiObject(vmi), 'Normal', 'Migrated', `The VirtualMachineInstance migrated to node ${mig.targetNode}.`, 'virt-handler');
      this.log(`${id}: migrated to ${mig.targetNode}`);
    } else {
      const ops: Obj[] = [set('completed', true)];
      if (vmi.metadata.labels?.['kubevirt.io/migrationTargetNodeName'] !== undefined) ops.push({ op: 'remove', path: '/metadata/labels/kubevirt.io~1migrationTargetNodeName' });
      await this.patchVMI(vmi, ops);
      // The source launcher exits once its domain has left.
      const source = this.podsOf(vmi).find((p) => p.metadata.name === mig.sourcePod);
      if (source) await this.finishPod(source, 'the domain migrated away');
      this.log(`${id}: migration completed, now on ${mig.targetNode} (pod ${mig.targetPod})`);
    }
  }

  /** The kubelet's view of a launcher whose containers exited: phase Succeeded, containers terminated. */
  private async finishPod(pod: Obj, why: string): Promise<void> {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    const at = now();
    const term = (c: Obj) => ({ name: c.name, image: c.image, imageID: imageID(c.image), ready: false, started: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: pod.status?.startTime ?? at, finishedAt: at } } });
    const ready = (type: string) => ({ type, status: 'False', reason: 'PodCompleted', lastProbeTime: null, lastTransitionTime: at });
    const updated = await this.write(`pod ${ns}/${name} status`, this.pods, podPath(ns, name), () =>
      this.rest.mergePatch(podPath(ns, name) + '/status', {
        status: {
          phase: 'Succeeded',
          conditions: [...((pod.status?.conditions as Obj[]) ?? []).filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady'), ready('Ready'), ready('ContainersReady')],
          containerStatuses: ((pod.spec.containers as Obj[]) ?? []).map(term),
        },
      }),
    );
    this.pods.upsert(updated);
    this.log(`pod ${ns}/${name}: Succeeded (${why})`);
  }

  /** A deleted VMI: the domain shuts down, the VMI Succeeds; virt-controller deletes the pod. */
  private async shutdown(vmi: Obj, t: Timers): Promise<void> {
    if (!t.due('shutdown')) return;
    await this.patchVMI(vmi, [{ op: 'replace', path: '/status/phase', value: 'Succeeded' }]);
    await this.event(vmiObject(vmi), 'Normal', 'Stopped', 'The VirtualMachineInstance was shut down.', 'virt-handler');
    this.log(`vmi ${vmi.metadata.namespace}/${vmi.metadata.name}: shut down (Succeeded)`);
  }

  /** A running VMI: hot-plugs, unplugs and link changes reach the domain and the guest. */
  private async syncRunning(vmi: Obj, t: Timers): Promise<void> {
    const ns = vmi.metadata.namespace;
    const name = vmi.metadata.name;
    const id = `vmi ${ns}/${name}`;
    const pod = this.currentPod(vmi);
    if (!pod) return;
    const netStatus = parseList(pod.metadata.annotations?.[NETWORK_STATUS_ANNOTATION]);
    const nets = new Map(networksOf(vmi.spec).map((n) => [n.name, n]));
    const old = ((vmi.status?.interfaces as Obj[]) ?? []).filter((e) => e && typeof e === 'object');
    const usedEth = new Set(old.map((e) => e.interfaceName).filter(Boolean));
    const nextEth = () => {
      let n = 0;
      while (usedEth.has(`eth${n}`)) n++;
      usedEth.add(`eth${n}`);
      return `eth${n}`;
    };
    const entries: Obj[] = [];
    let changed = false;
    const specNames = new Set<string>();
    for (const iface of interfacesOf(vmi.spec)) {
      specNames.add(iface.name);
      const net = nets.get(iface.name);
      const prev = old.find((e) => e.name === iface.name);
      const e: Obj = prev ? clone(prev) : { name: iface.name };
      const src = new Set(infoSources(e));
      if (net && isSecondaryMultus(net)) {
        const pif = podInterfaceName(net.name);
        const att = netStatus.find((x) => x.interface === pif);
        if (!isAbsent(iface)) {
          if (att && !src.has('domain') && t.due(`domain/${iface.name}`)) {
            const b = bindingOf(iface);
            src.add('domain');
            src.add('multus-status');
            e.podInterfaceName = pif;
            e.mac = parseMac(iface.macAddress) ?? (att.mac && (b === 'bridge' || b === 'sriov') ? att.mac : stableMac(`${vmi.metadata.uid}/${iface.name}`));
            // An SR-IOV VF is a host device: its status has no queues and no link state.
            if (b !== 'sriov') Object.assign(e, { queueCount: 1, linkState: iface.state === 'down' ? 'down' : 'up' });
            changed = true;
            this.log(`${id}: hot-plug ${iface.name}: in the domain, mac ${e.mac}`);
          } else if (src.has('domain') && !src.has('guest-agent') && t.due(`guest/${iface.name}`)) {
            src.add('guest-agent');
            if (att) this.attachedTo.set(`${vmi.metadata.uid}/${iface.name}`, att.name);
            e.interfaceName = nextEth();
            const ips = Array.isArray(att?.ips) ? att!.ips : [];
            if (ips.length) Object.assign(e, { ipAddress: ips[0], ipAddresses: ips });
            changed = true;
            this.log(`${id}: ${iface.name}: seen by the guest agent as ${e.interfaceName}`);
          } else if (src.has('guest-agent') && att && this.attachedTo.get(`${vmi.metadata.uid}/${iface.name}`) !== att.name && Array.isArray(att.ips) && att.ips.length) {
            // The guest is on another NAD now (a migration carried a NAD change): its address follows.
            this.attachedTo.set(`${vmi.metadata.uid}/${iface.name}`, att.name);
            Object.assign(e, { ipAddress: att.ips[0], ipAddresses: att.ips });
            changed = true;
            this.log(`${id}: ${iface.name}: the guest agent reports ${att.ips[0]} (now on ${att.name})`);
          }
        } else if ((src.has('domain') || src.has('guest-agent')) && t.due(`detach/${iface.name}`)) {
          src.delete('domain');
          src.delete('guest-agent');
          for (const k of ['interfaceName', 'ipAddress', 'ipAddresses', 'linkState', 'queueCount']) delete e[k];
          changed = true;
          this.log(`${id}: unplug ${iface.name}: detached from the domain`);
        }
      }
      // Link state: virt-handler sets the domain link as the spec asks (not for SR-IOV host devices).
      if (src.has('domain') && !isAbsent(iface) && bindingOf(iface) !== 'sriov') {
        const want = iface.state === 'down' ? 'down' : 'up';
        if (e.linkState !== want && (!e.linkState || t.due(`link-${want}/${iface.name}`))) {
          e.linkState = want;
          changed = true;
          this.log(`${id}: ${iface.name}: link ${want}`);
        }
      }
      e.infoSource = joinInfoSources([...src]);
      if (e.infoSource) entries.push(e);
      else if (prev) changed = true;
    }
    // Entries of networks no longer in the spec: what virt-controller keeps (multus-status) or the guest reports.
    for (const e of old) if (e.name && !specNames.has(e.name)) entries.push(e);
    // NICs the guest made itself (a bridge, a VPN), reported by the guest agent with no spec name.
    const guestMade = guestInterfaces(vmi);
    for (const g of guestMade) {
      const prev = old.find((e) => !e.name && e.interfaceName === g.interfaceName);
      if (!prev) changed = true;
      entries.push(prev ?? g);
    }
    for (const e of old) if (!e.name && !guestMade.some((g) => g.interfaceName === e.interfaceName)) changed = true;
    if (!changed || jsonEqual(entries, old)) return;
    await this.patchVMI(vmi, [{ op: 'replace', path: '/status/interfaces', value: entries }]);
  }
}
