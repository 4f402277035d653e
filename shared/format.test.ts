import { describe, expect, it } from 'vitest';
import { formatAge, formatDateTime, formatDateTimeLong, formatDuration, formatMs, formatRecent } from './format';

describe('formatMs', () => {
  it('never shows a negative duration', () => {
    expect(formatMs(-389)).toBe('0 ms');
    expect(formatMs(389)).toBe('389 ms');
    expect(formatMs(65_000)).toBe('1m 5s');
    expect(formatMs(null)).toBe('—');
    expect(formatMs(Number.NaN)).toBe('—');
  });
});

describe('formatAge', () => {
  const at = Date.parse('2026-12-02T01:00:00Z');
  it('follows the clock it is given, not the time of the last render', () => {
    const iso = new Date(at - 165_000).toISOString();
    expect(formatAge(iso, at)).toBe('2m 45s ago');
    expect(formatAge(iso, at + 45_000)).toBe('3m 30s ago');
  });
  it('says just now for a few seconds, and for a time slightly ahead of this clock', () => {
    expect(formatAge(new Date(at - 2000).toISOString(), at)).toBe('just now');
    expect(formatAge(new Date(at + 3000).toISOString(), at)).toBe('just now');
    expect(formatAge(null, at)).toBe('never');
    expect(formatAge('garbage', at)).toBe('—');
  });
  it('uses the shared duration words', () => {
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3h 5m');
  });
});

describe('formatDateTime', () => {
  const iso = '2026-03-04T05:06:07Z';
  it('gives only the time of day for a time on the same day, the date and time otherwise', () => {
    const o = { locale: 'en-GB', timeZone: 'UTC' };
    expect(formatRecent(iso, Date.parse('2026-03-04T23:59:00Z'), o)).toBe('05:06');
    expect(formatRecent(iso, Date.parse('2026-03-05T00:01:00Z'), o)).toBe(formatDateTime(iso, { ...o, seconds: false }));
    // The day is the operator's: 05:06 UTC on the 4th is still the 3rd in Los Angeles.
    expect(formatRecent(iso, Date.parse('2026-03-04T12:00:00Z'), { locale: 'en-GB', timeZone: 'America/Los_Angeles' })).toMatch(/^3 Mar 2026/);
    expect(formatRecent(null, 0)).toBe('—');
  });
  it('names the month, so 4 March cannot be read as 3 April', () => {
    const gb = formatDateTime(iso, { locale: 'en-GB', timeZone: 'UTC' });
    const us = formatDateTime(iso, { locale: 'en-US', timeZone: 'UTC' });
    expect(gb).toContain('Mar');
    expect(gb).toMatch(/^4 Mar 2026/);
    expect(us).toMatch(/^Mar 4, 2026/);
    expect(gb).toContain('05:06:07');
    expect(gb).not.toMatch(/\d+\/\d+\/\d+/);
    expect(us).not.toMatch(/\d+\/\d+\/\d+/);
  });
  it('follows the locale (German order and month word)', () => {
    expect(formatDateTime(iso, { locale: 'de-DE', timeZone: 'UTC' })).toMatch(/^4\. März 2026/);
  });
  it('can drop seconds for narrow columns and gives a long hover form with the zone', () => {
    expect(formatDateTime(iso, { locale: 'en-GB', timeZone: 'UTC', seconds: false })).not.toContain(':07');
    expect(formatDateTimeLong(iso, { locale: 'en-GB', timeZone: 'UTC' })).toMatch(/March 2026.*05:06:07.*UTC/);
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTimeLong('nope')).toBe('');
  });
});
