import { AppError } from '../../shared/errors';

/**
 * Quotes one value for a POSIX shell command line (the OMA appliance runs what we send through
 * the login shell of the SSH user). Single quotes make every byte literal; a single quote itself
 * is closed, escaped and reopened. NUL cannot be passed through a shell at all, so it is refused.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new AppError('validation', 'a shell argument cannot contain a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one command line, quoting every element. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new AppError('validation', 'a shell command needs at least one word');
  return argv.map(shellQuote).join(' ');
}
