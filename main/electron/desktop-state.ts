// What the desktop shell (tray, close and quit decisions, notifications) needs to know about the
// core, as one small port. The shell's logic is tested against plain objects implementing it.
import type { Core } from '../core/core';
import type { ResumeDeps } from './resume';

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

/** The core's side of resume handling (main/electron/resume.ts). */
export function resumeDepsFor(core: Core): ResumeDeps {
  const scheduler = (core as { scheduler?: { catchUp?: (from: Date | null, now: Date) => Promise<string | null> } }).scheduler;
  return {
    activeJobIds: () => core.jobs.active().map((j) => j.id),
    appliancesToReconnect: () => {
      const ids = new Set(core.appliances.tunnelStates().filter((t) => t.state !== 'disconnected').map((t) => t.applianceId));
      for (const j of core.jobs.active()) {
        const vma = core.contexts.get(j.vmContextId)?.vmaApplianceId;
        if (vma) ids.add(vma);
      }
      const names = new Map(core.appliances.list().map((a) => [a.id, a.name]));
      return [...ids].filter((id) => names.has(id)).map((id) => ({ id, name: names.get(id)! }));
    },
    reconnect: async (id) => {
      // The SSH session did not survive the sleep; waiting for keepalives to notice takes minutes.
      await core.appliances.disconnect(id);
      const s = await core.appliances.connect(id);
      return { ok: s.state === 'ready', detail: s.reason ?? s.state };
    },
    reconcile: () => core.engine.reconcile(),
    catchUp: async (from, now) => (typeof scheduler?.catchUp === 'function' ? scheduler.catchUp(from, now) : null),
    logJob: (jobId, level, message) => {
      if (core.logbook.operation(jobId)) core.logbook.event(jobId, level, message);
    },
    logApp: (message, details) => core.logger.info(message, details),
  };
}
