// The command line of the v1.8/v1.9 changes, in-process on manifest files: mac set's default way,
// status -f FILE --local --kubevirt-version, and offline edits that keep the PCI topology annotations.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { vnet } from '../support/in-process.js';
import { tempDirs } from '../support/tmp.js';

const tmp = tempDirs();
const fixtures = new URL('../fixtures/offline/', import.meta.url).pathname;

/** A manifest with one VM whose template carries the annotations virt-api and virt-controller write on v1.8. */
function pciManifest(interfaces: string, networks: string): string {
  const file = path.join(tmp('vnet-pci-'), 'vm.yaml');
  writeFileSync(
    file,
    `apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: pci
  namespace: lab
spec:
  runStrategy: Always
  template:
    metadata:
      annotations:
        kubevirt.io/pci-topology-version: v2
        kubevirt.io/pci-interface-slot-count: "6"
        kubevirt.io/placePCIDevicesOnRootComplex: "false"
    spec:
      domain:
        devices:
          interfaces:
${interfaces}
      networks:
${networks}
`,
  );
  return file;
}

const BLUE = { interfaces: '            - {name: blue, bridge: {}}', networks: '        - {name: blue, multus: {networkName: blue-net}}' };

describe('mac set: --via defaults to spec', () => {
  it('the plain form writes interfaces[].macAddress, needing no sidecar image', async () => {
    const file = pciManifest(BLUE.interfaces, BLUE.networks);
    const r = await vnet(['mac', 'set', 'pci', 'blue', '02:00:00:00:00:42', '-f', file, '--local']);
    expect(r.code, r.stderr).toBe(0);
    const vm = parse(r.stdout);
    expect(vm.spec.template.spec.domain.devices.interfaces[0]).toEqual({ name: 'blue', bridge: {}, macAddress: '02:00:00:00:00:42' });
    expect(vm.spec.template.metadata.annotations['hooks.kubevirt.io/hookSidecars']).toBeUndefined();
  });

  it('--sidecar-image alone implies --via netconf', async () => {
    const file = pciManifest(BLUE.interfaces, BLUE.networks);
    const r = await vnet(['mac', 'set', 'pci', 'blue', '02:00:00:00:00:42', '--sidecar-image', 'registry.example/netconf:v1', '-f', file, '--local']);
    expect(r.code, r.stderr).toBe(0);
    const ann = parse(r.stdout).spec.template.metadata.annotations;
    expect(JSON.parse(ann['netconf.kubevirt.io/macAddress'])).toEqual([{ name: 'blue', macAddress: '02:00:00:00:00:42' }]);
  });

  it('over a netconf MAC, the plain form refuses with the commands to run, and the file is unchanged', async () => {
    const vms = path.join(fixtures, 'vms.yaml');
    const before = readFileSync(vms, 'utf8');
    const r = await vnet(['mac', 'set', 'web', 'blue', '02:00:00:00:00:42', '-f', vms, '--local']);
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: interface "blue" has its MAC (02:00:00:aa:bb:01) in the netconf annotation, and the default way writes the VM spec, whose MAC the netconf one overrides in the guest; nothing was changed\n' +
        'hint: keep the netconf way: kubectl vnet mac set web blue 02:00:00:00:00:42 --via netconf; or move to the spec: kubectl vnet mac unset web blue --via netconf, then kubectl vnet mac set web blue 02:00:00:00:00:42\n',
    );
    expect(readFileSync(vms, 'utf8')).toBe(before);
    const unset = await vnet(['mac', 'unset', 'web', 'blue', '-f', vms, '--local']);
    expect(unset.code).toBe(5);
    expect(unset.stderr).toContain('hint: remove the netconf MAC: kubectl vnet mac unset web blue --via netconf\n');
  });
});

describe('offline edits keep the PCI topology annotations', () => {
  it('hotplug add, link set, mac set leave kubevirt.io/pci-topology-version, the slot count and the root-complex flag as they are', async () => {
    const file = pciManifest(BLUE.interfaces, BLUE.networks);
    const keep = { 'kubevirt.io/pci-topology-version': 'v2', 'kubevirt.io/pci-interface-slot-count': '6', 'kubevirt.io/placePCIDevicesOnRootComplex': 'false' };
    for (const argv of [
      ['hotplug', 'add', 'pci', '--network', 'red-net'],
      ['link', 'set', 'pci', 'blue', 'down'],
      ['mac', 'set', 'pci', 'blue', '02:00:00:00:00:42', '--via', 'netconf', '--sidecar-image', 'registry.example/netconf:v1'],
    ]) {
      const r = await vnet([...argv, '-f', file, '--local']);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
      expect(parse(r.stdout).spec.template.metadata.annotations).toMatchObject(keep);
    }
  });
});

describe('status -f FILE --local --kubevirt-version', () => {
  const macvtap = () => pciManifest('            - {name: blue, macvtap: {}}', BLUE.networks);

  it('with a version, reports the rejected binding and its fix', async () => {
    const r = await vnet(['status', '-f', macvtap(), '--local', '--kubevirt-version', 'v1.8.2', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).items[0].warnings).toEqual([
      { code: 'binding-rejected', message: 'interface "blue": the core macvtap binding is discontinued: KubeVirt v1.8.2\'s admission rejects it; use a network binding plugin (binding: {name: macvtap}) or bridge binding', object: 'lab/pci' },
    ]);
  });

  it('without one, says that it depends on the version', async () => {
    const r = await vnet(['status', '-f', macvtap(), '--local', '-o', 'json']);
    expect(JSON.parse(r.stdout).items[0].warnings.map((w: { code: string }) => w.code)).toEqual(['binding-version']);
  });

  it('refuses a version that is not one, and the flag without -f', async () => {
    const bad = await vnet(['status', '-f', macvtap(), '--local', '--kubevirt-version', 'latest']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: KubeVirt version "latest" is not a version\nhint: write it as v1.8, v1.8.2 or 1.9.0 (the KubeVirt the manifest is meant for)\n');
    const live = await vnet(['status', 'demo', '--kubevirt-version', 'v1.8.2']);
    expect(live.code).toBe(2);
    expect(live.stderr).toMatch(/^error: --kubevirt-version applies to -f FILE --local only\n/);
  });
});
