import type { VmContextSummary } from '../../../shared/domain';
import { needsAttention, type VmStatusCounts } from '../../../shared/vm-order';

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
    if (needsAttention(c)) attention++;
    if (c.status === 'replicating') replicating++;
    if (c.status === 'failed_over_test' || c.status === 'failed_over_live') failedOver++;
  }
  return { total: contexts.length, attention, replicating, failedOver };
}

/** The same counts from the core's whole-set counts, shown while only the first page of the list is in. */
export function sidebarCountsFrom(counts: VmStatusCounts): ReturnType<typeof sidebarCounts> {
  const by = counts.byDisplayStatus;
  return {
    total: counts.total,
    attention: counts.attention,
    replicating: by.replicating ?? 0,
    failedOver: (by.failed_over_test ?? 0) + (by.failed_over_live ?? 0),
  };
}
