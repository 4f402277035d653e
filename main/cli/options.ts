import { AppError } from '../../shared/errors';
import type { CommandContext } from './command';

export const str = (ctx: CommandContext, name: string): string | undefined =>
  typeof ctx.options[name] === 'string' ? (ctx.options[name] as string) : undefined;
export const reqStr = (ctx: CommandContext, name: string): string => {
  const v = str(ctx, name);
  if (v === undefined) throw new AppError('validation', `--${name} is required`);
  return v;
};
/** A number option as given: its range and whether it must be whole are the contract schema's to judge. */
export const num = (ctx: CommandContext, name: string): number | undefined =>
  typeof ctx.options[name] === 'number' ? (ctx.options[name] as number) : undefined;
/** A yes/no option (a plain flag could not turn a setting off in an edit). */
export const YES_NO = ['yes', 'no'] as const;
export const yesNo = (ctx: CommandContext, name: string): boolean | undefined => {
  const v = str(ctx, name);
  return v === undefined ? undefined : v === 'yes';
};
export const flag = (ctx: CommandContext, name: string): boolean => ctx.options[name] === true;

/** The command's one positional argument (commander has already refused a missing or extra one). */
export function onePositional(ctx: CommandContext): string {
  const [value] = ctx.positionals;
  if (value === undefined) throw new AppError('validation', 'A positional argument is missing');
  return value;
}

/** A secret from standard input: first line, trimmed; an empty one is refused. */
export async function secretFromStdin(ctx: CommandContext, what: string): Promise<string> {
  const text = (await ctx.stdin()).replace(/\r?\n$/, '');
  if (!text.trim()) throw new AppError('validation', `No ${what} on standard input`);
  return text;
}
