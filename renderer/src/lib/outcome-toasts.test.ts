import { describe, expect, it } from 'vitest';
import type { JobProgressUpdate } from '../../../shared/contract';
import type { VmContextSummary } from '../../../shared/domain';
import { failoverOutcomeToasts, jobOutcomeToasts, toastsToShow, type Toast } from './outcome-toasts';

const update = (jobId: string, status: JobProgressUpdate['status'], error: string | null = null): JobProgressUpdate => ({
  jobId, vmContextId: `ctx-${jobId}`, status, phase: '', progressPercent: 0, bytesTransferred: 0, totalBytes: 0, rateBps: 0, etaSeconds: null, error, disks: [],
});
const ctx = (id: string, status: VmContextSummary['status'], lastError: string | null = null) =>
  ({ id, name: `vm-${id}`, status, lastError, updatedAt: '2026-06-01T00:00:00Z' }) as VmContextSummary;

describe('outcome toasts', () => {
  it('announce each ended job once, with the failure reason, and nothing for running frames', () => {
    const announced = new Set<string>();
    const name = (id: string) => id.replace('ctx-', 'vm-');
    const first = jobOutcomeToasts([update('a', 'replicating'), update('b', 'completed'), update('c', 'failed', 'stalled: no progress')], name, announced);
    expect(first.map((t) => [t.tone, t.text])).toEqual([
      ['ok', 'Sync of vm-b completed'],
      ['error', 'Sync of vm-c failed: stalled: no progress'],
    ]);
    expect(jobOutcomeToasts([update('b', 'completed'), update('d', 'cancelled')], name, announced).map((t) => t.text)).toEqual(['Sync of vm-d cancelled']);
  });

  it('announce a failover or rollback when the VM leaves that state, and nothing for other moves', () => {
    const before = { a: 'failing_over', b: 'failing_over', c: 'rolling_back', d: 'replicating' } as const;
    const toasts = failoverOutcomeToasts({ ...before }, [
      ctx('a', 'failed_over_test'),
      ctx('b', 'cleanup_required', 'createVirtualMachine failed'),
      ctx('c', 'ready_for_failover'),
      ctx('d', 'ready_for_failover'),
      ctx('e', 'failed_over_live'),
    ]);
    expect(toasts.map((t) => [t.vmContextId, t.tone, t.text])).toEqual([
      ['a', 'ok', 'Test failover of vm-a completed: the VM runs in CloudStack'],
      ['b', 'error', 'Failover of vm-b failed and needs cleanup: createVirtualMachine failed'],
      ['c', 'ok', 'Rollback of vm-c completed'],
    ]);
  });
});

describe('toastsToShow', () => {
  const sync: Toast = { id: 'job-1', tone: 'ok', text: 'Sync of web1 completed', vmContextId: 'ctx-web1', shownOn: 'vms' };
  const failover: Toast = { id: 'failover-1', tone: 'ok', text: 'Test failover of web1 completed', vmContextId: 'ctx-web1', shownOn: 'failover' };

  it('shows an outcome on other screens only, and never for the VM whose panel is open', () => {
    expect(toastsToShow([sync, failover], { screen: 'overview', selectedContextId: 'ctx-web1' })).toEqual([sync, failover]);
    expect(toastsToShow([sync, failover], { screen: 'failover', selectedContextId: null })).toEqual([sync]);
    expect(toastsToShow([sync, failover], { screen: 'vms', selectedContextId: null })).toEqual([failover]);
    expect(toastsToShow([sync, failover], { screen: 'vms', selectedContextId: 'ctx-web1' })).toEqual([]);
    expect(toastsToShow([failover], { screen: 'vms', selectedContextId: 'ctx-other' })).toEqual([failover]);
  });
});
