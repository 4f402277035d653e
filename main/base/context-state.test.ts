import { describe, expect, it } from 'vitest';
import { VM_CONTEXT_STATUSES, type VmContextStatus } from '../../shared/domain';
import { assertTransition, canTransition, moveContextStatus, statusAfterJob, type JobEndFacts } from './context-state';

describe('VM context state machine', () => {
  it('allows the replication lifecycle and staying put', () => {
    expect(canTransition('discovered', 'replicating')).toBe(true);
    expect(canTransition('replicating', 'ready_for_failover')).toBe(true);
    expect(canTransition('ready_for_failover', 'replicating')).toBe(true);
    for (const s of VM_CONTEXT_STATUSES) expect(canTransition(s, s)).toBe(true);
  });

  it('needs an explicit in-progress state before a failover result (lesson 3)', () => {
    expect(canTransition('ready_for_failover', 'failed_over_live')).toBe(false);
    expect(canTransition('ready_for_failover', 'failing_over')).toBe(true);
    expect(canTransition('failing_over', 'failed_over_live')).toBe(true);
    expect(canTransition('discovered', 'failing_over')).toBe(false);
  });

  it('refuses illegal moves with a conflict naming both states', () => {
    expect(() => assertTransition('failed_over_live', 'replicating')).toThrow(/cannot go from failed_over_live to replicating/);
    try {
      assertTransition('discovered', 'failed_over_test');
    } catch (e) {
      expect((e as { code: string }).code).toBe('conflict');
    }
  });
});

describe('the transition table', () => {
  // Written out in full: a change to the table is a change to this specification.
  const TABLE: Record<VmContextStatus, VmContextStatus[]> = {
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

  it('allows exactly the listed moves (and staying put) and refuses every other pair', () => {
    for (const from of VM_CONTEXT_STATUSES) {
      for (const to of VM_CONTEXT_STATUSES) {
        const allowed = from === to || TABLE[from].includes(to);
        expect(canTransition(from, to), `${from} → ${to}`).toBe(allowed);
        if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
        else expect(() => assertTransition(from, to, 'pgtest1')).toThrow(`pgtest1 cannot go from ${from} to ${to}`);
      }
    }
  });

  it('no VM is stuck: every status can reach discovered or ready_for_failover', () => {
    for (const start of VM_CONTEXT_STATUSES) {
      const seen = new Set<VmContextStatus>([start]);
      const queue = [start];
      while (queue.length) {
        for (const n of TABLE[queue.shift()!]) {
          if (!seen.has(n)) {
            seen.add(n);
            queue.push(n);
          }
        }
      }
      expect(seen.has('discovered') || seen.has('ready_for_failover'), start).toBe(true);
    }
  });

  it('a replication never starts from a failed-over or in-flight failover state without going through the failover', () => {
    for (const s of ['failed_over_live', 'failed_over_test', 'rolling_back'] as const) expect(canTransition(s, 'replicating')).toBe(false);
  });
});

describe('moveContextStatus', () => {
  it('writes only allowed moves to its store, nothing when staying put, and names a missing VM', () => {
    const rows = new Map<string, { name: string; status: VmContextStatus }>([['c1', { name: 'pgtest1', status: 'discovered' }]]);
    const writes: string[] = [];
    const store = { read: (id: string) => rows.get(id) ?? null, write: (id: string, s: VmContextStatus) => (writes.push(`${id}:${s}`), rows.set(id, { ...rows.get(id)!, status: s })) };
    expect(moveContextStatus(store, 'c1', 'replicating')).toEqual({ from: 'discovered', to: 'replicating', changed: true });
    expect(moveContextStatus(store, 'c1', 'replicating').changed).toBe(false);
    expect(() => moveContextStatus(store, 'c1', 'failed_over_live')).toThrow(/pgtest1 cannot go from replicating to failed_over_live/);
    expect(() => moveContextStatus(store, 'nope', 'failed')).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(writes).toEqual(['c1:replicating']);
  });
});

describe('statusAfterJob', () => {
  const base: JobEndFacts = {
    from: 'replicating',
    jobId: 'job-b',
    outcome: 'failed',
    copyRequested: true,
    unfinishedDisks: 1,
    previousTornJobId: null,
    hasCompletedSync: true,
  };
  const after = (f: Partial<JobEndFacts>) => statusAfterJob({ ...base, ...f });

  it('a sync that may have written blocks and did not finish every disk tears the replica: not ready for failover', () => {
    expect(after({})).toEqual({ status: 'failed', replicaTornJobId: 'job-b' });
    expect(after({ outcome: 'cancelled' })).toEqual({ status: 'failed', replicaTornJobId: 'job-b' });
    // A later torn job names itself.
    expect(after({ previousTornJobId: 'job-a' })).toEqual({ status: 'failed', replicaTornJobId: 'job-b' });
  });

  it('a sync that failed before the copy was requested leaves the previous replica as it was', () => {
    expect(after({ copyRequested: false })).toEqual({ status: 'ready_for_failover', replicaTornJobId: null });
    expect(after({ copyRequested: false, outcome: 'cancelled' })).toEqual({ status: 'ready_for_failover', replicaTornJobId: null });
    // ...including a replica an earlier job had already torn: still not ready, still that job.
    expect(after({ copyRequested: false, previousTornJobId: 'job-a' })).toEqual({ status: 'failed', replicaTornJobId: 'job-a' });
  });

  it('a failed sync whose every disk finished its copy leaves a consistent replica', () => {
    expect(after({ unfinishedDisks: 0 })).toEqual({ status: 'ready_for_failover', replicaTornJobId: null });
  });

  it('a completed sync clears the torn marker and makes the VM ready', () => {
    expect(after({ outcome: 'completed', unfinishedDisks: 0, previousTornJobId: 'job-a' })).toEqual({ status: 'ready_for_failover', replicaTornJobId: null });
  });

  it('without any completed sync the VM is failed or back to discovered, torn or not', () => {
    expect(after({ hasCompletedSync: false })).toEqual({ status: 'failed', replicaTornJobId: 'job-b' });
    expect(after({ hasCompletedSync: false, outcome: 'cancelled' })).toEqual({ status: 'discovered', replicaTornJobId: 'job-b' });
    expect(after({ hasCompletedSync: false, copyRequested: false, outcome: 'cancelled' })).toEqual({ status: 'discovered', replicaTornJobId: null });
  });

  it('while a failover owns the VM the status stays, but the torn marker is still recorded', () => {
    expect(after({ from: 'failing_over' })).toEqual({ status: 'failing_over', replicaTornJobId: 'job-b' });
    expect(after({ from: 'failing_over', outcome: 'completed', previousTornJobId: 'job-a' })).toEqual({ status: 'failing_over', replicaTornJobId: null });
  });

  it('never yields a move the state machine refuses', () => {
    for (const from of VM_CONTEXT_STATUSES) {
      for (const outcome of ['completed', 'failed', 'cancelled'] as const) {
        for (const copyRequested of [true, false]) {
          for (const hasCompletedSync of [true, false]) {
            const { status } = after({ from, outcome, copyRequested, hasCompletedSync });
            if (from === 'replicating') expect(canTransition(from, status)).toBe(true);
            else expect(status).toBe(from);
          }
        }
      }
    }
  });
});
