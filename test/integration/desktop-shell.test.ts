// The desktop shell's Electron wiring over a real core (real SQLite, real event bus) with Electron
// substituted: job events drive the app-suspension blocker, notifications follow the setting and open
// the VM when clicked, the tray menu lists running jobs, and resume is handled and logged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as electron from 'electron';
import { Core } from '../../main/core/core';
import type { AppLogger } from '../../main/base/app-log';
import { DesktopShell } from '../../main/electron/desktop-shell';
import type { DesktopStatePort, RunningJobView } from '../../main/electron/desktop-state';
import type { FailoverSeen } from '../../main/electron/failover-activity';
import { InMemorySecretStore } from '../../main/secrets/memory-store';
import type { DomainEventOf } from '../../main/base/domain-events';
import type { TerminalJobStatus } from '../../shared/domain';
import type { ElectronRecord } from '../fixtures/electron-substitute';

vi.mock('electron', async () => {
  const { createElectronSubstitute } = await import('../fixtures/electron-substitute');
  const sub = createElectronSubstitute(os.tmpdir());
  return { ...sub.module, __record: sub.record };
});
const record = (electron as unknown as { __record: ElectronRecord }).__record;

let dir: string;
let core: Core;
let shell: DesktopShell;
let running: RunningJobView[];
let failovers: FailoverSeen[];
let shown: number;
let appLog: string[];
const opened: unknown[] = [];

type Ev = DomainEventOf<'job-started'> | DomainEventOf<'job-ended'>;
const started = (jobId: string): Ev => ({ type: 'job-started', jobId, vmContextId: `ctx-${jobId}`, trigger: 'ui' });
const ended = (jobId: string, outcome: TerminalJobStatus, error: string | null = null): Ev => ({ type: 'job-ended', jobId, vmContextId: `ctx-${jobId}`, outcome, error });
/** The engine emits these once each, from the one place a job is claimed and the one place it ends. */
const send = (...events: Ev[]) => {
  for (const e of events) core.events.emit(e);
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-desktop-shell-'));
  appLog = [];
  const logger: AppLogger = { info: (m) => void appLog.push(m), warn: (m) => void appLog.push(m), error: (m) => void appLog.push(m) };
  core = new Core({ dataDir: dir, transport: 'electron', secrets: new InMemorySecretStore(), logger });
  core.bus.subscribe((channel, payload) => {
    if (channel === 'app:open') opened.push(payload);
  });
  running = [];
  failovers = [];
  shown = 0;
  opened.length = 0;
  record.blockers.length = 0;
  record.blockersStopped.length = 0;
  record.notifications.length = 0;
  const state: DesktopStatePort = {
    runningJobs: () => running,
    enabledScheduleCount: () => 0,
    nextScheduledRun: () => null,
    vmName: (id) => (id === 'ctx-a' ? 'web-01' : null),
    failovers: () => failovers,
  };
  process.env.MKC_TRAY = '1';
  shell = new DesktopShell({
    core,
    state,
    logger,
    showWindow: async () => void shown++,
    quit: () => {},
    showAbout: () => {},
    isPackaged: false,
    setLoginItemSettings: () => {},
  });
  shell.start();
});
afterEach(async () => {
  shell.dispose();
  delete process.env.MKC_TRAY;
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const flush = () => new Promise((r) => setImmediate(r));

describe('DesktopShell', () => {
  it('holds the app-suspension blocker from the first job start to the last job end', () => {
    send(started('a'), started('b'));
    expect(record.blockers).toEqual(['prevent-app-suspension']);
    send(ended('a', 'completed'));
    expect(record.blockersStopped).toEqual([]);
    send(ended('b', 'failed', 'VMA unreachable'));
    expect(record.blockersStopped).toHaveLength(1);
  });

  it('counts jobs from the domain events, not from progress frames', () => {
    // A frame for a job the engine never reported starting (another window's stale frame, a replay) holds nothing.
    core.bus.emit('jobs:progress', {
      updates: [{ jobId: 'x', vmContextId: 'ctx-x', status: 'replicating', phase: 'replicating', progressPercent: 0, bytesTransferred: 0, totalBytes: 0, rateBps: 0, etaSeconds: null, error: null, disks: [] }],
    });
    core.bus.flush();
    expect(record.blockers).toEqual([]);
    // A job that started and ended between two frames is still seen start to end, and notified once.
    send(started('q'), ended('q', 'completed'), ended('q', 'completed'));
    expect(record.blockers).toEqual(['prevent-app-suspension']);
    expect(record.blockersStopped).toHaveLength(1);
    expect(record.notifications).toHaveLength(1);
  });

  it('notifies ends per the setting and a click opens that VM and job', async () => {
    send(started('a'));
    send(ended('a', 'completed'));
    expect(record.notifications.map((n) => n.title)).toEqual(['Replication of web-01 completed']);
    core.desktop.save({ notifications: 'failures' });
    send(started('b'), started('c'));
    send(ended('b', 'completed'), ended('c', 'failed', 'lost the VMA'));
    expect(record.notifications.map((n) => [n.title, n.body])).toEqual([
      ['Replication of web-01 completed', 'The replica is up to date.'],
      ['Replication of ctx-c failed', 'lost the VMA'],
    ]);
    record.notifications[1]!.instance.emit('click');
    await flush();
    core.bus.flush();
    expect(shown).toBe(1);
    expect(opened).toEqual([{ vmContextId: 'ctx-c', jobId: 'c' }]);
    core.desktop.save({ notifications: 'off' });
    send(started('d'));
    send(ended('d', 'failed', 'x'));
    expect(record.notifications).toHaveLength(2);
  });

  it('a failover keeps the blocker held with or without jobs, and its end notifies and opens its VM', async () => {
    // The failover's VM status changes are what the shell hears (contexts:changed on the real bus).
    const changed = () => {
      core.bus.emit('contexts:changed', { contexts: [], removedIds: [] });
      core.bus.flush();
    };
    failovers = [{ id: 'failover-1', vmContextId: 'ctx-a', kind: 'live', status: 'powering_off', error: null }];
    changed();
    expect(record.blockers).toEqual(['prevent-app-suspension']);
    send(started('j'));
    send(ended('j', 'completed'));
    // The final sync ended; the failover goes on.
    expect(record.blockersStopped).toEqual([]);
    failovers = [{ ...failovers[0]!, status: 'failed', error: 'Final incremental sync: timed out' }];
    changed();
    expect(record.blockersStopped).toHaveLength(1);
    expect(record.notifications.map((n) => [n.title, n.body]).at(-1)).toEqual(['Live failover of web-01 failed', 'Final incremental sync: timed out']);
    record.notifications.at(-1)!.instance.emit('click');
    await flush();
    core.bus.flush();
    expect(opened).toEqual([{ vmContextId: 'ctx-a', jobId: null }]);
  });

  it('lists running jobs in the tray menu; an item opens its job and Open shows the window', async () => {
    running = [{ jobId: 'a', vmContextId: 'ctx-a', vmName: 'web-01', status: 'replicating', progressPercent: 50 }];
    send(started('a'));
    const labels = record.trayMenu.map((i) => i.label ?? i.type);
    expect(labels).toEqual(['1 job running', 'web-01 — 50% (replicating)', 'No scheduled runs', 'separator', 'Open MigrateKit Console', 'About', 'Quit']);
    record.trayMenu[1]!.click!();
    await flush();
    core.bus.flush();
    expect(opened).toEqual([{ vmContextId: 'ctx-a', jobId: 'a' }]);
    record.trayMenu.find((i) => i.label === 'Open MigrateKit Console')!.click!();
    await flush();
    expect(shown).toBe(2);
    shell.setQuitting('Quitting: waiting for tunnels');
    expect(record.trayMenu[0]!.label).toBe('Quitting: waiting for tunnels');
  });

  it('lists a running failover in the tray beside jobs while it works; its item opens its VM', async () => {
    const changed = () => {
      core.bus.emit('contexts:changed', { contexts: [], removedIds: [] });
      core.bus.flush();
    };
    running = [{ jobId: 'j', vmContextId: 'ctx-b', vmName: 'db-01', status: 'replicating', progressPercent: 10 }];
    failovers = [{ id: 'failover-1', vmContextId: 'ctx-a', kind: 'live', status: 'final_sync', phase: 'Final incremental sync', error: null }];
    changed();
    const labels = record.trayMenu.map((i) => i.label ?? i.type);
    expect(labels.slice(0, 4)).toEqual(['1 job running', 'db-01 — 10% (replicating)', '1 failover running', 'web-01 — live failover (Final incremental sync)']);
    record.trayMenu[3]!.click!();
    await flush();
    core.bus.flush();
    expect(opened).toEqual([{ vmContextId: 'ctx-a', jobId: null }]);
    // Ended: the tray no longer lists it.
    failovers = [{ ...failovers[0]!, status: 'completed' }];
    changed();
    expect(record.trayMenu.map((i) => i.label ?? i.type).some((l) => /failover/.test(l ?? ""))).toBe(false);
  });

  it('handles resume after a sleep and records it', async () => {
    record.powerMonitor.emit('suspend');
    record.powerMonitor.emit('resume');
    for (let i = 0; i < 100 && !appLog.includes('resumed from sleep'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(appLog).toContain('the computer is going to sleep');
    expect(appLog).toContain('resumed from sleep');
  });
});
