/**
 * Errors that happen before any command runs (oclif's own): an unknown command
 * becomes one `error:` line and one `hint:` line with exit code 2, like every
 * other usage error, instead of oclif's " ›   Error: command x:y not found".
 * Everything else goes to oclif's handler as before.
 */
import { flush, handle, run, type Interfaces } from '@oclif/core';
import { ExitCode } from '../errors.js';

const BIN = 'kubectl vnet';

/** The `error:` and `hint:` lines for an unknown command, or undefined for any other error. */
export function unknownCommandLines(err: unknown): [string, string] | undefined {
  const message = err instanceof Error ? err.message : '';
  const m = /^command (\S+) not found$/.exec(message);
  if (!m) return undefined;
  const words = m[1].split(':').join(' ');
  return [`error: unknown command "${words}" for "${BIN}"`, `hint: run '${BIN} --help' for the list of commands`];
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
    const lines = unknownCommandLines(error);
    if (lines) {
      process.stderr.write(lines.join('\n') + '\n');
      process.exitCode = ExitCode.usage;
      return;
    }
    await handle(error instanceof Error ? error : new Error(String(error)));
  }
}
