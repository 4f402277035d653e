import { AppError } from '../../shared/errors';
import { defaultDataDir } from '../base/data-dir';
import type { SecretStore } from '../secrets/secret-store';
import { CommanderError } from 'commander';
import type { CliCommand, CommandContext } from './command';
import { validateRequest } from '../ipc/dispatch';
import { openSession, type ConsoleSession } from './session';
import { buildProgram, type Selected } from './program';
import pkg from '../../package.json';

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

/** Runs one CLI invocation; returns the process exit code (0 ok, 1 failure, 2 usage error). */
export async function runCli(argv: readonly string[], commands: readonly CliCommand[], io: CliIo): Promise<number> {
  // Before `--` only: after it every word is an argument.
  const end = argv.indexOf('--');
  const wantsJson = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  const fail = (code: number, e: AppError) => {
    if (wantsJson) io.out(JSON.stringify({ ok: false, error: e.toShape() }, null, 2));
    else io.err(`mkc: ${e.message}`);
    return code;
  };
  const cli = buildProgram(commands, { version: wantsJson ? JSON.stringify({ version: pkg.version }) : `mkc ${pkg.version}`, out: io.out });
  if (argv.length === 0) {
    io.out(cli.program.helpInformation());
    return 0;
  }
  let selected: Selected | null;
  try {
    selected = await cli.parse(argv);
  } catch (e) {
    // Help and --version were printed by commander; every other refusal is bad input, nothing ran.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : fail(2, new AppError('validation', e.message));
    if (e instanceof AppError) return fail(e.code === 'validation' ? 2 : 1, e);
    return fail(1, new AppError('internal', e instanceof Error ? e.message : String(e)));
  }
  if (!selected) return 0;
  const { command } = selected;
  const dataDir = typeof selected.options['data-dir'] === 'string' ? selected.options['data-dir'] : defaultDataDir(io.env);
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
    invoke: async (channel, request) => {
      // Refused here by the same schema the handler map uses, before a data directory is opened or created.
      const checked = validateRequest(channel, request);
      if (!checked.ok) throw new AppError(checked.error.code, checked.error.message, checked.error.details);
      return (await ctx.session()).invoke(channel, request);
    },
    reopen: async () => {
      const old = session;
      session = null;
      if (old) await old.then((s) => s.close()).catch(() => {});
      return ctx.session();
    },
    options: selected.options,
    positionals: selected.positionals,
    json: selected.options.json === true,
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
