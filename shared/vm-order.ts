// The VM table's default order and the whole-set counts its summary bar and the sidebar show. Both
// the core (the first page it answers, main/db/repositories/vm-contexts.ts) and the renderer (the
// live store, renderer/src/store/contexts-store.ts) use these, so a first page painted before the
// full list arrives keeps its rows where the full list puts them.
import type { VmContextSummary } from './domain';
import { vmDisplayStatus, type VmDisplayStatus } from './status-text';

// A fixed locale: the core and the renderer may run with different default locales, and one order
// on both sides is what keeps the first page's rows still when the rest arrives.
const collator = new Intl.Collator('en', { numeric: true });

/** Two names in natural order ("vm-9" before "vm-10"); 0 for names the table cannot tell apart. */
export const compareNames = (a: string, b: string): number => collator.compare(a, b);

/** Name in natural order ("vm-9" before "vm-10"), then id, so equal names keep one order everywhere. */
export function compareVmNames(a: { readonly id: string; readonly name: string }, b: { readonly id: string; readonly name: string }): number {
  return collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Counts over every managed VM: by the status a row shows, plus the overview's "needs attention" rule. */
export interface VmStatusCounts {
  total: number;
  byDisplayStatus: Partial<Record<VmDisplayStatus, number>>;
  /** Failed, cleanup required, or a torn replica (renderer/src/lib/sidebar-counts.ts states the same rule). */
  attention: number;
}

export type StatusDigest = Pick<VmContextSummary, 'status' | 'lastSuccessfulSyncAt' | 'enabled' | 'replicaTornJobId'>;

export function needsAttention(c: Pick<VmContextSummary, 'status' | 'replicaTornJobId'>): boolean {
  return c.status === 'failed' || c.status === 'cleanup_required' || Boolean(c.replicaTornJobId);
}

export function countStatuses(list: Iterable<StatusDigest>): VmStatusCounts {
  const byDisplayStatus: Partial<Record<VmDisplayStatus, number>> = {};
  let total = 0;
  let attention = 0;
  for (const c of list) {
    total++;
    const d = vmDisplayStatus(c);
    byDisplayStatus[d] = (byDisplayStatus[d] ?? 0) + 1;
    if (needsAttention(c)) attention++;
  }
  return { total, byDisplayStatus, attention };
}
