/**
 * A fleet edit: the same interface edit on many VMs (several names, -l SELECTOR, -A).
 * Each VM goes through editInterfaceLive exactly as one VM does (guarded patch,
 * checks, retries on conflict); this module adds what many VMs need: a bound on
 * edits in flight (--parallel), a client-side request rate limit (a token bucket,
 * --qps and --burst), the facts that are the same for every VM read once, the VMs
 * and VMIs of a selection kept by list-then-watch caches instead of read one by one,
 * one result per VM, and a stop (Ctrl-C) that starts no new edit and lets the started ones finish.
 */
import { VnetError } from '../errors.js';
import type { KubeApi } from '../kube/api.js';
import type { DryRun } from '../kube/edit.js';
import type { FleetWaitItem } from '../kube/fleet-wait.js';
import type { VirtualMachine, VirtualMachineInstance } from '../domain/types.js';
import type { Reflector } from '../kube/reflector.js';
import type { InterfaceChange, LiveEditResult } from './interface-edit.js';

/**
 * The client-side request rate of a fleet edit. client-go's rest.Config defaults (5 a second, bursts
 * of 10) predate API Priority and Fairness; with APF the server sheds load itself (429 and
 * Retry-After, which every request honours), and 5 a second would make a 1,000-VM edit take minutes.
 * 50 a second with bursts of 100 is what CLI tools that fan out commonly use; --qps and --burst set it.
 */
export const DEFAULT_QPS = 50;
export const DEFAULT_BURST = 100;
export const DEFAULT_PARALLEL = 10;

export interface FleetVM {
  namespace: string;
  name: string;
}

export type FleetOutcome = 'patched' | 'unchanged' | 'refused' | 'failed' | 'skipped';

export interface FleetResult extends FleetVM {
  outcome: FleetOutcome;
  /** What was done (patched, unchanged), or why not (refused, failed, skipped). */
  message: string;
  /** The hint of a refusal or a failure. */
  hint?: string;
  /** What --wait waits for on this VM (a live edit, patched or unchanged, with a goal). */
  waitFor?: FleetWaitItem;
}

export interface FleetSummary {
  results: FleetResult[];
  counts: Record<FleetOutcome, number>;
  /** True when Ctrl-C stopped the run before every VM was started. */
  interrupted: boolean;
}

/** A token bucket: `burst` requests at once, then `qps` a second. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = realClock,
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new VnetError('usage', `the request rate needs a QPS above 0 and a burst of at least 1 (got ${qps} and ${burst})`);
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Resolves when a request may be sent; callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.takeOne());
    this.queue = turn;
    return turn;
  }

  private async takeOne(): Promise<void> {
    this.refill();
    if (this.tokens < 1) {
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.qps) * 1000));
      this.refill();
    }
    this.tokens -= 1;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }
}

const realClock = {
  now: () => Date.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/** The client with every request (watches included) taking a token first. */
export function rateLimited(client: KubeApi, bucket: TokenBucket | undefined): KubeApi {
  if (!bucket) return client;
  return {
    conn: client.conn,
    get: async (path, opts) => (await bucket.take(), client.get(path, opts)),
    getOrNull: async (path, opts) => (await bucket.take(), client.getOrNull(path, opts)),
    list: async (path, opts) => (await bucket.take(), client.list(path, opts)),
    patch: async (path, ops, opts) => (await bucket.take(), client.patch(path, ops, opts)),
    mergePatch: async (path, body, opts) => (await bucket.take(), client.mergePatch(path, body, opts)),
    watch: async function* (...args: Parameters<KubeApi['watch']>) {
      await bucket.take();
      yield* client.watch(...args);
    } as KubeApi['watch'],
  } as KubeApi;
}

/**
 * The client with the reads that are the same for every VM made once: the NADs,
 * the KubeVirt CR, kubemacpool's objects (any path `shared` accepts). The answer
 * (or the error) of the first read is the answer of every later one.
 */
export function sharingReads(client: KubeApi, shared: (path: string) => boolean): KubeApi {
  const cache = new Map<string, Promise<unknown>>();
  const once = <T>(kind: string, path: string, opts: unknown, read: () => Promise<T>): Promise<T> => {
    if (!shared(path)) return read();
    const key = `${kind} ${path} ${JSON.stringify(opts ?? {})}`;
    let hit = cache.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = read();
      cache.set(key, hit);
    }
    // Each caller gets its own copy: planners may annotate what they are given.
    return hit.then((v) => structuredClone(v));
  };
  return {
    conn: client.conn,
    get: (path, opts) => once('get', path, opts, () => client.get(path, opts)),
    getOrNull: (path, opts) => once('getOrNull', path, opts, () => client.getOrNull(path, opts)),
    list: (path, opts) => once('list', path, opts, () => client.list(path, opts)),
    patch: (path, ops, opts) => client.patch(path, ops, opts),
    mergePatch: (path, body, opts) => client.mergePatch(path, body, opts),
    watch: ((...args: Parameters<KubeApi['watch']>) => client.watch(...args)) as KubeApi['watch'],
  } as KubeApi;
}

/**
 * The client with the first read of a path answered by `first` when it knows it (`null`: known
 * absent). Only the first: a retry after a conflict, or a refresh, asks the server.
 */
export function primedReads(client: KubeApi, first: (path: string) => { value: unknown } | undefined): KubeApi {
  const asked = new Set<string>();
  return {
    conn: client.conn,
    get: (path, opts) => client.get(path, opts),
    getOrNull: (async (path: string, opts?: Parameters<KubeApi['getOrNull']>[1]) => {
      if (!asked.has(path)) {
        asked.add(path);
        const known = first(path);
        if (known) return known.value === null ? null : structuredClone(known.value);
      }
      return client.getOrNull(path, opts);
    }) as KubeApi['getOrNull'],
    list: (path, opts) => client.list(path, opts),
    patch: (path, ops, opts) => client.patch(path, ops, opts),
    mergePatch: (path, body, opts) => client.mergePatch(path, body, opts),
    watch: ((...args: Parameters<KubeApi['watch']>) => client.watch(...args)) as KubeApi['watch'],
  } as KubeApi;
}

/** The paths read once in a fleet edit: NADs, the KubeVirt CR, kubemacpool, Kube-OVN subnets. */
export function isFleetSharedPath(path: string): boolean {
  return /\/network-attachment-definitions\/|\/kubevirts(\?|$)|\/subnets(\?|$)|kubemacpool/.test(path);
}

export interface FleetRunOptions {
  parallel: number;
  /** Aborted on Ctrl-C: no new edit starts; the started ones finish. */
  signal?: AbortSignal;
  /** Called when an edit ends, in the order they end. */
  onResult?: (result: FleetResult, done: number, total: number) => void;
}

/** Runs `edit` on every VM, at most `parallel` at a time, and gives one result per VM. */
export async function runFleet(vms: readonly FleetVM[], edit: (vm: FleetVM) => Promise<FleetResult>, opts: FleetRunOptions): Promise<FleetSummary> {
  if (!Number.isInteger(opts.parallel) || opts.parallel < 1) throw new VnetError('usage', `--parallel must be a whole number of at least 1 (got ${opts.parallel})`);
  const results: (FleetResult | undefined)[] = Array.from({ length: vms.length }, () => undefined);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < vms.length && !opts.signal?.aborted) {
      const i = next++;
      const vm = vms[i] as FleetVM;
      const r = await edit(vm).catch((err: unknown) => resultOfError(vm, err));
      results[i] = r;
      done++;
      opts.onResult?.(r, done, vms.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.parallel, vms.length) }, worker));
  const final = results.map(
    (r, i): FleetResult => r ?? { ...(vms[i] as FleetVM), outcome: 'skipped', message: 'not started: interrupted', hint: 'run the command again: the VMs already done report unchanged' },
  );
  return { results: final, counts: countOutcomes(final), interrupted: final.some((r) => r.outcome === 'skipped') };
}

export function countOutcomes(results: readonly FleetResult[]): Record<FleetOutcome, number> {
  const counts: Record<FleetOutcome, number> = { patched: 0, unchanged: 0, refused: 0, failed: 0, skipped: 0 };
  for (const r of results) counts[r.outcome]++;
  return counts;
}

/** A refusal (checked before sending, or the server's 4xx refusal) is `refused`; anything else `failed`. */
export function resultOfError(vm: FleetVM, err: unknown): FleetResult {
  if (err instanceof VnetError) {
    const outcome = err.code === 'precondition' || err.code === 'usage' ? 'refused' : 'failed';
    return { ...vm, outcome, message: err.message, hint: err.hint };
  }
  return { ...vm, outcome: 'failed', message: err instanceof Error ? err.message : String(err) };
}

/** One VM's live edit as a fleet result. */
export function resultOfEdit(vm: FleetVM, result: LiveEditResult): FleetResult {
  const e = result.edit;
  const dry = e.dryRun === 'none' ? '' : ` (${e.dryRun} dry run)`;
  const waitFor = result.goal && e.dryRun === 'none' ? { vm: e.after, goal: result.goal } : undefined;
  return { ...vm, outcome: e.plan.noop ? 'unchanged' : 'patched', message: `${e.plan.summary}${dry}`, ...(waitFor ? { waitFor } : {}) };
}

/** The exit code name of a fleet run: ok only when every VM succeeded. */
export function fleetExit(summary: FleetSummary): 'ok' | 'partialFailure' | 'interrupted' {
  if (summary.interrupted) return 'interrupted';
  return summary.counts.refused + summary.counts.failed > 0 ? 'partialFailure' : 'ok';
}

export interface FleetEditOptions {
  change: InterfaceChange;
  dryRun: DryRun;
  parallel: number;
  signal?: AbortSignal;
  onResult?: FleetRunOptions['onResult'];
}

/** The client-side rate limit of the flags: none for --qps -1, else a token bucket. */
export function fleetBucket(qps: number, burst: number): TokenBucket | undefined {
  if (qps === -1) return undefined;
  if (!(qps > 0) || !Number.isInteger(burst) || burst < 1) {
    throw new VnetError('usage', `--qps must be above 0 (or -1 for no client-side limit) and --burst a whole number of at least 1 (got ${qps} and ${burst})`);
  }
  return new TokenBucket(qps, burst);
}

/** Where a selection (-l, -A) came from: the VMs' cache, listed already; run here to keep it current. */
export interface FleetSource {
  vms: Reflector<VirtualMachine>;
  /** -A: the VMIs of every namespace (one list and watch), else those of the VMs' namespaces. */
  allNamespaces: boolean;
}

/**
 * The fleet edit: each VM through editInterfaceLive, over `deps.client` (rate-limited by the caller),
 * with the facts that are the same for every VM read once. For a selection (-l, -A) a VM's first
 * read is the VMs' cache, kept current by its watch while the edits run (a retry after a conflict
 * reads the server), and the VMIs are one more list and watch: a VM then costs one request, its patch.
 */
export async function editFleetLive(vms: readonly FleetVM[], options: FleetEditOptions, deps: { client: KubeApi; source?: FleetSource }): Promise<FleetSummary> {
  const { editInterfaceLive } = await import('./interface-edit.js');
  const known = deps.source ? await knownFromCaches(deps.client, vms, deps.source) : { first: () => undefined, stop: () => undefined };
  const client = sharingReads(primedReads(deps.client, known.first), isFleetSharedPath);
  try {
    return await runFleet(
      vms,
      async (vm) => {
        const result = await editInterfaceLive({ change: options.change, target: { mode: 'live', name: vm.name }, dryRun: options.dryRun, output: 'default' }, { client, namespace: vm.namespace });
        return resultOfEdit(vm, result);
      },
      { parallel: options.parallel, signal: options.signal, onResult: options.onResult },
    );
  } finally {
    known.stop();
  }
}

/** Below this many namespaces, -A lists and watches the VMIs of the selected VMs' namespaces only. */
const FEW_NAMESPACES = 10;

/**
 * The VMs from their cache (run here, so it follows changes) and the VMIs from a list-then-watch
 * cache of their own. When a cache cannot be read or its watch ends in an error, the VMs read
 * their own objects, as one VM does; a VM the cache no longer has is read from the server too.
 */
export async function knownFromCaches(client: KubeApi, vms: readonly FleetVM[], source: FleetSource): Promise<{ first: (path: string) => { value: unknown } | undefined; stop: () => void }> {
  const [{ Reflector }, { Resources, resourcePath }] = await Promise.all([import('../kube/reflector.js'), import('../kube/resources.js')]);
  const keyOf = new Map<string, { kind: 'vm' | 'vmi'; key: string }>();
  for (const v of vms) {
    keyOf.set(resourcePath(Resources.vm, v.namespace, v.name), { kind: 'vm', key: `${v.namespace}/${v.name}` });
    keyOf.set(resourcePath(Resources.vmi, v.namespace, v.name), { kind: 'vmi', key: `${v.namespace}/${v.name}` });
  }
  const ctl = new AbortController();
  let vmsKnown = true;
  let vmisKnown = true;
  void source.vms.run(ctl.signal, () => undefined).catch(() => (vmsKnown = false));
  const namespaces = [...new Set(vms.map((v) => v.namespace))];
  const vmis: Reflector<VirtualMachineInstance>[] = [];
  try {
    const scopes = source.allNamespaces && namespaces.length > FEW_NAMESPACES ? [undefined] : namespaces;
    vmis.push(...scopes.map((ns) => new Reflector<VirtualMachineInstance>(client, { path: resourcePath(Resources.vmi, ns) })));
    await Promise.all(vmis.map((r) => r.list()));
    for (const r of vmis) void r.run(ctl.signal, () => undefined).catch(() => (vmisKnown = false));
  } catch {
    vmisKnown = false;
  }
  const first = (path: string): { value: unknown } | undefined => {
    const k = keyOf.get(path);
    if (!k || ctl.signal.aborted) return undefined;
    if (k.kind === 'vm') {
      const vm = vmsKnown ? source.vms.items.get(k.key) : undefined;
      return vm ? { value: vm } : undefined;
    }
    if (!vmisKnown) return undefined;
    for (const r of vmis) {
      const vmi = r.items.get(k.key);
      if (vmi) return { value: vmi };
    }
    return { value: null };
  };
  return { first, stop: () => ctl.abort() };
}
