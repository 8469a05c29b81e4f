// Usage errors of the built CLI: oclif's parse errors (unknown flag, missing argument, a value
// not among the options, a missing required flag) are printed as one `error:` line and one
// `hint:` line, exit 2, with nothing on stdout. No cluster is needed: parsing fails first.
import path from 'node:path';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cluster.js';

const noCluster = path.join(os.tmpdir(), 'vnet-usage-errors-no-such-kubeconfig');

async function usage(args: string[], env: Record<string, string> = {}) {
  const r = await runCli(args, { kubeconfig: noCluster, env });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^error: \S/);
  expect(lines[1]).toMatch(/^hint: /);
  return lines;
}

describe('usage errors are one error line and one hint line', () => {
  it('an unknown flag (with NODE_ENV=development too: no oclif warning)', async () => {
    const [e, h] = await usage(['status', '--bogus'], { NODE_ENV: 'development' });
    expect(e).toBe('error: Nonexistent flag: --bogus');
    expect(h).toBe('hint: see kubectl vnet status --help');
  });

  it('missing arguments name them, without oclif\'s note on --as-group', async () => {
    const [e, h] = await usage(['mac', 'set', 'web']);
    expect(e).toBe('error: missing arguments: IFACE MAC');
    expect(h).toBe('hint: see kubectl vnet mac set --help');
  });

  it('a value that is not one of the options', async () => {
    const [e] = await usage(['link', 'set', 'web', 'blue', 'sideways']);
    expect(e).toBe('error: Expected sideways to be one of: up, down');
    const [e2] = await usage(['status', '-o', 'xml']);
    expect(e2).toBe('error: Expected --output=xml to be one of: table, wide, json, yaml');
  });

  it('a missing required flag', async () => {
    const [e] = await usage(['hotplug', 'add', 'web']);
    expect(e).toBe('error: Missing required flag network');
  });

  it('--as-group without --as says what to add', async () => {
    const [e, h] = await usage(['status', '--as-group', 'team-a']);
    expect(e).toMatch(/^error: --as-group needs --as/);
    expect(h).toMatch(/--as USER/);
  });
});
