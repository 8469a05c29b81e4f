import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spellOptions } from '../../src/errors.js';
import { Ajv } from 'ajv';
import {
  buildMacpoolStatus,
  buildMacpoolView,
  decideAllocation,
  evaluateLabelSelector,
  macInRange,
  macpoolCoverage,
  OptRefusal,
  parseMacRange,
  planOptLabels,
  releaseSelector,
  SelectorError,
  webhookMode,
  type LabelSelector,
  type MacpoolFacts,
  type MutatingWebhook,
  type MutatingWebhookConfiguration,
} from '../../src/domain/macpool.js';

const schema = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'schemas', 'macpool-status.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function webhook(name: string, selector: LabelSelector | null, extra: Partial<MutatingWebhook> = {}): MutatingWebhook {
  return { name, clientConfig: { service: { name: 'kubemacpool-service', namespace: 'kubemacpool-system', path: '/mutate' } }, failurePolicy: 'Fail', namespaceSelector: selector, ...extra };
}

/** The webhook configuration as kubemacpool's release manifests ship it: VMs opt-out, pods opt-in. */
function releaseMutator(vmMode: 'opt-in' | 'opt-out' = 'opt-out', podMode: 'opt-in' | 'opt-out' = 'opt-in', ns = 'kubemacpool-system'): MutatingWebhookConfiguration {
  const svc = (p: string) => ({ service: { name: 'kubemacpool-service', namespace: ns, path: p } });
  return {
    metadata: { name: 'kubemacpool-mutator' },
    webhooks: [
      { name: 'mutatepods.kubemacpool.io', clientConfig: svc('/mutate-pods'), failurePolicy: 'Fail', namespaceSelector: releaseSelector('mutatepods.kubemacpool.io', podMode) },
      { name: 'mutatevirtualmachines.kubemacpool.io', clientConfig: svc('/mutate-virtualmachines'), failurePolicy: 'Fail', namespaceSelector: releaseSelector('mutatevirtualmachines.kubemacpool.io', vmMode) },
    ],
  };
}

function facts(config: MutatingWebhookConfiguration, over: Partial<MacpoolFacts> = {}): MacpoolFacts {
  return {
    mutator: { state: 'found', config },
    rangeConfig: { state: 'found', data: { RANGE_START: '02:00:00:00:00:00', RANGE_END: '02:FF:FF:FF:FF:FF' } },
    manager: { state: 'found', available: true },
    ...over,
  };
}

const ns = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });

describe('evaluateLabelSelector (as the API server evaluates namespaceSelector)', () => {
  const cases: { name: string; sel: LabelSelector | null; labels: Record<string, string>; matches: boolean; failedKeys?: string[] }[] = [
    { name: 'null selector matches everything', sel: null, labels: {}, matches: true },
    { name: 'empty selector matches everything', sel: {}, labels: { a: 'b' }, matches: true },
    { name: 'matchLabels equal', sel: { matchLabels: { team: 'a' } }, labels: { team: 'a', x: 'y' }, matches: true },
    { name: 'matchLabels different value', sel: { matchLabels: { team: 'a' } }, labels: { team: 'b' }, matches: false, failedKeys: ['team'] },
    { name: 'matchLabels missing key', sel: { matchLabels: { team: 'a' } }, labels: {}, matches: false, failedKeys: ['team'] },
    { name: 'In with the value', sel: { matchExpressions: [{ key: 'k', operator: 'In', values: ['x', 'y'] }] }, labels: { k: 'y' }, matches: true },
    { name: 'In without the label', sel: { matchExpressions: [{ key: 'k', operator: 'In', values: ['x'] }] }, labels: {}, matches: false, failedKeys: ['k'] },
    { name: 'In with another value', sel: { matchExpressions: [{ key: 'k', operator: 'In', values: ['x'] }] }, labels: { k: 'z' }, matches: false, failedKeys: ['k'] },
    { name: 'NotIn without the label matches', sel: { matchExpressions: [{ key: 'k', operator: 'NotIn', values: ['x'] }] }, labels: {}, matches: true },
    { name: 'NotIn with another value matches', sel: { matchExpressions: [{ key: 'k', operator: 'NotIn', values: ['x'] }] }, labels: { k: 'y' }, matches: true },
    { name: 'NotIn with the value fails', sel: { matchExpressions: [{ key: 'k', operator: 'NotIn', values: ['x', 'w'] }] }, labels: { k: 'w' }, matches: false, failedKeys: ['k'] },
    { name: 'Exists with an empty value', sel: { matchExpressions: [{ key: 'k', operator: 'Exists' }] }, labels: { k: '' }, matches: true },
    { name: 'Exists without the label', sel: { matchExpressions: [{ key: 'k', operator: 'Exists' }] }, labels: {}, matches: false, failedKeys: ['k'] },
    { name: 'DoesNotExist without the label', sel: { matchExpressions: [{ key: 'k', operator: 'DoesNotExist', values: [] }] }, labels: { j: '1' }, matches: true },
    { name: 'DoesNotExist with the label', sel: { matchExpressions: [{ key: 'k', operator: 'DoesNotExist' }] }, labels: { k: '1' }, matches: false, failedKeys: ['k'] },
    {
      name: 'all requirements are ANDed, matchLabels included',
      sel: { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists' }, { key: 'c', operator: 'NotIn', values: ['x'] }] },
      labels: { a: '1', c: 'x' },
      matches: false,
      failedKeys: ['b', 'c'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = evaluateLabelSelector(c.sel, c.labels);
      expect(r.matches).toBe(c.matches);
      expect(r.failed.map((f) => f.key)).toEqual(c.failedKeys ?? []);
    });
  }

  it('reports the actual value of a failed requirement', () => {
    const r = evaluateLabelSelector({ matchExpressions: [{ key: 'runlevel', operator: 'NotIn', values: ['0', '1'] }] }, { runlevel: '1' });
    expect(r.failed).toEqual([{ key: 'runlevel', operator: 'NotIn', values: ['0', '1'], actual: '1' }]);
  });

  it('rejects selectors the API server would reject', () => {
    expect(() => evaluateLabelSelector({ matchExpressions: [{ key: 'k', operator: 'In', values: [] }] }, {})).toThrow(SelectorError);
    expect(() => evaluateLabelSelector({ matchExpressions: [{ key: 'k', operator: 'Exists', values: ['x'] }] }, {})).toThrow(/takes no values/);
    expect(() => evaluateLabelSelector({ matchExpressions: [{ key: 'k', operator: 'Gt', values: ['1'] }] }, {})).toThrow(/not a valid label selector operator/);
  });
});

describe('webhookMode (as kubemacpool reads it from the selector)', () => {
  const W = 'mutatevirtualmachines.kubemacpool.io';
  it('reads the release manifests: opt-out and opt-in', () => {
    expect(webhookMode(webhook(W, releaseSelector(W, 'opt-out')))).toBe('opt-out');
    expect(webhookMode(webhook(W, releaseSelector(W, 'opt-in')))).toBe('opt-in');
  });
  it('takes matchLabels <webhook>=allocate as opt-in', () => {
    expect(webhookMode(webhook(W, { matchLabels: { [W]: 'allocate' } }))).toBe('opt-in');
  });
  it('is unknown without a selector, with another key, or with extra values', () => {
    expect(webhookMode(webhook(W, null))).toBe('unknown');
    expect(webhookMode(webhook(W, { matchExpressions: [{ key: 'mutatepods.kubemacpool.io', operator: 'In', values: ['allocate'] }] }))).toBe('unknown');
    expect(webhookMode(webhook(W, { matchExpressions: [{ key: W, operator: 'NotIn', values: ['ignore', 'other'] }] }))).toBe('unknown');
    expect(webhookMode(webhook(W, { matchLabels: { [W]: 'ignore' } }))).toBe('unknown');
  });
});

describe('parseMacRange', () => {
  it('computes the size of the release range and normalises notation', () => {
    expect(parseMacRange('02:00:00:00:00:00', '02:FF:FF:FF:FF:FF')).toEqual({ ok: true, range: { start: '02:00:00:00:00:00', end: '02:ff:ff:ff:ff:ff', size: 2 ** 40 } });
    expect(parseMacRange('02-00-00-00-00-10', '0200.0000.001f')).toEqual({ ok: true, range: { start: '02:00:00:00:00:10', end: '02:00:00:00:00:1f', size: 16 } });
    expect(parseMacRange('0a:00:00:00:00:05', '0a:00:00:00:00:05')).toMatchObject({ ok: true, range: { size: 1 } });
    expect(parseMacRange('02:00:00:00:00:11', 'FC:FF:FF:FF:FF:FE')).toMatchObject({ ok: true, range: { size: 0xfcfffffffffe - 0x020000000011 + 1 } });
    // an old kubemacpool README shows RANGE_END FD:FF:FF:FF:FF:FE: 0xFD is odd, a multicast first octet, which the manager refuses
    expect(parseMacRange('02:00:00:00:00:11', 'FD:FF:FF:FF:FF:FE')).toEqual({ ok: false, problem: expect.stringContaining('RANGE_END fd:ff:ff:ff:ff:fe is a multicast address') });
  });
  it('reports an invalid range', () => {
    expect(parseMacRange('02:00:00:00:00:10', '02:00:00:00:00:0f')).toEqual({ ok: false, problem: expect.stringContaining('is after RANGE_END') });
    expect(parseMacRange('01:00:00:00:00:00', '02:00:00:00:00:00')).toEqual({ ok: false, problem: expect.stringContaining('multicast') });
    expect(parseMacRange('02:00:00:00:00:00', '03:00:00:00:00:00')).toEqual({ ok: false, problem: expect.stringContaining('RANGE_END 03:00:00:00:00:00 is a multicast') });
    expect(parseMacRange('02:00:00:00:00', '02:00:00:00:00:01')).toEqual({ ok: false, problem: expect.stringContaining('not a MAC address') });
    expect(parseMacRange(undefined, '02:00:00:00:00:01')).toEqual({ ok: false, problem: 'RANGE_START is missing' });
    expect(parseMacRange('02:00:00:00:00:00', '')).toEqual({ ok: false, problem: 'RANGE_END is missing' });
  });
  it('macInRange', () => {
    const r = { start: '02:00:00:00:00:10', end: '02:00:00:00:00:1f', size: 16 };
    expect(macInRange('02:00:00:00:00:10', r)).toBe(true);
    expect(macInRange('02-00-00-00-00-1F', r)).toBe(true);
    expect(macInRange('02:00:00:00:00:20', r)).toBe(false);
    expect(macInRange('garbage', r)).toBe(false);
  });
});

describe('buildMacpoolView', () => {
  it('takes the namespace from the webhooks\' service, the range and the modes', () => {
    const v = buildMacpoolView(facts(releaseMutator('opt-out', 'opt-in', 'cluster-network-addons')));
    expect(v.installed).toBe(true);
    expect(v.namespace).toBe('cluster-network-addons');
    expect(v.range).toEqual({ start: '02:00:00:00:00:00', end: '02:ff:ff:ff:ff:ff', size: 2 ** 40 });
    expect(v.webhooks.vms?.mode).toBe('opt-out');
    expect(v.webhooks.pods?.mode).toBe('opt-in');
    expect(v.managerAvailable).toBe(true);
    expect(v.warnings).toEqual([]);
  });
  it('warns about an invalid range, a missing ConfigMap, an unavailable manager and what failurePolicy then does', () => {
    const cfg = releaseMutator();
    cfg.webhooks![0].failurePolicy = 'Ignore';
    const v = buildMacpoolView(facts(cfg, { rangeConfig: { state: 'found', data: { RANGE_START: '02:00:00:00:00:ff', RANGE_END: '02:00:00:00:00:00' } }, manager: { state: 'found', available: false, message: 'Deployment does not have minimum availability.' } }));
    expect(v.range).toBeNull();
    expect(v.managerAvailable).toBe(false);
    const codes = v.warnings.map((w) => w.code);
    expect(codes).toEqual(['range-invalid', 'manager-unavailable', 'webhook-blocks', 'webhook-skipped']);
    expect(v.warnings.find((w) => w.code === 'webhook-blocks')?.message).toContain('mutatevirtualmachines.kubemacpool.io has failurePolicy Fail');
    const missing = buildMacpoolView(facts(releaseMutator(), { rangeConfig: { state: 'absent' }, manager: { state: 'absent' } }));
    expect(missing.warnings.map((w) => w.code)).toEqual(['range-missing', 'manager-missing', 'webhook-blocks', 'webhook-blocks']);
  });
  it('warns about a missing webhook, an unknown mode and an objectSelector', () => {
    const cfg: MutatingWebhookConfiguration = {
      metadata: { name: 'kubemacpool-mutator' },
      webhooks: [webhook('mutatevirtualmachines.kubemacpool.io', { matchLabels: { team: 'x' } }, { objectSelector: { matchLabels: { mac: 'yes' } } })],
    };
    const v = buildMacpoolView(facts(cfg));
    expect(v.warnings.map((w) => w.code)).toEqual(['mode-unknown', 'object-selector', 'webhook-missing']);
    expect(v.webhooks.pods?.present).toBe(false);
  });
  it('not installed and unreadable', () => {
    expect(buildMacpoolView({ mutator: { state: 'absent' } })).toMatchObject({ installed: false, namespace: null, range: null, warnings: [] });
    const u = buildMacpoolView({ mutator: { state: 'unreadable', message: 'forbidden: no' } });
    expect(u).toMatchObject({ installed: null, unreadableReason: 'forbidden: no' });
    expect(u.warnings[0].code).toBe('mutator-unreadable');
  });
});

describe('decideAllocation', () => {
  const view = buildMacpoolView(facts(releaseMutator('opt-out', 'opt-in')));
  const cases: { name: string; labels: Record<string, string>; vms: [boolean | null, string]; pods: [boolean | null, string] }[] = [
    { name: 'unlabelled', labels: {}, vms: [true, 'opt-out mode; namespace not labelled mutatevirtualmachines.kubemacpool.io=ignore'], pods: [false, 'opt-in mode; namespace not labelled mutatepods.kubemacpool.io'] },
    {
      name: 'labelled ignore / allocate',
      labels: { 'mutatevirtualmachines.kubemacpool.io': 'ignore', 'mutatepods.kubemacpool.io': 'allocate' },
      vms: [false, 'opt-out mode; namespace labelled mutatevirtualmachines.kubemacpool.io=ignore'],
      pods: [true, 'opt-in mode; namespace labelled mutatepods.kubemacpool.io=allocate'],
    },
    {
      name: 'opt-in label with another value',
      labels: { 'mutatepods.kubemacpool.io': 'yes' },
      vms: [true, 'opt-out mode; namespace not labelled mutatevirtualmachines.kubemacpool.io=ignore'],
      pods: [false, 'opt-in mode; namespace labelled mutatepods.kubemacpool.io=yes'],
    },
    {
      name: 'run-level exclusion beats the opt-in label',
      labels: { runlevel: '0', 'mutatepods.kubemacpool.io': 'allocate' },
      vms: [false, 'run-level exclusion: namespace labelled runlevel=0'],
      pods: [false, 'run-level exclusion: namespace labelled runlevel=0'],
    },
    {
      name: 'openshift run-level 1',
      labels: { 'openshift.io/run-level': '1' },
      vms: [false, 'run-level exclusion: namespace labelled openshift.io/run-level=1'],
      pods: [false, 'run-level exclusion: namespace labelled openshift.io/run-level=1'],
    },
    { name: 'run-level 2 is not excluded', labels: { runlevel: '2' }, vms: [true, 'opt-out mode; namespace not labelled mutatevirtualmachines.kubemacpool.io=ignore'], pods: [false, 'opt-in mode; namespace not labelled mutatepods.kubemacpool.io'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(decideAllocation(view, 'vms', c.labels)).toEqual({ allocated: c.vms[0], reason: c.vms[1] });
      expect(decideAllocation(view, 'pods', c.labels)).toEqual({ allocated: c.pods[0], reason: c.pods[1] });
    });
  }

  it('names the failing requirement of a custom selector', () => {
    const cfg = releaseMutator();
    cfg.webhooks![1].namespaceSelector!.matchExpressions!.push({ key: 'tier', operator: 'Exists' });
    const v = buildMacpoolView(facts(cfg));
    expect(decideAllocation(v, 'vms', {})).toEqual({ allocated: false, reason: 'opt-out mode; namespaceSelector requirement "tier Exists" fails (tier not set)' });
    expect(decideAllocation(v, 'vms', { tier: 'gold' }).allocated).toBe(true);
  });

  it('cannot tell when the webhook configuration is unreadable, but says what the label means in each mode', () => {
    const u = buildMacpoolView({ mutator: { state: 'unreadable', message: 'forbidden' } });
    expect(decideAllocation(u, 'vms', {})).toEqual({
      allocated: null,
      reason: 'mode unknown (kubemacpool-mutator not readable); not labelled mutatevirtualmachines.kubemacpool.io: in opt-in mode not allocated, in opt-out mode allocated',
    });
    expect(decideAllocation(u, 'pods', { 'mutatepods.kubemacpool.io': 'ignore' }).reason).toBe(
      'mode unknown (kubemacpool-mutator not readable); labelled mutatepods.kubemacpool.io=ignore: in opt-in mode not allocated, in opt-out mode not allocated',
    );
    expect(decideAllocation(u, 'pods', { runlevel: '1' }).reason).toContain('in opt-in mode not allocated (runlevel=1), in opt-out mode not allocated (runlevel=1)');
  });

  it('not installed, webhook missing, namespace unreadable', () => {
    expect(decideAllocation(buildMacpoolView({ mutator: { state: 'absent' } }), 'vms', {})).toEqual({ allocated: false, reason: 'kubemacpool is not installed (no MutatingWebhookConfiguration kubemacpool-mutator)' });
    const cfg = releaseMutator();
    cfg.webhooks = cfg.webhooks!.filter((w) => w.name !== 'mutatepods.kubemacpool.io');
    expect(decideAllocation(buildMacpoolView(facts(cfg)), 'pods', {})).toEqual({ allocated: false, reason: 'kubemacpool-mutator has no webhook mutatepods.kubemacpool.io' });
    expect(decideAllocation(view, 'vms', null)).toEqual({ allocated: null, reason: "the namespace's labels are not readable; opt-out mode" });
  });

  it('macpoolCoverage answers for other commands', () => {
    expect(macpoolCoverage(view, ns('a'))).toEqual({
      managed: true,
      reason: 'opt-out mode; namespace not labelled mutatevirtualmachines.kubemacpool.io=ignore',
      mode: 'opt-out',
      range: { start: '02:00:00:00:00:00', end: '02:ff:ff:ff:ff:ff', size: 2 ** 40 },
      installed: true,
      managerAvailable: true,
    });
    expect(macpoolCoverage(view, ns('a'), 'pods').managed).toBe(false);
  });
});

describe('buildMacpoolStatus matches the JSON schema', () => {
  it('installed, with namespaces sorted and only the relevant labels', () => {
    const view = buildMacpoolView(facts(releaseMutator()));
    const s = buildMacpoolStatus(view, [ns('zeta', { 'mutatepods.kubemacpool.io': 'allocate', app: 'x' }), ns('alpha', { runlevel: '1' })]);
    expect(validate(s), JSON.stringify(validate.errors)).toBe(true);
    expect(s.namespaces.map((n) => n.name)).toEqual(['alpha', 'zeta']);
    expect(s.namespaces[1].labels).toEqual({ 'mutatepods.kubemacpool.io': 'allocate' });
    expect(s.modes).toEqual({ vms: 'opt-out', pods: 'opt-in' });
  });
  it('unreadable, with an unreadable namespace', () => {
    const view = buildMacpoolView({ mutator: { state: 'unreadable', message: 'forbidden' } });
    const s = buildMacpoolStatus(view, [{ unreadable: 'secret-ns', message: 'forbidden' }]);
    expect(validate(s), JSON.stringify(validate.errors)).toBe(true);
    expect(s).toMatchObject({ installed: null, namespace: null, managerAvailable: null, range: null, modes: { vms: 'unknown', pods: 'unknown' } });
    expect(s.namespaces[0].vms.allocated).toBeNull();
    expect(s.warnings.map((w) => w.code)).toEqual(['mutator-unreadable', 'namespace-unreadable']);
  });
  it('the schema rejects a wrong shape (so the checks above can fail)', () => {
    const view = buildMacpoolView(facts(releaseMutator()));
    const s = buildMacpoolStatus(view, [ns('a')]) as unknown as Record<string, unknown>;
    expect(validate({ ...s, modes: { vms: 'opt-in' } })).toBe(false);
    expect(validate({ ...s, range: { start: '02:00', end: 'x', size: 0 } })).toBe(false);
  });
});

describe('planOptLabels', () => {
  const VM = 'mutatevirtualmachines.kubemacpool.io';
  const POD = 'mutatepods.kubemacpool.io';
  const optOutView = buildMacpoolView(facts(releaseMutator('opt-out', 'opt-out')));
  const optInView = buildMacpoolView(facts(releaseMutator('opt-in', 'opt-in')));
  const mixed = buildMacpoolView(facts(releaseMutator('opt-out', 'opt-in')));

  it('opt-in mode: opt-in sets allocate, opt-out removes the label', () => {
    const p = planOptLabels(optInView, ns('a'), 'opt-in', ['vms', 'pods']);
    expect(p.labels).toEqual({ [VM]: 'allocate', [POD]: 'allocate' });
    expect(p.result.vms?.allocated).toBe(true);
    const q = planOptLabels(optInView, ns('a', { [VM]: 'allocate', [POD]: 'allocate', keep: 'me' }), 'opt-out', ['vms']);
    expect(q.labels).toEqual({ [VM]: null });
    expect(q.after).toEqual({ [POD]: 'allocate', keep: 'me' });
    expect(q.result).toEqual({ vms: { allocated: false, reason: `opt-in mode; namespace not labelled ${VM}` } });
  });

  it('opt-out mode: opt-out sets ignore, opt-in removes the label', () => {
    expect(planOptLabels(optOutView, ns('a'), 'opt-out', ['vms', 'pods']).labels).toEqual({ [VM]: 'ignore', [POD]: 'ignore' });
    expect(planOptLabels(optOutView, ns('a', { [POD]: 'ignore' }), 'opt-in', ['pods']).labels).toEqual({ [POD]: null });
  });

  it('uses each webhook\'s own mode', () => {
    const p = planOptLabels(mixed, ns('a'), 'opt-in', ['vms', 'pods']);
    // VMs are opt-out and unlabelled: already allocated, nothing to change; pods are opt-in.
    expect(p.labels).toEqual({ [POD]: 'allocate' });
    expect(p.changes).toEqual([`VMs: ${VM} already not set (opt-out mode)`, `pods: set ${POD}=allocate (opt-in mode)`]);
  });

  it('is a no-op when the labels already say so', () => {
    const p = planOptLabels(optOutView, ns('a', { [VM]: 'ignore' }), 'opt-out', ['vms']);
    expect(p.noop).toBe(true);
    expect(p.labels).toEqual({});
  });

  it('refuses when the result would not be as asked (run-level exclusion)', () => {
    expect(() => planOptLabels(optInView, ns('kube-system', { runlevel: '0' }), 'opt-in', ['vms'])).toThrow(/would still not get MACs for VMs after the label change: run-level exclusion: namespace labelled runlevel=0/);
    // opting out such a namespace is fine
    expect(planOptLabels(optInView, ns('kube-system', { runlevel: '0' }), 'opt-out', ['vms']).noop).toBe(true);
  });

  it('refuses when the webhook configuration is unreadable, showing what the labels mean, unless --mode says', () => {
    const u = buildMacpoolView({ mutator: { state: 'unreadable', message: 'forbidden: cannot get' } });
    let err: unknown;
    try {
      planOptLabels(u, ns('a'), 'opt-in', ['vms']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OptRefusal);
    expect((err as Error).message).toContain('cannot read MutatingWebhookConfiguration kubemacpool-mutator (forbidden: cannot get)');
    expect((err as Error).message).toContain(`${VM} not set: VMs get MACs in opt-out mode only`);
    expect((err as OptRefusal).hint).toContain('--mode opt-in or --mode opt-out');
    const p = planOptLabels(u, ns('a'), 'opt-in', ['vms'], 'opt-in');
    expect(p.labels).toEqual({ [VM]: 'allocate' });
    expect(spellOptions(p.notes[0])).toContain('assuming opt-in mode (--mode)');
  });

  it('refuses --mode that disagrees with the cluster, unknown modes, missing webhooks and no kubemacpool', () => {
    expect(() => planOptLabels(optOutView, ns('a'), 'opt-in', ['vms'], 'opt-in')).toThrow(/--mode opt-in disagrees with the cluster/);
    const cfg = releaseMutator();
    cfg.webhooks![1].namespaceSelector = { matchLabels: { team: 'x' } };
    expect(() => planOptLabels(buildMacpoolView(facts(cfg)), ns('a'), 'opt-in', ['vms'])).toThrow(/mode of webhook mutatevirtualmachines.kubemacpool.io is unknown/);
    cfg.webhooks = [cfg.webhooks![1]];
    expect(() => planOptLabels(buildMacpoolView(facts(cfg)), ns('a'), 'opt-in', ['pods'])).toThrow(/has no webhook mutatepods/);
    expect(() => planOptLabels(buildMacpoolView({ mutator: { state: 'absent' } }), ns('a'), 'opt-in', ['vms'])).toThrow(/not installed/);
  });
});
