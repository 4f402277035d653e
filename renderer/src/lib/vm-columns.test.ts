import { describe, expect, it } from 'vitest';
import { DEFAULT_VM_COLUMNS, ageStanding, fitColumns, formatTarget, gridTemplate, parseColumnChoice } from './vm-columns';

describe('VM table columns', () => {
  it('reads a stored choice back in table order and falls back to the default on anything unreadable', () => {
    expect(parseColumnChoice(JSON.stringify(['age', 'bogus', 'status']))).toEqual(['status', 'age']);
    expect(parseColumnChoice('{not json')).toEqual([...DEFAULT_VM_COLUMNS]);
    expect(parseColumnChoice(JSON.stringify({ a: 1 }))).toEqual([...DEFAULT_VM_COLUMNS]);
    expect(parseColumnChoice(null)).toEqual([...DEFAULT_VM_COLUMNS]);
  });

  it('drops optional columns lowest priority first to fit, never status, last sync or replica age', () => {
    const wide = fitColumns(DEFAULT_VM_COLUMNS, 2000, false);
    expect(wide.dropped).toEqual([]);
    // 1280 px window minus the sidebar and the scrollbar gutter.
    const at1280 = fitColumns(DEFAULT_VM_COLUMNS, 1064, false);
    expect(at1280.shown.map((c) => c.id)).toEqual(['status', 'progress', 'lastSync', 'age', 'nextSync', 'groups']);
    expect(at1280.dropped.map((c) => c.id)).toEqual(['cpu', 'disks', 'power']);
    const tiny = fitColumns(DEFAULT_VM_COLUMNS, 300, false);
    expect(tiny.shown.map((c) => c.id)).toEqual(['status', 'lastSync', 'age']);
    const panel = fitColumns(DEFAULT_VM_COLUMNS, 2000, true);
    expect(panel.shown.map((c) => c.id)).toEqual(['status', 'lastSync', 'age']);
    expect(gridTemplate(panel.shown, true)).toBe('36px minmax(90px, 2fr) 160px 170px 160px');
  });

  it('places a replica age against its target: within, near from 80 %, over, never synced is over', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    expect(ageStanding('2026-06-01T11:30:00Z', 3600, now)).toBe('within');
    expect(ageStanding('2026-06-01T11:12:00Z', 3600, now)).toBe('near');
    expect(ageStanding('2026-06-01T10:59:59Z', 3600, now)).toBe('over');
    expect(ageStanding(null, 3600, now)).toBe('never');
    expect(ageStanding('2026-06-01T01:00:00Z', null, now)).toBe('none');
    expect([formatTarget(86400), formatTarget(7200), formatTarget(900), formatTarget(5400)]).toEqual(['1d', '2h', '15m', '1h 30m']);
  });
});
