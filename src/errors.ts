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
  changeFailed: 9,
  partialFailure: 10,
  interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

/**
 * What each exit code means: the one table. The README's table is this one,
 * rendered by exitCodeTable() (a unit test compares them, and checks that the
 * errors the code raises carry the codes this table gives them).
 */
export const EXIT_CODES: readonly { code: ExitCodeName; title: string; when: string }[] = [
  { code: 'ok', title: 'ok', when: 'success' },
  { code: 'internal', title: 'internal', when: 'an unexpected error (a bug: run with `--debug` and report it), or a server 5xx' },
  {
    code: 'usage',
    title: 'usage',
    when:
      'bad flags or arguments (an unknown flag or command, a missing argument, a value not among the options); a value that does not parse (MAC, duration, `--network` reference, namespace name); ' +
      'connection overrides that cannot go together; impersonating groups, a UID or extra fields without a user',
  },
  {
    code: 'notFound',
    title: 'not found',
    when: 'a read command (`status`, `mac list`, `doctor`, `macpool`, `networks`) names a VM, VMI, namespace or NAD that does not exist (HTTP 404; for `networks NAD`, when no VM names it either), or `-f FILE --local` names a VM that is not in the file',
  },
  { code: 'forbidden', title: 'forbidden', when: 'HTTP 401/403; the hint names the verb, resource and namespace that are missing and the `kubectl auth can-i` line to check it' },
  {
    code: 'precondition',
    title: 'conflict or precondition failed',
    when:
      'a write command refused before sending anything: the VM, NAD or interface it needs does not exist, an interface `--name` is invalid or taken, or the edit would be rejected or would not work ' +
      '(the message says why and what to do); the server refused (400/422, admission); or a conflict (409, failed `test` op) persisted after the retries',
  },
  { code: 'timeout', title: 'timeout', when: '`--request-timeout` or `--timeout` ran out, or the server timed out (504)' },
  {
    code: 'unreachable',
    title: 'server unreachable',
    when:
      'no kubeconfig, a malformed kubeconfig, an unknown context, connection refused, DNS, TLS verification failure, 429/503 (after the retries that the answer\'s `Retry-After` asks for, at most 10, as client-go does); a proxy that cannot be reached, refuses the tunnel or does not open it in time ' +
      "(within `--request-timeout`, else 30 s), or a `proxy-url` kubectl would refuse",
  },
  { code: 'checksFailed', title: 'checks failed', when: '`kubectl vnet doctor` found at least one failing check' },
  {
    code: 'changeFailed',
    title: 'change failed',
    when:
      '`--wait` stopped early because the change failed on the cluster: the dynamic networks controller reported `FailedAddingInterface`, `FailedRemovingInterface` or `InterfaceAddRejected` for the interface, ' +
      "or KubeVirt's VM condition `Failure` with reason `HotPlugNetworkInterfaceError` stood for 10 s; with several VMs, for at least one of them (each VM's line says which), or the watch of its namespace was lost; the edit stays in place",
  },
  {
    code: 'partialFailure',
    title: 'partial failure',
    when: 'an edit of several VMs (several names, `-l`, `-A`) was refused or failed for at least one of them and done for the others; each VM\'s result says which and why, and a re-run does only what is missing',
  },
  { code: 'interrupted', title: 'interrupted', when: 'Ctrl-C (except `status -w`, which ends with 0 on Ctrl-C, as `kubectl get -w` does)' },
];

/** The exit-code table as the docs show it (Markdown). */
export function exitCodeTable(): string {
  const rows = EXIT_CODES.map((r) => `| ${ExitCode[r.code]} | ${r.title} | ${r.when} |`);
  return ['| code | name | when |', '|---:|---|---|', ...rows].join('\n') + '\n';
}

/**
 * An option of a request named in a message or hint, by the request's own field name
 * (`option('sidecarImage')`): the domain says which option, the command layer says how
 * it is spelled on its command line (`--sidecar-image`, or an argument such as IFACE).
 */
export function option(name: string): string {
  return `{{${name}}}`;
}

const OPTION_REF = /\{\{([A-Za-z][A-Za-z0-9-]*)\}\}/g;

/** How a command spells an option of the request. */
export type OptionSpelling = (option: string) => string;

/** kubectl's spelling: sidecarImage -> --sidecar-image. */
export const flagSpelling: OptionSpelling = (name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function spellOptions(text: string, spell: OptionSpelling = flagSpelling): string {
  return text.replace(OPTION_REF, (_m, name: string) => spell(name));
}

export class VnetError extends Error {
  readonly code: ExitCodeName;
  /** What to do, with the options spelled as flags (see spelled() for a command's own spelling). */
  readonly hint?: string;
  /** Server-side detail kept verbatim (reason, status code). */
  readonly reason?: string;
  readonly status?: number;
  /** The message and hint as written, with their option references. */
  private readonly written: { message: string; hint?: string };

  constructor(code: ExitCodeName, message: string, opts: { hint?: string; reason?: string; status?: number; cause?: unknown } = {}) {
    super(spellOptions(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VnetError';
    this.code = code;
    this.hint = opts.hint === undefined ? undefined : spellOptions(opts.hint);
    this.reason = opts.reason;
    this.status = opts.status;
    this.written = { message, hint: opts.hint };
  }

  get exitCode(): number {
    return ExitCode[this.code];
  }

  /** The message and hint with the options spelled as the command that runs spells them. */
  spelled(spell: OptionSpelling): { message: string; hint?: string } {
    return { message: spellOptions(this.written.message, spell), hint: this.written.hint === undefined ? undefined : spellOptions(this.written.hint, spell) };
  }
}

/**
 * A write addressed a VirtualMachineInstance that has no VirtualMachine: each command
 * says what that means for its own edit (see core/interface-edit.ts); this is the generic wording.
 */
export class StandaloneVMIError extends VnetError {
  constructor(
    readonly vmiName: string,
    readonly namespace: string,
  ) {
    super('precondition', `"${vmiName}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine; only VirtualMachines can be edited`, {
      hint: 'a standalone VMI cannot be changed while it runs: create it anew with the change, or manage it through a VirtualMachine',
    });
    this.name = 'StandaloneVMIError';
  }
}

export function usageError(message: string, hint?: string): VnetError {
  return new VnetError('usage', message, { hint });
}

export function refused(message: string, hint?: string): VnetError {
  return new VnetError('precondition', message, { hint });
}
