// Completion planning (src/cli/complete.ts) on a fixed manifest, the Cobra
// output format, and the shell scripts of `kubectl vnet completion`.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Directive, formatCompletion, planCompletion, type CompletionManifest } from '../../src/cli/complete.js';
import { COMPLETION_SCRIPTS } from '../../src/commands/completion.js';
import { tempDirs } from '../support/tmp.js';

const tmp = tempDirs();


const conn = {
  kubeconfig: { name: 'kubeconfig', type: 'option' as const, description: 'Path to the kubeconfig file to use' },
  context: { name: 'context', type: 'option' as const, description: 'The name of the kubeconfig context to use' },
  namespace: { name: 'namespace', char: 'n', type: 'option' as const, description: 'The namespace' },
  debug: { name: 'debug', type: 'boolean' as const, description: 'Print each API request' },
  secret: { name: 'secret', type: 'boolean' as const, hidden: true },
};

const manifest: CompletionManifest = {
  commands: {
    status: {
      id: 'status',
      summary: 'Per-interface network status',
      flags: { ...conn, output: { name: 'output', char: 'o', type: 'option', options: ['table', 'wide', 'json', 'yaml'], description: 'Output format' } },
      args: { target: { name: 'target' } },
    },
    'link:set': {
      id: 'link:set',
      summary: 'Set the link state',
      flags: { ...conn },
      args: { vm: { name: 'vm' }, iface: { name: 'iface' }, state: { name: 'state', options: ['up', 'down'] } },
    },
    'hotplug:add': {
      id: 'hotplug:add',
      summary: 'Hot-plug an interface',
      flags: { ...conn, network: { name: 'network', type: 'option', description: 'NAD' }, wait: { name: 'wait', type: 'boolean', allowNo: true } },
      args: { vm: { name: 'vm' } },
    },
    'hotplug:remove': { id: 'hotplug:remove', summary: 'Unplug an interface', flags: { ...conn }, args: { vm: { name: 'vm' }, iface: { name: 'iface' } } },
    'network:set': { id: 'network:set', summary: 'Move an interface to another NAD', flags: { ...conn }, args: { vm: { name: 'vm' }, iface: { name: 'iface' }, nad: { name: 'nad' } } },
    'macpool:opt-in': { id: 'macpool:opt-in', summary: 'Opt a namespace in', flags: { ...conn }, args: { namespace: { name: 'namespace' } } },
    internal: { id: 'internal', hidden: true, flags: {}, args: {} },
  },
};
const topics = { hotplug: { description: 'Hot-plug and unplug' }, link: { description: 'Link state' }, macpool: { description: 'kubemacpool' }, network: { description: 'NAD changes' } };

const values = (words: string[]) => planCompletion(manifest, topics, words).candidates.map((c) => c.value);

describe('planCompletion', () => {
  it('offers top-level commands and topics, never hidden ones, with descriptions', () => {
    const plan = planCompletion(manifest, topics, ['']);
    expect(plan.candidates).toEqual([
      { value: 'hotplug', description: 'Hot-plug and unplug' },
      { value: 'link', description: 'Link state' },
      { value: 'macpool', description: 'kubemacpool' },
      { value: 'network', description: 'NAD changes' },
      { value: 'status', description: 'Per-interface network status' },
    ]);
    expect(plan.directive).toBe(Directive.noFileComp);
    expect(plan.dynamic).toBeUndefined();
  });

  it('filters by the word being typed and completes inside a topic', () => {
    expect(values(['st'])).toEqual(['status']);
    expect(values(['hotplug', ''])).toEqual(['add', 'remove']);
    expect(values(['hotplug', 're'])).toEqual(['remove']);
    expect(values(['nope', ''])).toEqual([]);
  });

  it('asks the cluster for VM names at a VM argument, then for that VM\'s interfaces', () => {
    expect(planCompletion(manifest, topics, ['status', '']).dynamic).toEqual({ kind: 'vm' });
    expect(planCompletion(manifest, topics, ['link', 'set', 'vm']).dynamic).toEqual({ kind: 'vm' });
    const iface = planCompletion(manifest, topics, ['link', 'set', 'vm1', 'e']);
    expect(iface.dynamic).toEqual({ kind: 'iface', vm: 'vm1' });
    expect(iface.prefix).toBe('e');
    expect(values(['link', 'set', 'vm1', 'eth0', ''])).toEqual(['up', 'down']);
    expect(planCompletion(manifest, topics, ['link', 'set', 'vm1', 'eth0', 'up', '']).dynamic).toBeUndefined();
  });

  it('skips flags and their values when counting arguments and keeps the connection flags', () => {
    const plan = planCompletion(manifest, topics, ['hotplug', 'remove', '-n', 'team-a', '--context=ctx', '--debug', 'vm7', '']);
    expect(plan.dynamic).toEqual({ kind: 'iface', vm: 'vm7' });
    expect(plan.connection).toEqual({ namespace: 'team-a', context: 'ctx' });
    expect(planCompletion(manifest, topics, ['status', '-nteam-b', '']).connection).toEqual({ namespace: 'team-b' });
  });

  it('completes flags, without hidden ones, with --no- for negatable flags', () => {
    expect(values(['status', '--o'])).toEqual(['--output']);
    expect(values(['status', '-'])).toEqual(['--context', '--debug', '--help', '--kubeconfig', '--namespace', '--output', '-n', '-o']);
    expect(values(['hotplug', 'add', '--n'])).toEqual(['--namespace', '--network', '--no-wait']);
  });

  it('completes flag values: options, namespaces, contexts, NADs, files for --kubeconfig', () => {
    expect(values(['status', '-o', ''])).toEqual(['table', 'wide', 'json', 'yaml']);
    expect(values(['status', '--output=j'])).toEqual(['--output=json']);
    const ns = planCompletion(manifest, topics, ['status', '--namespace=te']);
    expect(ns.dynamic).toEqual({ kind: 'namespace' });
    expect([ns.prefix, ns.valuePrefix]).toEqual(['te', '--namespace=']);
    expect(planCompletion(manifest, topics, ['status', '--context', '']).dynamic).toEqual({ kind: 'context' });
    expect(planCompletion(manifest, topics, ['hotplug', 'add', 'vm1', '--network', '']).dynamic).toEqual({ kind: 'nad' });
    expect(planCompletion(manifest, topics, ['network', 'set', 'vm1', '']).dynamic).toEqual({ kind: 'iface', vm: 'vm1' });
    expect(planCompletion(manifest, topics, ['network', 'set', 'vm1', 'blue', '']).dynamic).toEqual({ kind: 'nad' });
    expect(planCompletion(manifest, topics, ['macpool', 'opt-in', '']).dynamic).toEqual({ kind: 'namespace' });
    const kc = planCompletion(manifest, topics, ['status', '--kubeconfig', '']);
    expect(kc.dynamic).toBeUndefined();
    expect(kc.directive).toBe(Directive.default);
  });

  it('treats words after -- as arguments', () => {
    expect(planCompletion(manifest, topics, ['link', 'set', '--', '-vm', '']).dynamic).toEqual({ kind: 'iface', vm: '-vm' });
  });
});

describe('formatCompletion', () => {
  it('writes Cobra __complete lines and the directive', () => {
    expect(formatCompletion([{ value: 'a', description: 'first\tline' }, { value: 'b' }], 4)).toBe('a\tfirst line\nb\n:4\n');
    expect(formatCompletion([], 0)).toBe(':0\n');
  });
});

describe('completion scripts', () => {
  it('bash: the function completes from `kubectl-vnet __complete`', () => {
    // A stand-in kubectl-vnet that answers like __complete and records its arguments.
    const dir = tmp('vnet-compl-');
    const log = path.join(dir, 'args');
    writeFileSync(
      path.join(dir, 'kubectl-vnet'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(log)}\nprintf 'status\\tStatus of VMs\\nstop\\n:4\\n'\n`,
    );
    chmodSync(path.join(dir, 'kubectl-vnet'), 0o755);
    const script = path.join(dir, 'c.bash');
    writeFileSync(script, COMPLETION_SCRIPTS.bash);
    const out = execFileSync(
      'bash',
      ['-c', `source ${script}; COMP_WORDS=(kubectl-vnet -n team-a st); COMP_CWORD=3; _kubectl_vnet_complete; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } },
    );
    expect(out).toBe('status\nstop\n');
    expect(readFileSync(log, 'utf8')).toBe('__complete\n-n\nteam-a\nst\n');
  });

  /** A stand-in kubectl-vnet on PATH that answers `__complete` with `reply` and records its arguments. */
  function standIn(reply: string): { dir: string; log: string; env: NodeJS.ProcessEnv } {
    const dir = tmp('vnet-compl-');
    const log = path.join(dir, 'args');
    writeFileSync(path.join(dir, 'reply'), reply);
    writeFileSync(path.join(dir, 'kubectl-vnet'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(log)}\ncat ${JSON.stringify(path.join(dir, 'reply'))}\n`);
    chmodSync(path.join(dir, 'kubectl-vnet'), 0o755);
    return { dir, log, env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir } };
  }
  const installed = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

  // zsh's completion system needs a terminal; the function is run with _describe and _files
  // stood in, which shows what it hands them. (Not run where zsh is not installed.)
  it.runIf(installed('zsh'))('zsh: the function hands `kubectl-vnet __complete` candidates to _describe, colons escaped, and files only when allowed', () => {
    const run = (reply: string, words: string[]) => {
      const s = standIn(reply);
      const script = path.join(s.dir, 'c.zsh');
      writeFileSync(script, COMPLETION_SCRIPTS.zsh);
      const prog = [
        'compdef() { :; }',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh parameter expansion, not a template
        '_describe() { print -rl -- "${(@P)${@[-1]}}"; }',
        '_files() { print -r -- FILES; }',
        `source ${script}`,
        `words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}`,
        '_kubectl_vnet',
      ].join('\n');
      const out = execFileSync('zsh', ['-f', '-c', prog], { encoding: 'utf8', env: s.env });
      return { out, args: readFileSync(s.log, 'utf8') };
    };
    const r = run('status\tStatus of VMs\nstop\nns:x\tnamespaced\n:4\n', ['kubectl-vnet', '-n', 'team-a', 'st']);
    expect(r.out).toBe('status:Status of VMs\nstop\nns\\:x:namespaced\n');
    expect(r.args).toBe('__complete\n-n\nteam-a\nst\n');
    // No candidates: files when the directive allows them (--kubeconfig), nothing with noFileComp.
    expect(run(':0\n', ['kubectl-vnet', '--kubeconfig', '']).out).toBe('FILES\n');
    expect(run(':4\n', ['kubectl-vnet', 'status', '']).out).toBe('');
  });

  it.runIf(installed('fish'))('fish: `complete -C` offers the candidates of `kubectl-vnet __complete`, with descriptions, and passes the words typed', () => {
    const s = standIn('status\tStatus of VMs\nstop\n:4\n');
    const script = path.join(s.dir, 'c.fish');
    writeFileSync(script, COMPLETION_SCRIPTS.fish);
    const out = execFileSync('fish', ['--no-config', '-c', `source ${script}; complete -C 'kubectl-vnet -n team-a st'`], { encoding: 'utf8', env: s.env });
    expect(out.split('\n').filter(Boolean).sort()).toEqual(['status\tStatus of VMs', 'stop']);
    expect(readFileSync(s.log, 'utf8')).toBe('__complete\n-n\nteam-a\nst\n');
  });

  it('zsh and fish scripts are syntactically valid where the shell is installed', () => {
    for (const [shell, flag] of [
      ['zsh', '-n'],
      ['fish', '--no-execute'],
    ] as const) {
      const which = spawnSync('sh', ['-c', `command -v ${shell}`], { encoding: 'utf8' });
      if (which.status !== 0) continue; // not installed here; bash is checked above
      const dir = tmp('vnet-compl-');
      const f = path.join(dir, `c.${shell}`);
      writeFileSync(f, COMPLETION_SCRIPTS[shell]);
      const r = spawnSync(shell, [flag, f], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    expect(COMPLETION_SCRIPTS.zsh).toContain('compdef _kubectl_vnet kubectl-vnet');
    expect(COMPLETION_SCRIPTS.fish).toContain("complete -c kubectl-vnet -f -a '(__kubectl_vnet_complete)'");
  });
});
