import type { TerminalJobStatus, VmContextStatus } from '../../shared/domain';
import { AppError } from '../../shared/errors';

// The one place that knows which VM-context status moves are legal, and the one path that moves a
// VM's status: moveContextStatus below. Its only store is main/db/repositories/context-status.ts
// (the only SQL that writes vm_contexts.current_status; a test keeps it so).
const ALLOWED: Record<VmContextStatus, readonly VmContextStatus[]> = {
  discovered: ['replicating', 'failed', 'cleanup_required'],
  replicating: ['ready_for_failover', 'failed', 'discovered', 'cleanup_required'],
  ready_for_failover: ['replicating', 'failing_over', 'failed', 'cleanup_required'],
  failing_over: ['replicating', 'failed_over_test', 'failed_over_live', 'failed', 'cleanup_required', 'rolling_back', 'ready_for_failover'],
  failed_over_test: ['rolling_back', 'failing_over', 'cleanup_required', 'failed'],
  failed_over_live: ['rolling_back', 'cleanup_required', 'failed'],
  rolling_back: ['ready_for_failover', 'discovered', 'failed', 'cleanup_required'],
  failed: ['replicating', 'discovered', 'ready_for_failover', 'failing_over', 'cleanup_required', 'rolling_back'],
  cleanup_required: ['discovered', 'ready_for_failover', 'failed', 'rolling_back'],
};

export function canTransition(from: VmContextStatus, to: VmContextStatus): boolean {
  return from === to || ALLOWED[from].includes(to);
}

/** Throws a conflict naming the VM, both states and where it could go instead. */
export function assertTransition(from: VmContextStatus, to: VmContextStatus, vmName?: string): void {
  if (!canTransition(from, to)) {
    throw new AppError(
      'conflict',
      `${vmName ?? 'A VM'} cannot go from ${from} to ${to} (from ${from} it can go to: ${ALLOWED[from].join(', ')})`,
      { from, to },
    );
  }
}

/** Where a VM's status is kept; implemented once, over the database (main/db/repositories/context-status.ts). */
export interface ContextStatusStore {
  read(contextId: string): { name: string; status: VmContextStatus } | null;
  write(contextId: string, status: VmContextStatus): void;
}

/**
 * Moves one VM's status, refusing a move the table above does not allow. Staying put writes
 * nothing. Callers that change other columns with the status run this inside their transaction.
 */
export function moveContextStatus(store: ContextStatusStore, contextId: string, to: VmContextStatus): { from: VmContextStatus; to: VmContextStatus; changed: boolean } {
  const current = store.read(contextId);
  if (!current) throw new AppError('not_found', `No VM context with id ${contextId}`);
  assertTransition(current.status, to, current.name);
  if (current.status === to) return { from: to, to, changed: false };
  store.write(contextId, to);
  return { from: current.status, to, changed: true };
}

export { FAILOVER_BUSY_STATUSES } from '../../shared/domain';

/** What is known when a replication job ends, for deciding the VM's status and replica state. */
export interface JobEndFacts {
  /** The context's status while the job ran. */
  from: VmContextStatus;
  jobId: string;
  outcome: TerminalJobStatus;
  /** The replicate request was sent: from then on the copier may have written the volumes. */
  copyRequested: boolean;
  /** Disks of this job whose copy did not finish (no change-id callback). */
  unfinishedDisks: number;
  /** The job that had left the replica torn before this one, if any. */
  previousTornJobId: string | null;
  /** Some sync of this VM completed (this one or an earlier one). */
  hasCompletedSync: boolean;
}

export interface JobEndState {
  status: VmContextStatus;
  /** The job whose unfinished copy left the replica torn; null when the replica is consistent. */
  replicaTornJobId: string | null;
}

/**
 * The one decision of a VM's status and replica state after a job ends (lessons 1–2: one function,
 * one writer: JobRepository.finish). A sync that may have written blocks and did not finish every
 * disk leaves the volumes holding part of a newer sync over an older one: no point in time of the
 * source, so the VM is not ready for failover until a sync completes. A sync that failed before the
 * copy was requested, or whose every disk finished, leaves the previous replica as it was.
 */
export function statusAfterJob(f: JobEndFacts): JobEndState {
  const tornNow = f.outcome !== 'completed' && f.copyRequested && f.unfinishedDisks > 0;
  const replicaTornJobId = f.outcome === 'completed' ? null : tornNow ? f.jobId : f.previousTornJobId;
  // While a failover owns the VM, its engine decides the status (it reads the torn marker itself).
  if (f.from !== 'replicating') return { status: f.from, replicaTornJobId };
  if (f.outcome === 'completed') return { status: 'ready_for_failover', replicaTornJobId };
  const withoutReplica: VmContextStatus = f.outcome === 'failed' ? 'failed' : 'discovered';
  if (!f.hasCompletedSync) return { status: withoutReplica, replicaTornJobId };
  return { status: replicaTornJobId ? 'failed' : 'ready_for_failover', replicaTornJobId };
}
