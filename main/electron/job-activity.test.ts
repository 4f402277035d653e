import { describe, expect, it } from 'vitest';
import { JobActivity, SuspensionBlocker, type PowerSaveBlockerLike } from './job-activity';
import type { JobStatus } from '../../shared/domain';

const u = (jobId: string, status: JobStatus, error: string | null = null) => ({ jobId, vmContextId: `ctx-${jobId}`, status, error });

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
  it('reports a start once per job and an end once, counting active jobs', () => {
    const a = new JobActivity();
    expect(a.apply([u('a', 'provisioning'), u('b', 'pending')])).toEqual({ started: ['a', 'b'], ended: [], activeCount: 2 });
    expect(a.apply([u('a', 'replicating')])).toEqual({ started: [], ended: [], activeCount: 2 });
    expect(a.apply([u('a', 'failed', 'VMA unreachable')])).toEqual({
      started: [],
      ended: [{ jobId: 'a', vmContextId: 'ctx-a', status: 'failed', error: 'VMA unreachable' }],
      activeCount: 1,
    });
    expect(a.apply([u('a', 'failed', 'VMA unreachable')]).ended).toEqual([]);
    expect(a.apply([u('b', 'completed')]).activeCount).toBe(0);
  });

  it('counts jobs that were running before the shell started and reports a job seen only at its end', () => {
    const a = new JobActivity(['old']);
    expect(a.activeCount).toBe(1);
    const c = a.apply([u('fast', 'completed'), u('old', 'cancelled')]);
    expect(c.ended.map((e) => e.jobId)).toEqual(['fast', 'old']);
    expect(c.activeCount).toBe(0);
  });
});

describe('SuspensionBlocker', () => {
  it('holds one app-suspension blocker while any job runs and releases it after the last', () => {
    const f = fakePsb();
    const blocker = new SuspensionBlocker(f.psb);
    const activity = new JobActivity();
    const feed = (...x: ReturnType<typeof u>[]) => blocker.update(activity.apply(x).activeCount);
    feed(u('a', 'provisioning'));
    feed(u('b', 'provisioning'));
    expect(f.calls).toEqual(['start:prevent-app-suspension']);
    feed(u('a', 'completed'));
    expect(blocker.held).toBe(true);
    feed(u('b', 'failed'));
    expect(blocker.held).toBe(false);
    expect(f.held.size).toBe(0);
    feed(u('c', 'starting'));
    expect(f.calls).toEqual(['start:prevent-app-suspension', 'stop:1', 'start:prevent-app-suspension']);
    blocker.release();
    expect(f.held.size).toBe(0);
  });
});
