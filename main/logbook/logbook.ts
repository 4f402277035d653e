import type { Db } from '../db/database';
import { VMA_PHASE_DETAIL, type LogEvent, type LogLevel, type LogOperation, type LogStep, type OperationKind, type OperationStatus, type RecordedPhase, type StepStatus } from '../../shared/domain';
import { isoNow, newId } from '../base/ids';
import { redact } from '../base/redact';
import { num, parseJson, strOrNull } from '../db/repositories/rows';

type Row = Record<string, unknown>;
const mapOp = (r: Row): LogOperation => ({
  id: String(r.id),
  kind: r.kind as OperationKind,
  vmContextId: strOrNull(r.vm_context_id),
  status: r.status as OperationStatus,
  title: String(r.title),
  startedAt: String(r.started_at),
  completedAt: strOrNull(r.completed_at),
  error: strOrNull(r.error),
});
const mapStep = (r: Row): LogStep => ({
  id: num(r.id),
  operationId: String(r.operation_id),
  seq: num(r.seq),
  name: String(r.name),
  status: r.status as StepStatus,
  startedAt: strOrNull(r.started_at),
  completedAt: strOrNull(r.completed_at),
  durationMs: r.duration_ms === null ? null : num(r.duration_ms),
  error: strOrNull(r.error),
});
const mapEvent = (r: Row): LogEvent => ({
  id: num(r.id),
  operationId: String(r.operation_id),
  stepId: r.step_id === null ? null : num(r.step_id),
  level: r.level as LogLevel,
  message: String(r.message),
  details: parseJson<Record<string, unknown> | null>(r.details_json, null),
  createdAt: String(r.created_at),
});

export interface LogFilter {
  operationId?: string;
  vmContextId?: string;
  level?: LogLevel;
  kind?: OperationKind;
  /** Operations whose title, id, error or any event message contains this text (case-insensitive). */
  text?: string;
  /** Operations started at or after this ISO time. */
  from?: string;
  /** Operations started before this ISO time. */
  to?: string;
  limit?: number;
}

/** One operator action that completes at once (an appliance added, a setting saved): one operation, one event. */
export interface AuditEntry {
  kind: OperationKind;
  title: string;
  vmContextId?: string | null;
  /** The event text; defaults to the title. */
  message?: string;
  details?: Record<string, unknown>;
  /** A failed action: the operation ends failed with this error and the event is an error. */
  error?: string | null;
  /** A completed action that deserves attention (a connect that ended in backoff). */
  level?: LogLevel;
}

/** What services need to record their actions: the logbook's `record`, nothing else. */
export interface AuditLog {
  record(entry: AuditEntry): string;
}

/** The part of the logbook a service that runs multi-step operations uses. */
export type OperationLog = Pick<Logbook, 'startOperation' | 'event' | 'finishOperation' | 'operation' | 'record'>;

/** LIKE metacharacters in operator text are literal. */
const likeEscape = (s: string): string => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };


/** The job log: operation → steps → events, for every long operation; one-shot entries for operator actions. */
export class Logbook implements AuditLog {
  private listeners = new Set<(e: LogEvent) => void>();
  constructor(private readonly db: Db) {}

  onEvent(fn: (e: LogEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  startOperation(id: string, kind: OperationKind, title: string, vmContextId: string | null): LogOperation {
    this.db
      .prepare(
        `INSERT INTO log_operations (id, kind, vm_context_id, status, title, started_at) VALUES (?,?,?,'running',?,?)
         ON CONFLICT(id) DO NOTHING`,
      )
      .run(id, kind, vmContextId, title, isoNow());
    return this.operation(id)!;
  }

  finishOperation(id: string, status: Exclude<OperationStatus, 'running'>, error: string | null = null): void {
    this.db
      .prepare(`UPDATE log_operations SET status = ?, completed_at = ?, error = ? WHERE id = ?`)
      .run(status, isoNow(), error, id);
  }

  record(entry: AuditEntry): string {
    const id = newId('op');
    this.startOperation(id, entry.kind, entry.title, entry.vmContextId ?? null);
    const level: LogLevel = entry.error ? 'error' : (entry.level ?? 'info');
    this.event(id, level, entry.message ?? (entry.error ? `${entry.title}: ${entry.error}` : entry.title), entry.details);
    this.finishOperation(id, entry.error ? 'failed' : 'completed', entry.error ?? null);
    return id;
  }

  operation(id: string): LogOperation | null {
    const r = this.db.prepare(`SELECT * FROM log_operations WHERE id = ?`).get(id) as Row | undefined;
    return r ? mapOp(r) : null;
  }

  operations(filter: LogFilter = {}): LogOperation[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.vmContextId) {
      where.push('vm_context_id = ?');
      args.push(filter.vmContextId);
    }
    if (filter.kind) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.operationId) {
      where.push('id = ?');
      args.push(filter.operationId);
    }
    if (filter.from) {
      where.push('started_at >= ?');
      args.push(filter.from);
    }
    if (filter.to) {
      where.push('started_at < ?');
      args.push(filter.to);
    }
    const text = filter.text?.trim();
    if (text) {
      const like = likeEscape(text);
      where.push(`(title LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\' OR COALESCE(error, '') LIKE ? ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM log_events e WHERE e.operation_id = log_operations.id AND e.message LIKE ? ESCAPE '\\'))`);
      args.push(like, like, like, like);
    }
    const sql = `SELECT * FROM log_operations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 200) as Row[]).map(mapOp);
  }

  startStep(operationId: string, name: string): LogStep {
    const now = isoNow();
    const seq = (this.db.prepare(`SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM log_steps WHERE operation_id = ?`).get(operationId) as Row).s;
    const info = this.db
      .prepare(`INSERT INTO log_steps (operation_id, seq, name, status, started_at) VALUES (?,?,?,'running',?)`)
      .run(operationId, seq, name, now);
    return this.step(Number(info.lastInsertRowid))!;
  }

  finishStep(stepId: number, status: Exclude<StepStatus, 'pending' | 'running'>, error: string | null = null): LogStep {
    const s = this.step(stepId);
    const now = new Date();
    const duration = s?.startedAt ? now.getTime() - Date.parse(s.startedAt) : null;
    this.db
      .prepare(`UPDATE log_steps SET status = ?, completed_at = ?, duration_ms = ?, error = ? WHERE id = ?`)
      .run(status, now.toISOString(), duration, error, stepId);
    return this.step(stepId)!;
  }

  /** Steps still running when an operation ends are closed with the operation's outcome. */
  closeOpenSteps(operationId: string, status: Exclude<StepStatus, 'pending' | 'running'>, error: string | null): void {
    const open = this.db.prepare(`SELECT id FROM log_steps WHERE operation_id = ? AND status IN ('running','pending')`).all(operationId) as Row[];
    for (const r of open) this.finishStep(num(r.id), status, error);
  }

  step(id: number): LogStep | null {
    const r = this.db.prepare(`SELECT * FROM log_steps WHERE id = ?`).get(id) as Row | undefined;
    return r ? mapStep(r) : null;
  }

  steps(operationId: string): LogStep[] {
    return (this.db.prepare(`SELECT * FROM log_steps WHERE operation_id = ? ORDER BY seq`).all(operationId) as Row[]).map(mapStep);
  }

  event(operationId: string, level: LogLevel, message: string, details?: Record<string, unknown>, stepId: number | null = null): LogEvent {
    const safe = redact(details);
    const info = this.db
      .prepare(`INSERT INTO log_events (operation_id, step_id, level, message, details_json, created_at) VALUES (?,?,?,?,?,?)`)
      .run(operationId, stepId, level, message, safe ? JSON.stringify(safe) : null, isoNow());
    const ev = mapEvent(this.db.prepare(`SELECT * FROM log_events WHERE id = ?`).get(info.lastInsertRowid) as Row);
    for (const l of this.listeners) l(ev);
    return ev;
  }

  /**
   * Records that the VMA's copy of this job entered `name`, unless it is the phase recorded last: one
   * event per phase change (on the copy's step when given), timed by this (the owner's) clock.
   * Returns whether it was recorded.
   */
  recordPhase(operationId: string, name: string, stepId: number | null = null): boolean {
    if (!this.operation(operationId)) return false;
    if (this.phases(operationId).at(-1)?.name === name) return false;
    this.event(operationId, 'info', `VMA phase: ${name}`, { [VMA_PHASE_DETAIL]: name }, stepId);
    return true;
  }

  /** The VMA phases recorded for this job, oldest first (the same events the Logs list). */
  phases(operationId: string): RecordedPhase[] {
    const rows = this.db
      .prepare(
        `SELECT json_extract(details_json, '$.${VMA_PHASE_DETAIL}') AS name, created_at FROM log_events
         WHERE operation_id = ? AND json_extract(details_json, '$.${VMA_PHASE_DETAIL}') IS NOT NULL ORDER BY id`,
      )
      .all(operationId) as Row[];
    return rows.map((r) => ({ name: String(r.name), at: String(r.created_at) }));
  }

  events(filter: LogFilter = {}): LogEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.operationId) {
      where.push('e.operation_id = ?');
      args.push(filter.operationId);
    }
    if (filter.vmContextId) {
      where.push('o.vm_context_id = ?');
      args.push(filter.vmContextId);
    }
    if (filter.level) {
      const levels = (Object.keys(LEVEL_RANK) as LogLevel[]).filter((l) => LEVEL_RANK[l] >= LEVEL_RANK[filter.level!]);
      where.push(`e.level IN (${levels.map(() => '?').join(',')})`);
      args.push(...levels);
    }
    const sql = `SELECT e.* FROM log_events e JOIN log_operations o ON o.id = e.operation_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 500) as Row[]).map(mapEvent).reverse();
  }
}
