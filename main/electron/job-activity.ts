// Pure: turns the core's coalesced 'jobs:progress' updates into "a job started" / "a job ended"
// transitions. The suspension blocker and the notifications hang off these.
import { TERMINAL_JOB_STATUSES, type JobStatus, type TerminalJobStatus } from '../../shared/domain';
import type { JobProgressUpdate } from '../../shared/contract';

export interface JobEnded {
  jobId: string;
  vmContextId: string;
  status: TerminalJobStatus;
  error: string | null;
}

export interface ActivityChange {
  started: string[];
  ended: JobEnded[];
  activeCount: number;
}

const isTerminal = (s: JobStatus): s is TerminalJobStatus => (TERMINAL_JOB_STATUSES as readonly string[]).includes(s);

/** Ended jobs remembered so a repeated terminal update does not notify twice; older ones are forgotten. */
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

  apply(updates: Pick<JobProgressUpdate, 'jobId' | 'vmContextId' | 'status' | 'error'>[]): ActivityChange {
    const change: ActivityChange = { started: [], ended: [], activeCount: 0 };
    for (const u of updates) {
      if (isTerminal(u.status)) {
        this.active.delete(u.jobId);
        // A job that started and ended within one coalescing window arrives only as its end.
        if (!this.ended.has(u.jobId)) {
          this.remember(u.jobId);
          change.ended.push({ jobId: u.jobId, vmContextId: u.vmContextId, status: u.status, error: u.error });
        }
      } else if (!this.active.has(u.jobId) && !this.ended.has(u.jobId)) {
        this.active.add(u.jobId);
        change.started.push(u.jobId);
      }
    }
    change.activeCount = this.active.size;
    return change;
  }

  private remember(jobId: string): void {
    this.ended.add(jobId);
    if (this.ended.size > ENDED_MEMORY) this.ended.delete(this.ended.values().next().value!);
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
