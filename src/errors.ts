/**
 * Every error the tool expects is a VnetError: a message that says what
 * happened, a hint that says what to do, and one exit code from ExitCode.
 * The mapping to a process exit code happens in exactly one place
 * (BaseCommand.catch); nothing else calls process.exit.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  notFound: 3,
  forbidden: 4,
  precondition: 5,
  timeout: 6,
  unreachable: 7,
  checksFailed: 8,
  interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export class VnetError extends Error {
  readonly code: ExitCodeName;
  readonly hint?: string;
  /** Server-side detail kept verbatim (reason, status code). */
  readonly reason?: string;
  readonly status?: number;

  constructor(code: ExitCodeName, message: string, opts: { hint?: string; reason?: string; status?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VnetError';
    this.code = code;
    this.hint = opts.hint;
    this.reason = opts.reason;
    this.status = opts.status;
  }

  get exitCode(): number {
    return ExitCode[this.code];
  }
}

export function usageError(message: string, hint?: string): VnetError {
  return new VnetError('usage', message, { hint });
}

export function refused(message: string, hint?: string): VnetError {
  return new VnetError('precondition', message, { hint });
}
