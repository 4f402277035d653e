import { FAILOVER_BUSY_STATUSES } from '../../../shared/domain';
import type { VmContextSummary } from '../../../shared/domain';
import { statusText } from '../../../shared/status-text';

/** Why a sync cannot start right now for this VM, or null when it can (the core decides; this only explains early). */
export function startBlockedReason(c: VmContextSummary): string | null {
  if (c.currentJobId) return `Job ${c.currentJobId} is already running for this VM.`;
  if (FAILOVER_BUSY_STATUSES.includes(c.status)) return `The VM is ${statusText(c.status).toLowerCase()}; replication is not possible in this state.`;
  if (!c.enabled) return 'This VM is disabled.';
  return null;
}
