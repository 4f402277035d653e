import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import type { JobProgressUpdate } from '../../shared/contract';
import type { TerminalJobStatus } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import { JobRepository } from './job-repository';
import { ProgressPoller } from './progress-poller';
import { LAST_POLL_PERSIST_MS, PROGRESS_PERSIST_MS } from './job-repository';
import type { VmaApi, VmaJobStatus, VmaProgress } from './ports';
import { twoDiskVm } from '../testing/two-disk-vm';

// The VMA cannot run here: an in-memory VmaApi answers what each test scripts, and the clock is ours.
const MiB = 1024 * 1024;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const OPTS = { intervalMs: 1_000, stallMs: 60_000, notFoundGraceMs: 30_000, unreachableFailMs: 300_000, maxBackoffMs: 20_000, concurrency: 4 };

type ProgressAnswer = { found: false } | { found: true; progress: VmaProgress } | AppError;

class FakeVma implements VmaApi {
  progressAnswer: ProgressAnswer = { found: false };
  statusAnswer: { found: false } | { found: true; status: VmaJobStatus } = { found: false };
  progressCalls = 0;
  statusCalls = 0;
  discover(): never {
    throw new Error('not used by the poller');
  }
  replicate(): never {
    throw new Error('not used by the poller');
  }
  async progress() {
    this.progressCalls++;
    if (this.progressAnswer instanceof AppError) throw this.progressAnswer;
    return this.progressAnswer;
  }
  async status() {
    this.statusCalls++;
    return this.statusAnswer;
  }
  async cleanup() {}
}

let dir: string;
let db: Db;
let contexts: VmContextRepository;
let jobs: JobRepository;
let vma: FakeVma;
let now: number;
let finished: { jobId: string; outcome: TerminalJobStatus; error: string | null; warnings: string[] }[];
let emitted: JobProgressUpdate[];
let notes: string[];
let phases: { jobId: string; name: string; atMs: number }[];
let poller: ProgressPoller;
let ctxId: string;
let jobId: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-poller-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  contexts = new VmContextRepository(db);
  // The repository's clock is the test's: held progress is written on it (PROGRESS_PERSIST_MS).
  jobs = new JobRepository(db, { now: () => now });
  vma = new FakeVma();
  now = T0;
  finished = [];
  emitted = [];
  notes = [];
  phases = [];
  db.prepare(
    `INSERT INTO appliances (id, kind, name, host, username, auth_method, created_at, updated_at) VALUES ('app-vma','vma','vma','127.0.0.1','u','password',?,?)`,
  ).run(new Date(T0).toISOString(), new Date(T0).toISOString());
  ctxId = contexts.add({
    vm: twoDiskVm(),
    vcenterHost: 'vc.test.invalid',
    credentialId: null,
    vmaApplianceId: null,
  }).id;
  jobId = jobs.claim({ contextId: ctxId, trigger: 'ui' }).id;
  jobs.update(jobId, { status: 'replicating', phase: 'Waiting for the VMA' });
  jobs.addPolled(jobId, 'app-vma', new Date(now));
  poller = makePoller();
});
afterEach(() => {
  poller.stop();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function makePoller(): ProgressPoller {
  return new ProgressPoller(
    {
      jobs,
      vma: () => vma,
      finish: (id, outcome, error, warnings = []) => {
        finished.push({ jobId: id, outcome, error, warnings });
        jobs.finish(id, outcome, error, new Date(now));
      },
      emit: (u) => emitted.push(u),
      note: (_id, level, m) => notes.push(`${level}: ${m}`),
      phase: (id, name) => phases.push({ jobId: id, name, atMs: now }),
      now: () => now,
    },
    OPTS,
  );
}

const transfer = (bytes: number, total: number, status = 'in_progress'): VmaProgress => ({
  status,
  phase: 'Transfer',
  sync_type: 'full',
  percentage: (bytes / total) * 100,
  bytes_transferred: bytes,
  total_bytes: total,
});

async function tickAt(ms: number): Promise<void> {
  now = T0 + ms;
  await poller.tick();
}

const job = () => jobs.require(jobId);

describe('ProgressPoller: 404 means lost, never done', () => {
  it('keeps polling through 404 within the grace period before the first report, then fails as lost', async () => {
    await tickAt(1_000);
    await tickAt(29_000);
    expect(finished).toHaveLength(0);
    expect(job().status).toBe('replicating');
    await tickAt(30_000);
    expect(finished).toHaveLength(1);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/^lost: the VMA never reported progress for this job within 30 s/);
    expect(contexts.require(ctxId)).toMatchObject({ currentJobId: null, status: 'failed' });
  });

  it('after a first report, a 404 starts its own grace period and then fails as lost', async () => {
    vma.progressAnswer = { found: true, progress: { status: 'in_progress', phase: 'Initializing', percentage: 5 } };
    await tickAt(25_000);
    vma.progressAnswer = { found: false };
    await tickAt(40_000);
    await tickAt(69_000);
    expect(finished).toHaveLength(0);
    await tickAt(70_000);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/^lost: the VMA no longer knows this job .* for 30 s/);
  });

  it('a 404 once every disk reported its change id is completion (evidence), not loss', async () => {
    vma.progressAnswer = { found: true, progress: transfer(8 * MiB, 24 * MiB) };
    await tickAt(1_000);
    jobs.recordChangeId(jobId, 'disk-2000', 'aa/1');
    jobs.recordChangeId(jobId, 'disk-2001', 'bb/2');
    vma.progressAnswer = { found: false };
    await tickAt(2_000);
    expect(finished.map((f) => f.outcome)).toEqual(['completed']);
    expect(finished[0]!.warnings).toEqual([]);
  });
});

describe('ProgressPoller: stall and unreachable', () => {
  it('fails a job whose progress has not moved for the stall period', async () => {
    vma.progressAnswer = { found: true, progress: transfer(6 * MiB, 24 * MiB) };
    await tickAt(1_000);
    vma.progressAnswer = { found: true, progress: transfer(12 * MiB, 24 * MiB) };
    await tickAt(10_000);
    // Frozen from here on (a crashed copier keeps its last in_progress forever).
    await tickAt(69_000);
    expect(finished).toHaveLength(0);
    await tickAt(70_000);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/^stalled: no progress for 1 min \(last: Transfer 50 %\)/);
    expect(contexts.require(ctxId).currentJobId).toBeNull();
  });

  it('retries an unreachable VMA with backoff and fails it after the unreachable period', async () => {
    vma.progressAnswer = { found: true, progress: transfer(6 * MiB, 24 * MiB) };
    await tickAt(1_000);
    vma.progressAnswer = new AppError('unreachable', 'SSH tunnel to lab-vma is down');
    await tickAt(2_000);
    let p = jobs.polled()[0]!;
    expect(p.consecutiveErrors).toBe(1);
    expect(p.unreachableSince).toBe(new Date(T0 + 2_000).toISOString());
    expect(Date.parse(p.nextPollAt!) - (T0 + 2_000)).toBe(2_000);
    expect(notes.some((n) => n.startsWith('warn: VMA not reachable (SSH tunnel to lab-vma is down)'))).toBe(true);
    expect(emitted.at(-1)!.phase).toMatch(/VMA unreachable, retrying in 2 s/);

    // Not due yet: no request goes out.
    const calls = vma.progressCalls;
    await tickAt(3_000);
    expect(vma.progressCalls).toBe(calls);
    await tickAt(4_000);
    expect(vma.progressCalls).toBe(calls + 1);
    p = jobs.polled()[0]!;
    expect(p.consecutiveErrors).toBe(2);
    expect(Date.parse(p.nextPollAt!) - (T0 + 4_000)).toBe(4_000);

    // Backoff is capped.
    for (let t = 8_000; t < 200_000; t += 20_000) await tickAt(t);
    p = jobs.polled()[0]!;
    expect(Date.parse(p.nextPollAt!) - Date.parse(p.lastPollAt!)).toBeLessThanOrEqual(OPTS.maxBackoffMs);
    // Unreachable time is not stall time.
    expect(finished).toHaveLength(0);

    await tickAt(302_000 + OPTS.maxBackoffMs);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/^The VMA could not be reached for \d+ min \(SSH tunnel to lab-vma is down\)/);
  });

  it('a non-transient error (host key mismatch) backs off too, is noted once and fails the job in the end', async () => {
    vma.progressAnswer = new AppError('host_key_mismatch', 'The SSH host key of lab-vma changed');
    for (let t = 1_000; t < 120_000; t += 1_000) await tickAt(t);
    // Backoff: far fewer requests than ticks, and one note, not one per tick.
    expect(vma.progressCalls).toBeLessThan(15);
    expect(notes.filter((n) => n.includes('host key'))).toHaveLength(1);
    expect(finished).toHaveLength(0);
    for (let t = 120_000; t <= 330_000; t += 5_000) await tickAt(t);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/^The VMA could not be reached for \d+ min \(The SSH host key of lab-vma changed\)/);
  });

  it('reachable again: the error counters reset and polling resumes at the normal pace', async () => {
    vma.progressAnswer = new AppError('timeout', 'VMA did not answer within 10 s');
    await tickAt(1_000);
    vma.progressAnswer = { found: true, progress: transfer(6 * MiB, 24 * MiB) };
    await tickAt(3_000);
    expect(jobs.polled()[0]).toMatchObject({ consecutiveErrors: 0, unreachableSince: null, nextPollAt: null });
    expect(job().bytesTransferred).toBe(6 * MiB);
  });

  it('fails a job whose VMA appliance was removed', async () => {
    db.prepare(`DELETE FROM appliances WHERE id = 'app-vma'`).run();
    await tickAt(1_000);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/VMA appliance of this job was removed/);
  });

  it('fails with the VMA reason when it reports an error', async () => {
    vma.progressAnswer = { found: true, progress: { ...transfer(6 * MiB, 24 * MiB), last_error: 'NBD write failed: ENOSPC' } };
    await tickAt(1_000);
    expect(job().status).toBe('failed');
    expect(job().error).toBe('The VMA reported an error: NBD write failed: ENOSPC');
  });
});

describe('ProgressPoller: completion needs evidence for every disk', () => {
  it('completes when every disk reported, with progress and disk rows written on the way', async () => {
    vma.progressAnswer = { found: true, progress: transfer(12 * MiB, 24 * MiB) };
    await tickAt(1_000);
    expect(job()).toMatchObject({ status: 'replicating', phase: 'Transfer', bytesTransferred: 12 * MiB });
    expect(jobs.jobDisks(jobId)[0]).toMatchObject({ status: 'transferring', bytesTransferred: 12 * MiB });
    expect(emitted.at(-1)).toMatchObject({ jobId, vmContextId: ctxId, status: 'replicating', bytesTransferred: 12 * MiB });
    jobs.recordChangeId(jobId, 'disk-2000', 'aa/1');
    vma.progressAnswer = { found: true, progress: transfer(16 * MiB, 16 * MiB) };
    await tickAt(2_000);
    expect(finished).toHaveLength(0);
    jobs.recordChangeId(jobId, 'disk-2001', 'bb/1');
    vma.progressAnswer = { found: true, progress: transfer(16 * MiB, 16 * MiB, 'completed') };
    await tickAt(3_000);
    expect(finished.map((f) => f.outcome)).toEqual(['completed']);
    expect(job()).toMatchObject({ status: 'completed', progressPercent: 100 });
    expect(contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', currentJobId: null });
  });

  it("'completed' after the first disk is not completion, and the status endpoint is never asked", async () => {
    jobs.recordChangeId(jobId, 'disk-2000', 'aa/1');
    vma.progressAnswer = { found: true, progress: transfer(24 * MiB, 24 * MiB, 'completed') };
    vma.statusAnswer = { found: true, status: { status: 'running', progress_percent: 100 } };
    await tickAt(1_000);
    await tickAt(2_000);
    expect(vma.statusCalls).toBe(0);
    expect(finished).toHaveLength(0);
    expect(job().status).toBe('replicating');
    expect(job().progressPercent).toBeLessThan(100);
  });

  it("a status word 'completed' or 'failed' (the real VMA says running for the life of the job) decides nothing: without the last callback the job stalls", async () => {
    jobs.markCopyRequested(jobId);
    jobs.recordChangeId(jobId, 'disk-2000', 'aa/1');
    vma.progressAnswer = { found: true, progress: transfer(16 * MiB, 16 * MiB, 'completed') };
    vma.statusAnswer = { found: true, status: { status: 'completed', progress_percent: 100 } };
    await tickAt(1_000);
    await tickAt(30_000);
    expect(finished).toHaveLength(0);
    vma.statusAnswer = { found: true, status: { status: 'failed' } };
    await tickAt(40_000);
    expect(finished).toHaveLength(0);
    await tickAt(61_000);
    expect(finished.map((f) => f.outcome)).toEqual(['failed']);
    expect(job().error).toMatch(/^stalled: no progress for/);
    expect(vma.statusCalls).toBe(0);
    // The disk that never reported is torn (its replica may be half written); the one that did keeps its id.
    expect(contexts.require(ctxId)).toMatchObject({ replicaTornJobId: jobId });
    expect(contexts.disks(ctxId).map((d) => d.lastChangeId)).toEqual(['aa/1', null]);
  });

  it('an empty change id counts as that disk done: the job completes with a warning, the empty id is never stored, and that disk alone is copied in full next time', async () => {
    // An earlier sync left both disks a good base.
    const earlier = jobs.jobDisks(jobId);
    jobs.recordChangeId(jobId, 'disk-2000', 'aa/1');
    jobs.recordChangeId(jobId, 'disk-2001', 'bb/1');
    vma.progressAnswer = { found: true, progress: transfer(16 * MiB, 16 * MiB, 'completed') };
    await tickAt(1_000);
    expect(finished.map((f) => f.outcome)).toEqual(['completed']);
    expect(earlier).toHaveLength(2);

    const second = jobs.claim({ contextId: ctxId, trigger: 'ui' }).id;
    expect(jobs.jobDisks(second).map((d) => [d.diskKey, d.syncType, d.previousChangeId])).toEqual([
      ['disk-2000', 'incremental', 'aa/1'],
      ['disk-2001', 'incremental', 'bb/1'],
    ]);
    jobs.update(second, { status: 'replicating' });
    jobs.addPolled(second, 'app-vma', new Date(now));
    expect(jobs.recordChangeId(second, 'disk-2000', 'aa/2')).toBe('recorded');
    expect(jobs.recordChangeId(second, 'disk-2001', '')).toBe('ignored_empty');
    await tickAt(2_000);
    expect(finished.map((f) => [f.jobId, f.outcome])).toEqual([
      [jobId, 'completed'],
      [second, 'completed'],
    ]);
    expect(finished[1]!.warnings).toEqual(['disk-2001 finished without a change id: its next sync will copy the whole disk']);
    expect(jobs.require(second)).toMatchObject({ status: 'completed', progressPercent: 100 });
    expect(jobs.jobDisks(second).map((d) => d.changeId)).toEqual(['aa/2', null]);
    // The good id from before is not overwritten by the empty one...
    expect(contexts.disks(ctxId).map((d) => d.lastChangeId)).toEqual(['aa/2', 'bb/1']);
    expect(contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });
    // ...but it is not the next base either: that disk's next sync is full, the other stays incremental.
    const third = jobs.claim({ contextId: ctxId, trigger: 'ui' }).id;
    expect(jobs.require(third).jobType).toBe('initial');
    expect(jobs.jobDisks(third).map((d) => [d.diskKey, d.syncType, d.previousChangeId])).toEqual([
      ['disk-2000', 'incremental', 'aa/2'],
      ['disk-2001', 'initial', null],
    ]);
  });
});

describe('ProgressPoller: restart', () => {
  it('resumeAfterRestart resets the timers so time spent closed is neither stall, 404 nor unreachable time', async () => {
    vma.progressAnswer = { found: true, progress: transfer(6 * MiB, 24 * MiB) };
    await tickAt(1_000);
    vma.progressAnswer = new AppError('unreachable', 'down');
    await tickAt(2_000);
    poller.stop();

    // The console was closed for an hour; a new process opens the same database.
    now = T0 + 3_600_000;
    poller = makePoller();
    expect(poller.resumeAfterRestart()).toBe(1);
    expect(jobs.polled()[0]).toMatchObject({ lastChangeAt: new Date(now).toISOString(), unreachableSince: null, notFoundSince: null, consecutiveErrors: 0, nextPollAt: null });
    expect(notes.some((n) => n.includes('Console restarted'))).toBe(true);
    vma.progressAnswer = { found: true, progress: transfer(6 * MiB, 24 * MiB) };
    await tickAt(3_600_000 + 1_000);
    expect(finished).toHaveLength(0);
    expect(job().status).toBe('replicating');
  });

  it('a job that had not reported yet gets a fresh grace period after a restart', async () => {
    await tickAt(1_000);
    poller.stop();
    now = T0 + 3_600_000;
    poller = makePoller();
    poller.resumeAfterRestart();
    await tickAt(3_600_000 + 1_000);
    expect(finished).toHaveLength(0);
    expect(job().status).toBe('replicating');
    await tickAt(3_600_000 + 30_000);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/^lost: the VMA never reported progress/);
  });

  it('ignores jobs that already ended and drops nothing else', async () => {
    jobs.finish(jobId, 'cancelled', 'Cancelled by the operator');
    await tickAt(1_000);
    expect(vma.progressCalls).toBe(0);
    expect(finished).toHaveLength(0);
  });

  it('runs the beforeTick hook before every pass, and a failing hook does not stop polling', async () => {
    let hooks = 0;
    poller = new ProgressPoller(
      {
        jobs,
        vma: () => vma,
        finish: () => {},
        emit: () => {},
        note: () => {},
        phase: () => {},
        beforeTick: async () => {
          hooks++;
          throw new Error('sweep failed');
        },
        now: () => now,
      },
      OPTS,
    );
    await tickAt(1_000);
    await tickAt(2_000);
    expect(hooks).toBe(2);
    expect(vma.progressCalls).toBe(2);
  });
});

describe('ProgressPoller: one failing pass does not stop polling', () => {
  it('a database error in one pass is reported and the following passes finish the job', async () => {
    vma.progressAnswer = { found: true, progress: transfer(MiB, 8 * MiB) };
    await tickAt(1_000);
    expect(job().status).toBe('replicating');

    // The persisted list cannot be read for one pass (a busy or failing database).
    const polled = jobs.polled.bind(jobs);
    let failOnce = true;
    jobs.polled = () => {
      if (failOnce) {
        failOnce = false;
        throw new Error('SQLITE_BUSY: database is locked');
      }
      return polled();
    };
    await tickAt(2_000);
    expect(poller.failedPasses).toBe(1);

    // A failing write while a job is polled is survived too (the copy moved: the job row is written).
    vma.progressAnswer = { found: true, progress: transfer(2 * MiB, 8 * MiB) };
    const update = jobs.update.bind(jobs);
    let failUpdate = true;
    jobs.update = (...args) => {
      if (failUpdate) {
        failUpdate = false;
        throw new Error('disk I/O error');
      }
      return update(...args);
    };
    await tickAt(3_000);
    expect(poller.failedPasses).toBe(2);
    expect(notes.some((n) => n.includes('disk I/O error'))).toBe(true);

    for (const d of jobs.jobDisks(jobId)) jobs.recordChangeId(jobId, d.diskKey, `52 1a ${d.diskKey.slice(-2)}/1`);
    await tickAt(4_000);
    expect(job().status).toBe('completed');
  });

  it('the timer loop keeps running after a pass whose failure report itself throws', async () => {
    vi.useFakeTimers();
    try {
      const errors: string[] = [];
      const p = new ProgressPoller(
        {
          jobs,
          vma: () => vma,
          finish: (id, outcome, error) => jobs.finish(id, outcome, error),
          emit: () => {},
          note: () => {
            throw new Error('log write failed');
          },
          phase: () => {},
          onPassError: (m) => errors.push(m),
        },
        { ...OPTS, intervalMs: 100 },
      );
      const progress = vma.progress.bind(vma);
      vma.progress = async () => {
        throw new TypeError('unexpected shape');
      };
      const polled = jobs.polled.bind(jobs);
      let n = 0;
      jobs.polled = () => {
        n++;
        if (n === 1) throw new Error('SQLITE_BUSY');
        return polled();
      };
      p.start();
      await vi.advanceTimersByTimeAsync(350);
      p.stop();
      vma.progress = progress;
      expect(n).toBeGreaterThanOrEqual(3);
      expect(errors[0]).toMatch(/SQLITE_BUSY/);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('ProgressPoller: pollSoon', () => {
  it('asks the VMA about that job at once, without waiting for a pass, and completes it', async () => {
    jobs.recordChangeId(jobId, 'disk-2000', 'aa/1');
    jobs.recordChangeId(jobId, 'disk-2001', 'bb/1');
    vma.progressAnswer = { found: true, progress: transfer(24 * MiB, 24 * MiB, 'completed') };
    await poller.pollSoon(jobId);
    expect(poller.ticks).toBe(0);
    expect(vma.progressCalls).toBe(1);
    expect(finished.map((f) => f.outcome)).toEqual(['completed']);
  });

  it('respects an error backoff: a job not due is not asked', async () => {
    vma.progressAnswer = new AppError('unreachable', 'connection refused');
    await tickAt(1_000);
    expect(vma.progressCalls).toBe(1);
    await poller.pollSoon(jobId);
    expect(vma.progressCalls).toBe(1);
  });

  it('a pollSoon that arrives while the job is being asked about asks again right after, never twice at once', async () => {
    let release!: () => void;
    let concurrent = 0;
    let maxConcurrent = 0;
    const answer = vma.progress.bind(vma);
    vma.progress = async () => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      try {
        // The first question is answered with what the VMA knew when it was asked.
        const asked = answer();
        if (vma.progressCalls === 1) await new Promise<void>((r) => (release = r));
        return await asked;
      } finally {
        concurrent--;
      }
    };
    vma.progressAnswer = { found: true, progress: transfer(12 * MiB, 24 * MiB) };
    const pass = tickAt(1_000);
    await new Promise((r) => setImmediate(r));
    // A callback arrives while the pass waits for the VMA's answer.
    const soon = poller.pollSoon(jobId);
    release();
    await Promise.all([pass, soon]);
    expect(maxConcurrent).toBe(1);
    expect(vma.progressCalls).toBe(2);
    expect(poller.ticks).toBe(1);
  });
});

describe('ProgressPoller: VMA phases', () => {
  it('hands each phase change to the recorder once, at the time it was first seen, before the frame is pushed', async () => {
    const pushedAfterPhase: boolean[] = [];
    poller = new ProgressPoller(
      {
        jobs,
        vma: () => vma,
        finish: () => {},
        emit: () => pushedAfterPhase.push(phases.length > 0),
        note: () => {},
        phase: (id, name) => phases.push({ jobId: id, name, atMs: now }),
        now: () => now,
      },
      OPTS,
    );
    vma.progressAnswer = { found: true, progress: { status: 'in_progress', phase: 'Initializing', percentage: 5 } };
    await tickAt(1_000);
    await tickAt(2_000);
    vma.progressAnswer = { found: true, progress: { status: 'in_progress', phase: 'Creating Snapshot', percentage: 10 } };
    await tickAt(3_000);
    vma.progressAnswer = { found: true, progress: transfer(MiB, 8 * MiB) };
    await tickAt(4_000);
    await tickAt(5_000);
    expect(phases).toEqual([
      { jobId, name: 'Initializing', atMs: T0 + 1_000 },
      { jobId, name: 'Creating Snapshot', atMs: T0 + 3_000 },
      { jobId, name: 'Transfer', atMs: T0 + 4_000 },
    ]);
    expect(pushedAfterPhase[0]).toBe(true);
  });
});

describe('ProgressPoller: what a pass costs', () => {
  const totalChanges = () => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  const lastPollOnDisk = () => (db.prepare('SELECT last_poll_at FROM polled_jobs WHERE job_id = ?').get(jobId) as { last_poll_at: string | null }).last_poll_at;
  /** `count` more running jobs the poller follows, beside the first one: every job id, the first one's first. */
  const withPolledJobs = (prefix: string, count: number): string[] => {
    const ids = [jobId];
    for (let n = 0; n < count; n++) {
      const c = contexts.add({ vm: twoDiskVm({ vmwareVmId: `vm-${prefix}${n}`, name: `${prefix}${n}`, path: `/DC/vm/${prefix}${n}` }), vcenterHost: 'vc.test.invalid', credentialId: null, vmaApplianceId: null }).id;
      const j = jobs.claim({ contextId: c, trigger: 'ui' }).id;
      jobs.update(j, { status: 'replicating' });
      jobs.addPolled(j, 'app-vma', new Date(now));
      ids.push(j);
    }
    return ids;
  };

  it('an answer that changes nothing writes no row and pushes no update; the poll time is still known', async () => {
    vma.progressAnswer = { found: true, progress: { status: 'in_progress', phase: 'Initializing', percentage: 5 } };
    await tickAt(1_000);
    expect(job().phase).toBe('Initializing');
    expect(emitted).toHaveLength(1);
    const updatedAt = job().updatedAt;
    const changes = totalChanges();
    await tickAt(2_000);
    await tickAt(3_000);
    expect(vma.progressCalls).toBe(3);
    expect(totalChanges()).toBe(changes);
    expect(job().updatedAt).toBe(updatedAt);
    expect(lastPollOnDisk()).toBe(new Date(T0 + 1_000).toISOString());
    expect(emitted).toHaveLength(1);
    // The latest poll time is served from memory (a test or an operator asking when it was last polled).
    expect(jobs.polled()[0]!.lastPollAt).toBe(new Date(T0 + 3_000).toISOString());
    // The copy moves again: the job and disk rows are written and the update pushed at once; the
    // poller's own row keeps its progress time in memory until its cadence comes round.
    vma.progressAnswer = { found: true, progress: transfer(MiB, 24 * MiB) };
    await tickAt(4_000);
    expect(totalChanges()).toBeGreaterThan(changes);
    expect(job().bytesTransferred).toBe(MiB);
    expect(jobs.jobDisks(jobId)[0]).toMatchObject({ status: 'transferring', bytesTransferred: MiB });
    expect(emitted).toHaveLength(2);
    expect(jobs.polled()[0]).toMatchObject({ lastPollAt: new Date(T0 + 4_000).toISOString(), lastChangeAt: new Date(T0 + 4_000).toISOString() });
    expect(lastPollOnDisk()).toBe(new Date(T0 + 1_000).toISOString());
  });

  it('what memory held ahead of the table does not matter after a restart: the stall period runs from the restart', async () => {
    vma.progressAnswer = { found: true, progress: transfer(MiB, 24 * MiB) };
    await tickAt(1_000);
    vma.progressAnswer = { found: true, progress: transfer(2 * MiB, 24 * MiB) };
    await tickAt(30_000);
    expect(jobs.polled()[0]!.lastChangeAt).toBe(new Date(T0 + 30_000).toISOString());
    expect((db.prepare('SELECT last_change_at FROM polled_jobs').get() as { last_change_at: string }).last_change_at).toBe(new Date(T0 + 1_000).toISOString());
    // A new process: a new repository on the same database, memory empty.
    poller.stop();
    jobs = new JobRepository(db);
    now = T0 + 40_000;
    poller = makePoller();
    poller.resumeAfterRestart();
    expect(jobs.polled()[0]!.lastChangeAt).toBe(new Date(T0 + 40_000).toISOString());
    // The first pass runs at once after a restart (start() arms it at 0 ms).
    await tickAt(40_000);
    await tickAt(40_000 + OPTS.stallMs - 1);
    expect(job().status).toBe('replicating');
    await tickAt(40_000 + OPTS.stallMs);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/^stalled: no progress for 1 min/);
  });

  it('an unchanged job still reaches the disk at a low cadence, and a stalled one still fails as stalled', async () => {
    const stallMs = 3 * LAST_POLL_PERSIST_MS;
    poller = new ProgressPoller(
      { jobs, vma: () => vma, finish: (id, outcome, error) => jobs.finish(id, outcome, error, new Date(now)), emit: () => {}, note: () => {}, phase: () => {}, now: () => now },
      { ...OPTS, stallMs },
    );
    vma.progressAnswer = { found: true, progress: transfer(6 * MiB, 24 * MiB) };
    // The second answer differs from the first in the disk's state only (pending → transferring).
    await tickAt(1_000);
    await tickAt(2_000);
    for (let t = 12_000; t < 1_000 + LAST_POLL_PERSIST_MS; t += 10_000) await tickAt(t);
    expect(lastPollOnDisk()).toBe(new Date(T0 + 1_000).toISOString());
    await tickAt(1_000 + LAST_POLL_PERSIST_MS);
    expect(lastPollOnDisk()).toBe(new Date(T0 + 1_000 + LAST_POLL_PERSIST_MS).toISOString());
    // lastChangeAt, which the stall period runs from, reached the table with it.
    expect(jobs.polled()[0]!.lastChangeAt).toBe(new Date(T0 + 2_000).toISOString());
    expect((db.prepare('SELECT last_change_at FROM polled_jobs').get() as { last_change_at: string }).last_change_at).toBe(new Date(T0 + 2_000).toISOString());
    await tickAt(2_000 + stallMs - 1);
    expect(job().status).toBe('replicating');
    await tickAt(2_000 + stallMs);
    expect(job().status).toBe('failed');
    expect(job().error).toMatch(/^stalled: no progress for 3 min/);
  });

  it('numbers that only moved are held and reach the table within PROGRESS_PERSIST_MS; a rate that only decays is pushed, not kept', async () => {
    const onDisk = () => new JobRepository(db).require(jobId);
    vma.progressAnswer = { found: true, progress: transfer(MiB, 24 * MiB) };
    await tickAt(1_000);
    expect(onDisk()).toMatchObject({ phase: 'Transfer', bytesTransferred: MiB, totalBytes: 24 * MiB });
    vma.progressAnswer = { found: true, progress: transfer(2 * MiB, 24 * MiB) };
    await tickAt(2_000);
    const rate = job().rateBps;
    expect(rate).toBeGreaterThan(0);
    expect(job().bytesTransferred).toBe(2 * MiB);
    expect(jobs.jobDisks(jobId)[0]).toMatchObject({ bytesTransferred: 2 * MiB });
    expect(onDisk().bytesTransferred).toBe(MiB);
    // Nothing moves: the window sees the rate decay, the job keeps the rate of the last move.
    await tickAt(3_000);
    expect(emitted.at(-1)!.rateBps).toBeLessThan(rate);
    expect(job().rateBps).toBe(rate);
    await tickAt(2_000 + PROGRESS_PERSIST_MS);
    expect(onDisk()).toMatchObject({ bytesTransferred: 2 * MiB, rateBps: rate });
    expect(new JobRepository(db).jobDisks(jobId)[0]).toMatchObject({ bytesTransferred: 2 * MiB });
    // A job that stands still writes nothing more.
    const changes = totalChanges();
    await tickAt(3_000 + PROGRESS_PERSIST_MS);
    await tickAt(4_000 + PROGRESS_PERSIST_MS);
    expect(totalChanges()).toBe(changes);
  });

  it('a job added after the first pass is polled at the next one, and a job that ended is asked about no more', async () => {
    vma.progressAnswer = { found: true, progress: transfer(MiB, 24 * MiB) };
    await tickAt(1_000);
    expect(vma.progressCalls).toBe(1);
    const other = contexts.add({ vm: twoDiskVm({ vmwareVmId: 'vm-other', name: 'other', path: '/DC/vm/other' }), vcenterHost: 'vc.test.invalid', credentialId: null, vmaApplianceId: null }).id;
    const second = jobs.claim({ contextId: other, trigger: 'ui' }).id;
    jobs.update(second, { status: 'replicating' });
    jobs.addPolled(second, 'app-vma', new Date(now));
    const asked: string[] = [];
    const progress = vma.progress.bind(vma);
    vma.progress = async (...args: unknown[]) => {
      asked.push(String(args[0]));
      return progress();
    };
    await tickAt(2_000);
    expect(asked.sort()).toEqual([jobId, second].sort());
    expect(jobs.require(second).bytesTransferred).toBe(MiB);
    jobs.finish(jobId, 'cancelled', 'Cancelled by the operator');
    asked.length = 0;
    await tickAt(3_000);
    expect(asked).toEqual([second]);
  });

  it('asks at most `concurrency` at once, fills free places two at a time (half of four), and a question that hangs holds one place, not the pass', async () => {
    const ids = withPolledJobs('q', 8);
    const answer = { found: true as const, progress: transfer(MiB, 24 * MiB) };
    const waiting: { id: string; answer: () => void }[] = [];
    const groups: string[][] = [];
    let asking: string[] | null = null;
    vma.progress = (...args: unknown[]) => {
      const id = String(args[0]);
      // Questions asked in one go (one turn of the event loop) form one group.
      if (asking === null) {
        asking = [];
        groups.push(asking);
        queueMicrotask(() => (asking = null));
      }
      asking.push(id);
      return new Promise<typeof answer>((resolve) => waiting.push({ id, answer: () => resolve(answer) }));
    };
    const settle = async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    now = T0 + 1_000;
    const pass = poller.tick();
    await settle();
    expect(groups.map((g) => g.length)).toEqual([4]);
    // The first question never gets its answer during this pass.
    const hung = waiting.shift()!;
    waiting.shift()!.answer();
    await settle();
    expect(groups).toHaveLength(1);
    waiting.shift()!.answer();
    await settle();
    expect(groups.map((g) => g.length)).toEqual([4, 2]);
    while (waiting.length > 0) {
      waiting.shift()!.answer();
      await settle();
    }
    expect(groups.flat()).toHaveLength(9);
    expect(new Set(groups.flat())).toEqual(new Set(ids));
    expect(Math.max(...groups.map((g) => g.length))).toBeLessThanOrEqual(4);
    let done = false;
    void pass.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    hung.answer();
    await pass;
    for (const id of ids) expect(jobs.require(id).bytesTransferred).toBe(MiB);
  });

  it('fills a place that stays free alone after a short wait when most questions hang (they never hold the others)', async () => {
    const ids = withPolledJobs('h', 5);
    const answer = { found: true as const, progress: transfer(MiB, 24 * MiB) };
    const waiting: { id: string; answer: () => void }[] = [];
    const asked: string[] = [];
    vma.progress = (...args: unknown[]) => {
      asked.push(String(args[0]));
      return new Promise<typeof answer>((resolve) => waiting.push({ id: String(args[0]), answer: () => resolve(answer) }));
    };
    now = T0 + 1_000;
    const pass = poller.tick();
    await vi.waitFor(() => expect(asked).toHaveLength(4));
    // Three of the four questions hang; one is answered: one place free, fewer than half.
    const hung = waiting.splice(0, 3);
    waiting.shift()!.answer();
    // The free place is filled on its own, and again after that question is answered.
    await vi.waitFor(() => expect(asked).toHaveLength(5));
    waiting.shift()!.answer();
    await vi.waitFor(() => expect(asked).toHaveLength(6));
    waiting.shift()!.answer();
    expect(new Set(asked)).toEqual(new Set(ids));
    for (const h of hung) h.answer();
    await pass;
    for (const id of ids) expect(jobs.require(id).bytesTransferred).toBe(MiB);
  });

  it('writes the answers of a pass in one transaction per batch', async () => {
    const ids = withPolledJobs('b', 4);
    const batches: number[] = [];
    const batch = jobs.batch.bind(jobs);
    jobs.batch = <T>(fn: () => T): T => {
      const before = totalChanges();
      const r = batch(fn);
      batches.push(totalChanges() - before);
      return r;
    };
    vma.progressAnswer = { found: true, progress: transfer(MiB, 24 * MiB) };
    await tickAt(1_000);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toBeGreaterThanOrEqual(5 * 3);
    for (const id of ids) expect(jobs.require(id).bytesTransferred).toBe(MiB);

    poller = new ProgressPoller(
      { jobs, vma: () => vma, finish: () => {}, emit: () => {}, note: () => {}, phase: () => {}, now: () => now },
      { ...OPTS, batchSize: 2 },
    );
    batches.length = 0;
    vma.progressAnswer = { found: true, progress: transfer(2 * MiB, 24 * MiB) };
    await tickAt(2_000);
    expect(batches).toHaveLength(3);
    for (const id of ids) expect(jobs.require(id).bytesTransferred).toBe(2 * MiB);
  });
});
