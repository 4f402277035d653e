import { AppError } from '../../shared/errors';
import { defaultDataDir } from '../base/data-dir';
import type { SecretStore } from '../secrets/secret-store';
import { parseArgs, type OptionSpec } from './args';
import type { CliCommand, CommandContext } from './command';
import { openSession, type ConsoleSession } from './session';
import { table } from './table';
import { bashCompletion } from './completion';
import pkg from '../../package.json';

const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'data-dir', type: 'string', description: 'Data directory (default: MKC_DATA_DIR or the desktop app data directory)' },
  { name: 'json', type: 'boolean', description: 'Print machine-readable JSON' },
  { name: 'help', type: 'boolean', description: 'Show help' },
  { name: 'version', type: 'boolean', description: 'Print the version' },
];

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  secrets(dataDir: string): SecretStore;
  interrupted?: Promise<void>;
  stdin?: () => Promise<string>;
  /** How long to wait for an owner that holds the lock but does not answer yet (tests shorten it). */
  ownerWaitMs?: number;
}

/**
 * The command words of argv, wherever the options sit: a token after an option that takes a value is
 * that option's value, not a word (`mkc --data-dir D replicate vm`).
 */
function commandWords(argv: readonly string[], commands: readonly CliCommand[]): { words: string[]; indices: number[] } {
  const takesValue = new Set<string>();
  for (const o of [...GLOBAL_OPTIONS, ...commands.flatMap((c) => c.options ?? [])]) if (o.type !== 'boolean') takesValue.add(o.name);
  const words: string[] = [];
  const indices: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('--')) {
      if (!a.includes('=') && takesValue.has(a.slice(2))) i++;
      continue;
    }
    words.push(a);
    indices.push(i);
  }
  return { words, indices };
}

function findCommand(commands: readonly CliCommand[], words: readonly string[]): { command: CliCommand; rest: string[] } | null {
  let best: CliCommand | null = null;
  for (const c of commands) {
    if (c.path.length <= words.length && c.path.every((p, i) => words[i] === p)) {
      if (!best || c.path.length > best.path.length) best = c;
    }
  }
  return best ? { command: best, rest: words.slice(best.path.length) } : null;
}

export function helpText(commands: readonly CliCommand[]): string {
  const rows = commands.map((c) => [`mkc ${c.path.join(' ')}${c.usage ? ` ${c.usage}` : ''}`, c.summary]);
  return [
    'mkc — MigrateKit Console command line (same services and data as the desktop app)',
    '',
    'Usage: mkc <command> [options]',
    '',
    'When the desktop app or `mkc serve` owns the data directory, commands are served by it; otherwise',
    'mkc owns the directory itself while the command works.',
    '',
    'Commands:',
    table(['COMMAND', 'DESCRIPTION'], rows).split('\n').slice(1).map((l) => `  ${l}`).join('\n'),
    '',
    'Global options:',
    ...GLOBAL_OPTIONS.map((o) => `  --${o.name}${o.type === 'boolean' ? '' : ' <value>'}  ${o.description}`),
    '',
    'Run `mkc <command> --help` for the options of one command.',
    'Shell completion: eval "$(mkc completion bash)" (or zsh) in your shell profile.',
  ].join('\n');
}

function commandHelp(c: CliCommand): string {
  const opts = [...(c.options ?? []), ...GLOBAL_OPTIONS];
  return [
    `mkc ${c.path.join(' ')}${c.usage ? ` ${c.usage}` : ''}`,
    '',
    c.summary,
    '',
    'Options:',
    ...opts.map(
      (o) =>
        `  --${o.name}${o.type === 'boolean' ? '' : ` <${o.choices ? o.choices.join('|') : o.type}>`}${o.required ? ' (required)' : ''}  ${o.description}`,
    ),
  ].join('\n');
}

/** Runs one CLI invocation; returns the process exit code (0 ok, 1 failure, 2 usage error). */
export async function runCli(argv: readonly string[], commands: readonly CliCommand[], io: CliIo): Promise<number> {
  const { words, indices } = commandWords(argv, commands);
  const wantsJson = argv.includes('--json');
  const fail = (code: number, e: AppError) => {
    if (wantsJson) io.out(JSON.stringify({ ok: false, error: e.toShape() }, null, 2));
    else io.err(`mkc: ${e.message}`);
    return code;
  };
  if (argv.length === 0 || (words.length === 0 && argv.includes('--help'))) {
    io.out(helpText(commands));
    return 0;
  }
  // Needs no data directory: answered before any command runs.
  if (words[0] === 'completion' && words.length <= 2) {
    if (words[1] !== 'bash' && words[1] !== 'zsh') return fail(2, new AppError('validation', 'Name the shell: `mkc completion bash` or `mkc completion zsh`'));
    io.out(`${words[1] === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}${bashCompletion(commands, GLOBAL_OPTIONS)}`);
    return 0;
  }
  if (words.length === 0 && argv.includes('--version')) {
    io.out(wantsJson ? JSON.stringify({ version: pkg.version }) : `mkc ${pkg.version}`);
    return 0;
  }
  const found = findCommand(commands, words);
  if (!found) {
    const near = commands.filter((c) => c.path[0] === words[0]).map((c) => `mkc ${c.path.join(' ')}`);
    return fail(
      2,
      new AppError('validation', `Unknown command "${words.join(' ')}".${near.length ? ` Did you mean: ${near.join(', ')}?` : ' Run `mkc --help` for the list.'}`),
    );
  }
  const { command } = found;
  let parsed;
  try {
    // Options may sit anywhere; the command path words are dropped from the positionals.
    const pathIndices = new Set(indices.slice(0, command.path.length));
    const rest = argv.filter((_, i) => !pathIndices.has(i));
    parsed = parseArgs(rest, [...GLOBAL_OPTIONS, ...(command.options ?? [])]);
  } catch (e) {
    if (e instanceof AppError) return fail(2, e);
    throw e;
  }
  if (parsed.options.help) {
    io.out(commandHelp(command));
    return 0;
  }
  const dataDir = typeof parsed.options['data-dir'] === 'string' ? parsed.options['data-dir'] : defaultDataDir(io.env);
  let session: Promise<ConsoleSession> | null = null;
  const open = () =>
    openSession({
      dataDir,
      transport: `mkc ${command.path.join(' ')}`,
      secrets: io.secrets,
      // This process is the one to tell: an unexpected failure is shown, not only "see the log".
      logger: { error: (message, details) => io.err(`mkc: ${message}${details?.error ? `: ${String(details.error)}` : ''}`) },
      ...(command.mustOwn ? { mustOwn: true } : {}),
      ...(io.ownerWaitMs !== undefined ? { waitMs: io.ownerWaitMs } : {}),
    });
  const ctx: CommandContext = {
    session: () => (session ??= open()),
    invoke: async (channel, request) => (await ctx.session()).invoke(channel, request),
    reopen: async () => {
      const old = session;
      session = null;
      if (old) await old.then((s) => s.close()).catch(() => {});
      return ctx.session();
    },
    options: parsed.options,
    positionals: parsed.positionals,
    json: parsed.options.json === true,
    out: io.out,
    err: io.err,
    interrupted: io.interrupted ?? new Promise<void>(() => {}),
    stdin: io.stdin ?? (async () => ''),
  };
  try {
    const value = await command.run(ctx);
    if (ctx.json) io.out(JSON.stringify(value ?? null, null, 2));
    else if (command.human) io.out(command.human(value));
    else if (value !== undefined) io.out(typeof value === 'string' ? value : JSON.stringify(value, null, 2));
    return 0;
  } catch (e) {
    if (e instanceof AppError) return fail(e.code === 'validation' ? 2 : 1, e);
    return fail(1, new AppError('internal', e instanceof Error ? e.message : String(e)));
  } finally {
    // Assigned inside ctx callbacks, which the compiler's narrowing cannot see.
    const opened = session as Promise<ConsoleSession> | null;
    if (opened) await (await opened.catch(() => null))?.close();
  }
}
