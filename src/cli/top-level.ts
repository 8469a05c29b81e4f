/**
 * Errors that happen before any command runs (oclif's own): an unknown command
 * becomes one `error:` line and one `hint:` line with exit code 2, like every
 * other usage error, instead of oclif's " ›   Error: command x:y not found".
 * Everything else goes to oclif's handler as before.
 */
import { Config, flush, handle, run, type Interfaces } from '@oclif/core';
import { ExitCode } from '../errors.js';
import { bindIO, processIO, type IO } from './io.js';

const BIN = 'kubectl vnet';

/** What unknownCommandLines knows of the command tree. */
export interface CommandTree {
  isCommand: (id: string) => boolean;
  isTopic?: (id: string) => boolean;
  /** Every command id (topic:command), for "did you mean". */
  ids?: readonly string[];
}

/**
 * The `error:` and `hint:` lines for an unknown command, or undefined for any other error.
 * oclif glues the words after a command without arguments to its id
 * (`macpool status team-a` is looked up as `macpool:status:team-a`): when a prefix of the
 * id is a command, the words after it are reported as unexpected arguments of that command.
 * Otherwise the unknown command is the words up to the first one that is not a topic
 * (`stauts demo` is the command "stauts" with an argument), with the nearest command suggested.
 */
export function unknownCommandLines(err: unknown, tree: CommandTree | ((id: string) => boolean) = () => false): [string, string] | undefined {
  const { isCommand, isTopic = () => false, ids = [] } = typeof tree === 'function' ? { isCommand: tree } : tree;
  const message = err instanceof Error ? err.message : '';
  const m = /^command (\S+) not found$/.exec(message);
  if (!m) return undefined;
  const parts = m[1].split(':');
  for (let k = parts.length - 1; k >= 1; k--) {
    const id = parts.slice(0, k).join(':');
    if (!isCommand(id)) continue;
    const words = parts.slice(0, k).join(' ');
    const extra = parts.slice(k);
    return [
      `error: unexpected argument${extra.length === 1 ? '' : 's'} for "${BIN} ${words}": ${extra.join(' ')}`,
      `hint: "${BIN} ${words}" takes no arguments (a namespace is -n NAMESPACE); see '${BIN} ${words} --help'`,
    ];
  }
  let depth = 1;
  while (depth < parts.length && isTopic(parts.slice(0, depth).join(':'))) depth++;
  const asked = parts.slice(0, depth).join(' ');
  const near = nearestCommand(asked, ids.map((id) => id.replaceAll(':', ' ')));
  const suggestion = near ? `did you mean "${BIN} ${near}"? ` : '';
  return [`error: unknown command "${asked}" for "${BIN}"`, `hint: ${suggestion}run '${BIN} --help' for the list of commands`];
}

/**
 * The command nearest to a mistyped one, as kubectl suggests: within two edits
 * (Levenshtein), or one that starts with what was typed; undefined when none is near.
 */
export function nearestCommand(asked: string, commands: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of commands) {
    const distance = name.startsWith(asked) ? 0 : editDistance(asked, name);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** `help [COMMAND...]` is `[COMMAND...] --help`, as in kubectl. */
export function helpArgv(argv: readonly string[]): string[] {
  return argv[0] === 'help' ? [...argv.slice(1), '--help'] : [...argv];
}

let pipeGuarded = false;

/** oclif's run + flush, with unknown commands reported as usage errors. */
export async function runTopLevel(argv: string[], options: Interfaces.LoadOptions | string, io: IO = processIO()): Promise<void> {
  // A reader that stops early (`| head`): end quietly, as kubectl does, instead of
  // an unhandled EPIPE or Node's "unsettled top-level await" warning.
  if (!pipeGuarded) {
    pipeGuarded = true;
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw err;
      });
    }
  }
  const unbind = bindIO(io);
  try {
    await run(helpArgv(argv), options);
    await flush();
  } catch (error) {
    // Only on this error path is the command list needed again (loading it up front would load oclif's config twice).
    const config = unknownCommandLines(error) ? await Config.load(options).catch(() => undefined) : undefined;
    const lines = unknownCommandLines(error, {
      isCommand: (id) => config?.findCommand(id) !== undefined,
      isTopic: (id) => config?.findTopic(id) !== undefined,
      ids: config?.commands.filter((c) => !c.hidden).map((c) => c.id) ?? [],
    });
    if (lines) {
      io.stderr.write(lines.join('\n') + '\n');
      io.setExitCode(ExitCode.usage);
      return;
    }
    await handle(error instanceof Error ? error : new Error(String(error)));
  } finally {
    unbind();
  }
}
