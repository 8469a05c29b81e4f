// The command line in-process (no API server, no child process): help, usage errors and their
// wording, unknown commands with a suggestion. The same text the built executable prints
// (test/cli/usage-errors.test.ts runs a few of these against it).
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
    expect(add.stdout).toContain('$ kubectl vnet hotplug add VM --network <value>');
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
    [['link', 'set', 'web', 'blue', 'sideways'], 'error: invalid argument "sideways": must be one of up, down', 'hint: see kubectl vnet link set --help'],
    [['status', '-o', 'xml'], 'error: invalid value "xml" for --output: must be one of table, wide, json, yaml', 'hint: see kubectl vnet status --help'],
    [['status', '--kubeconfig'], 'error: flag --kubeconfig needs a value', 'hint: see kubectl vnet status --help'],
    [['doctor', ''], 'error: the VM argument must not be empty', 'hint: see kubectl vnet doctor --help'],
    [['version', 'a', 'b'], 'error: unexpected arguments for "kubectl vnet version": a b', `hint: "kubectl vnet version" takes no arguments (a namespace is -n NAMESPACE); see 'kubectl vnet version --help'`],
  ])('%j', async (argv, error, hint) => {
    expect(await usage(argv)).toEqual([error, hint]);
  });
});
