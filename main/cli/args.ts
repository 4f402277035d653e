import { AppError } from '../../shared/errors';

export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean' | 'number';
  description: string;
  required?: boolean;
  /** Value names for a string option with a closed set. */
  choices?: readonly string[];
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | boolean | number>;
}

/**
 * Strict parser: unknown options, missing values and wrong types are errors, never ignored, so a typo
 * cannot silently change what a command does.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const positionals: string[] = [];
  const options: Record<string, string | boolean | number> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new AppError('validation', `Unknown option --${name}`);
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new AppError('validation', `--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = a.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value === '') throw new AppError('validation', `--${name} needs a value`);
    if (spec.type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new AppError('validation', `--${name} must be a number, got ${JSON.stringify(value)}`);
      options[name] = n;
    } else {
      if (spec.choices && !spec.choices.includes(value)) {
        throw new AppError('validation', `--${name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}`);
      }
      options[name] = value;
    }
  }
  for (const s of specs) {
    if (s.required && options[s.name] === undefined) throw new AppError('validation', `--${s.name} is required`);
  }
  return { positionals, options };
}
