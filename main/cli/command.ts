import type { InvokeChannel, InvokeRequest, InvokeResponse } from '../../shared/contract';
import type { ConsoleSession } from './session';

/** One option of a command, declared on its commander command (run-cli.ts builds the tree). */
export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean' | 'number';
  description: string;
  required?: boolean;
  /** Value names for a string option with a closed set. */
  choices?: readonly string[];
}

/** One positional argument; every argument is required, and only the last may repeat. */
export interface ArgSpec {
  name: string;
  description: string;
  variadic?: boolean;
}

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
  /** Option values by option name (e.g. 'data-dir'), as commander parsed them. */
  options: Record<string, string | boolean | number>;
  /** The positional arguments, already counted against the command's `args`. */
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
  args?: readonly ArgSpec[];
  /**
   * What to say when the arguments do not match `args` (missing or too many). Default for one
   * argument: "Give exactly one <its description>".
   */
  argsWanted?: string;
  options?: readonly OptionSpec[];
  /** `mkc serve`: this process must own the data directory (refused when another process does). */
  mustOwn?: boolean;
  /** Returns the value printed as JSON with --json; `human` renders it otherwise. */
  run(ctx: CommandContext): Promise<unknown> | unknown;
  human?(value: unknown): string;
}
