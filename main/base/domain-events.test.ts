import { describe, expect, it } from 'vitest';
import { DomainEvents, type DomainEvent } from './domain-events';

describe('DomainEvents', () => {
  it('delivers each event once, in order, only to listeners of its type; unsubscribing stops delivery', () => {
    const events = new DomainEvents();
    const counts: number[] = [];
    const ended: DomainEvent[] = [];
    const off = events.on('active-jobs-changed', (e) => counts.push(e.count));
    events.on('job-ended', (e) => ended.push(e));
    events.emit({ type: 'active-jobs-changed', count: 1 });
    events.emit({ type: 'active-jobs-changed', count: 2 });
    off();
    events.emit({ type: 'active-jobs-changed', count: 3 });
    events.emit({ type: 'job-ended', jobId: 'j1', vmContextId: 'c1', outcome: 'failed', error: 'boom' });
    expect(counts).toEqual([1, 2]);
    expect(ended).toEqual([{ type: 'job-ended', jobId: 'j1', vmContextId: 'c1', outcome: 'failed', error: 'boom' }]);
  });

  it('a throwing listener is reported and neither stops the others nor reaches the emitter', () => {
    const failures: string[] = [];
    const events = new DomainEvents((type, e) => failures.push(`${type}: ${(e as Error).message}`));
    const got: string[] = [];
    events.on('job-started', () => {
      throw new Error('listener broke');
    });
    events.on('job-started', (e) => got.push(e.jobId));
    expect(() => events.emit({ type: 'job-started', jobId: 'j1', vmContextId: 'c1', trigger: 'ui' })).not.toThrow();
    expect(got).toEqual(['j1']);
    expect(failures).toEqual(['job-started: listener broke']);
  });
});
