import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  defaultPodInterface,
  enabledFeatureGates,
  hasFeatureGate,
  kubevirtVersion,
  linkStateSupport,
  liveMigrateEnabled,
  nicHotplugSupport,
  parseVersion,
  versionAtLeast,
  vmRolloutStrategy,
  workloadUpdateMethods,
} from '../../src/domain/kubevirt-config.js';
import type { KubeVirtCR } from '../../src/domain/types.js';

function cr(version: string | undefined, spec: KubeVirtCR['spec'] = {}): KubeVirtCR {
  return { metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec, status: version ? { observedKubeVirtVersion: version } : {} };
}

describe('versions', () => {
  it('parses KubeVirt version strings', () => {
    expect(parseVersion('v1.5.2')).toMatchObject({ major: 1, minor: 5, patch: 2, prerelease: '' });
    expect(parseVersion('1.6')).toMatchObject({ major: 1, minor: 6, patch: 0 });
    expect(parseVersion('v1.6.0-rc.1')).toMatchObject({ major: 1, minor: 6, patch: 0, prerelease: 'rc.1' });
    expect(parseVersion('v1.4.0-beta.0.123+ab12cd')).toMatchObject({ minor: 4, prerelease: 'beta.0.123+ab12cd' });
    expect(parseVersion('latest')).toBeNull();
    expect(parseVersion('')).toBeNull();
  });

  it('compares', () => {
    expect(compareVersions(parseVersion('v1.10.0')!, parseVersion('v1.9.9')!)).toBeGreaterThan(0);
    expect(versionAtLeast('v1.4.0', '1.4')).toBe(true);
    expect(versionAtLeast('v1.3.9', '1.4')).toBe(false);
    expect(versionAtLeast('v1.6.0-rc.1', '1.6')).toBe(true);
    expect(versionAtLeast(undefined, '1.4')).toBe(false);
    expect(kubevirtVersion(cr('v1.5.1'))?.minor).toBe(5);
    expect(kubevirtVersion(null)).toBeNull();
  });
});

describe('feature gates', () => {
  it('reads string and object gates, minus disabled ones', () => {
    const c = cr('v1.3.0', { configuration: { developerConfiguration: { featureGates: ['HotplugNICs', { name: 'Sidecar' }, { name: 'Off', enabled: false }] as never, disabledFeatureGates: ['Sidecar'] } } });
    expect(enabledFeatureGates(c)).toEqual(['HotplugNICs']);
    expect(hasFeatureGate(c, 'HotplugNICs')).toBe(true);
    expect(hasFeatureGate(undefined, 'HotplugNICs')).toBe(false);
  });

  it('NIC hot-plug: GA from 1.4, gated before, unknown without a version', () => {
    expect(nicHotplugSupport(cr('v1.4.0')).supported).toBe(true);
    expect(nicHotplugSupport(cr('v1.3.2')).supported).toBe(false);
    expect(nicHotplugSupport(cr('v1.3.2', { configuration: { developerConfiguration: { featureGates: ['HotplugNICs'] } } })).supported).toBe(true);
    expect(nicHotplugSupport(cr(undefined)).supported).toBe('unknown');
  });

  it('link state from 1.5', () => {
    expect(linkStateSupport(cr('v1.5.0')).supported).toBe(true);
    expect(linkStateSupport(cr('v1.4.9')).supported).toBe(false);
  });
});

describe('rollout strategy and workload updates', () => {
  it('unset means LiveUpdate from v1.6, Stage before', () => {
    expect(vmRolloutStrategy(cr('v1.6.0'))).toEqual({ value: 'LiveUpdate', explicit: false });
    expect(vmRolloutStrategy(cr('v1.5.2'))).toEqual({ value: 'Stage', explicit: false });
    expect(vmRolloutStrategy(cr(undefined))).toEqual({ value: 'Stage', explicit: false });
    expect(vmRolloutStrategy(cr('v1.7.0', { configuration: { vmRolloutStrategy: 'Stage' } }))).toEqual({ value: 'Stage', explicit: true });
    expect(vmRolloutStrategy(cr('v1.3.0', { configuration: { vmRolloutStrategy: 'LiveUpdate' } }))).toEqual({ value: 'LiveUpdate', explicit: true });
  });

  it('workloadUpdateMethods', () => {
    expect(workloadUpdateMethods(cr('v1.6.0'))).toEqual([]);
    expect(liveMigrateEnabled(cr('v1.6.0', { workloadUpdateStrategy: { workloadUpdateMethods: ['LiveMigrate', 'Evict'] } }))).toBe(true);
    expect(liveMigrateEnabled(cr('v1.6.0', { workloadUpdateStrategy: { workloadUpdateMethods: ['Evict'] } }))).toBe(false);
  });

  it('the default pod interface: the CR\'s defaultNetworkInterface, else bridge', () => {
    expect(defaultPodInterface(cr('v1.6.0'))).toMatchObject({ iface: { name: 'default', bridge: {} }, network: { name: 'default', pod: {} }, fromCluster: false });
    expect(defaultPodInterface(cr('v1.6.0', { configuration: { network: { defaultNetworkInterface: 'masquerade' } } }))).toMatchObject({ iface: { name: 'default', masquerade: {} }, fromCluster: true });
  });
});
