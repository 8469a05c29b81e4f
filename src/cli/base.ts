import { Command } from '@oclif/core';
import type { Input, ParserOutput } from '@oclif/core/interfaces';

// As oclif declares them (not exported by @oclif/core/interfaces).
type FlagOutput = Record<string, any>;
type ArgOutput = Record<string, any>;
import { ExitCode, flagSpelling, usageError, VnetError } from '../errors.js';
import type { Connection, ConnectionFlags } from '../kube/config.js';
import type { KubeClient } from '../kube/client.js';
import { connectionFlags, debugFlag } from './flags.js';
import { escapeControl, painter, useColour, type OutputFormat, type Paint } from '../render/output.js';
import { currentIO, type IO } from './io.js';

/** Redacts anything that looks like a credential from text printed with --debug. */
export function redact(text: string): string {
  return text
    .replace(/(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1<redacted>')
    .replace(/(token["'=:\s]+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1<redacted>')
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '<redacted private key>')
    .replace(/(client-key-data|client-certificate-data|password)(["'=:\s]+)\S+/gi, '$1$2<redacted>');
}

/**
 * One line from an oclif parse error: oclif's messages span several lines (an
 * argument list, a note on --as-group, "See more help with --help"); the tool
 * prints one `error:` line and a `hint:` line instead.
 */
export function usageLine(message: string): string {
  // (Missing and unexpected positional arguments are checked by VnetCommand.parse, not oclif.)
  const plain = message.replace(/\u001b\[[0-9;]*m/g, '');
  const lines = plain
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'See more help with --help' && !l.startsWith('Note: --') && !l.startsWith('Alternatively, you can use "--"'));
  if (lines.length === 0) return plain.trim();
  if (/^The following errors? occurred:$/.test(lines[0]) && lines.length > 1) return lines.slice(1).map(toolWording).join('; ');
  return lines.length > 1 && lines[0].endsWith(':') ? `${lines[0]} ${lines.slice(1).join('; ')}` : lines.map(toolWording).join('; ');
}

/** oclif's parser messages in the tool's (and kubectl's) words: lower case, flags with their dashes. */
const PARSER_WORDING: readonly [RegExp, (...m: string[]) => string][] = [
  [/^Nonexistent flags?: (.*)$/, (list) => `unknown flag${list.includes(',') ? 's' : ''}: ${list}`],
  [/^Missing required flag (\S+)$/, (name) => `missing required flag --${name}`],
  [/^Expected (--[^=\s]+)=(.*) to be one of: (.*)$/, (flag, value, options) => `invalid value "${value}" for ${flag}: must be one of ${options}`],
  [/^Expected (.*) to be one of: (.*)$/, (value, options) => `invalid argument "${value}": must be one of ${options}`],
  [/^Unexpected arguments?: (.*)$/, (list) => `unexpected argument${list.includes(',') ? 's' : ''}: ${list}`],
  [/^Flag (--\S+) expects a value$/, (flag) => `flag ${flag} needs a value`],
  [/^Flag (--\S+) expects one of these values: (.*)$/, (flag, options) => `flag ${flag} needs a value, one of ${options}`],
];

function toolWording(line: string): string {
  for (const [re, say] of PARSER_WORDING) {
    const m = re.exec(line);
    if (m) return say(...m.slice(1));
  }
  return line;
}

interface ArgSpec {
  required?: boolean;
  options?: readonly string[];
  [key: string]: unknown;
}

/**
 * The positional values in declaration order, the first one left out when omitFirst; too
 * many, missing, empty or not among the options is a usage error.
 */
export function checkArguments(
  declared: Record<string, ArgSpec>,
  parsed: Record<string, string | undefined>,
  omitFirst: boolean,
  hint: string,
  omittedHint = '--all edits every VirtualMachine in the file: leave out the VM name',
): Record<string, string | undefined> {
  const names = Object.keys(declared);
  const given = names.map((n) => parsed[n]).filter((v): v is string => v !== undefined);
  const wanted = omitFirst ? names.slice(1) : names;
  if (given.length > wanted.length) {
    throw usageError(`too many arguments: ${given.slice(wanted.length).join(' ')}`, omitFirst ? omittedHint : hint);
  }
  const args: Record<string, string | undefined> = {};
  wanted.forEach((n, i) => (args[n] = given[i]));
  const missing = wanted.filter((n) => args[n] === undefined && declared[n].required);
  if (missing.length > 0) throw usageError(`missing argument${missing.length === 1 ? '' : 's'}: ${missing.map((n) => n.toUpperCase()).join(' ')}`, hint);
  for (const n of wanted) {
    const value = args[n];
    if (value === '') throw usageError(`the ${n.toUpperCase()} argument must not be empty`, hint);
    const options = declared[n].options;
    if (value !== undefined && options && !options.includes(value)) throw usageError(`argument ${n.toUpperCase()} must be one of ${options.join(', ')}, not "${value}"`, hint);
  }
  return args;
}

export abstract class VnetCommand extends Command {
  static override baseFlags = { ...debugFlag };
  protected debugEnabled = false;

  /** The run's streams (the process's own, or a test's buffers). */
  protected get io(): IO {
    return currentIO();
  }

  /** Results to stdout; control characters from the cluster are escaped (our own colours kept). */
  protected out(text: string): void {
    this.io.stdout.write(escapeControl(text, true));
  }

  /** Progress, warnings and errors to stderr, control characters escaped. */
  protected note(text: string): void {
    const safe = escapeControl(text);
    this.io.stderr.write(safe.endsWith('\n') ? safe : safe + '\n');
  }

  protected warnLine(text: string): void {
    this.note(`Warning: ${text}`);
  }

  /** A presenter's text: its stderr lines, then stdout, then the lines that follow the result (warnings about it). */
  protected print(rendered: { stdout: string; stderr: readonly string[]; after?: readonly string[] }): void {
    for (const line of rendered.stderr) this.note(line);
    if (rendered.stdout) this.out(rendered.stdout);
    for (const line of rendered.after ?? []) this.note(line);
  }

  /** -o json|yaml: the result as one document on stdout. */
  protected async document(value: unknown, format: 'json' | 'yaml'): Promise<void> {
    const { formatDocument } = await import('../render/output.js');
    this.out(formatDocument(value, format));
  }

  /**
   * Whether the first positional argument (the VM) is left out, given the parsed flags:
   * `-f FILE --local --all` edits every VM of the file. Commands with --all say so.
   */
  protected omitsFirstArgument(_flags: Record<string, unknown>): boolean {
    return false;
  }

  /** The hint for an argument too many when the first is left out (undefined: checkArguments' own). */
  protected omittedFirstHint(_flags: Record<string, unknown>): string | undefined {
    return undefined;
  }

  /**
   * oclif's parse, with the positional arguments checked here rather than by oclif: an argument
   * may be left out (--all), a missing one is named, a value not among the options is refused,
   * and an empty argument ('') is a usage error (an empty name would address a whole collection).
   */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(options?: Input<F, B, A>, argv?: string[]): Promise<ParserOutput<F, B, A>> {
    const input = (options ?? this.ctor) as Input<F, B, A>;
    const declared = (input.args ?? {}) as Record<string, ArgSpec>;
    // oclif reads a missing argument from stdin when stdin is not a terminal: `cat vm.yaml | kubectl vnet
    // status -f - --local` lost the manifest to the TARGET argument, and a command in a `while read` loop
    // ate the loop's input. Arguments come from the command line only.
    const relaxed = Object.fromEntries(Object.entries(declared).map(([name, def]) => [name, { ...def, required: false, options: undefined, ignoreStdin: true }]));
    const out = await super.parse({ ...input, flags: input.flags, baseFlags: input.baseFlags, args: relaxed } as unknown as Input<F, B, A>, argv);
    const omitFirst = this.omitsFirstArgument(out.flags as Record<string, unknown>);
    const omittedHint = this.omittedFirstHint(out.flags as Record<string, unknown>);
    out.args = checkArguments(declared, out.args as Record<string, string | undefined>, omitFirst, this.helpHint(), omittedHint) as ParserOutput<F, B, A>['args'];
    return out;
  }

  /**
   * How this command spells an option a domain message names (by the request's field name):
   * one of its positional arguments in capitals (IFACE), else a flag (sidecarImage: --sidecar-image).
   */
  protected spellOption(name: string): string {
    const flag = flagSpelling(name);
    const args = (this.ctor as { args?: Record<string, unknown> }).args ?? {};
    const flags = { ...((this.ctor as { baseFlags?: Record<string, unknown> }).baseFlags ?? {}), ...((this.ctor as { flags?: Record<string, unknown> }).flags ?? {}) };
    return name in args && !(flag.slice(2) in flags) ? name.toUpperCase() : flag;
  }

  /** `hint: see kubectl vnet COMMAND --help` */
  protected helpHint(): string {
    return `see ${this.config?.bin ?? 'kubectl vnet'}${this.id ? ' ' + this.id.replaceAll(':', ' ') : ''} --help`;
  }

  protected paint(format?: OutputFormat): Paint {
    return painter(useColour(this.io.stdout, format, this.io.env));
  }

  private client?: KubeClient;

  /** The connection from the kubectl flags and a client over it, closed when the command ends. */
  protected async connect(flags: ConnectionFlags & { debug?: boolean }): Promise<{ conn: Connection; client: KubeClient }> {
    this.debugEnabled = Boolean(flags.debug);
    const [{ loadConnection }, { KubeClient }] = await Promise.all([import('../kube/config.js'), import('../kube/client.js')]);
    const conn = await loadConnection(flags);
    const debug = this.debugEnabled ? (line: string) => this.note(`debug: ${redact(line)}`) : undefined;
    debug?.(`context "${conn.contextName}" server ${conn.server} namespace ${conn.namespace} (from ${conn.source})`);
    this.client = new KubeClient(conn, debug);
    return { conn, client: this.client };
  }

  override async finally(err: Error | undefined): Promise<void> {
    this.client?.close();
    await super.finally(err);
  }

  override async catch(err: Error & { oclif?: { exit?: number }; exitCode?: number }): Promise<void> {
    const debug = this.debugEnabled || this.argv.includes('--debug');
    if (err instanceof VnetError) {
      this.io.setExitCode(err.exitCode);
      const { message, hint } = err.spelled((name) => this.spellOption(name));
      this.note(`error: ${redact(message)}`);
      if (hint) this.note(`hint: ${redact(hint)}`);
      if (debug && err.stack) this.note(redact(err.stack + (err.cause instanceof Error && err.cause.stack ? `\ncaused by: ${err.cause.stack}` : '')));
      return;
    }
    if (err.oclif && err.oclif.exit !== undefined && err.oclif.exit !== 1) {
      // oclif parse errors: unknown flags, missing arguments, bad options.
      this.io.setExitCode(err.oclif.exit === 0 ? 0 : ExitCode.usage);
      // parse() threw, so oclif would warn "did not parse its arguments" when NODE_ENV is development or test.
      this.parsed = true;
      if (err.oclif.exit !== 0) {
        this.note(`error: ${usageLine(err.message)}`);
        this.note(`hint: ${this.helpHint()}`);
      }
      return;
    }
    if ((err as { code?: string }).code === 'EPIPE') return;
    this.io.setExitCode(ExitCode.internal);
    this.note(`error: internal error: ${redact(err.message)}`);
    this.note('hint: run again with --debug and report it with the output');
    if (debug && err.stack) this.note(redact(err.stack));
  }
}

/** A command that talks to a cluster: the kubectl connection flags (connect() is VnetCommand's). */
export abstract class ClusterCommand extends VnetCommand {
  static override baseFlags = { ...VnetCommand.baseFlags, ...connectionFlags };
}
