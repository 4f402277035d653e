import { describe, expect, it } from 'vitest';
import { CronSchedule, cronProblem, isValidTimezone } from './cron-schedule';

const iso = (d: Date[]) => d.map((x) => x.toISOString());
const at = (s: string) => new Date(s);

/** Local wall-clock time of an instant in a zone, as "YYYY-MM-DD HH:MM:SS". */
function wall(d: Date, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(d)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

describe('cron validation', () => {
  it('accepts 5 and 6 field expressions and IANA zones, and names what is wrong otherwise', () => {
    expect(cronProblem({ expression: '0 2 * * *', timezone: 'Europe/Berlin' })).toBeNull();
    expect(cronProblem({ expression: '*/20 * * * * *', timezone: 'UTC' })).toBeNull();
    expect(cronProblem({ expression: '0 2 * *', timezone: 'UTC' })).toMatch(/5 fields .* has 4/);
    expect(cronProblem({ expression: '0 0 2 * * * *', timezone: 'UTC' })).toMatch(/has 7/);
    expect(cronProblem({ expression: '61 2 * * *', timezone: 'UTC' })).toMatch(/61 .*minute/);
    expect(cronProblem({ expression: '0 2 * * *', timezone: 'Mars/Olympus' })).toMatch(/Unknown time zone "Mars\/Olympus"/);
    expect(isValidTimezone('America/New_York')).toBe(true);
    expect(isValidTimezone('')).toBe(false);
    expect(() => CronSchedule.parse({ expression: 'every day', timezone: 'UTC' })).toThrow(/5 fields/);
  });

  it('reads a 5-field expression at second 0 and a 6-field one with its seconds', () => {
    const five = CronSchedule.parse({ expression: '*/15 * * * *', timezone: 'UTC' });
    expect(five.fieldCount).toBe(5);
    expect(iso(five.nextRuns(at('2026-01-01T10:07:30Z'), 3))).toEqual(['2026-01-01T10:15:00.000Z', '2026-01-01T10:30:00.000Z', '2026-01-01T10:45:00.000Z']);
    const six = CronSchedule.parse({ expression: '10,40 * * * * *', timezone: 'UTC' });
    expect(six.fieldCount).toBe(6);
    expect(iso(six.nextRuns(at('2026-01-01T10:00:00Z'), 3))).toEqual(['2026-01-01T10:00:10.000Z', '2026-01-01T10:00:40.000Z', '2026-01-01T10:01:10.000Z']);
  });

  it('runs in the schedule zone, not in UTC or the machine zone', () => {
    const berlin = CronSchedule.parse({ expression: '0 2 * * *', timezone: 'Europe/Berlin' });
    const tokyo = CronSchedule.parse({ expression: '0 2 * * *', timezone: 'Asia/Tokyo' });
    expect(berlin.nextAfter(at('2026-01-10T12:00:00Z')).toISOString()).toBe('2026-01-11T01:00:00.000Z');
    expect(tokyo.nextAfter(at('2026-01-10T12:00:00Z')).toISOString()).toBe('2026-01-10T17:00:00.000Z');
  });
});

describe('DST transitions: preview and missed-run detection agree', () => {
  const cases = [
    // Europe/Berlin springs forward 2026-03-29 02:00 → 03:00 and falls back 2026-10-25 03:00 → 02:00.
    { zone: 'Europe/Berlin', expression: '30 2 * * *', from: '2026-03-26T12:00:00Z' },
    { zone: 'Europe/Berlin', expression: '30 2 * * *', from: '2026-10-22T12:00:00Z' },
    { zone: 'Europe/Berlin', expression: '0 * * * *', from: '2026-10-24T20:00:00Z' },
    { zone: 'Europe/Berlin', expression: '0 */30 1-3 * * *', from: '2026-03-28T20:00:00Z' },
    // America/New_York springs forward 2026-03-08 02:00 → 03:00 and falls back 2026-11-01 02:00 → 01:00.
    { zone: 'America/New_York', expression: '30 1,2 * * *', from: '2026-03-06T12:00:00Z' },
    { zone: 'America/New_York', expression: '*/30 1-3 * * *', from: '2026-10-30T12:00:00Z' },
  ];
  for (const c of cases) {
    it(`${c.expression} in ${c.zone} from ${c.from}`, () => {
      const s = CronSchedule.parse({ expression: c.expression, timezone: c.zone });
      const preview = s.nextRuns(at(c.from), 12);
      // Strictly increasing, every slot matches the expression, and each local time appears once.
      for (let i = 1; i < preview.length; i++) expect(preview[i]!.getTime()).toBeGreaterThan(preview[i - 1]!.getTime());
      for (const p of preview) expect(s.matches(p)).toBe(true);
      const walls = preview.map((p) => wall(p, c.zone));
      expect(new Set(walls).size).toBe(walls.length);
      // What detection reports missed between the same instants is exactly the preview.
      const missed = s.missedBetween(at(c.from), preview.at(-1)!);
      expect(iso(missed.slots)).toEqual(iso(preview));
      expect(missed.count).toBe(12);
      expect(missed.latest?.toISOString()).toBe(preview.at(-1)!.toISOString());
      // Nothing is missed in an interval that ends just before a slot.
      expect(s.missedBetween(at(c.from), new Date(preview[0]!.getTime() - 1)).count).toBe(0);
    });
  }

  it('skips a wall time that does not exist (spring forward) and runs an ambiguous one once (fall back)', () => {
    const berlin = CronSchedule.parse({ expression: '30 2 * * *', timezone: 'Europe/Berlin' });
    const spring = berlin.nextRuns(at('2026-03-27T12:00:00Z'), 3).map((d) => wall(d, 'Europe/Berlin'));
    expect(spring).toEqual(['2026-03-28 02:30:00', '2026-03-30 02:30:00', '2026-03-31 02:30:00']);
    const autumn = berlin.nextRuns(at('2026-10-24T12:00:00Z'), 2).map((d) => wall(d, 'Europe/Berlin'));
    expect(autumn).toEqual(['2026-10-25 02:30:00', '2026-10-26 02:30:00']);
    const ny = CronSchedule.parse({ expression: '30 2 * * *', timezone: 'America/New_York' });
    expect(ny.nextRuns(at('2026-03-07T12:00:00Z'), 2).map((d) => wall(d, 'America/New_York'))).toEqual(['2026-03-09 02:30:00', '2026-03-10 02:30:00']);
    // The summer offset applies after the change: 02:30 EDT is 06:30 UTC, 02:30 EST was 07:30 UTC.
    expect(ny.nextAfter(at('2026-03-09T00:00:00Z')).toISOString()).toBe('2026-03-09T06:30:00.000Z');
    expect(ny.nextAfter(at('2026-03-06T00:00:00Z')).toISOString()).toBe('2026-03-06T07:30:00.000Z');
  });

  it('counts a long outage without listing every slot and still knows the latest', () => {
    const s = CronSchedule.parse({ expression: '* * * * *', timezone: 'UTC' });
    const m = s.missedBetween(at('2026-01-01T00:00:00Z'), at('2026-01-01T05:00:00Z'), 10);
    expect(m.slots).toHaveLength(10);
    expect(m.count).toBe(11);
    expect(m.latest?.toISOString()).toBe('2026-01-01T05:00:00.000Z');
  });
});
