import type { InvokeChannel, InvokeRequest, InvokeResponse } from '../../shared/contract';
import type { OptionSpec } from './args';
import type { ConsoleSession } from './session';

export interface CommandContext {
  /** Opens the session lazily (served by the owner, or in-process) so `--help` needs no data directory. */
  session(): Promise<ConsoleSession>;
  /**
   * Every input reaches the core here: the same channel, schema validation and handler as the
   * desktop app's IPC, whether the owner serves the command or this process does.
   */
  invoke<C extends InvokeChannel>(channel: C, request: InvokeRequest<C>): Promise<InvokeResponse<C>>;
  /** Drops a session whose owner went away and opens a new one (served, or in-process). */
  reopen(): Promise<ConsoleSession>;
  options: Record<string, string | boolean | number>;
  positionals: string[];
  json: boolean;
  out(text: string): void;
  err(text: string): void;
  /** Resolves when the operator interrupts (Ctrl-C) a long-running command. */
  interrupted: Promise<void>;
  /** Standard input as text (secrets are read from here, never from arguments). */
  stdin(): Promise<string>;
}

export interface CliCommand {
  /** e.g. ['contexts', 'list'] */
  path: readonly string[];
  summary: string;
  usage?: string;
  options?: readonly OptionSpec[];
  /** `mkc serve`: this process must own the data directory (refused when another process does). */
  mustOwn?: boolean;
  /** Returns the value printed as JSON with --json; `human` renders it otherwise. */
  run(ctx: CommandContext): Promise<unknown> | unknown;
  human?(value: unknown): string;
}
