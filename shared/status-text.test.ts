import { describe, expect, it } from 'vitest';
import { FAILOVER_STATUSES, JOB_STATUSES, STEP_STATUSES, VM_CONTEXT_STATUSES } from './domain';
import { STATUS_TEXT, statusText, vmDisplayStatus, vmStatusText } from './status-text';

describe('status vocabulary', () => {
  it('has a word for every stored VM, job, step and failover status', () => {
    for (const s of [...VM_CONTEXT_STATUSES, ...JOB_STATUSES, ...STEP_STATUSES, ...FAILOVER_STATUSES]) {
      expect(STATUS_TEXT[s], s).toBeTruthy();
    }
  });
  it('uses one word for a state that both a VM and a job can be in', () => {
    expect(statusText('replicating')).toBe('Replicating');
    expect(statusText('failed')).toBe('Failed');
  });
  it('never calls a managed VM without a replica "Discovered"', () => {
    const c = { status: 'discovered' as const, lastSuccessfulSyncAt: null, enabled: true };
    expect(vmStatusText(c)).toBe('Not synced');
    expect(vmStatusText(c)).not.toMatch(/discovered/i);
    expect(vmDisplayStatus({ ...c, lastSuccessfulSyncAt: '2026-12-01T00:00:00Z' })).toBe('synced');
    expect(vmDisplayStatus({ ...c, enabled: false })).toBe('disabled');
    expect(vmStatusText({ ...c, status: 'ready_for_failover', lastSuccessfulSyncAt: '2026-12-01T00:00:00Z' })).toBe('Ready for failover');
  });
  it('humanises an unknown value instead of hiding it', () => {
    expect(statusText('some_new_state')).toBe('Some new state');
  });
});
