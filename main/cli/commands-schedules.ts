import type { ScheduleView } from '../../shared/contract';
import type { Schedule, ScheduleExecution } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { CliCommand, CommandContext } from './command';
import { num, onePositional } from './options';
import { table } from './table';

async function resolveSchedule(ctx: CommandContext, nameOrId: string): Promise<Schedule> {
  const views = await ctx.invoke('schedules:list', {});
  const s = views.find((v) => v.schedule.id === nameOrId) ?? views.find((v) => v.schedule.name === nameOrId);
  if (!s) throw new AppError('not_found', `No schedule named ${nameOrId}; see \`mkc schedules list\``);
  return s.schedule;
}

/** How often `schedules run` reads its execution again. */
const EXECUTION_RECHECK_MS = 2000;

const outcome = (e: ScheduleExecution) =>
  `${e.status}: ${e.started} started, ${e.completed} completed, ${e.failed} failed, ${e.skippedCount} skipped${e.retried ? `, ${e.retried} retried` : ''}`;

export const scheduleCommands: CliCommand[] = [
  {
    path: ['schedules', 'list'],
    summary: 'List schedules with their next run (in the schedule zone) and last result',
    run: (ctx) => ctx.invoke('schedules:list', {}),
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
      const s = await resolveSchedule(ctx, onePositional(ctx, 'schedule name or id'));
      // Its jobs must be polled to their end here when no owner runs them (this process runs no schedules).
      await (await ctx.session()).runBackground();
      const e = await ctx.invoke('schedules:run-now', { id: s.id });
      if (!ctx.json) ctx.out(`Started execution ${e.id} of ${s.name} (${e.eligible} VM(s) eligible)`);
      let interrupted = false;
      void ctx.interrupted.then(() => (interrupted = true));
      for (;;) {
        const { execution } = await ctx.invoke('executions:get', { id: e.id });
        if (execution.status !== 'running') return execution;
        if (interrupted) {
          ctx.err(`Stopped following ${e.id}; jobs already started go on and are followed where a console runs.`);
          return execution;
        }
        await Promise.race([new Promise((r) => setTimeout(r, EXECUTION_RECHECK_MS)), ctx.interrupted]);
      }
    },
    human: (v) => `${(v as ScheduleExecution).id} ${outcome(v as ScheduleExecution)}`,
  },
  {
    path: ['schedules', 'history'],
    usage: '<schedule name or id>',
    summary: 'Executions of a schedule, newest first',
    options: [{ name: 'limit', type: 'number', description: 'at most this many (default 20)' }],
    run: async (ctx) => {
      const s = await resolveSchedule(ctx, onePositional(ctx, 'schedule name or id'));
      const limit = num(ctx, 'limit');
      return ctx.invoke('executions:list', { scheduleId: s.id, limit: limit ?? 20 });
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
