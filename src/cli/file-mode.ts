/**
 * The offline (GitOps) mode of the write commands: `-f FILE --local` reads
 * VirtualMachine manifests from a file (or `-f -` for stdin), runs the
 * command's own planner on each VM it names (the cluster facts absent: the
 * planners skip those checks and say which in a note), and writes the
 * result to stdout, or back to the file with `--in-place`, atomically.
 *
 * A command adds `...fileModeFlags` to its flags and, first thing in run():
 *
 *   if (wantsFileMode(this.argv)) return runFileEdit(MyCommand, this.argv, (input) => (vm) => planX(vm, ..., {}));
 *
 * This module stays light: the manifest code (and yaml) is imported when used.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Args, Flags, Parser } from '@oclif/core';
import { usageError, VnetError } from '../errors.js';
import type { EditPlan } from '../domain/patch.js';
import type { VirtualMachine } from '../domain/types.js';

const FILE_GROUP = 'FILE MODE (no cluster)';

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

const FILE_FLAGS = new Set(['-f', '--filename', '--local', '--in-place', '--all']);

/** True when the command line asks for the file mode (any of its flags), so run() can branch before its cluster parse. */
export function wantsFileMode(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (FILE_FLAGS.has(a) || a.startsWith('--filename=') || (a.startsWith('-f') && !a.startsWith('--'))) return true;
  }
  return false;
}

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

// --- parsing ----------------------------------------------------------------------

interface CommandSpec {
  flags?: Record<string, unknown>;
  baseFlags?: Record<string, unknown>;
  args?: Record<string, { description?: string; required?: boolean; options?: readonly string[] }>;
}

type Flagged = Record<string, unknown> & { filename?: string; local?: boolean; 'in-place'?: boolean; all?: boolean; namespace?: string };

/**
 * Parses argv with the command's own flags; the positional arguments are
 * taken in order, the first one (the VM) left out with --all.
 */
async function parseFileMode(cmd: CommandSpec, argv: readonly string[], opts: { vmArgOptional: boolean }): Promise<{ args: Record<string, string | undefined>; flags: Flagged }> {
  const defs = cmd.args ?? {};
  const names = Object.keys(defs);
  const loose: Record<string, ReturnType<typeof Args.string>> = {};
  // ignoreStdin: oclif would read a missing argument from stdin, which may be the manifest itself (-f -).
  for (const n of names) loose[n] = Args.string({ description: defs[n].description, required: false, ignoreStdin: true });
  const out = await Parser.parse([...argv], { flags: { ...(cmd.baseFlags ?? {}), ...(cmd.flags ?? {}) } as never, args: loose, strict: true });
  const flags = out.flags as Flagged;
  const given = names.map((n) => (out.args as Record<string, string | undefined>)[n]).filter((v): v is string => v !== undefined);
  if (!flags.filename) {
    throw usageError('--local, --in-place and --all work on a manifest file, and no -f FILE was given', 'add -f FILE (or -f - for stdin); without them the command edits the VM in the cluster');
  }
  if (!flags.local) {
    if (opts.vmArgOptional) {
      throw usageError(`-f ${flags.filename} needs --local: this command reads a manifest file only with --local (no cluster is read)`, 'add --local to show the desired view of the file; without -f it reads the cluster');
    }
    throw usageError(`-f ${flags.filename} needs --local: this command edits a manifest file only with --local (nothing is sent to a cluster)`, `add --local to edit the file; to change the live VM, drop -f (and apply the file with kubectl apply -f ${flags.filename})`);
  }
  const vmName = names[0];
  const wanted = flags.all ? names.slice(1) : names;
  if (given.length > wanted.length) {
    throw usageError(`too many arguments: ${given.slice(wanted.length).join(' ')}`, flags.all ? '--all edits every VirtualMachine in the file: leave out the VM name' : undefined);
  }
  const args: Record<string, string | undefined> = {};
  wanted.forEach((n, i) => (args[n] = given[i]));
  for (const n of wanted) {
    const d = defs[n];
    const v = args[n];
    if (v === undefined) {
      if (d.required && !(n === vmName && opts.vmArgOptional)) {
        throw usageError(`missing argument ${n.toUpperCase()}${n === vmName ? ' (the VirtualMachine name)' : ''}`, n === vmName ? 'name the VM, or pass --all for every VirtualMachine in the file' : undefined);
      }
      continue;
    }
    if (d.options && !d.options.includes(v)) throw usageError(`argument ${n.toUpperCase()} must be one of ${d.options.join(', ')}, not "${v}"`);
  }
  return { args, flags };
}

// --- edits ------------------------------------------------------------------------

export interface FileEditInput {
  args: Record<string, string | undefined>;
  flags: Flagged;
  /** Every VirtualMachine in the file (for checks that need no cluster, e.g. MAC collisions within the file). */
  fileVMs: VirtualMachine[];
  source: string;
}

export type FilePlanner = (vm: VirtualMachine) => EditPlan | Promise<EditPlan>;

/** One VM's line and notes, as printed. */
function vmRef(vm: VirtualMachine): string {
  return `virtualmachine.kubevirt.io/${vm.metadata.name}`;
}

/**
 * The file mode of a write command: parse, read, plan every selected VM with
 * the command's planner (a refusal for any VM changes nothing), write.
 * `build` turns the parsed arguments into the planner.
 */
export async function runFileEdit(cmd: CommandSpec, argv: readonly string[], build: (input: FileEditInput) => FilePlanner | Promise<FilePlanner>): Promise<void> {
  const { args, flags } = await parseFileMode(cmd, argv, { vmArgOptional: false });
  const file = flags.filename as string;
  const dryRun = flags['dry-run'];
  if (dryRun === 'server') throw usageError('--dry-run=server needs a cluster; with -f FILE --local nothing is sent anywhere', 'drop --dry-run (the result goes to stdout unless --in-place), or use --dry-run=client');
  if (flags.wait) throw usageError('--wait watches a running VM and needs a cluster; it cannot be used with -f FILE --local');
  const output = flags.output as string | undefined;
  if (output === 'json' || output === 'yaml') {
    throw usageError(`-o ${output} cannot be used with -f FILE --local: the result is the manifest itself, in its own format`, 'drop -o (the edited manifest goes to stdout), or use -o name with --in-place');
  }
  if (output === 'name' && !flags['in-place']) throw usageError('-o name with -f FILE --local needs --in-place: without it, stdout is the edited manifest');
  if (flags['in-place'] && file === '-') throw usageError('--in-place needs a file: stdin cannot be written back', 'drop --in-place (the result goes to stdout), or name the file with -f FILE');

  const [{ parseManifest, selectVMs, listObjects, isVirtualMachine, renderManifest }, { applyPatch }] = await Promise.all([import('../domain/manifest.js'), import('../domain/patch.js')]);
  const { text, source } = await readManifestInput(file);
  const manifest = parseManifest(text, source);
  const ns = flags.namespace;
  const targets = selectVMs(manifest, { name: args[Object.keys(cmd.args ?? {})[0]], namespace: ns, all: Boolean(flags.all) });
  const fileVMs = listObjects(manifest)
    .filter((o) => isVirtualMachine(o.object))
    .map((o) => structuredClone(o.object) as unknown as VirtualMachine);
  const planFor = await build({ args, flags, fileVMs, source });

  const changes: { ref: (typeof targets)[number]['ref']; after: unknown }[] = [];
  const results: { vm: VirtualMachine; plan: EditPlan }[] = [];
  for (const t of targets) {
    // A VM without a namespace is planned in -n's (as kubectl apply would put it), without writing it in.
    const injected = !t.vm.metadata.namespace && ns !== undefined;
    if (injected) t.vm.metadata.namespace = ns;
    let plan: EditPlan;
    try {
      plan = await planFor(t.vm);
    } catch (err) {
      if (err instanceof VnetError && targets.length > 1) {
        throw new VnetError(err.code, `virtualmachine "${t.vm.metadata.name}" in ${source}: ${err.message}; nothing was written`, { hint: err.hint, cause: err });
      }
      throw err;
    }
    results.push({ vm: t.vm, plan });
    if (plan.noop || plan.ops.length === 0) continue;
    const after = applyPatch(t.vm, plan.ops);
    if (injected) delete after.metadata.namespace;
    changes.push({ ref: t.ref, after });
  }
  const result = renderManifest(manifest, changes);

  const many = results.length > 1;
  const notes: string[] = [];
  const lines: string[] = [];
  const where = flags['in-place'] && dryRun !== 'client' ? ` in ${source}` : '';
  for (const { vm, plan } of results) {
    const who = many ? `${vm.metadata.name}: ` : '';
    const verb = plan.noop || plan.ops.length === 0 ? 'unchanged' : 'edited';
    lines.push(output === 'name' ? `${vmRef(vm)} ${verb}${where}` : `${vmRef(vm)} ${verb}${where}: ${plan.summary}`);
    for (const w of plan.warnings) notes.push(`Warning: ${who}${w.message}`);
    for (const n of plan.notes) notes.push(`Note: ${who}${n}`);
  }
  const err = (l: string) => process.stderr.write(l + '\n');
  if (flags['in-place'] && dryRun !== 'client') {
    if (result !== text) await writeFileAtomic(file, result);
    for (const n of notes) err(n);
    process.stdout.write(lines.map((l) => l + '\n').join(''));
    return;
  }
  for (const l of lines) err(l);
  for (const n of notes) err(n);
  if (flags['in-place']) err(`Note: ${source} was not written (--dry-run=client); the result is on stdout`);
  process.stdout.write(result);
}

// --- status -------------------------------------------------------------------------

/** `status -f FILE --local [NAME]`: the desired network view of the manifest's VMs, no cluster. */
export async function runFileStatus(cmd: CommandSpec, argv: readonly string[]): Promise<void> {
  const { args, flags } = await parseFileMode(cmd, argv, { vmArgOptional: true });
  if (flags['all-namespaces']) throw usageError('-A reads a cluster; with -f FILE --local the VMs are the ones in the file');
  const [{ parseManifest, selectVMs }, { desiredNetworkView, desiredTable }] = await Promise.all([import('../domain/manifest.js'), import('../domain/desired.js')]);
  const { text, source } = await readManifestInput(flags.filename as string);
  const manifest = parseManifest(text, source);
  let name = args[Object.keys(cmd.args ?? {})[0]];
  if (name && name.includes('/')) {
    const [kind, rest] = [name.slice(0, name.indexOf('/')).toLowerCase(), name.slice(name.indexOf('/') + 1)];
    if (!['vm', 'vms', 'virtualmachine', 'virtualmachines'].includes(kind)) throw usageError(`only VirtualMachines are read from a file, not "${kind}"`, 'use NAME or vm/NAME');
    name = rest;
  }
  let vms = selectVMs(manifest, { name, namespace: flags.namespace, all: !name });
  if (typeof flags.selector === 'string' && flags.selector) {
    const { matchesSelector } = await import('../domain/desired.js');
    vms = vms.filter((v) => matchesSelector(flags.selector as string, v.vm.metadata.labels ?? {}));
  }
  const items = vms.map((v) => desiredNetworkView(v.vm, source));
  const format = flags.output as string;
  if (format === 'json' || format === 'yaml') {
    const { formatDocument } = await import('../render/output.js');
    process.stdout.write(formatDocument(name ? items[0] : { kind: 'List', items }, format));
    return;
  }
  if (items.length === 0) {
    process.stderr.write(`No VirtualMachines in ${source} match\n`);
    return;
  }
  const { renderTable } = await import('../render/table.js');
  const { headers, rows } = desiredTable(items, { wide: format === 'wide' });
  process.stdout.write(renderTable(headers, rows));
  for (const it of items) {
    // A malformed annotation is a warning (below); a valid one gets a note.
    for (const a of it.annotations) if (a.valid) process.stderr.write(`Note: ${it.name}: annotation ${a.name} is valid (${a.detail})\n`);
    for (const w of it.warnings) process.stderr.write(`Warning: ${it.name}: ${w.message}\n`);
  }
  process.stderr.write(`Note: read from ${source} only; not checked without a cluster: ${items[0].skipped.join('; ')}\n`);
}
