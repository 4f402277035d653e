import { describe, expect, it } from 'vitest';
import type { FailoverStatus } from '../../shared/domain';
import { FailoverActivity, runningFailovers, type FailoverSeen } from './failover-activity';
import { SuspensionBlocker, type PowerSaveBlockerLike } from './job-activity';
import { failoverNotificationFor } from './notifications';

const fo = (id: string, status: FailoverStatus, extra: Partial<FailoverSeen> = {}): FailoverSeen => ({ id, vmContextId: `ctx-${id}`, kind: 'test', status, error: null, ...extra });

/** Records what the shell would ask of Electron's powerSaveBlocker. */
function recordingBlocker() {
  const calls: string[] = [];
  let next = 1;
  const psb: PowerSaveBlockerLike = {
    start: (type) => {
      calls.push(`start ${type}`);
      return next++;
    },
    stop: (id) => void calls.push(`stop ${id}`),
  };
  return { calls, blocker: new SuspensionBlocker(psb) };
}

describe('FailoverActivity', () => {
  it('reports a failover starting and ending, with its outcome, once', () => {
    const a = new FailoverActivity();
    expect(a.apply([fo('f1', 'pending')])).toEqual({ started: ['f1'], ended: [], activeCount: 1 });
    expect(a.apply([fo('f1', 'snapshotting')])).toEqual({ started: [], ended: [], activeCount: 1 });
    const end = a.apply([fo('f1', 'failed', { error: 'Start the VM: insufficient capacity' })]);
    expect(end.ended).toEqual([{ failoverId: 'f1', vmContextId: 'ctx-f1', kind: 'test', rollback: false, status: 'failed', error: 'Start the VM: insufficient capacity' }]);
    expect(end.activeCount).toBe(0);
    expect(a.apply([fo('f1', 'failed')]).ended).toEqual([]);
  });

  it('a rollback is an activity of its own: the failover ended completed, then the rollback ends', () => {
    const a = new FailoverActivity([fo('f1', 'starting_vm', { kind: 'live' })]);
    expect(a.activeCount).toBe(1);
    const c = a.apply([fo('f1', 'rolling_back', { kind: 'live' })]);
    expect(c.ended).toEqual([expect.objectContaining({ failoverId: 'f1', rollback: false, status: 'completed' })]);
    expect(c.started).toEqual(['f1']);
    expect(a.apply([fo('f1', 'cleanup_required', { kind: 'live', error: 'rollback failed at Reattach' })]).ended).toEqual([
      expect.objectContaining({ rollback: true, status: 'cleanup_required', error: 'rollback failed at Reattach' }),
    ]);
  });

  it('ignores failovers that already ended before the shell started, and forgets ones no longer listed', () => {
    const a = new FailoverActivity([fo('old', 'completed'), fo('gone', 'creating_vm')]);
    expect(a.activeCount).toBe(1);
    expect(a.apply([fo('old', 'completed')])).toEqual({ started: [], ended: [], activeCount: 0 });
  });

  it('holds the suspension blocker while a failover works and releases it when it ends', () => {
    const { calls, blocker } = recordingBlocker();
    const a = new FailoverActivity();
    blocker.update(a.apply([fo('f1', 'powering_off')]).activeCount);
    expect(blocker.held).toBe(true);
    blocker.update(a.apply([fo('f1', 'final_sync')]).activeCount);
    blocker.update(a.apply([fo('f1', 'completed')]).activeCount);
    expect(blocker.held).toBe(false);
    expect(calls).toEqual(['start prevent-app-suspension', 'stop 1']);
  });
});

describe('failoverNotificationFor', () => {
  const ended = (status: FailoverStatus, rollback = false, error: string | null = null) => ({ failoverId: 'f1', vmContextId: 'ctx-1', kind: 'live' as const, rollback, status, error });

  it('follows the notification level: off says nothing, failures only failures', () => {
    expect(failoverNotificationFor(ended('failed', false, 'x'), 'off', 'web-01')).toBeNull();
    expect(failoverNotificationFor(ended('completed'), 'failures', 'web-01')).toBeNull();
    expect(failoverNotificationFor(ended('cleanup_required', true, 'rollback failed at Reattach'), 'failures', 'web-01')).toEqual({
      title: 'Rollback of the live failover of web-01 needs cleanup',
      body: 'rollback failed at Reattach',
      open: { vmContextId: 'ctx-1', jobId: null },
    });
  });

  it('with all, completions of failovers and rollbacks notify, naming the kind', () => {
    expect(failoverNotificationFor(ended('completed'), 'all', 'web-01')?.title).toBe('Live failover of web-01 completed');
    expect(failoverNotificationFor(ended('rolled_back', true), 'all', 'web-01')?.title).toBe('Rollback of the live failover of web-01 completed');
    expect(failoverNotificationFor(ended('failed', false, 'Final incremental sync: timed out'), 'all', null)).toMatchObject({ title: 'Live failover of ctx-1 failed', body: 'Final incremental sync: timed out' });
  });
});

describe('runningFailovers', () => {
  it('keeps only working failovers, names them by their source VM and marks rollbacks', () => {
    const names: Record<string, string> = { 'ctx-f1': 'db-01' };
    const views = runningFailovers(
      [fo('f1', 'final_sync', { kind: 'live', phase: 'Final incremental sync' }), fo('f2', 'rolling_back'), fo('f3', 'completed'), fo('f4', 'failed'), fo('f5', 'cleanup_required')],
      (id) => names[id] ?? null,
    );
    expect(views).toEqual([
      { failoverId: 'f1', vmContextId: 'ctx-f1', vmName: 'db-01', kind: 'live', rollback: false, phase: 'Final incremental sync' },
      // A VM whose name is unknown is still listed (by its id) rather than hidden.
      { failoverId: 'f2', vmContextId: 'ctx-f2', vmName: 'ctx-f2', kind: 'test', rollback: true, phase: null },
    ]);
  });
});
