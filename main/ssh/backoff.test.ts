import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { backoffDelayMs, DEFAULT_BACKOFF, resolveBackoffPolicy } from './backoff';

const noJitter = { ...DEFAULT_BACKOFF, jitterRatio: 0 };
const middle = (): number => 0.5;

describe('backoffDelayMs', () => {
  it('starts at about one second and doubles up to the cap', () => {
    const schedule = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((attempt) => backoffDelayMs(attempt, noJitter, middle));
    expect(schedule).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('applies jitter within ±jitterRatio of the base delay', () => {
    const policy = { ...DEFAULT_BACKOFF, jitterRatio: 0.2 };
    expect(backoffDelayMs(3, policy, () => 0)).toBe(3_200);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(4_000);
    expect(backoffDelayMs(3, policy, () => 0.999_999)).toBe(4_800);
  });

  it('never exceeds the cap even with maximal jitter', () => {
    const policy = { ...DEFAULT_BACKOFF, jitterRatio: 0.5 };
    for (let attempt = 1; attempt <= 30; attempt += 1) {
      expect(backoffDelayMs(attempt, policy, () => 0.999_999)).toBeLessThanOrEqual(policy.maxMs);
    }
  });

  it('honours custom (test-sized) policies', () => {
    const policy = resolveBackoffPolicy({ initialMs: 50, maxMs: 300, jitterRatio: 0 });
    expect([1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, policy, middle))).toEqual([50, 100, 200, 300, 300]);
  });

  it('rejects attempt numbers below one', () => {
    expect(() => backoffDelayMs(0, noJitter, middle)).toThrow(AppError);
    expect(() => backoffDelayMs(1.5, noJitter, middle)).toThrow(/integer/);
  });
});

describe('resolveBackoffPolicy', () => {
  it('uses defaults of 1 s doubling to 60 s', () => {
    expect(resolveBackoffPolicy()).toEqual({ initialMs: 1_000, maxMs: 60_000, factor: 2, jitterRatio: 0.2 });
  });

  it('rejects inconsistent values with a specific message', () => {
    expect(() => resolveBackoffPolicy({ initialMs: 0 })).toThrow(/initialMs/);
    expect(() => resolveBackoffPolicy({ initialMs: 500, maxMs: 100 })).toThrow(/maxMs/);
    expect(() => resolveBackoffPolicy({ factor: 0.5 })).toThrow(/factor/);
    expect(() => resolveBackoffPolicy({ jitterRatio: 1 })).toThrow(/jitterRatio/);
  });
});
