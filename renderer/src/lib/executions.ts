import type { ScheduleExecution } from '../../../shared/domain';

/** Keeps the latest pushed state of each execution (the core sends `executions:changed` as runs move). */
export function latestById(known: readonly ScheduleExecution[], pushed: readonly ScheduleExecution[]): ScheduleExecution[] {
  return [...new Map([...known, ...pushed].map((e) => [e.id, e])).values()];
}

/**
 * A schedule's history as loaded, with pushed states applied: a pushed execution replaces the loaded
 * row with its id, and one the list does not have yet (a run that just opened) goes on top, newest first.
 */
export function withPushedExecutions(loaded: readonly ScheduleExecution[], pushed: readonly ScheduleExecution[], scheduleId: string): ScheduleExecution[] {
  const mine = new Map(pushed.filter((e) => e.scheduleId === scheduleId).map((e) => [e.id, e]));
  const known = new Set(loaded.map((e) => e.id));
  const fresh = [...mine.values()].filter((e) => !known.has(e.id)).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return [...fresh, ...loaded.map((e) => mine.get(e.id) ?? e)];
}
