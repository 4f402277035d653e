// Pure: keeps the set of running jobs from the core's domain events ('job-started' and 'job-ended',
// main/base/domain-events.ts), each emitted once from the one place it happens. The suspension blocker
// and the notifications hang off these.
import type { TerminalJobStatus } from '../../shared/domain';
import type { DomainEventOf } from '../base/domain-events';

export interface JobEnded {
  jobId: string;
  vmContextId: string;
  status: TerminalJobStatus;
  error: string | null;
}

/** Ended jobs remembered so a job that was already counted as ended is never notified twice. */
const ENDED_MEMORY = 1000;

export class JobActivity {
  private readonly active = new Set<string>();
  private readonly ended = new Set<string>();

  /** `initiallyActive`: jobs already running when the shell starts (persisted from an earlier run). */
  constructor(initiallyActive: Iterable<string> = []) {
    for (const id of initiallyActive) this.active.add(id);
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** True when this job was not yet counted. */
  started(e: Pick<DomainEventOf<'job-started'>, 'jobId'>): boolean {
    if (this.active.has(e.jobId) || this.ended.has(e.jobId)) return false;
    this.active.add(e.jobId);
    return true;
  }

  /** What to report about a job that ended, or null when its end was already reported. */
  endedWith(e: Pick<DomainEventOf<'job-ended'>, 'jobId' | 'vmContextId' | 'outcome' | 'error'>): JobEnded | null {
    this.active.delete(e.jobId);
    if (this.ended.has(e.jobId)) return null;
    this.ended.add(e.jobId);
    if (this.ended.size > ENDED_MEMORY) this.ended.delete(this.ended.values().next().value!);
    return { jobId: e.jobId, vmContextId: e.vmContextId, status: e.outcome, error: e.error };
  }
}

/** The part of Electron's powerSaveBlocker used here. */
export interface PowerSaveBlockerLike {
  start(type: 'prevent-app-suspension'): number;
  stop(id: number): void;
}

/**
 * Holds one 'prevent-app-suspension' blocker while anything runs (the display may still sleep) and
 * releases it when the last job ends.
 */
export class SuspensionBlocker {
  private blockerId: number | null = null;

  constructor(private readonly psb: PowerSaveBlockerLike) {}

  update(activeCount: number): void {
    if (activeCount > 0 && this.blockerId === null) this.blockerId = this.psb.start('prevent-app-suspension');
    else if (activeCount <= 0 && this.blockerId !== null) this.release();
  }

  get held(): boolean {
    return this.blockerId !== null;
  }

  release(): void {
    if (this.blockerId === null) return;
    this.psb.stop(this.blockerId);
    this.blockerId = null;
  }
}
