import { Args } from '@oclif/core';
import { VnetCommand } from '../cli/base.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

// Each script asks `kubectl-vnet __complete WORDS...` (the same protocol as
// kubectl's plugin completion through kubectl_complete-vnet): lines of
// `value<TAB>description`, then `:DIRECTIVE` (4: no file names).

const BASH = `# bash completion for kubectl-vnet
# Load it with:  source <(kubectl vnet completion bash)
# \`kubectl vnet <TAB>\` is completed by kubectl itself (1.26+) through the
# kubectl_complete-vnet helper on PATH; this script completes \`kubectl-vnet <TAB>\`.
_kubectl_vnet_complete() {
  local cur out directive line
  cur="\${COMP_WORDS[COMP_CWORD]}"
  out=$(kubectl-vnet __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  directive="\${out##*:}"
  COMPREPLY=()
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == :* ]] && continue
    COMPREPLY+=("\${line%%$'\\t'*}")
  done <<< "$out"
  if [[ \${#COMPREPLY[@]} -eq 0 && $(( directive & 4 )) -eq 0 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
}
complete -o nosort -F _kubectl_vnet_complete kubectl-vnet 2>/dev/null || complete -F _kubectl_vnet_complete kubectl-vnet
`;

const ZSH = `#compdef kubectl-vnet
# zsh completion for kubectl-vnet
# Load it with:  source <(kubectl vnet completion zsh)   (after compinit)
# \`kubectl vnet <TAB>\` is completed by kubectl itself (1.26+) through the
# kubectl_complete-vnet helper on PATH; this script completes \`kubectl-vnet <TAB>\`.
_kubectl_vnet() {
  local out directive line
  local -a lines comps
  out=$(kubectl-vnet __complete "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("\${(@f)out}")
  directive="\${lines[-1]#:}"
  for line in "\${(@)lines[1,-2]}"; do
    [[ -z "$line" ]] && continue
    if [[ "$line" == *$'\\t'* ]]; then
      comps+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
    else
      comps+=("\${line//:/\\\\:}")
    fi
  done
  if (( \${#comps} > 0 )); then
    _describe -V 'kubectl-vnet' comps
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
compdef _kubectl_vnet kubectl-vnet
`;

const FISH = `# fish completion for kubectl-vnet
# Load it with:  kubectl vnet completion fish | source
# \`kubectl vnet <TAB>\` is completed by kubectl itself (1.26+) through the
# kubectl_complete-vnet helper on PATH; this script completes \`kubectl-vnet <TAB>\`.
function __kubectl_vnet_complete
    set -l words (commandline -opc)
    set -e words[1]
    kubectl-vnet __complete $words (commandline -ct) 2>/dev/null | string match -v -r '^:[0-9]+$'
end
complete -c kubectl-vnet -f -a '(__kubectl_vnet_complete)'
`;

export const COMPLETION_SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };

export default class Completion extends VnetCommand {
  static override summary = 'Print a shell completion script (bash, zsh or fish)';
  static override description = [
    'Completes commands, flags, VM names and interface names; names come from the cluster, using',
    'the connection flags typed so far (-n, --context, --kubeconfig).',
    '',
    '`kubectl vnet <TAB>` is completed by kubectl (1.26 or newer) when the helper',
    'kubectl_complete-vnet is on PATH next to kubectl-vnet (see the README). The scripts printed',
    'here complete the plugin binary called directly as kubectl-vnet.',
  ].join('\n');
  static override examples = [
    'source <(<%= config.bin %> completion bash)',
    'source <(<%= config.bin %> completion zsh)',
    '<%= config.bin %> completion fish | source',
  ];
  static override args = {
    shell: Args.string({ description: 'The shell', required: true, options: [...SHELLS] }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Completion);
    this.out(COMPLETION_SCRIPTS[args.shell as Shell]);
  }
}
