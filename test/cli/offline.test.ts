// The built kubectl-vnet in file mode (-f FILE --local), end to end: each write command's output
// is compared with the golden files the domain tests pin (test/fixtures/offline/golden/), so the
// CLI and the planners agree byte for byte. Every run points KUBECONFIG at a file that does not
// exist: a command that tried to reach a cluster would fail (exit 7), so these prove that file
// mode needs no cluster. Also: stdin, JSON, not found, --all, --in-place (written atomically; a
// refused plan or a failed write leaves the file as it was), usage errors, status -f --local.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, type CliResult } from '../support/cluster.js';

const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures', 'offline');
const vmsFile = path.join(fixtures, 'vms.yaml');
const vms = fs.readFileSync(vmsFile, 'utf8');
const goldenOf = (name: string) => fs.readFileSync(path.join(fixtures, 'golden', name), 'utf8');

let tmp: string;
let noCluster: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-offline-cli-'));
  noCluster = path.join(tmp, 'no-such-kubeconfig');
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function vnet(args: string[], stdin?: string): Promise<CliResult> {
  return runCli(args, { kubeconfig: noCluster, stdin, env: { KUBECTL_VNET_NETCONF_IMAGE: undefined } });
}

function copyToTmp(src: string, name = path.basename(src)): string {
  const dest = path.join(fs.mkdtempSync(path.join(tmp, 'case-')), name);
  fs.copyFileSync(src, dest);
  return dest;
}

describe('no cluster is reachable in these tests', () => {
  it('the same kubeconfig makes a live command fail as unreachable', async () => {
    const r = await vnet(['link', 'set', 'web', 'blue', 'down']);
    expect(r.code).toBe(7);
  });
});

describe('each write command in file mode prints the edited manifest', () => {
  it.each([
    ['hotplug add', ['hotplug', 'add', 'web', '--network', 'red-net', '--name', 'red', '--mac', '12:34:56:00:00:10'], 'vms.web.hotplug-add.yaml', 'add interface red (bridge) on lab/red-net'],
    ['hotplug add (db)', ['hotplug', 'add', 'db', '--network', 'lab/red-net', '--name', 'red'], 'vms.db.hotplug-add.yaml', 'add interface red (bridge) on lab/red-net'],
    ['hotplug remove', ['hotplug', 'remove', 'web', 'blue'], 'vms.web.hotplug-remove.yaml', 'unplug interface blue (state: absent)'],
    ['link set', ['link', 'set', 'web', 'blue', 'down'], 'vms.web.link-down.yaml', 'set link down on interface blue'],
    ['mac set (netconf)', ['mac', 'set', '--via', 'netconf', 'web', 'blue', '02:00:00:aa:bb:02'], 'vms.web.mac-set-netconf.yaml', 'set the MAC of interface "blue" to 02:00:00:aa:bb:02 through the netconf sidecar'],
    ['mac set (spec)', ['mac', 'set', 'db', 'blue', '02-00-00-00-00-11', '--via', 'spec'], 'vms.db.mac-set-spec.yaml', 'set spec macAddress of interface "blue" to 02:00:00:00:00:11'],
    ['mac set (netconf, new sidecar)', ['mac', 'set', 'db', 'blue', '02:00:00:00:00:12', '--sidecar-image', 'registry.example/netconf-hook-sidecar:v1'], 'vms.db.mac-set-netconf.yaml', 'through the netconf sidecar (registry.example/netconf-hook-sidecar:v1)'],
    ['mac unset (netconf)', ['mac', 'unset', '--via', 'netconf', 'web', 'blue'], 'vms.web.mac-unset-netconf.yaml', 'remove the netconf MAC of interface "blue" and the netconf sidecar'],
    ['mac unset (spec)', ['mac', 'unset', 'db', 'blue', '--via', 'spec'], 'vms.db.mac-unset-spec.yaml', 'clear spec macAddress 02:00:00:00:00:10 of interface "blue"'],
  ])('%s', async (_name, args, golden, summary) => {
    const r = await vnet([...args, '-f', vmsFile, '--local']);
    expect(r.stderr).toContain(summary);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(goldenOf(golden));
    expect(fs.readFileSync(vmsFile, 'utf8')).toBe(vms);
  });

  it('the skipped cluster checks are named in notes', async () => {
    const add = await vnet(['hotplug', 'add', 'web', '--network', 'red-net', '-f', vmsFile, '--local']);
    expect(add.stderr).toContain('Note: NetworkAttachmentDefinition lab/red-net not checked (no cluster): existence, CNI type and Subnet checks skipped');
    expect(add.stderr).toContain('Note: KubeVirt CR not checked');
    const mac = await vnet(['mac', 'set', '--via', 'netconf', 'web', 'blue', '02:00:00:aa:bb:02', '-f', vmsFile, '--local']);
    expect(mac.stderr).toContain('Note: the kubemacpool check was skipped (no cluster facts)');
    expect(mac.stderr).toContain('Note: the Sidecar feature gate was not checked (no cluster facts)');
    expect(mac.stderr).toContain(`Note: MAC collisions were checked against the 2 VirtualMachines in ${vmsFile} only, not the cluster's`);
  });

  it('checks that need no cluster still refuse: a MAC another VM of the file uses', async () => {
    const r = await vnet(['mac', 'set', 'db', 'blue', '02:00:00:aa:bb:01', '--via', 'spec', '-f', vmsFile, '--local']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('error: 02:00:00:aa:bb:01 is already used by VirtualMachine lab/web interface "blue" (netconf annotation)');
    expect(r.stdout).toBe('');
  });

  it('checks that need no cluster still refuse: unplugging the pod network, a taken name', async () => {
    const pod = await vnet(['hotplug', 'remove', 'web', 'default', '-f', vmsFile, '--local']);
    expect(pod.code).toBe(5);
    expect(pod.stderr).toContain('KubeVirt does not unplug default networks');
    const taken = await vnet(['hotplug', 'add', 'web', '--network', 'x', '--name', 'blue', '-f', vmsFile, '--local']);
    expect(taken.code).toBe(5);
    expect(taken.stderr).toContain('the name "blue" is already used');
  });

  it('checks that need no cluster still refuse: a malformed annotation, a link state on SR-IOV', async () => {
    const invalid = path.join(fixtures, 'invalid.yaml');
    const malformed = vms.replace(`'[{"name":"blue","macAddress":"02:00:00:aa:bb:01"}]'`, `'[{"name":"blue"'`);
    expect(malformed).not.toBe(vms);
    const mac = await vnet(['mac', 'set', '--via', 'netconf', 'web', 'blue', '02:00:00:00:00:31', '-f', '-', '--local'], malformed);
    expect(mac.code).toBe(5);
    expect(mac.stderr).toContain('error: annotation netconf.kubevirt.io/macAddress in the template of virtualmachine "web" is malformed');
    expect(mac.stdout).toBe('');
    const link = await vnet(['link', 'set', 'broken', 'vf', 'up', '-f', invalid, '--local']);
    expect(link.code).toBe(5);
    expect(link.stderr).toContain('uses SR-IOV binding: KubeVirt cannot set the link state');
    expect(link.stdout).toBe('');
  });

  it('an edit that changes nothing prints the input as it was', async () => {
    const r = await vnet(['link', 'set', 'web', 'blue', 'up', '-f', vmsFile, '--local']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(vms);
    expect(r.stderr).toContain('virtualmachine.kubevirt.io/web unchanged: interface blue link is already up');
  });

  it('--all edits every VM of the file', async () => {
    const r = await vnet(['link', 'set', '--all', 'blue', 'down', '-f', vmsFile, '--local']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(goldenOf('vms.all.link-down.yaml'));
    expect(r.stderr).toContain('virtualmachine.kubevirt.io/web edited: set link down on interface blue');
    expect(r.stderr).toContain('virtualmachine.kubevirt.io/db edited: set link down on interface blue');
  });

  it('-f - reads stdin; JSON stays JSON with its indentation', async () => {
    const r = await vnet(['hotplug', 'add', 'api', '--network', 'blue-net', '--name', 'blue', '-f', '-', '--local'], fs.readFileSync(path.join(fixtures, 'vm.json'), 'utf8'));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(goldenOf('vm.hotplug-add.json'));
  });

  it('a VM that is not in the file', async () => {
    const r = await vnet(['hotplug', 'remove', 'nope', 'blue', '-f', vmsFile, '--local']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`error: virtualmachine "nope" not found in ${vmsFile}`);
    expect(r.stderr).toContain('hint: the VirtualMachines in it are: lab/web, lab/db');
    expect(r.stdout).toBe('');
  });
});

describe('--in-place', () => {
  it('writes the file and says so on stdout', async () => {
    const f = copyToTmp(vmsFile);
    const r = await vnet(['link', 'set', 'web', 'blue', 'down', '-f', f, '--local', '--in-place']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`virtualmachine.kubevirt.io/web edited in ${f}: set link down on interface blue\n`);
    expect(fs.readFileSync(f, 'utf8')).toBe(goldenOf('vms.web.link-down.yaml'));
    expect(fs.readdirSync(path.dirname(f))).toEqual(['vms.yaml']);
  });

  it('-o name prints the name only', async () => {
    const f = copyToTmp(vmsFile);
    const r = await vnet(['hotplug', 'remove', '--all', 'blue', '-f', f, '--local', '--in-place', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`virtualmachine.kubevirt.io/web edited in ${f}\nvirtualmachine.kubevirt.io/db edited in ${f}\n`);
  });

  it('a refused plan (for the second of --all) leaves the file byte for byte and untouched', async () => {
    const f = copyToTmp(vmsFile);
    // web's blue is a bridge interface and can be unplugged; db's blue is made SR-IOV, which cannot.
    const text = vms.replace('            bridge: {}\n            macAddress: "02:00:00:00:00:10"', '            sriov: {}\n            macAddress: "02:00:00:00:00:10"');
    expect(text).not.toBe(vms);
    fs.writeFileSync(f, text);
    fs.utimesSync(f, new Date(1_000_000_000_000), new Date(1_000_000_000_000));
    const r = await vnet(['hotplug', 'remove', '--all', 'blue', '-f', f, '--local', '--in-place']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`error: virtualmachine "db" in ${f}: interface "blue" uses sriov binding`);
    expect(r.stderr).toContain('nothing was written');
    expect(fs.readFileSync(f, 'utf8')).toBe(text);
    expect(fs.statSync(f).mtimeMs).toBe(1_000_000_000_000);
    expect(fs.readdirSync(path.dirname(f))).toEqual(['vms.yaml']);
  });

  it('a write that fails (the temporary file cannot be created) leaves the file as it was', async () => {
    // The temporary file's name is longer than the file's: with a 250-byte name, it exceeds NAME_MAX.
    const f = copyToTmp(vmsFile, 'v'.repeat(245) + '.yaml');
    const r = await vnet(['link', 'set', 'web', 'blue', 'down', '-f', f, '--local', '--in-place']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(left unchanged)');
    expect(r.stderr).toContain('ENAMETOOLONG');
    expect(fs.readFileSync(f, 'utf8')).toBe(vms);
    expect(fs.readdirSync(path.dirname(f))).toEqual([path.basename(f)]);
  });

  it('--dry-run=client prints the result and writes nothing', async () => {
    const f = copyToTmp(vmsFile);
    const r = await vnet(['link', 'set', 'web', 'blue', 'down', '-f', f, '--local', '--in-place', '--dry-run=client']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(goldenOf('vms.web.link-down.yaml'));
    expect(r.stderr).toContain('was not written (--dry-run=client)');
    expect(fs.readFileSync(f, 'utf8')).toBe(vms);
  });
});

describe('usage errors', () => {
  it.each([
    [['link', 'set', 'web', 'blue', 'down', '--local'], '--local, --in-place and --all work on a manifest file, and no -f FILE was given', 'hint: add -f FILE'],
    [['link', 'set', 'web', 'blue', 'down', '-f', 'vms.yaml'], '-f vms.yaml needs --local', 'hint: add --local'],
    [['link', 'set', 'web', 'blue', 'down', '-f', '-', '--local', '--in-place'], '--in-place needs a file', 'hint:'],
    [['link', 'set', 'web', 'blue', 'down', '-f', 'vms.yaml', '--local', '--dry-run=server'], '--dry-run=server needs a cluster', 'hint:'],
    [['link', 'set', 'web', 'blue', 'down', '-f', 'vms.yaml', '--local', '--wait'], '--wait watches a running VM', ''],
    [['mac', 'unset', 'web', 'blue', '-f', 'vms.yaml', '--local', '-o', 'yaml'], '-o yaml cannot be used with -f FILE --local', 'hint:'],
    [['link', 'set', '--all', 'web', 'blue', 'down', '-f', 'vms.yaml', '--local'], 'too many arguments: down', 'leave out the VM name'],
    [['link', 'set', 'web', 'blue', 'sideways', '-f', 'vms.yaml', '--local'], 'argument STATE must be one of up, down', ''],
    [['hotplug', 'remove', 'web', '-f', 'vms.yaml', '--local'], 'missing argument: IFACE', ''],
  ])('%j', async (args, message, hint) => {
    const r = await vnet(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(hint);
    expect(r.stdout).toBe('');
  });

  it('a file that does not exist', async () => {
    const r = await vnet(['link', 'set', 'web', 'blue', 'down', '-f', path.join(tmp, 'missing.yaml'), '--local']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing.yaml: no such file');
  });
});

describe('status -f FILE --local', () => {
  it('the desired view as a table', async () => {
    const r = await vnet(['status', '-f', vmsFile, '--local']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(goldenOf('status.vms.txt'));
    expect(r.stderr).toContain('Note: web: annotation netconf.kubevirt.io/macAddress is valid (1 entry)');
    expect(r.stderr).toContain('not checked without a cluster: NetworkAttachmentDefinitions exist');
  });

  it('one VM as JSON', async () => {
    const r = await vnet(['status', 'db', '-f', vmsFile, '--local', '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ kind: 'VMDesiredNetwork', namespace: 'lab', name: 'db', warnings: [], annotations: [] });
    expect(doc.interfaces.map((i: { name: string; desiredMac: string | null }) => [i.name, i.desiredMac])).toEqual([
      ['default', null],
      ['blue', '02:00:00:00:00:10'],
    ]);
  });

  it('a broken manifest: every problem is a warning, the annotations valid or not', async () => {
    const r = await vnet(['status', '-f', path.join(fixtures, 'invalid.yaml'), '--local', '-o', 'wide']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(goldenOf('status.invalid.wide.txt'));
    expect(r.stderr).toContain('Warning: broken: interfaces "blue" and "red" want the same MAC 02:00:00:00:00:aa');
    expect(r.stderr).toContain('Warning: bare: annotation hooks.kubevirt.io/hookSidecars is malformed: not valid JSON');
    expect(r.stderr).toContain('Note: broken: annotation netconf.kubevirt.io/macAddress is valid (2 entries)');
  });

  it('-o yaml of the whole file is a List; -l filters by labels', async () => {
    const r = await vnet(['status', '-f', path.join(fixtures, 'invalid.yaml'), '--local', '-o', 'yaml', '-l', 'app=bare']);
    expect(r.code).toBe(0);
    const doc = parse(r.stdout);
    expect(doc.kind).toBe('List');
    expect(doc.items.map((i: { name: string }) => i.name)).toEqual(['bare']);
  });

  it('a VM that is not in the file', async () => {
    const r = await vnet(['status', 'nope', '-f', vmsFile, '--local']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`error: virtualmachine "nope" not found in ${vmsFile}`);
  });

  it('-f without --local is a usage error with a hint', async () => {
    const r = await vnet(['status', '-f', vmsFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: -f ${vmsFile} needs --local`);
    expect(r.stderr).toContain('hint: add --local to show the desired view of the file');
  });
});

describe('end to end: through kubectl, and what the API server makes of the result', () => {
  it('kubectl vnet ... -f FILE --local runs as a kubectl plugin', async () => {
    const { execFile } = await import('node:child_process');
    const { sandbox, cliPath } = await import('../support/cluster.js');
    const binDir = fs.mkdtempSync(path.join(tmp, 'bin-'));
    fs.symlinkSync(cliPath, path.join(binDir, 'kubectl-vnet'));
    const env = { ...process.env, PATH: `${binDir}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, KUBECONFIG: noCluster, NO_COLOR: '1' };
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(sandbox().kubectl, ['vnet', 'link', 'set', 'web', 'blue', 'down', '-f', vmsFile, '--local'], { env }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(out.stderr).toContain('virtualmachine.kubevirt.io/web edited: set link down on interface blue');
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(goldenOf('vms.web.link-down.yaml'));
  });

  it('the API server accepts the edited manifest (real KubeVirt CRD schema) and stores what was planned', async () => {
    const { execFileSync } = await import('node:child_process');
    const { sandbox, freshNamespace, readVM } = await import('../support/cluster.js');
    const ns = await freshNamespace('vnet-offline');
    const f = path.join(fs.mkdtempSync(path.join(tmp, 'apply-')), 'vms.yaml');
    fs.writeFileSync(f, vms.replaceAll('namespace: lab', `namespace: ${ns}`).replaceAll('runStrategy: Always', 'runStrategy: Halted'));
    const r = await vnet(['hotplug', 'add', 'web', '--network', 'red-net', '--name', 'red', '--mac', '12:34:56:00:00:10', '-f', f, '--local', '--in-place']);
    expect(r.code).toBe(0);
    const m = await vnet(['mac', 'set', '--via', 'netconf', 'web', 'red', '02:00:00:00:00:44', '-f', f, '--local', '--in-place']);
    expect(m.code).toBe(0);
    // The fixture's ConfigMap (with a list in data, to show other documents stay verbatim) is not a valid ConfigMap: apply the VMs only.
    const vmsOnly = fs
      .readFileSync(f, 'utf8')
      .split('\n---\n')
      .filter((d) => d.includes('kind: VirtualMachine'))
      .join('\n---\n');
    execFileSync(sandbox().kubectl, ['--kubeconfig', sandbox().kubeconfig, 'apply', '-f', '-'], { encoding: 'utf8', input: vmsOnly });
    const vm = await readVM(ns, 'web');
    const ifaces = vm.spec.template.spec.domain.devices.interfaces;
    expect(ifaces.map((i: { name: string }) => i.name)).toEqual(['default', 'blue', 'red']);
    // An all-digit MAC is a string to the API server, not a YAML 1.1 base-60 number.
    expect(ifaces[2]).toEqual({ name: 'red', bridge: {}, macAddress: '12:34:56:00:00:10' });
    expect(vm.spec.template.spec.networks[2]).toEqual({ name: 'red', multus: { networkName: 'red-net' } });
    expect(JSON.parse(vm.spec.template.metadata.annotations['netconf.kubevirt.io/macAddress'])).toEqual([
      { name: 'blue', macAddress: '02:00:00:aa:bb:01' },
      { name: 'red', macAddress: '02:00:00:00:00:44' },
    ]);
    expect(vm.spec.template.spec.volumes[0].cloudInitNoCloud.userData).toContain('#cloud-config\nusers:\n  - name: lab\n');
  });
});
