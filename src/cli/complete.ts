/**
 * Shell completion, planned from the oclif manifest (command ids, flags,
 * args) and the words typed after `kubectl vnet`. Pure: what needs the
 * cluster (VM, interface, namespace, NAD and context names) is returned as a
 * `dynamic` request that complete-run.ts answers. The output follows the
 * protocol of Cobra's `__complete` that kubectl uses for plugins
 * (`kubectl_complete-vnet WORDS...`): one `value<TAB>description` per line,
 * then `:DIRECTIVE`.
 */

import { compareStrings } from '../domain/order.js';

/** Cobra's ShellCompDirective bits. */
export const Directive = { default: 0, error: 1, noSpace: 2, noFileComp: 4 } as const;

export interface ManifestFlag {
  name: string;
  char?: string;
  type: 'boolean' | 'option';
  options?: readonly string[];
  hidden?: boolean;
  summary?: string;
  description?: string;
  allowNo?: boolean;
}

export interface ManifestArg {
  name: string;
  options?: readonly string[];
  description?: string;
}

export interface ManifestCommand {
  id: string;
  summary?: string;
  description?: string;
  hidden?: boolean;
  aliases?: string[];
  flags: Record<string, ManifestFlag>;
  args: Record<string, ManifestArg>;
}

export interface CompletionManifest {
  commands: Record<string, ManifestCommand>;
}

export type Topics = Record<string, { description?: string; hidden?: boolean }>;

export interface Candidate {
  value: string;
  description?: string;
}

export type Dynamic =
  | { kind: 'vm' }
  | { kind: 'iface'; vm: string }
  | { kind: 'namespace' }
  | { kind: 'nad' }
  | { kind: 'context' };

export interface CompletionPlan {
  candidates: Candidate[];
  directive: number;
  /** Names to fetch from the cluster, filtered by `prefix`. */
  dynamic?: Dynamic;
  /** What the names must start with (the word being completed, minus a `--flag=` part). */
  prefix: string;
  /** Put before each dynamic name (e.g. `--namespace=`). */
  valuePrefix: string;
  /** The connection flags typed so far (kubeconfig, context, namespace, ...). */
  connection: Record<string, string | string[]>;
}

const CONNECTION_FLAGS = new Set([
  'kubeconfig', 'context', 'cluster', 'user', 'namespace', 'as', 'as-group', 'as-uid', 'request-timeout',
  'server', 'token', 'certificate-authority', 'client-certificate', 'client-key', 'tls-server-name', 'username', 'password',
]);

function firstLine(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const line = text.split('\n')[0].trim();
  return line.length > 0 ? line : undefined;
}

function matching(cands: Candidate[], prefix: string): Candidate[] {
  return cands.filter((c) => c.value.startsWith(prefix));
}

/** The cluster names an argument takes, by its name. */
function dynamicForArg(arg: ManifestArg, positionals: Record<string, string>): Dynamic | undefined {
  switch (arg.name) {
    case 'vm':
    case 'target':
      return { kind: 'vm' };
    case 'iface':
    case 'interface':
      return positionals.vm ? { kind: 'iface', vm: positionals.vm } : undefined;
    case 'namespace':
      return { kind: 'namespace' };
    case 'nad':
      return { kind: 'nad' };
    default:
      return undefined;
  }
}

/** The cluster names a flag's value takes, by the flag's name. */
function dynamicForFlag(flag: ManifestFlag): Dynamic | undefined {
  switch (flag.name) {
    case 'namespace':
      return { kind: 'namespace' };
    case 'context':
      return { kind: 'context' };
    case 'network':
      return { kind: 'nad' };
    default:
      return undefined;
  }
}

function findFlag(cmd: ManifestCommand, word: string): ManifestFlag | undefined {
  if (word.startsWith('--')) {
    const name = word.slice(2).split('=')[0];
    return cmd.flags[name] ?? Object.values(cmd.flags).find((f) => f.allowNo && `no-${f.name}` === name);
  }
  if (word.startsWith('-') && word.length >= 2) return Object.values(cmd.flags).find((f) => f.char === word[1]);
  return undefined;
}

/**
 * Plans the completion of `words` (everything after `vnet`; the last word is
 * the one being completed, possibly empty).
 */
export function planCompletion(manifest: CompletionManifest, topics: Topics, words: string[]): CompletionPlan {
  const typed = words.slice(0, -1);
  const current = words.length > 0 ? words[words.length - 1] : '';
  const plan: CompletionPlan = { candidates: [], directive: Directive.noFileComp, prefix: current, valuePrefix: '', connection: {} };
  const commands = manifest.commands;
  const ids = Object.keys(commands).filter((id) => !commands[id].hidden);
  const found = findCommand(commands, ids, typed);
  if (!found.cmd) {
    if (found.next < typed.length) return plan; // an unknown word: nothing sensible to offer
    plan.candidates = commandCandidates(manifest, topics, ids, found.path, current);
    return plan;
  }
  const line = scanCommandLine(found.cmd, typed.slice(found.next), plan.connection);
  return completeWordOfCommand(plan, found.cmd, line, current);
}

/** 1. The command: the words that extend a topic or command id; `next` is the index of the first word after them. */
function findCommand(commands: CompletionManifest['commands'], ids: readonly string[], typed: readonly string[]): { path: string[]; next: number; cmd?: ManifestCommand } {
  const path: string[] = [];
  for (let i = 0; i < typed.length; i++) {
    const w = typed[i];
    if (w.startsWith('-')) return { path, next: i };
    const next = [...path, w].join(':');
    if (commands[next]) return { path: [...path, w], next: i + 1, cmd: commands[next] };
    if (!ids.some((id) => id.startsWith(next + ':'))) return { path, next: i };
    path.push(w);
  }
  return { path, next: typed.length };
}

/** The next part of a command id under the topic typed so far. */
function commandCandidates(manifest: CompletionManifest, topics: Topics, ids: readonly string[], path: readonly string[], current: string): Candidate[] {
  const commands = manifest.commands;
  const base = path.length > 0 ? path.join(':') + ':' : '';
  const seen = new Map<string, Candidate>();
  for (const id of ids) {
    if (!id.startsWith(base)) continue;
    const part = id.slice(base.length).split(':')[0];
    if (seen.has(part)) continue;
    const full = base + part;
    const description = commands[full] ? firstLine(commands[full].summary ?? commands[full].description) : firstLine(topics[full]?.description);
    seen.set(part, { value: part, description });
  }
  if (path.length === 0 && current.startsWith('-')) {
    seen.set('--help', { value: '--help', description: 'Show help' });
  }
  return matching([...seen.values()].sort((a, b) => compareStrings(a.value, b.value)), current);
}

/** What the words after the command say: the positionals so far, a flag waiting for its value, `--`. */
interface CommandLine {
  positionals: Record<string, string>;
  pos: number;
  pendingFlag?: ManifestFlag;
  afterDoubleDash: boolean;
}

/** 2. Flags and positionals typed after the command (connection flags are kept, to read names with). */
function scanCommandLine(cmd: ManifestCommand, words: readonly string[], connection: Record<string, string | string[]>): CommandLine {
  const argList = Object.values(cmd.args ?? {});
  const line: CommandLine = { positionals: {}, pos: 0, afterDoubleDash: false };
  const keep = (flag: ManifestFlag, value: string) => {
    if (CONNECTION_FLAGS.has(flag.name)) addConnection(connection, flag.name, value);
  };
  for (const w of words) {
    if (line.pendingFlag) {
      keep(line.pendingFlag, w);
      line.pendingFlag = undefined;
      continue;
    }
    if (!line.afterDoubleDash && w === '--') {
      line.afterDoubleDash = true;
      continue;
    }
    if (!line.afterDoubleDash && w.startsWith('-') && w.length > 1) {
      const flag = findFlag(cmd, w);
      if (!flag || flag.type !== 'option') continue;
      const eq = w.startsWith('--') ? w.indexOf('=') : -1;
      if (eq >= 0) keep(flag, w.slice(eq + 1));
      else if (!w.startsWith('--') && w.length > 2) keep(flag, w.slice(2)); // -nvalue
      else line.pendingFlag = flag;
      continue;
    }
    const arg = argList[line.pos];
    if (arg) line.positionals[arg.name] = w;
    line.pos++;
  }
  return line;
}

/** 3. The word being completed: a flag's value, a flag, or the next positional. */
function completeWordOfCommand(plan: CompletionPlan, cmd: ManifestCommand, line: CommandLine, current: string): CompletionPlan {
  if (line.pendingFlag) return completeFlagValue(plan, line.pendingFlag, current, '');
  if (!line.afterDoubleDash && current.startsWith('--') && current.includes('=')) {
    const flag = findFlag(cmd, current);
    if (!flag || flag.type !== 'option') return plan;
    const eq = current.indexOf('=');
    return completeFlagValue(plan, flag, current.slice(eq + 1), current.slice(0, eq + 1));
  }
  if (!line.afterDoubleDash && current.startsWith('-')) {
    plan.candidates = flagCandidates(cmd, current);
    return plan;
  }
  const arg = Object.values(cmd.args ?? {})[line.pos];
  if (!arg) return plan;
  if (arg.options && arg.options.length > 0) {
    plan.candidates = matching(
      arg.options.map((o) => ({ value: o })),
      current,
    );
    return plan;
  }
  plan.dynamic = dynamicForArg(arg, line.positionals);
  return plan;
}

function flagCandidates(cmd: ManifestCommand, current: string): Candidate[] {
  const cands: Candidate[] = [];
  for (const f of Object.values(cmd.flags)) {
    if (f.hidden) continue;
    const description = firstLine(f.summary ?? f.description);
    cands.push({ value: `--${f.name}`, description });
    if (f.allowNo) cands.push({ value: `--no-${f.name}`, description });
    if (f.char && current.length <= 2 && !current.startsWith('--')) cands.push({ value: `-${f.char}`, description });
  }
  cands.push({ value: '--help', description: 'Show help' });
  return matching(cands.sort((a, b) => compareStrings(a.value, b.value)), current);
}

function addConnection(conn: Record<string, string | string[]>, name: string, value: string): void {
  if (name === 'as-group') conn[name] = [...((conn[name] as string[] | undefined) ?? []), value];
  else conn[name] = value;
}

function completeFlagValue(plan: CompletionPlan, flag: ManifestFlag, current: string, valuePrefix: string): CompletionPlan {
  plan.prefix = current;
  plan.valuePrefix = valuePrefix;
  if (flag.options && flag.options.length > 0) {
    plan.candidates = matching(
      flag.options.map((o) => ({ value: valuePrefix + o })),
      valuePrefix + current,
    );
    return plan;
  }
  if (flag.name === 'kubeconfig') {
    plan.directive = Directive.default; // file names, from the shell
    return plan;
  }
  plan.dynamic = dynamicForFlag(flag);
  return plan;
}

/** The Cobra `__complete` output for candidates and a directive. */
export function formatCompletion(candidates: Candidate[], directive: number): string {
  let out = '';
  for (const c of candidates) {
    const value = c.value.replace(/[\t\n]/g, ' ');
    out += c.description ? `${value}\t${c.description.replace(/[\t\n]/g, ' ')}\n` : `${value}\n`;
  }
  return `${out}:${directive}\n`;
}
