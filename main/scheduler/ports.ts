import type { JobStatus } from '../../shared/domain';
import type { CronFiring, CronSchedule, FiringHandlers } from './cron-schedule';
import type { DiscoveryOutcome, FreshDiscovery } from '../engine/replication-engine';

// What the scheduler needs from the rest of the core, as small interfaces: the composition root binds
// them to the replication engine and the appliance service; unit tests bind them to real SQLite
// repositories and a hand-driven clock.

export interface SchedulerClock {
  now(): Date;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => new Date(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ScheduledStartOptions {
  trigger: 'scheduler';
  scheduleExecutionId: string;
  vmGroupId: string;
  scheduledBy: string;
  /** The schedule's sync type is `full`: every disk is copied whole. */
  fullSync: boolean;
}

export interface SchedulerPorts {
  clock: SchedulerClock;
  /**
   * Fresh discovery of several managed VMs: one VMA request per VMA and credential, each VM picked
   * by exact name (or found by VMware id when renamed); each VM has its own outcome.
   */
  discover(contextIds: readonly string[]): Promise<Map<string, DiscoveryOutcome>>;
  /** The canonical path from that discovery (normaliser, claim, engine); resolves once the job exists. */
  startDiscovered(contextId: string, fresh: FreshDiscovery, options: ScheduledStartOptions): Promise<{ jobId: string }>;
  /** Resolves with the job's terminal status. */
  whenJobEnds(jobId: string): Promise<{ status: JobStatus; error: string | null }>;
  /** Null when the VMA answers; otherwise why it cannot be used now. */
  vmaProblem(vmaApplianceId: string): Promise<string | null>;
  /** Arms real firing (node-cron); tests fire by hand. */
  arm(schedule: CronSchedule, handlers: FiringHandlers): CronFiring;
}
