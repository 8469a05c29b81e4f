// Ad-hoc code signing of a thin 64-bit Mach-O executable, written from Apple's
// code signature format (xnu's osfmk/kern/cs_blobs.h: SuperBlob,
// CodeDirectory, Requirements), so that macOS runs the darwin single
// executables: injecting the SEA blob drops Node's Developer ID signature and
// arm64 macOS refuses unsigned code. What `codesign --sign -` would write:
// a SuperBlob with a CodeDirectory (SHA-256 of every 4 KiB page up to the
// signature, identifier, exec segment = __TEXT), an empty Requirements set
// and an empty CMS wrapper (ad-hoc: no certificate).
// `readSignature` parses a signature and recomputes its hashes, for tests.
import { createHash } from 'node:crypto';

const MH_MAGIC_64 = 0xfeedfacf;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSMAGIC_REQUIREMENTS = 0xfade0c01;
const CSMAGIC_BLOBWRAPPER = 0xfade0b01;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_REQUIREMENTS = 2;
const CSSLOT_SIGNATURESLOT = 0x10000;
const CS_ADHOC = 0x2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const CS_HASHTYPE_SHA256 = 2;
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const CPU_TYPE_ARM64 = 0x0100000c;

const sha256 = (b) => createHash('sha256').update(b).digest();

/** Load commands of a thin little-endian 64-bit Mach-O. */
export function parseMachO(buf) {
  if (buf.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a thin 64-bit little-endian Mach-O');
  const cputype = buf.readUInt32LE(4);
  const filetype = buf.readUInt32LE(12);
  const ncmds = buf.readUInt32LE(16);
  const sizeofcmds = buf.readUInt32LE(20);
  const cmds = [];
  let off = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(off);
    const size = buf.readUInt32LE(off + 4);
    const c = { cmd, size, off };
    if (cmd === LC_SEGMENT_64) {
      c.segname = buf.toString('latin1', off + 8, off + 24).replace(/\0.*$/s, '');
      c.vmaddr = buf.readBigUInt64LE(off + 24);
      c.vmsize = buf.readBigUInt64LE(off + 32);
      c.fileoff = Number(buf.readBigUInt64LE(off + 40));
      c.filesize = Number(buf.readBigUInt64LE(off + 48));
      c.nsects = buf.readUInt32LE(off + 64);
      c.sections = [];
      for (let s = 0; s < c.nsects; s++) {
        const so = off + 72 + s * 80;
        c.sections.push({ sectname: buf.toString('latin1', so, so + 16).replace(/\0.*$/s, ''), offset: buf.readUInt32LE(so + 48), size: Number(buf.readBigUInt64LE(so + 40)) });
      }
    } else if (cmd === LC_CODE_SIGNATURE) {
      c.dataoff = buf.readUInt32LE(off + 8);
      c.datasize = buf.readUInt32LE(off + 12);
    }
    cmds.push(c);
    off += size;
  }
  return { cputype, filetype, ncmds, sizeofcmds, cmds, endOfCommands: 32 + sizeofcmds };
}

function blob(magic, payload) {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt32BE(magic, 0);
  b.writeUInt32BE(b.length, 4);
  payload.copy(b, 8);
  return b;
}

/** Code slot hashes: SHA-256 of each page of buf[0, limit). */
function pageHashes(buf, limit) {
  const hashes = [];
  for (let p = 0; p < limit; p += PAGE) hashes.push(sha256(buf.subarray(p, Math.min(p + PAGE, limit))));
  return hashes;
}

function codeDirectory({ identifier, codeLimit, hashes, requirementsHash, execSegBase, execSegLimit, execSegFlags }) {
  const HEADER = 88; // CodeDirectory through execSegFlags (version 0x20400)
  const ident = Buffer.from(identifier + '\0', 'utf8');
  const nSpecial = 2; // -1 Info.plist (none), -2 Requirements
  const hashOffset = HEADER + ident.length + nSpecial * 32;
  const cd = Buffer.alloc(hashOffset + hashes.length * 32);
  cd.writeUInt32BE(CSMAGIC_CODEDIRECTORY, 0);
  cd.writeUInt32BE(cd.length, 4);
  cd.writeUInt32BE(0x20400, 8); // version
  cd.writeUInt32BE(CS_ADHOC, 12); // flags
  cd.writeUInt32BE(hashOffset, 16);
  cd.writeUInt32BE(HEADER, 20); // identOffset
  cd.writeUInt32BE(nSpecial, 24);
  cd.writeUInt32BE(hashes.length, 28); // nCodeSlots
  cd.writeUInt32BE(codeLimit, 32);
  cd.writeUInt8(32, 36); // hashSize
  cd.writeUInt8(CS_HASHTYPE_SHA256, 37);
  cd.writeUInt8(0, 38); // platform
  cd.writeUInt8(PAGE_SHIFT, 39);
  // 40 spare2, 44 scatterOffset, 48 teamOffset, 52 spare3, 56 codeLimit64: all 0
  cd.writeBigUInt64BE(BigInt(execSegBase), 64);
  cd.writeBigUInt64BE(BigInt(execSegLimit), 72);
  cd.writeBigUInt64BE(BigInt(execSegFlags), 80);
  ident.copy(cd, HEADER);
  requirementsHash.copy(cd, hashOffset - 2 * 32); // slot -2; slot -1 stays zero
  hashes.forEach((h, i) => h.copy(cd, hashOffset + i * 32));
  return cd;
}

function superBlob(entries) {
  const headerLen = 12 + entries.length * 8;
  const total = headerLen + entries.reduce((n, e) => n + e.data.length, 0);
  const sb = Buffer.alloc(total);
  sb.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, 0);
  sb.writeUInt32BE(total, 4);
  sb.writeUInt32BE(entries.length, 8);
  let off = headerLen;
  entries.forEach((e, i) => {
    sb.writeUInt32BE(e.type, 12 + i * 8);
    sb.writeUInt32BE(off, 16 + i * 8);
    e.data.copy(sb, off);
    off += e.data.length;
  });
  return sb;
}

const align = (n, a) => Math.ceil(n / a) * a;

/**
 * Returns an ad-hoc signed copy of a thin 64-bit Mach-O executable. An
 * existing signature is replaced; without one, an LC_CODE_SIGNATURE command
 * is added in the padding after the load commands. The signature goes at
 * the end of __LINKEDIT, which must be the last thing in the file.
 */
export function adhocSign(input, identifier) {
  const m = parseMachO(input);
  const linkedit = m.cmds.find((c) => c.segname === '__LINKEDIT');
  const text = m.cmds.find((c) => c.segname === '__TEXT');
  if (!linkedit || !text) throw new Error('no __LINKEDIT or __TEXT segment');
  let sigCmd = m.cmds.find((c) => c.cmd === LC_CODE_SIGNATURE);
  const end = sigCmd ? sigCmd.dataoff : linkedit.fileoff + linkedit.filesize;
  if (sigCmd && sigCmd.dataoff + sigCmd.datasize !== input.length) throw new Error('the code signature is not at the end of the file');
  if (!sigCmd && end !== input.length) throw new Error('__LINKEDIT is not at the end of the file');
  let buf = Buffer.from(input.subarray(0, end));
  if (!sigCmd) {
    const firstData = Math.min(...m.cmds.filter((c) => c.cmd === LC_SEGMENT_64).flatMap((c) => c.sections.filter((s) => s.offset > 0).map((s) => s.offset)));
    if (m.endOfCommands + 16 > firstData) throw new Error('no room for LC_CODE_SIGNATURE after the load commands');
    if (!buf.subarray(m.endOfCommands, m.endOfCommands + 16).every((b) => b === 0)) throw new Error('the padding after the load commands is not empty');
    buf.writeUInt32LE(LC_CODE_SIGNATURE, m.endOfCommands);
    buf.writeUInt32LE(16, m.endOfCommands + 4);
    buf.writeUInt32LE(m.ncmds + 1, 16);
    buf.writeUInt32LE(m.sizeofcmds + 16, 20);
    sigCmd = { off: m.endOfCommands };
  }
  // The signature starts 16-byte aligned at the end of __LINKEDIT.
  const codeLimit = align(end, 16);
  if (codeLimit > buf.length) buf = Buffer.concat([buf, Buffer.alloc(codeLimit - buf.length)]);
  const nPages = Math.ceil(codeLimit / PAGE);
  const requirements = blob(CSMAGIC_REQUIREMENTS, Buffer.alloc(4)); // count 0
  const identBytes = Buffer.byteLength(identifier) + 1;
  const cdLen = 88 + identBytes + 2 * 32 + nPages * 32;
  const cms = blob(CSMAGIC_BLOBWRAPPER, Buffer.alloc(0));
  const sigLen = 12 + 3 * 8 + cdLen + requirements.length + cms.length;
  const sigSize = align(sigLen, 16);
  // Header fields that the page hashes cover must be final before hashing.
  buf.writeUInt32LE(codeLimit, sigCmd.off + 8);
  buf.writeUInt32LE(sigSize, sigCmd.off + 12);
  const linkeditSize = codeLimit + sigSize - linkedit.fileoff;
  const vmPage = m.cputype === CPU_TYPE_ARM64 ? 0x4000 : 0x1000;
  buf.writeBigUInt64LE(BigInt(linkeditSize), linkedit.off + 48); // filesize
  buf.writeBigUInt64LE(BigInt(align(linkeditSize, vmPage)), linkedit.off + 32); // vmsize
  const cd = codeDirectory({
    identifier,
    codeLimit,
    hashes: pageHashes(buf, codeLimit),
    requirementsHash: sha256(requirements),
    execSegBase: text.fileoff,
    execSegLimit: text.filesize,
    execSegFlags: m.filetype === 2 ? CS_EXECSEG_MAIN_BINARY : 0,
  });
  if (cd.length !== cdLen) throw new Error('internal: CodeDirectory size');
  const sig = superBlob([
    { type: CSSLOT_CODEDIRECTORY, data: cd },
    { type: CSSLOT_REQUIREMENTS, data: requirements },
    { type: CSSLOT_SIGNATURESLOT, data: cms },
  ]);
  return Buffer.concat([buf, sig, Buffer.alloc(sigSize - sig.length)]);
}

/**
 * Parses the embedded signature and checks it against the file: every code
 * slot hash, the Requirements special slot, codeLimit = signature offset.
 * Returns the CodeDirectory's fields and the problems found (none when valid).
 */
export function readSignature(buf) {
  const m = parseMachO(buf);
  const sigCmd = m.cmds.find((c) => c.cmd === LC_CODE_SIGNATURE);
  if (!sigCmd) return { signed: false, problems: ['no LC_CODE_SIGNATURE'] };
  const sig = buf.subarray(sigCmd.dataoff, sigCmd.dataoff + sigCmd.datasize);
  const problems = [];
  if (sig.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) return { signed: false, problems: ['not an embedded signature SuperBlob'] };
  const count = sig.readUInt32BE(8);
  const slots = new Map();
  for (let i = 0; i < count; i++) {
    const type = sig.readUInt32BE(12 + i * 8);
    const off = sig.readUInt32BE(16 + i * 8);
    slots.set(type, sig.subarray(off, off + sig.readUInt32BE(off + 4)));
  }
  const cd = slots.get(CSSLOT_CODEDIRECTORY);
  if (!cd || cd.readUInt32BE(0) !== CSMAGIC_CODEDIRECTORY) return { signed: false, problems: ['no CodeDirectory'] };
  const f = {
    version: cd.readUInt32BE(8),
    flags: cd.readUInt32BE(12),
    hashOffset: cd.readUInt32BE(16),
    identOffset: cd.readUInt32BE(20),
    nSpecialSlots: cd.readUInt32BE(24),
    nCodeSlots: cd.readUInt32BE(28),
    codeLimit: cd.readUInt32BE(32),
    hashSize: cd.readUInt8(36),
    hashType: cd.readUInt8(37),
    pageSize: 1 << cd.readUInt8(39),
  };
  f.identifier = cd.toString('utf8', f.identOffset, cd.indexOf(0, f.identOffset));
  if (f.version >= 0x20400) {
    f.execSegBase = Number(cd.readBigUInt64BE(64));
    f.execSegLimit = Number(cd.readBigUInt64BE(72));
    f.execSegFlags = Number(cd.readBigUInt64BE(80));
  }
  if (f.hashType !== CS_HASHTYPE_SHA256 || f.hashSize !== 32) problems.push(`hash type ${f.hashType} size ${f.hashSize} (only SHA-256 checked)`);
  if (f.codeLimit !== sigCmd.dataoff) problems.push(`codeLimit ${f.codeLimit} is not the signature offset ${sigCmd.dataoff}`);
  if (f.nCodeSlots !== Math.ceil(f.codeLimit / f.pageSize)) problems.push(`${f.nCodeSlots} code slots for ${f.codeLimit} bytes`);
  let bad = 0;
  for (let i = 0; i < f.nCodeSlots; i++) {
    const page = buf.subarray(i * f.pageSize, Math.min((i + 1) * f.pageSize, f.codeLimit));
    if (!sha256(page).equals(cd.subarray(f.hashOffset + i * 32, f.hashOffset + (i + 1) * 32))) bad++;
  }
  if (bad) problems.push(`${bad} of ${f.nCodeSlots} page hashes differ`);
  const req = slots.get(CSSLOT_REQUIREMENTS);
  if (req && f.nSpecialSlots >= 2 && !sha256(req).equals(cd.subarray(f.hashOffset - 64, f.hashOffset - 32))) problems.push('requirements hash differs');
  const text = m.cmds.find((c) => c.segname === '__TEXT');
  if (f.version >= 0x20400 && text && (f.execSegBase !== text.fileoff || f.execSegLimit !== text.filesize)) problems.push('exec segment is not __TEXT');
  const linkedit = m.cmds.find((c) => c.segname === '__LINKEDIT');
  if (linkedit && linkedit.fileoff + linkedit.filesize !== sigCmd.dataoff + sigCmd.datasize) problems.push('__LINKEDIT does not end with the signature');
  if (sigCmd.dataoff + sigCmd.datasize !== buf.length) problems.push('the signature is not at the end of the file');
  return { signed: true, adhoc: (f.flags & CS_ADHOC) !== 0, slots: [...slots.keys()], ...f, problems };
}
