// One vocabulary for every status an operator reads: the VM table, the VM panel, the job badge, the
// step pipeline and the CLI say the same word for the same state. Keys are the stored values; a status
// that appears in several lists (failed, completed, replicating…) has one word everywhere.
import type { JobStatus, VmContextStatus, VmContextSummary } from './domain';

export const STATUS_TEXT: Record<string, string> = {
  // VM contexts
  discovered: 'Not synced',
  replicating: 'Replicating',
  ready_for_failover: 'Ready for failover',
  failing_over: 'Failing over',
  failed_over_test: 'Failed over (test)',
  failed_over_live: 'Failed over (live)',
  rolling_back: 'Rolling back',
  failed: 'Failed',
  cleanup_required: 'Cleanup required',
  // Replication jobs (setup steps say what the console is doing, the copy says "Replicating")
  pending: 'Queued',
  provisioning: 'Provisioning volumes',
  attaching: 'Attaching volumes',
  exporting: 'Publishing exports',
  starting: 'Starting copy',
  completed: 'Completed',
  cancelled: 'Cancelled',
  // Steps, disks, failovers
  running: 'Running',
  skipped: 'Not reached',
  transferring: 'Transferring',
  validating: 'Validating',
  snapshotting: 'Snapshotting',
  powering_off: 'Powering off',
  final_sync: 'Final sync',
  creating_vm: 'Creating VM',
  starting_vm: 'Starting VM',
  rolled_back: 'Rolled back',
  partial: 'Partial',
  managed: 'Managed',
};

/** The word for a stored status; an unknown value is shown humanised rather than hidden. */
export function statusText(status: string): string {
  const known = STATUS_TEXT[status];
  if (known) return known;
  const h = status.replace(/_/g, ' ');
  return h.charAt(0).toUpperCase() + h.slice(1);
}

/** VM statuses as the table groups and words them. A managed VM that never synced is "Not synced". */
export type VmDisplayStatus = VmContextStatus | 'synced' | 'disabled';

/**
 * The status a VM row shows. `discovered` is Discovery's word; under management it means "has no
 * replica yet" (or, after a replica exists, an idle VM that is neither failed nor ready).
 */
export function vmDisplayStatus(c: Pick<VmContextSummary, 'status' | 'lastSuccessfulSyncAt' | 'enabled'>): VmDisplayStatus {
  if (c.status === 'discovered') {
    if (!c.enabled) return 'disabled';
    return c.lastSuccessfulSyncAt ? 'synced' : 'discovered';
  }
  return c.status;
}

export function vmStatusText(c: Pick<VmContextSummary, 'status' | 'lastSuccessfulSyncAt' | 'enabled'>): string {
  const d = vmDisplayStatus(c);
  if (d === 'synced') return 'Synced';
  if (d === 'disabled') return 'Disabled';
  return statusText(d);
}

export function jobStatusText(s: JobStatus): string {
  return statusText(s);
}
