import type { Db } from '../database';
import type { FailoverStatus, FailoverType, VmContextStatus } from '../../../shared/domain';
import type { BootEvidence, Failover, FailoverOverride, FailoverRunOptions, FailoverSnapshot, Finding } from '../../../shared/failover';
import { AppError } from '../../../shared/errors';
import { assertTransition } from '../../base/context-state';
import { writeContextStatus } from './context-status';
import { isoNow, newId } from '../../base/ids';
import { parseJson, strOrNull } from './rows';

type Row = Record<string, unknown>;

const TERMINAL: readonly FailoverStatus[] = ['failed', 'rolled_back'];

function map(r: Row): Failover {
  return {
    id: String(r.id),
    vmContextId: String(r.vm_context_id),
    kind: r.kind as FailoverType,
    status: r.status as FailoverStatus,
    phase: strOrNull(r.phase),
    cloudstackVmId: strOrNull(r.cloudstack_vm_id),
    vmName: String(r.vm_name),
    snapshots: parseJson<FailoverSnapshot[]>(r.snapshots_json, []),
    evidence: parseJson<BootEvidence | null>(r.evidence_json, null),
    findings: parseJson<Finding[]>(r.findings_json, []),
    override: r.override_by
      ? { by: String(r.override_by), at: String(r.override_at), findings: parseJson<string[]>(r.override_findings_json, []) }
      : null,
    ports: parseJson<number[]>(r.ports_json, []),
    options: parseJson<FailoverRunOptions>(r.options_json, {}),
    error: strOrNull(r.error),
    startedAt: String(r.started_at),
    endedAt: strOrNull(r.ended_at),
  };
}

export interface OpenFailoverInput {
  vmContextId: string;
  kind: FailoverType;
  vmName: string;
  findings: Finding[];
  override: FailoverOverride | null;
  ports: number[];
  options: FailoverRunOptions;
  /** VM statuses the failover may start from. */
  from: readonly VmContextStatus[];
}

export type FailoverPatch = Partial<Pick<Failover, 'status' | 'phase' | 'cloudstackVmId' | 'snapshots' | 'evidence' | 'error' | 'options'>>;

/**
 * Failover rows. `open` claims the VM (status `failing_over`) and creates the row in one
 * transaction; `end` writes the one terminal outcome together with the VM's status.
 */
export class FailoverRepository {
  constructor(private readonly db: Db) {}

  get(id: string): Failover | null {
    const r = this.db.prepare(`SELECT * FROM failovers WHERE id = ?`).get(id) as Row | undefined;
    return r ? map(r) : null;
  }

  require(id: string): Failover {
    const f = this.get(id);
    if (!f) throw new AppError('not_found', `No failover with id ${id}`, { id });
    return f;
  }

  list(filter: { contextId?: string; limit?: number } = {}): Failover[] {
    const where = filter.contextId ? 'WHERE vm_context_id = ?' : '';
    const args: unknown[] = filter.contextId ? [filter.contextId] : [];
    return (this.db.prepare(`SELECT * FROM failovers ${where} ORDER BY started_at DESC, rowid DESC LIMIT ?`).all(...args, filter.limit ?? 200) as Row[]).map(map);
  }

  /** The failover that currently owns the VM (not failed, not rolled back), if any. */
  openFor(contextId: string): Failover | null {
    const r = this.db
      .prepare(`SELECT * FROM failovers WHERE vm_context_id = ? AND status NOT IN ('failed','rolled_back')`)
      .get(contextId) as Row | undefined;
    return r ? map(r) : null;
  }

  /** Failovers still working: after a restart nobody is driving them. */
  working(statuses: readonly FailoverStatus[]): Failover[] {
    const marks = statuses.map(() => '?').join(',');
    return (this.db.prepare(`SELECT * FROM failovers WHERE status IN (${marks}) ORDER BY started_at`).all(...statuses) as Row[]).map(map);
  }

  open(input: OpenFailoverInput): Failover {
    const id = newId('failover');
    const now = isoNow();
    const run = this.db.transaction(() => {
      const ctx = this.db.prepare(`SELECT name, current_status, current_job_id FROM vm_contexts WHERE id = ?`).get(input.vmContextId) as Row | undefined;
      if (!ctx) throw new AppError('not_found', `No VM context with id ${input.vmContextId}`);
      const name = String(ctx.name);
      if (ctx.current_job_id) {
        throw new AppError('conflict', `${name} has an active replication job ${String(ctx.current_job_id)}; failover cannot start`, {
          jobId: String(ctx.current_job_id),
        });
      }
      const other = this.openFor(input.vmContextId);
      if (other) throw new AppError('conflict', `${name} already has failover ${other.id} (${other.status})`, { failoverId: other.id });
      const status = ctx.current_status as VmContextStatus;
      if (!input.from.includes(status)) {
        throw new AppError('conflict', `${name} is ${status.replace(/_/g, ' ')}; a ${input.kind} failover cannot start from there`, { status });
      }
      assertTransition(status, 'failing_over');
      this.db
        .prepare(
          `INSERT INTO failovers (id, vm_context_id, kind, status, phase, vm_name, findings_json, override_by, override_at,
             override_findings_json, ports_json, options_json, started_at)
           VALUES (?,?,?,'pending',NULL,?,?,?,?,?,?,?,?)`,
        )
        .run(
          id,
          input.vmContextId,
          input.kind,
          input.vmName,
          JSON.stringify(input.findings),
          input.override?.by ?? null,
          input.override?.at ?? null,
          input.override ? JSON.stringify(input.override.findings) : null,
          JSON.stringify(input.ports),
          JSON.stringify(input.options),
          now,
        );
      writeContextStatus(this.db, input.vmContextId, 'failing_over');
    });
    run.immediate();
    return this.require(id);
  }

  update(id: string, patch: FailoverPatch): Failover {
    const sets: string[] = [];
    const args: unknown[] = [];
    const put = (col: string, v: unknown) => {
      sets.push(`${col} = ?`);
      args.push(v);
    };
    if (patch.status !== undefined) put('status', patch.status);
    if (patch.phase !== undefined) put('phase', patch.phase);
    if (patch.cloudstackVmId !== undefined) put('cloudstack_vm_id', patch.cloudstackVmId);
    if (patch.snapshots !== undefined) put('snapshots_json', JSON.stringify(patch.snapshots));
    if (patch.evidence !== undefined) put('evidence_json', patch.evidence === null ? null : JSON.stringify(patch.evidence));
    if (patch.error !== undefined) put('error', patch.error);
    if (patch.options !== undefined) put('options_json', JSON.stringify(patch.options));
    if (sets.length > 0) {
      const r = this.db.prepare(`UPDATE failovers SET ${sets.join(', ')} WHERE id = ? AND status NOT IN ('failed','rolled_back')`).run(...args, id);
      if (r.changes === 0) throw new AppError('conflict', `Failover ${id} has already ended`);
    }
    return this.require(id);
  }

  /**
   * Writes a failover outcome and the VM's status in one transaction: the status is written after
   * the step that earns it (lesson 3), and a terminal failover is never revived.
   */
  settle(id: string, status: FailoverStatus, vmStatus: VmContextStatus, error: string | null = null): Failover {
    const now = isoNow();
    this.db.transaction(() => {
      const f = this.require(id);
      if (TERMINAL.includes(f.status)) throw new AppError('conflict', `Failover ${id} has already ended (${f.status})`);
      // Refused (and nothing written) unless the state machine allows the VM's move.
      writeContextStatus(this.db, f.vmContextId, vmStatus);
      this.db
        .prepare(`UPDATE failovers SET status = ?, error = COALESCE(?, error), ended_at = CASE WHEN ? THEN ? ELSE ended_at END WHERE id = ?`)
        .run(status, error, TERMINAL.includes(status) || status === 'completed' || status === 'cleanup_required' ? 1 : 0, now, id);
      if (error !== null) this.db.prepare(`UPDATE vm_contexts SET last_error = ?, updated_at = ? WHERE id = ?`).run(error, now, f.vmContextId);
    })();
    return this.require(id);
  }
}
