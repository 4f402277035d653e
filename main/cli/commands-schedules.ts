import type { EventMap, ScheduleInput, ScheduleUpdate, ScheduleView } from '../../shared/contract';
import { SCHEDULE_CATCH_UP_POLICIES, SCHEDULE_SYNC_TYPES, type Schedule, type ScheduleExecution } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { CliCommand, CommandContext, OptionSpec } from './command';
import { num, onePositional, str, yesNo, YES_NO } from './options';
import { table } from './table';

export async function resolveSchedule(ctx: CommandContext, nameOrId: string): Promise<Schedule> {
  const views = await ctx.invoke('schedules:list', {});
  const s = views.find((v) => v.schedule.id === nameOrId) ?? views.find((v) => v.schedule.name === nameOrId);
  if (!s) throw new AppError('not_found', `No schedule named ${nameOrId}; see \`mkc schedules list\``);
  return s.schedule;
}

/** `schedules run` follows pushed events; it reads its execution again this often only as a safety net. */
const EXECUTION_RECHECK_MS = 15_000;

const outcome = (e: ScheduleExecution) =>
  `${e.status}: ${e.started} started, ${e.completed} completed, ${e.failed} failed, ${e.skippedCount} skipped${e.retried ? `, ${e.retried} retried` : ''}`;

/** The schedule form's fields as options; ranges, cron syntax and zones are judged by the same schema and cron module as the form's. */
const SCHEDULE_OPTIONS: OptionSpec[] = [
  { name: 'cron', type: 'string', description: 'cron expression, 5 fields (or 6 with seconds first), e.g. "30 2 * * *"' },
  { name: 'timezone', type: 'string', description: 'IANA time zone the expression runs in (default UTC)' },
  { name: 'sync-type', type: 'string', choices: SCHEDULE_SYNC_TYPES, description: 'auto: the engine decides per disk; full: always full copies' },
  { name: 'max-concurrent', type: 'number', description: 'at most this many jobs of the schedule at once' },
  { name: 'skip-if-running', type: 'string', choices: YES_NO, description: 'skip a VM whose previous sync still runs' },
  { name: 'retry-attempts', type: 'number', description: 'retries for VMs whose sync failed' },
  { name: 'retry-delay', type: 'number', description: 'seconds between retries' },
  { name: 'catch-up', type: 'string', choices: SCHEDULE_CATCH_UP_POLICIES, description: 'runs missed while no owner ran: skip, or run once' },
  { name: 'enabled', type: 'string', choices: YES_NO, description: 'whether the schedule fires' },
];

/** Only the options given: an edit changes exactly what the operator named. */
function scheduleFields(ctx: CommandContext): Omit<ScheduleUpdate, 'id'> {
  const fields: Omit<ScheduleUpdate, 'id'> = {
    cronExpression: str(ctx, 'cron'),
    timezone: str(ctx, 'timezone'),
    syncType: str(ctx, 'sync-type') as ScheduleUpdate['syncType'],
    maxConcurrentJobs: num(ctx, 'max-concurrent'),
    skipIfRunning: yesNo(ctx, 'skip-if-running'),
    retryAttempts: num(ctx, 'retry-attempts'),
    retryDelaySeconds: num(ctx, 'retry-delay'),
    catchUp: str(ctx, 'catch-up') as ScheduleUpdate['catchUp'],
    enabled: yesNo(ctx, 'enabled'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const scheduleLine = (s: Schedule) =>
  `${s.name} (${s.id}): "${s.cronExpression}" in ${s.timezone}, ${s.enabled ? 'enabled' : 'disabled'}, ${s.syncType} sync, up to ${s.maxConcurrentJobs} job(s), ` +
  `${s.retryAttempts} retr${s.retryAttempts === 1 ? 'y' : 'ies'}${s.retryAttempts ? ` after ${s.retryDelaySeconds} s` : ''}, catch-up ${s.catchUp}${s.skipIfRunning ? ', skips VMs still syncing' : ''}`;

const setEnabled = (enabled: boolean): CliCommand => ({
  path: ['schedules', enabled ? 'enable' : 'disable'],
  args: [{ name: 'schedule', description: 'schedule name or id' }],
  summary: enabled ? 'Let a schedule fire again (slots missed while it was off are not replayed)' : 'Stop a schedule from firing (run now still works)',
  run: async (ctx) => {
    const s = await resolveSchedule(ctx, onePositional(ctx));
    return ctx.invoke('schedules:update', { id: s.id, enabled });
  },
  human: (v) => scheduleLine(v as Schedule),
});

export const scheduleCommands: CliCommand[] = [
  {
    path: ['schedules', 'add'],
    args: [{ name: 'name', description: 'schedule name' }],
    summary: 'Create a schedule (same fields and checks as the Schedules form)',
    options: [...SCHEDULE_OPTIONS.map((o) => (o.name === 'cron' ? { ...o, required: true } : o))],
    run: (ctx) => {
      const input = { name: onePositional(ctx), ...scheduleFields(ctx) } as ScheduleInput;
      return ctx.invoke('schedules:create', input);
    },
    human: (v) => `Created ${scheduleLine(v as Schedule)}`,
  },
  {
    path: ['schedules', 'edit'],
    args: [{ name: 'schedule', description: 'schedule name or id' }],
    summary: 'Change a schedule: only the options given change',
    options: [{ name: 'name', type: 'string', description: 'new name' }, ...SCHEDULE_OPTIONS],
    run: async (ctx) => {
      const s = await resolveSchedule(ctx, onePositional(ctx));
      const patch = { ...scheduleFields(ctx), ...(str(ctx, 'name') !== undefined ? { name: str(ctx, 'name') } : {}) };
      if (Object.keys(patch).length === 0) throw new AppError('validation', `Nothing to change: give at least one of --name, ${SCHEDULE_OPTIONS.map((o) => `--${o.name}`).join(', ')}`);
      return ctx.invoke('schedules:update', { id: s.id, ...patch });
    },
    human: (v) => `Saved ${scheduleLine(v as Schedule)}`,
  },
  setEnabled(true),
  setEnabled(false),
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
    args: [{ name: 'schedule', description: 'schedule name or id' }],
    summary: 'Run a schedule now (one execution) and follow it until its last job ends',
    run: async (ctx) => {
      const s = await resolveSchedule(ctx, onePositional(ctx));
      // Its jobs must be polled to their end here when no owner runs them (this process runs no schedules).
      const session = await ctx.session();
      await session.runBackground();
      // The run is followed from the pushed executions:changed events (served by an owner or by this
      // process); a slow re-read only covers an owner that went away meanwhile.
      let current = '';
      let ended = false;
      let wake: () => void = () => {};
      const off = await session.on(['executions:changed'], (_channel, payload) => {
        if ((payload as EventMap['executions:changed']).executions.some((x) => x.id === current && x.status !== 'running')) {
          ended = true;
          wake();
        }
      });
      try {
        const e = await ctx.invoke('schedules:run-now', { id: s.id });
        current = e.id;
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
          if (ended) continue;
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([new Promise<void>((r) => ((wake = r), (timer = setTimeout(r, EXECUTION_RECHECK_MS)))), ctx.interrupted]);
          clearTimeout(timer);
        }
      } finally {
        off();
      }
    },
    human: (v) => `${(v as ScheduleExecution).id} ${outcome(v as ScheduleExecution)}`,
  },
  {
    path: ['schedules', 'history'],
    args: [{ name: 'schedule', description: 'schedule name or id' }],
    summary: 'Executions of a schedule, newest first',
    options: [{ name: 'limit', type: 'number', description: 'at most this many (default 20)' }],
    run: async (ctx) => {
      const s = await resolveSchedule(ctx, onePositional(ctx));
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
