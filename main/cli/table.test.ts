import { describe, expect, it } from 'vitest';
import { formatBytes, table } from './table';

describe('table', () => {
  it('aligns columns to the widest cell, shows missing values as "-" and leaves no trailing spaces', () => {
    expect(table(['ID', 'NAME', 'NOTE'], [['a', 'web01', null], ['bbbb', undefined, 'x'], ['c', 7, '']])).toBe(
      ['ID    NAME   NOTE', 'a     web01  -', 'bbbb  -      x', 'c     7'].join('\n'),
    );
  });

  it('prints only the header for no rows', () => {
    expect(table(['JOB', 'STATUS'], [])).toBe('JOB  STATUS');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [-5, '0 B'],
    [Number.NaN, '0 B'],
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [10 * 1024 ** 3, '10.0 GiB'],
    [3 * 1024 ** 5, '3072.0 TiB'],
  ])('%d bytes read %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
