import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { shellCommand, shellQuote } from './shell-quote';

// Each value is echoed back by a real /bin/sh: what comes out must be byte-for-byte what went in.
const roundTrip = (value: string): string => execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });

const HOSTILE = [
  '',
  ' ',
  "it's",
  "''",
  "'; rm -rf / #",
  '$(touch /tmp/pwned)',
  '`id`',
  '${HOME}',
  '$HOME',
  'a"b"c',
  'back\\slash\\',
  'new\nline',
  'tab\there',
  '*',
  '/dev/disk/by-id/*',
  '~',
  '~root',
  '-rf',
  '--',
  'a;b|c&d>e<f',
  '!event',
  '\u00e9\u00e8 \u4e2d\u6587',
  "\\'",
  "'\\''",
];

describe('shellQuote', () => {
  it.each(HOSTILE.map((v) => [JSON.stringify(v), v]))('passes %s through a real shell unchanged', (_label, value) => {
    expect(roundTrip(value)).toBe(value);
  });

  it('always single-quotes, so no value is ever interpreted', () => {
    expect(shellQuote('plain')).toBe("'plain'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('refuses NUL, which no shell argument can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(AppError);
  });

  it('builds a command whose words arrive as separate arguments', () => {
    const words = ['a b', "c'd", '$(x)', '*'];
    const out = execFileSync('/bin/sh', ['-c', `printf '[%s]' ${shellCommand(words)}`], { encoding: 'utf8' });
    expect(out).toBe('[a b][c\'d][$(x)][*]');
    expect(() => shellCommand([])).toThrow(/at least one word/);
  });
});
