import { describe, expect, it } from 'vitest';
import { ownerText } from './SettingsDesktop';
import { documentTitle } from '../components/Header';

describe('owner state in Settings/About', () => {
  it('names the owning program, its pid and since when', () => {
    const t = ownerText({ state: 'owned', pid: 4242, since: '2026-12-02T10:00:00.000Z', transport: 'mkc serve', hostname: 'h', detail: 'x' });
    expect(t).toMatch(/^mkc serve \(pid 4242, since .*2026.*\)$/);
  });
  it('says unknown, and why, where no lock is held', () => {
    expect(ownerText({ state: 'unknown', pid: null, since: null, transport: null, hostname: null, detail: 'no lock' })).toBe('unknown — no lock');
  });
});

describe('window title', () => {
  it('labels the embedded lab', () => {
    expect(documentTitle(true)).toBe('EMBEDDED LAB — MigrateKit Console');
    expect(documentTitle(false)).toBe('MigrateKit Console');
  });
});
