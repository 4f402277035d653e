// Job and failover outcomes as toasts (issue 12): pure, so the rules are tested without a browser.
import type { JobProgressUpdate } from '../../../shared/contract';
import type { VmContextStatus, VmContextSummary } from '../../../shared/domain';

export interface Toast {
  id: string;
  tone: 'ok' | 'error' | 'info';
  text: string;
  vmContextId: string;
  /** Which screen already shows this outcome: no toast while the operator looks at it there. */
  shownOn: 'vms' | 'failover';
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** One toast per job that reached an end state in these updates (a job already announced is skipped). */
export function jobOutcomeToasts(updates: JobProgressUpdate[], nameOf: (id: string) => string, announced: Set<string>): Toast[] {
  const out: Toast[] = [];
  for (const u of updates) {
    if (!TERMINAL.has(u.status) || announced.has(u.jobId)) continue;
    announced.add(u.jobId);
    const name = nameOf(u.vmContextId);
    out.push({
      id: `job-${u.jobId}`,
      vmContextId: u.vmContextId,
      shownOn: 'vms',
      tone: u.status === 'completed' ? 'ok' : u.status === 'failed' ? 'error' : 'info',
      text: u.status === 'completed' ? `Sync of ${name} completed` : u.status === 'failed' ? `Sync of ${name} failed${u.error ? `: ${u.error}` : ''}` : `Sync of ${name} cancelled`,
    });
  }
  return out;
}

const FAILOVER_OUTCOMES: Partial<Record<VmContextStatus, Partial<Record<VmContextStatus, [Toast['tone'], string]>>>> = {
  failing_over: {
    failed_over_test: ['ok', 'Test failover of {} completed: the VM runs in CloudStack'],
    failed_over_live: ['ok', 'Live failover of {} completed: the VM runs in CloudStack'],
    failed: ['error', 'Failover of {} failed'],
    cleanup_required: ['error', 'Failover of {} failed and needs cleanup'],
    ready_for_failover: ['error', 'Failover of {} failed; it was undone'],
  },
  rolling_back: {
    ready_for_failover: ['ok', 'Rollback of {} completed'],
    discovered: ['ok', 'Rollback of {} completed'],
    failed: ['error', 'Rollback of {} failed'],
    cleanup_required: ['error', 'Rollback of {} failed and needs cleanup'],
  },
};

/** A failover or rollback ended when a VM leaves failing_over / rolling_back; the toast says how. */
export function failoverOutcomeToasts(previous: Record<string, VmContextStatus>, changed: VmContextSummary[]): Toast[] {
  const out: Toast[] = [];
  for (const c of changed) {
    const before = previous[c.id];
    const rule = before ? FAILOVER_OUTCOMES[before]?.[c.status] : undefined;
    if (!rule) continue;
    const [tone, text] = rule;
    const reason = tone === 'error' && c.lastError ? `: ${c.lastError}` : '';
    out.push({ id: `failover-${c.id}-${c.updatedAt}`, vmContextId: c.id, shownOn: 'failover', tone, text: text.replace('{}', c.name) + reason });
  }
  return out;
}

/**
 * The toasts worth showing where the operator is: none for the screen that lists that outcome, and
 * none for the VM whose panel is open (it shows the outcome itself, failovers included).
 */
export function toastsToShow(list: Toast[], where: { screen: string; selectedContextId: string | null }): Toast[] {
  return list.filter((t) => t.shownOn !== where.screen && !(where.screen === 'vms' && where.selectedContextId === t.vmContextId));
}
