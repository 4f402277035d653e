import type { OptionSpec } from './args';
import type { CliCommand } from './command';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A bash completion script (also loaded by zsh through bashcompinit) generated from the command
 * list, so completion can never drift from what mkc accepts: command words, then each command's
 * options, skipping option values when finding where the operator is.
 */
export function bashCompletion(commands: readonly CliCommand[], globalOptions: readonly OptionSpec[]): string {
  const next = new Map<string, Set<string>>();
  const optionsOf = new Map<string, string[]>();
  for (const c of commands) {
    for (let i = 0; i < c.path.length; i++) {
      const prefix = c.path.slice(0, i).join(' ');
      if (!next.has(prefix)) next.set(prefix, new Set());
      next.get(prefix)!.add(c.path[i]!);
    }
    optionsOf.set(c.path.join(' '), [...(c.options ?? []), ...globalOptions].map((o) => `--${o.name}`));
  }
  const valueOptions = [...new Set([...globalOptions, ...commands.flatMap((c) => c.options ?? [])].filter((o) => o.type !== 'boolean').map((o) => `--${o.name}`))];
  const cases = [
    ...[...next].map(([prefix, words]) => `    ${quote(prefix)}) words=${quote([...words].join(' '))} ;;`),
  ].join('\n');
  const optionCases = [...optionsOf].map(([p, opts]) => `    ${quote(p)}) opts=${quote(opts.join(' '))} ;;`).join('\n');
  return `# mkc bash completion: eval "$(mkc completion bash)"
_mkc_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" skip="" w words="" opts=${quote(globalOptions.map((o) => `--${o.name}`).join(' '))}
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    if [[ -n $skip ]]; then skip=""; continue; fi
    case " ${valueOptions.join(' ')} " in *" $w "*) skip=1; continue ;; esac
    [[ $w == -* ]] && continue
    path="\${path:+$path }$w"
  done
  case "$path" in
${cases}
  esac
  case "$path" in
${optionCases}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -o default -F _mkc_complete mkc
`;
}
