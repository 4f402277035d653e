import type { Db } from '../database';
import type { Schedule, ScheduleCatchUpPolicy, ScheduleSyncType } from '../../../shared/domain';
import { AppError } from '../../../shared/errors';
import { isoNow, newId } from '../../base/ids';
import { bool, num, strOrNull } from './rows';

type Row = Record<string, unknown>;

export interface ScheduleFields {
  name: string;
  cronExpression: string;
  timezone: string;
  enabled: boolean;
  syncType: ScheduleSyncType;
  maxConcurrentJobs: number;
  skipIfRunning: boolean;
  retryAttempts: number;
  retryDelaySeconds: number;
  catchUp: ScheduleCatchUpPolicy;
}

export const SCHEDULE_DEFAULTS: Omit<ScheduleFields, 'name' | 'cronExpression'> = {
  timezone: 'UTC',
  enabled: true,
  syncType: 'auto',
  maxConcurrentJobs: 10,
  skipIfRunning: true,
  retryAttempts: 0,
  retryDelaySeconds: 300,
  catchUp: 'run_once',
};

export function mapSchedule(r: Row): Schedule {
  return {
    id: String(r.id),
    name: String(r.name),
    cronExpression: String(r.cron_expression),
    timezone: String(r.timezone),
    enabled: bool(r.enabled),
    syncType: r.sync_type as ScheduleSyncType,
    maxConcurrentJobs: num(r.max_concurrent_jobs),
    skipIfRunning: bool(r.skip_if_running),
    retryAttempts: num(r.retry_attempts),
    retryDelaySeconds: num(r.retry_delay_seconds),
    catchUp: r.catch_up as ScheduleCatchUpPolicy,
    lastRunAt: strOrNull(r.last_run_at),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

const COLUMNS: Record<keyof ScheduleFields, string> = {
  name: 'name',
  cronExpression: 'cron_expression',
  timezone: 'timezone',
  enabled: 'enabled',
  syncType: 'sync_type',
  maxConcurrentJobs: 'max_concurrent_jobs',
  skipIfRunning: 'skip_if_running',
  retryAttempts: 'retry_attempts',
  retryDelaySeconds: 'retry_delay_seconds',
  catchUp: 'catch_up',
};

const dbValue = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** Schedules as stored; cron validity is checked by the scheduler before anything is written. */
export class ScheduleRepository {
  constructor(private readonly db: Db) {}

  list(): Schedule[] {
    return (this.db.prepare(`SELECT * FROM schedules ORDER BY name COLLATE NOCASE`).all() as Row[]).map(mapSchedule);
  }

  get(id: string): Schedule | null {
    const r = this.db.prepare(`SELECT * FROM schedules WHERE id = ?`).get(id) as Row | undefined;
    return r ? mapSchedule(r) : null;
  }

  require(id: string): Schedule {
    const s = this.get(id);
    if (!s) throw new AppError('not_found', `No schedule with id ${id}`, { id });
    return s;
  }

  create(fields: ScheduleFields, now: string = isoNow()): Schedule {
    const id = newId('sch');
    const keys = Object.keys(COLUMNS) as (keyof ScheduleFields)[];
    try {
      this.db
        .prepare(
          `INSERT INTO schedules (id, ${keys.map((k) => COLUMNS[k]).join(', ')}, created_at, updated_at)
           VALUES (?, ${keys.map(() => '?').join(', ')}, ?, ?)`,
        )
        .run(id, ...keys.map((k) => dbValue(fields[k])), now, now);
    } catch (e) {
      throw uniqueName(e, fields.name);
    }
    return this.require(id);
  }

  update(id: string, patch: Partial<ScheduleFields>, now: string = isoNow()): Schedule {
    this.require(id);
    const keys = (Object.keys(patch) as (keyof ScheduleFields)[]).filter((k) => patch[k] !== undefined && k in COLUMNS);
    if (keys.length > 0) {
      try {
        this.db
          .prepare(`UPDATE schedules SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')}, updated_at = ? WHERE id = ?`)
          .run(...keys.map((k) => dbValue(patch[k])), now, id);
      } catch (e) {
        throw uniqueName(e, patch.name ?? '');
      }
    }
    return this.require(id);
  }

  remove(id: string): void {
    if (this.db.prepare(`DELETE FROM schedules WHERE id = ?`).run(id).changes === 0) {
      throw new AppError('not_found', `No schedule with id ${id}`, { id });
    }
  }

  /** The latest cron slot already accounted for; missed-run detection starts after it. */
  lastSlotAt(id: string): string | null {
    const r = this.db.prepare(`SELECT last_slot_at FROM schedules WHERE id = ?`).get(id) as Row | undefined;
    return r ? strOrNull(r.last_slot_at) : null;
  }

  /** Moves the slot marker forward only (a late, older slot never rewinds it). */
  markSlot(id: string, slot: string): void {
    this.db
      .prepare(`UPDATE schedules SET last_slot_at = ? WHERE id = ? AND (last_slot_at IS NULL OR last_slot_at < ?)`)
      .run(slot, id, slot);
  }

  markRun(id: string, at: string): void {
    this.db.prepare(`UPDATE schedules SET last_run_at = ? WHERE id = ?`).run(at, id);
  }
}

function uniqueName(e: unknown, name: string): unknown {
  if (String((e as Error)?.message).includes('UNIQUE constraint failed')) {
    return new AppError('conflict', `A schedule or group named "${name}" already exists`, { name });
  }
  return e;
}
export { uniqueName };
