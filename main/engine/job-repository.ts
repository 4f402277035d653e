import type { Db } from '../db/database';
import type {
  CbtHistoryEntry,
  JobDiskProgress,
  JobDiskStatus,
  JobStatus,
  JobTrigger,
  JobType,
  ReplicationJob,
  TerminalJobStatus,
  VmContextStatus,
} from '../../shared/domain';
import { ACTIVE_JOB_STATUSES, TERMINAL_JOB_STATUSES } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import { FAILOVER_BUSY_STATUSES, statusAfterJob } from '../base/context-state';
import { writeContextStatus } from '../db/repositories/context-status';
import { isoNow, newJobId } from '../base/ids';
import { num, strOrNull } from '../db/repositories/rows';

type Row = Record<string, unknown>;

const mapJob = (r: Row): ReplicationJob => ({
  id: String(r.id),
  vmContextId: String(r.vm_context_id),
  jobType: r.job_type as JobType,
  status: r.status as JobStatus,
  phase: String(r.phase),
  progressPercent: num(r.progress_percent),
  bytesTransferred: num(r.bytes_transferred),
  totalBytes: num(r.total_bytes),
  capacityBytes: num(r.capacity_bytes),
  rateBps: num(r.rate_bps),
  etaSeconds: r.eta_seconds === null ? null : num(r.eta_seconds),
  error: strOrNull(r.error),
  vmPath: String(r.vm_path),
  trigger: r.trigger as JobTrigger,
  scheduleExecutionId: strOrNull(r.schedule_execution_id),
  vmGroupId: strOrNull(r.vm_group_id),
  scheduledBy: strOrNull(r.scheduled_by),
  createdAt: String(r.created_at),
  startedAt: strOrNull(r.started_at),
  updatedAt: String(r.updated_at),
  completedAt: strOrNull(r.completed_at),
});

const mapJobDisk = (r: Row): JobDiskProgress & { volumeId: string | null; exportName: string | null } => ({
  jobId: String(r.job_id),
  vmDiskId: num(r.vm_disk_id),
  diskKey: String(r.disk_key),
  status: r.status as JobDiskStatus,
  syncType: r.sync_type as JobType,
  previousChangeId: strOrNull(r.previous_change_id),
  changeId: strOrNull(r.change_id),
  bytesTransferred: num(r.bytes_transferred),
  totalBytes: num(r.total_bytes),
  capacityBytes: num(r.capacity_bytes),
  percent: num(r.percent),
  volumeId: strOrNull(r.volume_id),
  exportName: strOrNull(r.export_name),
});
export type JobDiskRow = ReturnType<typeof mapJobDisk>;

/** The columns of a job the progress poller reads at each answer (see JobRepository.pollView). */
export type PollJobView = Pick<
  ReplicationJob,
  'id' | 'vmContextId' | 'status' | 'phase' | 'progressPercent' | 'bytesTransferred' | 'totalBytes' | 'rateBps' | 'etaSeconds' | 'startedAt'
>;
export type PollDiskView = Pick<JobDiskRow, 'diskKey' | 'status' | 'totalBytes' | 'bytesTransferred' | 'capacityBytes' | 'percent' | 'changeId'>;

const mapCbt = (r: Row): CbtHistoryEntry => ({
  id: num(r.id),
  vmContextId: String(r.vm_context_id),
  vmDiskId: num(r.vm_disk_id),
  diskKey: String(r.disk_key),
  jobId: strOrNull(r.job_id),
  syncType: r.sync_type as JobType,
  previousChangeId: strOrNull(r.previous_change_id),
  changeId: strOrNull(r.change_id),
  bytesTransferred: num(r.bytes_transferred),
  durationMs: num(r.duration_ms),
  createdAt: String(r.created_at),
});

const TERMINAL_SQL = `('completed','failed','cancelled')`;

export interface ClaimInput {
  contextId: string;
  trigger: JobTrigger;
  scheduleExecutionId?: string | null;
  vmGroupId?: string | null;
  scheduledBy?: string | null;
  /** Every disk starts from nothing: no previous change id is offered to the copier. */
  fullSync?: boolean;
  now?: Date;
}

export interface PolledJob {
  jobId: string;
  applianceId: string | null;
  startedPollingAt: string;
  lastPollAt: string | null;
  lastChangeAt: string;
  firstSeenAt: string | null;
  unreachableSince: string | null;
  notFoundSince: string | null;
  nextPollAt: string | null;
  consecutiveErrors: number;
  lastFingerprint: string | null;
}

export interface ProgressFields {
  status?: JobStatus;
  phase?: string;
  progressPercent?: number;
  bytesTransferred?: number;
  totalBytes?: number;
  rateBps?: number;
  etaSeconds?: number | null;
}

/**
 * Fields of a polled row the poller's decisions need on disk across a restart: when none of them
 * changed, the row is not written (see savePolled). The others (lastPollAt, lastChangeAt,
 * lastFingerprint) change with every poll or every bit of progress, and a restart resets or
 * re-derives them: resumeAfterRestart sets lastChangeAt to the restart time for every job, and the
 * first pass, which starts at once, either finds the fingerprint on disk unchanged (the stall period
 * runs from the restart) or changed (it runs from that first answer, one round trip later).
 */
const POLLED_DURABLE: readonly (keyof PolledJob)[] = [
  'applianceId',
  'startedPollingAt',
  'firstSeenAt',
  'unreachableSince',
  'notFoundSince',
  'nextPollAt',
  'consecutiveErrors',
];

/** True when no durable field differs (a loop: this runs at every poll). */
function durableSame(a: PolledJob, b: PolledJob): boolean {
  for (const k of POLLED_DURABLE) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * How stale polled_jobs.last_poll_at, last_change_at and last_fingerprint may get on disk while
 * nothing durable about the job changes. This process serves the exact values from memory (polled()),
 * so the stall period is measured as before; only a reader of the table itself sees them up to this late.
 */
export const LAST_POLL_PERSIST_MS = 60_000;

/**
 * How long progress numbers that only moved (bytes, percent, rate, ETA of a job; bytes and percent of
 * a disk) may stay ahead of the table. Every reader of this process sees them at once (the getters
 * overlay them); a SIGKILL loses at most this much of them, never a status, a phase, a change id or a
 * terminal state, which are written when they change.
 */
export const PROGRESS_PERSIST_MS = 10_000;

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_JOB_STATUSES);

const COLUMN: Record<keyof ProgressFields, string> = {
  status: 'status',
  phase: 'phase',
  progressPercent: 'progress_percent',
  bytesTransferred: 'bytes_transferred',
  totalBytes: 'total_bytes',
  rateBps: 'rate_bps',
  etaSeconds: 'eta_seconds',
};

const FIELD_KEYS = Object.keys(COLUMN) as (keyof ProgressFields)[];
const clampPercent = (n: number) => Math.max(0, Math.min(100, Number(n)));

/** The job fields that update() may hold in memory when nothing else about the job changed. */
const HELD_FIELDS: ReadonlySet<keyof ProgressFields> = new Set(['progressPercent', 'bytesTransferred', 'rateBps', 'etaSeconds']);

/**
 * What memory holds of an active job: its poll views, kept current by every write that goes through
 * this repository (one process owns the data directory and writes it, main/owner/owner-lock.ts), so the poller reads
 * no row per answer; and the progress numbers not yet in the table.
 */
interface LiveJob {
  view: PollJobView;
  /** Loaded at the first pollDisks; a disk's capacity is read once (it does not change under a job). */
  disks: PollDiskView[] | null;
  /** When the job's held numbers were taken (their updated_at, epoch ms); null when the row holds them. */
  heldAtMs: number | null;
  /** Disks whose bytes and percent are ahead of their rows. */
  heldDisks: Set<string> | null;
  /** When the oldest held value of this job was taken (repository clock). */
  heldSinceMs: number | null;
}

/** Replication jobs, their per-disk rows, CBT history and the poller's persisted list. */
export class JobRepository {
  /**
   * The poller's persisted list as the table holds it, except lastPollAt / lastChangeAt /
   * lastFingerprint, which may be newer here (see savePolled). Loaded at the first use.
   */
  private polledRows: Map<string, PolledJob> | null = null;
  private polledSorted = true;
  /**
   * Polled rows whose lastPollAt / lastChangeAt / lastFingerprint are newer in memory than in the
   * table, with the poll time from which the row is due again (the table's last_poll_at plus
   * LAST_POLL_PERSIST_MS; null: at once): writing the row at every poll (and at every bit of
   * progress) was most of the poller's database work for 1,000 running jobs.
   */
  private readonly polledAhead = new Map<string, string | null>();
  /** Active jobs the poller or a writer touched (see LiveJob); dropped when the job ends. */
  private readonly lives = new Map<string, LiveJob>();
  /** Jobs with held progress, oldest first (see persistHeldProgress). */
  private readonly held = new Map<string, LiveJob>();
  private readonly clock: () => number;

  constructor(
    private readonly db: Db,
    options: { now?: () => number } = {},
  ) {
    this.clock = options.now ?? Date.now;
  }

  /**
   * Runs `fn` in one transaction (a savepoint when one is already open): the poller writes what a
   * batch of answers changed with one commit instead of one per statement. When it fails, what memory
   * holds is dropped and read again from the table: memory must never claim a write that rolled back.
   */
  batch<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      this.forgetMemory();
      throw e;
    }
  }

  get(id: string): ReplicationJob | null {
    const r = this.db.prepare(`SELECT * FROM replication_jobs WHERE id = ?`).get(id) as Row | undefined;
    return r ? this.overlay(mapJob(r)) : null;
  }

  /**
   * What the poller needs of a job, from memory once read (1,000 jobs every 2 s): kept current by
   * every write of this repository, held progress included. The view is live: a later write changes it.
   */
  pollView(id: string): Readonly<PollJobView> | null {
    return this.live(id)?.view ?? null;
  }

  /** What the poller needs of a job's disks, from memory once read (see pollView); live as well. */
  pollDisks(jobId: string): readonly Readonly<PollDiskView>[] {
    const live = this.live(jobId);
    return live ? this.liveDisks(live) : this.readPollDisks(jobId);
  }

  /**
   * Memory's record of an active job, read from the table the first time. A finished job is not kept
   * (nothing writes it any more but finish and delete); it is read again at each call.
   */
  private live(id: string): LiveJob | null {
    const known = this.lives.get(id);
    if (known) return known;
    const r = this.db
      .prepare(`SELECT id, vm_context_id, status, phase, progress_percent, bytes_transferred, total_bytes, rate_bps, eta_seconds, started_at FROM replication_jobs WHERE id = ?`)
      .get(id) as Row | undefined;
    if (!r) return null;
    const live: LiveJob = {
      view: {
        id: String(r.id),
        vmContextId: String(r.vm_context_id),
        status: r.status as JobStatus,
        phase: String(r.phase),
        progressPercent: num(r.progress_percent),
        bytesTransferred: num(r.bytes_transferred),
        totalBytes: num(r.total_bytes),
        rateBps: num(r.rate_bps),
        etaSeconds: r.eta_seconds === null ? null : num(r.eta_seconds),
        startedAt: strOrNull(r.started_at),
      },
      disks: null,
      heldAtMs: null,
      heldDisks: null,
      heldSinceMs: null,
    };
    if (!TERMINAL.has(live.view.status)) this.lives.set(id, live);
    return live;
  }

  private liveDisks(live: LiveJob): PollDiskView[] {
    if (live.disks) return live.disks;
    const disks = this.readPollDisks(live.view.id);
    if (this.lives.get(live.view.id) === live) live.disks = disks;
    return disks;
  }

  private readPollDisks(jobId: string): PollDiskView[] {
    return (
      this.db
        .prepare(
          `SELECT jd.disk_key, jd.status, jd.total_bytes, jd.bytes_transferred, jd.percent, jd.change_id, COALESCE(d.capacity_bytes, 0) AS capacity_bytes
           FROM job_disks jd LEFT JOIN vm_disks d ON d.id = jd.vm_disk_id WHERE jd.job_id = ? ORDER BY jd.rowid`,
        )
        .all(jobId) as Row[]
    ).map((r) => ({
      diskKey: String(r.disk_key),
      status: r.status as JobDiskStatus,
      totalBytes: num(r.total_bytes),
      bytesTransferred: num(r.bytes_transferred),
      percent: num(r.percent),
      changeId: strOrNull(r.change_id),
      capacityBytes: num(r.capacity_bytes),
    }));
  }

  /** A job as read from its row, with the numbers memory holds ahead of it (see PROGRESS_PERSIST_MS). */
  private overlay(job: ReplicationJob): ReplicationJob {
    const live = this.lives.get(job.id);
    if (live?.heldAtMs == null) return job;
    const v = live.view;
    return { ...job, progressPercent: v.progressPercent, bytesTransferred: v.bytesTransferred, rateBps: v.rateBps, etaSeconds: v.etaSeconds, updatedAt: new Date(live.heldAtMs).toISOString() };
  }

  /**
   * Writes the progress numbers held in memory for longer than `olderThanMs` (all of them by default:
   * Core.close), in one transaction. Returns how many jobs were written.
   */
  persistHeldProgress(olderThanMs = 0): number {
    if (this.held.size === 0) return 0;
    const now = this.clock();
    const due: LiveJob[] = [];
    // Oldest first: the first one not due ends the search.
    for (const live of this.held.values()) {
      if (olderThanMs > 0 && now - (live.heldSinceMs ?? now) < olderThanMs) break;
      due.push(live);
    }
    if (due.length === 0) return 0;
    this.batch(() => {
      for (const live of due) this.flushHeld(live);
    });
    return due.length;
  }

  /** Writes what memory holds ahead of the table for one job (before any other write to it). */
  private flushHeld(live: LiveJob): void {
    if (live.heldSinceMs === null) return;
    const id = live.view.id;
    if (live.heldAtMs !== null) {
      const v = live.view;
      this.db
        .prepare(`UPDATE replication_jobs SET progress_percent = ?, bytes_transferred = ?, rate_bps = ?, eta_seconds = ?, updated_at = ? WHERE id = ? AND status NOT IN ${TERMINAL_SQL}`)
        .run(v.progressPercent, v.bytesTransferred, v.rateBps, v.etaSeconds, new Date(live.heldAtMs).toISOString(), id);
    }
    if (live.heldDisks && live.disks) {
      const st = this.db.prepare(`UPDATE job_disks SET bytes_transferred = ?, percent = ? WHERE job_id = ? AND disk_key = ? AND status != 'completed'`);
      for (const d of live.disks) if (live.heldDisks.has(d.diskKey)) st.run(d.bytesTransferred, d.percent, id, d.diskKey);
    }
    live.heldAtMs = null;
    live.heldDisks = null;
    live.heldSinceMs = null;
    this.held.delete(id);
  }

  private flushHeldOf(jobId: string): void {
    const live = this.lives.get(jobId);
    if (live) this.flushHeld(live);
  }

  private markHeld(live: LiveJob): void {
    if (live.heldSinceMs !== null) return;
    live.heldSinceMs = this.clock();
    this.held.set(live.view.id, live);
  }

  /** After a failed transaction: everything is read again from the table (held numbers are lost). */
  private forgetMemory(): void {
    this.lives.clear();
    this.held.clear();
    this.polledRows = null;
    this.polledAhead.clear();
  }

  /** The job ended or is gone: memory keeps nothing of it. */
  private forgetJob(jobId: string): void {
    this.lives.delete(jobId);
    this.held.delete(jobId);
    this.polledRows?.delete(jobId);
    this.polledAhead.delete(jobId);
  }

  require(id: string): ReplicationJob {
    const j = this.get(id);
    if (!j) throw new AppError('not_found', `No replication job ${id}`, { id });
    return j;
  }

  list(filter: { contextId?: string; status?: JobStatus; limit?: number } = {}): ReplicationJob[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.contextId) {
      where.push('vm_context_id = ?');
      args.push(filter.contextId);
    }
    if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    const sql = `SELECT * FROM replication_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 100) as Row[]).map((r) => this.overlay(mapJob(r)));
  }

  active(): ReplicationJob[] {
    return (this.db.prepare(`SELECT * FROM replication_jobs WHERE status NOT IN ${TERMINAL_SQL} ORDER BY created_at`).all() as Row[]).map((r) => this.overlay(mapJob(r)));
  }

  /**
   * Active jobs the poller does not follow (jobs in a setup step): what the sweep for orphaned setups
   * looks at, without reading the 1,000 polled ones every time.
   */
  activeUnpolled(): ReplicationJob[] {
    return (
      this.db
        .prepare(`SELECT * FROM replication_jobs WHERE status NOT IN ${TERMINAL_SQL} AND id NOT IN (SELECT job_id FROM polled_jobs) ORDER BY created_at`)
        .all() as Row[]
    ).map((r) => this.overlay(mapJob(r)));
  }

  /** Completed jobs whose completion is at or after `sinceIso`, newest first (the overview's "today"). */
  completedSince(sinceIso: string, limit = 1000): ReplicationJob[] {
    return (
      this.db
        .prepare(`SELECT * FROM replication_jobs WHERE status = 'completed' AND completed_at >= ? ORDER BY completed_at DESC, id DESC LIMIT ?`)
        .all(sinceIso, limit) as Row[]
    ).map(mapJob);
  }

  activeCount(): number {
    return num((this.db.prepare(`SELECT COUNT(*) n FROM replication_jobs WHERE status NOT IN ${TERMINAL_SQL}`).get() as Row).n);
  }

  /**
   * Checks the conflict rules and creates the job, its disk rows and the context link in one
   * transaction. The partial unique index on active jobs makes a second concurrent claim fail even
   * from another process sharing the database.
   */
  claim(input: ClaimInput): ReplicationJob {
    const id = newJobId(input.now);
    const now = (input.now ?? new Date()).toISOString();
    const run = this.db.transaction(() => {
      const ctx = this.db.prepare(`SELECT * FROM vm_contexts WHERE id = ?`).get(input.contextId) as Row | undefined;
      if (!ctx) throw new AppError('not_found', `No VM context with id ${input.contextId}`);
      const name = String(ctx.name);
      const status = ctx.current_status as VmContextStatus;
      if (ctx.current_job_id) {
        throw new AppError('conflict', `${name} already has an active replication job ${String(ctx.current_job_id)}`, {
          jobId: String(ctx.current_job_id),
        });
      }
      if (input.trigger !== 'failover' && FAILOVER_BUSY_STATUSES.includes(status)) {
        throw new AppError('conflict', `${name} is ${status.replace(/_/g, ' ')}; replication cannot start now`, { status });
      }
      const disks = this.db
        .prepare(`SELECT id, disk_key, capacity_bytes, last_change_id FROM vm_disks WHERE vm_context_id = ? AND present = 1 ORDER BY unit_number, disk_key`)
        .all(input.contextId) as Row[];
      if (disks.length === 0) throw new AppError('validation', `${name} has no disks to replicate`);
      const torn = this.tornDiskIds(strOrNull(ctx.replica_torn_job_id));
      // The base each disk starts from: none (a full copy) when the schedule asks for full syncs, for
      // a disk the torn job may have half written, or for a disk whose latest finished copy reported an
      // empty change id (see lastCopyLeftNoChangeId).
      const base = (d: Row): string | null =>
        input.fullSync || torn === 'all' || torn.has(num(d.id)) || this.lastCopyLeftNoChangeId(num(d.id)) ? null : strOrNull(d.last_change_id);
      const jobType: JobType = disks.every((d) => base(d)) ? 'incremental' : 'initial';
      try {
        this.db
          .prepare(
            `INSERT INTO replication_jobs (id, vm_context_id, job_type, status, phase, vm_path, trigger, schedule_execution_id,
               vm_group_id, scheduled_by, vma_appliance_id, capacity_bytes, created_at, updated_at)
             VALUES (?,?,?,'pending','Queued',?,?,?,?,?,?,?,?,?)`,
          )
          .run(
            id,
            input.contextId,
            jobType,
            String(ctx.path),
            input.trigger,
            input.scheduleExecutionId ?? null,
            input.vmGroupId ?? null,
            input.scheduledBy ?? null,
            strOrNull(ctx.vma_appliance_id),
            disks.reduce((s, d) => s + num(d.capacity_bytes), 0),
            now,
            now,
          );
      } catch (e) {
        if (String((e as Error).message).includes('UNIQUE')) {
          const other = this.db
            .prepare(`SELECT id FROM replication_jobs WHERE vm_context_id = ? AND status NOT IN ${TERMINAL_SQL}`)
            .get(input.contextId) as Row | undefined;
          throw new AppError('conflict', `${name} already has an active replication job ${String(other?.id ?? '')}`.trim(), {
            jobId: strOrNull(other?.id),
          });
        }
        throw e;
      }
      // Byte totals stay 0 until the VMA reports what this sync must move (capacity is the job's capacity_bytes).
      const insertDisk = this.db.prepare(
        `INSERT INTO job_disks (job_id, vm_disk_id, disk_key, status, sync_type, previous_change_id) VALUES (?,?,?,'pending',?,?)`,
      );
      for (const d of disks) {
        insertDisk.run(id, num(d.id), String(d.disk_key), base(d) ? 'incremental' : 'initial', base(d));
      }
      this.db
        .prepare(`UPDATE vm_contexts SET current_job_id = ?, total_jobs = total_jobs + 1, updated_at = ? WHERE id = ?`)
        .run(id, now, input.contextId);
      // A failover's final sync runs while the failover owns the VM's status.
      if (input.trigger !== 'failover') writeContextStatus(this.db, input.contextId, 'replicating');
    });
    run.immediate();
    return this.require(id);
  }

  /**
   * Disks the torn job may have half written, or 'all' when that job's record is gone.
   *
   * Why a full copy and not an incremental from the last good change id: by CBT's rules the blocks
   * changed since that base include every block the unfinished copy could have written, so an
   * incremental would in theory repair them. But reference/vma-api.md says a job whose disks did not
   * all report change ids needs its next sync to be full for those disks, and the console cannot
   * check what a copier it lost track of did (the public copier may omit previous_change_id, falls
   * back to a full copy silently when vCenter refuses a base, and may still have been writing when
   * it was given up on). A full copy of those disks is correct whatever happened; disks that
   * finished in the torn job keep their new change id and stay incremental.
   */
  private tornDiskIds(tornJobId: string | null): Set<number> | 'all' {
    if (!tornJobId) return new Set();
    if (!this.get(tornJobId)) return 'all';
    const rows = this.db.prepare(`SELECT vm_disk_id FROM job_disks WHERE job_id = ? AND status != 'completed'`).all(tornJobId) as Row[];
    return new Set(rows.map((r) => num(r.vm_disk_id)));
  }

  /**
   * True when the latest finished copy of this disk (a job disk that reported back) reported an empty
   * change id. The copier sends one after some conversions (reference/vma-api.md); the empty id is
   * never stored, and the good id from before is kept for the record, but the console cannot tell what
   * that copy did to the disk's change tracking: its next sync is a full copy, correct whatever it did.
   */
  private lastCopyLeftNoChangeId(vmDiskId: number): boolean {
    const r = this.db
      .prepare(
        `SELECT jd.change_id FROM job_disks jd JOIN replication_jobs j ON j.id = jd.job_id
         WHERE jd.vm_disk_id = ? AND jd.status = 'completed' ORDER BY j.created_at DESC, j.id DESC LIMIT 1`,
      )
      .get(vmDiskId) as Row | undefined;
    return r !== undefined && strOrNull(r.change_id) === null;
  }

  /** The replicate request is about to be sent: from now on the copier may write this job's volumes. */
  markCopyRequested(jobId: string): void {
    this.flushHeldOf(jobId);
    this.db.prepare(`UPDATE replication_jobs SET copy_requested_at = COALESCE(copy_requested_at, ?) WHERE id = ? AND status NOT IN ${TERMINAL_SQL}`).run(isoNow(), jobId);
  }

  /**
   * Moves an active job to another non-terminal status; a finished job is never revived.
   * With skipUnchanged, a row that already holds every given value is not written at all (its
   * updated_at stays): the poller writes each answer, and most answers repeat the stored one.
   *
   * When only progress numbers moved (HELD_FIELDS: percent, bytes, rate, ETA), they are held in
   * memory and written within PROGRESS_PERSIST_MS (persistHeldProgress), before any other write to the
   * job, and before it ends; every getter of this repository shows them at once. Returns whether the
   * job now holds the given values where it did not (written or held).
   */
  update(jobId: string, fields: ProgressFields, opts: { skipUnchanged?: boolean } = {}): boolean {
    if (fields.status && TERMINAL.has(fields.status)) {
      throw new AppError('internal', 'terminal statuses are written by finish() only');
    }
    const live = this.live(jobId);
    if (!live || TERMINAL.has(live.view.status)) return false;
    const view = live.view as Record<keyof ProgressFields, unknown>;
    // Loops over a constant key list, no objects made: this runs at every answer that moved.
    let changed = false;
    let onlyHeld = true;
    for (const k of FIELD_KEYS) {
      const v = fields[k];
      if (v === undefined) continue;
      if (view[k] !== (k === 'progressPercent' ? clampPercent(v as number) : v)) {
        changed = true;
        if (!HELD_FIELDS.has(k)) onlyHeld = false;
      }
    }
    const starts = fields.status !== undefined && fields.status !== 'pending' && live.view.startedAt === null;
    if (starts) onlyHeld = false;
    if (opts.skipUnchanged && !changed && !starts) return false;
    const apply = () => {
      for (const k of FIELD_KEYS) {
        const v = fields[k];
        if (v !== undefined) view[k] = k === 'progressPercent' ? clampPercent(v as number) : v;
      }
    };
    if (changed && onlyHeld) {
      apply();
      // A number, not a string: formatting a date at every poll was a measurable part of the poller's work.
      live.heldAtMs = Date.now();
      this.markHeld(live);
      return true;
    }
    this.flushHeld(live);
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const k of FIELD_KEYS) {
      const v = fields[k];
      if (v === undefined) continue;
      sets.push(`${COLUMN[k]} = ?`);
      args.push(k === 'progressPercent' ? clampPercent(v as number) : v);
    }
    const now = isoNow();
    if (fields.status && fields.status !== 'pending') {
      sets.push(`started_at = COALESCE(started_at, ?)`);
      args.push(now);
    }
    sets.push('updated_at = ?');
    args.push(now);
    const r = this.db.prepare(`UPDATE replication_jobs SET ${sets.join(', ')} WHERE id = ? AND status NOT IN ${TERMINAL_SQL}`).run(...args, jobId);
    apply();
    if (starts) live.view.startedAt = now;
    return r.changes > 0;
  }

  setJobType(jobId: string, jobType: JobType): void {
    this.flushHeldOf(jobId);
    this.db.prepare(`UPDATE replication_jobs SET job_type = ?, updated_at = ? WHERE id = ? AND status NOT IN ${TERMINAL_SQL}`).run(jobType, isoNow(), jobId);
  }

  jobDisks(jobId: string): JobDiskRow[] {
    const rows = (
      this.db
        .prepare(`SELECT jd.*, COALESCE(d.capacity_bytes, 0) AS capacity_bytes FROM job_disks jd LEFT JOIN vm_disks d ON d.id = jd.vm_disk_id WHERE jd.job_id = ? ORDER BY jd.rowid`)
        .all(jobId) as Row[]
    ).map(mapJobDisk);
    // The disks' numbers memory holds ahead of their rows (see PROGRESS_PERSIST_MS).
    const live = this.lives.get(jobId);
    if (!live?.heldDisks || !live.disks) return rows;
    const views = live.disks;
    return rows.map((r) => {
      const v = live.heldDisks!.has(r.diskKey) ? views.find((d) => d.diskKey === r.diskKey) : undefined;
      return v ? { ...r, bytesTransferred: v.bytesTransferred, percent: v.percent } : r;
    });
  }

  setJobDiskTarget(jobId: string, vmDiskId: number, volumeId: string, exportName: string | null, syncType?: JobType): void {
    this.flushHeldOf(jobId);
    this.db
      .prepare(
        `UPDATE job_disks SET volume_id = ?, export_name = ?, sync_type = COALESCE(?, sync_type),
           previous_change_id = CASE WHEN ? = 'initial' THEN NULL ELSE previous_change_id END
         WHERE job_id = ? AND vm_disk_id = ?`,
      )
      .run(volumeId, exportName, syncType ?? null, syncType ?? null, jobId, vmDiskId);
  }

  /**
   * A disk's progress. A row that already holds the values is not written; when only its bytes and
   * percent moved they are held in memory like the job's (see update).
   */
  updateJobDisk(jobId: string, diskKey: string, fields: { status?: JobDiskStatus; bytesTransferred?: number; totalBytes?: number; percent?: number }): void {
    const live = this.live(jobId);
    const d = live && !TERMINAL.has(live.view.status) ? this.liveDisks(live).find((x) => x.diskKey === diskKey) : undefined;
    if (!live || !d) {
      // A finished or unknown job: the row as it is decides (memory keeps nothing of it).
      this.db
        .prepare(
          `UPDATE job_disks SET status = COALESCE(?, status), bytes_transferred = COALESCE(?, bytes_transferred),
             total_bytes = COALESCE(?, total_bytes), percent = COALESCE(?, percent)
           WHERE job_id = ? AND disk_key = ? AND status != 'completed'`,
        )
        .run(fields.status ?? null, fields.bytesTransferred ?? null, fields.totalBytes ?? null, fields.percent ?? null, jobId, diskKey);
      return;
    }
    if (d.status === 'completed') return;
    const status = fields.status ?? d.status;
    const bytes = fields.bytesTransferred ?? d.bytesTransferred;
    const total = fields.totalBytes ?? d.totalBytes;
    const percent = fields.percent ?? d.percent;
    if (status === d.status && bytes === d.bytesTransferred && total === d.totalBytes && percent === d.percent) return;
    if (status === d.status && total === d.totalBytes) {
      d.bytesTransferred = bytes;
      d.percent = percent;
      (live.heldDisks ??= new Set()).add(diskKey);
      this.markHeld(live);
      return;
    }
    this.flushHeld(live);
    this.db
      .prepare(`UPDATE job_disks SET status = ?, bytes_transferred = ?, total_bytes = ?, percent = ? WHERE job_id = ? AND disk_key = ? AND status != 'completed'`)
      .run(status, bytes, total, percent, jobId, diskKey);
    d.status = status;
    d.bytesTransferred = bytes;
    d.totalBytes = total;
    d.percent = percent;
  }

  /** Bytes the VMA reported for a disk that finished before any frame of it was stored (total still 0). */
  recordReportedBytes(jobId: string, diskKey: string, bytesTransferred: number, totalBytes: number): void {
    this.flushHeldOf(jobId);
    this.db
      .prepare(`UPDATE job_disks SET bytes_transferred = MAX(bytes_transferred, ?), total_bytes = ? WHERE job_id = ? AND disk_key = ? AND total_bytes = 0 AND ? > 0`)
      .run(bytesTransferred, totalBytes, jobId, diskKey, totalBytes);
    const d = this.lives.get(jobId)?.disks?.find((x) => x.diskKey === diskKey);
    if (d && d.totalBytes === 0 && totalBytes > 0) {
      d.bytesTransferred = Math.max(d.bytesTransferred, bytesTransferred);
      d.totalBytes = totalBytes;
    }
  }

  /**
   * The change-ID callback for one disk. A non-empty id is stored on the job's disk row and on the
   * disk itself (it is valid for that disk's target as soon as that disk's copy finished); an empty
   * one marks the disk done but never overwrites a good id.
   */
  recordChangeId(jobId: string, diskKey: string, changeId: string): 'recorded' | 'ignored_empty' | 'unknown_job' | 'unknown_disk' {
    const job = this.get(jobId);
    if (!job) return 'unknown_job';
    const jd = this.db.prepare(`SELECT * FROM job_disks WHERE job_id = ? AND disk_key = ?`).get(jobId, diskKey) as Row | undefined;
    if (!jd) return 'unknown_disk';
    const now = isoNow();
    const trimmed = changeId.trim();
    const outcome = this.db.transaction(() => {
      this.flushHeldOf(jobId);
      if (trimmed === '') {
        this.db.prepare(`UPDATE job_disks SET status = 'completed', percent = 100 WHERE job_id = ? AND disk_key = ?`).run(jobId, diskKey);
        return 'ignored_empty' as const;
      }
      this.db
        .prepare(`UPDATE job_disks SET status = 'completed', percent = 100, change_id = ?, bytes_transferred = MAX(bytes_transferred, total_bytes) WHERE job_id = ? AND disk_key = ?`)
        .run(trimmed, jobId, diskKey);
      this.db
        .prepare(`UPDATE vm_disks SET last_change_id = ?, last_change_id_at = ?, last_change_id_job_id = ?, updated_at = ? WHERE id = ?`)
        .run(trimmed, now, jobId, now, num(jd.vm_disk_id));
      return 'recorded' as const;
    });
    let result: 'recorded' | 'ignored_empty';
    try {
      result = outcome();
    } catch (e) {
      this.forgetMemory();
      throw e;
    }
    const d = this.lives.get(jobId)?.disks?.find((x) => x.diskKey === diskKey);
    if (d) {
      d.status = 'completed';
      d.percent = 100;
      if (result === 'recorded') {
        d.changeId = trimmed;
        d.bytesTransferred = Math.max(d.bytesTransferred, d.totalBytes);
      }
    }
    return result;
  }

  /** Change id the copier should start from for one disk of a VM (by inventory path). */
  lookupChangeId(vmPath: string, diskKey: string): { changeId: string | null } | null {
    const r = this.db
      .prepare(
        `SELECT d.last_change_id FROM vm_disks d JOIN vm_contexts c ON c.id = d.vm_context_id
         WHERE c.path = ? AND d.disk_key = ? ORDER BY (c.current_job_id IS NOT NULL) DESC LIMIT 1`,
      )
      .get(vmPath, diskKey) as Row | undefined;
    return r ? { changeId: strOrNull(r.last_change_id) } : null;
  }

  /**
   * The one path to a terminal state. Only the first call wins; it also writes CBT history, clears
   * the context's current job and recomputes its counters and status, all in one transaction.
   * Returns false when the job had already ended.
   */
  finish(jobId: string, outcome: TerminalJobStatus, error: string | null, now: Date = new Date()): boolean {
    const iso = now.toISOString();
    const run = this.db.transaction(() => {
      // The numbers memory holds go to the rows first: the CBT history and the record keep them.
      this.flushHeldOf(jobId);
      const job = this.get(jobId);
      if (!job) return false;
      const r = this.db
        .prepare(
          `UPDATE replication_jobs SET status = ?, error = ?, completed_at = ?, updated_at = ?, rate_bps = 0, eta_seconds = NULL,
             progress_percent = CASE WHEN ? = 'completed' THEN 100 ELSE progress_percent END,
             phase = CASE WHEN ? = 'completed' THEN 'Completed' WHEN ? = 'cancelled' THEN 'Cancelled' ELSE 'Failed' END
           WHERE id = ? AND status NOT IN ${TERMINAL_SQL}`,
        )
        .run(outcome, error, iso, iso, outcome, outcome, outcome, jobId);
      if (r.changes === 0) return false;
      this.db.prepare(`DELETE FROM polled_jobs WHERE job_id = ?`).run(jobId);
      const unfinishedDisks = this.jobDisks(jobId).filter((d) => d.status !== 'completed').length;
      if (outcome === 'completed') {
        const started = Date.parse(job.startedAt ?? job.createdAt);
        const ins = this.db.prepare(
          `INSERT INTO cbt_history (vm_context_id, vm_disk_id, job_id, disk_key, sync_type, previous_change_id, change_id, bytes_transferred, duration_ms, created_at)
           VALUES (?,?,?,?,?,?,?,?,?,?)`,
        );
        for (const d of this.jobDisks(jobId)) {
          ins.run(job.vmContextId, d.vmDiskId, jobId, d.diskKey, d.syncType, d.previousChangeId, d.changeId, d.bytesTransferred, Math.max(0, now.getTime() - started), iso);
        }
        this.db.prepare(`UPDATE job_disks SET status = 'completed', percent = 100 WHERE job_id = ?`).run(jobId);
      } else {
        this.db.prepare(`UPDATE job_disks SET status = 'failed' WHERE job_id = ? AND status != 'completed'`).run(jobId);
      }
      this.recomputeContext(job.vmContextId, jobId, outcome, error, iso, unfinishedDisks);
      return true;
    });
    try {
      return run();
    } catch (e) {
      this.forgetMemory();
      throw e;
    } finally {
      // Ended (now or before): nothing of it stays in memory. A job that did not end is read again.
      this.forgetJob(jobId);
    }
  }

  private recomputeContext(contextId: string, jobId: string, outcome: TerminalJobStatus, error: string | null, iso: string, unfinishedDisks: number): void {
    const ctx = this.db.prepare(`SELECT * FROM vm_contexts WHERE id = ?`).get(contextId) as Row;
    const counts = this.db
      .prepare(
        `SELECT COUNT(*) total, SUM(status = 'completed') ok, SUM(status = 'failed') bad FROM replication_jobs WHERE vm_context_id = ?`,
      )
      .get(contextId) as Row;
    const lastOk = this.db
      .prepare(`SELECT id FROM replication_jobs WHERE vm_context_id = ? AND status = 'completed' ORDER BY completed_at DESC, id DESC LIMIT 1`)
      .get(contextId) as Row | undefined;
    const from = ctx.current_status as VmContextStatus;
    const copy = this.db.prepare(`SELECT copy_requested_at FROM replication_jobs WHERE id = ?`).get(jobId) as Row;
    const { status: to, replicaTornJobId } = statusAfterJob({
      from,
      jobId,
      outcome,
      copyRequested: copy.copy_requested_at !== null,
      unfinishedDisks,
      previousTornJobId: strOrNull(ctx.replica_torn_job_id),
      hasCompletedSync: Boolean(lastOk),
    });
    const ownsCurrent = ctx.current_job_id === jobId;
    writeContextStatus(this.db, contextId, to);
    this.db
      .prepare(
        `UPDATE vm_contexts SET current_job_id = CASE WHEN ? THEN NULL ELSE current_job_id END,
           total_jobs = ?, successful_jobs = ?, failed_jobs = ?, last_successful_job_id = ?,
           last_error = ?, replica_torn_job_id = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        ownsCurrent ? 1 : 0,
        num(counts.total),
        num(counts.ok),
        num(counts.bad),
        strOrNull(lastOk?.id),
        outcome === 'completed' ? null : outcome === 'failed' ? error : strOrNull(ctx.last_error),
        replicaTornJobId,
        iso,
        contextId,
      );
  }

  cbtHistory(contextId: string, limit = 100): CbtHistoryEntry[] {
    return (this.db.prepare(`SELECT * FROM cbt_history WHERE vm_context_id = ? ORDER BY id DESC LIMIT ?`).all(contextId, limit) as Row[]).map(mapCbt);
  }

  delete(jobId: string): void {
    const job = this.require(jobId);
    if ((ACTIVE_JOB_STATUSES as readonly string[]).includes(job.status)) {
      throw new AppError('conflict', `Job ${jobId} is still ${job.status}; cancel it before deleting it`);
    }
    this.forgetJob(jobId);
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM replication_jobs WHERE id = ?`).run(jobId);
      this.db.prepare(`DELETE FROM log_operations WHERE id = ?`).run(jobId);
      const counts = this.db
        .prepare(`SELECT COUNT(*) total, SUM(status = 'completed') ok, SUM(status = 'failed') bad FROM replication_jobs WHERE vm_context_id = ?`)
        .get(job.vmContextId) as Row;
      const lastOk = this.db
        .prepare(`SELECT id FROM replication_jobs WHERE vm_context_id = ? AND status = 'completed' ORDER BY completed_at DESC LIMIT 1`)
        .get(job.vmContextId) as Row | undefined;
      this.db
        .prepare(`UPDATE vm_contexts SET total_jobs = ?, successful_jobs = ?, failed_jobs = ?, last_successful_job_id = ?, updated_at = ? WHERE id = ?`)
        .run(num(counts.total), num(counts.ok), num(counts.bad), strOrNull(lastOk?.id), isoNow(), job.vmContextId);
    })();
  }

  // --- the poller's persisted list -------------------------------------------------------------

  addPolled(jobId: string, applianceId: string | null, now: Date = new Date()): void {
    const iso = now.toISOString();
    const r = this.db
      .prepare(
        `INSERT INTO polled_jobs (job_id, appliance_id, started_polling_at, last_change_at) VALUES (?,?,?,?)
         ON CONFLICT(job_id) DO NOTHING`,
      )
      .run(jobId, applianceId, iso, iso);
    if (r.changes > 0 && this.polledRows) {
      this.polledRows.set(jobId, {
        jobId,
        applianceId,
        startedPollingAt: iso,
        lastPollAt: null,
        lastChangeAt: iso,
        firstSeenAt: null,
        unreachableSince: null,
        notFoundSince: null,
        nextPollAt: null,
        consecutiveErrors: 0,
        lastFingerprint: null,
      });
      this.polledSorted = false;
    }
  }

  /** The VMA appliance following this job, when the VMA accepted it and the poller follows it. */
  polledAppliance(jobId: string): string | null {
    return this.polledMap().get(jobId)?.applianceId ?? null;
  }

  /**
   * The poller's list from memory, as the table orders it (by startedPollingAt). Every write to the
   * table goes through this repository, except one: removing an appliance sets appliance_id to NULL
   * (its foreign key), so the appliances that still exist are read at each call (a handful of rows).
   * lastPollAt is the latest poll, also when only memory has it (see savePolled).
   */
  polled(): Readonly<PolledJob>[] {
    const rows = this.polledMap();
    if (rows.size === 0) return [];
    const appliances = new Set((this.db.prepare(`SELECT id FROM appliances`).pluck().all() as unknown[]).map(String));
    for (const p of rows.values()) {
      if (p.applianceId !== null && !appliances.has(p.applianceId)) rows.set(p.jobId, { ...p, applianceId: null });
    }
    if (!this.polledSorted) {
      const sorted = [...rows.values()].sort((a, b) => (a.startedPollingAt < b.startedPollingAt ? -1 : a.startedPollingAt > b.startedPollingAt ? 1 : 0));
      rows.clear();
      for (const p of sorted) rows.set(p.jobId, p);
      this.polledSorted = true;
    }
    return [...rows.values()];
  }

  private polledMap(): Map<string, PolledJob> {
    if (this.polledRows) return this.polledRows;
    const rows = new Map<string, PolledJob>();
    for (const r of this.db.prepare(`SELECT * FROM polled_jobs ORDER BY started_polling_at`).all() as Row[]) {
      const jobId = String(r.job_id);
      rows.set(jobId, {
        jobId,
        applianceId: strOrNull(r.appliance_id),
        startedPollingAt: String(r.started_polling_at),
        lastPollAt: strOrNull(r.last_poll_at),
        lastChangeAt: String(r.last_change_at),
        firstSeenAt: strOrNull(r.first_seen_at),
        unreachableSince: strOrNull(r.unreachable_since),
        notFoundSince: strOrNull(r.not_found_since),
        nextPollAt: strOrNull(r.next_poll_at),
        consecutiveErrors: num(r.consecutive_errors),
        lastFingerprint: strOrNull(r.last_fingerprint),
      });
    }
    this.polledRows = rows;
    this.polledSorted = true;
    return rows;
  }

  /**
   * Writes the poller's state of one job. Given the state it started from (`previous`: this is a
   * poll), a poll that changed no durable field (POLLED_DURABLE) writes nothing: lastPollAt,
   * lastChangeAt and lastFingerprint are kept in memory and reach the row with the job's next durable
   * change, or LAST_POLL_PERSIST_MS after the row was last written at the latest. Without `previous`
   * the row is always written (resumeAfterRestart). Returns whether the row was written. `p` is kept
   * as the job's state (no copy: this runs at every poll): the caller must not change it afterwards.
   */
  savePolled(p: PolledJob, previous?: PolledJob): boolean {
    const rows = this.polledMap();
    const stored = rows.get(p.jobId);
    // No row: the job ended meanwhile (finish removed it).
    if (!stored) return false;
    if (previous && durableSame(p, stored)) {
      let dueAt = this.polledAhead.get(p.jobId);
      if (dueAt === undefined) dueAt = stored.lastPollAt === null ? null : new Date(Date.parse(stored.lastPollAt) + LAST_POLL_PERSIST_MS).toISOString();
      // ISO times in one format (toISOString) compare as strings: no date is parsed at each poll.
      const due = p.lastPollAt !== null && (dueAt === null || p.lastPollAt >= dueAt);
      if (!due) {
        if (this.polledAhead.has(p.jobId) || p.lastPollAt !== stored.lastPollAt || p.lastChangeAt !== stored.lastChangeAt || p.lastFingerprint !== stored.lastFingerprint) {
          this.polledAhead.set(p.jobId, dueAt);
        }
        rows.set(p.jobId, p);
        return false;
      }
    }
    this.db
      .prepare(
        `UPDATE polled_jobs SET last_poll_at = ?, last_change_at = ?, first_seen_at = ?, unreachable_since = ?,
           not_found_since = ?, next_poll_at = ?, consecutive_errors = ?, last_fingerprint = ?, started_polling_at = ? WHERE job_id = ?`,
      )
      .run(p.lastPollAt, p.lastChangeAt, p.firstSeenAt, p.unreachableSince, p.notFoundSince, p.nextPollAt, p.consecutiveErrors, p.lastFingerprint, p.startedPollingAt, p.jobId);
    this.polledAhead.delete(p.jobId);
    if (p.startedPollingAt !== stored.startedPollingAt) this.polledSorted = false;
    rows.set(p.jobId, p);
    return true;
  }
}
