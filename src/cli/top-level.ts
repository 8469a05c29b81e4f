/**
 * Errors that happen before any command runs (oclif's own): an unknown command
 * becomes one `error:` line and one `hint:` line with exit code 2, like every
 * other usage error, instead of oclif's " ›   Error: command x:y not found".
 * Everything else goes to oclif's handler as before.
 */
import { Config, flush, handle, run, type Interfaces } from '@oclif/core';
import { ExitCode } from '../errors.js';

const BIN = 'kubectl vnet';

/**
 * The `error:` and `hint:` lines for an unknown command, or undefined for any other error.
 * oclif glues the words after a command without arguments to its id
 * (`macpool status team-a` is looked up as `macpool:status:team-a`): when a prefix of the
 * id is a command, the words after it are reported as unexpected arguments of that command.
 */
export function unknownCommandLines(err: unknown, isCommand: (id: string) => boolean = () => false): [string, string] | undefined {
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
  return [`error: unknown command "${parts.join(' ')}" for "${BIN}"`, `hint: run '${BIN} --help' for the list of commands`];
}

/** oclif's run + flush, with unknown commands reported as usage errors. */
export async function runTopLevel(argv: string[], options: Interfaces.LoadOptions | string): Promise<void> {
  // A reader that stops early (`| head`): end quietly, as kubectl does, instead of
  // an unhandled EPIPE or Node's "unsettled top-level await" warning.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  try {
    await run(argv, options);
    await flush();
  } catch (error) {
    // Only on this error path is the command list needed again (loading it up front would load oclif's config twice).
    const known = unknownCommandLines(error) ? await Config.load(options).catch(() => undefined) : undefined;
    const lines = unknownCommandLines(error, (id) => known?.findCommand(id) !== undefined);
    if (lines) {
      process.stderr.write(lines.join('\n') + '\n');
      process.exitCode = ExitCode.usage;
      return;
    }
    await handle(error instanceof Error ? error : new Error(String(error)));
  }
}
