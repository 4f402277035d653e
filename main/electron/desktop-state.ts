// What the desktop shell (tray, close and quit decisions, notifications) needs to know about the
// core, as one small port. The shell's logic is tested against plain objects implementing it.
import type { Core } from '../core/core';

export interface RunningJobView {
  jobId: string;
  vmContextId: string;
  vmName: string;
  status: string;
  progressPercent: number;
}

export interface NextScheduledRun {
  scheduleName: string;
  at: Date;
}

export interface DesktopStatePort {
  runningJobs(): RunningJobView[];
  /**
   * Enabled schedules: the app stays in the tray for them. Returns 0 until the scheduler exists
   * (issue "scheduler"), which then implements this port.
   */
  enabledScheduleCount(): number;
  nextScheduledRun(): NextScheduledRun | null;
  vmName(vmContextId: string): string | null;
}

/** Optional scheduler surface; the core gains it with the scheduler. */
interface SchedulerLike {
  enabledCount?: () => number;
  nextRun?: () => { scheduleName: string; at: Date | string } | null;
}

export function coreDesktopState(core: Core): DesktopStatePort {
  const scheduler = (): SchedulerLike | null => {
    const s = (core as { scheduler?: unknown }).scheduler;
    return s && typeof s === 'object' ? (s as SchedulerLike) : null;
  };
  return {
    runningJobs: () =>
      core.jobs.active().map((j) => ({
        jobId: j.id,
        vmContextId: j.vmContextId,
        vmName: core.contexts.get(j.vmContextId)?.name ?? j.vmContextId,
        status: j.status,
        progressPercent: j.progressPercent,
      })),
    enabledScheduleCount: () => {
      const n = scheduler()?.enabledCount?.();
      return typeof n === 'number' && n > 0 ? n : 0;
    },
    nextScheduledRun: () => {
      const r = scheduler()?.nextRun?.();
      if (!r) return null;
      const at = r.at instanceof Date ? r.at : new Date(r.at);
      return Number.isNaN(at.getTime()) ? null : { scheduleName: r.scheduleName, at };
    },
    vmName: (id) => core.contexts.get(id)?.name ?? null,
  };
}
