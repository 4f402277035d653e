import { describe, expect, it } from 'vitest';
import { EventBus } from './event-bus';
import type { JobProgressUpdate } from '../../shared/contract';

const update = (jobId: string, pct: number): JobProgressUpdate => ({
  jobId, vmContextId: 'c', status: 'replicating', phase: 'Transfer', progressPercent: pct, bytesTransferred: pct,
  totalBytes: 100, rateBps: 1, etaSeconds: null, error: null, disks: [],
});

describe('EventBus', () => {
  it('batches events until the timer fires and keeps only the latest update per job', () => {
    const timers: (() => void)[] = [];
    const bus = new EventBus({ setTimer: (fn) => timers.push(fn) });
    const seen: unknown[] = [];
    bus.subscribe((channel, payload) => seen.push([channel, payload]));
    bus.emit('jobs:progress', { updates: [update('a', 1)] });
    bus.emit('jobs:progress', { updates: [update('b', 5)] });
    bus.emit('jobs:progress', { updates: [update('a', 2)] });
    expect(seen).toEqual([]);
    expect(timers).toHaveLength(1);
    timers[0]!();
    expect(seen).toHaveLength(1);
    const [, payload] = seen[0] as [string, { updates: JobProgressUpdate[] }];
    expect(payload.updates.map((u) => [u.jobId, u.progressPercent])).toEqual([['a', 2], ['b', 5]]);
    expect(bus.flushes).toBe(1);
  });

  it('merges context changes and removals', () => {
    const timers: (() => void)[] = [];
    const bus = new EventBus({ setTimer: (fn) => timers.push(fn) });
    const seen: unknown[] = [];
    bus.subscribe((_c, p) => seen.push(p));
    const ctx = (id: string) => ({ id }) as never;
    bus.emit('contexts:changed', { contexts: [ctx('1'), ctx('2')], removedIds: [] });
    bus.emit('contexts:changed', { contexts: [], removedIds: ['2'] });
    timers[0]!();
    expect(seen[0]).toEqual({ contexts: [{ id: '1' }], removedIds: ['2'] });
  });

  it('keeps delivering to other subscribers when one throws, and stops after unsubscribe', () => {
    const timers: (() => void)[] = [];
    const bus = new EventBus({ setTimer: (fn) => timers.push(fn) });
    let good = 0;
    bus.subscribe(() => {
      throw new Error('closed window');
    });
    const off = bus.subscribe(() => good++);
    bus.emit('tunnels:state', { states: [] });
    timers.shift()!();
    off();
    bus.emit('tunnels:state', { states: [] });
    timers.shift()!();
    expect(good).toBe(1);
  });
});

describe('tunnel removal', () => {
  it('carries a removed appliance out of a batch, and a later state brings it back', () => {
    const timers: (() => void)[] = [];
    const bus = new EventBus({ setTimer: (fn) => timers.push(fn) });
    const seen: unknown[] = [];
    bus.subscribe((channel, payload) => seen.push([channel, payload]));
    const state = (applianceId: string) => ({ applianceId, state: 'disconnected' as const, nextAttemptAt: null, attempt: 0, reason: null, offeredFingerprint: null, errorCode: null });
    bus.emit('tunnels:state', { states: [state('a'), state('b')] });
    bus.emit('tunnels:state', { states: [], removedIds: ['a'] });
    timers.shift()!();
    expect(seen).toEqual([['tunnels:state', { states: [state('b')], removedIds: ['a'] }]]);
    bus.emit('tunnels:state', { states: [], removedIds: ['b'] });
    bus.emit('tunnels:state', { states: [state('b')] });
    timers.shift()!();
    expect(seen[1]).toEqual(['tunnels:state', { states: [state('b')] }]);
  });
});
