// The exit-code table is one source of truth (EXIT_CODES in src/errors.ts): the README shows it
// verbatim, and the errors the code raises for the situations it lists carry the codes it gives.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExitCode, EXIT_CODES, exitCodeTable, type ExitCodeName } from '../../src/errors.js';
import { planHotplug, planLinkState, planUnplug } from '../../src/domain/hotplug.js';
import { parseMac } from '../../src/domain/mac.js';
import { planNetworkChange } from '../../src/domain/network-change.js';
import { planMacSet, planMacUnset } from '../../src/domain/mac-plan.js';
import { parseDuration } from '../../src/kube/duration.js';
import { KubeClient } from '../../src/kube/client.js';
import { loadConnection } from '../../src/kube/config.js';
import type { Connection } from '../../src/kube/config.js';
import { refusalOf, testVM } from '../support/vm.js';
import { vnet } from '../support/in-process.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const bridgeNad = { metadata: { name: 'blue-net', namespace: 'ns1' }, spec: { config: JSON.stringify({ cniVersion: '0.3.1', type: 'bridge', bridge: 'br1' }) } };
const client = new KubeClient({ contextName: 'c', impersonateGroups: [] } as unknown as Connection);
const api = (status: number) => client.apiError(status, JSON.stringify({ message: 'x' }), 'GET', '/apis/kubevirt.io/v1/namespaces/ns1/virtualmachines/vm1', false);

describe('the exit-code table', () => {
  it('the README shows the table of src/errors.ts, row for row', () => {
    expect(readme).toContain(exitCodeTable());
  });

  it('has one row per exit code, in order', () => {
    expect(EXIT_CODES.map((r) => r.code)).toEqual(Object.keys(ExitCode));
  });
});

describe('the errors the code raises carry the table\'s codes', () => {
  const cases: [string, ExitCodeName, () => unknown][] = [
    ['a MAC that does not parse', 'usage', () => parseMac('02:00:00:00:00')],
    ['a duration that does not parse', 'usage', () => parseDuration('soon', '--timeout')],
    ['an unknown interface in mac set', 'precondition', () => planMacSet(testVM({ bridges: { blue: 'blue-net' } }), { iface: 'nope', mac: '02:00:00:00:00:01', via: 'spec', force: false }, {})],
    ['an unknown interface in mac unset', 'precondition', () => planMacUnset(testVM(), { iface: 'nope', via: 'spec' }, {})],
    ['an invalid hotplug --name', 'precondition', () => planHotplug(testVM(), { network: 'blue-net', name: 'bad name!', binding: 'bridge', force: false }, { nad: bridgeNad })],
    ['a hotplug --name already taken', 'precondition', () => planHotplug(testVM({ bridges: { blue: 'blue-net' } }), { network: 'blue-net', name: 'blue', binding: 'bridge', force: false }, { nad: bridgeNad })],
    ['hotplug remove of an unknown interface', 'precondition', () => planUnplug(testVM(), { name: 'nope' })],
    ['hotplug remove of the pod network', 'precondition', () => planUnplug(testVM(), { name: 'default' })],
    ['link set of an unknown interface', 'precondition', () => planLinkState(testVM(), { name: 'nope', state: 'down' })],
    ['network set of the pod network', 'precondition', () => planNetworkChange(testVM(), { iface: 'default', network: 'blue-net' }, { nad: bridgeNad })],
    ['network set to a NAD that does not exist', 'precondition', () => planNetworkChange(testVM({ bridges: { blue: 'blue-net' } }), { iface: 'blue', network: 'red-net' }, { nad: null })],
    ...([
      [401, 'forbidden'],
      [403, 'forbidden'],
      [404, 'notFound'],
      [409, 'precondition'],
      [422, 'precondition'],
      [503, 'unreachable'],
      [504, 'timeout'],
      [500, 'internal'],
    ] as const).map(([status, code]): [string, ExitCodeName, () => unknown] => [
      `HTTP ${status}`,
      code,
      () => {
        throw api(status);
      },
    ]),
  ];
  it.each(cases)('%s: %s', (_what, code, fn) => {
    const err = refusalOf(fn);
    expect(err.code).toBe(code);
    expect(err.exitCode).toBe(ExitCode[code]);
  });

  it('no kubeconfig: unreachable; overrides that cannot go together: usage', async () => {
    const none = await loadConnection({}, { HOME: '/nonexistent/vnet-home' }).catch((e: unknown) => e);
    expect((none as { code?: string }).code).toBe('unreachable');
    const both = await loadConnection({ server: 'https://x', 'insecure-skip-tls-verify': true, 'certificate-authority': 'ca' }, {}).catch((e: unknown) => e);
    expect((both as { code?: string }).code).toBe('usage');
  });

  it('usage errors of the command line exit 2', async () => {
    for (const argv of [['status', '--bogus'], ['nosuchcmd'], ['mac', 'set', 'vm1']]) expect((await vnet(argv)).code).toBe(ExitCode.usage);
  });
});
