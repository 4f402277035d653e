import { afterEach, describe, expect, it, vi } from 'vitest';
import { subscribe, tickerFor } from './clock';

afterEach(() => {
  vi.useRealTimers();
});

describe('shared clock', () => {
  it('runs one interval per period for any number of listeners and stops with the last one', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-02T01:00:00Z'));
    const a = vi.fn();
    const b = vi.fn();
    const offA = subscribe(1000, a);
    const offB = subscribe(1000, b);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(3000);
    expect(a).toHaveBeenCalledTimes(3);
    expect(b).toHaveBeenCalledTimes(3);
    // The snapshot every subscriber reads moved with the clock.
    expect(tickerFor(1000).now).toBe(Date.parse('2026-12-02T01:00:03Z'));
    offA();
    vi.advanceTimersByTime(1000);
    expect(a).toHaveBeenCalledTimes(3);
    expect(b).toHaveBeenCalledTimes(4);
    offB();
    expect(vi.getTimerCount()).toBe(0);
  });
  it('refreshes the time when a period is subscribed again after a pause', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-02T02:00:00Z'));
    const off = subscribe(10_000, () => {});
    off();
    vi.setSystemTime(new Date('2026-12-02T03:00:00Z'));
    const off2 = subscribe(10_000, () => {});
    expect(tickerFor(10_000).now).toBe(Date.parse('2026-12-02T03:00:00Z'));
    off2();
  });
});
