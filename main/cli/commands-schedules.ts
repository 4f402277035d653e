import { invokeRequestSchemas, type ScheduleView } from '../../shared/contract';
import type { Schedule, ScheduleExecution } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { Core } from '../core/core';
import { scheduleViews } from '../scheduler/schedule-views';
import type { CliCommand } from './command';
import { int, onePositional } from './options';
import { table } from './table';

function resolveSchedule(core: Core, nameOrId: string): Schedule {
  const s = core.schedules.get(nameOrId) ?? core.schedules.list().find((x) => x.name === nameOrId);
  if (!s) throw new AppError('not_found', `No schedule named ${nameOrId}; see \`mkc schedules list\``);
  return s;
}

/** The same zod schema the UI's request passes. */
function validated<C extends keyof typeof invokeRequestSchemas>(channel: C, value: unknown): unknown {
  const r = invokeRequestSchemas[channel].safeParse(value);
  if (!r.success) throw new AppError('validation', r.error.issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; '));
  return r.data;
}

const outcome = (e: ScheduleExecution) =>
  `${e.status}: ${e.started} started, ${e.completed} completed, ${e.failed} failed, ${e.skippedCount} skipped${e.retried ? `, ${e.retried} retried` : ''}`;

export const scheduleCommands: CliCommand[] = [
  {
    path: ['schedules', 'list'],
    summary: 'List schedules with their next run (in the schedule zone) and last result',
    run: (ctx) => scheduleViews(ctx.core(), 1),
    human: (v) => {
      const views = v as ScheduleView[];
      if (views.length === 0) return 'No schedules yet.';
      return (
        table(
          ['NAME', 'CRON', 'ZONE', 'ENABLED', 'NEXT RUN (UTC)', 'LAST RESULT', 'VMS', 'OVER TARGET'],
          views.map((s) => [
            s.schedule.name,
            s.schedule.cronExpression,
            s.schedule.timezone,
            s.schedule.enabled ? 'yes' : 'no',
            s.nextRuns[0] ?? '—',
            s.running ? 'running' : s.lastExecution ? outcome(s.lastExecution) : 'never',
            s.vmCount,
            s.overTarget,
          ]),
        ) + '\nSchedules run only while the console (or its tray icon) or `mkc serve` runs.'
      );
    },
  },
  {
    path: ['schedules', 'run'],
    usage: '<schedule name or id>',
    summary: 'Run a schedule now (one execution) and follow it until its last job ends',
    run: async (ctx) => {
      const core = ctx.core();
      const s = resolveSchedule(core, onePositional(ctx, 'schedule name or id'));
      validated('schedules:run-now', { id: s.id });
      // Its jobs must be polled to end, but this process does not take over the schedules.
      await core.startBackground({ schedules: false });
      const e = core.scheduler.runNow(s.id);
      if (!ctx.json) ctx.out(`Started execution ${e.id} of ${s.name} (${e.eligible} VM(s) eligible)`);
      const done = await Promise.race([core.scheduler.whenExecutionEnds(e.id), ctx.interrupted.then(() => null)]);
      if (!done) {
        ctx.err(`Stopped following ${e.id}; jobs already started go on and are followed where a console runs.`);
        return core.executions.require(e.id);
      }
      return done;
    },
    human: (v) => `${(v as ScheduleExecution).id} ${outcome(v as ScheduleExecution)}`,
  },
  {
    path: ['schedules', 'history'],
    usage: '<schedule name or id>',
    summary: 'Executions of a schedule, newest first',
    options: [{ name: 'limit', type: 'number', description: 'at most this many (default 20)' }],
    run: (ctx) => {
      const core = ctx.core();
      const s = resolveSchedule(core, onePositional(ctx, 'schedule name or id'));
      const f = validated('executions:list', { scheduleId: s.id, limit: int(ctx, 'limit') ?? 20 }) as { scheduleId: string; limit: number };
      return core.executions.list(f);
    },
    human: (v) => {
      const list = v as ScheduleExecution[];
      if (list.length === 0) return 'No runs yet.';
      return table(
        ['STARTED', 'TRIGGER', 'RESULT', 'ELIGIBLE', 'ENDED'],
        list.map((e) => [e.startedAt, e.trigger, outcome(e), e.eligible, e.endedAt ?? 'running']),
      );
    },
  },
];
