import type { JobProgressUpdate } from '../../shared/contract';
import { TERMINAL_JOB_STATUSES, type TerminalJobStatus } from '../../shared/domain';
import { PROGRESS_PERSIST_MS, type JobRepository, type PollDiskView, type PolledJob, type PollJobView } from './job-repository';
import { mapProgress, type ProgressSample } from './progress-mapper';
import type { VmaApi } from './ports';

export interface PollerOptions {
  intervalMs: number;
  /** No progress change for this long → failed ("stalled"). */
  stallMs: number;
  /** 404 for this long (before the first report, or again after one) → failed ("lost"). */
  notFoundGraceMs: number;
  /** VMA unreachable for this long → failed. */
  unreachableFailMs: number;
  maxBackoffMs: number;
  concurrency: number;
  /**
   * Answers are written to the database in batches of up to this many, each batch in one transaction:
   * one commit per batch instead of several per answer (most of the poller's cost for 1,000 jobs).
   */
  batchSize: number;
  /** An answer waits at most this long for its batch to fill before it is written and shown. */
  batchWindowMs: number;
}

export const DEFAULT_POLLER_OPTIONS: PollerOptions = {
  intervalMs: 2_000,
  stallMs: 10 * 60_000,
  notFoundGraceMs: 2 * 60_000,
  unreachableFailMs: 30 * 60_000,
  maxBackoffMs: 60_000,
  concurrency: 16,
  batchSize: 128,
  batchWindowMs: 100,
};

export interface PollerDeps {
  jobs: JobRepository;
  vma(applianceId: string): VmaApi;
  finish(jobId: string, outcome: TerminalJobStatus, error: string | null, warnings?: string[]): void;
  emit(update: JobProgressUpdate): void;
  note(jobId: string, level: 'info' | 'warn', message: string): void;
  /** The VMA's copy entered a new phase: recorded in the job log with the time, for every window and the Logs. */
  phase(jobId: string, name: string): void;
  /** Other background checks that must keep running while the console is open (run before each pass). */
  beforeTick?: () => Promise<void>;
  /** Where a failed pass is reported when it cannot be written to a job's log (the app log). */
  onPassError?: (message: string) => void;
  now?: () => number;
}

/**
 * Lesson 22: say after each sync which disk has no new change id and what its next sync will copy.
 * A disk that finished without one (the copier sent an empty id, reference/vma-api.md) is copied in
 * full next time: the console cannot tell what the copier did to that disk's change tracking, and a
 * full copy is right whatever it did (JobRepository.claim).
 */
export function missingChangeIdWarning(d: { diskKey: string }): string {
  return `${d.diskKey} finished without a change id: its next sync will copy the whole disk`;
}

/**
 * How long a free place waits for more to free up before it is filled alone (see askAll): long
 * enough for the answers of one round trip to arrive together, short against the 2 s interval.
 */
const REFILL_WAIT_MS = 25;

let isoSecond = NaN;
let isoPrefix = '';
const MS_DIGITS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);
/**
 * toISOString of a poll time. Every answer is stamped twice (asked, answered) at times a few
 * milliseconds apart: the date and time down to the second are formatted once per second, and the
 * milliseconds appended (the same text as toISOString, which formatting every time cost more).
 */
const iso = (ms: number) => {
  if (!Number.isSafeInteger(ms) || ms < 0) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const full = new Date(second * 1000).toISOString();
    // "…:ss." without its "000Z" (the year part may be longer than four digits).
    isoPrefix = full.slice(0, full.length - 4);
    isoSecond = second;
  }
  return isoPrefix + MS_DIGITS[ms - second * 1000]!;
};
const ms = (s: string | null) => (s ? Date.parse(s) : NaN);
const minutes = (n: number) => (n >= 60_000 ? `${Math.round(n / 60_000)} min` : `${Math.round(n / 1000)} s`);

type ProgressAnswer = Awaited<ReturnType<VmaApi['progress']>>;

/** What asking the VMA about one job gave, waiting to be written (see ProgressPoller.settle). */
interface Fetched {
  p: PolledJob;
  /** When the question was asked (the poll time), and when its answer came back. */
  askedAt: number;
  answeredAt: number;
  outcome:
    | { kind: 'answer'; result: ProgressAnswer }
    | { kind: 'unreachable'; error: unknown }
    /** The question could not even be asked (a bug, not the VMA): reported, never backed off. */
    | { kind: 'crash'; error: unknown }
    | { kind: 'no-appliance' };
}

type Ending = [jobId: string, outcome: TerminalJobStatus, error: string | null, warnings?: string[]];

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_JOB_STATUSES);

function sameUpdate(a: JobProgressUpdate, b: JobProgressUpdate): boolean {
  if (
    a.status !== b.status ||
    a.phase !== b.phase ||
    a.progressPercent !== b.progressPercent ||
    a.bytesTransferred !== b.bytesTransferred ||
    a.totalBytes !== b.totalBytes ||
    a.rateBps !== b.rateBps ||
    a.etaSeconds !== b.etaSeconds ||
    a.error !== b.error ||
    a.vmContextId !== b.vmContextId ||
    a.disks.length !== b.disks.length
  ) {
    return false;
  }
  return a.disks.every((d, i) => {
    const e = b.disks[i]!;
    return d.diskKey === e.diskKey && d.status === e.status && d.percent === e.percent && d.bytesTransferred === e.bytesTransferred && d.totalBytes === e.totalBytes;
  });
}

/**
 * Polls the VMA for every job in the persisted list and drives each to exactly one terminal state:
 * completed only with evidence for every disk, failed as stalled / lost / unreachable otherwise.
 *
 * The evidence is the change-ID callback of every disk (an empty id included: the copier sends it when
 * that disk's copy has finished). Neither the progress frame's `completed` (shown after the FIRST disk
 * of several) nor the VMA's status endpoint (it says `running` for the life of the job record,
 * reference/vma-api.md) can say the whole job is done, so neither ends a job. A job whose last callback
 * never arrived (the console was closed when it was sent) is failed as stalled once its progress stops
 * moving, and the disks that did not report are copied in full by the next sync.
 *
 * Cost (issue 13: 1,000 running jobs at 2 s under 10 % of a core): asking is separate from writing.
 * Answers are queued and settled in batches, each in one transaction; a poll that changes nothing
 * writes no row and pushes no event (see settle), and terminal states are written after the batch
 * committed, each in its own transaction as before.
 */
export class ProgressPoller {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly samples = new Map<string, ProgressSample>();
  /** The last update pushed for each job: an identical one is not pushed again. */
  private readonly lastEmitted = new Map<string, JobProgressUpdate>();
  private readonly opts: PollerOptions;
  private readonly now: () => number;
  ticks = 0;
  /** Answers settled (one per job asked about): the benchmark divides CPU by it. */
  polls = 0;
  /** Passes (or jobs within a pass) that threw; polling went on after each. */
  failedPasses = 0;
  /** Jobs being asked about or waiting in the queue: one question per job at a time. */
  private readonly inFlight = new Set<string>();
  /** pollSoon calls that arrived while their job was in flight: asked again right after. */
  private readonly again = new Set<string>();
  /** Answers not yet settled, and the timer that settles them if the batch does not fill. */
  private queue: Fetched[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** Re-polls started by a settled batch (see again); the pass waits for them. */
  private readonly followUps = new Set<Promise<void>>();

  constructor(private readonly deps: PollerDeps, options: Partial<PollerOptions> = {}) {
    this.opts = { ...DEFAULT_POLLER_OPTIONS, ...options };
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    // Fixed rate: a pass that takes 1.3 s (500 jobs) still starts the next one 2 s after this one began.
    // tick() never rejects, and the next pass is armed whatever happened in this one: a rejected loop
    // has nobody listening and polling would stop until the console restarts.
    const loop = async () => {
      const started = this.now();
      await this.tick();
      // Bounded both ways: a clock stepped back during the pass must not put the poller to sleep.
      if (this.timer) this.timer = setTimeout(loop, Math.min(this.opts.intervalMs, Math.max(0, this.opts.intervalMs - (this.now() - started))));
    };
    this.timer = setTimeout(loop, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** After a restart, time spent closed counts neither as stall nor as 404/unreachable time. */
  resumeAfterRestart(): number {
    const now = this.now();
    const polled = this.deps.jobs.polled();
    for (const p of polled) {
      // Before the first report the 404 grace runs from startedPollingAt: it restarts too.
      const startedPollingAt = p.firstSeenAt ? p.startedPollingAt : iso(now);
      this.deps.jobs.savePolled({ ...p, startedPollingAt, lastChangeAt: iso(now), notFoundSince: null, unreachableSince: null, consecutiveErrors: 0, nextPollAt: null });
      this.deps.note(p.jobId, 'info', 'Console restarted: reconciling this job with the VMA');
    }
    return polled.length;
  }

  /** One pass over every polled job (exposed for tests and for the benchmark). */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.ticks++;
      await this.deps.beforeTick?.().catch(() => {});
      const now = this.now();
      const polled = this.deps.jobs.polled();
      this.forgetEnded(polled);
      const due = polled.filter((p) => (!p.nextPollAt || ms(p.nextPollAt) <= now) && !this.inFlight.has(p.jobId));
      await this.askAll(due);
    } catch (e) {
      // A busy database or a failing log write in this pass: the next pass tries again.
      this.passFailed(e, null);
    } finally {
      this.flush();
      while (this.followUps.size > 0) await Promise.all([...this.followUps]);
      this.running = false;
    }
  }

  /**
   * Asks about every due job, at most `concurrency` at a time. Free places are filled together once
   * half of them are free, not one by one as answers come: questions asked in one go leave in one
   * write on the SSH connection (main/ssh/batch-writes.ts), and each write wakes the other side. A
   * place that stays free is filled after REFILL_WAIT_MS even when fewer than half are free: questions
   * that hang (a VMA that stopped answering some of them) hold their own places, never the others'.
   */
  private askAll(due: readonly PolledJob[]): Promise<void> {
    const places = Math.min(this.opts.concurrency, due.length);
    if (places === 0) return Promise.resolve();
    const refillAt = Math.ceil(places / 2);
    let next = 0;
    let active = 0;
    let refillTimer: NodeJS.Timeout | null = null;
    return new Promise<void>((resolve, reject) => {
      const fill = (): void => {
        if (refillTimer !== null) clearTimeout(refillTimer);
        refillTimer = null;
        while (active < places && next < due.length) {
          const p = due[next++]!;
          this.inFlight.add(p.jobId);
          active++;
          void this.ask(p).then(answered);
        }
      };
      const answered = (f: Fetched): void => {
        try {
          active--;
          this.enqueue(f);
          if (next >= due.length) {
            if (active === 0) resolve();
          } else if (places - active >= refillAt) {
            fill();
          } else {
            refillTimer ??= setTimeout(fill, REFILL_WAIT_MS);
          }
        } catch (e) {
          reject(e);
        }
      };
      fill();
    });
  }

  /**
   * Asks the VMA about one job now instead of at the next pass: a change-ID callback said a disk
   * finished, so the job may be complete (completion is then noticed within one VMA round trip, not
   * up to one interval later). Backoff from errors is respected; a job already being asked about is
   * asked once more right after, so a callback that raced an answer is never lost.
   */
  async pollSoon(jobId: string): Promise<void> {
    if (this.inFlight.has(jobId)) {
      this.again.add(jobId);
      return;
    }
    const p = this.deps.jobs.polled().find((x) => x.jobId === jobId);
    if (!p || (p.nextPollAt && ms(p.nextPollAt) > this.now())) return;
    this.inFlight.add(jobId);
    // Settled at once, in a batch of its own: it is about completion, not about throughput.
    await Promise.all(this.settleAll([await this.ask(p)]));
  }

  /** Drops what is kept per job for jobs no longer polled (ended elsewhere: cancelled, swept). */
  private forgetEnded(polled: readonly PolledJob[]): void {
    if (this.samples.size <= polled.length && this.lastEmitted.size <= polled.length) return;
    const ids = new Set(polled.map((p) => p.jobId));
    for (const map of [this.samples, this.lastEmitted]) for (const id of map.keys()) if (!ids.has(id)) map.delete(id);
  }

  /** Asks the VMA about one job; never rejects (what went wrong is in the outcome). */
  private async ask(p: PolledJob): Promise<Fetched> {
    const askedAt = this.now();
    if (!p.applianceId) return { p, askedAt, answeredAt: askedAt, outcome: { kind: 'no-appliance' } };
    let vma: VmaApi;
    try {
      vma = this.deps.vma(p.applianceId);
    } catch (error) {
      return { p, askedAt, answeredAt: askedAt, outcome: { kind: 'crash', error } };
    }
    try {
      const result = await vma.progress(p.jobId);
      return { p, askedAt, answeredAt: this.now(), outcome: { kind: 'answer', result } };
    } catch (error) {
      return { p, askedAt, answeredAt: askedAt, outcome: { kind: 'unreachable', error } };
    }
  }

  private enqueue(f: Fetched): void {
    this.queue.push(f);
    if (this.queue.length >= this.opts.batchSize) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.opts.batchWindowMs);
  }

  /** Settles the queued answers now (batch full, window over, or end of pass). */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const items = this.queue;
    this.queue = [];
    if (items.length === 0) return;
    for (const f of this.settleAll(items)) {
      this.followUps.add(f);
      void f.finally(() => this.followUps.delete(f));
    }
  }

  /**
   * Writes what a batch of answers says in one transaction, then ends the jobs that ended, each in
   * its own transaction as before (a terminal state is never part of a batch that could roll back).
   * Returns the re-polls asked for meanwhile (see pollSoon).
   */
  private settleAll(items: Fetched[]): Promise<void>[] {
    const endings: Ending[] = [];
    try {
      this.deps.jobs.batch(() => {
        for (const f of items) {
          try {
            this.settle(f, endings);
          } catch (e) {
            this.passFailed(e, f.p.jobId);
          }
        }
        // Progress numbers held in memory long enough go to the table with this batch's commit.
        this.deps.jobs.persistHeldProgress(PROGRESS_PERSIST_MS);
      });
    } catch (e) {
      // The batch could not be committed: its jobs are asked again at the next pass.
      this.passFailed(e, null);
    }
    for (const [jobId, outcome, error, warnings] of endings) {
      try {
        this.samples.delete(jobId);
        this.lastEmitted.delete(jobId);
        this.deps.finish(jobId, outcome, error, warnings);
      } catch (e) {
        this.passFailed(e, jobId);
      }
    }
    const again: Promise<void>[] = [];
    for (const f of items) {
      this.polls++;
      this.inFlight.delete(f.p.jobId);
      if (this.again.delete(f.p.jobId)) again.push(this.pollSoon(f.p.jobId).catch((e: unknown) => this.passFailed(e, f.p.jobId)));
    }
    return again;
  }

  /** Reports a failed pass without letting the report itself (a log write) fail the loop. */
  private passFailed(e: unknown, jobId: string | null): void {
    this.failedPasses++;
    const message = `Polling failed unexpectedly: ${e instanceof Error ? e.message : String(e)}`;
    try {
      if (jobId) this.deps.note(jobId, 'warn', message);
      else this.deps.onPassError?.(message);
    } catch {
      this.deps.onPassError?.(message);
    }
  }

  /** What one answer means for its job: rows written (only what changed), update pushed, ending noted. */
  private settle(f: Fetched, endings: Ending[]): void {
    const { p, outcome } = f;
    const job = this.deps.jobs.pollView(p.jobId);
    if (!job || TERMINAL.has(job.status)) return;
    const end = (status: TerminalJobStatus, error: string | null, warnings?: string[]) => endings.push([job.id, status, error, warnings]);
    if (outcome.kind === 'no-appliance') {
      end('failed', 'The VMA appliance of this job was removed; its progress can no longer be followed');
      return;
    }
    if (outcome.kind === 'crash') throw outcome.error;
    const next: PolledJob = { ...p, lastPollAt: iso(f.askedAt) };
    if (outcome.kind === 'unreachable') {
      // Every failure to ask the VMA backs off and ends the job after unreachableFailMs, whatever its
      // cause: a changed host key or a missing secret must neither spam the log every tick nor keep
      // the job (and its VM) busy forever, and the operator has that long to fix it.
      const now = f.askedAt;
      const e = outcome.error;
      const reason = e instanceof Error ? e.message : String(e);
      const since = next.unreachableSince ?? iso(now);
      const errors = next.consecutiveErrors + 1;
      const backoff = Math.min(this.opts.maxBackoffMs, this.opts.intervalMs * 2 ** Math.min(errors, 10));
      this.deps.jobs.savePolled({ ...next, unreachableSince: since, consecutiveErrors: errors, nextPollAt: iso(now + backoff) }, p);
      if (now - ms(since) >= this.opts.unreachableFailMs) {
        end('failed', `The VMA could not be reached for ${minutes(now - ms(since))} (${reason})`);
        return;
      }
      if (errors === 1) this.deps.note(job.id, 'warn', `VMA not reachable (${reason}); retrying with backoff`);
      this.emitRetrying(job, `VMA unreachable, retrying in ${Math.round(backoff / 1000)} s`);
      return;
    }
    const result = outcome.result;
    const now = f.answeredAt;
    next.unreachableSince = null;
    next.consecutiveErrors = 0;
    next.nextPollAt = null;
    const disks = this.deps.jobs.pollDisks(job.id);

    if (!result.found) {
      // Evidence can arrive without progress: every disk reported its change id.
      if (disks.length > 0 && disks.every((d) => d.status === 'completed')) {
        this.deps.jobs.savePolled(next, p);
        end('completed', null, this.missingChangeIdWarnings(disks));
        return;
      }
      const since = next.notFoundSince ?? (next.firstSeenAt ? iso(now) : next.startedPollingAt);
      next.notFoundSince = since;
      this.deps.jobs.savePolled(next, p);
      if (now - ms(since) >= this.opts.notFoundGraceMs) {
        const reason = next.firstSeenAt
          ? `lost: the VMA no longer knows this job (it was restarted or the copy process disappeared) for ${minutes(now - ms(since))}`
          : `lost: the VMA never reported progress for this job within ${minutes(now - ms(since))} (the copy did not start: check the VMA log, its vCenter access and the NBD targets)`;
        end('failed', reason);
      }
      return;
    }

    next.notFoundSince = null;
    next.firstSeenAt = next.firstSeenAt ?? iso(now);
    // The disk views carry every field the mapper reads (it does not change them).
    const mapped = mapProgress(result.progress, disks, { percent: job.progressPercent, sample: this.samples.get(job.id) ?? null }, now);
    this.samples.set(job.id, mapped.sample);
    if (mapped.fingerprint !== next.lastFingerprint) {
      next.lastFingerprint = mapped.fingerprint;
      next.lastChangeAt = iso(now);
    }
    // Recorded before the frame is pushed, so a window that reloads on the new phase finds it.
    if (mapped.phase !== job.phase) this.deps.phase(job.id, mapped.phase);
    // A job or disk row that already holds what this answer says is not written again: compared
    // here with the rows just read, so an unchanged answer costs no statement at all.
    this.deps.jobs.savePolled(next, p);
    // What this answer says of the job: pushed, and kept when it differs from what the job holds.
    const shown = {
      phase: mapped.phase,
      progressPercent: mapped.progressPercent,
      bytesTransferred: mapped.bytesTransferred,
      totalBytes: mapped.totalBytes,
      rateBps: mapped.rateBps,
      etaSeconds: mapped.etaSeconds,
    };
    // While no byte moves the rate decays at every answer (progress-mapper): the window shows it
    // decaying, the job keeps the rate and ETA of the last time bytes moved (a stalled job writes nothing).
    const moved = shown.bytesTransferred !== job.bytesTransferred || shown.totalBytes !== job.totalBytes;
    const kept = moved ? shown : { ...shown, rateBps: job.rateBps, etaSeconds: job.etaSeconds };
    const statusStands = job.status === 'replicating' && job.startedAt !== null;
    if (
      !statusStands ||
      kept.phase !== job.phase ||
      kept.progressPercent !== job.progressPercent ||
      kept.bytesTransferred !== job.bytesTransferred ||
      kept.totalBytes !== job.totalBytes ||
      kept.rateBps !== job.rateBps ||
      kept.etaSeconds !== job.etaSeconds
    ) {
      // The status only when it changes: writing a status column, even with its own value, rewrites
      // the entries of the two indexes on it, five times the cost of the rest of the row. Numbers that
      // only moved are held in memory by the repository (PROGRESS_PERSIST_MS).
      this.deps.jobs.update(job.id, statusStands ? kept : { status: 'replicating', ...kept }, { skipUnchanged: true });
    }
    for (const d of mapped.diskUpdates) {
      if (d.status !== 'transferring') continue;
      const stored = disks.find((x) => x.diskKey === d.diskKey);
      if (stored && stored.status === 'transferring' && stored.percent === d.percent && stored.bytesTransferred === d.bytesTransferred && stored.totalBytes === d.totalBytes) continue;
      this.deps.jobs.updateJobDisk(job.id, d.diskKey, { status: 'transferring', percent: d.percent, bytesTransferred: d.bytesTransferred, totalBytes: d.totalBytes });
    }
    this.emit({
      jobId: job.id,
      vmContextId: job.vmContextId,
      status: 'replicating',
      ...shown,
      error: null,
      disks: mapped.diskUpdates.map(({ diskKey, status, percent, bytesTransferred, totalBytes }) => ({ diskKey, status, percent, bytesTransferred, totalBytes })),
    });

    if (mapped.vmaError) {
      end('failed', `The VMA reported an error: ${mapped.vmaError}`);
      return;
    }
    if (mapped.allDisksReported) {
      // The last disk's bytes may be known only from this final frame (see mapProgress).
      for (const d of mapped.diskUpdates) this.deps.jobs.recordReportedBytes(job.id, d.diskKey, d.bytesTransferred, d.totalBytes);
      end('completed', null, this.missingChangeIdWarnings(disks));
      return;
    }
    if (now - ms(next.lastChangeAt) >= this.opts.stallMs) {
      end(
        'failed',
        `stalled: no progress for ${minutes(now - ms(next.lastChangeAt))} (last: ${mapped.phase} ${Math.round(Number(result.progress.percentage ?? 0))} %); the VMA copier has probably crashed`,
      );
    }
  }

  /** Pushes an update unless it repeats the last one pushed for that job (the window already shows it). */
  private emit(update: JobProgressUpdate): void {
    const last = this.lastEmitted.get(update.jobId);
    if (last && sameUpdate(last, update)) return;
    this.lastEmitted.set(update.jobId, update);
    this.deps.emit(update);
  }

  private missingChangeIdWarnings(disks: readonly PollDiskView[]): string[] {
    return disks.filter((d) => !d.changeId).map(missingChangeIdWarning);
  }

  private emitRetrying(job: PollJobView, phase: string): void {
    this.emit({
      jobId: job.id,
      vmContextId: job.vmContextId,
      status: job.status,
      phase,
      progressPercent: job.progressPercent,
      bytesTransferred: job.bytesTransferred,
      totalBytes: job.totalBytes,
      rateBps: 0,
      etaSeconds: null,
      error: null,
      disks: [],
    });
  }
}
