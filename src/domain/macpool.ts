/**
 * kubemacpool, as the API server and kubemacpool itself see it: which
 * namespaces its mutating webhooks apply to (namespaceSelector evaluated
 * like the API server does), the mode of each webhook (opt-in or opt-out,
 * read from the selector as kubemacpool's pool manager reads it), its MAC
 * range, and the label edits that opt a namespace in or out.
 *
 * Pure functions over plain objects; nothing here talks to a cluster.
 */
import { option, VnetError } from '../errors.js';
import type { ObjectMeta, Warning } from './types.js';
import { compareStrings } from './order.js';

export const MUTATOR_NAME = 'kubemacpool-mutator';
export const VMS_WEBHOOK = 'mutatevirtualmachines.kubemacpool.io';
export const PODS_WEBHOOK = 'mutatepods.kubemacpool.io';
export const RANGE_CONFIGMAP = 'kubemacpool-mac-range-config';
export const MANAGER_DEPLOYMENT = 'kubemacpool-mac-controller-manager';
/** Labels with which kubemacpool's release manifests exclude control-plane namespaces (values "0" and "1"). */
export const RUN_LEVEL_LABELS = ['runlevel', 'openshift.io/run-level'] as const;

export type MacpoolKind = 'vms' | 'pods';
export const KINDS: readonly MacpoolKind[] = ['vms', 'pods'];
export const WEBHOOK_OF: Record<MacpoolKind, string> = { vms: VMS_WEBHOOK, pods: PODS_WEBHOOK };
const KIND_WORD: Record<MacpoolKind, string> = { vms: 'VMs', pods: 'pods' };

export type OptMode = 'opt-in' | 'opt-out' | 'unknown';

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface MutatingWebhook {
  name: string;
  namespaceSelector?: LabelSelector | null;
  objectSelector?: LabelSelector | null;
  clientConfig?: { service?: { name: string; namespace: string; path?: string; port?: number }; url?: string; [k: string]: unknown };
  failurePolicy?: string;
  timeoutSeconds?: number;
  [key: string]: unknown;
}

export interface MutatingWebhookConfiguration {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  webhooks?: MutatingWebhook[];
}

export interface NamespaceLike {
  metadata: ObjectMeta;
}

// ---------------------------------------------------------------------------
// Label selectors, as k8s.io/apimachinery's LabelSelectorAsSelector + Matches.

export class SelectorError extends Error {}

/** Why one requirement of a selector did not match. */
export interface FailedRequirement {
  key: string;
  operator: string;
  values: string[];
  /** The label's value, or null when the namespace does not have it. */
  actual: string | null;
}

export interface SelectorResult {
  matches: boolean;
  /** Requirements that failed, in selector order (matchLabels first). */
  failed: FailedRequirement[];
}

/** Every requirement of a selector, matchLabels turned into `key In [value]` the way the API server does. */
export function selectorRequirements(selector: LabelSelector | null | undefined): LabelSelectorRequirement[] {
  const reqs: LabelSelectorRequirement[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) reqs.push({ key, operator: 'In', values: [value] });
  for (const r of selector?.matchExpressions ?? []) {
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) throw new SelectorError(`selector requirement on "${r.key}": operator ${r.operator} needs at least one value`);
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) throw new SelectorError(`selector requirement on "${r.key}": operator ${r.operator} takes no values`);
        break;
      default:
        throw new SelectorError(`selector requirement on "${r.key}": "${r.operator}" is not a valid label selector operator`);
    }
    reqs.push({ key: r.key, operator: r.operator, values });
  }
  return reqs;
}

function requirementMatches(r: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(value as string);
    case 'NotIn':
      return !has || !(r.values ?? []).includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      throw new SelectorError(`"${r.operator}" is not a valid label selector operator`);
  }
}

/**
 * Evaluates a label selector against a label set. A null or empty selector
 * matches everything (a webhook without namespaceSelector applies to every
 * namespace). An invalid selector throws SelectorError.
 */
export function evaluateLabelSelector(selector: LabelSelector | null | undefined, labels: Readonly<Record<string, string>> | undefined): SelectorResult {
  const set = labels ?? {};
  const failed: FailedRequirement[] = [];
  for (const r of selectorRequirements(selector)) {
    if (!requirementMatches(r, set)) failed.push({ key: r.key, operator: r.operator, values: r.values ?? [], actual: Object.hasOwn(set, r.key) ? set[r.key] : null });
  }
  return { matches: failed.length === 0, failed };
}

/** "runlevel NotIn (0,1)" for messages. */
export function describeRequirement(r: { key: string; operator: string; values?: string[] }): string {
  const vals = r.values ?? [];
  return vals.length > 0 ? `${r.key} ${r.operator} (${vals.join(',')})` : `${r.key} ${r.operator}`;
}

// ---------------------------------------------------------------------------
// Modes, as kubemacpool's pool manager derives them (getOptModeFromWebhook).

function isExactly(r: LabelSelectorRequirement, key: string, operator: string, value: string): boolean {
  return r.key === key && r.operator === operator && (r.values ?? []).length === 1 && (r.values ?? [])[0] === value;
}

/**
 * opt-in when the selector requires `<webhook> In [allocate]` (or matchLabels
 * `<webhook>: allocate`), opt-out when it has `<webhook> NotIn [ignore]`;
 * otherwise unknown (kubemacpool itself then fails to decide).
 */
export function webhookMode(webhook: MutatingWebhook): OptMode {
  const sel = webhook.namespaceSelector;
  if (!sel) return 'unknown';
  for (const r of sel.matchExpressions ?? []) {
    if (isExactly(r, webhook.name, 'In', 'allocate')) return 'opt-in';
    if (isExactly(r, webhook.name, 'NotIn', 'ignore')) return 'opt-out';
  }
  if (sel.matchLabels?.[webhook.name] === 'allocate') return 'opt-in';
  return 'unknown';
}

/** The selector kubemacpool's release manifests give a webhook in a mode (with the run-level exclusions). */
export function releaseSelector(webhookName: string, mode: 'opt-in' | 'opt-out'): LabelSelector {
  return {
    matchExpressions: [
      { key: 'runlevel', operator: 'NotIn', values: ['0', '1'] },
      { key: 'openshift.io/run-level', operator: 'NotIn', values: ['0', '1'] },
      mode === 'opt-in' ? { key: webhookName, operator: 'In', values: ['allocate'] } : { key: webhookName, operator: 'NotIn', values: ['ignore'] },
    ],
  };
}

/** The run-level label that excludes a namespace from kubemacpool's release selectors, if any. */
export function runLevelExclusion(labels: Readonly<Record<string, string>> | undefined): string | null {
  for (const key of RUN_LEVEL_LABELS) {
    const v = labels?.[key];
    if (v === '0' || v === '1') return `${key}=${v}`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// The MAC range.

/** A MAC as kubemacpool reads RANGE_START/RANGE_END (Go net.ParseMAC, 6 bytes) -> its 48-bit value, or null. */
export function macToNumber(text: string): number | null {
  const s = text.trim();
  let hex: string | null = null;
  if (/^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(s)) hex = s.replace(/[:-]/g, '');
  else if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(s)) hex = s.replace(/\./g, '');
  if (hex === null) return null;
  return Number.parseInt(hex, 16);
}

export function numberToMac(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return hex.match(/../g)!.join(':');
}

export interface MacRange {
  start: string;
  end: string;
  /** How many addresses the range holds (end - start + 1). */
  size: number;
}

export type RangeResult = { ok: true; range: MacRange } | { ok: false; problem: string };

/** Parses and checks a range the way kubemacpool's manager does before it starts (unicast ends, start <= end). */
export function parseMacRange(start: string | undefined, end: string | undefined): RangeResult {
  if (start === undefined || start.trim() === '') return { ok: false, problem: 'RANGE_START is missing' };
  if (end === undefined || end.trim() === '') return { ok: false, problem: 'RANGE_END is missing' };
  const a = macToNumber(start);
  const b = macToNumber(end);
  if (a === null) return { ok: false, problem: `RANGE_START "${start}" is not a MAC address` };
  if (b === null) return { ok: false, problem: `RANGE_END "${end}" is not a MAC address` };
  const multicast = (n: number) => Math.floor(n / 2 ** 40) % 2 === 1;
  if (multicast(a)) return { ok: false, problem: `RANGE_START ${numberToMac(a)} is a multicast address (the first octet is odd); kubemacpool needs unicast` };
  if (multicast(b)) return { ok: false, problem: `RANGE_END ${numberToMac(b)} is a multicast address (the first octet is odd); kubemacpool needs unicast` };
  if (a > b) return { ok: false, problem: `RANGE_START ${numberToMac(a)} is after RANGE_END ${numberToMac(b)}` };
  return { ok: true, range: { start: numberToMac(a), end: numberToMac(b), size: b - a + 1 } };
}

/** True when mac (any accepted notation) lies inside the range. */
export function macInRange(mac: string, range: MacRange): boolean {
  const n = macToNumber(mac);
  const a = macToNumber(range.start);
  const b = macToNumber(range.end);
  return n !== null && a !== null && b !== null && n >= a && n <= b;
}

// ---------------------------------------------------------------------------
// What was read from the cluster, and what it means.

/** What the kube layer read, each part with its own readability. */
export interface MacpoolFacts {
  mutator: { state: 'found'; config: MutatingWebhookConfiguration } | { state: 'absent' } | { state: 'unreadable'; message: string };
  /** The range ConfigMap's data, in the namespace the webhooks' service names. */
  rangeConfig?: { state: 'found'; data: Record<string, string> } | { state: 'absent' } | { state: 'unreadable'; message: string };
  /** The manager Deployment. */
  manager?: { state: 'found'; available: boolean; message?: string } | { state: 'absent' } | { state: 'unreadable'; message: string };
}

export interface WebhookView {
  kind: MacpoolKind;
  name: string;
  /** Present in the configuration. */
  present: boolean;
  mode: OptMode;
  selector: LabelSelector | null;
  selectorError?: string;
  failurePolicy?: string;
  objectSelector?: LabelSelector | null;
}

/** kubemacpool as this user can see it: installed or not, the webhooks, where it runs, its range. */
export interface MacpoolView {
  installed: boolean | null;
  unreadableReason?: string;
  namespace: string | null;
  managerAvailable: boolean | null;
  range: MacRange | null;
  webhooks: Record<MacpoolKind, WebhookView | null>;
  warnings: Warning[];
}

function webhookView(config: MutatingWebhookConfiguration, kind: MacpoolKind): WebhookView {
  const name = WEBHOOK_OF[kind];
  const wh = (config.webhooks ?? []).find((w) => w.name === name);
  if (!wh) return { kind, name, present: false, mode: 'unknown', selector: null };
  const view: WebhookView = { kind, name, present: true, mode: webhookMode(wh), selector: wh.namespaceSelector ?? null, failurePolicy: wh.failurePolicy, objectSelector: wh.objectSelector ?? null };
  try {
    selectorRequirements(wh.namespaceSelector);
  } catch (err) {
    view.selectorError = (err as Error).message;
  }
  return view;
}

/** The namespace kubemacpool runs in: the webhooks' service namespace. */
export function mutatorNamespace(config: MutatingWebhookConfiguration): string | null {
  for (const name of [VMS_WEBHOOK, PODS_WEBHOOK]) {
    const ns = (config.webhooks ?? []).find((w) => w.name === name)?.clientConfig?.service?.namespace;
    if (ns) return ns;
  }
  for (const w of config.webhooks ?? []) if (w.clientConfig?.service?.namespace) return w.clientConfig.service.namespace;
  return null;
}

function isEmptySelector(s: LabelSelector | null | undefined): boolean {
  return !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);
}

/** Turns what was read into a view of kubemacpool, with warnings for everything that is off. */
export function buildMacpoolView(facts: MacpoolFacts): MacpoolView {
  const warnings: Warning[] = [];
  const m = facts.mutator;
  if (m.state === 'unreadable') {
    warnings.push({ code: 'mutator-unreadable', message: `cannot read MutatingWebhookConfiguration ${MUTATOR_NAME}: ${m.message}; whether kubemacpool allocates MACs, and in which mode, cannot be told`, object: MUTATOR_NAME });
    return { installed: null, unreadableReason: m.message, namespace: null, managerAvailable: null, range: null, webhooks: { vms: null, pods: null }, warnings };
  }
  if (m.state === 'absent') {
    return { installed: false, namespace: null, managerAvailable: null, range: null, webhooks: { vms: null, pods: null }, warnings };
  }
  const config = m.config;
  const namespace = mutatorNamespace(config);
  const webhooks = { vms: webhookView(config, 'vms'), pods: webhookView(config, 'pods') };
  for (const w of Object.values(webhooks)) {
    if (!w.present) {
      warnings.push({ code: 'webhook-missing', message: `${MUTATOR_NAME} has no webhook ${w.name}: kubemacpool allocates no MACs to ${KIND_WORD[w.kind]}`, object: MUTATOR_NAME });
      continue;
    }
    if (w.selectorError) warnings.push({ code: 'selector-invalid', message: `webhook ${w.name} has an invalid namespaceSelector: ${w.selectorError}`, object: MUTATOR_NAME });
    else if (w.mode === 'unknown') {
      warnings.push({
        code: 'mode-unknown',
        message: `webhook ${w.name}'s namespaceSelector has neither "${w.name} In (allocate)" nor "${w.name} NotIn (ignore)": its mode is unknown, and kubemacpool's own controllers cannot decide which namespaces they manage`,
        object: MUTATOR_NAME,
      });
    }
    if (!isEmptySelector(w.objectSelector)) {
      warnings.push({ code: 'object-selector', message: `webhook ${w.name} also has an objectSelector: only ${KIND_WORD[w.kind]} whose labels match it get MACs, whatever the namespace says`, object: MUTATOR_NAME });
    }
  }

  let range: MacRange | null = null;
  const rc = facts.rangeConfig;
  const where = namespace ?? '(unknown namespace)';
  if (!rc || rc.state === 'absent') {
    warnings.push({ code: 'range-missing', message: `ConfigMap ${RANGE_CONFIGMAP} not found in namespace ${where}: the range is unknown`, object: `${where}/${RANGE_CONFIGMAP}` });
  } else if (rc.state === 'unreadable') {
    warnings.push({ code: 'range-unreadable', message: `cannot read ConfigMap ${where}/${RANGE_CONFIGMAP}: ${rc.message}`, object: `${where}/${RANGE_CONFIGMAP}` });
  } else {
    const r = parseMacRange(rc.data.RANGE_START, rc.data.RANGE_END);
    if (r.ok) range = r.range;
    else warnings.push({ code: 'range-invalid', message: `the MAC range in ${where}/${RANGE_CONFIGMAP} is invalid: ${r.problem}; kubemacpool's manager will not start with it`, object: `${where}/${RANGE_CONFIGMAP}` });
  }

  let managerAvailable: boolean | null = null;
  const mg = facts.manager;
  if (!mg || mg.state === 'absent') {
    managerAvailable = false;
    warnings.push({ code: 'manager-missing', message: `Deployment ${MANAGER_DEPLOYMENT} not found in namespace ${where}`, object: `${where}/${MANAGER_DEPLOYMENT}` });
  } else if (mg.state === 'unreadable') {
    warnings.push({ code: 'manager-unreadable', message: `cannot read Deployment ${where}/${MANAGER_DEPLOYMENT}: ${mg.message}`, object: `${where}/${MANAGER_DEPLOYMENT}` });
  } else {
    managerAvailable = mg.available;
    if (!mg.available) warnings.push({ code: 'manager-unavailable', message: `Deployment ${where}/${MANAGER_DEPLOYMENT} is not available${mg.message ? ` (${mg.message})` : ''}`, object: `${where}/${MANAGER_DEPLOYMENT}` });
  }
  if (managerAvailable !== true) {
    for (const w of Object.values(webhooks)) {
      if (!w.present) continue;
      if ((w.failurePolicy ?? 'Fail') === 'Fail') {
        warnings.push({ code: 'webhook-blocks', message: `webhook ${w.name} has failurePolicy Fail: while the manager is not serving, the API server refuses to create ${KIND_WORD[w.kind]} in the namespaces it applies to`, object: MUTATOR_NAME });
      } else {
        warnings.push({ code: 'webhook-skipped', message: `webhook ${w.name} has failurePolicy ${w.failurePolicy}: while the manager is not serving, ${KIND_WORD[w.kind]} are admitted without MACs from the pool`, object: MUTATOR_NAME });
      }
    }
  }
  return { installed: true, namespace, managerAvailable, range, webhooks, warnings };
}

export function viewModes(view: MacpoolView): Record<MacpoolKind, OptMode> {
  return { vms: view.webhooks.vms?.mode ?? 'unknown', pods: view.webhooks.pods?.mode ?? 'unknown' };
}

// ---------------------------------------------------------------------------
// Per-namespace decisions.

export interface Allocation {
  /** true: the webhook applies and allocates; false: it does not; null: cannot tell. */
  allocated: boolean | null;
  reason: string;
}

/** What the label means in each mode, for when the mode cannot be read. */
export function labelMeaning(value: string | null): { 'opt-in': boolean; 'opt-out': boolean } {
  return { 'opt-in': value === 'allocate', 'opt-out': value !== 'ignore' };
}

function labelText(name: string, value: string | null): string {
  return value === null ? `not labelled ${name}` : `labelled ${name}=${value}`;
}

/**
 * Whether the webhook for `kind` allocates MACs in a namespace with these
 * labels, and why. Labels null means the namespace could not be read.
 */
export function decideAllocation(view: MacpoolView, kind: MacpoolKind, labels: Readonly<Record<string, string>> | null): Allocation {
  const hookName = WEBHOOK_OF[kind];
  if (view.installed === false) return { allocated: false, reason: `kubemacpool is not installed (no MutatingWebhookConfiguration ${MUTATOR_NAME})` };
  if (view.installed === null) {
    if (labels === null) return { allocated: null, reason: `the webhook configuration and the namespace are not readable` };
    const value = Object.hasOwn(labels, hookName) ? labels[hookName] : null;
    const m = labelMeaning(value);
    const rl = runLevelExclusion(labels);
    const inMode = (mode: 'opt-in' | 'opt-out') => (rl ? `not allocated (${rl})` : m[mode] ? 'allocated' : 'not allocated');
    return {
      allocated: null,
      reason: `mode unknown (${MUTATOR_NAME} not readable); ${labelText(hookName, value)}: in opt-in mode ${inMode('opt-in')}, in opt-out mode ${inMode('opt-out')}`,
    };
  }
  const hook = view.webhooks[kind];
  if (!hook || !hook.present) return { allocated: false, reason: `${MUTATOR_NAME} has no webhook ${hookName}` };
  if (hook.selectorError) return { allocated: null, reason: `invalid namespaceSelector: ${hook.selectorError}` };
  if (labels === null) {
    if (isEmptySelector(hook.selector)) return { allocated: true, reason: 'the webhook applies to every namespace (no namespaceSelector)' };
    return { allocated: null, reason: `the namespace's labels are not readable; ${hook.mode} mode` };
  }
  const value = Object.hasOwn(labels, hookName) ? labels[hookName] : null;
  const res = evaluateLabelSelector(hook.selector, labels);
  const suffix = hook.mode === 'unknown' ? ' (mode unknown: kubemacpool\'s controllers cannot tell which namespaces they manage)' : '';
  if (res.matches) {
    if (hook.mode === 'opt-out') return { allocated: true, reason: `opt-out mode; namespace not labelled ${hookName}=ignore` };
    if (hook.mode === 'opt-in') return { allocated: true, reason: `opt-in mode; namespace labelled ${hookName}=allocate` };
    return { allocated: true, reason: `the namespaceSelector matches${suffix}` };
  }
  const rl = res.failed.find((f) => (RUN_LEVEL_LABELS as readonly string[]).includes(f.key));
  if (rl) return { allocated: false, reason: `run-level exclusion: namespace labelled ${rl.key}=${rl.actual}` };
  const own = res.failed.find((f) => f.key === hookName);
  const others = res.failed.filter((f) => f.key !== hookName);
  if (own && others.length === 0) {
    if (hook.mode === 'opt-out') return { allocated: false, reason: `opt-out mode; namespace labelled ${hookName}=ignore` };
    if (hook.mode === 'opt-in') return { allocated: false, reason: `opt-in mode; namespace ${labelText(hookName, value)}` };
  }
  const first = res.failed[0];
  const actual = first.actual === null ? `${first.key} not set` : `${first.key}=${first.actual}`;
  return { allocated: false, reason: `${hook.mode === 'unknown' ? 'mode unknown' : `${hook.mode} mode`}; namespaceSelector requirement "${describeRequirement(first)}" fails (${actual})` };
}

/** The labels a status shows: the two kubemacpool keys and any run-level label, as set on the namespace. */
export function relevantLabels(view: MacpoolView, labels: Readonly<Record<string, string>>): Record<string, string> {
  const keys = new Set<string>([VMS_WEBHOOK, PODS_WEBHOOK, ...RUN_LEVEL_LABELS]);
  for (const w of [view.webhooks.vms, view.webhooks.pods]) {
    for (const r of w?.selector?.matchExpressions ?? []) keys.add(r.key);
    for (const k of Object.keys(w?.selector?.matchLabels ?? {})) keys.add(k);
  }
  const out: Record<string, string> = {};
  for (const k of [...keys].sort()) if (Object.hasOwn(labels, k)) out[k] = labels[k];
  return out;
}

// ---------------------------------------------------------------------------
// The status report (`kubectl vnet macpool status -o json`).

export interface NamespaceAllocation {
  name: string;
  labels: Record<string, string>;
  vms: Allocation;
  pods: Allocation;
}

export interface MacpoolStatus {
  kind: 'MacpoolStatus';
  installed: boolean | null;
  namespace: string | null;
  managerAvailable: boolean | null;
  range: MacRange | null;
  modes: Record<MacpoolKind, OptMode>;
  namespaces: NamespaceAllocation[];
  warnings: Warning[];
}

export function namespaceAllocation(view: MacpoolView, ns: NamespaceLike): NamespaceAllocation {
  const labels = ns.metadata.labels ?? {};
  return { name: ns.metadata.name, labels: relevantLabels(view, labels), vms: decideAllocation(view, 'vms', labels), pods: decideAllocation(view, 'pods', labels) };
}

/** The whole status: the view, and one decision per namespace (sorted by name). Unreadable namespaces are passed by name. */
export function buildMacpoolStatus(view: MacpoolView, namespaces: readonly (NamespaceLike | { unreadable: string; message: string })[]): MacpoolStatus {
  const rows: NamespaceAllocation[] = [];
  const warnings = [...view.warnings];
  for (const ns of namespaces) {
    if ('unreadable' in ns) {
      rows.push({ name: ns.unreadable, labels: {}, vms: decideAllocation(view, 'vms', null), pods: decideAllocation(view, 'pods', null) });
      warnings.push({ code: 'namespace-unreadable', message: `cannot read namespace ${ns.unreadable}: ${ns.message}`, object: ns.unreadable });
    } else rows.push(namespaceAllocation(view, ns));
  }
  rows.sort((a, b) => compareStrings(a.name, b.name));
  return { kind: 'MacpoolStatus', installed: view.installed, namespace: view.namespace, managerAvailable: view.managerAvailable, range: view.range, modes: viewModes(view), namespaces: rows, warnings };
}

/** Lines that say what each label value means in each mode (for when the mode cannot be read). */
export function labelLegend(): string[] {
  const lines: string[] = [];
  for (const kind of KINDS) {
    const hook = WEBHOOK_OF[kind];
    lines.push(`${hook}=allocate: ${KIND_WORD[kind]} get MACs in opt-in mode and in opt-out mode`);
    lines.push(`${hook}=ignore: ${KIND_WORD[kind]} get no MACs in either mode`);
    lines.push(`${hook} not set: ${KIND_WORD[kind]} get MACs in opt-out mode only`);
  }
  lines.push(`a namespace labelled runlevel or openshift.io/run-level = 0 or 1 gets no MACs in either mode (kubemacpool's release manifests)`);
  return lines;
}

// ---------------------------------------------------------------------------
// Coverage, for other commands: does kubemacpool manage VMs in namespace X?

export interface MacpoolCoverage {
  /** true/false, or null when it cannot be told (webhook configuration or namespace not readable). */
  managed: boolean | null;
  reason: string;
  mode: OptMode;
  range: MacRange | null;
  installed: boolean | null;
  managerAvailable: boolean | null;
}

/**
 * Does kubemacpool allocate MACs for VMs (or pods) in this namespace, and
 * from which range? `namespace` is the Namespace object, or null when it
 * could not be read. Read the facts with `readMacpool` (src/kube/macpool.ts).
 */
export function macpoolCoverage(view: MacpoolView, namespace: NamespaceLike | null, kind: MacpoolKind = 'vms'): MacpoolCoverage {
  const a = decideAllocation(view, kind, namespace ? (namespace.metadata.labels ?? {}) : null);
  return { managed: a.allocated, reason: a.reason, mode: viewModes(view)[kind], range: view.range, installed: view.installed, managerAvailable: view.managerAvailable };
}

// ---------------------------------------------------------------------------
// opt-in / opt-out: the label edits.

export type OptDirection = 'opt-in' | 'opt-out';

export interface LabelPlan {
  /** metadata.labels merge patch: a value sets the label, null removes it. Empty when nothing changes. */
  labels: Record<string, string | null>;
  /** The labels after the edit. */
  after: Record<string, string>;
  /** One line per kind, e.g. "VMs: set mutatevirtualmachines.kubemacpool.io=allocate (opt-in mode)". */
  changes: string[];
  noop: boolean;
  /** The decision per kind after the edit. */
  result: Partial<Record<MacpoolKind, Allocation>>;
  notes: string[];
}

/** A refused opt-in/opt-out: the mode cannot be known, or --mode disagrees with the cluster. */
export class OptRefusal extends VnetError {
  constructor(message: string, hint: string, kind: 'usage' | 'precondition' = 'precondition') {
    super(kind, message, { hint });
    this.name = 'OptRefusal';
  }

  /** The exit code's name (usage or precondition). */
  get kind(): 'usage' | 'precondition' {
    return this.code as 'usage' | 'precondition';
  }
}

export interface ResolvedModes {
  modes: Partial<Record<MacpoolKind, 'opt-in' | 'opt-out'>>;
  /** The view to evaluate the result with (with --mode: release-manifest selectors in that mode). */
  effective: MacpoolView;
  notes: string[];
}

/**
 * The mode per kind an opt-in/opt-out works in. Throws OptRefusal when it
 * cannot be known (configuration unreadable and no --mode, webhook missing,
 * mode unknown) or when --mode disagrees with the live configuration. Needs
 * no namespace, so commands call it before reading or writing one.
 */
export function resolveOptModes(view: MacpoolView, kinds: readonly MacpoolKind[], modeOverride?: 'opt-in' | 'opt-out'): ResolvedModes {
  if (view.installed === false) {
    throw new OptRefusal(`kubemacpool is not installed (no MutatingWebhookConfiguration ${MUTATOR_NAME}); the labels would have no effect`, `install kubemacpool first (or check that you are on the right cluster with ${option('context')})`);
  }
  const modes: Partial<Record<MacpoolKind, 'opt-in' | 'opt-out'>> = {};
  const notes: string[] = [];
  if (view.installed === null) {
    if (!modeOverride) {
      const legend = labelLegend().map((l) => `  ${l}`).join('\n');
      throw new OptRefusal(
        `cannot read MutatingWebhookConfiguration ${MUTATOR_NAME} (${view.unreadableReason ?? 'not readable'}), so the mode of kubemacpool's webhooks is unknown; the labels mean:\n${legend}`,
        `ask an administrator which mode the cluster uses (kubectl get mutatingwebhookconfiguration ${MUTATOR_NAME} -o yaml), then run again with ${option('mode')} opt-in or ${option('mode')} opt-out`,
      );
    }
    for (const k of kinds) modes[k] = modeOverride;
    notes.push(`the webhook configuration is not readable: assuming ${modeOverride} mode (${option('mode')}) and the selectors of kubemacpool's release manifests`);
    const effective: MacpoolView = {
      ...view,
      installed: true,
      webhooks: {
        vms: { kind: 'vms', name: VMS_WEBHOOK, present: true, mode: modeOverride, selector: releaseSelector(VMS_WEBHOOK, modeOverride) },
        pods: { kind: 'pods', name: PODS_WEBHOOK, present: true, mode: modeOverride, selector: releaseSelector(PODS_WEBHOOK, modeOverride) },
      },
    };
    return { modes, effective, notes };
  }
  for (const k of kinds) {
    const hook = view.webhooks[k];
    if (!hook || !hook.present) throw new OptRefusal(`${MUTATOR_NAME} has no webhook ${WEBHOOK_OF[k]}: kubemacpool allocates no MACs to ${KIND_WORD[k]} in any namespace`, `leave out --${k}, or restore the webhook in ${MUTATOR_NAME}`);
    if (hook.mode === 'unknown') {
      throw new OptRefusal(
        `the mode of webhook ${hook.name} is unknown: its namespaceSelector has neither "${hook.name} In (allocate)" nor "${hook.name} NotIn (ignore)"`,
        `fix the namespaceSelector of ${hook.name} in ${MUTATOR_NAME}; no label was changed`,
      );
    }
    if (modeOverride && modeOverride !== hook.mode) {
      throw new OptRefusal(`${option('mode')} ${modeOverride} disagrees with the cluster: webhook ${hook.name} is in ${hook.mode} mode`, `leave out ${option('mode')}; the cluster's mode is read from ${MUTATOR_NAME}`, 'usage');
    }
    modes[k] = hook.mode;
  }
  return { modes, effective: view, notes };
}

/**
 * Plans the label edit that opts a namespace in (MACs allocated) or out
 * (ignored) for the given kinds, in the mode the cluster uses:
 *   opt-in mode:  opt-in sets <webhook>=allocate, opt-out removes the label;
 *   opt-out mode: opt-out sets <webhook>=ignore, opt-in removes the label.
 * The mode comes from the live webhook; `modeOverride` (the --mode flag) is
 * used only when the webhook configuration cannot be read, and must agree
 * with it otherwise. Throws OptRefusal when the mode is unknown or when the
 * edit would not give the result asked for (a run-level exclusion, another
 * selector requirement).
 */
export function planOptLabels(view: MacpoolView, namespace: NamespaceLike, direction: OptDirection, kinds: readonly MacpoolKind[], modeOverride?: 'opt-in' | 'opt-out'): LabelPlan {
  const before = { ...(namespace.metadata.labels ?? {}) };
  const nsName = namespace.metadata.name;
  const { modes, effective, notes } = resolveOptModes(view, kinds, modeOverride);

  const labels: Record<string, string | null> = {};
  const after = { ...before };
  const changes: string[] = [];
  for (const k of kinds) {
    const key = WEBHOOK_OF[k];
    const mode = modes[k]!;
    const target: string | null = mode === 'opt-in' ? (direction === 'opt-in' ? 'allocate' : null) : direction === 'opt-out' ? 'ignore' : null;
    const current = Object.hasOwn(before, key) ? before[key] : null;
    if (current === target) {
      changes.push(`${KIND_WORD[k]}: ${target === null ? `${key} already not set` : `${key}=${target} already set`} (${mode} mode)`);
      continue;
    }
    labels[key] = target;
    if (target === null) delete after[key];
    else after[key] = target;
    changes.push(`${KIND_WORD[k]}: ${target === null ? `remove ${key}` : `set ${key}=${target}`} (${mode} mode)`);
  }

  const result: Partial<Record<MacpoolKind, Allocation>> = {};
  const want = direction === 'opt-in';
  for (const k of kinds) {
    const a = decideAllocation(effective, k, after);
    result[k] = a;
    if (a.allocated !== want) {
      throw new OptRefusal(
        `namespace ${nsName} would still ${want ? 'not get' : 'get'} MACs for ${KIND_WORD[k]} after the label change: ${a.reason}`,
        want ? `kubemacpool's webhook never applies to this namespace; nothing was changed` : `nothing was changed; check the namespaceSelector of ${WEBHOOK_OF[k]}`,
      );
    }
  }
  return { labels, after, changes, noop: Object.keys(labels).length === 0, result, notes };
}
