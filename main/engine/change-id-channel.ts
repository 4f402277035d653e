import { createHash, randomBytes } from 'node:crypto';
import { isoNow } from '../base/ids';
import type { Db } from '../db/database';
import type { ChangeIdOutcome, ChangeIdStore } from '../ssh/callback-api';
import type { JobRepository } from './job-repository';

/** 192 random bits, URL-safe: the path prefix of one job's `oma_url`. */
const TOKEN_BYTES = 24;
const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

type Row = Record<string, unknown>;

export interface ChangeIdEvents {
  /** A callback accepted for a job (for its job log). */
  accepted(jobId: string, diskKey: string, outcome: 'recorded' | 'ignored_empty', changeId: string): void;
  /** A callback refused with a reason (logged; nothing stored). */
  refused(applianceId: string, reason: string, jobId?: string): void;
}

/**
 * The change-ID channel between a job's copier and this console (issue "Replica integrity", part 1).
 * A job's callbacks are answered only with that job's token, only while the job is starting or
 * replicating, only through the tunnel of the VMA that runs it, and only for its own disks: nothing
 * else on the VMA can read a change id or choose the base of the next incremental.
 */
export class ChangeIdChannel {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobRepository,
    private readonly events: ChangeIdEvents,
  ) {}

  /** A new random token for this job on this VMA; only its hash is kept. */
  issue(jobId: string, vmaApplianceId: string): string {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    this.db
      .prepare(
        `INSERT INTO callback_tokens (job_id, token_hash, vma_appliance_id, created_at) VALUES (?,?,?,?)
         ON CONFLICT(job_id) DO UPDATE SET token_hash = excluded.token_hash, vma_appliance_id = excluded.vma_appliance_id, created_at = excluded.created_at`,
      )
      .run(jobId, hashToken(token), vmaApplianceId, isoNow());
    return token;
  }

  /** The running job this token belongs to on this VMA, or null. */
  private liveJob(token: string, vmaApplianceId: string): { id: string; vmPath: string } | null {
    const r = this.db
      .prepare(
        `SELECT j.id, j.vm_path FROM callback_tokens t JOIN replication_jobs j ON j.id = t.job_id
         WHERE t.token_hash = ? AND t.vma_appliance_id = ? AND j.status IN ('starting','replicating')`,
      )
      .get(hashToken(token), vmaApplianceId) as Row | undefined;
    return r ? { id: String(r.id), vmPath: String(r.vm_path) } : null;
  }

  /** The store served on one VMA's tunnel: every answer is scoped to that VMA and to the token's job. */
  storeFor(vmaApplianceId: string): ChangeIdStore {
    return {
      lookup: (token, vmPath, diskKey) => {
        const job = this.liveJob(token, vmaApplianceId);
        if (!job) {
          this.events.refused(vmaApplianceId, 'change-ID lookup without the token of a running job on this VMA');
          return null;
        }
        const disk = this.jobs.jobDisks(job.id).find((d) => d.diskKey === diskKey);
        if (job.vmPath !== vmPath || !disk) {
          this.events.refused(vmaApplianceId, `change-ID lookup for ${diskKey} of another VM or disk than the job's`, job.id);
          return null;
        }
        // The base this job was planned with (null for a disk copied in full), never another disk's.
        return { changeId: disk.previousChangeId };
      },
      record: (token, jobId, diskKey, changeId, previousChangeId): ChangeIdOutcome => {
        const job = this.liveJob(token, vmaApplianceId);
        if (!job || job.id !== jobId) {
          this.events.refused(vmaApplianceId, `change-ID report for job ${jobId} without the token of that running job on this VMA`);
          return 'unknown_job';
        }
        const disk = this.jobs.jobDisks(job.id).find((d) => d.diskKey === diskKey);
        if (!disk) {
          this.events.refused(vmaApplianceId, `change-ID report for ${diskKey}, which is not a disk of this job`, job.id);
          return 'unknown_disk';
        }
        if (previousChangeId !== undefined && previousChangeId !== (disk.previousChangeId ?? '')) {
          this.events.refused(vmaApplianceId, `change-ID report for ${diskKey} whose previous change id is not the base this job used`, job.id);
          return 'previous_mismatch';
        }
        const outcome = this.jobs.recordChangeId(job.id, diskKey, changeId);
        if (outcome === 'recorded' || outcome === 'ignored_empty') this.events.accepted(job.id, diskKey, outcome, changeId);
        return outcome;
      },
      malformed: (token, jobId, reason) => {
        const job = this.liveJob(token, vmaApplianceId);
        // Only a live job's own report goes to its job log; anything else is logged for the VMA.
        if (job && job.id === jobId) this.events.refused(vmaApplianceId, `malformed change-ID report refused: ${reason}`, job.id);
        else this.events.refused(vmaApplianceId, `malformed change-ID report for job ${JSON.stringify(jobId.slice(0, 64))} refused: ${reason}`);
      },
    };
  }
}
