// Pure: what closing the window does, and what the tray menu shows. The Electron adapters
// (console-app.ts, tray-adapter.ts) only translate these decisions into calls.
import type { NextScheduledRun, RunningJobView } from './desktop-state';
import type { RunningFailoverView } from './quit-guard';

export interface CloseInput {
  /** The app is quitting (tray Quit, Cmd+Q, a confirmed quit): the window just closes. */
  quitting: boolean;
  /** A tray icon exists to bring the window back. */
  trayAvailable: boolean;
  activeJobs: number;
  /** Failovers and rollbacks still working: they keep the app alive like jobs do. */
  activeFailovers?: number;
  enabledSchedules: number;
  /** The "still running in the tray" notice was already shown once for this data directory. */
  noticeShown: boolean;
}

export type CloseDecision =
  /** Let the window close; the app is already on its way out. */
  | { action: 'close' }
  /** Keep running in the tray; `notice` is set the first time only. */
  | { action: 'hide'; notice: { title: string; body: string } | null }
  /** Nothing keeps the app alive (or there is no tray to come back from): quit, after the quit checks. */
  | { action: 'quit' };

export function decideWindowClose(input: CloseInput): CloseDecision {
  if (input.quitting) return { action: 'close' };
  const keepAlive = input.activeJobs > 0 || (input.activeFailovers ?? 0) > 0 || input.enabledSchedules > 0;
  if (!keepAlive || !input.trayAvailable) return { action: 'quit' };
  return { action: 'hide', notice: input.noticeShown ? null : trayNotice(input) };
}

function trayNotice(input: CloseInput): { title: string; body: string } {
  const reasons: string[] = [];
  if (input.activeJobs > 0) reasons.push(input.activeJobs === 1 ? '1 replication job is running' : `${input.activeJobs} replication jobs are running`);
  const failovers = input.activeFailovers ?? 0;
  if (failovers > 0) reasons.push(failovers === 1 ? '1 failover is running' : `${failovers} failovers are running`);
  if (input.enabledSchedules > 0) reasons.push(input.enabledSchedules === 1 ? '1 schedule is enabled' : `${input.enabledSchedules} schedules are enabled`);
  return {
    title: 'MigrateKit Console is still running',
    body: `${reasons.join(' and ')}, so the console keeps running in the tray. Use Quit in the tray menu to stop it.`,
  };
}

/**
 * Linux desktops without a status notifier host (stock GNOME) show no tray icon and Electron cannot
 * tell; there the window must not hide, or the app would run with no way back. MKC_TRAY=0/1 overrides.
 */
export function trayLikelyAvailable(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): boolean {
  if (env.MKC_TRAY === '0') return false;
  if (env.MKC_TRAY === '1') return true;
  if (platform === 'win32' || platform === 'darwin') return true;
  if (platform !== 'linux') return false;
  const desktop = (env.XDG_CURRENT_DESKTOP ?? '').toLowerCase();
  if (desktop === '') return false;
  return !desktop.split(':').includes('gnome') || desktop.includes('ubuntu');
}

export type TrayMenuItem =
  | { kind: 'label'; text: string }
  | { kind: 'separator' }
  | { kind: 'open-job'; label: string; vmContextId: string; jobId: string }
  /** A running failover or rollback: opens its VM. */
  | { kind: 'open-failover'; label: string; vmContextId: string; failoverId: string }
  | { kind: 'open'; label: string }
  | { kind: 'about'; label: string }
  | { kind: 'quit'; label: string };

export interface TrayModel {
  tooltip: string;
  items: TrayMenuItem[];
}

const MAX_JOBS_IN_MENU = 8;

function shortTime(at: Date, now: Date): string {
  const hh = String(at.getHours()).padStart(2, '0');
  const mm = String(at.getMinutes()).padStart(2, '0');
  const sameDay = at.toDateString() === now.toDateString();
  return sameDay ? `${hh}:${mm}` : `${at.toISOString().slice(0, 10)} ${hh}:${mm}`;
}

function failoverLabel(f: RunningFailoverView): string {
  const what = f.rollback ? `rollback of the ${f.kind} failover` : `${f.kind} failover`;
  return `${f.vmName} — ${what}${f.phase ? ` (${f.phase})` : ''}`;
}

export function trayMenuModel(input: {
  runningJobs: RunningJobView[];
  runningFailovers?: RunningFailoverView[];
  nextRun: NextScheduledRun | null;
  now: Date;
  quitting?: string | null;
}): TrayModel {
  const { runningJobs: jobs, nextRun, now } = input;
  const failovers = input.runningFailovers ?? [];
  const items: TrayMenuItem[] = [];
  if (input.quitting) items.push({ kind: 'label', text: input.quitting });
  items.push({ kind: 'label', text: jobs.length === 0 ? 'No jobs running' : jobs.length === 1 ? '1 job running' : `${jobs.length} jobs running` });
  for (const j of jobs.slice(0, MAX_JOBS_IN_MENU)) {
    items.push({ kind: 'open-job', label: `${j.vmName} — ${Math.round(j.progressPercent)}% (${j.status})`, vmContextId: j.vmContextId, jobId: j.jobId });
  }
  if (jobs.length > MAX_JOBS_IN_MENU) items.push({ kind: 'label', text: `and ${jobs.length - MAX_JOBS_IN_MENU} more` });
  if (failovers.length > 0) {
    items.push({ kind: 'label', text: failovers.length === 1 ? '1 failover running' : `${failovers.length} failovers running` });
    for (const f of failovers.slice(0, MAX_JOBS_IN_MENU)) items.push({ kind: 'open-failover', label: failoverLabel(f), vmContextId: f.vmContextId, failoverId: f.failoverId });
    if (failovers.length > MAX_JOBS_IN_MENU) items.push({ kind: 'label', text: `and ${failovers.length - MAX_JOBS_IN_MENU} more` });
  }
  items.push({ kind: 'label', text: nextRun ? `Next run: ${nextRun.scheduleName} at ${shortTime(nextRun.at, now)}` : 'No scheduled runs' });
  items.push({ kind: 'separator' }, { kind: 'open', label: 'Open MigrateKit Console' }, { kind: 'about', label: 'About' }, { kind: 'quit', label: 'Quit' });
  const busy: string[] = [];
  if (jobs.length > 0) busy.push(jobs.length === 1 ? '1 job running' : `${jobs.length} jobs running`);
  if (failovers.length > 0) busy.push(failovers.length === 1 ? '1 failover running' : `${failovers.length} failovers running`);
  const tooltip = input.quitting ?? `MigrateKit Console — ${busy.length === 0 ? 'idle' : busy.join(', ')}`;
  return { tooltip, items };
}
