/**
 * Planners for `mac set` and `mac unset`, both ways: through the netconf hook
 * sidecar's annotations in the VM template (`--via netconf`), or through
 * `interfaces[].macAddress` in the template spec (`--via spec`). Pure: they
 * take the VM as read and the facts gathered from the cluster (absent in
 * offline mode: those checks are skipped, and a note says so) and return an
 * EditPlan whose `test` ops guard exactly what it rewrites.
 */
import { option, refused, usageError, VnetError } from '../errors.js';
import { HOOK_SIDECARS_ANNOTATION, NETCONF_IMAGE_ENV, ensureNetconfSidecar, imageReferenceProblem, netconfSidecarImage, parseHookSidecars, removeNetconfSidecar, serializeHookSidecars, type HookSidecar } from './hooks.js';
import { checkMacCollisions, checkMacForInterface, macInRange, macWarnings, normaliseMac, type MacUses } from './mac.js';
import { NETCONF_ANNOTATION, netconfMacFor, parseNetconfAnnotation, serializeNetconf, setNetconfEntry, unsetNetconfEntry, type NetconfEntry } from './netconf.js';
import { assertSpecShape } from './hotplug.js';
import { hookSidecarsDeprecated, parseVersion } from './kubevirt-config.js';
import { pointer, type EditPlan, type JsonPatchOp } from './patch.js';
import type { VirtualMachine, VMInterface, Warning } from './types.js';
import { interfacesOf } from './vmspec.js';

export type MacVia = 'netconf' | 'spec';

/** What the cluster says, gathered before planning. A missing field means "not known" (offline mode): the check is skipped. */
export interface MacFacts {
  kubevirt?: { state: 'installed'; featureGates: readonly string[]; /** observedKubeVirtVersion */ version?: string } | { state: 'absent' | 'unreadable'; message: string };
  /** Every MAC claimed by the VMs and VMIs the user can read; `partial` says what could not be read. */
  uses?: MacUses;
  /** kubemacpool for the VM's namespace. `unknown` says why it could not be told. */
  macpool?: { manages: boolean; range?: { start: string; end: string }; unknown?: string };
}

export interface MacSetOptions {
  iface: string;
  /** Already parsed and normalised (parseMac). */
  mac: string;
  via: MacVia;
  /** The way was not asked for: the default (spec) was taken, and a netconf MAC already on the interface is not silently overridden. */
  viaDefaulted?: boolean;
  /** --sidecar-image, else the environment variable, with where it came from. */
  sidecarImage?: { image: string; from: string };
  force: boolean;
}

export interface MacUnsetOptions {
  iface: string;
  via: MacVia;
  /** The way was not asked for (see MacSetOptions.viaDefaulted). */
  viaDefaulted?: boolean;
}

const P_INTERFACES = ['spec', 'template', 'spec', 'domain', 'devices', 'interfaces'] as const;
const P_ANNOTATIONS = ['spec', 'template', 'metadata', 'annotations'] as const;

function vmRef(vm: VirtualMachine): string {
  return `${vm.metadata.namespace ?? ''}/${vm.metadata.name}`;
}

function findInterface(vm: VirtualMachine, iface: string): { index: number; entry: VMInterface } {
  assertSpecShape(vm);
  const ifaces = interfacesOf(vm.spec?.template?.spec);
  const index = ifaces.findIndex((i) => i.name === iface);
  if (index < 0) {
    const names = ifaces.map((i) => i.name);
    throw new VnetError('precondition', `virtualmachine "${vm.metadata.name}" has no interface "${iface}"`, {
      hint: names.length > 0 ? `its interfaces are: ${names.join(', ')}` : 'its template lists no interfaces (only the implicit default pod network, which has no spec entry to configure)',
    });
  }
  return { index, entry: ifaces[index] };
}

function templateAnnotations(vm: VirtualMachine): Record<string, string> | undefined {
  return vm.spec?.template?.metadata?.annotations;
}

function malformed(vm: VirtualMachine, annotation: string, error: string): VnetError {
  return refused(
    `annotation ${annotation} in the template of virtualmachine "${vm.metadata.name}" is malformed: ${error}; nothing was changed`,
    `fix or remove it first (kubectl edit vm ${vm.metadata.name}, spec.template.metadata.annotations); the sidecar cannot start a VM with a malformed value`,
  );
}

function readNetconf(vm: VirtualMachine): NetconfEntry[] {
  const p = parseNetconfAnnotation(templateAnnotations(vm)?.[NETCONF_ANNOTATION]);
  if (!p.ok) throw malformed(vm, NETCONF_ANNOTATION, p.error);
  return p.entries;
}

function readSidecars(vm: VirtualMachine): HookSidecar[] {
  const p = parseHookSidecars(templateAnnotations(vm)?.[HOOK_SIDECARS_ANNOTATION]);
  if (!p.ok) throw malformed(vm, HOOK_SIDECARS_ANNOTATION, p.error);
  return p.sidecars;
}

/**
 * JSON Patch ops that turn the template annotations into `next` for the given
 * keys (undefined = remove), each guarded: a `test` of the old value of every
 * key it rewrites, removes or keeps (a key passed with its current value is
 * one the plan relies on), and for a key it adds, a `test` of the whole map
 * as read (JSON Patch cannot test for absence).
 */
export function annotationOps(vm: VirtualMachine, next: Record<string, string | undefined>): JsonPatchOp[] {
  const current = templateAnnotations(vm);
  const ops: JsonPatchOp[] = [];
  const metadata = vm.spec?.template?.metadata;
  if (current === undefined || current === null) {
    const fresh: Record<string, string> = {};
    for (const [k, v] of Object.entries(next)) if (v !== undefined) fresh[k] = v;
    if (Object.keys(fresh).length === 0) return [];
    if (metadata === undefined || metadata === null) {
      ops.push({ op: 'test', path: pointer('metadata', 'resourceVersion'), value: vm.metadata.resourceVersion });
      ops.push({ op: 'add', path: pointer('spec', 'template', 'metadata'), value: { annotations: fresh } });
    } else {
      ops.push({ op: 'test', path: pointer('spec', 'template', 'metadata'), value: metadata });
      ops.push({ op: 'add', path: pointer(...P_ANNOTATIONS), value: fresh });
    }
    return ops;
  }
  let guardedMap = false;
  for (const [k, v] of Object.entries(next)) {
    const path = pointer(...P_ANNOTATIONS, k);
    const had = Object.hasOwn(current, k);
    if (had && v === current[k]) {
      // Kept as is but relied on (e.g. the netconf sidecar already there): guard it too.
      ops.push({ op: 'test', path, value: current[k] });
      continue;
    }
    if (had) {
      ops.push({ op: 'test', path, value: current[k] });
      ops.push(v === undefined ? { op: 'remove', path } : { op: 'replace', path, value: v });
    } else if (v !== undefined) {
      if (!guardedMap) {
        ops.unshift({ op: 'test', path: pointer(...P_ANNOTATIONS), value: current });
        guardedMap = true;
      }
      ops.push({ op: 'add', path, value: v });
    }
  }
  return ops;
}

function hasSidecarGate(gates: readonly string[]): boolean {
  return gates.includes('Sidecar');
}

/** Refuses (KubeVirt CR readable, gate off) or warns (not readable) when the result carries hook sidecars. */
function checkSidecarGate(facts: MacFacts, warnings: Warning[], notes: string[]): void {
  const kv = facts.kubevirt;
  if (!kv) {
    notes.push('the Sidecar feature gate was not checked (no cluster facts)');
    return;
  }
  if (kv.state === 'installed') {
    if (!hasSidecarGate(kv.featureGates)) {
      throw refused(
        'the Sidecar feature gate is not enabled in the KubeVirt CR, so admission would reject a VM with hook sidecars; nothing was sent',
        'add "Sidecar" to spec.configuration.developerConfiguration.featureGates of the KubeVirt CR (kubectl edit kubevirt -n kubevirt kubevirt), or use ' + option('via') + ' spec',
      );
    }
    return;
  }
  warnings.push({
    code: 'sidecar-gate-unknown',
    message: `could not check the Sidecar feature gate (${kv.message}); without it, admission rejects the VM`,
  });
}

function checkCollisions(vm: VirtualMachine, iface: string, mac: string, force: boolean, facts: MacFacts, warnings: Warning[], notes: string[]): void {
  checkMacCollisions(mac, facts.uses, { namespace: vm.metadata.namespace ?? '', name: vm.metadata.name, iface }, force, { warnings, notes });
}

function restartNote(vm: VirtualMachine, via: MacVia): string {
  if (via === 'netconf') {
    return `the netconf annotations take effect at the next start of the VM; KubeVirt does not flag a restart (no RestartRequired condition). Restart it (virtctl restart ${vm.metadata.name}) and check with: kubectl vnet mac list ${vm.metadata.name}`;
  }
  return `the new MAC takes effect at the next start of the VM (a running VM gets the RestartRequired condition); check with: kubectl vnet mac list ${vm.metadata.name}`;
}

/** Hook sidecars are deprecated from KubeVirt v1.9: a warning for the netconf way, with the spec way to take instead. */
function hookSidecarsDeprecation(vm: VirtualMachine, iface: string, mac: string, facts: MacFacts, warnings: Warning[]): void {
  const kv = facts.kubevirt;
  if (kv?.state !== 'installed' || !hookSidecarsDeprecated(parseVersion(kv.version))) return;
  warnings.push({
    code: 'hook-sidecars-deprecated',
    message: `KubeVirt ${kv.version} deprecates hook sidecars (the Plugins CRD, alpha, replaces them; the Sidecar gate is still alpha): the netconf way keeps working for now; ${option('via')} spec needs no sidecar, and kubemacpool and KubeVirt see it: kubectl vnet mac set ${vm.metadata.name} ${iface} ${mac} --via spec`,
    object: vmRef(vm),
  });
}

/** The default way (spec) is not taken over a netconf MAC: the netconf one would still win in the guest. */
function refuseDefaultOverNetconf(vm: VirtualMachine, opts: { iface: string; viaDefaulted?: boolean }, action: 'set' | 'unset', mac?: string): void {
  if (!opts.viaDefaulted) return;
  const nc = parseNetconfAnnotation(templateAnnotations(vm)?.[NETCONF_ANNOTATION]);
  const current = nc.ok ? netconfMacFor(nc.entries, opts.iface) : undefined;
  if (current === undefined) return;
  const name = vm.metadata.name;
  if (action === 'set') {
    throw refused(
      `interface "${opts.iface}" has its MAC (${current}) in the netconf annotation, and the default way writes the VM spec, whose MAC the netconf one overrides in the guest; nothing was changed`,
      `keep the netconf way: kubectl vnet mac set ${name} ${opts.iface} ${mac} --via netconf; or move to the spec: kubectl vnet mac unset ${name} ${opts.iface} --via netconf, then kubectl vnet mac set ${name} ${opts.iface} ${mac}`,
    );
  }
  throw refused(
    `interface "${opts.iface}" has its MAC (${current}) in the netconf annotation, and the default way clears the VM spec only; nothing was changed`,
    `remove the netconf MAC: kubectl vnet mac unset ${name} ${opts.iface} --via netconf${interfacesOf(vm.spec?.template?.spec).find((i) => i.name === opts.iface)?.macAddress ? `; the spec MAC: kubectl vnet mac unset ${name} ${opts.iface} --via spec` : ''}`,
  );
}

/** Plans `mac set VM IFACE MAC`. */
export function planMacSet(vm: VirtualMachine, opts: MacSetOptions, facts: MacFacts): EditPlan {
  const { index, entry } = findInterface(vm, opts.iface);
  checkMacForInterface(opts.mac, entry);
  if (opts.via === 'spec') refuseDefaultOverNetconf(vm, opts, 'set', opts.mac);
  const warnings: Warning[] = [...macWarnings(opts.mac).map((w) => ({ ...w, object: vmRef(vm) }))];
  const notes: string[] = [];
  return opts.via === 'netconf' ? planNetconfSet(vm, opts, facts, index, entry, warnings, notes) : planSpecSet(vm, opts, facts, index, entry, warnings, notes);
}

function planNetconfSet(vm: VirtualMachine, opts: MacSetOptions, facts: MacFacts, index: number, entry: VMInterface, warnings: Warning[], notes: string[]): EditPlan {
  if (opts.sidecarImage) {
    // A reference the kubelet cannot pull would only fail when the VM starts (the launcher pod stays in InvalidImageName).
    const problem = imageReferenceProblem(opts.sidecarImage.image);
    if (problem) throw usageError(`${JSON.stringify(opts.sidecarImage.image)} (${opts.sidecarImage.from}) is not a container image reference: ${problem}`, 'give an image the cluster can pull, e.g. registry.example/kubevirt/netconf-hook-sidecar:v1.9.0');
  }
  const entries = readNetconf(vm);
  const sidecars = readSidecars(vm);
  const image = opts.sidecarImage?.image ?? netconfSidecarImage(sidecars);
  if (!image) {
    throw refused(
      `virtualmachine "${vm.metadata.name}" has no netconf sidecar yet, and no image for it was given`,
      `pass ${option('sidecarImage')} IMAGE (the netconf hook sidecar image your cluster can pull, e.g. a build of kubevirt's cmd/sidecars netconf hook) or set ${NETCONF_IMAGE_ENV}`,
    );
  }
  const setE = setNetconfEntry(entries, opts.iface, opts.mac);
  const setS = ensureNetconfSidecar(sidecars, image);
  const summary = `set the MAC of interface "${opts.iface}" to ${opts.mac} through the netconf sidecar (${image})`;
  if (!setE.changed && !setS.changed) {
    return { ops: [], summary: `interface "${opts.iface}" already has MAC ${opts.mac} in the netconf annotation, with sidecar ${image}`, warnings, notes, noop: true };
  }
  checkCollisions(vm, opts.iface, opts.mac, opts.force, facts, warnings, notes);
  checkMacpoolForNetconf(vm, opts.mac, opts.force, facts, warnings, notes);
  checkSidecarGate(facts, warnings, notes);
  hookSidecarsDeprecation(vm, opts.iface, opts.mac, facts, warnings);
  const specMac = normaliseMac(entry.macAddress);
  if (entry.macAddress && specMac !== opts.mac) {
    warnings.push({
      code: 'mac-spec-overridden',
      message: `interface "${opts.iface}" also has macAddress ${entry.macAddress} in the spec; the netconf MAC overrides it in the guest, while CNI and kubemacpool still see ${entry.macAddress}`,
      object: vmRef(vm),
    });
  }
  if (setE.droppedDuplicates > 0) notes.push(`dropped ${setE.droppedDuplicates} duplicate netconf entr${setE.droppedDuplicates === 1 ? 'y' : 'ies'} for "${opts.iface}"`);
  const oldImage = netconfSidecarImage(sidecars);
  if (opts.sidecarImage && oldImage && oldImage !== image) {
    notes.push(`the netconf sidecar image changes from ${oldImage} to ${image} (${opts.sidecarImage.from})`);
  }
  const ops: JsonPatchOp[] = [{ op: 'test', path: pointer(...P_INTERFACES, index, 'name'), value: opts.iface }];
  ops.push(
    ...annotationOps(vm, {
      [NETCONF_ANNOTATION]: serializeNetconf(setE.entries),
      [HOOK_SIDECARS_ANNOTATION]: setS.changed ? serializeHookSidecars(setS.sidecars) : templateAnnotations(vm)?.[HOOK_SIDECARS_ANNOTATION],
    }),
  );
  notes.push(restartNote(vm, 'netconf'));
  return { ops, summary, warnings, notes };
}

function checkMacpoolForNetconf(vm: VirtualMachine, mac: string, force: boolean, facts: MacFacts, warnings: Warning[], notes: string[]): void {
  const mp = facts.macpool;
  if (!mp) {
    notes.push('the kubemacpool check was skipped (no cluster facts)');
    return;
  }
  if (mp.unknown) {
    warnings.push({ code: 'kubemacpool-unknown', message: `could not tell whether kubemacpool manages namespace "${vm.metadata.namespace}": ${mp.unknown}` });
    return;
  }
  if (!mp.manages) return;
  warnings.push({
    code: 'netconf-invisible-to-kubemacpool',
    message: `kubemacpool manages VMs in namespace "${vm.metadata.namespace}" but does not read netconf annotations: it will not reserve ${mac}`,
    object: vmRef(vm),
  });
  if (mp.range && macInRange(mac, mp.range.start, mp.range.end)) {
    if (!force) {
      throw refused(
        `${mac} is inside kubemacpool's range ${mp.range.start}-${mp.range.end}; kubemacpool does not see netconf MACs and may hand it to another VM`,
        `pick a MAC outside that range, use ${option('via')} spec so kubemacpool records it, or pass ${option('force')}`,
      );
    }
    warnings.push({ code: 'mac-in-kubemacpool-range', message: `${mac} is inside kubemacpool's range ${mp.range.start}-${mp.range.end} (${option('force')} given): the pool may hand it to another VM`, object: vmRef(vm) });
  }
}

function planSpecSet(vm: VirtualMachine, opts: MacSetOptions, facts: MacFacts, index: number, entry: VMInterface, warnings: Warning[], notes: string[]): EditPlan {
  const summary = `set spec macAddress of interface "${opts.iface}" to ${opts.mac}`;
  if (entry.macAddress === opts.mac) {
    return { ops: [], summary: `interface "${opts.iface}" already has macAddress ${opts.mac} in the spec`, warnings, notes, noop: true };
  }
  checkCollisions(vm, opts.iface, opts.mac, opts.force, facts, warnings, notes);
  const nc = parseNetconfAnnotation(templateAnnotations(vm)?.[NETCONF_ANNOTATION]);
  if (nc.ok) {
    const override = netconfMacFor(nc.entries, opts.iface);
    if (override !== undefined) {
      warnings.push({
        code: 'mac-netconf-overrides-spec',
        message: `the netconf annotation sets interface "${opts.iface}" to ${override}, which overrides the spec MAC in the guest; remove it with: kubectl vnet mac unset ${vm.metadata.name} ${opts.iface} --via netconf`,
        object: vmRef(vm),
      });
    }
  } else {
    warnings.push({ code: 'netconf-malformed', message: `annotation ${NETCONF_ANNOTATION} is malformed (${nc.error}); the VM will fail to start with the netconf sidecar until it is fixed`, object: vmRef(vm) });
  }
  if (!facts.macpool) notes.push('the kubemacpool check was skipped (no cluster facts)');
  else if (facts.macpool.manages) notes.push(`kubemacpool manages VMs in namespace "${vm.metadata.namespace}": it records ${opts.mac} as this VM's`);
  const ops: JsonPatchOp[] = [
    { op: 'test', path: pointer(...P_INTERFACES, index), value: entry },
    { op: 'replace', path: pointer(...P_INTERFACES, index), value: { ...entry, macAddress: opts.mac } },
  ];
  notes.push(restartNote(vm, 'spec'));
  return { ops, summary, warnings, notes };
}

/** Plans `mac unset VM IFACE`. */
export function planMacUnset(vm: VirtualMachine, opts: MacUnsetOptions, facts: MacFacts): EditPlan {
  const { index, entry } = findInterface(vm, opts.iface);
  const warnings: Warning[] = [];
  const notes: string[] = [];
  if (opts.via === 'spec') {
    refuseDefaultOverNetconf(vm, opts, 'unset');
    if (entry.macAddress === undefined) {
      return { ops: [], summary: `interface "${opts.iface}" has no macAddress in the spec`, warnings, notes, noop: true };
    }
    const { macAddress: old, ...rest } = entry;
    if (!facts.macpool) notes.push('the kubemacpool check was skipped (no cluster facts)');
    else if (facts.macpool.unknown) warnings.push({ code: 'kubemacpool-unknown', message: `could not tell whether kubemacpool manages namespace "${vm.metadata.namespace}": ${facts.macpool.unknown}` });
    else if (facts.macpool.manages) {
      warnings.push({
        code: 'kubemacpool-writes-back',
        message: `kubemacpool manages VMs in namespace "${vm.metadata.namespace}": on this update it writes the MAC it had allocated (${old}) back, so the MAC stays`,
        object: vmRef(vm),
      });
    }
    notes.push(restartNote(vm, 'spec'));
    return {
      ops: [
        { op: 'test', path: pointer(...P_INTERFACES, index), value: entry },
        { op: 'replace', path: pointer(...P_INTERFACES, index), value: rest },
      ],
      summary: `clear spec macAddress ${old} of interface "${opts.iface}"`,
      warnings,
      notes,
    };
  }
  const entries = readNetconf(vm);
  const sidecars = readSidecars(vm);
  const un = unsetNetconfEntry(entries, opts.iface);
  if (!un.changed) {
    return { ops: [], summary: `interface "${opts.iface}" has no MAC in the netconf annotation`, warnings, notes, noop: true };
  }
  const next: Record<string, string | undefined> = {};
  let summary = `remove the netconf MAC of interface "${opts.iface}"`;
  if (un.entries.length > 0) {
    next[NETCONF_ANNOTATION] = serializeNetconf(un.entries);
  } else {
    next[NETCONF_ANNOTATION] = undefined;
    const rm = removeNetconfSidecar(sidecars);
    if (rm.changed) {
      next[HOOK_SIDECARS_ANNOTATION] = rm.sidecars.length > 0 ? serializeHookSidecars(rm.sidecars) : undefined;
      summary += ' and the netconf sidecar (no netconf entry remains)';
    }
  }
  const resultHasSidecars = Object.hasOwn(next, HOOK_SIDECARS_ANNOTATION) ? next[HOOK_SIDECARS_ANNOTATION] !== undefined : templateAnnotations(vm)?.[HOOK_SIDECARS_ANNOTATION] !== undefined;
  if (resultHasSidecars) checkSidecarGate(facts, warnings, notes);
  const ops: JsonPatchOp[] = [{ op: 'test', path: pointer(...P_INTERFACES, index, 'name'), value: opts.iface }, ...annotationOps(vm, next)];
  notes.push(restartNote(vm, 'netconf'));
  return { ops, summary, warnings, notes };
}
