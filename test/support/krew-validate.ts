// Checks a krew plugin manifest the way krew's validation does
// (pkg/index/validation and cmd/validate-krew-manifest, re-implemented here
// from their rules), plus krew-index's review rules (description width, a
// license in every archive) and, when archives are given, their sha256 and
// contents. It lets the unit tests check manifests without Go; krew itself
// installs the release in test/cli/krew.test.ts.
import path from 'node:path';
import { parse } from 'yaml';
// @ts-expect-error plain ESM script without types
import { readArchive, sha256 } from '../../scripts/archive.mjs';

/** The <os, arch> pairs krew installs on (GOOS/GOARCH names). */
export const KREW_PLATFORMS: [string, string][] = [
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
  ['linux', '386'],
  ['linux', 'amd64'],
  ['linux', 'arm'],
  ['linux', 'arm64'],
  ['linux', 'ppc64le'],
  ['linux', 's390x'],
  ['windows', '386'],
  ['windows', 'amd64'],
  ['windows', 'arm64'],
];

const WINDOWS_RESERVED = ['CON', 'PRN', 'AUX', 'NUL', ...Array.from({ length: 9 }, (_, i) => `COM${i + 1}`), ...Array.from({ length: 9 }, (_, i) => `LPT${i + 1}`)];

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface Platform {
  selector?: Selector;
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: { from: string; to: string }[];
}

/** Semantic version with a leading v, as krew's semver.Parse accepts. */
export function isKrewVersion(v: unknown): boolean {
  return typeof v === 'string' && /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/.test(v);
}

/** Label selector semantics (matchLabels AND matchExpressions) on {os, arch}. */
export function selectorMatches(sel: Selector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    const val = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(val)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(val)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Lines longer than `max` that contain a space (krew tolerates one long word). */
function longLines(text: string, max: number): string[] {
  return text.split('\n').filter((l) => l.length > max && l.trim().includes(' '));
}

/**
 * The errors of a manifest; empty when valid. `archives` maps archive file
 * names (the last part of each uri) to their bytes; when given, every
 * platform's archive must be there, match its sha256, hold its bin and a
 * license file.
 */
export function validateKrewManifest(text: string, fileName: string, archives?: Map<string, Buffer>): string[] {
  const errors: string[] = [];
  let doc: any;
  try {
    doc = parse(text);
  } catch (err) {
    return [`not YAML: ${(err as Error).message}`];
  }
  const ext = path.extname(fileName);
  if (ext !== '.yaml') errors.push(`manifest extension must be .yaml, not ${ext}`);
  const name = path.basename(fileName, ext);
  if (doc?.apiVersion !== 'krew.googlecontainertools.github.com/v1alpha2') errors.push(`apiVersion ${doc?.apiVersion} is not krew.googlecontainertools.github.com/v1alpha2`);
  if (doc?.kind !== 'Plugin') errors.push(`kind ${doc?.kind} is not Plugin`);
  if (!/^[\w-]+$/.test(name) || WINDOWS_RESERVED.includes(name.toUpperCase())) errors.push(`plugin name ${name} is not allowed`);
  if (doc?.metadata?.name !== name) errors.push(`metadata.name ${doc?.metadata?.name} differs from the file name ${name}`);
  const spec = doc?.spec ?? {};
  if (!spec.version) errors.push('spec.version is missing');
  else if (!isKrewVersion(spec.version)) errors.push(`spec.version ${spec.version} is not a semantic version with a leading v`);
  if (typeof spec.shortDescription !== 'string' || spec.shortDescription.trim() === '') errors.push('spec.shortDescription is missing');
  else if (spec.shortDescription.length > 50) errors.push(`spec.shortDescription is ${spec.shortDescription.length} characters (at most 50)`);
  if (typeof spec.description !== 'string' || spec.description.trim() === '') errors.push('spec.description is missing');
  else for (const l of longLines(spec.description, 80)) errors.push(`spec.description line over 80 columns: ${l}`);
  if (typeof spec.caveats === 'string') for (const l of longLines(spec.caveats, 80)) errors.push(`spec.caveats line over 80 columns: ${l}`);
  if (typeof spec.homepage !== 'string' || !/^https?:\/\//.test(spec.homepage)) errors.push('spec.homepage must be a URL');
  const platforms: Platform[] = Array.isArray(spec.platforms) ? spec.platforms : [];
  if (platforms.length === 0) errors.push('spec.platforms is empty');
  platforms.forEach((p, i) => {
    const at = `spec.platforms[${i}]`;
    if (!p.uri) errors.push(`${at}.uri is missing`);
    if (!p.sha256) errors.push(`${at}.sha256 is missing`);
    else if (!/^[a-f0-9]{64}$/.test(p.sha256)) errors.push(`${at}.sha256 ${p.sha256} is not 64 lowercase hex digits`);
    if (!p.bin) errors.push(`${at}.bin is missing`);
    if (!Array.isArray(p.files) || p.files.length === 0) errors.push(`${at}.files is empty`);
    const sel = p.selector;
    if (!sel) errors.push(`${at}.selector is missing`);
    else {
      const labels = sel.matchLabels;
      const exprs = sel.matchExpressions;
      if ((!labels || Object.keys(labels).length === 0) && (!exprs || exprs.length === 0)) errors.push(`${at}.selector is empty`);
      const keys = [...Object.keys(labels ?? {}), ...(exprs ?? []).map((e) => e.key)];
      for (const k of keys) if (k !== 'os' && k !== 'arch') errors.push(`${at}.selector key ${k} is not supported (only os and arch)`);
      if (!KREW_PLATFORMS.some(([os, arch]) => selectorMatches(sel, { os, arch }))) errors.push(`${at}.selector matches no platform krew supports`);
    }
  });
  for (const [os, arch] of KREW_PLATFORMS) {
    const hits = platforms.map((p, i) => (p.selector && selectorMatches(p.selector, { os, arch }) ? i : -1)).filter((i) => i >= 0);
    if (hits.length > 1) errors.push(`spec.platforms ${hits.join(', ')} overlap on ${os}/${arch}`);
  }
  if (archives) {
    platforms.forEach((p, i) => {
      const at = `spec.platforms[${i}]`;
      const file = p.uri ? decodeURIComponent(new URL(p.uri).pathname.split('/').pop() ?? '') : '';
      const data = archives.get(file);
      if (!data) {
        errors.push(`${at}: archive ${file} was not built`);
        return;
      }
      if (sha256(data) !== p.sha256) errors.push(`${at}: sha256 ${p.sha256} differs from the archive's ${sha256(data)}`);
      let entries: { name: string; mode: number }[];
      try {
        entries = readArchive(file, data);
      } catch (err) {
        errors.push(`${at}: ${file} cannot be read: ${(err as Error).message}`);
        return;
      }
      const names = entries.map((e) => e.name.replace(/^\.\//, ''));
      if (p.bin && !names.includes(p.bin)) errors.push(`${at}: bin ${p.bin} is not in ${file}`);
      const bin = entries.find((e) => e.name.replace(/^\.\//, '') === p.bin);
      if (bin && !file.endsWith('.zip') && (bin.mode & 0o111) === 0) errors.push(`${at}: bin ${p.bin} is not executable in ${file}`);
      if (!names.some((n) => /^(LICENSE|LICENCE|COPYING)(\.(md|txt))?$/i.test(path.basename(n)))) errors.push(`${at}: no license file in ${file}`);
      for (const f of p.files ?? []) {
        if (!f.from.includes('*') && !names.includes(f.from.replace(/^\.\//, ''))) errors.push(`${at}: files.from ${f.from} is not in ${file}`);
      }
    });
  }
  return errors;
}
