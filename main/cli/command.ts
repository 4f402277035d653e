import type { Core } from '../core/core';
import type { OptionSpec } from './args';

export interface CommandContext {
  /** Opens the core lazily so `--help` works without a data directory. */
  core(): Core;
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
  /** Returns the value printed as JSON with --json; `human` renders it otherwise. */
  run(ctx: CommandContext): Promise<unknown> | unknown;
  human?(value: unknown): string;
}
