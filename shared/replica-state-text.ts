import type { VmContextSummary } from './domain';

/**
 * One wording for a torn replica in the VM panel, `mkc contexts list` and job output: what happened,
 * which job did it, and what makes the VM ready for failover again. Null when the replica is consistent.
 */
export function replicaTornText(c: Pick<VmContextSummary, 'replicaTornJobId'>): string | null {
  if (!c.replicaTornJobId) return null;
  return `Replica torn by ${c.replicaTornJobId} (copy stopped after writing blocks): not ready for failover until a sync completes; the next sync copies the unfinished disks in full`;
}
