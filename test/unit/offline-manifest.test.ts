// The offline mode's manifest layer: golden files (test/fixtures/offline/golden/) for each planner
// applied to manifests with comments, key order, quoting, blank lines, block scalars, flow
// collections, several documents, JSON and List input; plus properties checked on every case:
// the result parses to exactly applyPatch(VM, plan.ops), and every other document is byte for byte
// the input. UPDATE_GOLDEN=1 rewrites the golden files (review the diff before committing).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { VnetError } from '../../src/errors.js';
import { listObjects, parseManifest, patchManifest, renderManifest, selectVMs, type Manifest } from '../../src/domain/manifest.js';
import { applyPatch, type EditPlan } from '../../src/domain/patch.js';
import { planHotplug, planLinkState, planUnplug } from '../../src/domain/hotplug.js';
import { planMacSet, planMacUnset } from '../../src/domain/mac-plan.js';
import type { VirtualMachine } from '../../src/domain/types.js';

const dir = path.resolve(import.meta.dirname, '..', 'fixtures', 'offline');
const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

function goldenText(name: string): string {
  return fs.readFileSync(path.join(dir, 'golden', name), 'utf8');
}

function golden(name: string, actual: string): void {
  const file = path.join(dir, 'golden', name);
  if (process.env.UPDATE_GOLDEN) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
  }
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}

/** The input split into documents' source text, by the parser's ranges (the first one takes the leading comments). */
function docTexts(text: string): string[] {
  const docs = parseAllDocuments(text);
  return docs.map((d, i) => text.slice(i === 0 ? 0 : docs[i - 1].range[2], d.range[2]));
}

/** Plans on one VM of a fixture, applies, and checks what holds for every edit; returns the output. */
function edit(fixture: string, vmName: string, plan: (vm: VirtualMachine) => EditPlan): { out: string; plan: EditPlan; m: Manifest } {
  const text = read(fixture);
  const m = parseManifest(text, fixture);
  const [t] = selectVMs(m, { name: vmName });
  const p = plan(t.vm);
  const out = patchManifest(m, t.ref, p.ops);
  // Semantics: the output is the input with exactly the patch applied.
  const expected = structuredClone(m.values);
  const after = applyPatch(t.vm, p.ops);
  if (t.ref.path.length === 0) expected[t.ref.doc] = after;
  else (expected[t.ref.doc] as { items: unknown[] }).items[t.ref.path[1] as number] = after;
  const reparsed = m.format === 'json' ? [JSON.parse(out)] : parseAllDocuments(out).map((d) => d.toJS());
  expect(reparsed).toEqual(expected);
  // Layout: every document but the edited one is byte for byte the input's.
  if (m.format === 'yaml') {
    const before = docTexts(text);
    const got = docTexts(out);
    expect(got).toHaveLength(before.length);
    before.forEach((d, i) => {
      if (i !== t.ref.doc) expect(got[i]).toBe(d);
    });
  }
  return { out, plan: p, m };
}

/** Lines of a that are not in b (a multiset difference): what an edit removed. */
function removedLines(a: string, b: string): string[] {
  const pool = new Map<string, number>();
  for (const l of b.split('\n')) pool.set(l, (pool.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of a.split('\n')) {
    const n = pool.get(l) ?? 0;
    if (n > 0) pool.set(l, n - 1);
    else out.push(l);
  }
  return out;
}

const vms = read('vms.yaml');

describe('YAML: edits keep everything not edited', () => {
  it('hotplug add appends an interface and a network at the lists\' own indentation, new MAC quoted for YAML 1.1 readers', () => {
    const { out } = edit('vms.yaml', 'web', (vm) => planHotplug(vm, { network: 'red-net', name: 'red', mac: '12:34:56:00:00:10' }));
    golden('vms.web.hotplug-add.yaml', out);
    expect(removedLines(vms, out)).toEqual([]);
    expect(out).toContain('              macAddress: "12:34:56:00:00:10"\n');
  });

  it('hotplug add on lists written without indentation and a flow network entry', () => {
    const { out } = edit('vms.yaml', 'db', (vm) => planHotplug(vm, { network: 'lab/red-net', name: 'red' }));
    golden('vms.db.hotplug-add.yaml', out);
    expect(removedLines(vms, out)).toEqual([]);
  });

  it('hotplug remove adds state: absent under the interface, after its last key', () => {
    const { out } = edit('vms.yaml', 'web', (vm) => planUnplug(vm, { name: 'blue' }));
    golden('vms.web.hotplug-remove.yaml', out);
    expect(removedLines(vms, out)).toEqual([]);
    expect(removedLines(out, vms)).toEqual(['              state: absent']);
  });

  it('link set down, then up again, gives back the input byte for byte', () => {
    const down = edit('vms.yaml', 'web', (vm) => planLinkState(vm, { name: 'blue', state: 'down' }));
    golden('vms.web.link-down.yaml', down.out);
    expect(removedLines(down.out, vms)).toEqual(['              state: down']);
    const m = parseManifest(down.out, 'x');
    const [t] = selectVMs(m, { name: 'web' });
    const up = planLinkState(t.vm, { name: 'blue', state: 'up' });
    const back = patchManifest(m, t.ref, up.ops);
    // "up" is written as state: up (KubeVirt's explicit value), only that line differs.
    expect(removedLines(back, vms)).toEqual(['              state: up']);
    expect(removedLines(vms, back)).toEqual([]);
  });

  it('mac set via netconf rewrites only the annotation value, keeping its single quotes and the comment above it', () => {
    const { out } = edit('vms.yaml', 'web', (vm) => planMacSet(vm, { iface: 'blue', mac: '02:00:00:aa:bb:02', via: 'netconf', force: false }, {}));
    golden('vms.web.mac-set-netconf.yaml', out);
    expect(removedLines(vms, out)).toEqual([`        netconf.kubevirt.io/macAddress: '[{"name":"blue","macAddress":"02:00:00:aa:bb:01"}]'`]);
    expect(removedLines(out, vms)).toEqual([`        netconf.kubevirt.io/macAddress: '[{"name":"blue","macAddress":"02:00:00:aa:bb:02"}]'`]);
  });

  it('mac set via spec keeps the double quotes of an existing macAddress', () => {
    const { out } = edit('vms.yaml', 'db', (vm) => planMacSet(vm, { iface: 'blue', mac: '02:00:00:00:00:11', via: 'spec', force: false }, {}));
    golden('vms.db.mac-set-spec.yaml', out);
    expect(removedLines(out, vms)).toEqual(['            macAddress: "02:00:00:00:00:11"']);
  });

  it('mac set via netconf on a VM without template metadata adds it, with both annotations', () => {
    const { out } = edit('vms.yaml', 'db', (vm) =>
      planMacSet(vm, { iface: 'blue', mac: '02:00:00:00:00:12', via: 'netconf', sidecarImage: { image: 'registry.example/netconf-hook-sidecar:v1', from: 'test' }, force: false }, {}),
    );
    golden('vms.db.mac-set-netconf.yaml', out);
    expect(removedLines(vms, out)).toEqual([]);
  });

  it('mac unset via netconf removes the annotation lines (and the sidecar), nothing else', () => {
    const { out } = edit('vms.yaml', 'web', (vm) => planMacUnset(vm, { iface: 'blue', via: 'netconf' }, {}));
    golden('vms.web.mac-unset-netconf.yaml', out);
    expect(removedLines(out, vms)).toEqual([]);
    expect(removedLines(vms, out)).toHaveLength(2);
    expect(out).toContain('        # the netconf sidecar reads this\n        example.com/owner: "team-a"\n\n    spec:\n');
  });

  it('mac unset via spec removes the macAddress line', () => {
    const { out } = edit('vms.yaml', 'db', (vm) => planMacUnset(vm, { iface: 'blue', via: 'spec' }, {}));
    golden('vms.db.mac-unset-spec.yaml', out);
    expect(removedLines(vms, out)).toEqual(['            macAddress: "02:00:00:00:00:10"']);
    expect(removedLines(out, vms)).toEqual([]);
  });

  it('keeps the cloud-init block scalar, the blank lines, the flow maps and the other documents verbatim', () => {
    const { out } = edit('vms.yaml', 'web', (vm) => planHotplug(vm, { network: 'red-net', name: 'red' }));
    const cloudInit = vms.slice(vms.indexOf('            userData: |'), vms.indexOf('---\napiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: db'));
    expect(cloudInit).toContain('\n\n              runcmd:');
    expect(out).toContain(cloudInit);
    expect(out.startsWith('# Lab VMs, synced by Argo CD. Edit with care.\n---\napiVersion: v1\nkind: ConfigMap\n')).toBe(true);
    expect(out).toContain('        cpu: {cores: 2}\n');
    expect(out.endsWith('# end of file\n')).toBe(true);
  });
});

describe('YAML: a changed value keeps the comment after it', () => {
  it('only the value is rewritten', () => {
    const m = parseManifest(vms, 'vms.yaml');
    const [t] = selectVMs(m, { name: 'web' });
    const out = patchManifest(m, t.ref, [{ op: 'replace', path: '/spec/template/spec/networks/1/multus/networkName', value: 'lab/green-net' }]);
    expect(removedLines(out, vms)).toEqual(['            networkName: lab/green-net   # NAD in the lab namespace']);
    expect(removedLines(vms, out)).toEqual(['            networkName: lab/blue-net   # NAD in the lab namespace']);
  });
});

describe('YAML: flow collections, block scalars, first keys, no final newline', () => {
  const edge = read('edge.yaml');

  it('an empty flow list becomes a block list (implicit default written out), the rest stays', () => {
    const { out } = edit('edge.yaml', 'flowy', (vm) => planHotplug(vm, { network: 'blue', name: 'blue' }));
    golden('edge.flowy.hotplug-add.yaml', out);
    expect(out).toContain('metadata: {name: flowy}\n');
  });

  it('a flow list with items stays a flow list', () => {
    const { out } = edit('edge.yaml', 'inline', (vm) => planLinkState(vm, { name: 'blue', state: 'down' }));
    golden('edge.inline.link-down.yaml', out);
    expect(out).toMatch(/interfaces: \[.*state: down.*\]\n/);
  });

  it('a block literal annotation stays a block literal, at its indentation', () => {
    const { out } = edit('edge.yaml', 'inline', (vm) => planMacSet(vm, { iface: 'blue', mac: '02:00:00:00:00:02', via: 'netconf', force: false }, {}));
    golden('edge.inline.mac-set-netconf.yaml', out);
    // The new value has no final newline (the old one had): "|-" says so.
    expect(out).toContain('        netconf.kubevirt.io/macAddress: |-\n          [{"name":"blue","macAddress":"02:00:00:00:00:02"}]\n        hooks.kubevirt.io/hookSidecars: >-\n');
  });

  it('removing the first key of a list item keeps the "- "', () => {
    const { out } = edit('edge.yaml', 'first-key', (vm) => planMacUnset(vm, { iface: 'blue', via: 'spec' }, {}));
    golden('edge.first-key.mac-unset-spec.yaml', out);
    expect(out).toContain('          interfaces:\n          - name: blue\n            bridge: {}\n');
  });

  it('appending at the end of a file without a final newline starts a new line', () => {
    const { out } = edit('edge.yaml', 'first-key', (vm) => planHotplug(vm, { network: 'red', name: 'red' }));
    golden('edge.first-key.hotplug-add.yaml', out);
    expect(edge.endsWith('\n')).toBe(false);
    expect(removedLines(edge, out)).toEqual([]);
    expect(out.endsWith('        name: blue\n      - name: red\n        multus:\n          networkName: red\n')).toBe(true);
  });
});

describe('line ends', () => {
  it('a file with Windows line ends keeps them, new lines included', () => {
    const crlf = vms.replaceAll('\n', '\r\n');
    const m = parseManifest(crlf, 'crlf.yaml');
    const [t] = selectVMs(m, { name: 'web' });
    const out = patchManifest(m, t.ref, planHotplug(t.vm, { network: 'red-net', name: 'red', mac: '12:34:56:00:00:10' }).ops);
    expect(out).toBe(goldenText('vms.web.hotplug-add.yaml').replaceAll('\n', '\r\n'));
  });
});

describe('JSON and List input', () => {
  it('JSON is patched and written with its own indentation and key order', () => {
    const text = read('vm.json');
    const { out } = edit('vm.json', 'api', (vm) => planHotplug(vm, { network: 'blue-net', name: 'blue' }));
    golden('vm.hotplug-add.json', out);
    expect(out).toContain('\n    "apiVersion"');
    expect(Object.keys(JSON.parse(out).metadata.labels)).toEqual(['zeta', 'alpha']);
    expect(Object.keys(JSON.parse(out).spec.template.spec)).toEqual(['networks', 'domain']);
    expect(out.endsWith('}\n')).toBe(text.endsWith('}\n'));
  });

  it('a kind: List document: the VM is found among the items and edited in place', () => {
    const { out, m } = edit('list.yaml', 'two', (vm) => planHotplug(vm, { network: 'blue-net', name: 'blue' }));
    golden('list.two.hotplug-add.yaml', out);
    expect(listObjects(m).map((o) => o.ref.path)).toEqual([
      ['items', 0],
      ['items', 1],
    ]);
  });

  it('a List VM with an empty devices map gets its lists (and the implicit default) added', () => {
    const { out } = edit('list.yaml', 'one', (vm) => planHotplug(vm, { network: 'blue-net', name: 'blue' }));
    golden('list.one.hotplug-add.yaml', out);
  });
});

describe('finding VMs', () => {
  const m = parseManifest(vms, 'vms.yaml');

  it('a VM that is not in the file is not found, and the error lists those that are', () => {
    let err: unknown;
    try {
      selectVMs(m, { name: 'nope' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VnetError);
    expect((err as VnetError).code).toBe('notFound');
    expect((err as VnetError).message).toBe('virtualmachine "nope" not found in vms.yaml');
    expect((err as VnetError).hint).toBe('the VirtualMachines in it are: lab/web, lab/db');
  });

  it('only VirtualMachines count: a ConfigMap of that name is not a VM', () => {
    expect(() => selectVMs(m, { name: 'lab-settings' })).toThrow(/not found/);
  });

  it('-n filters by namespace; a VM of another namespace is not found', () => {
    expect(selectVMs(m, { name: 'web', namespace: 'lab' })).toHaveLength(1);
    expect(() => selectVMs(m, { name: 'web', namespace: 'prod' })).toThrow(/namespace "prod"/);
  });

  it('two VMs of one name in different namespaces need -n', () => {
    const two = parseManifest('apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: a, namespace: x}\n---\napiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: a, namespace: y}\n', 'f');
    expect(() => selectVMs(two, { name: 'a' })).toThrow(/2 VirtualMachines named "a"/);
    expect(selectVMs(two, { name: 'a', namespace: 'y' })[0].ref.doc).toBe(1);
  });

  it('--all picks every VM, in file order; the edits of all land in one output', () => {
    const all = selectVMs(m, { all: true });
    expect(all.map((t) => t.vm.metadata.name)).toEqual(['web', 'db']);
    const out = renderManifest(
      m,
      all.map((t) => ({ ref: t.ref, after: applyPatch(t.vm, planLinkState(t.vm, { name: 'blue', state: 'down' }).ops) })),
    );
    golden('vms.all.link-down.yaml', out);
    expect(removedLines(out, vms)).toEqual(['              state: down', '            state: down']);
    expect(removedLines(vms, out)).toEqual([]);
  });

  it('--all on a file without VMs is not found', () => {
    expect(() => selectVMs(parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n', 'cm.yaml'), { all: true })).toThrow(/cm.yaml has no VirtualMachine/);
  });

  it('no edits: the text comes back as it was', () => {
    expect(renderManifest(m, [])).toBe(vms);
    const t = selectVMs(m, { name: 'web' })[0];
    expect(renderManifest(m, [{ ref: t.ref, after: t.vm }])).toBe(vms);
  });

  it('invalid YAML is a usage error naming the line', () => {
    let err: unknown;
    try {
      parseManifest('a: 1\nb: [1,\nc: 3\n', 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect((err as VnetError).code).toBe('usage');
    expect((err as VnetError).message).toMatch(/^bad\.yaml: not valid YAML at line \d+/);
  });

  it('a duplicate key is refused rather than silently dropped', () => {
    expect(() => parseManifest('a: 1\na: 2\n', 'dup.yaml')).toThrow(/not valid YAML/);
  });
});

describe('every kind of edit at every place of the fixtures', () => {
  // For each node of each document: replace scalars (with values that need quoting, numbers,
  // multi-line text, a type change), add and remove keys, append, insert and remove list items.
  // The output must parse to exactly the patched value, and every other document must stay as it was.
  type Op = { label: string; ops: import('../../src/domain/patch.js').JsonPatchOp[] };
  function opsAt(value: unknown, p: string): Op[] {
    if (Array.isArray(value)) {
      const out: Op[] = [
        { label: 'append', ops: [{ op: 'add', path: `${p}/-`, value: { name: 'n', bridge: {} } }] },
        { label: 'insert first', ops: [{ op: 'add', path: `${p}/0`, value: 'first: item' }] },
      ];
      if (value.length > 0) out.push({ label: 'remove first', ops: [{ op: 'remove', path: `${p}/0` }] }, { label: 'remove last', ops: [{ op: 'remove', path: `${p}/${value.length - 1}` }] });
      return out;
    }
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      const out: Op[] = [{ label: 'add key', ops: [{ op: 'add', path: `${p}/new~1key`, value: { a: [1, 'two'], b: 'yes' } }] }];
      if (keys.length > 0) {
        out.push({ label: 'remove first key', ops: [{ op: 'remove', path: `${p}/${keys[0].replaceAll('~', '~0').replaceAll('/', '~1')}` }] });
        out.push({ label: 'remove last key', ops: [{ op: 'remove', path: `${p}/${keys[keys.length - 1].replaceAll('~', '~0').replaceAll('/', '~1')}` }] });
      }
      return out;
    }
    if (p === '') return [];
    return [
      { label: 'quoted string', ops: [{ op: 'replace', path: p, value: 'x: y # not a comment' }] },
      { label: 'number', ops: [{ op: 'replace', path: p, value: 42 }] },
      { label: 'multi-line', ops: [{ op: 'replace', path: p, value: 'line one\nline two\n' }] },
      { label: 'to map', ops: [{ op: 'replace', path: p, value: { k: 'v' } }] },
      { label: 'to list', ops: [{ op: 'replace', path: p, value: ['a', { b: 1 }] }] },
    ];
  }
  function walk(value: unknown, p: string, out: { path: string; op: Op }[]): void {
    for (const op of opsAt(value, p)) out.push({ path: p, op });
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${p}/${i}`, out));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${p}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`, out);
  }

  for (const fixture of ['vms.yaml', 'edge.yaml', 'list.yaml']) {
    it(fixture, () => {
      const text = read(fixture);
      const m = parseManifest(text, fixture);
      const before = docTexts(text);
      let cases = 0;
      m.values.forEach((docValue, doc) => {
        const all: { path: string; op: Op }[] = [];
        walk(docValue, '', all);
        for (const { path: p, op } of all) {
          const after = applyPatch(docValue, op.ops);
          const out = renderManifest(m, [{ ref: { doc, path: [] }, after }]);
          const what = `${fixture} document ${doc + 1} ${p || '/'}: ${op.label}`;
          const reparsed = parseAllDocuments(out);
          for (const d of reparsed) expect(d.errors, what).toEqual([]);
          const expected = [...m.values];
          expected[doc] = after;
          expect(reparsed.map((d) => d.toJS()), what).toEqual(expected);
          const got = docTexts(out);
          before.forEach((d, i) => {
            if (i !== doc) expect(got[i], what).toBe(d);
          });
          cases++;
        }
      });
      expect(cases).toBeGreaterThan(100);
    }, 60_000);

    it(`${fixture}: three edits at once, at places picked pseudo-randomly`, () => {
      const text = read(fixture);
      const m = parseManifest(text, fixture);
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      let cases = 0;
      m.values.forEach((docValue, doc) => {
        const all: { path: string; op: Op }[] = [];
        walk(docValue, '', all);
        for (let k = 0; k < 150; k++) {
          const ops = [all[rand(all.length)], all[rand(all.length)], all[rand(all.length)]].flatMap((x) => x.op.ops);
          let after: unknown;
          try {
            after = applyPatch(docValue, ops);
          } catch {
            continue; // an earlier op removed what a later one edits
          }
          const out = renderManifest(m, [{ ref: { doc, path: [] }, after }]);
          const what = `${fixture} document ${doc + 1}: ${JSON.stringify(ops)}`;
          const reparsed = parseAllDocuments(out);
          for (const d of reparsed) expect(d.errors, what).toEqual([]);
          const expected = [...m.values];
          expected[doc] = after;
          expect(reparsed.map((d) => d.toJS()), what).toEqual(expected);
          cases++;
        }
      });
      expect(cases).toBeGreaterThan(100);
    }, 60_000);
  }
});
