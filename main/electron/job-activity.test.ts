import { describe, expect, it } from 'vitest';
import { JobActivity, SuspensionBlocker, type PowerSaveBlockerLike } from './job-activity';
import type { TerminalJobStatus } from '../../shared/domain';

const end = (jobId: string, outcome: TerminalJobStatus, error: string | null = null) => ({ jobId, vmContextId: `ctx-${jobId}`, outcome, error });

function fakePsb() {
  const held = new Set<number>();
  const calls: string[] = [];
  let next = 1;
  const psb: PowerSaveBlockerLike = {
    start: (type) => {
      calls.push(`start:${type}`);
      held.add(next);
      return next++;
    },
    stop: (id) => {
      calls.push(`stop:${id}`);
      held.delete(id);
    },
  };
  return { psb, held, calls };
}

describe('JobActivity', () => {
  it('counts a start once per job and reports an end once, counting active jobs', () => {
    const a = new JobActivity();
    expect(a.started({ jobId: 'a' })).toBe(true);
    expect(a.started({ jobId: 'b' })).toBe(true);
    expect(a.started({ jobId: 'a' })).toBe(false);
    expect(a.activeCount).toBe(2);
    expect(a.endedWith(end('a', 'failed', 'VMA unreachable'))).toEqual({ jobId: 'a', vmContextId: 'ctx-a', status: 'failed', error: 'VMA unreachable' });
    expect(a.activeCount).toBe(1);
    expect(a.endedWith(end('a', 'failed', 'VMA unreachable'))).toBeNull();
    // An ended job is never counted as running again.
    expect(a.started({ jobId: 'a' })).toBe(false);
    expect(a.endedWith(end('b', 'completed'))?.status).toBe('completed');
    expect(a.activeCount).toBe(0);
  });

  it('counts jobs that were running before the shell started', () => {
    const a = new JobActivity(['old']);
    expect(a.activeCount).toBe(1);
    expect(a.endedWith(end('old', 'cancelled'))?.jobId).toBe('old');
    expect(a.activeCount).toBe(0);
  });
});

describe('SuspensionBlocker', () => {
  it('holds one app-suspension blocker while any job runs and releases it after the last', () => {
    const f = fakePsb();
    const blocker = new SuspensionBlocker(f.psb);
    const activity = new JobActivity();
    const start = (id: string) => blocker.update((activity.started({ jobId: id }), activity.activeCount));
    const finish = (id: string, outcome: TerminalJobStatus) => blocker.update((activity.endedWith(end(id, outcome)), activity.activeCount));
    start('a');
    start('b');
    expect(f.calls).toEqual(['start:prevent-app-suspension']);
    finish('a', 'completed');
    expect(blocker.held).toBe(true);
    finish('b', 'failed');
    expect(blocker.held).toBe(false);
    expect(f.held.size).toBe(0);
    start('c');
    expect(f.calls).toEqual(['start:prevent-app-suspension', 'stop:1', 'start:prevent-app-suspension']);
    blocker.release();
    expect(f.held.size).toBe(0);
  });
});
