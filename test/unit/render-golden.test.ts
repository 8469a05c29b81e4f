// The presenters, against golden text: a result in (built here from the domain's own functions or
// written out), the text a user sees out (test/fixtures/render/*.txt). A change to a presenter's
// output fails here; after checking the new text by eye, UPDATE_GOLDEN=1 rewrites the files.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/domain/doctor.js';
import { buildMacList } from '../../src/domain/mac-list.js';
import type { MacpoolStatus } from '../../src/domain/macpool.js';
import { joinVMNetworkStatus } from '../../src/domain/status.js';
import { planLinkState } from '../../src/domain/hotplug.js';
import { applyPatch } from '../../src/domain/patch.js';
import { renderDoctor } from '../../src/render/doctor.js';
import { renderLiveEdit } from '../../src/render/edit.js';
import { renderMacList } from '../../src/render/mac-list.js';
import { renderLabelResult, renderMacpoolHeader, renderMacpoolTable } from '../../src/render/macpool.js';
import { painter } from '../../src/render/output.js';
import { renderStatus } from '../../src/render/status.js';
import type { NadInventory } from '../../src/domain/networks.js';
import { renderNetworks } from '../../src/render/networks.js';
import { testVM, testVMI } from '../support/vm.js';

const dir = new URL('../fixtures/render/', import.meta.url);
const plain = painter(false);
const colour = painter(true);

/** stdout, then each stderr line prefixed with "stderr: ", as one text. */
function transcript(r: { stdout: string; stderr: readonly string[]; after?: readonly string[] }): string {
  const err = (lines: readonly string[] = []) => lines.map((l) => `stderr: ${l}\n`).join('');
  return err(r.stderr) + r.stdout + err(r.after);
}

function golden(name: string, text: string): void {
  const file = new URL(name, dir);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(existsSync(file), `${name} is missing (UPDATE_GOLDEN=1 writes it)`).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const web = testVM({ name: 'web', namespace: 'team-a', bridges: { blue: 'lab/blue-net', red: 'red-net' } });
const webVMI = testVMI(web, {
  interfaces: [
    { name: 'default', mac: '02:00:00:00:00:01', ipAddress: '10.244.0.7', ipAddresses: ['10.244.0.7'], interfaceName: 'eth0', infoSource: 'domain, guest-agent', linkState: 'up' },
    { name: 'blue', mac: '02:00:00:aa:bb:01', ipAddresses: ['192.168.10.5', 'fd00::5'], interfaceName: 'eth1', infoSource: 'domain, guest-agent, multus-status', linkState: 'up' },
  ],
});
const db = testVM({ name: 'db', namespace: 'team-a', runStrategy: 'Halted' });

describe('status', () => {
  const items = [joinVMNetworkStatus({ vm: db, pods: [] }), joinVMNetworkStatus({ vm: web, vmi: webVMI, pods: [] })];

  it('table', () => golden('status.txt', transcript(renderStatus(items, { wide: false, showNamespace: false }))));
  it('-o wide -A', () => golden('status.wide.txt', transcript(renderStatus(items, { wide: true, showNamespace: true }))));
  it('colours only the STATE cells', () => {
    const text = renderStatus(items, { wide: false, showNamespace: false, paint: colour }).stdout;
    expect(text).toContain('\u001b[32mready\u001b[0m');
    // Without the colour codes, the same text (the widths do not count them).
    expect(text.replace(/\u001b\[[0-9;]*m/g, '')).toBe(renderStatus(items, { wide: false, showNamespace: false }).stdout);
  });
});

describe('mac list', () => {
  const annotated = testVM({ name: 'web', namespace: 'team-a', bridges: { blue: 'lab/blue-net' }, templateAnnotations: { 'netconf.kubevirt.io/macAddress': '[{"name": "blue", "macAddress": "02:00:00:aa:bb:02"}]' } });
  const list = buildMacList([annotated, db], [testVMI(annotated, webVMI.status)]);
  it('table, pending explained after it', () => golden('mac-list.txt', transcript(renderMacList(list, { showNamespace: true, emptyNote: 'No VirtualMachines found.', paint: plain }))));
  it('nothing: the note only', () => {
    expect(renderMacList({ kind: 'MacList', items: [], warnings: [] }, { showNamespace: false, emptyNote: 'No VirtualMachines found in namespace x.', paint: plain })).toEqual({ stdout: '', stderr: ['No VirtualMachines found in namespace x.'], after: [] });
  });
});

describe('doctor', () => {
  const report: DoctorReport = {
    kind: 'DoctorReport',
    namespace: 'team-a',
    name: 'web',
    checks: [
      { id: 'spec.interfaces-networks', result: 'ok', message: 'every interface has a network of the same name', fix: null },
      { id: 'nad.exists', result: 'fail', message: 'NetworkAttachmentDefinition lab/blue-net not found', fix: 'create it, or point the network at an existing NAD' },
      { id: 'kubevirt.feature-gates', result: 'warn', message: 'the Sidecar feature gate is off: the netconf annotation does nothing', fix: 'add Sidecar to the KubeVirt CR\'s featureGates' },
    ],
  };
  it('one line per check, the fix under it, the count', () => golden('doctor.txt', renderDoctor(report, plain)));
});

describe('macpool', () => {
  const status: MacpoolStatus = {
    kind: 'MacpoolStatus',
    installed: true,
    namespace: 'kubemacpool-system',
    managerAvailable: true,
    range: { start: '02:00:00:00:00:00', end: '02:00:00:ff:ff:ff', size: 16777216 } as MacpoolStatus['range'],
    modes: { vms: 'opt-out', pods: 'opt-in' } as MacpoolStatus['modes'],
    namespaces: [
      { name: 'team-a', labels: { 'mutatepods.kubemacpool.io': 'allocate' }, vms: { allocated: true, reason: 'opt-out mode, no ignore label' }, pods: { allocated: true, reason: 'labelled allocate' } },
      { name: 'team-b', labels: {}, vms: { allocated: false, reason: 'labelled ignore' }, pods: { allocated: null, reason: 'cannot read the namespace' } },
    ],
    warnings: [],
  };
  it('summary and table', () => golden('macpool-status.txt', renderMacpoolHeader(status) + '\n' + renderMacpoolTable(status, plain)));
  it('opt-in with --dry-run=client: the change, the merge patch, the decision', () => {
    const ns = { metadata: { name: 'team-b', resourceVersion: '7', labels: {} } };
    const after = { metadata: { ...ns.metadata, labels: { 'mutatevirtualmachines.kubemacpool.io': 'allocate' } } };
    const plan = {
      labels: { 'mutatevirtualmachines.kubemacpool.io': 'allocate' },
      after: after.metadata.labels,
      changes: ['VMs: set mutatevirtualmachines.kubemacpool.io=allocate (opt-in mode)'],
      noop: false,
      result: {},
      notes: ['pods: left alone (--vms)'],
    };
    const result = { edit: { plan, before: ns, after, sent: false, dryRun: 'client' as const }, status: { ...status, namespaces: [status.namespaces[1]] } };
    golden('macpool-opt-in.txt', transcript(renderLabelResult(result, 'table', plain)));
  });
});

describe('an interface edit', () => {
  const vm = testVM({ name: 'web', namespace: 'team-a', bridges: { blue: 'lab/blue-net' } });
  const plan = planLinkState(vm, { name: 'blue', state: 'down' });
  const edit = (dryRun: 'none' | 'client') => ({ kind: 'live' as const, notes: ['cannot read the VMI: forbidden'], edit: { plan, before: vm, after: applyPatch(vm, plan.ops), sent: dryRun === 'none', dryRun, attempts: 1 } });
  it('sent: one line', () => golden('edit.txt', transcript(renderLiveEdit(edit('none'), 'default'))));
  it('--dry-run=client: the JSON Patch on stdout', () => golden('edit.dry-run-client.txt', transcript(renderLiveEdit(edit('client'), 'default'))));
  it('-o name', () => expect(renderLiveEdit(edit('none'), 'name').stdout).toBe('virtualmachine.kubevirt.io/web patched\n'));
});

describe('networks', () => {
  const inventory: NadInventory = {
    kind: 'NetworkAttachmentDefinitionInventory',
    items: [
      {
        namespace: 'team-a',
        name: 'blue-net',
        exists: true,
        cniTypes: ['bridge', 'tuning'],
        uses: [
          { namespace: 'team-a', vm: 'web', kind: 'VirtualMachine', interface: 'blue', binding: 'bridge', template: true, vmi: true, attached: true, podInterface: 'pod16477688c0e' },
          { namespace: 'lab', vm: 'db', kind: 'VirtualMachine', interface: 'blue', binding: 'bridge', template: true, vmi: false, attached: false, podInterface: null },
        ],
        problems: [],
        macpool: { managed: true, reason: 'opt-out mode, no ignore label' },
      },
      {
        namespace: 'team-a',
        name: 'gone-net',
        exists: false,
        cniTypes: [],
        uses: [{ namespace: 'team-a', vm: 'web', kind: 'VirtualMachine', interface: 'gone', binding: 'bridge', template: true, vmi: false, attached: false, podInterface: null }],
        problems: [{ code: 'missing', message: 'NetworkAttachmentDefinition team-a/gone-net does not exist, and web/gone names it' }],
        macpool: null,
      },
      { namespace: 'team-a', name: 'spare-net', exists: true, cniTypes: [], uses: [], problems: [{ code: 'config-invalid', message: 'spec.config is empty' }], macpool: { managed: false, reason: 'opt-in mode' } },
    ],
    notes: ['cannot list launcher pods, so no interface shows as attached: forbidden'],
  };
  it('table', () => golden('networks.txt', transcript(renderNetworks(inventory, { wide: false, showNamespace: false }))));
  it('-o wide -A', () => golden('networks.wide.txt', transcript(renderNetworks(inventory, { wide: true, showNamespace: true }))));
});
