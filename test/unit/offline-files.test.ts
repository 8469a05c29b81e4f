// The offline mode's file handling and desired view: which command lines select the file mode,
// reading -f FILE / stdin, atomic --in-place writes (mode kept, symlinks followed, a failure at any
// step leaves the file as it was and no temporary file behind), and `status -f --local`'s view.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VnetError } from '../../src/errors.js';
import { readManifestInput, writeFileAtomic, type AtomicFs } from '../../src/cli/file-mode.js';
import { desiredNetworkView, matchesSelector } from '../../src/domain/desired.js';
import { desiredTable } from '../../src/render/status.js';
import { parseManifest, selectVMs } from '../../src/domain/manifest.js';

const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures', 'offline');

describe('files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-offline-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads a file, or stdin for "-"', async () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'a: 1\n');
    expect(await readManifestInput(path.join(dir, 'a.yaml'))).toEqual({ text: 'a: 1\n', source: path.join(dir, 'a.yaml') });
    expect(await readManifestInput('-', Readable.from([Buffer.from('b: '), Buffer.from('2\n')]))).toEqual({ text: 'b: 2\n', source: 'stdin' });
  });

  it('a missing file is a usage error that names it', async () => {
    const err = await readManifestInput(path.join(dir, 'nope.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VnetError);
    expect((err as VnetError).code).toBe('usage');
    expect((err as VnetError).message).toContain('nope.yaml: no such file');
  });

  it('writes atomically, keeping the file mode, leaving no temporary file', async () => {
    const f = path.join(dir, 'vm.yaml');
    fs.writeFileSync(f, 'old\n');
    fs.chmodSync(f, 0o640);
    await writeFileAtomic(f, 'new\n');
    expect(fs.readFileSync(f, 'utf8')).toBe('new\n');
    expect(fs.statSync(f).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(dir)).toEqual(['vm.yaml']);
  });

  it('through a symlink, the target is replaced and the link stays a link', async () => {
    fs.mkdirSync(path.join(dir, 'real'));
    const target = path.join(dir, 'real', 'vm.yaml');
    fs.writeFileSync(target, 'old\n');
    const link = path.join(dir, 'link.yaml');
    fs.symlinkSync(target, link);
    await writeFileAtomic(link, 'new\n');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toBe('new\n');
  });

  it('a failed rename leaves the file as it was and removes the temporary file', async () => {
    const f = path.join(dir, 'vm.yaml');
    fs.writeFileSync(f, 'old\n');
    const failing: AtomicFs = {
      open: fs.promises.open,
      rm: fs.promises.rm,
      rename: async () => {
        throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
      },
    };
    const err = await writeFileAtomic(f, 'new\n', failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VnetError);
    expect((err as VnetError).message).toContain('(left unchanged)');
    expect(fs.readFileSync(f, 'utf8')).toBe('old\n');
    expect(fs.readdirSync(dir)).toEqual(['vm.yaml']);
  });

  it('a folder that refuses the temporary file is a permission error, the file unchanged', async () => {
    const f = path.join(dir, 'vm.yaml');
    fs.writeFileSync(f, 'old\n');
    const denied: AtomicFs = {
      open: async () => {
        throw Object.assign(new Error(`EACCES: permission denied, open '${dir}/.vm.yaml.tmp'`), { code: 'EACCES' });
      },
      rm: fs.promises.rm,
      rename: fs.promises.rename,
    };
    const err = await writeFileAtomic(f, 'new\n', denied).catch((e: unknown) => e);
    expect((err as VnetError).code).toBe('forbidden');
    expect(fs.readFileSync(f, 'utf8')).toBe('old\n');
    expect(fs.readdirSync(dir)).toEqual(['vm.yaml']);
  });

  it('a write that fails half way (disk full) leaves the file and no temporary file', async () => {
    const f = path.join(dir, 'vm.yaml');
    fs.writeFileSync(f, 'old\n');
    const full: AtomicFs = {
      open: async (...a: Parameters<typeof fs.promises.open>) => {
        const fh = await fs.promises.open(...a);
        fh.writeFile = async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        };
        return fh;
      },
      rm: fs.promises.rm,
      rename: fs.promises.rename,
    };
    const err = await writeFileAtomic(f, 'new\n', full).catch((e: unknown) => e);
    expect((err as VnetError).message).toContain('ENOSPC');
    expect(fs.readFileSync(f, 'utf8')).toBe('old\n');
    expect(fs.readdirSync(dir)).toEqual(['vm.yaml']);
  });
});

describe('desired view (status -f --local)', () => {
  const view = (file: string, name: string) => {
    const m = parseManifest(fs.readFileSync(path.join(fixtures, file), 'utf8'), file);
    return desiredNetworkView(selectVMs(m, { name })[0].vm, file);
  };

  it('a valid VM: interfaces, bindings, networks, link states, desired MACs, valid annotations, no warnings', () => {
    const v = view('vms.yaml', 'web');
    expect(v.warnings).toEqual([]);
    expect(v.interfaces.map((i) => [i.name, i.binding, i.network, i.state, i.desiredMac, i.desiredMacSource, i.model])).toEqual([
      ['default', 'masquerade', 'pod', 'up', null, null, null],
      ['blue', 'bridge', 'lab/blue-net', 'up', '02:00:00:aa:bb:01', 'netconf', 'virtio'],
    ]);
    expect(v.annotations).toEqual([
      { name: 'netconf.kubevirt.io/macAddress', valid: true, detail: '1 entry' },
      { name: 'hooks.kubevirt.io/hookSidecars', valid: true, detail: '1 sidecar: netconf' },
    ]);
    expect(v.skipped.join(' ')).toMatch(/NetworkAttachmentDefinitions.*Sidecar.*kubemacpool.*collisions/);
  });

  it('every check that needs no cluster', () => {
    const v = view('invalid.yaml', 'broken');
    expect(v.warnings.map((w) => w.code).sort()).toEqual([
      'duplicate-mac',
      'interface-without-network',
      'interface-without-network',
      'invalid-mac',
      'invalid-model',
      'invalid-name',
      'invalid-state',
      'invalid-state',
      'netconf-unknown-interface',
      'netconf-without-sidecar',
      'network-without-interface',
    ]);
    const msg = v.warnings.map((w) => w.message).join('\n');
    expect(msg).toContain('interfaces "blue" and "red" want the same MAC 02:00:00:00:00:aa');
    expect(msg).toContain('interface "vf": KubeVirt cannot set the link state of an SR-IOV interface');
    expect(msg).toContain('interface "default": state absent (unplug) is allowed for bridge interfaces only, not masquerade');
    expect(msg).toContain('the netconf annotation names interface "ghost"');
  });

  it('the implicit default network and a malformed hook sidecars annotation', () => {
    const v = view('invalid.yaml', 'bare');
    expect(v.interfaces).toEqual([{ name: 'default', binding: 'bridge', network: 'pod', state: 'up', desiredMac: null, desiredMacSource: null, model: null, implicit: true }]);
    expect(v.annotations[0]).toMatchObject({ name: 'hooks.kubevirt.io/hookSidecars', valid: false });
    expect(v.warnings.map((w) => w.code)).toEqual(['malformed-annotation']);
  });

  it('-o json matches schemas/vm-desired-network.schema.json (one VM, and a List)', () => {
    const schema = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', 'schemas', 'vm-desired-network.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const views = [view('vms.yaml', 'web'), view('vms.yaml', 'db'), view('invalid.yaml', 'broken'), view('invalid.yaml', 'bare')];
    for (const v of views) expect(validate(JSON.parse(JSON.stringify(v))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(JSON.parse(JSON.stringify({ kind: 'List', items: views })))).toBe(true);
    expect(validate({ ...views[0], extra: 1 })).toBe(false);
  });

  it('table rows', () => {
    const { headers, rows } = desiredTable([view('vms.yaml', 'web')], { wide: false });
    expect(headers).toEqual(['VM', 'INTERFACE', 'BINDING', 'NETWORK', 'LINK', 'DESIRED-MAC']);
    expect(rows).toEqual([
      ['web', 'default', 'masquerade', 'pod', 'up', '<none>'],
      ['web', 'blue', 'bridge', 'lab/blue-net', 'up', '02:00:00:aa:bb:01 (netconf)'],
    ]);
  });

  it.each([
    ['app=web', { app: 'web' }, true],
    ['app=web', { app: 'db' }, false],
    ['app!=web', {}, true],
    ['app', { app: 'x' }, true],
    ['!app', { app: 'x' }, false],
    ['app in (web,db),tier notin (x)', { app: 'db', tier: 'y' }, true],
    ['app in (web,db),tier notin (x)', { app: 'db', tier: 'x' }, false],
  ])('selector %s on %j -> %s', (sel, labels, want) => {
    expect(matchesSelector(sel, labels)).toBe(want);
  });
});
