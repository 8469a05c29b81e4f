/**
 * Progress on stderr while --wait watches: a spinner on a TTY without NO_COLOR
 * and without a machine-readable -o, plain lines (one per state) otherwise.
 */
export interface Progress {
  update(state: string): void;
  /** Ends the spinner (if any) with a final line. */
  finish(line: string, ok: boolean): void;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export async function createProgress(label: string, opts: { machineOutput?: boolean; stream: ProgressStream; env: NodeJS.ProcessEnv }): Promise<Progress> {
  const { stream, env } = opts;
  // A terminal that reports no width (some pseudo-terminals) makes spinners misdraw: plain lines there too.
  const fancy = Boolean(stream.isTTY) && (stream.columns ?? 0) > 0 && env.NO_COLOR === undefined && !opts.machineOutput;
  if (fancy) {
    const { default: ora } = await import('ora');
    // Whether to draw is decided above (ora alone would also stop drawing whenever CI is set).
    const spinner = ora({ text: `${label}: waiting`, stream: stream as NodeJS.WritableStream, discardStdin: false, isEnabled: true }).start();
    return {
      update: (state) => {
        spinner.text = `${label}: ${state}`;
      },
      finish: (line, ok) => (ok ? spinner.succeed(line) : spinner.fail(line)),
    };
  }
  return {
    update: (state) => {
      stream.write(`${label}: ${state}\n`);
    },
    finish: () => undefined,
  };
}
