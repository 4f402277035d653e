import { useClock } from './clock';

/** The current time, refreshed every `intervalMs` from the shared clock (null: frozen, for things that no longer change). */
export function useNow(intervalMs: number | null): number {
  return useClock(intervalMs);
}
