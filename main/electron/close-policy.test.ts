import { describe, expect, it } from 'vitest';
import { decideWindowClose, trayLikelyAvailable, trayMenuModel, type CloseInput } from './close-policy';
import type { RunningJobView } from './desktop-state';

const base: CloseInput = { quitting: false, trayAvailable: true, activeJobs: 0, enabledSchedules: 0, noticeShown: false };

describe('decideWindowClose', () => {
  it('quits when nothing keeps the app alive', () => {
    expect(decideWindowClose(base)).toEqual({ action: 'quit' });
  });

  it('hides to the tray while jobs run, with the notice only the first time', () => {
    const first = decideWindowClose({ ...base, activeJobs: 2 });
    expect(first).toMatchObject({ action: 'hide', notice: { title: expect.stringMatching(/still running/) } });
    expect(first.action === 'hide' && first.notice?.body).toMatch(/2 replication jobs are running/);
    expect(decideWindowClose({ ...base, activeJobs: 2, noticeShown: true })).toEqual({ action: 'hide', notice: null });
  });

  it('hides to the tray when schedules are enabled even with no job running', () => {
    const d = decideWindowClose({ ...base, enabledSchedules: 1 });
    expect(d.action).toBe('hide');
    expect(d.action === 'hide' && d.notice?.body).toMatch(/^1 schedule is enabled/);
  });

  it('quits (through the quit checks) where there is no tray, whatever runs', () => {
    expect(decideWindowClose({ ...base, trayAvailable: false, activeJobs: 3, enabledSchedules: 2 })).toEqual({ action: 'quit' });
  });

  it('lets the window close once the app is quitting', () => {
    expect(decideWindowClose({ ...base, quitting: true, activeJobs: 3 })).toEqual({ action: 'close' });
  });

  it('hides to the tray while a failover runs, saying so', () => {
    const d = decideWindowClose({ ...base, activeFailovers: 1 });
    expect(d.action).toBe('hide');
    expect(d.action === 'hide' && d.notice?.body).toMatch(/^1 failover is running, so the console keeps running in the tray/);
    expect(decideWindowClose({ ...base, trayAvailable: false, activeFailovers: 1 })).toEqual({ action: 'quit' });
  });
});

describe('trayLikelyAvailable', () => {
  it('trusts Windows and macOS, doubts stock GNOME and honours MKC_TRAY', () => {
    expect(trayLikelyAvailable('win32', {})).toBe(true);
    expect(trayLikelyAvailable('darwin', {})).toBe(true);
    expect(trayLikelyAvailable('linux', { XDG_CURRENT_DESKTOP: 'KDE' })).toBe(true);
    expect(trayLikelyAvailable('linux', { XDG_CURRENT_DESKTOP: 'GNOME' })).toBe(false);
    expect(trayLikelyAvailable('linux', { XDG_CURRENT_DESKTOP: 'ubuntu:GNOME' })).toBe(true);
    expect(trayLikelyAvailable('linux', {})).toBe(false);
    expect(trayLikelyAvailable('linux', { XDG_CURRENT_DESKTOP: 'GNOME', MKC_TRAY: '1' })).toBe(true);
    expect(trayLikelyAvailable('win32', { MKC_TRAY: '0' })).toBe(false);
  });
});

const job = (n: number): RunningJobView => ({ jobId: `job-${n}`, vmContextId: `ctx-${n}`, vmName: `vm-${n}`, status: 'replicating', progressPercent: 41.6 });

describe('trayMenuModel', () => {
  const now = new Date(2026, 11, 2, 10, 0);

  it('lists running jobs as items that open the job, the next run, then Open and Quit', () => {
    const m = trayMenuModel({ runningJobs: [job(1)], nextRun: { scheduleName: 'nightly', at: new Date(2026, 11, 2, 22, 30) }, now });
    expect(m.items).toEqual([
      { kind: 'label', text: '1 job running' },
      { kind: 'open-job', label: 'vm-1 — 42% (replicating)', vmContextId: 'ctx-1', jobId: 'job-1' },
      { kind: 'label', text: 'Next run: nightly at 22:30' },
      { kind: 'separator' },
      { kind: 'open', label: 'Open MigrateKit Console' },
      { kind: 'about', label: 'About' },
      { kind: 'quit', label: 'Quit' },
    ]);
    expect(m.tooltip).toBe('MigrateKit Console — 1 job running');
  });

  it('says when nothing runs or is scheduled, and caps a long job list', () => {
    const idle = trayMenuModel({ runningJobs: [], nextRun: null, now });
    expect(idle.items.filter((i) => i.kind === 'label')).toEqual([
      { kind: 'label', text: 'No jobs running' },
      { kind: 'label', text: 'No scheduled runs' },
    ]);
    const many = trayMenuModel({ runningJobs: Array.from({ length: 11 }, (_, i) => job(i)), nextRun: null, now });
    expect(many.items.filter((i) => i.kind === 'open-job')).toHaveLength(8);
    expect(many.items).toContainEqual({ kind: 'label', text: 'and 3 more' });
  });

  it('lists running failovers and rollbacks beside running jobs, each opening its VM', () => {
    const m = trayMenuModel({
      runningJobs: [job(1)],
      runningFailovers: [
        { failoverId: 'fo-1', vmContextId: 'ctx-7', vmName: 'db-01', kind: 'live', rollback: false, phase: 'Final incremental sync' },
        { failoverId: 'fo-2', vmContextId: 'ctx-8', vmName: 'web-02', kind: 'test', rollback: true, phase: null },
      ],
      nextRun: null,
      now,
    });
    expect(m.items.slice(0, 5)).toEqual([
      { kind: 'label', text: '1 job running' },
      { kind: 'open-job', label: 'vm-1 — 42% (replicating)', vmContextId: 'ctx-1', jobId: 'job-1' },
      { kind: 'label', text: '2 failovers running' },
      { kind: 'open-failover', label: 'db-01 — live failover (Final incremental sync)', vmContextId: 'ctx-7', failoverId: 'fo-1' },
      { kind: 'open-failover', label: 'web-02 — rollback of the test failover', vmContextId: 'ctx-8', failoverId: 'fo-2' },
    ]);
    expect(m.tooltip).toBe('MigrateKit Console — 1 job running, 2 failovers running');
    const none = trayMenuModel({ runningJobs: [], runningFailovers: [], nextRun: null, now });
    expect(none.items.some((i) => i.kind === 'open-failover' || (i.kind === 'label' && /failover/.test(i.text)))).toBe(false);
  });

  it('shows what a quit is waiting for', () => {
    const m = trayMenuModel({ runningJobs: [], nextRun: null, now, quitting: 'Quitting: waiting for tunnels' });
    expect(m.items[0]).toEqual({ kind: 'label', text: 'Quitting: waiting for tunnels' });
    expect(m.tooltip).toBe('Quitting: waiting for tunnels');
  });
});
