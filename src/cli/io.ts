/**
 * The streams a command reads and writes, injected: the process's own in the
 * executable, buffers in tests. Nothing outside src/cli touches process.stdout
 * or process.stderr; the core and the presenters get text sinks from here.
 */
import type { Readable } from 'node:stream';

export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface IO {
  stdout: OutStream;
  stderr: OutStream;
  stdin: Readable | NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  setExitCode(code: number): void;
}

export function processIO(): IO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}

/**
 * The IO of the run under way: runTopLevel binds it for the length of one run
 * (oclif builds the command objects itself, so it cannot be handed to them).
 */
let current: IO | undefined;

export function bindIO(io: IO): () => void {
  const previous = current;
  current = io;
  return () => {
    current = previous;
  };
}

export function currentIO(): IO {
  return current ?? processIO();
}

/** An IO over strings, for tests and for callers that want the text. */
export function bufferIO(opts: { stdin?: string; env?: NodeJS.ProcessEnv; tty?: boolean } = {}): IO & { out: () => string; err: () => string; exitCode: () => number | undefined } {
  let out = '';
  let err = '';
  let code: number | undefined;
  const stdin = (async function* () {
    if (opts.stdin !== undefined) yield Buffer.from(opts.stdin);
  })();
  return {
    stdout: { write: (t: string) => (out += t), isTTY: opts.tty },
    stderr: { write: (t: string) => (err += t), isTTY: opts.tty },
    stdin: stdin as unknown as NodeJS.ReadableStream,
    env: opts.env ?? {},
    setExitCode: (c) => {
      code = c;
    },
    out: () => out,
    err: () => err,
    exitCode: () => code,
  };
}
