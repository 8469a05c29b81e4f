// networks: the NAD inventory of a namespace against the sandbox (KubeVirt's virt-controller makes the VMIs
// and launcher pods; the node side's Multus writes their network-status): a NAD in use and attached, one
// unused, one a halted VM names with a binding that does not fit its CNI, a Kube-OVN NAD without its Subnet,
// and a NAD that a VM names and that does not exist.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it, vi } from 'vitest';
import { freshNamespace, repoRoot, runCli } from '../support/cluster.js';
import { bridgeNad, makeVM, runningWith } from '../support/hotplug.js';

vi.setConfig({ testTimeout: 150_000 });

const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas', 'nad-inventory.schema.json'), 'utf8')));

describe('networks', () => {
  it('lists used, unused and missing NADs of a namespace with their uses and problems, one list call per kind', async () => {
    const ns = await freshNamespace('vnet-nets');
    await bridgeNad(ns, 'blue-net');
    await bridgeNad(ns, 'spare-net');
    await bridgeNad(ns, 'mv-net', { cniVersion: '0.3.1', type: 'macvlan', master: 'eth0' });
    await bridgeNad(ns, 'ovn-net', { cniVersion: '0.3.1', type: 'kube-ovn', server_socket: '/run/openvswitch/kube-ovn-daemon.sock', provider: `ovn-net.${ns}.ovn` });
    await bridgeNad(ns, 'chain-net', { cniVersion: '0.3.1', name: 'chain', plugins: [{ type: 'bridge', bridge: 'br2' }, { type: 'tuning', capabilities: { mac: true } }] });
    await makeVM(ns, 'web', { extra: [{ name: 'blue', nad: 'blue-net' }] });
    await makeVM(ns, 'db', { running: false, extra: [{ name: 'mv', nad: 'mv-net' }, { name: 'gone', nad: 'gone-net' }] });
    await runningWith(ns, 'web', ['default', 'blue']);

    const table = await runCli(['networks', '-n', ns, '--debug']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toBe(
      [
        'NAME        CNI             VMS   INTERFACES   ATTACHED   PROBLEMS',
        'blue-net    bridge          1     web/blue     1/1        <none>',
        'chain-net   bridge+tuning   0     <none>       0/0        <none>',
        'gone-net    <missing>       1     db/gone      0/1        missing',
        'mv-net      macvlan         1     db/mv        0/1        binding-mismatch',
        'ovn-net     kube-ovn        0     <none>       0/0        kube-ovn-subnet',
        'spare-net   bridge          0     <none>       0/0        <none>',
        '',
      ].join('\n'),
    );
    expect(table.stderr).toContain(`Warning: ${ns}/gone-net: NetworkAttachmentDefinition ${ns}/gone-net does not exist, and db/gone names it`);
    expect(table.stderr).toContain(`Warning: ${ns}/mv-net: interface mv of VM ${ns}/db uses bridge binding, but its CNI type macvlan does not work with KubeVirt's bridge binding`);
    expect(table.stderr).toContain(`Warning: ${ns}/ovn-net: no Kube-OVN Subnet has provider "ovn-net.${ns}.ovn"`);
    // One request per kind: every GET path appears once (NADs, VMs, VMIs, pods, Subnets, kubemacpool's webhook, the namespace).
    const gets = table.stderr.split('\n').filter((l) => /^debug: GET /.test(l)).map((l) => l.split(' ')[2].split('?')[0]);
    expect(gets.length).toBeGreaterThanOrEqual(6);
    expect(new Set(gets).size).toBe(gets.length);
    expect(gets).toContain(`/apis/k8s.cni.cncf.io/v1/namespaces/${ns}/network-attachment-definitions`);
    expect(gets).toContain(`/api/v1/namespaces/${ns}/pods`);

    const json = await runCli(['networks', '-n', ns, '-o', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const blue = doc.items.find((i: any) => i.name === 'blue-net');
    expect(blue.uses).toEqual([{ namespace: ns, vm: 'web', kind: 'VirtualMachine', interface: 'blue', binding: 'bridge', template: true, vmi: true, attached: true, podInterface: expect.stringMatching(/^pod[0-9a-f]{11}$/) }]);
    const gone = doc.items.find((i: any) => i.name === 'gone-net');
    expect(gone).toMatchObject({ exists: false, cniTypes: [], uses: [{ vm: 'db', interface: 'gone', template: true, vmi: false, attached: false }] });
    expect(doc.items.find((i: any) => i.name === 'spare-net')).toMatchObject({ exists: true, uses: [], problems: [], macpool: { managed: false } });
    expect(doc.items.find((i: any) => i.name === 'chain-net').cniTypes).toEqual(['bridge', 'tuning']);
  });

  it('one NAD: its uses; an unused one has none; a name neither a NAD nor named by a VM is not found (exit 3)', async () => {
    const ns = await freshNamespace('vnet-nets');
    await bridgeNad(ns, 'blue-net');
    await bridgeNad(ns, 'spare-net');
    await makeVM(ns, 'web', { running: false, extra: [{ name: 'blue', nad: 'blue-net' }] });
    const used = await runCli(['networks', 'blue-net', '-n', ns, '-o', 'json']);
    expect(used.code, used.stderr).toBe(0);
    expect(JSON.parse(used.stdout).items.map((i: any) => [i.name, i.uses.map((u: any) => `${u.vm}/${u.interface}`)])).toEqual([['blue-net', ['web/blue']]]);
    const unused = await runCli(['networks', 'spare-net', '-n', ns, '-o', 'json']);
    expect(JSON.parse(unused.stdout).items.map((i: any) => [i.name, i.uses])).toEqual([['spare-net', []]]);
    const none = await runCli(['networks', 'nothing-net', '-n', ns]);
    expect(none.code).toBe(3);
    expect(none.stderr).toBe(`error: networkattachmentdefinition "nothing-net" not found in namespace "${ns}", and no VM there names it\nhint: check the name and the namespace (-n); list them with: kubectl vnet networks\n`);
  });
});
