// One shared clock per period: every age on screen ticks from the same interval (not one timer per
// row), and only the components that show a time subscribe, so a tick never re-renders a whole table.
import { useCallback, useState, useSyncExternalStore } from 'react';

export interface Ticker {
  now: number;
  listeners: Set<() => void>;
  timer: ReturnType<typeof setInterval> | null;
}

const tickers = new Map<number, Ticker>();

export function tickerFor(periodMs: number): Ticker {
  let t = tickers.get(periodMs);
  if (!t) {
    t = { now: Date.now(), listeners: new Set(), timer: null };
    tickers.set(periodMs, t);
  }
  return t;
}

/** Exported for tests: one interval per period however many listeners, stopped with the last one. */
export function subscribe(periodMs: number, listener: () => void): () => void {
  const t = tickerFor(periodMs);
  t.listeners.add(listener);
  if (t.timer === null) {
    t.now = Date.now();
    t.timer = setInterval(() => {
      t.now = Date.now();
      for (const l of t.listeners) l();
    }, periodMs);
  }
  return () => {
    t.listeners.delete(listener);
    if (t.listeners.size === 0 && t.timer !== null) {
      clearInterval(t.timer);
      t.timer = null;
    }
  };
}

const frozen = () => () => {};

/** The current time, re-rendering the caller every `periodMs` (null: the time of mounting, for things that no longer change). */
export function useClock(periodMs: number | null): number {
  const [mountedAt] = useState(() => Date.now());
  const sub = useCallback((l: () => void) => (periodMs === null ? frozen() : subscribe(periodMs, l)), [periodMs]);
  const ticking = useSyncExternalStore(sub, () => (periodMs === null ? 0 : tickerFor(periodMs).now));
  return periodMs === null ? mountedAt : ticking;
}
