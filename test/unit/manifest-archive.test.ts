// The release archives' writers and readers (scripts/archive.mjs): round
// trips, reproducible bytes, and archives that the system's own tar and
// Python's zipfile read (where installed), plus the executable-format check.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { readArchive, readTarGz, readZip, tarGz, zip } from '../../scripts/archive.mjs';
// @ts-expect-error plain ESM script without types
import { binaryFormat } from '../../scripts/release.mjs';
import { tempDirs } from '../support/tmp.js';

const tmp = tempDirs();


const entries = [
  { name: 'kubectl-vnet', data: Buffer.concat([Buffer.from('#!/bin/sh\n'), Buffer.alloc(70_000, 7)]), mode: 0o755 },
  { name: 'LICENSE', data: Buffer.from('Apache License\n'), mode: 0o644 },
  { name: 'empty', data: Buffer.alloc(0), mode: 0o644 },
];
const mtime = 1_795_321_083;

describe('tar.gz', () => {
  it('round-trips names, modes and bytes, and is reproducible', () => {
    const a = tarGz(entries, mtime);
    expect(tarGz(entries, mtime).equals(a)).toBe(true);
    const back = readTarGz(a);
    expect(back.map((e: any) => [e.name, e.mode, e.data.length])).toEqual(entries.map((e) => [e.name, e.mode, e.data.length]));
    expect(back[0].data.equals(entries[0].data)).toBe(true);
  });

  it('is read by the system tar with modes and times', () => {
    const dir = tmp('vnet-tar-');
    writeFileSync(path.join(dir, 'a.tar.gz'), tarGz(entries, mtime));
    execFileSync('tar', ['xzf', 'a.tar.gz'], { cwd: dir });
    expect(readFileSync(path.join(dir, 'kubectl-vnet')).equals(entries[0].data)).toBe(true);
    expect(statSync(path.join(dir, 'kubectl-vnet')).mode & 0o777).toBe(0o755);
    expect(Math.floor(statSync(path.join(dir, 'LICENSE')).mtimeMs / 1000)).toBe(mtime);
  });

  it('rejects a corrupted header', () => {
    const a = tarGz(entries, mtime);
    const raw = gunzipSync(a);
    raw[10] ^= 1;
    expect(() => readTarGz(gzipSync(raw))).toThrow(/checksum/);
  });
});

describe('zip', () => {
  it('round-trips and checks CRC-32', () => {
    const z = zip(entries, mtime);
    expect(zip(entries, mtime).equals(z)).toBe(true);
    const back = readZip(z);
    expect(back.map((e: any) => [e.name, e.mode, e.data.length])).toEqual(entries.map((e) => [e.name, e.mode, e.data.length]));
    expect(readArchive('x.zip', z)[1].data.toString()).toBe('Apache License\n');
    const bad = Buffer.from(z);
    bad[30 + 'kubectl-vnet'.length + 5] ^= 0xff; // inside the first entry's compressed data
    expect(() => readZip(bad)).toThrow();
  });

  it("is read by Python's zipfile (where Python is installed)", () => {
    const py = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' });
    if (py.status !== 0) return; // no python3 here; the round trip above still holds
    const dir = tmp('vnet-zip-');
    writeFileSync(path.join(dir, 'a.zip'), zip(entries, mtime));
    const out = execFileSync('python3', ['-c', 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip()); print([(i.filename, i.file_size, oct(i.external_attr >> 16)) for i in z.infolist()])', path.join(dir, 'a.zip')], { encoding: 'utf8' });
    expect(out).toBe("None\n[('kubectl-vnet', 70010, '0o100755'), ('LICENSE', 15, '0o100644'), ('empty', 0, '0o100644')]\n");
  });
});

describe('binaryFormat', () => {
  it('tells ELF, Mach-O and PE executables and their CPUs apart', () => {
    const elf = Buffer.alloc(64);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf.writeUInt16LE(183, 18);
    expect(binaryFormat(elf)).toEqual({ os: 'linux', arch: 'arm64' });
    const macho = Buffer.alloc(64);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x01000007, 4);
    expect(binaryFormat(macho)).toEqual({ os: 'darwin', arch: 'amd64' });
    const pe = Buffer.alloc(256);
    pe.write('MZ', 0, 'latin1');
    pe.writeUInt32LE(0x80, 0x3c);
    pe.write('PE\0\0', 0x80, 'latin1');
    pe.writeUInt16LE(0x8664, 0x84);
    expect(binaryFormat(pe)).toEqual({ os: 'windows', arch: 'amd64' });
    expect(binaryFormat(Buffer.from('#!/bin/sh\n'.padEnd(64)))).toEqual({ os: 'unknown', arch: 'unknown' });
  });
});
