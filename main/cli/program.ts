// The mkc command tree, declared with commander from the command list: commander parses argv, counts
// positional arguments, shows help per command and finds typos; this module only turns its refusals
// into mkc's usage errors (validation, exit code 2) before anything runs. Option values are checked
// only for their type and closed sets here; ranges and formats are the contract schemas' to judge.
import { Argument, Command, Option, type CommanderError } from 'commander';
import { AppError } from '../../shared/errors';
import { bashCompletion } from './completion';
import type { ArgSpec, CliCommand, OptionSpec } from './command';

/** Options of mkc itself, accepted before or after the command (`mkc --json jobs list`, `mkc jobs list --json`). */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'data-dir', type: 'string', description: 'data directory (default: MKC_DATA_DIR or the desktop app data directory)' },
  { name: 'json', type: 'boolean', description: 'print machine-readable JSON' },
];

export const SHELLS = ['bash', 'zsh'] as const;

/** A command that parsed: what to run, with its option values by option name and its positional arguments. */
export interface Selected {
  command: CliCommand;
  options: Record<string, string | boolean | number>;
  positionals: string[];
}

export interface ProgramOutput {
  /** What `--version` prints. */
  version: string;
  out(text: string): void;
}

const invalid = (message: string) => new AppError('validation', message);

/** The option's value as the command receives it: a number for a number option, a closed-set member, never empty. */
function valueParser(spec: OptionSpec) {
  return (value: string): string | number => {
    if (value === '') throw invalid(`--${spec.name} needs a value`);
    if (spec.type === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw invalid(`--${spec.name} must be a number, got ${JSON.stringify(value)}`);
      return n;
    }
    if (spec.choices && !spec.choices.includes(value)) throw invalid(`--${spec.name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}`);
    return value;
  };
}

function toOption(spec: OptionSpec): Option {
  const o = new Option(spec.type === 'boolean' ? `--${spec.name}` : `--${spec.name} <${spec.type === 'number' ? 'number' : 'value'}>`, spec.description);
  // choices() first: it lists the set in the help; the parser after it gives mkc's message.
  if (spec.choices) o.choices(spec.choices);
  if (spec.type !== 'boolean') o.argParser(valueParser(spec));
  if (spec.required) o.makeOptionMandatory();
  return o;
}

const toArgument = (a: ArgSpec) => new Argument(a.variadic ? `<${a.name}...>` : `<${a.name}>`, a.description);

/** The words after `mkc` that name this command, e.g. ['jobs', 'list']. */
export function pathOf(cmd: Command): string[] {
  const words: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words;
}

const argsTerm = (cmd: Command) => cmd.registeredArguments.map((a) => ` ${a.required ? '<' : '['}${a.name()}${a.variadic ? '...' : ''}${a.required ? '>' : ']'}`).join('');

/** The leaf commands under `cmd`, as the operator types them. */
function commandsUnder(cmd: Command): string[] {
  return cmd.commands.flatMap((c) => (c.commands.length ? commandsUnder(c) : [`mkc ${pathOf(c).join(' ')}`]));
}

/** The long name (without dashes) of the first option named in a commander message. */
const optionIn = (message: string) => /--[A-Za-z0-9-]+/.exec(message)?.[0] ?? message.replace(/^error: /, '');

/**
 * Turns commander's refusal at `cmd` into mkc's message; help and version (exit code 0) pass through.
 * `argsWanted` says, per command with arguments, what to give when their count is wrong.
 */
function usageError(cmd: Command, e: CommanderError, argsWanted: ReadonlyMap<Command, string>): Error {
  const words = pathOf(cmd);
  switch (e.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return e;
    case 'commander.unknownOption': {
      const flag = /unknown option '([^']*)'/.exec(e.message)?.[1] ?? '';
      const eq = flag.indexOf('=');
      if (eq !== -1) {
        const name = flag.slice(0, eq);
        for (let c: Command | null = cmd; c; c = c.parent) {
          if (c.options.some((o) => o.long === name && !o.required && !o.optional)) return invalid(`${name} takes no value`);
        }
      }
      const suggestion = /Did you mean (.*)\?\)/.exec(e.message)?.[1];
      return invalid(`Unknown option ${eq === -1 ? flag : flag.slice(0, eq)}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`);
    }
    case 'commander.optionMissingArgument':
      return invalid(`${optionIn(e.message)} needs a value`);
    case 'commander.missingMandatoryOptionValue':
      return invalid(`${optionIn(e.message)} is required`);
    case 'commander.missingArgument':
    case 'commander.excessArguments': {
      const wanted = argsWanted.get(cmd);
      const got = cmd.args.length ? ` (got ${cmd.args.join(' ')})` : '';
      return invalid(wanted ? `Give ${wanted}${got}` : `mkc ${words.join(' ')} takes no arguments${got}`);
    }
    case 'commander.unknownCommand': {
      const near = words.length ? commandsUnder(cmd) : [];
      return invalid(`Unknown command "${[...words, cmd.args[0] ?? ''].join(' ')}".${near.length ? ` Did you mean: ${near.join(', ')}?` : ' Run `mkc --help` for the list.'}`);
    }
    case 'commander.help':
      // A group named without one of its commands (`mkc jobs`).
      return invalid(`"mkc ${words.join(' ')}" needs a command: ${commandsUnder(cmd).join(', ')}. Run \`mkc help ${words.join(' ')}\` for their options.`);
    default:
      return invalid(e.message.replace(/^error: /, ''));
  }
}

/**
 * Builds the commander tree for one invocation (commander keeps parse state on its commands).
 * `parse` resolves to the command to run, or null when commander or a meta command (help,
 * completion, --version) already answered; it rejects with an AppError for bad input.
 */
export function buildProgram(commands: readonly CliCommand[], output: ProgramOutput): { program: Command; parse(argv: readonly string[]): Promise<Selected | null> } {
  const program = new Command('mkc');
  const argsWanted = new Map<Command, string>();
  let selected: Selected | null = null;
  const strict = (cmd: Command) =>
    cmd
      .allowExcessArguments(false)
      .allowUnknownOption(false)
      .exitOverride((e) => {
        throw usageError(cmd, e, argsWanted);
      });

  strict(program)
    .description(
      'MigrateKit Console command line (same services and data as the desktop app).\n\n' +
        'When the desktop app or `mkc serve` owns the data directory, commands are served by it; otherwise mkc owns the directory itself while the command works.',
    )
    .version(output.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .configureOutput({
      writeOut: (text) => output.out(text),
      // Refusals are reported by the caller in mkc's words; commander's own texts are not printed.
      writeErr: () => {},
      outputError: () => {},
    })
    // Subcommands inherit this when created: their help lists --data-dir and --json too.
    .configureHelp({ showGlobalOptions: true });
  for (const g of GLOBAL_OPTIONS) program.addOption(toOption(g));

  const nodes = new Map<string, Command>([['', program]]);
  const node = (path: readonly string[]): Command => {
    const key = path.join(' ');
    const existing = nodes.get(key);
    if (existing) return existing;
    const parent = node(path.slice(0, -1));
    const cmd = strict(parent.command(path[path.length - 1]!));
    nodes.set(key, cmd);
    return cmd;
  };
  const runnable: Command[] = [];
  const globalNames = new Set(GLOBAL_OPTIONS.map((o) => o.name));
  for (const spec of commands) {
    const cmd = node(spec.path);
    runnable.push(cmd);
    // mkc itself takes its global options wherever they sit, so a command's option of that name would never be seen.
    const shadowed = (spec.options ?? []).find((o) => globalNames.has(o.name));
    if (shadowed) throw new Error(`mkc ${spec.path.join(' ')}: --${shadowed.name} is a global option`);
    const [first] = spec.args ?? [];
    if (first) argsWanted.set(cmd, spec.argsWanted ?? `exactly one ${first.description}`);
    cmd.description(spec.summary);
    for (const a of spec.args ?? []) cmd.addArgument(toArgument(a));
    for (const o of spec.options ?? []) cmd.addOption(toOption(o));
    cmd.action(() => {
      const options: Record<string, string | boolean | number> = {};
      for (let c: Command | null = cmd; c; c = c.parent) {
        for (const o of c.options) {
          const v: unknown = c.getOptionValue(o.attributeName());
          if (o.long && options[o.long.slice(2)] === undefined && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) options[o.long.slice(2)] = v;
        }
      }
      selected = { command: spec, options, positionals: [...cmd.args] };
    });
  }

  const help = strict(program.command('help'))
    .description('Show the help of mkc or of one command, e.g. `mkc help jobs list`')
    .addArgument(new Argument('[command...]', 'the command words'))
    .action((words: string[]) => {
      const target = nodes.get(words.join(' '));
      if (!target) throw invalid(`Unknown command "${words.join(' ')}". Run \`mkc --help\` for the list.`);
      output.out(target.helpInformation());
    });
  const completion = strict(program.command('completion'))
    .description('Print the shell completion script: eval "$(mkc completion bash)" (or zsh) in your shell profile')
    .addArgument(new Argument('<shell>', SHELLS.join(' or ')));
  argsWanted.set(completion, 'the shell: `mkc completion bash` or `mkc completion zsh`');
  completion.action((shell: string) => {
    if (!(SHELLS as readonly string[]).includes(shell)) throw invalid(`Give the shell: \`mkc completion bash\` or \`mkc completion zsh\` (got ${shell})`);
    // zsh runs the bash script through its bash compatibility layer.
    output.out(`${shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}${bashCompletion(program)}`);
  });
  runnable.push(help, completion);

  // Only the top level lists every command with its full path; a group lists its own commands.
  program
    .configureHelp({
      ...program.configureHelp(),
      // Grouped by first word, in the order the command list introduces them.
      visibleCommands: () => {
        const firsts = [...new Set(runnable.map((c) => pathOf(c)[0]))];
        return [...runnable].sort((a, b) => firsts.indexOf(pathOf(a)[0]) - firsts.indexOf(pathOf(b)[0]));
      },
      subcommandTerm: (c) => `mkc ${pathOf(c).join(' ')}${argsTerm(c)}`,
    })
    .addHelpText(
      'after',
      '\nGlobal options go before or after the command (`mkc --json jobs list`, `mkc jobs list --json`).\n' +
        'Run `mkc help <command>` or `mkc <command> --help` for the options of one command.\n' +
        'Exit codes: 0 done, 1 failed, 2 bad input (refused before anything is written).',
    );

  return {
    program,
    parse: async (argv) => {
      await program.parseAsync([...argv], { from: 'user' });
      return selected;
    },
  };
}
