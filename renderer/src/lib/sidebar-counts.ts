import type { VmContextSummary } from '../../../shared/domain';

/**
 * The sidebar's counts, from the live VM list. "Attention" is the overview's rule (failed, cleanup
 * required, or a torn replica), so the badge and the overview's list agree.
 */
export function sidebarCounts(contexts: readonly Pick<VmContextSummary, 'status' | 'replicaTornJobId'>[]): {
  total: number;
  attention: number;
  replicating: number;
  failedOver: number;
} {
  let attention = 0;
  let replicating = 0;
  let failedOver = 0;
  for (const c of contexts) {
    if (c.status === 'failed' || c.status === 'cleanup_required' || c.replicaTornJobId) attention++;
    if (c.status === 'replicating') replicating++;
    if (c.status === 'failed_over_test' || c.status === 'failed_over_live') failedOver++;
  }
  return { total: contexts.length, attention, replicating, failedOver };
}
