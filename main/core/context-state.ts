import type { VmContextStatus } from '../../shared/domain';
import { AppError } from '../../shared/errors';

// The one place that knows which VM-context status moves are legal. Writers go through
// VmContextRepository.transition / recompute, which call this.
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

export function assertTransition(from: VmContextStatus, to: VmContextStatus): void {
  if (!canTransition(from, to)) {
    throw new AppError('conflict', `A VM cannot go from ${from} to ${to}`, { from, to });
  }
}

export { FAILOVER_BUSY_STATUSES } from '../../shared/domain';
