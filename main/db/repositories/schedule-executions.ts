import type { Db } from '../database';
import type {
  ExecutionStatus,
  ExecutionTrigger,
  ExecutionVmFailure,
  ScheduleExecution,
  ScheduleSkipReason,
} from '../../../shared/domain';
import { AppError } from '../../../shared/errors';
import { newId } from '../../base/ids';
import { num, parseJson, strOrNull } from './rows';

type Row = Record<string, unknown>;
type Skipped = Partial<Record<ScheduleSkipReason, string[]>>;

export function mapExecution(r: Row): ScheduleExecution {
  const skipped = parseJson<Skipped>(r.skipped_json, {});
  return {
    id: String(r.id),
    scheduleId: String(r.schedule_id),
    trigger: r.trigger as ExecutionTrigger,
    status: r.status as ExecutionStatus,
    scheduledFor: String(r.scheduled_for),
    eligible: num(r.eligible),
    started: num(r.started),
    skipped,
    skippedCount: Object.values(skipped).reduce((n, ids) => n + (ids?.length ?? 0), 0),
    completed: num(r.completed),
    failed: num(r.failed),
    retried: num(r.retried),
    startFailures: parseJson<ExecutionVmFailure[]>(r.start_failures_json, []),
    note: strOrNull(r.note),
    startedAt: String(r.started_at),
    endedAt: strOrNull(r.ended_at),
  };
}

export class ScheduleExecutionRepository {
  /**
   * @param changed told the new state after every write (the core pushes it as `executions:changed`,
   * so screens and `mkc` follow a run without polling).
   */
  constructor(
    private readonly db: Db,
    private readonly changed: (e: ScheduleExecution) => void = () => {},
  ) {}

  private told(id: string): ScheduleExecution {
    const e = this.require(id);
    this.changed(e);
    return e;
  }

  /**
   * Opens a run. The partial unique index allows one running execution per schedule, so a second
   * run of the same schedule (this process or another) is refused here, not only in memory.
   */
  open(input: { scheduleId: string; trigger: ExecutionTrigger; scheduledFor: string; now: string }): ScheduleExecution {
    const id = newId('exe');
    try {
      this.db
        .prepare(`INSERT INTO schedule_executions (id, schedule_id, trigger, status, scheduled_for, started_at) VALUES (?,?,?,'running',?,?)`)
        .run(id, input.scheduleId, input.trigger, input.scheduledFor, input.now);
    } catch (e) {
      if (String((e as Error).message).includes('UNIQUE')) {
        const running = this.running(input.scheduleId);
        throw new AppError('conflict', `The schedule is already running (execution ${running?.id ?? 'unknown'})`, { executionId: running?.id });
      }
      throw e;
    }
    return this.told(id);
  }

  /** A fire that did not run (the previous run was still going): recorded, and final at once. */
  recordSkippedRun(input: { scheduleId: string; trigger: ExecutionTrigger; scheduledFor: string; now: string; note: string }): ScheduleExecution {
    const id = newId('exe');
    this.db
      .prepare(
        `INSERT INTO schedule_executions (id, schedule_id, trigger, status, scheduled_for, note, started_at, ended_at) VALUES (?,?,?,'skipped',?,?,?,?)`,
      )
      .run(id, input.scheduleId, input.trigger, input.scheduledFor, input.note, input.now, input.now);
    return this.told(id);
  }

  get(id: string): ScheduleExecution | null {
    const r = this.db.prepare(`SELECT * FROM schedule_executions WHERE id = ?`).get(id) as Row | undefined;
    return r ? mapExecution(r) : null;
  }

  require(id: string): ScheduleExecution {
    const e = this.get(id);
    if (!e) throw new AppError('not_found', `No schedule execution with id ${id}`, { id });
    return e;
  }

  running(scheduleId?: string): ScheduleExecution | null {
    const r = (
      scheduleId
        ? this.db.prepare(`SELECT * FROM schedule_executions WHERE status = 'running' AND schedule_id = ?`).get(scheduleId)
        : undefined
    ) as Row | undefined;
    return r ? mapExecution(r) : null;
  }

  allRunning(): ScheduleExecution[] {
    return (this.db.prepare(`SELECT * FROM schedule_executions WHERE status = 'running' ORDER BY started_at`).all() as Row[]).map(mapExecution);
  }

  list(filter: { scheduleId?: string; limit?: number } = {}): ScheduleExecution[] {
    const where = filter.scheduleId ? 'WHERE schedule_id = ?' : '';
    const args: unknown[] = filter.scheduleId ? [filter.scheduleId] : [];
    return (
      this.db.prepare(`SELECT * FROM schedule_executions ${where} ORDER BY started_at DESC, rowid DESC LIMIT ?`).all(...args, filter.limit ?? 100) as Row[]
    ).map(mapExecution);
  }

  latest(scheduleId: string): ScheduleExecution | null {
    return this.list({ scheduleId, limit: 1 })[0] ?? null;
  }

  setEligible(id: string, eligible: number): void {
    this.db.prepare(`UPDATE schedule_executions SET eligible = ? WHERE id = ?`).run(eligible, id);
    this.told(id);
  }

  addSkip(id: string, reason: ScheduleSkipReason, vmContextId: string): void {
    this.db.transaction(() => {
      const e = this.require(id);
      const list = e.skipped[reason] ?? [];
      if (!list.includes(vmContextId)) list.push(vmContextId);
      this.db.prepare(`UPDATE schedule_executions SET skipped_json = ? WHERE id = ?`).run(JSON.stringify({ ...e.skipped, [reason]: list }), id);
    })();
    this.recount(id);
  }

  addStartFailure(id: string, vmContextId: string, error: string): void {
    this.db.transaction(() => {
      const e = this.require(id);
      this.db
        .prepare(`UPDATE schedule_executions SET start_failures_json = ? WHERE id = ?`)
        .run(JSON.stringify([...e.startFailures, { vmContextId, error }]), id);
    })();
    this.recount(id);
  }

  addRetry(id: string): void {
    this.db.prepare(`UPDATE schedule_executions SET retried = retried + 1 WHERE id = ?`).run(id);
    this.told(id);
  }

  /**
   * Counters come from the jobs themselves (lesson 20: counters never updated): started = jobs of
   * this execution, completed/failed = their terminal outcomes, plus VMs whose job could not be created.
   */
  recount(id: string): ScheduleExecution {
    this.recountQuietly(id);
    return this.told(id);
  }

  private recountQuietly(id: string): void {
    this.db
      .prepare(
        `UPDATE schedule_executions SET
           started = (SELECT COUNT(*) FROM replication_jobs j WHERE j.schedule_execution_id = schedule_executions.id),
           completed = (SELECT COUNT(*) FROM replication_jobs j WHERE j.schedule_execution_id = schedule_executions.id AND j.status = 'completed'),
           failed = (SELECT COUNT(*) FROM replication_jobs j WHERE j.schedule_execution_id = schedule_executions.id AND j.status IN ('failed','cancelled'))
                    + json_array_length(start_failures_json)
         WHERE id = ?`,
      )
      .run(id);
  }

  activeJobCount(id: string): number {
    return num(
      (this.db.prepare(`SELECT COUNT(*) n FROM replication_jobs WHERE schedule_execution_id = ? AND status NOT IN ('completed','failed','cancelled')`).get(id) as Row).n,
    );
  }

  /** The jobs of a run: per-VM outcomes linked to the jobs (latest attempt last). */
  jobIds(id: string): { jobId: string; vmContextId: string; status: string }[] {
    return (
      this.db.prepare(`SELECT id, vm_context_id, status FROM replication_jobs WHERE schedule_execution_id = ? ORDER BY created_at, id`).all(id) as Row[]
    ).map((r) => ({ jobId: String(r.id), vmContextId: String(r.vm_context_id), status: String(r.status) }));
  }

  finish(id: string, status: Exclude<ExecutionStatus, 'running'>, now: string, note?: string | null): ScheduleExecution {
    this.recountQuietly(id);
    this.db
      .prepare(`UPDATE schedule_executions SET status = ?, ended_at = ?, note = COALESCE(?, note) WHERE id = ? AND status = 'running'`)
      .run(status, now, note ?? null, id);
    return this.told(id);
  }
}
