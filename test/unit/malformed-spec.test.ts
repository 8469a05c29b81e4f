// Malformed interface and network lists (possible in a manifest file, which no schema checks):
// planners refuse with a precondition naming the problem instead of crashing; the desired view
// warns; the MAC collection skips what is not an interface.
import { describe, expect, it } from 'vitest';
import { testVM } from '../support/vm.js';
import { desiredNetworkView } from '../../src/domain/desired.js';
import { planHotplug, planLinkState, planUnplug } from '../../src/domain/hotplug.js';
import { collectMacUses } from '../../src/domain/mac.js';
import { planMacSet, planMacUnset } from '../../src/domain/mac-plan.js';
import { VnetError } from '../../src/errors.js';
import type { VirtualMachine } from '../../src/domain/types.js';

const vmWith = (templateSpec: Record<string, unknown>): VirtualMachine => testVM({ name: 'odd', namespace: 'lab', templateSpec });

const notLists = vmWith({ domain: { devices: { interfaces: { name: 'blue' } } }, networks: 'oops' });
const nullEntries = vmWith({ domain: { devices: { interfaces: [null, { name: 'blue', bridge: {} }, 7] } }, networks: [null, { name: 'blue', multus: { networkName: 'blue' } }] });

const planners: [string, (vm: VirtualMachine) => unknown][] = [
  ['hotplug add', (vm) => planHotplug(vm, { network: 'red', name: 'red' })],
  ['hotplug remove', (vm) => planUnplug(vm, { name: 'blue' })],
  ['link set', (vm) => planLinkState(vm, { name: 'blue', state: 'down' })],
  ['mac set --via spec', (vm) => planMacSet(vm, { iface: 'blue', mac: '02:00:00:00:00:05', via: 'spec', force: false }, {})],
  ['mac set --via netconf', (vm) => planMacSet(vm, { iface: 'blue', mac: '02:00:00:00:00:05', via: 'netconf', sidecarImage: { image: 'x/netconf:1', from: '--sidecar-image' }, force: false }, {})],
  ['mac unset', (vm) => planMacUnset(vm, { iface: 'blue', via: 'spec' }, {})],
];

describe('malformed interface and network lists', () => {
  for (const [what, plan] of planners) {
    it(`${what}: refused with a precondition naming the list`, () => {
      for (const [vm, where] of [
        [notLists, /spec\.template\.spec\.domain\.devices\.interfaces is not a list/],
        [nullEntries, /spec\.template\.spec\.domain\.devices\.interfaces\[0\] is not an object with a string name/],
      ] as const) {
        let err: unknown;
        try {
          plan(vm);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(VnetError);
        expect((err as VnetError).code).toBe('precondition');
        expect((err as VnetError).message).toMatch(where);
      }
    });
  }

  it('the desired view warns instead of crashing, and invents no implicit default for a list that is not a list', () => {
    for (const vm of [notLists, nullEntries]) {
      const v = desiredNetworkView(vm, 'f.yaml');
      expect(v.warnings.map((w) => w.code)).toContain('malformed-spec');
    }
    expect(desiredNetworkView(notLists, 'f.yaml').interfaces).toEqual([]);
  });

  it('collectMacUses skips entries that are not objects', () => {
    const vmi = { metadata: { name: 'odd', namespace: 'lab' }, spec: { domain: { devices: { interfaces: [null, { name: 'a', macAddress: '02:00:00:00:00:01' }] } } }, status: { interfaces: [null, { name: 'a', mac: '02:00:00:00:00:02' }] } } as any;
    const uses = collectMacUses([nullEntries, notLists], [vmi]);
    expect(uses.map((u) => [u.kind, u.mac, u.source])).toEqual([
      ['VirtualMachineInstance', '02:00:00:00:00:01', 'spec'],
      ['VirtualMachineInstance', '02:00:00:00:00:02', 'status'],
    ]);
  });
});
