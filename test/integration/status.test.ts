// kubectl vnet status against a real API server, with VMs, VMIs and launcher
// pods seeded directly from the unit fixtures (the walk through the states
// that KubeVirt itself drives is in status-sim.test.ts). The seeded objects are
// hand-made (VMIs with crafted statuses, launcher pods of a migration, malformed
// annotations) and KubeVirt would change or refuse them: virt-api refuses VMIs
// that request no memory (the fixtures request none) and drops VMI status writes
// of anyone but KubeVirt's service accounts, and virt-controller makes VMIs and
// launcher pods of its own for running VMs. So this file runs on the bare
// sandbox: the same CRDs and RBAC, nothing acting on the objects.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { bindRole, create, freshNamespace, repoRoot, runCli, sandbox, untilAllowed, useBareSandbox } from '../support/cluster.js';

useBareSandbox();

const fixturesDir = path.join(repoRoot, 'test', 'fixtures', 'status');
const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas', 'vm-network-status.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function expectValid(doc: unknown) {
  validate(doc);
  expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
}

function kubectl(args: string[], input?: string): string {
  return execFileSync(sandbox().kubectl, ['--kubeconfig', sandbox().kubeconfig, ...args], { input, encoding: 'utf8' });
}

/** A fixture with its namespaces (ns1..ns9) rewritten to `ns`. */
function fixture(file: string, ns: string) {
  const text = fs.readFileSync(path.join(fixturesDir, file), 'utf8');
  return JSON.parse(JSON.stringify(parse(text)).replace(/\bns\d\b/g, ns));
}

/**
 * Creates the fixture's VM (status via the status subresource), VMI (no
 * status subresource: stored as given) and pods (labels and owner references
 * pointing at the real VMI uid; phase via the status subresource).
 */
async function seed(fx: any, ns: string): Promise<{ vmiUid?: string }> {
  if (fx.vm) {
    const vm = structuredClone(fx.vm);
    delete vm.metadata.uid;
    const status = vm.status;
    delete vm.status;
    await create({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', ...vm });
    if (status) kubectl(['patch', 'vm', vm.metadata.name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  }
  let vmiUid: string | undefined;
  const fakeUid = fx.vmi?.metadata.uid;
  if (fx.vmi) {
    const vmi = structuredClone(fx.vmi);
    delete vmi.metadata.uid;
    delete vmi.metadata.ownerReferences;
    const created: any = await create({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', ...vmi });
    vmiUid = created.metadata.uid;
  }
  for (const p of fx.pods ?? []) {
    const pod = JSON.parse(JSON.stringify(p).replaceAll(fakeUid ?? '\u0000', vmiUid ?? ''));
    const status = pod.status;
    delete pod.status;
    delete pod.metadata.creationTimestamp;
    pod.spec = { ...pod.spec, containers: [{ name: 'compute', image: 'virt-launcher' }] };
    await create({ apiVersion: 'v1', kind: 'Pod', ...pod });
    if (status) kubectl(['patch', 'pod', pod.metadata.name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  }
  return { vmiUid };
}

function requestLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^debug: (GET|POST|PATCH|PUT|DELETE) /.test(l));
}

describe('status, seeded objects', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await freshNamespace('vnet-status');
    await seed(fixture('every-state.yaml', ns), ns);
    await seed(fixture('stopped.yaml', ns), ns);
    await seed(fixture('standalone-vmi.yaml', ns), ns);
    const bad = fixture('malformed.yaml', ns);
    delete bad.vmi.status.interfaces; // the CRD schema refuses the fixture's non-list value
    await seed(bad, ns);
  });

  it('one VM -o json: every state, valid against the schema, a get of VM and VMI plus one pod list and one events list', async () => {
    const r = await runCli(['status', 'web', '-n', ns, '-o', 'json', '--debug']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expectValid(doc);
    expect(doc.kind).toBe('VMNetworkStatus');
    expect(doc.namespace).toBe(ns);
    expect(doc.launcherPod).toBe('virt-launcher-web-abcde');
    expect(Object.fromEntries(doc.interfaces.map((i: any) => [i.name, i.state]))).toEqual({
      default: 'ready', blue: 'ready', green: 'pending', red: 'pending', yellow: 'attaching',
      gone1: 'unplugging', gone2: 'detached', sriov1: 'attaching', old: 'stale', '': 'guest-only',
    });
    expect(doc.interfaces.find((i: any) => i.name === 'blue').multus).toEqual({ name: `${ns}/blue`, interface: 'pod16477688c0e', mac: '02:00:00:00:00:0b', ips: ['192.168.1.10'] });
    const reqs = requestLines(r.stderr);
    expect(reqs.filter((l) => l.includes('/virtualmachines/web '))).toHaveLength(1);
    expect(reqs.filter((l) => l.includes('/virtualmachineinstances/web '))).toHaveLength(1);
    expect(reqs.filter((l) => /\/pods\?/.test(l))).toHaveLength(1);
    expect(reqs.find((l) => /\/pods\?/.test(l))).toMatch(/labelSelector=kubevirt.io%3Dvirt-launcher%2Ckubevirt.io%2Fcreated-by%3D/);
    // No hook annotations on this VM: the KubeVirt CR (read only for the Sidecar gate) is not fetched.
    expect(reqs.filter((l) => l.includes('/kubevirts'))).toEqual([]);
    // The dynamic networks controller's events of the namespace: one field-selected list.
    expect(reqs.filter((l) => /\/events\?/.test(l))).toHaveLength(1);
    expect(reqs.find((l) => /\/events\?/.test(l))).toContain(`/namespaces/${ns}/events?fieldSelector=involvedObject.kind%3DPod%2Csource%3Dpod-networks-updates`);
    expect(reqs).toHaveLength(4);
  });

  it('one VM with hook annotations also reads the KubeVirt CR, for the Sidecar gate', async () => {
    const r = await runCli(['status', 'bad', '-n', ns, '-o', 'json', '--debug']);
    expect(r.code, r.stderr).toBe(0);
    const reqs = requestLines(r.stderr);
    expect(reqs.filter((l) => l.includes('/kubevirts'))).toHaveLength(1);
    expect(reqs).toHaveLength(5); // + the events list
  });

  it('the namespace: a List of every VM and standalone VMI, one list call per kind', async () => {
    const r = await runCli(['status', '-n', ns, '-o', 'json', '--debug']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expectValid(doc);
    expect(doc.kind).toBe('List');
    expect(doc.items.map((i: any) => i.name)).toEqual(['bad', 'db', 'solo', 'web']);
    const reqs = requestLines(r.stderr);
    const lists = (kind: string) => reqs.filter((l) => l.includes(`/namespaces/${ns}/${kind}?`));
    expect(lists('virtualmachines')).toHaveLength(1);
    expect(lists('virtualmachineinstances')).toHaveLength(1);
    expect(lists('pods')).toHaveLength(1);
    expect(lists('pods')[0]).toContain('labelSelector=kubevirt.io%3Dvirt-launcher');
    expect(lists('events')).toHaveLength(1);
    expect(lists('events')[0]).toContain('fieldSelector=involvedObject.kind%3DPod%2Csource%3Dpod-networks-updates');
    expect(reqs).toHaveLength(5); // + the KubeVirt CR list
  });

  it('the table: the issue\'s columns, warnings on stderr; -o wide adds the rest', async () => {
    const r = await runCli(['status', '-n', ns]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['VM', 'INTERFACE', 'BINDING', 'NETWORK', 'STATE', 'LINK', 'MAC', 'IPS', 'GUEST-IFACE']);
    const blue = lines.find((l) => /^web\s+blue\s/.test(l))!;
    expect(blue.split(/\s+/)).toEqual(['web', 'blue', 'bridge', `${ns}/blue`, 'ready', 'up', '02:00:00:00:00:0b', '192.168.1.10', 'eth1']);
    expect(lines.find((l) => /^db\s+default\s/.test(l))!.split(/\s+/)).toEqual(['db', 'default', 'bridge', 'pod', 'stopped', '<none>', '<none>', '<none>', '<none>']);
    expect(r.stderr).toContain(`Warning: ${ns}/bad: VM condition RestartRequired`);
    expect(r.stderr).toMatch(/Warning: .*\/bad: annotation k8s\.v1\.cni\.cncf\.io\/network-status of pod virt-launcher-bad-1 is not valid JSON/);
    const w = await runCli(['status', '-n', ns, '-o', 'wide']);
    expect(w.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['VM', 'INTERFACE', 'BINDING', 'NETWORK', 'STATE', 'LINK', 'MAC', 'IPS', 'GUEST-IFACE', 'POD-IFACE', 'DESIRED-MAC', 'INFO-SOURCE', 'MODEL', 'MULTUS-MAC', 'MULTUS-IPS']);
    expect(w.stdout).toMatch(/^web\s+blue\s.*pod16477688c0e\s+02:00:00:00:00:0b \(spec\)\s+domain,guest-agent,multus-status\s+virtio\s+02:00:00:00:00:0b\s+192\.168\.1\.10$/m);
  });

  it('-A shows a NAMESPACE column; -l selects VMs by label', async () => {
    kubectl(['label', 'vm', 'db', '-n', ns, 'tier=data']);
    const a = await runCli(['status', '-A']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+VM\s+INTERFACE/);
    expect(a.stdout).toMatch(new RegExp(`^${ns}\\s+web\\s+blue\\s+bridge`, 'm'));
    const l = await runCli(['status', '-n', ns, '-l', 'tier=data', '-o', 'yaml']);
    expect(l.code, l.stderr).toBe(0);
    const doc = parse(l.stdout);
    expectValid(doc);
    expect(doc.items.map((i: any) => i.name)).toEqual(['db']);
    const none = await runCli(['status', '-n', ns, '-l', 'tier=nothing']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain(`No resources found in ${ns} namespace.`);
  });

  it('a standalone VMI: status vmi/NAME', async () => {
    const r = await runCli(['status', `vmi/solo`, '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expectValid(doc);
    expect(doc).toMatchObject({ name: 'solo', phase: 'Scheduling', running: false, launcherPod: 'virt-launcher-solo-x' });
    expect(doc.interfaces.map((i: any) => [i.name, i.state, i.desiredMac, i.desiredMacSource])).toEqual([
      ['default', 'pending', null, null],
      ['blue', 'pending', '02:00:00:00:00:99', 'netconf'],
    ]);
    // A name that is not a VM falls back to the VMI of that name.
    const plain = await runCli(['status', 'solo', '-n', ns, '-o', 'json']);
    expect(JSON.parse(plain.stdout).interfaces).toEqual(doc.interfaces);
  });

  it('malformed annotations: named warnings, no crash, exit 0', async () => {
    const r = await runCli(['status', 'bad', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expectValid(doc);
    const malformed = doc.warnings.filter((w: any) => w.code === 'malformed-annotation').map((w: any) => w.message);
    expect(malformed).toHaveLength(5);
    expect(malformed.join('\n')).toMatch(/netconf\.kubevirt\.io\/macAddress of the VM template is malformed/);
    expect(malformed.join('\n')).toMatch(/hooks\.kubevirt\.io\/hookSidecars of the VM template is malformed: not a JSON list/);
    expect(doc.interfaces.find((i: any) => i.name === 'blue').state).toBe('attaching');
  });

  it('not found: exit 3 with a hint', async () => {
    const r = await runCli(['status', 'nope', '-n', ns]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`error: virtualmachine "nope" not found in namespace "${ns}"`);
    expect(r.stderr).toMatch(/^hint: /m);
    const u = await runCli(['status', 'pod/x', '-n', ns]);
    expect(u.code).toBe(2);
  });
});

describe('status during a migration', () => {
  it('shows the target pod once it runs, says a migration is in progress, and MigrationRequired', async () => {
    const ns = await freshNamespace('vnet-status-mig');
    const fx = fixture('migration.yaml', ns);
    // The target pod starts Pending.
    fx.pods[1].status.phase = 'Pending';
    await seed(fx, ns);
    let r = await runCli(['status', 'mig', '-n', ns, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    let doc = JSON.parse(r.stdout);
    expectValid(doc);
    expect(doc.launcherPod).toBe('virt-launcher-mig-src');
    expect(doc.interfaces.find((i: any) => i.name === 'sriov1').multus).toBeNull();
    expect(doc.warnings.map((w: any) => w.code)).toEqual(['migrating', 'migration-required']);
    expect(doc.warnings[0].message).toContain('showing the source pod');
    kubectl(['patch', 'pod', 'virt-launcher-mig-dst', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
    r = await runCli(['status', 'mig', '-n', ns, '-o', 'json']);
    doc = JSON.parse(r.stdout);
    expect(doc.launcherPod).toBe('virt-launcher-mig-dst');
    expect(doc.interfaces.find((i: any) => i.name === 'sriov1').multus).toMatchObject({ interface: 'podb532bee5923' });
    expect(doc.warnings[0].message).toContain('showing the target pod');
    const t = await runCli(['status', 'mig', '-n', ns]);
    expect(t.stderr).toMatch(/Warning: .*\/mig: migration in progress from pod virt-launcher-mig-src to pod virt-launcher-mig-dst/);
    expect(t.stderr).toMatch(/Warning: .*\/mig: VMI condition MigrationRequired \(AutoMigrationDueToLiveUpdate\)/);
  });
});

describe('status and RBAC', () => {
  it('a user who may read VMs and VMIs but not pods gets a status with empty multus fields and one warning', async () => {
    const ns = await freshNamespace('vnet-status-rbac');
    await seed(fixture('every-state.yaml', ns), ns);
    await seed(fixture('stopped.yaml', ns), ns);
    const user = `vm-reader-${ns}`;
    await create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'vm-reader', namespace: ns },
      rules: [{ apiGroups: ['kubevirt.io'], resources: ['virtualmachines', 'virtualmachineinstances'], verbs: ['get', 'list', 'watch'] }],
    } as any);
    await bindRole(ns, 'vm-reader', user);
    const one = await runCli(['status', 'web', '-n', ns, '--as', user, '-o', 'json']);
    expect(one.code, one.stderr).toBe(0);
    const doc = JSON.parse(one.stdout);
    expectValid(doc);
    expect(doc.launcherPod).toBeNull();
    expect(doc.interfaces.every((i: any) => i.multus === null)).toBe(true);
    expect(doc.interfaces.find((i: any) => i.name === 'blue').state).toBe('ready');
    expect(doc.warnings).toEqual([expect.objectContaining({ code: 'pods-forbidden', message: expect.stringContaining(`cannot list pods in namespace "${ns}" (forbidden)`) })]);

    const table = await runCli(['status', '-n', ns, '--as', user]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^web\s+blue\s+bridge/m);
    // Two VMs, one warning line naming the missing permission.
    expect(table.stderr.match(/cannot list pods/g)).toHaveLength(1);
    expect(table.stderr).toContain(`kubectl auth can-i list pods -n ${ns}`);

    const all = await runCli(['status', '-A', '--as', user]);
    expect(all.code).toBe(4);
    expect(all.stdout).toBe('');
    expect(all.stderr).toMatch(/^error: you may not list VMs across all namespaces \(-A\)/m);
    expect(all.stderr).toMatch(/^hint: use -n NAMESPACE/m);
    expect(all.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('the sandbox users: viewer (cluster-wide view) reads -A; editor (edit in team-a only) is told to use -n', async () => {
    const sb = sandbox();
    const ns = await freshNamespace('vnet-status-view');
    await seed(fixture('every-state.yaml', ns), ns);
    const viewer = await runCli(['status', '-A', '-o', 'json'], { kubeconfig: sb.viewer });
    expect(viewer.code, viewer.stderr).toBe(0);
    const doc = JSON.parse(viewer.stdout);
    expectValid(doc);
    const web = doc.items.find((i: any) => i.namespace === ns && i.name === 'web');
    expect(web.launcherPod).toBe('virt-launcher-web-abcde');
    expect(web.warnings).toEqual([]);
    const editor = await runCli(['status', '-A'], { kubeconfig: sb.editor });
    expect(editor.code).toBe(4);
    expect(editor.stderr).toMatch(/^error: you may not list VMs across all namespaces \(-A\)/m);
    expect(editor.stderr).toMatch(/^hint: use -n NAMESPACE for a namespace you can read \(e\.g\. -n team-a\)/m);
    const inTeamA = await runCli(['status', '-n', 'team-a', '-o', 'json'], { kubeconfig: sb.editor });
    expect(inTeamA.code, inTeamA.stderr).toBe(0);
    expect(JSON.parse(inTeamA.stdout).kind).toBe('List');
  });
});
