// `kubectl vnet macpool status|opt-in|opt-out` against a real API server. No
// kubemacpool runs here: the webhook configuration is created as
// kubemacpool's release manifests do (config/release/kubemacpool.yaml), but
// with failurePolicy Ignore, a 1 s timeout and a service that does not exist,
// so the API server admits matching writes. kubemacpool runs in a fresh
// namespace (as under CNAO), which also proves the namespace is taken from
// the webhooks' service. The configuration is cluster-scoped and changes what
// other commands (mac set, doctor) decide, so this file runs in a sandbox of
// its own, not the shared one; its tests run in order.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { randomBytes } from 'node:crypto';
import type { KubernetesObjectApi } from '@kubernetes/client-node';
import { repoRoot, runCli as runCliShared, sandbox, untilAllowed, type CliResult } from '../support/cluster.js';
import { loadConnection } from '../../src/kube/config.js';
import { KubeClient } from '../../src/kube/client.js';
import { editNamespaceLabels, readMacpool } from '../../src/kube/macpool.js';
import { planOptLabels } from '../../src/domain/macpool.js';
import { kubemacpoolMutator, PODS_WEBHOOK, VMS_WEBHOOK, type KubemacpoolMode } from '../support/kubemacpool.js';
import { usePrivateSandbox } from '../support/private-sandbox.js';

const VM = VMS_WEBHOOK;
const POD = PODS_WEBHOOK;
const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas', 'macpool-status.schema.json'), 'utf8')));

// An admin client of the private sandbox (sb, below).
let api: KubernetesObjectApi;

function adminApi(): KubernetesObjectApi {
  return api;
}

function runCli(args: string[], opts: { kubeconfig?: string } = {}): Promise<CliResult> {
  return runCliShared(args, { kubeconfig: opts.kubeconfig ?? sb.kubeconfig });
}

async function create(obj: object): Promise<unknown> {
  return api.create(obj as never);
}

async function read<T>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T> {
  return (await api.read({ apiVersion, kind, metadata: { name, namespace } } as never)) as T;
}

async function freshNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  return name;
}

function mutator(kmpNs: string, vmMode: KubemacpoolMode, podMode: KubemacpoolMode) {
  return kubemacpoolMutator(kmpNs, { vms: vmMode, pods: podMode });
}

async function deleteMutator(): Promise<void> {
  await adminApi()
    .delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'kubemacpool-mutator' } })
    .catch(() => undefined);
}

async function setMutator(kmpNs: string, vmMode: 'opt-in' | 'opt-out', podMode: 'opt-in' | 'opt-out'): Promise<void> {
  await deleteMutator();
  await create(mutator(kmpNs, vmMode, podMode) as never);
}

function kubectl(args: string[]): string {
  return execFileSync(sandbox().kubectl, args, { env: { ...process.env, KUBECONFIG: sb.kubeconfig }, encoding: 'utf8' });
}

function setManagerAvailable(kmpNs: string, available: boolean): void {
  const status = { replicas: 1, readyReplicas: available ? 1 : 0, availableReplicas: available ? 1 : 0, conditions: [{ type: 'Available', status: available ? 'True' : 'False', reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' }] };
  kubectl(['patch', 'deployment', 'kubemacpool-mac-controller-manager', '-n', kmpNs, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

async function labelsOf(ns: string): Promise<Record<string, string>> {
  const obj = await read<any>('v1', 'Namespace', undefined, ns);
  return obj.metadata.labels ?? {};
}

async function statusJson(args: string[], kubeconfig?: string): Promise<any> {
  const r = await runCli(['macpool', 'status', ...args, '-o', 'json'], { kubeconfig });
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  return doc;
}

let kmpNs: string;

// No KubeVirt object is involved, and nothing runs kubemacpool's Deployment (its status is set by
// hand below): the private sandbox is a bare one (the API server, the CRDs and RBAC).
const sb = usePrivateSandbox('vnet-macpool-', { kubevirt: false });

beforeAll(async () => {
  api = sb.api;
  kmpNs = await freshNamespace('kmp-system');
  await create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubemacpool-mac-range-config', namespace: kmpNs }, data: { RANGE_START: '02:00:00:00:00:00', RANGE_END: '02:00:00:00:FF:FF' } } as never);
  await create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'kubemacpool-mac-controller-manager', namespace: kmpNs, labels: { 'control-plane': 'mac-controller-manager' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'control-plane': 'mac-controller-manager' } },
      template: { metadata: { labels: { 'control-plane': 'mac-controller-manager' } }, spec: { containers: [{ name: 'manager', image: 'quay.io/kubevirt/kubemacpool:latest' }] } },
    },
  } as never);
  setManagerAvailable(kmpNs, true);
  await setMutator(kmpNs, 'opt-out', 'opt-in');
});


describe('macpool status', () => {
  it('reads the release-style configuration: where it runs, the range, the modes, and the decision per namespace', async () => {
    const ns = await freshNamespace('mp-plain');
    const s = await statusJson(['-n', ns]);
    expect(s).toMatchObject({
      kind: 'MacpoolStatus',
      installed: true,
      namespace: kmpNs,
      managerAvailable: true,
      range: { start: '02:00:00:00:00:00', end: '02:00:00:00:ff:ff', size: 65536 },
      modes: { vms: 'opt-out', pods: 'opt-in' },
      warnings: [],
    });
    expect(s.namespaces).toEqual([
      {
        name: ns,
        labels: {},
        vms: { allocated: true, reason: `opt-out mode; namespace not labelled ${VM}=ignore` },
        pods: { allocated: false, reason: `opt-in mode; namespace not labelled ${POD}` },
      },
    ]);
    const table = await runCli(['macpool', 'status', '-n', ns]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`kubemacpool:  installed in namespace ${kmpNs}, manager available`);
    expect(table.stdout).toContain('range:        02:00:00:00:00:00 - 02:00:00:00:ff:ff (65536 addresses)');
    expect(table.stdout).toContain('modes:        VMs opt-out, pods opt-in');
    expect(table.stdout).toMatch(new RegExp(`^${ns}\\s+VMs\\s+<none>\\s+allocated\\s+opt-out mode; namespace not labelled ${VM.replaceAll('.', '\\.')}=ignore$`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${ns}\\s+pods\\s+<none>\\s+ignored\\s+opt-in mode`, 'm'));
  });

  it('-A shows every namespace, with run-level exclusions', async () => {
    const excluded = await freshNamespace('mp-runlevel', { runlevel: '1', [POD]: 'allocate' });
    const s = await statusJson(['-A']);
    const row = s.namespaces.find((n: any) => n.name === excluded);
    expect(row).toEqual({
      name: excluded,
      labels: { runlevel: '1', [POD]: 'allocate' },
      vms: { allocated: false, reason: 'run-level exclusion: namespace labelled runlevel=1' },
      pods: { allocated: false, reason: 'run-level exclusion: namespace labelled runlevel=1' },
    });
    expect(s.namespaces.some((n: any) => n.name === kmpNs)).toBe(true);
    expect(s.namespaces.some((n: any) => n.name === 'default')).toBe(true);
    // one request per kind: the webhook configuration, the ConfigMap, the Deployment, one namespace list
    const dbg = await runCli(['macpool', 'status', '-A', '--debug']);
    expect(dbg.code).toBe(0);
    const requests = dbg.stderr.split('\n').filter((l) => /^debug: GET \//.test(l)).map((l) => l.replace(/^debug: GET (\S+?)(\?\S*)? .*$/, '$1')).sort();
    expect(requests).toEqual([
      '/api/v1/namespaces',
      `/api/v1/namespaces/${kmpNs}/configmaps/kubemacpool-mac-range-config`,
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/kubemacpool-mutator',
      `/apis/apps/v1/namespaces/${kmpNs}/deployments/kubemacpool-mac-controller-manager`,
    ]);
  });

  it('reports an unavailable manager, what failurePolicy Ignore then means, and an invalid range', async () => {
    setManagerAvailable(kmpNs, false);
    kubectl(['patch', 'configmap', 'kubemacpool-mac-range-config', '-n', kmpNs, '--type=merge', '-p', JSON.stringify({ data: { RANGE_START: '02:00:00:00:ff:ff', RANGE_END: '02:00:00:00:00:00' } })]);
    try {
      const s = await statusJson(['-n', 'default']);
      expect(s.managerAvailable).toBe(false);
      expect(s.range).toBeNull();
      expect(s.warnings.map((w: any) => w.code)).toEqual(['range-invalid', 'manager-unavailable', 'webhook-skipped', 'webhook-skipped']);
      const table = await runCli(['macpool', 'status', '-n', 'default']);
      expect(table.stderr).toContain('RANGE_START 02:00:00:00:ff:ff is after RANGE_END 02:00:00:00:00:00');
      expect(table.stdout).toContain('manager NOT available');
    } finally {
      setManagerAvailable(kmpNs, true);
      kubectl(['patch', 'configmap', 'kubemacpool-mac-range-config', '-n', kmpNs, '--type=merge', '-p', JSON.stringify({ data: { RANGE_START: '02:00:00:00:00:00', RANGE_END: '02:00:00:00:FF:FF' } })]);
    }
  });
});

describe('macpool opt-in / opt-out', () => {
  it('opt-out mode for VMs, opt-in mode for pods: each webhook gets the label its mode needs', async () => {
    const ns = await freshNamespace('mp-mixed', { keep: 'me' });
    // opt-out both: VMs (opt-out mode) get ignore; pods (opt-in mode) already unlabelled
    let r = await runCli(['macpool', 'opt-out', ns]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`namespace/${ns} labeled: VMs: set ${VM}=ignore (opt-out mode); pods: ${POD} already not set (opt-in mode)`);
    expect(r.stdout).toMatch(new RegExp(`^${ns}\\s+VMs\\s+ignore\\s+ignored\\s+opt-out mode; namespace labelled`, 'm'));
    expect(await labelsOf(ns)).toMatchObject({ keep: 'me', [VM]: 'ignore' });

    // opt-in pods only: allocate
    r = await runCli(['macpool', 'opt-in', ns, '--pods']);
    expect(r.code, r.stderr).toBe(0);
    let labels = await labelsOf(ns);
    expect(labels[POD]).toBe('allocate');
    expect(labels[VM]).toBe('ignore');

    // opt-in VMs: the ignore label is removed (a merge patch null)
    r = await runCli(['macpool', 'opt-in', ns, '--vms']);
    expect(r.code, r.stderr).toBe(0);
    labels = await labelsOf(ns);
    expect(labels).not.toHaveProperty(VM);
    expect(labels).toMatchObject({ keep: 'me', [POD]: 'allocate' });
    const s = await statusJson(['-n', ns]);
    expect(s.namespaces[0].vms.allocated).toBe(true);
    expect(s.namespaces[0].pods.allocated).toBe(true);

    // running it again changes nothing
    r = await runCli(['macpool', 'opt-in', ns]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`namespace/${ns} unchanged`);
  });

  it('--dry-run=client and --dry-run=server change nothing; none does', async () => {
    const ns = await freshNamespace('mp-dry');
    const rvBefore = (await read<any>('v1', 'Namespace', undefined, ns)).metadata.resourceVersion;
    const client = await runCli(['macpool', 'opt-in', ns, '--pods', '--dry-run=client']);
    expect(client.code, client.stderr).toBe(0);
    expect(client.stdout).toContain(`namespace/${ns} labeled (client dry run): pods: set ${POD}=allocate (opt-in mode)`);
    expect(client.stdout).toContain('would send (merge patch)');
    expect(client.stdout).toMatch(new RegExp(`^${ns}\\s+pods\\s+allocate\\s+allocated`, 'm'));
    const server = await runCli(['macpool', 'opt-in', ns, '--pods', '--dry-run=server', '-o', 'json']);
    expect(server.code, server.stderr).toBe(0);
    // the server's answer carries the label, but nothing was stored
    expect(JSON.parse(server.stdout).metadata.labels[POD]).toBe('allocate');
    const after = await read<any>('v1', 'Namespace', undefined, ns);
    expect(after.metadata.labels ?? {}).not.toHaveProperty(POD);
    expect(after.metadata.resourceVersion).toBe(rvBefore);
    const none = await runCli(['macpool', 'opt-in', ns, '--pods', '--dry-run=none', '-o', 'name']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe(`namespace/${ns}\n`);
    expect((await labelsOf(ns))[POD]).toBe('allocate');
  });

  it('opt-in mode for VMs: opt-in sets allocate, opt-out removes it', async () => {
    await setMutator(kmpNs, 'opt-in', 'opt-out');
    try {
      const ns = await freshNamespace('mp-optin');
      const before = await statusJson(['-n', ns]);
      expect(before.modes).toEqual({ vms: 'opt-in', pods: 'opt-out' });
      expect(before.namespaces[0].vms).toEqual({ allocated: false, reason: `opt-in mode; namespace not labelled ${VM}` });
      let r = await runCli(['macpool', 'opt-in', ns, '--vms']);
      expect(r.code, r.stderr).toBe(0);
      expect((await labelsOf(ns))[VM]).toBe('allocate');
      r = await runCli(['macpool', 'opt-out', ns]);
      expect(r.code, r.stderr).toBe(0);
      const labels = await labelsOf(ns);
      expect(labels).not.toHaveProperty(VM);
      expect(labels[POD]).toBe('ignore');
      const after = await statusJson(['-n', ns]);
      expect(after.namespaces[0].vms.allocated).toBe(false);
      expect(after.namespaces[0].pods).toEqual({ allocated: false, reason: `opt-out mode; namespace labelled ${POD}=ignore` });
    } finally {
      await setMutator(kmpNs, 'opt-out', 'opt-in');
    }
  });

  it('refuses to opt in a run-level-excluded namespace and changes nothing', async () => {
    const ns = await freshNamespace('mp-rl', { 'openshift.io/run-level': '0' });
    const r = await runCli(['macpool', 'opt-in', ns, '--pods']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`error: namespace ${ns} would still not get MACs for pods after the label change: run-level exclusion: namespace labelled openshift.io/run-level=0`);
    expect(await labelsOf(ns)).not.toHaveProperty(POD);
  });

  it('a concurrent change of the namespace makes the edit re-read and re-plan (resourceVersion in the merge patch)', async () => {
    const ns = await freshNamespace('mp-race');
    const client = new KubeClient(await loadConnection({ kubeconfig: sb.kubeconfig }));
    try {
      const view = await readMacpool(client);
      let calls = 0;
      const result = await editNamespaceLabels(
        client,
        ns,
        (obj) => {
          calls++;
          if (calls === 1) kubectl(['label', 'namespace', ns, 'racer=1']);
          return planOptLabels(view, obj, 'opt-in', ['pods']);
        },
        { dryRun: 'none' },
      );
      expect(calls).toBe(2);
      expect(result.sent).toBe(true);
      expect(await labelsOf(ns)).toMatchObject({ racer: '1', [POD]: 'allocate' });
    } finally {
      client.close();
    }
  });

  it('a missing namespace: opt-in (a write) refuses with exit 5, status (a read) says not found with exit 3', async () => {
    const r = await runCli(['macpool', 'opt-in', 'no-such-namespace-mp']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('error: namespace "no-such-namespace-mp" not found; nothing was changed');
    const s = await runCli(['macpool', 'status', '-n', 'no-such-namespace-mp']);
    expect(s.code).toBe(3);
    expect(s.stderr).toContain('error: namespace "no-such-namespace-mp" not found');
  });
});

describe('as editor, who cannot read the webhook configuration', () => {
  it('status says so and shows what the labels mean in each mode, never guessing', async () => {
    const s = await statusJson(['-n', 'team-a'], sb.editor);
    expect(s.installed).toBeNull();
    expect(s.modes).toEqual({ vms: 'unknown', pods: 'unknown' });
    expect(s.namespaces[0].vms.allocated).toBeNull();
    expect(s.namespaces[0].pods.allocated).toBeNull();
    expect(s.warnings[0]).toMatchObject({ code: 'mutator-unreadable', message: expect.stringContaining('cannot read MutatingWebhookConfiguration kubemacpool-mutator: forbidden') });
    const t = await runCli(['macpool', 'status', '-n', 'team-a'], { kubeconfig: sb.editor });
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('kubemacpool:  unknown: cannot read MutatingWebhookConfiguration kubemacpool-mutator (forbidden');
    expect(t.stdout).toContain(`${VM}=allocate: VMs get MACs in opt-in mode and in opt-out mode`);
    expect(t.stdout).toContain(`${VM} not set: VMs get MACs in opt-out mode only`);
    expect(t.stdout).toContain(`${POD}=ignore: pods get no MACs in either mode`);
    expect(t.stdout).toMatch(/^team-a\s+VMs\s+<none>\s+unknown\s+/m);
  });

  it('opt-in refuses without --mode, explaining the labels; with --mode it tries, and the server says what is missing', async () => {
    const r = await runCli(['macpool', 'opt-in', 'team-a'], { kubeconfig: sb.editor });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('error: cannot read MutatingWebhookConfiguration kubemacpool-mutator');
    expect(r.stderr).toContain(`${VM} not set: VMs get MACs in opt-out mode only`);
    expect(r.stderr).toContain('hint: ask an administrator which mode the cluster uses');
    const m = await runCli(['macpool', 'opt-in', 'team-a', '--mode', 'opt-in'], { kubeconfig: sb.editor });
    // Kubernetes' edit role (through view) lets the editor get namespace team-a, the one its RoleBinding
    // is in, but not patch it: the label write is what the server refuses.
    expect(m.code).toBe(4);
    expect(m.stderr).toContain('forbidden');
    expect(m.stderr).toContain('User "editor" cannot patch resource "namespaces"');
    expect(m.stderr).toContain('hint: you need permission to patch namespaces');
  });
});

describe('a user who may label namespaces but not read the webhook configuration', () => {
  it('--mode says the mode; the labels are set as that mode needs and the note says it was assumed', async () => {
    const ns = await freshNamespace('mp-asmode');
    await create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${ns}-labeler` }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch'] }] } as never);
    await create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${ns}-labeler` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ns}-labeler` }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `${ns}-labeler` }] } as never);
    await untilAllowed(`${ns}-labeler`, 'patch', { resource: 'namespaces', name: ns }, sb.kubeconfig);
    try {
      const refused = await runCli(['macpool', 'opt-out', ns, '--vms', '--as', `${ns}-labeler`]);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toContain('so the mode of kubemacpool\'s webhooks is unknown');
      const r = await runCli(['macpool', 'opt-out', ns, '--vms', '--mode', 'opt-out', '--as', `${ns}-labeler`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('Note: the webhook configuration is not readable: assuming opt-out mode (--mode)');
      expect(r.stdout).toContain(`namespace/${ns} labeled: VMs: set ${VM}=ignore (opt-out mode)`);
      expect(r.stdout).toMatch(new RegExp(`^${ns}\\s+VMs\\s+ignore\\s+ignored\\s+opt-out mode; namespace labelled`, 'm'));
      expect((await labelsOf(ns))[VM]).toBe('ignore');
    } finally {
      for (const kind of ['ClusterRoleBinding', 'ClusterRole']) {
        await adminApi().delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name: `${ns}-labeler` } }).catch(() => undefined);
      }
    }
  });
});

describe('without kubemacpool', () => {
  it('status says it is not installed; opt-in refuses', async () => {
    await deleteMutator();
    const ns = await freshNamespace('mp-none');
    const s = await statusJson(['-n', ns]);
    expect(s).toMatchObject({ installed: false, namespace: null, range: null, modes: { vms: 'unknown', pods: 'unknown' } });
    expect(s.namespaces[0].vms).toEqual({ allocated: false, reason: 'kubemacpool is not installed (no MutatingWebhookConfiguration kubemacpool-mutator)' });
    const r = await runCli(['macpool', 'opt-in', ns]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('kubemacpool is not installed');
  });
});
