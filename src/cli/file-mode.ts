/**
 * The file mode (-f FILE --local) of the commands that read or edit
 * VirtualMachine manifests: its flags, and reading and writing the file.
 * The file mode is an option of each command's one path (see edit-command.ts
 * and the status command), not a second runtime.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { usageError, VnetError } from '../errors.js';

export const FILE_GROUP = 'FILE MODE (no cluster)';

/** -f and --local: what every command with a file mode takes (status too). */
export const fileReadFlags = {
  filename: Flags.string({ char: 'f', description: 'Read VirtualMachine manifests from this file (YAML or JSON, several documents; - for stdin) instead of the cluster; needs --local', helpGroup: FILE_GROUP }),
  local: Flags.boolean({ description: 'Work on the -f manifest only: nothing is read from or sent to a cluster', default: false, helpGroup: FILE_GROUP }),
};

/** The flags of the write commands' file mode. */
export const fileModeFlags = {
  ...fileReadFlags,
  'in-place': Flags.boolean({ description: 'With -f FILE --local: write the result back to FILE (atomically; a failure leaves it as it was) instead of stdout', default: false, helpGroup: FILE_GROUP }),
  all: Flags.boolean({ description: 'With -f FILE --local: edit every VirtualMachine in the file (leave out the VM argument)', default: false, helpGroup: FILE_GROUP }),
};

// --- files -------------------------------------------------------------------------

/** Reads -f FILE, or stdin for "-". */
export async function readManifestInput(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<{ text: string; source: string }> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return { text: Buffer.concat(chunks).toString('utf8'), source: 'stdin' };
  }
  try {
    return { text: await fsp.readFile(file, 'utf8'), source: file };
  } catch (err) {
    throw fileError(err, `cannot read ${file}`);
  }
}

function fileError(err: unknown, what: string): VnetError {
  const code = (err as NodeJS.ErrnoException).code;
  const msg = (err as Error).message;
  if (code === 'ENOENT') return usageError(`${what}: no such file`, 'check the path given with -f');
  if (code === 'EISDIR') return usageError(`${what}: it is a directory`, '-f takes one manifest file (or - for stdin)');
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new VnetError('forbidden', `${what}: ${msg}`, { hint: 'check the file and folder permissions', cause: err });
  return new VnetError('internal', `${what}: ${msg}`, { cause: err });
}

/** The file system calls writeFileAtomic uses; tests pass failing ones. */
export interface AtomicFs {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  rm: typeof fsp.rm;
}

/**
 * Replaces a file's content atomically: a temporary file in the same folder
 * (same mode), flushed, then renamed over the file (through a symlink, the
 * target is replaced). On any failure the temporary file is removed and the
 * file is as it was.
 */
export async function writeFileAtomic(file: string, text: string, fs: AtomicFs = fsp): Promise<void> {
  let target: string;
  let mode: number;
  try {
    target = await fsp.realpath(file);
    mode = (await fsp.stat(target)).mode & 0o7777;
  } catch (err) {
    throw fileError(err, `cannot write ${file}`);
  }
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.vnet-tmp`);
  let created = false;
  try {
    const fh = await fs.open(tmp, 'wx', mode);
    created = true;
    try {
      await fh.writeFile(text, 'utf8');
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, target);
  } catch (err) {
    if (created) await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw fileError(err, `cannot write ${file} (left unchanged)`);
  }
}
