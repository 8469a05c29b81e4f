/**
 * One interface edit, the use case behind `hotplug add|remove`, `link set`,
 * `network set` and `mac set|unset`: typed options in, a result out, no printing.
 *
 * The change is one of CHANGES (an entry says which facts it needs, how it is
 * planned, what --wait waits for and what a standalone VMI means for it); the
 * target is the live VM, or the VMs of a manifest file (-f FILE --local). Both
 * run the same planners from src/domain. A new edit is a new entry in CHANGES and
 * a command that builds its options (as network set, the NAD change, is).
 */
import { refused, StandaloneVMIError, VnetError } from '../errors.js';
import type { ClusterFacts, HotplugRequest } from '../domain/hotplug.js';
import type { MacFacts, MacSetOptions, MacUnsetOptions } from '../domain/mac-plan.js';
import type { EditPlan } from '../domain/patch.js';
import type { VirtualMachine } from '../domain/types.js';
import type { KubeApi } from '../kube/api.js';
import type { DryRun, EditResult } from '../kube/edit.js';
import type { WaitGoal, WaitResult } from '../kube/wait.js';

export type InterfaceChange =
  /** once: the fleet's re-runnable add (planHotplugOnce): one name on every VM, unchanged where it is already on the NAD. */
  | { kind: 'hotplug-add'; request: HotplugRequest; once?: boolean }
  /** once: the fleet's re-runnable remove (planUnplugOnce): unchanged where the interface is not there. */
  | { kind: 'hotplug-remove'; iface: string; once?: boolean }
  | { kind: 'link-set'; iface: string; state: 'up' | 'down' }
  | { kind: 'network-set'; iface: string; network: string }
  | { kind: 'mac-set'; options: MacSetOptions }
  | { kind: 'mac-unset'; options: MacUnsetOptions };

/** The live VM, by name, in the connection's namespace. */
export interface LiveTarget {
  mode: 'live';
  name: string;
  /** --wait, with its --timeout (0: no limit). */
  wait?: { timeoutMs: number };
}

/** The VMs of a manifest file (-f FILE --local): one by name, or every one (--all). */
export interface FileTarget {
  mode: 'file';
  file: string;
  name?: string;
  all: boolean;
  inPlace: boolean;
  /** -n: the namespace a VM without one is planned in (not written into the file). */
  namespace?: string;
}

export type EditOutput = 'default' | 'name' | 'json' | 'yaml';

export interface InterfaceEditOptions<T extends LiveTarget | FileTarget = LiveTarget | FileTarget> {
  change: InterfaceChange;
  target: T;
  dryRun: DryRun;
  output: EditOutput;
}

/** How many times a live edit is planned and sent when the VM keeps changing under it. */
export const EDIT_ATTEMPTS = 15;

/**
 * What each change needs and does. F is the facts its planner takes (ClusterFacts
 * or MacFacts); they go only from the change's own gather (or fileFacts) to its own plan.
 */
interface ChangeSpec<F = unknown> {
  /** Plans the change on one VM with the facts gathered (none for a file). */
  plan(vm: VirtualMachine, facts: F): Promise<EditPlan> | EditPlan;
  /** Reads the cluster facts the planner checks. */
  gather(client: KubeApi, target: { namespace: string; name: string }): Promise<Gathered<F>>;
  /** The facts a manifest file gives (for mac set: the MACs of the file's VMs); none when absent. */
  fileFacts?(file: FileInput, target: FileTarget): Promise<{ facts: F; notes: string[] }>;
  /** What --wait waits for, given the plan sent; undefined: the change has nothing to wait for. */
  goal?(plan: EditPlan): WaitGoal;
  /** The refusal for a VMI without a VM. */
  standalone(name: string, namespace: string): VnetError;
}

interface Gathered<F> {
  facts: F;
  notes: string[];
  /** What the lists said about the target (mac): a standalone VMI is refused before anything is sent. */
  standaloneVMI?: boolean;
  /** Re-reads what may change between attempts (the VMI). */
  refresh?(): Promise<void>;
}

interface FileInput {
  source: string;
  vms: VirtualMachine[];
}

const liveStandalone = (name: string, namespace: string) =>
  refused(
    `"${name}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine: only VirtualMachines can be hot-plugged or changed live`,
    'run the workload through a VirtualMachine, or create the VMI anew with the interface in its spec',
  );

const macStandalone = (via: 'netconf' | 'spec') => (name: string, namespace: string) =>
  via === 'netconf'
    ? refused(
        `"${name}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine; hook sidecar annotations are read only when a VMI is created, so changing them on a running VMI does nothing`,
        'put the netconf annotations in the VMI manifest and create it anew, or run it through a VirtualMachine and use this command on that',
      )
    : refused(
        `"${name}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine; a VMI's spec cannot change while it runs`,
        'set interfaces[].macAddress in the VMI manifest and create it anew, or run it through a VirtualMachine and use this command on that',
      );

/** Hotplug, unplug and link: the VMI, the KubeVirt CR, and for hotplug add the NAD (and MAC claims for --mac). */
async function gatherInterfaceFacts(
  client: KubeApi,
  target: { namespace: string; name: string },
  want: { nad?: { namespace: string; name: string }; macUses?: boolean } = {},
): Promise<Gathered<ClusterFacts>> {
  const { gatherHotplugFacts, readVMIFact } = await import('../kube/hotplug-facts.js');
  const { facts, notes } = await gatherHotplugFacts(client, target, want);
  return {
    facts,
    notes,
    // A retry means the VM changed: the VMI may have too (an unplug finished, a plug landed).
    refresh: async () => {
      if (facts.vmi !== undefined) facts.vmi = (await readVMIFact(client, target.namespace, target.name)).vmi;
    },
  };
}

async function gatherMac(client: KubeApi, target: { namespace: string; name: string }, want: { uses: boolean; kubevirt: boolean; macpool: boolean }): Promise<Gathered<MacFacts>> {
  const { gatherMacFacts } = await import('../kube/mac-facts.js');
  const gathered = await gatherMacFacts(client, target, want);
  return { facts: gathered.facts, notes: [], standaloneVMI: !gathered.target.vm && gathered.target.vmi };
}

/** The NAD --network names, resolved in the VM's namespace; undefined when it is not a plain [ns/]name. */
async function nadOf(network: string, namespace: string): Promise<{ namespace: string; name: string } | undefined> {
  const { splitNadName } = await import('../domain/vmspec.js');
  const nad = splitNadName(network.trim(), namespace);
  return nad.name && !nad.name.includes('/') && nad.namespace ? nad : undefined;
}

/** The file's VMs as MAC claims, each in the namespace it would be applied to. */
async function fileMacUses(file: FileInput, target: FileTarget): Promise<MacFacts> {
  const { collectMacUses } = await import('../domain/mac.js');
  const ns = target.namespace;
  const vms = file.vms.map((vm) => (vm.metadata.namespace || ns === undefined ? vm : { ...vm, metadata: { ...vm.metadata, namespace: ns } }));
  return { uses: { uses: collectMacUses(vms, []) } };
}

/** A change's spec with its facts type erased: sound, since the facts go only from its gather to its plan. */
const erase = <F>(spec: ChangeSpec<F>) => spec as unknown as ChangeSpec;

function specOf(change: InterfaceChange): ChangeSpec {
  switch (change.kind) {
    case 'hotplug-add': {
      const req = change.request;
      return erase<ClusterFacts>({
        plan: async (vm, facts) => {
          const { planHotplug, planHotplugOnce } = await import('../domain/hotplug.js');
          return change.once ? planHotplugOnce(vm, req, facts) : planHotplug(vm, req, facts);
        },
        gather: async (client, target) => gatherInterfaceFacts(client, target, { nad: await nadOf(req.network, target.namespace), macUses: req.mac !== undefined }),
        fileFacts: async (file, target) => {
          if (req.mac !== undefined && target.all && file.vms.length > 1)
            throw refused('--mac with --all would give every VirtualMachine in the file the same MAC', 'add the interface to one VM at a time when it needs a MAC');
          return { facts: {}, notes: [] };
        },
        goal: (plan) => ({ kind: 'ready', name: (plan as EditPlan & { interfaceName?: string }).interfaceName ?? req.name ?? '' }),
        standalone: liveStandalone,
      });
    }
    case 'hotplug-remove':
      return erase<ClusterFacts>({
        plan: async (vm, facts) => {
          const { planUnplug, planUnplugOnce } = await import('../domain/hotplug.js');
          return (change.once ? planUnplugOnce : planUnplug)(vm, { name: change.iface }, facts);
        },
        gather: (client, target) => gatherInterfaceFacts(client, target),
        goal: () => ({ kind: 'gone', name: change.iface }),
        standalone: liveStandalone,
      });
    case 'link-set':
      return erase<ClusterFacts>({
        plan: async (vm, facts) => (await import('../domain/hotplug.js')).planLinkState(vm, { name: change.iface, state: change.state }, facts),
        gather: (client, target) => gatherInterfaceFacts(client, target),
        goal: () => ({ kind: 'link', name: change.iface, state: change.state }),
        standalone: liveStandalone,
      });
    case 'network-set':
      return erase<ClusterFacts>({
        plan: async (vm, facts) => (await import('../domain/network-change.js')).planNetworkChange(vm, { iface: change.iface, network: change.network }, facts),
        gather: async (client, target) => {
          const { parseNadArgument } = await import('../domain/network-change.js');
          return gatherInterfaceFacts(client, target, { nad: parseNadArgument(change.network, target.namespace) });
        },
        goal: (plan) => {
          const p = plan as EditPlan & { nad: { namespace: string; name: string }; priorMigration?: string };
          return { kind: 'nad', name: change.iface, nad: `${p.nad.namespace}/${p.nad.name}`, priorMigration: p.priorMigration };
        },
        standalone: liveStandalone,
      });
    case 'mac-set': {
      const o = change.options;
      return erase<MacFacts>({
        plan: async (vm, facts) => (await import('../domain/mac-plan.js')).planMacSet(vm, o, facts),
        gather: (client, target) => gatherMac(client, target, { uses: true, kubevirt: o.via === 'netconf', macpool: true }),
        fileFacts: async (file, target) => {
          if (target.all && file.vms.length > 1) throw refused('mac set with --all would give every VirtualMachine in the file the same MAC', 'name one VM');
          const count = file.vms.length;
          return {
            facts: await fileMacUses(file, target),
            notes: [`MAC collisions were checked against the ${count} VirtualMachine${count === 1 ? '' : 's'} in ${file.source} only, not the cluster's`],
          };
        },
        standalone: macStandalone(o.via),
      });
    }
    case 'mac-unset': {
      const o = change.options;
      return erase<MacFacts>({
        plan: async (vm, facts) => (await import('../domain/mac-plan.js')).planMacUnset(vm, o, facts),
        gather: (client, target) => gatherMac(client, target, { uses: false, kubevirt: o.via === 'netconf', macpool: o.via === 'spec' }),
        standalone: macStandalone(o.via),
      });
    }
  }
}

// --- the live VM ---------------------------------------------------------------------

export interface LiveEditDeps {
  client: KubeApi;
  /** The namespace of the connection (-n, else the context's). */
  namespace: string;
}

export interface LiveEditResult {
  kind: 'live';
  edit: EditResult;
  /** What could not be read while gathering the facts. */
  notes: string[];
  /** What --wait waits for (undefined: nothing, e.g. a MAC change). */
  goal?: WaitGoal;
}

/**
 * Gathers the facts, plans and sends the edit as one guarded JSON Patch (re-read,
 * re-checked and re-planned when the VM changed meanwhile), and returns what was sent.
 */
export async function editInterfaceLive(options: InterfaceEditOptions<LiveTarget>, deps: LiveEditDeps): Promise<LiveEditResult> {
  const { editVM } = await import('../kube/edit.js');
  const spec = specOf(options.change);
  const target = { namespace: deps.namespace, name: options.target.name };
  const gathered = await spec.gather(deps.client, target);
  if (gathered.standaloneVMI) throw spec.standalone(target.name, target.namespace);
  const planner = async (vm: VirtualMachine, attempt: number) => {
    if (attempt > 1) await gathered.refresh?.();
    return spec.plan(vm, gathered.facts);
  };
  const edit = await editVM(deps.client, target, planner, { dryRun: options.dryRun, maxAttempts: EDIT_ATTEMPTS }).catch((err: unknown) => {
    throw err instanceof StandaloneVMIError ? spec.standalone(err.vmiName, err.namespace) : err;
  });
  return { kind: 'live', edit, notes: gathered.notes, goal: spec.goal?.(edit.plan) };
}

export interface WaitDeps {
  client: KubeApi;
  timeoutMs: number;
  signal?: AbortSignal;
  onState?: (state: string) => void;
}

/** --wait: watches the VMI until the edited interface reaches the goal (the edit itself is done). */
export async function waitForEdit(result: LiveEditResult, deps: WaitDeps): Promise<WaitResult> {
  if (!result.goal) throw new VnetError('internal', 'this edit has nothing to wait for');
  const { waitForInterface } = await import('../kube/wait.js');
  return waitForInterface(deps.client, result.edit.after, result.goal, { timeoutMs: deps.timeoutMs, signal: deps.signal, onState: deps.onState });
}

// --- a manifest file ------------------------------------------------------------------

export interface FileEditDeps {
  /** Reads -f FILE (or stdin for "-"). */
  read(file: string): Promise<{ text: string; source: string }>;
  /** Replaces the file's content atomically. */
  write(file: string, text: string): Promise<void>;
}

export interface FileEditResult {
  kind: 'file';
  source: string;
  /** Each VM edited, with its plan (noop when unchanged). */
  results: { vm: VirtualMachine; plan: EditPlan }[];
  /** The whole manifest after the edit (comments and layout kept). */
  text: string;
  /** True when the file was written back (--in-place without --dry-run=client). */
  written: boolean;
}

/**
 * Plans the change on every selected VM of the file (a refusal for any VM changes
 * nothing), renders the manifest with the edits, and writes it back with --in-place.
 */
export async function editInterfaceFile(options: InterfaceEditOptions<FileTarget>, deps: FileEditDeps): Promise<FileEditResult> {
  const [{ parseManifest, selectVMs, listObjects, isVirtualMachine, renderManifest }, { applyPatch }] = await Promise.all([import('../domain/manifest.js'), import('../domain/patch.js')]);
  const spec = specOf(options.change);
  const t = options.target;
  const { text, source } = await deps.read(t.file);
  const manifest = parseManifest(text, source);
  const targets = selectVMs(manifest, { name: t.name, namespace: t.namespace, all: t.all });
  const vms = listObjects(manifest)
    .filter((o) => isVirtualMachine(o.object))
    .map((o) => structuredClone(o.object) as unknown as VirtualMachine);
  const fromFile = (await spec.fileFacts?.({ source, vms }, t)) ?? { facts: {}, notes: [] };

  const changes: { ref: (typeof targets)[number]['ref']; after: unknown }[] = [];
  const results: FileEditResult['results'] = [];
  for (const { vm, ref } of targets) {
    // A VM without a namespace is planned in -n's (as kubectl apply would put it), without writing it in.
    const injected = !vm.metadata.namespace && t.namespace !== undefined;
    if (injected) vm.metadata.namespace = t.namespace;
    const plan = await planInFile(spec, vm, fromFile.facts, { source, many: targets.length > 1 });
    if (!plan.noop) plan.notes.unshift(...fromFile.notes);
    results.push({ vm, plan });
    if (plan.noop || plan.ops.length === 0) continue;
    const after = applyPatch(vm, plan.ops);
    if (injected) delete after.metadata.namespace;
    changes.push({ ref, after });
  }
  const edited = renderManifest(manifest, changes);
  const written = t.inPlace && options.dryRun !== 'client';
  if (written && edited !== text) await deps.write(t.file, edited);
  return { kind: 'file', source, results, text: edited, written };
}

/** One VM's plan; with several VMs a refusal names the VM. */
async function planInFile(spec: ChangeSpec, vm: VirtualMachine, facts: unknown, o: { source: string; many: boolean }): Promise<EditPlan> {
  try {
    return await spec.plan(vm, facts);
  } catch (err) {
    if (err instanceof VnetError && o.many) {
      throw new VnetError(err.code, `virtualmachine "${vm.metadata.name}" in ${o.source}: ${err.message}; nothing was written`, { hint: err.hint, cause: err });
    }
    throw err;
  }
}
