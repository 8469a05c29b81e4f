// The command line in-process (no API server, no child process): help, usage errors and their
// wording, unknown commands with a suggestion. The same text the built executable prints
// (test/cli/usage-errors.test.ts runs a few of these against it).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helpArgv, nearestCommand, unknownCommandLines } from '../../src/cli/top-level.js';
import { vnet } from '../support/in-process.js';

async function usage(args: string[]): Promise<[string, string]> {
  const r = await vnet(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  return [lines[0], lines[1]];
}

describe('help: -h, --help and `help COMMAND`', () => {
  it('-h and help print the root help, exit 0', async () => {
    const long = await vnet(['--help']);
    expect(long.code).toBe(0);
    expect(long.stdout).toContain('COMMANDS');
    for (const argv of [['-h'], ['help']]) {
      const r = await vnet(argv);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(long.stdout);
    }
  });

  it('status -h and help hotplug add are the command help', async () => {
    const status = await vnet(['status', '--help']);
    expect(status.stdout).toContain('$ kubectl vnet status [TARGET]');
    expect((await vnet(['status', '-h'])).stdout).toBe(status.stdout);
    const add = await vnet(['hotplug', 'add', '--help']);
    expect(add.stdout).toContain('$ kubectl vnet hotplug add VM... --network <value>');
    expect((await vnet(['help', 'hotplug', 'add'])).stdout).toBe(add.stdout);
  });

  it('helpArgv turns `help X Y` into `X Y --help` and leaves anything else alone', () => {
    expect(helpArgv(['help', 'mac', 'set'])).toEqual(['mac', 'set', '--help']);
    expect(helpArgv(['status', 'help'])).toEqual(['status', 'help']);
  });
});

describe('unknown commands', () => {
  it('a typo names the command alone (not its arguments) and suggests the nearest one', async () => {
    const [e, h] = await usage(['stauts', 'demo']);
    expect(e).toBe('error: unknown command "stauts" for "kubectl vnet"');
    expect(h).toBe(`hint: did you mean "kubectl vnet status"? run 'kubectl vnet --help' for the list of commands`);
    const [e2, h2] = await usage(['hotplug', 'ad', 'vm1', '--network', 'blue']);
    expect(e2).toBe('error: unknown command "hotplug ad" for "kubectl vnet"');
    expect(h2).toContain('did you mean "kubectl vnet hotplug add"?');
  });

  it('nothing near: no suggestion', async () => {
    const [e, h] = await usage(['nosuchcmd']);
    expect(e).toBe('error: unknown command "nosuchcmd" for "kubectl vnet"');
    expect(h).toBe("hint: run 'kubectl vnet --help' for the list of commands");
  });

  it('nearestCommand: within two edits or a prefix, the nearest wins', () => {
    const ids = ['status', 'doctor', 'mac list', 'mac set', 'mac unset', 'version'];
    expect(nearestCommand('statsu', ids)).toBe('status');
    expect(nearestCommand('docter', ids)).toBe('doctor');
    expect(nearestCommand('mac st', ids)).toBe('mac set');
    expect(nearestCommand('vers', ids)).toBe('version');
    expect(nearestCommand('frobnicate', ids)).toBeUndefined();
  });

  it('unknownCommandLines leaves other errors alone', () => {
    expect(unknownCommandLines(new Error('something else'))).toBeUndefined();
  });
});

describe('the flag parser speaks as the tool does', () => {
  it.each([
    [['status', '--bogus'], 'error: unknown flag: --bogus', 'hint: see kubectl vnet status --help'],
    [['hotplug', 'add', 'web'], 'error: missing required flag --network', 'hint: see kubectl vnet hotplug add --help'],
    [['mac', 'set', 'web'], 'error: missing arguments: IFACE MAC', 'hint: see kubectl vnet mac set --help'],
    [['link', 'set', 'web', 'blue', 'sideways'], 'error: argument STATE must be one of up, down, not "sideways"', 'hint: see kubectl vnet link set --help'],
    [['status', '-o', 'xml'], 'error: invalid value "xml" for --output: must be one of table, wide, json, yaml', 'hint: see kubectl vnet status --help'],
    [['status', '--kubeconfig'], 'error: flag --kubeconfig needs a value', 'hint: see kubectl vnet status --help'],
    [['doctor', ''], 'error: the VM argument must not be empty', 'hint: see kubectl vnet doctor --help'],
    [['version', 'a', 'b'], 'error: unexpected arguments for "kubectl vnet version": a b', `hint: "kubectl vnet version" takes no arguments (a namespace is -n NAMESPACE); see 'kubectl vnet version --help'`],
  ])('%j', async (argv, error, hint) => {
    expect(await usage(argv)).toEqual([error, hint]);
  });
});

describe('-f FILE --local is an option of each command\'s one path', () => {
  const fixtures = new URL('../fixtures/offline/', import.meta.url).pathname;
  const vms = `${fixtures}vms.yaml`;
  const golden = (name: string) => readFileSync(`${fixtures}golden/${name}`, 'utf8');

  it.each([
    [['link', 'set', 'web', 'blue', 'down'], 'vms.web.link-down.yaml'],
    [['hotplug', 'remove', 'web', 'blue'], 'vms.web.hotplug-remove.yaml'],
    [['network', 'set', 'web', 'blue', 'red-net'], 'vms.web.network-set.yaml'],
    [['mac', 'unset', 'db', 'blue', '--via', 'spec'], 'vms.db.mac-unset-spec.yaml'],
  ])('%j edits the file: the golden manifest on stdout, no cluster', async (argv, file) => {
    const r = await vnet([...argv, '-f', vms, '--local']);
    expect(r.stderr).toMatch(/^virtualmachine\.kubevirt\.io\/\S+ edited: /);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(golden(file));
  });

  it('reads the manifest from stdin with -f -', async () => {
    const r = await vnet(['link', 'set', 'web', 'blue', 'down', '-f', '-', '--local'], { stdin: readFileSync(vms, 'utf8') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(golden('vms.web.link-down.yaml'));
  });

  it.each([
    [['link', 'set', 'web', 'blue', 'down', '--local'], 'error: --local, --in-place and --all work on a manifest file, and no -f FILE was given'],
    [['link', 'set', 'web', 'blue', 'down', '-f', 'vms.yaml'], 'error: -f vms.yaml needs --local: this command edits a manifest file only with --local (nothing is sent to a cluster)'],
    [['link', 'set', '--all', 'blue', 'down'], 'error: --local, --in-place and --all work on a manifest file, and no -f FILE was given'],
    [['link', 'set', '--all', 'web', 'blue', 'down', '-f', 'vms.yaml', '--local'], 'error: too many arguments: down'],
    [['link', 'set', 'web', 'blue', 'sideways', '-f', 'vms.yaml', '--local'], 'error: argument STATE must be one of up, down, not "sideways"'],
    [['hotplug', 'remove', 'web', '-f', 'vms.yaml', '--local'], 'error: missing argument: IFACE'],
    [['mac', 'set', 'web', 'blue', '02:00:00:00:00:01', '--via', 'spec', '--sidecar-image', 'x', '-f', 'vms.yaml', '--local'], 'error: --sidecar-image applies to --via netconf only'],
    [['status', '-f', 'vms.yaml'], 'error: -f vms.yaml needs --local: this command reads a manifest file only with --local (no cluster is read)'],
    [['status', '-A', '-f', 'vms.yaml', '--local'], 'error: -A reads a cluster; with -f FILE --local the VMs are the ones in the file'],
  ])('%j is a usage error, nothing read', async (argv, error) => {
    const r = await vnet(argv);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(error);
    expect(r.stdout).toBe('');
  });

  it('`--` ends the flags: a -f after it is an argument, not the file mode', async () => {
    const r = await vnet(['link', 'set', 'web', 'blue', '--', '-f']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: argument STATE must be one of up, down, not "-f"\nhint: see kubectl vnet link set --help\n');
  });

  it('status -f FILE --local: the desired view', async () => {
    const r = await vnet(['status', '-f', vms, '--local']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(golden('status.vms.txt'));
    expect(r.stderr).toContain(`Note: read from ${vms} only; not checked without a cluster: `);
  });
});
