// The NAD inventory (src/domain/networks.ts): uses from the VM template, the VMI and the launcher pod's
// network-status; problems per NAD; missing NADs only for the namespaces read; the -o json shape.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { buildNadInventory, type InventoryInput } from '../../src/domain/networks.js';
import type { NetworkAttachmentDefinition, Pod, VirtualMachineInstance } from '../../src/domain/types.js';
import { testVM, testVMI } from '../support/vm.js';

const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', 'schemas', 'nad-inventory.schema.json'), 'utf8')));

function nad(namespace: string, name: string, config: unknown): NetworkAttachmentDefinition {
  return { metadata: { namespace, name }, spec: { config: typeof config === 'string' ? config : JSON.stringify(config) } };
}

function launcher(vmi: VirtualMachineInstance, status: unknown[]): Pod {
  return {
    metadata: { name: `virt-launcher-${vmi.metadata.name}-x`, namespace: vmi.metadata.namespace, labels: { 'kubevirt.io/created-by': vmi.metadata.uid as string }, annotations: { 'k8s.v1.cni.cncf.io/network-status': JSON.stringify(status) } },
    status: { phase: 'Running' },
  };
}

const base = (o: Partial<InventoryInput>): InventoryInput => ({ nads: [], vms: [], vmis: [], pods: [], subnets: [], namespace: 'team-a', ...o });

describe('buildNadInventory', () => {
  const web = testVM({ name: 'web', namespace: 'team-a', bridges: { blue: 'blue-net', red: 'lab/red-net' } });
  const webVMI = testVMI(web, {});
  const pod = launcher(webVMI, [{ name: 'kindnet', interface: 'eth0', default: true }, { name: 'team-a/blue-net', interface: 'pod16477688c0e', mac: '02:00:00:aa:bb:01' }]);

  it('a use is wanted (template), in the VMI, and attached by the pod network-status', () => {
    const inv = buildNadInventory(base({ nads: [nad('team-a', 'blue-net', { type: 'bridge' })], vms: [web], vmis: [webVMI], pods: [pod] }));
    expect(inv.items[0].uses).toEqual([{ namespace: 'team-a', vm: 'web', kind: 'VirtualMachine', interface: 'blue', binding: 'bridge', template: true, vmi: true, attached: true, podInterface: 'pod16477688c0e' }]);
    expect(validate(inv), JSON.stringify(validate.errors)).toBe(true);
  });

  it('a NAD of another namespace is missing only when that namespace was read (-A), not with -n', () => {
    const withN = buildNadInventory(base({ nads: [nad('team-a', 'blue-net', { type: 'bridge' })], vms: [web], vmis: [webVMI], pods: [pod] }));
    expect(withN.items.map((i) => `${i.namespace}/${i.name}`)).toEqual(['team-a/blue-net']);
    const all = buildNadInventory(base({ namespace: undefined, nads: [nad('team-a', 'blue-net', { type: 'bridge' })], vms: [web], vmis: [webVMI], pods: [pod] }));
    const red = all.items.find((i) => i.name === 'red-net');
    expect(red).toMatchObject({ namespace: 'lab', exists: false, problems: [{ code: 'missing' }], uses: [{ namespace: 'team-a', vm: 'web', interface: 'red', vmi: true, attached: false }] });
    expect(validate(all), JSON.stringify(validate.errors)).toBe(true);
  });

  it('problems: a config that does not parse, sriov binding on a bridge NAD, another binding on an SR-IOV NAD, Kube-OVN without Subnet', () => {
    const vm = testVM({ name: 'v', namespace: 'team-a', templateSpec: {
      domain: { devices: { interfaces: [{ name: 'a', sriov: {} }, { name: 'b', bridge: {} }] } },
      networks: [{ name: 'a', multus: { networkName: 'br' } }, { name: 'b', multus: { networkName: 'vf' } }],
    } });
    const inv = buildNadInventory(base({
      nads: [nad('team-a', 'br', { type: 'bridge' }), nad('team-a', 'vf', { type: 'sriov' }), nad('team-a', 'bad', '{not json'), nad('team-a', 'ovn', { type: 'kube-ovn', provider: 'ovn.team-a.ovn' })],
      vms: [vm],
    }));
    const codes = Object.fromEntries(inv.items.map((i) => [i.name, i.problems.map((p) => p.code)]));
    expect(codes).toEqual({ bad: ['config-invalid'], br: ['binding-mismatch'], ovn: ['kube-ovn-subnet'], vf: ['binding-mismatch'] });
    expect(inv.items.find((i) => i.name === 'br')?.problems[0].message).toBe("interface a of VM team-a/v uses the sriov binding, but the NAD's CNI is bridge, not sriov: KubeVirt finds no VF to pass through");
    expect(inv.items.find((i) => i.name === 'bad')?.cniTypes).toEqual([]);
  });

  it('without Subnets read (Kube-OVN not installed or forbidden) a Kube-OVN NAD gets no Subnet problem', () => {
    const inv = buildNadInventory(base({ nads: [nad('team-a', 'ovn', { type: 'kube-ovn' })], subnets: null }));
    expect(inv.items[0].problems).toEqual([]);
  });

  it('a standalone VMI is a user; one NAD by name; a template and VMI on different NADs are two uses', () => {
    const standalone: VirtualMachineInstance = { metadata: { name: 'solo', namespace: 'team-a', uid: 's1' }, spec: { domain: { devices: { interfaces: [{ name: 'x', bridge: {} }] } }, networks: [{ name: 'x', multus: { networkName: 'blue-net' } }] } };
    // The template moved blue to green-net; the running VMI still has blue-net.
    const moved = testVM({ name: 'web', namespace: 'team-a', bridges: { blue: 'green-net' } });
    const inv = buildNadInventory(base({ nads: [nad('team-a', 'blue-net', { type: 'bridge' }), nad('team-a', 'green-net', { type: 'bridge' })], vms: [moved], vmis: [testVMI(web, {}), standalone], only: 'blue-net' }));
    expect(inv.items.map((i) => i.name)).toEqual(['blue-net']);
    expect(inv.items[0].uses.map((u) => [u.vm, u.kind, u.interface, u.template, u.vmi])).toEqual([
      ['solo', 'VirtualMachineInstance', 'x', false, true],
      ['web', 'VirtualMachine', 'blue', false, true],
    ]);
  });
});
