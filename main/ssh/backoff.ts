import { AppError } from '../../shared/errors';

/** Reconnect delay policy: exponential growth from `initialMs`, capped at `maxMs`, with jitter. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay that is randomised either way (0.2 → ±20 %). */
  jitterRatio: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 60_000, factor: 2, jitterRatio: 0.2 };

/**
 * Delay before reconnect attempt `attempt` (1 = first retry after a drop or failed attempt).
 * `random` returns a number in [0, 1); it is injected so the schedule is testable.
 * Jitter spreads many consoles reconnecting to one appliance after an outage; the result never
 * exceeds `maxMs` and never goes below zero.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new AppError('validation', `backoff attempt must be an integer >= 1, got ${attempt}`);
  const exponential = policy.initialMs * Math.pow(policy.factor, attempt - 1);
  const base = Math.min(policy.maxMs, exponential);
  const jitter = base * policy.jitterRatio * (2 * random() - 1);
  return Math.round(Math.min(policy.maxMs, Math.max(0, base + jitter)));
}

/** Validates a (partial) policy merged over the defaults, with a clear message per field. */
export function resolveBackoffPolicy(overrides: Partial<BackoffPolicy> = {}): BackoffPolicy {
  const policy = { ...DEFAULT_BACKOFF, ...overrides };
  if (!(policy.initialMs > 0)) throw new AppError('validation', `backoff initialMs must be > 0, got ${policy.initialMs}`);
  if (!(policy.maxMs >= policy.initialMs)) throw new AppError('validation', `backoff maxMs (${policy.maxMs}) must be >= initialMs (${policy.initialMs})`);
  if (!(policy.factor >= 1)) throw new AppError('validation', `backoff factor must be >= 1, got ${policy.factor}`);
  if (!(policy.jitterRatio >= 0 && policy.jitterRatio < 1)) throw new AppError('validation', `backoff jitterRatio must be in [0, 1), got ${policy.jitterRatio}`);
  return policy;
}
