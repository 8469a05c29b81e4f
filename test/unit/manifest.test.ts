// The krew manifest: the committed plugin-manifest/vnet.yaml passes krew's
// validation rules; the validator itself rejects each kind of mistake; the
// release script's manifest writer produces what krew accepts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateKrewManifest } from '../support/krew-validate.js';
// @ts-expect-error plain ESM script without types
import { CAVEATS, DESCRIPTION, manifestYaml, PLATFORMS, RELEASE_INPUTS, SHORT_DESCRIPTION, archiveName, binName, sourceDateEpoch } from '../../scripts/release.mjs';
// @ts-expect-error plain ESM script without types
import { sha256, tarGz, zip } from '../../scripts/archive.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const manifestFile = path.join(root, 'plugin-manifest', 'vnet.yaml');
const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('plugin-manifest/vnet.yaml', () => {
  const text = readFileSync(manifestFile, 'utf8');
  const doc = parse(text);

  it('passes krew validation', () => {
    expect(validateKrewManifest(text, manifestFile)).toEqual([]);
  });

  it('is the package version and names what the cluster needs', () => {
    expect(doc.spec.version).toBe(`v${pjson.version}`);
    expect(doc.spec.caveats).toMatch(/KubeVirt/);
    expect(doc.spec.caveats).toMatch(/Multus/);
    expect(doc.spec.caveats).toMatch(/kubemacpool/);
    expect(doc.spec.caveats).toMatch(/netconf/);
  });

  it('offers linux and darwin amd64/arm64 and windows amd64', () => {
    const pairs = doc.spec.platforms.map((p: any) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`).sort();
    expect(pairs).toEqual(['darwin/amd64', 'darwin/arm64', 'linux/amd64', 'linux/arm64', 'windows/amd64']);
    for (const p of doc.spec.platforms) {
      const { os, arch } = p.selector.matchLabels;
      expect(p.uri).toMatch(new RegExp(`/releases/download/v${pjson.version.replace(/\./g, '\\.')}/kubectl-vnet_${pjson.version.replace(/\./g, '\\.')}_${os}_${arch}\\.(tar\\.gz|zip)$`));
      expect(p.bin).toBe(os === 'windows' ? 'kubectl-vnet.exe' : 'kubectl-vnet');
      const files = p.files.map((f: any) => f.from).sort();
      expect(files).toEqual(os === 'windows' ? ['LICENSE', 'kubectl-vnet.exe'] : ['LICENSE', 'kubectl-vnet', 'kubectl_complete-vnet']);
    }
  });
});

describe('the krew validator', () => {
  const good = readFileSync(manifestFile, 'utf8');
  const mutate = (fn: (d: any) => void) => {
    const d = parse(good);
    fn(d);
    return JSON.stringify(d); // JSON is YAML
  };
  const cases: [string, (d: any) => void, RegExp][] = [
    ['a name other than the file name', (d) => (d.metadata.name = 'vnet2'), /differs from the file name/],
    ['a version without v', (d) => (d.spec.version = pjson.version), /semantic version/],
    ['a version that is not semver', (d) => (d.spec.version = 'v1.2'), /semantic version/],
    ['a short description over 50', (d) => (d.spec.shortDescription = 'x'.repeat(30) + ' ' + 'y'.repeat(20)), /at most 50/],
    ['a description line over 80', (d) => (d.spec.description = 'word '.repeat(20)), /over 80 columns/],
    ['an uppercase sha256', (d) => (d.spec.platforms[0].sha256 = d.spec.platforms[0].sha256.toUpperCase()), /lowercase hex/],
    ['a short sha256', (d) => (d.spec.platforms[0].sha256 = 'abc'), /lowercase hex/],
    ['an empty selector', (d) => (d.spec.platforms[0].selector = { matchLabels: {} }), /selector is empty/],
    ['a selector key other than os/arch', (d) => (d.spec.platforms[0].selector.matchLabels.distro = 'debian'), /key distro is not supported/],
    ['two platforms for one os/arch', (d) => d.spec.platforms.push(structuredClone(d.spec.platforms[0])), /overlap on/],
    ['an os-only selector overlapping an os/arch one', (d) => d.spec.platforms.push({ ...structuredClone(d.spec.platforms[0]), selector: { matchLabels: { os: 'linux' } } }), /overlap on linux\/amd64/],
    ['a selector krew never matches', (d) => (d.spec.platforms[0].selector.matchLabels.arch = 'mips'), /matches no platform/],
    ['no platforms', (d) => (d.spec.platforms = []), /platforms is empty/],
    ['no bin', (d) => delete d.spec.platforms[0].bin, /bin is missing/],
    ['a wrong apiVersion', (d) => (d.apiVersion = 'krew.googlecontainertools.github.com/v1alpha1'), /apiVersion/],
  ];
  for (const [what, fn, msg] of cases) {
    it(`rejects ${what}`, () => {
      const errors = validateKrewManifest(mutate(fn), manifestFile);
      expect(errors.join('\n')).toMatch(msg);
    });
  }

  it('checks sha256, bin, executable bit and license against the archives', () => {
    const license = Buffer.from('Apache License 2.0\n');
    const bin = Buffer.from('#!/bin/sh\necho fake\n');
    const platforms = PLATFORMS.filter((p: any) => p.krew);
    const build = (p: any, entries: any[]) => (p.os === 'windows' ? zip(entries, 1_700_000_000) : tarGz(entries, 1_700_000_000));
    const archives = new Map<string, Buffer>();
    const results = platforms.map((p: any) => {
      const data = build(p, [
        { name: binName(p), data: bin, mode: 0o755 },
        { name: 'LICENSE', data: license },
      ]);
      archives.set(archiveName(p), data);
      return { ...p, archive: archiveName(p), sha256: sha256(data), bin: binName(p) };
    });
    const text = manifestYaml(results);
    expect(validateKrewManifest(text, '/x/vnet.yaml', archives)).toEqual([]);

    // A rebuilt archive no longer matches the manifest.
    const linux = archiveName(platforms[0]);
    const noLicense = new Map(archives);
    noLicense.set(linux, build(platforms[0], [{ name: binName(platforms[0]), data: bin, mode: 0o755 }]));
    const errs = validateKrewManifest(text, '/x/vnet.yaml', noLicense).join('\n');
    expect(errs).toMatch(/sha256 .* differs/);
    expect(errs).toMatch(/no license file/);

    const notExec = new Map(archives);
    notExec.set(linux, build(platforms[0], [{ name: binName(platforms[0]), data: bin, mode: 0o644 }, { name: 'LICENSE', data: license }]));
    expect(validateKrewManifest(text, '/x/vnet.yaml', notExec).join('\n')).toMatch(/not executable/);

    const noBin = new Map(archives);
    noBin.set(linux, build(platforms[0], [{ name: 'LICENSE', data: license }]));
    expect(validateKrewManifest(text, '/x/vnet.yaml', noBin).join('\n')).toMatch(/bin kubectl-vnet is not in/);

    const missing = new Map(archives);
    missing.delete(linux);
    expect(validateKrewManifest(text, '/x/vnet.yaml', missing).join('\n')).toMatch(/was not built/);
  });

  it('the texts fit krew: short description <= 50, description and caveats wrapped at 80', () => {
    expect(SHORT_DESCRIPTION.length).toBeLessThanOrEqual(50);
    for (const l of `${DESCRIPTION}\n${CAVEATS}`.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });
});

describe("the archives' file time (reproducible releases)", () => {
  it('is SOURCE_DATE_EPOCH when set, and refuses what tar and zip cannot hold', () => {
    expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1796180992' })).toBe(1796180992);
    expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/SOURCE_DATE_EPOCH must be whole seconds/);
    expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: '0' })).toThrow(/from 1980 on/);
  });

  it('else the time of the last commit that changed an input of the archives, which all exist', () => {
    const t = sourceDateEpoch({});
    expect(Number.isInteger(t)).toBe(true);
    expect(t).toBeGreaterThan(1_700_000_000);
    expect(t * 1000).toBeLessThanOrEqual(Date.now());
    for (const input of RELEASE_INPUTS) expect(existsSync(path.join(root, input)), input).toBe(true);
    // Not the manifest, nor documentation or tests: committing those must leave the archives as they are.
    expect(RELEASE_INPUTS.filter((i: string) => /^(plugin-manifest|test|README|docs|bench)/.test(i))).toEqual([]);
  });
});
