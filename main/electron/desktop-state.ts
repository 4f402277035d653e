// What the desktop shell (tray, close and quit decisions, notifications) needs to know about the
// core, as one small port. The shell's logic is tested against plain objects implementing it.
import type { Core } from '../core/core';
import type { FailoverSeen } from './failover-activity';
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
  /** Enabled schedules: the app stays in the tray for them (they run only while it runs). */
  enabledScheduleCount(): number;
  nextScheduledRun(): NextScheduledRun | null;
  vmName(vmContextId: string): string | null;
  /** The latest failovers, every working one among them (the blocker and notifications follow these). */
  failovers(): FailoverSeen[];
}

export function coreDesktopState(core: Core): DesktopStatePort {
  return {
    runningJobs: () =>
      core.jobs.active().map((j) => ({
        jobId: j.id,
        vmContextId: j.vmContextId,
        vmName: core.contexts.get(j.vmContextId)?.name ?? j.vmContextId,
        status: j.status,
        progressPercent: j.progressPercent,
      })),
    enabledScheduleCount: () => core.schedules.list().filter((x) => x.enabled).length,
    nextScheduledRun: () => {
      let next: NextScheduledRun | null = null;
      for (const x of core.schedules.list()) {
        if (!x.enabled) continue;
        const at = core.scheduler.nextRun(x);
        if (at && (!next || at < next.at)) next = { scheduleName: x.name, at };
      }
      return next;
    },
    vmName: (id) => core.contexts.get(id)?.name ?? null,
    failovers: () => core.failover.list({ limit: 100 }),
  };
}

/** The core's side of resume handling (main/electron/resume.ts). */
export function resumeDepsFor(core: Core): ResumeDeps {
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
    // Runs missed while the machine slept follow each schedule's catch-up policy.
    catchUp: async () => {
      if (!core.scheduler.active) return null;
      core.scheduler.resume();
      return "schedules' catch-up policy applied to runs missed during sleep";
    },
    logJob: (jobId, level, message) => {
      if (core.logbook.operation(jobId)) core.logbook.event(jobId, level, message);
    },
    logApp: (message, details) => core.logger.info(message, details),
  };
}
