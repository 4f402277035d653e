import type { Command } from 'commander';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Node {
  path: string;
  words: string[];
  options: string[];
  /** Option → its closed set of values, for completing the value after it. */
  choices: Map<string, readonly string[]>;
}

/** Every command of the commander tree with what may follow it; options of the ancestors (mkc's global ones) included. */
function nodes(cmd: Command, path: string[], inherited: string[]): Node[] {
  const own = cmd.options.flatMap((o) => (o.long ? [o.long] : []));
  const options = [...new Set([...own, ...inherited, '--help'])];
  const choices = new Map(cmd.options.filter((o) => o.long && o.argChoices).map((o) => [o.long!, o.argChoices!] as const));
  return [
    { path: path.join(' '), words: cmd.commands.map((c) => c.name()), options, choices },
    ...cmd.commands.flatMap((c) => nodes(c, [...path, c.name()], path.length === 0 ? own : inherited)),
  ];
}

function valueOptions(cmd: Command): string[] {
  return [...cmd.options.filter((o) => o.long && (o.required || o.optional)).map((o) => o.long!), ...cmd.commands.flatMap(valueOptions)];
}

/**
 * A bash completion script (zsh loads it through bashcompinit) generated from the commander tree mkc
 * parses with, so completion can never drift from what mkc accepts: command words, each command's
 * options and the values of options with a closed set, skipping option values and positional
 * arguments when finding which command the operator is in.
 */
export function bashCompletion(program: Command): string {
  const all = nodes(program, [], []);
  const known = `|${all.map((n) => n.path).join('|')}|`;
  const values = ` ${[...new Set(valueOptions(program))].join(' ')} `;
  const cases = all.map((n) => `    ${quote(n.path)}) words=${quote(n.words.join(' '))} opts=${quote(n.options.join(' '))} ;;`).join('\n');
  const choiceCases = all
    .flatMap((n) => [...n.choices].map(([option, set]) => `    ${quote(`${n.path}|${option}`)}) vals=${quote(set.join(' '))} ;;`))
    .join('\n');
  return `# mkc bash completion: eval "$(mkc completion bash)"
_mkc_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev="" path="" skip="" w words="" opts="" vals=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    if [[ -n $skip ]]; then skip=""; continue; fi
    case ${quote(values)} in *" $w "*) skip=1; prev=$w; continue ;; esac
    [[ $w == -* ]] && continue
    case ${quote(known)} in *"|\${path:+$path }$w|"*) path="\${path:+$path }$w" ;; esac
  done
  if [[ -n $skip ]]; then
    # The word being completed is the value of $prev: its closed set, else file names.
    case "$path|$prev" in
${choiceCases}
    esac
    [[ -n $vals ]] && COMPREPLY=($(compgen -W "$vals" -- "$cur"))
    return
  fi
  case "$path" in
${cases}
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
