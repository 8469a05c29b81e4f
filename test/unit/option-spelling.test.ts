// The domain names the options of a request by their field names; the command layer spells them.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flagSpelling, option, spellOptions, VnetError } from '../../src/errors.js';
import { planMacSet } from '../../src/domain/mac-plan.js';
import { refusalOf, testVM } from '../support/vm.js';
import { vnet } from '../support/in-process.js';

describe('option references', () => {
  it('are spelled as kubectl flags unless a command spells them otherwise', () => {
    expect(flagSpelling('sidecarImage')).toBe('--sidecar-image');
    expect(spellOptions(`pass ${option('force')} or ${option('sidecarImage')} IMAGE`)).toBe('pass --force or --sidecar-image IMAGE');
    const err = new VnetError('usage', `${option('network')} is bad`, { hint: `use ${option('binding')} bridge` });
    expect(err.message).toBe('--network is bad');
    expect(err.hint).toBe('use --binding bridge');
    expect(err.spelled((n) => `<${n}>`)).toEqual({ message: '<network> is bad', hint: 'use <binding> bridge' });
  });

  it('a domain refusal names the option, not the flag', () => {
    const err = refusalOf(() => planMacSet(testVM({ bridges: { blue: 'blue-net' } }), { iface: 'blue', mac: '02:00:00:00:00:01', via: 'netconf', force: false }, {}));
    expect(err.hint).toContain('pass --sidecar-image IMAGE');
    expect(err.spelled((n) => `[${n}]`).hint).toContain('pass [sidecarImage] IMAGE');
  });

  it('the command prints the spelled message', async () => {
    const vms = new URL('../fixtures/offline/vms.yaml', import.meta.url).pathname;
    const r = await vnet(['hotplug', 'add', 'web', '--network', '/blue', '-f', vms, '--local']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --network "/blue" is not a NetworkAttachmentDefinition name\nhint: write it as NAME or NAMESPACE/NAME\n');
  });

  it('src/domain writes no flag into a message of a refusal', () => {
    const dir = new URL('../../src/domain/', import.meta.url);
    for (const file of readdirSync(dir)) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      for (const call of text.matchAll(/\b(?:refused|usageError|new OptRefusal|new VnetError)\(([\s\S]*?)\);/g)) {
        // Whole command lines (`kubectl vnet status ...`) are advice about another command, not a flag of this one.
        const withoutCommands = call[1].replace(/kubectl [^`'"]*/g, '');
        expect(withoutCommands, `${file}: ${call[0].slice(0, 120)}`).not.toMatch(/(^|[\s(`'"])--[a-z]/);
      }
    }
  });
});
