import { describe, expect, it } from 'vitest';
import type { ScheduleExecution } from '../../../shared/domain';
import { latestById, withPushedExecutions } from './executions';

const exe = (id: string, over: Partial<ScheduleExecution> = {}): ScheduleExecution => ({
  id,
  scheduleId: 's1',
  trigger: 'manual',
  status: 'running',
  scheduledFor: '2026-12-02T10:00:00.000Z',
  eligible: 2,
  started: 0,
  skipped: {},
  skippedCount: 0,
  completed: 0,
  failed: 0,
  retried: 0,
  startFailures: [],
  note: null,
  startedAt: '2026-12-02T10:00:00.000Z',
  endedAt: null,
  ...over,
});

describe('pushed schedule executions', () => {
  it('keep the latest state of each execution', () => {
    const out = latestById([exe('a'), exe('b')], [exe('a', { started: 1 }), exe('a', { started: 2, completed: 1 })]);
    expect(out.map((e) => [e.id, e.started, e.completed])).toEqual([
      ['a', 2, 1],
      ['b', 0, 0],
    ]);
  });

  it("replace the loaded rows, put a new run of this schedule on top and ignore other schedules' runs", () => {
    const loaded = [exe('old2', { status: 'running', startedAt: '2026-12-02T09:00:00.000Z' }), exe('old1', { status: 'completed', startedAt: '2026-12-01T09:00:00.000Z' })];
    const pushed = [
      exe('old2', { status: 'completed', completed: 2, endedAt: '2026-12-02T09:05:00.000Z' }),
      exe('new', { startedAt: '2026-12-02T11:00:00.000Z' }),
      exe('other', { scheduleId: 's2' }),
    ];
    expect(withPushedExecutions(loaded, pushed, 's1').map((e) => [e.id, e.status])).toEqual([
      ['new', 'running'],
      ['old2', 'completed'],
      ['old1', 'completed'],
    ]);
  });
});
