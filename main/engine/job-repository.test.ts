import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import type { DiscoveredVm } from '../../shared/discovery';
import { AppError } from '../../shared/errors';
import { Core } from '../core/core';
import { JobRepository, PROGRESS_PERSIST_MS } from './job-repository';

let dir: string;
let db: Db;
let contexts: VmContextRepository;
let jobs: JobRepository;
const GiB = 2 ** 30;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-jobs-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  contexts = new VmContextRepository(db);
  jobs = new JobRepository(db);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
function addVm(name = `vm${++seq}`, diskCount = 2): string {
  return contexts.add({ vm: sampleVm(name, diskCount), vcenterHost: 'vc.test.invalid', credentialId: null, vmaApplianceId: null }).id;
}

function sampleVm(name: string, diskCount = 2): DiscoveredVm {
  return {
    vmwareVmId: `4205784a-0000-0000-0000-${String(++seq).padStart(12, '0')}`,
    name,
    path: `/DC1/vm/${name}`,
    datacenter: 'DC1',
    cpus: 2,
    memoryMb: 4096,
    osType: 'linux',
    powerState: 'poweredOn',
    vmxVersion: 'vmx-19',
    disks: Array.from({ length: diskCount }, (_, i) => ({
      diskKey: `disk-${2000 + i}`,
      label: `Hard disk ${i + 1}`,
      vmdkPath: `[ds] ${name}/${name}_${i}.vmdk`,
      datastore: 'ds',
      capacityBytes: (i + 1) * GiB,
      provisioningType: 'thin',
      unitNumber: i,
    })),
    networks: [],
  };
}

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('JobRepository.claim', () => {
  it('creates the job, one row per disk and the context link together', () => {
    const ctxId = addVm('pg1');
    const job = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(job.id).toMatch(/^job-\d{8}-\d{6}\.\d{3}-[0-9a-f]{6}$/);
    // Bytes to move are unknown until the VMA reports them; the capacity is a separate field.
    expect(job).toMatchObject({ status: 'pending', jobType: 'initial', vmPath: '/DC1/vm/pg1', trigger: 'ui', totalBytes: 0, capacityBytes: 3 * GiB });
    expect(jobs.jobDisks(job.id).map((d) => [d.diskKey, d.status, d.syncType, d.totalBytes, d.capacityBytes])).toEqual([
      ['disk-2000', 'pending', 'initial', 0, GiB],
      ['disk-2001', 'pending', 'initial', 0, 2 * GiB],
    ]);
    const ctx = contexts.require(ctxId);
    expect(ctx.currentJobId).toBe(job.id);
    expect(ctx.status).toBe('replicating');
    expect(ctx.totalJobs).toBe(1);
  });

  it('refuses a second claim with a conflict naming the running job, and creates nothing', () => {
    const ctxId = addVm('pg1');
    const first = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    const e = caught(() => jobs.claim({ contextId: ctxId, trigger: 'scheduler' }));
    expect(e.code).toBe('conflict');
    expect(e.message).toContain(first.id);
    expect(e.message).toContain('pg1');
    expect(e.details?.jobId).toBe(first.id);
    expect(jobs.list({ contextId: ctxId })).toHaveLength(1);
    expect(contexts.require(ctxId).totalJobs).toBe(1);
  });

  it('the unique index still refuses a second active job when the context link was lost', () => {
    const ctxId = addVm('pg1');
    const first = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    db.prepare(`UPDATE vm_contexts SET current_job_id = NULL WHERE id = ?`).run(ctxId);
    const e = caught(() => jobs.claim({ contextId: ctxId, trigger: 'ui' }));
    expect(e.code).toBe('conflict');
    expect(e.message).toContain(first.id);
    expect(jobs.list({ contextId: ctxId })).toHaveLength(1);
  });

  it.each(['failing_over', 'rolling_back', 'failed_over_live'] as const)('refuses while the VM is %s, except for the failover final sync', (status) => {
    const ctxId = addVm();
    db.prepare(`UPDATE vm_contexts SET current_status = ? WHERE id = ?`).run(status, ctxId);
    const e = caught(() => jobs.claim({ contextId: ctxId, trigger: 'ui' }));
    expect(e.code).toBe('conflict');
    expect(e.message).toContain(status.replace(/_/g, ' '));
    expect(jobs.list({ contextId: ctxId })).toHaveLength(0);
    if (status === 'failing_over') {
      const job = jobs.claim({ contextId: ctxId, trigger: 'failover' });
      // The failover engine owns the status; the job only links itself.
      expect(contexts.require(ctxId)).toMatchObject({ status: 'failing_over', currentJobId: job.id });
    }
  });

  it('refuses unknown contexts and VMs without disks', () => {
    expect(caught(() => jobs.claim({ contextId: 'ctx-nope', trigger: 'ui' })).code).toBe('not_found');
    const ctxId = addVm('empty', 0);
    expect(caught(() => jobs.claim({ contextId: ctxId, trigger: 'ui' })).code).toBe('validation');
  });

  it('decides incremental only when every disk has a change id, per disk otherwise', () => {
    const ctxId = addVm();
    const [d0] = contexts.disks(ctxId);
    db.prepare(`UPDATE vm_disks SET last_change_id = 'aa/1' WHERE id = ?`).run(d0!.id);
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(j.jobType).toBe('initial');
    expect(jobs.jobDisks(j.id).map((d) => [d.syncType, d.previousChangeId])).toEqual([
      ['incremental', 'aa/1'],
      ['initial', null],
    ]);
  });

  it('a full sync offers no previous change id for any disk, so every disk is copied whole', () => {
    const ctxId = addVm();
    db.prepare(`UPDATE vm_disks SET last_change_id = 'aa/1' WHERE vm_context_id = ?`).run(ctxId);
    const auto = jobs.claim({ contextId: ctxId, trigger: 'scheduler' });
    expect(auto.jobType).toBe('incremental');
    jobs.finish(auto.id, 'cancelled', null);
    const full = jobs.claim({ contextId: ctxId, trigger: 'scheduler', fullSync: true });
    expect(full.jobType).toBe('initial');
    expect(jobs.jobDisks(full.id).map((d) => [d.syncType, d.previousChangeId])).toEqual([
      ['initial', null],
      ['initial', null],
    ]);
  });
});

describe('JobRepository.finish', () => {
  it('only the first call wins: exactly one terminal state', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(jobs.finish(j.id, 'failed', 'stalled: no progress')).toBe(true);
    expect(jobs.finish(j.id, 'completed', null)).toBe(false);
    expect(jobs.finish(j.id, 'cancelled', 'x')).toBe(false);
    expect(jobs.require(j.id)).toMatchObject({ status: 'failed', error: 'stalled: no progress', phase: 'Failed' });
    expect(jobs.finish('job-unknown', 'failed', 'x')).toBe(false);
  });

  it('on completion: 100 %, CBT history per disk, counters, last successful job, context ready and free', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.addPolled(j.id, null);
    jobs.update(j.id, { status: 'replicating', progressPercent: 40 });
    expect(jobs.recordChangeId(j.id, 'disk-2000', '52 1a/401')).toBe('recorded');
    expect(jobs.recordChangeId(j.id, 'disk-2001', '52 1b/402')).toBe('recorded');
    expect(jobs.finish(j.id, 'completed', null)).toBe(true);
    expect(jobs.require(j.id)).toMatchObject({ status: 'completed', progressPercent: 100, error: null, rateBps: 0, etaSeconds: null });
    expect(jobs.require(j.id).completedAt).not.toBeNull();
    expect(jobs.polled()).toHaveLength(0);
    const history = jobs.cbtHistory(ctxId);
    expect(history.map((h) => [h.diskKey, h.changeId, h.syncType, h.jobId]).sort()).toEqual([
      ['disk-2000', '52 1a/401', 'initial', j.id],
      ['disk-2001', '52 1b/402', 'initial', j.id],
    ]);
    const ctx = contexts.require(ctxId);
    expect(ctx).toMatchObject({ status: 'ready_for_failover', currentJobId: null, successfulJobs: 1, failedJobs: 0, totalJobs: 1, lastSuccessfulJobId: j.id, lastError: null });
  });

  it('a failed first job leaves the context failed and free, with the reason', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.finish(j.id, 'failed', 'attach failed: out of capacity');
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', currentJobId: null, failedJobs: 1, lastError: 'attach failed: out of capacity' });
    expect(jobs.jobDisks(j.id).every((d) => d.status === 'failed')).toBe(true);
    expect(jobs.cbtHistory(ctxId)).toHaveLength(0);
  });

  it('a failed job after a success leaves the VM ready for failover, with last_error set', () => {
    const ctxId = addVm();
    const ok = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.finish(ok.id, 'completed', null);
    const bad = jobs.claim({ contextId: ctxId, trigger: 'scheduler' });
    jobs.finish(bad.id, 'failed', 'lost: the VMA no longer knows this job');
    expect(contexts.require(ctxId)).toMatchObject({
      status: 'ready_for_failover',
      currentJobId: null,
      totalJobs: 2,
      successfulJobs: 1,
      failedJobs: 1,
      lastSuccessfulJobId: ok.id,
      lastError: 'lost: the VMA no longer knows this job',
    });
    // The next success clears the error.
    const again = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.finish(again.id, 'completed', null);
    expect(contexts.require(ctxId)).toMatchObject({ lastError: null, lastSuccessfulJobId: again.id, successfulJobs: 2 });
  });

  it('a cancelled first job returns the VM to discovered', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.finish(j.id, 'cancelled', 'Cancelled by the operator');
    expect(contexts.require(ctxId)).toMatchObject({ status: 'discovered', currentJobId: null, failedJobs: 0 });
    expect(jobs.require(j.id).phase).toBe('Cancelled');
  });

  it('during a failover the job does not change the context status, only frees it', () => {
    const ctxId = addVm();
    db.prepare(`UPDATE vm_contexts SET current_status = 'failing_over' WHERE id = ?`).run(ctxId);
    const j = jobs.claim({ contextId: ctxId, trigger: 'failover' });
    jobs.finish(j.id, 'failed', 'x');
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failing_over', currentJobId: null });
  });

  it('update() never revives a finished job and refuses terminal statuses', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(jobs.update(j.id, { status: 'provisioning', phase: 'Provision volumes' })).toBe(true);
    expect(jobs.require(j.id).startedAt).not.toBeNull();
    expect(jobs.update(j.id, { progressPercent: 250 })).toBe(true);
    expect(jobs.require(j.id).progressPercent).toBe(100);
    expect(caught(() => jobs.update(j.id, { status: 'completed' })).code).toBe('internal');
    jobs.finish(j.id, 'failed', 'boom');
    expect(jobs.update(j.id, { status: 'replicating', phase: 'Transfer', progressPercent: 50 })).toBe(false);
    expect(jobs.require(j.id)).toMatchObject({ status: 'failed', phase: 'Failed', error: 'boom' });
  });
});

describe('JobRepository: unchanged progress is not written', () => {
  const changes = () => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;

  it('update() with skipUnchanged writes only when a value differs, and sets started_at if it is missing', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    const progress = { status: 'replicating' as const, phase: 'Copy', progressPercent: 40, bytesTransferred: 4096, totalBytes: 8192, rateBps: 12.5, etaSeconds: null };
    expect(jobs.update(j.id, progress, { skipUnchanged: true })).toBe(true);
    const written = jobs.require(j.id);
    expect(written).toMatchObject({ phase: 'Copy', progressPercent: 40, bytesTransferred: 4096, rateBps: 12.5, etaSeconds: null });
    expect(written.startedAt).not.toBeNull();
    const before = changes();
    expect(jobs.update(j.id, progress, { skipUnchanged: true })).toBe(false);
    expect(changes()).toBe(before);
    expect(jobs.require(j.id).updatedAt).toBe(written.updatedAt);
    expect(jobs.update(j.id, { ...progress, etaSeconds: 30 }, { skipUnchanged: true })).toBe(true);
    expect(jobs.require(j.id).etaSeconds).toBe(30);
    // Without the option every call writes, as before.
    expect(jobs.update(j.id, { ...progress, etaSeconds: 30 })).toBe(true);
    // A row without started_at is not "unchanged" even when every given value matches (read by a
    // repository that did not write it: this one's memory follows its own writes).
    db.prepare('UPDATE replication_jobs SET started_at = NULL WHERE id = ?').run(j.id);
    const reader = new JobRepository(db);
    expect(reader.update(j.id, { ...progress, etaSeconds: 30 }, { skipUnchanged: true })).toBe(true);
    expect(reader.require(j.id).startedAt).not.toBeNull();
  });

  it('updateJobDisk() leaves a disk row alone when it already holds the values', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    const disk = { status: 'transferring' as const, percent: 25, bytesTransferred: 1024, totalBytes: 4096 };
    jobs.updateJobDisk(j.id, 'disk-2000', disk);
    const before = changes();
    jobs.updateJobDisk(j.id, 'disk-2000', disk);
    expect(changes()).toBe(before);
    // Only bytes and percent moved: held in memory (shown to readers), written by persistHeldProgress.
    jobs.updateJobDisk(j.id, 'disk-2000', { ...disk, percent: 50, bytesTransferred: 2048 });
    expect(changes()).toBe(before);
    expect(jobs.jobDisks(j.id)[0]).toMatchObject({ status: 'transferring', percent: 50, bytesTransferred: 2048, totalBytes: 4096 });
    expect(jobs.persistHeldProgress()).toBe(1);
    expect(changes()).toBe(before + 1);
    expect(new JobRepository(db).jobDisks(j.id)[0]).toMatchObject({ status: 'transferring', percent: 50, bytesTransferred: 2048, totalBytes: 4096 });
  });
});

describe('JobRepository.recordChangeId', () => {
  it('is per disk, and an empty id marks the disk done without overwriting a good one', () => {
    const ctxId = addVm();
    const first = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.recordChangeId(first.id, 'disk-2000', '52 aa/10');
    jobs.recordChangeId(first.id, 'disk-2001', '52 bb/20');
    jobs.finish(first.id, 'completed', null);
    const byKey = () => Object.fromEntries(contexts.disks(ctxId).map((d) => [d.diskKey, d.lastChangeId]));
    expect(byKey()).toEqual({ 'disk-2000': '52 aa/10', 'disk-2001': '52 bb/20' });

    const second = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(second.jobType).toBe('incremental');
    expect(jobs.recordChangeId(second.id, 'disk-2001', '   ')).toBe('ignored_empty');
    expect(jobs.recordChangeId(second.id, 'disk-2000', ' 52 aa/11 ')).toBe('recorded');
    expect(byKey()).toEqual({ 'disk-2000': '52 aa/11', 'disk-2001': '52 bb/20' });
    const disks = jobs.jobDisks(second.id);
    expect(disks.map((d) => [d.diskKey, d.status, d.changeId, d.previousChangeId])).toEqual([
      ['disk-2000', 'completed', '52 aa/11', '52 aa/10'],
      ['disk-2001', 'completed', null, '52 bb/20'],
    ]);
    expect(jobs.lookupChangeId('/DC1/vm/' + contexts.require(ctxId).name, 'disk-2001')).toEqual({ changeId: '52 bb/20' });
    expect(jobs.lookupChangeId('/DC1/vm/' + contexts.require(ctxId).name, 'disk-2999')).toBeNull();
  });

  it('answers unknown job and unknown disk', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(jobs.recordChangeId('job-20990101-000000.000-abcdef', 'disk-2000', 'a/1')).toBe('unknown_job');
    expect(jobs.recordChangeId(j.id, 'disk-9999', 'a/1')).toBe('unknown_disk');
    expect(contexts.disks(ctxId).every((d) => d.lastChangeId === null)).toBe(true);
  });

  it('a late callback after completion does not reopen progress but keeps the id', () => {
    const ctxId = addVm(undefined, 1);
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.finish(j.id, 'completed', null);
    expect(jobs.recordChangeId(j.id, 'disk-2000', 'late/5')).toBe('recorded');
    expect(jobs.require(j.id).status).toBe('completed');
    expect(contexts.disks(ctxId)[0]!.lastChangeId).toBe('late/5');
  });
});

describe('JobRepository polled list and delete', () => {
  it('persists what the poller needs and drops it when the job ends', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.addPolled(j.id, null, new Date('2030-01-01T00:00:00Z'));
    jobs.addPolled(j.id, null, new Date('2031-01-01T00:00:00Z'));
    const [p] = jobs.polled();
    expect(p).toMatchObject({ jobId: j.id, startedPollingAt: '2030-01-01T00:00:00.000Z', lastChangeAt: '2030-01-01T00:00:00.000Z', consecutiveErrors: 0, firstSeenAt: null });
    jobs.savePolled({ ...p!, consecutiveErrors: 3, nextPollAt: '2030-01-01T00:01:00.000Z', lastFingerprint: 'fp' });
    expect(jobs.polled()[0]).toMatchObject({ consecutiveErrors: 3, nextPollAt: '2030-01-01T00:01:00.000Z', lastFingerprint: 'fp' });
    jobs.finish(j.id, 'failed', 'x');
    expect(jobs.polled()).toHaveLength(0);
  });

  it('activeUnpolled lists the active jobs the poller does not follow', () => {
    const setup = jobs.claim({ contextId: addVm(), trigger: 'ui' });
    const copying = jobs.claim({ contextId: addVm(), trigger: 'ui' });
    const ended = jobs.claim({ contextId: addVm(), trigger: 'ui' });
    jobs.addPolled(copying.id, null);
    jobs.finish(ended.id, 'failed', 'x');
    expect(jobs.activeUnpolled().map((j) => j.id)).toEqual([setup.id]);
    expect(jobs.active().map((j) => j.id).sort()).toEqual([setup.id, copying.id].sort());
  });

  it('deletes only finished jobs and recomputes the counters', () => {
    const ctxId = addVm();
    const ok = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.finish(ok.id, 'completed', null);
    const running = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(caught(() => jobs.delete(running.id)).code).toBe('conflict');
    jobs.finish(running.id, 'failed', 'x');
    jobs.delete(ok.id);
    expect(jobs.get(ok.id)).toBeNull();
    expect(contexts.require(ctxId)).toMatchObject({ totalJobs: 1, successfulJobs: 0, failedJobs: 1, lastSuccessfulJobId: null });
  });
});

describe('JobRepository: torn replica (issue 7)', () => {
  /** A job that got as far as sending replicate, then finished with the given disks reported. */
  function copyThenEnd(ctxId: string, outcome: 'completed' | 'failed' | 'cancelled', reported: Record<string, string>): string {
    const job = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.update(job.id, { status: 'starting' });
    jobs.markCopyRequested(job.id);
    jobs.update(job.id, { status: 'replicating' });
    for (const [disk, id] of Object.entries(reported)) jobs.recordChangeId(job.id, disk, id);
    jobs.finish(job.id, outcome, outcome === 'failed' ? 'stalled: no progress for 10 min' : null);
    return job.id;
  }

  it('a copy that stopped after writing marks the VM torn and not ready; the next sync copies the unfinished disk in full; a completed sync clears it', () => {
    const ctxId = addVm();
    copyThenEnd(ctxId, 'completed', { 'disk-2000': 'a/1', 'disk-2001': 'b/1' });
    expect(contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });

    // disk-2000 finished (new base a/2), disk-2001 was half written when the copy stalled.
    const torn = copyThenEnd(ctxId, 'failed', { 'disk-2000': 'a/2' });
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: torn, lastError: 'stalled: no progress for 10 min' });

    const next = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(next.jobType).toBe('initial');
    expect(jobs.jobDisks(next.id).map((d) => [d.diskKey, d.syncType, d.previousChangeId])).toEqual([
      ['disk-2000', 'incremental', 'a/2'],
      ['disk-2001', 'initial', null],
    ]);
    // A failure before the copy is requested keeps the marker and the status.
    jobs.finish(next.id, 'failed', 'CloudStack refused');
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: torn });

    copyThenEnd(ctxId, 'completed', { 'disk-2000': 'a/3', 'disk-2001': 'b/3' });
    expect(contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });
    const after = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(after.jobType).toBe('incremental');
  });

  it('a cancelled copy tears too; a failure before the copy was requested does not', () => {
    const ctxId = addVm();
    copyThenEnd(ctxId, 'completed', { 'disk-2000': 'a/1', 'disk-2001': 'b/1' });
    const early = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    jobs.update(early.id, { status: 'starting' });
    jobs.finish(early.id, 'failed', 'callback forward not bound');
    expect(contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });
    const cancelled = copyThenEnd(ctxId, 'cancelled', {});
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: cancelled });
  });

  it("deleting the torn job's record does not make the replica look consistent; every disk is then copied in full", () => {
    const ctxId = addVm();
    copyThenEnd(ctxId, 'completed', { 'disk-2000': 'a/1', 'disk-2001': 'b/1' });
    const torn = copyThenEnd(ctxId, 'failed', {});
    jobs.delete(torn);
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: torn });
    const next = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(jobs.jobDisks(next.id).map((d) => d.syncType)).toEqual(['initial', 'initial']);
  });
});

describe('JobRepository poller views', () => {
  it('pollView and pollDisks hold the same values as the full job and disk rows', () => {
    const ctxId = addVm();
    const j = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    expect(jobs.pollView(j.id)).toMatchObject({ id: j.id, status: 'pending', startedAt: null, etaSeconds: null });
    jobs.update(j.id, { status: 'replicating', phase: 'Transfer', progressPercent: 42.5, bytesTransferred: 7, totalBytes: 9, rateBps: 3, etaSeconds: 11 });
    jobs.updateJobDisk(j.id, 'disk-2000', { status: 'transferring', percent: 12.5, bytesTransferred: 5, totalBytes: 40 });
    jobs.recordChangeId(j.id, 'disk-2001', '52 1b/9');
    const full = jobs.require(j.id);
    const view = jobs.pollView(j.id)!;
    for (const k of Object.keys(view) as (keyof typeof view)[]) expect(view[k], k).toEqual(full[k]);
    expect(view.startedAt).not.toBeNull();
    const disks = jobs.jobDisks(j.id);
    const views = jobs.pollDisks(j.id);
    expect(views.map((d) => d.diskKey)).toEqual(disks.map((d) => d.diskKey));
    views.forEach((v, i) => {
      for (const k of Object.keys(v) as (keyof typeof v)[]) expect(v[k], `${v.diskKey} ${k}`).toEqual(disks[i]![k]);
    });
    expect(views[1]).toMatchObject({ status: 'completed', changeId: '52 1b/9' });
    expect(jobs.pollView('job-unknown')).toBeNull();
  });
});

describe('JobRepository: held progress (PROGRESS_PERSIST_MS)', () => {
  /** What the table holds: what a restarted process (or one after a SIGKILL) would read. */
  const table = () => new JobRepository(db);
  const running = (repo: JobRepository = jobs) => {
    const j = repo.claim({ contextId: addVm(), trigger: 'ui' });
    repo.update(j.id, { status: 'replicating', phase: 'Transfer', progressPercent: 10, bytesTransferred: 100, totalBytes: 1000, rateBps: 5, etaSeconds: 180 });
    repo.updateJobDisk(j.id, 'disk-2000', { status: 'transferring', percent: 10, bytesTransferred: 100, totalBytes: 1000 });
    return j.id;
  };
  const moved = { progressPercent: 40, bytesTransferred: 400, totalBytes: 1000, rateBps: 50, etaSeconds: 12 };

  it('numbers that only moved are held: every getter shows them, the table gets them once they are old enough', () => {
    let now = 1_000_000;
    const repo = new JobRepository(db, { now: () => now });
    const id = running(repo);
    expect(repo.update(id, { phase: 'Transfer', ...moved }, { skipUnchanged: true })).toBe(true);
    repo.updateJobDisk(id, 'disk-2000', { status: 'transferring', percent: 40, bytesTransferred: 400, totalBytes: 1000 });
    expect(table().require(id)).toMatchObject({ progressPercent: 10, bytesTransferred: 100, rateBps: 5, etaSeconds: 180 });
    expect(table().jobDisks(id)[0]).toMatchObject({ percent: 10, bytesTransferred: 100 });
    expect(repo.require(id)).toMatchObject(moved);
    expect(repo.list({ contextId: repo.require(id).vmContextId })[0]).toMatchObject(moved);
    expect(repo.active().find((j) => j.id === id)).toMatchObject(moved);
    expect(repo.jobDisks(id)[0]).toMatchObject({ percent: 40, bytesTransferred: 400, totalBytes: 1000 });
    expect(repo.pollView(id)).toMatchObject(moved);
    expect(repo.persistHeldProgress(PROGRESS_PERSIST_MS)).toBe(0);
    now += PROGRESS_PERSIST_MS;
    expect(repo.persistHeldProgress(PROGRESS_PERSIST_MS)).toBe(1);
    expect(table().require(id)).toMatchObject(moved);
    expect(table().jobDisks(id)[0]).toMatchObject({ percent: 40, bytesTransferred: 400 });
    expect(table().require(id).updatedAt).toBe(repo.require(id).updatedAt);
  });

  it('a status, phase or byte-total change is written at once, with the numbers held before it', () => {
    const id = running();
    jobs.update(id, { phase: 'Transfer', ...moved }, { skipUnchanged: true });
    expect(table().require(id).bytesTransferred).toBe(100);
    jobs.update(id, { phase: 'Finalizing', ...moved }, { skipUnchanged: true });
    expect(table().require(id)).toMatchObject({ phase: 'Finalizing', ...moved });
    // A disk whose total changed is written at once too.
    jobs.updateJobDisk(id, 'disk-2001', { status: 'transferring', percent: 0, bytesTransferred: 0, totalBytes: 500 });
    expect(table().jobDisks(id)[1]).toMatchObject({ status: 'transferring', totalBytes: 500 });
  });

  it('finish writes the held numbers first: the job and its CBT history keep them; an ended job has rate 0 and no ETA', () => {
    const id = running();
    jobs.update(id, { phase: 'Transfer', ...moved }, { skipUnchanged: true });
    jobs.updateJobDisk(id, 'disk-2000', { status: 'transferring', percent: 100, bytesTransferred: 1000, totalBytes: 1000 });
    jobs.recordChangeId(id, 'disk-2000', 'a/1');
    jobs.recordChangeId(id, 'disk-2001', 'b/1');
    expect(jobs.finish(id, 'completed', null)).toBe(true);
    expect(table().require(id)).toMatchObject({ status: 'completed', progressPercent: 100, bytesTransferred: 400, rateBps: 0, etaSeconds: null });
    const history = jobs.cbtHistory(table().require(id).vmContextId);
    expect(history.find((h) => h.diskKey === 'disk-2000')?.bytesTransferred).toBe(1000);
    expect(jobs.persistHeldProgress()).toBe(0);
  });

  it('a failed job keeps the bytes it had moved', () => {
    const id = running();
    jobs.update(id, { phase: 'Transfer', ...moved }, { skipUnchanged: true });
    jobs.updateJobDisk(id, 'disk-2000', { status: 'transferring', percent: 40, bytesTransferred: 400, totalBytes: 1000 });
    jobs.finish(id, 'failed', 'stalled');
    expect(table().require(id)).toMatchObject({ status: 'failed', progressPercent: 40, bytesTransferred: 400, rateBps: 0, etaSeconds: null });
    expect(table().jobDisks(id)[0]).toMatchObject({ status: 'failed', percent: 40, bytesTransferred: 400 });
  });

  it("a change-ID callback writes that job's held numbers before the disk's id", () => {
    const id = running();
    jobs.update(id, { phase: 'Transfer', ...moved }, { skipUnchanged: true });
    jobs.updateJobDisk(id, 'disk-2000', { status: 'transferring', percent: 40, bytesTransferred: 400, totalBytes: 1000 });
    expect(jobs.recordChangeId(id, 'disk-2000', 'a/2')).toBe('recorded');
    expect(table().require(id)).toMatchObject(moved);
    expect(table().jobDisks(id)[0]).toMatchObject({ status: 'completed', percent: 100, bytesTransferred: 1000, changeId: 'a/2' });
    expect(jobs.pollDisks(id)[0]).toMatchObject({ status: 'completed', percent: 100, bytesTransferred: 1000, changeId: 'a/2' });
  });

  it('Core.close writes the held numbers; a reopened data directory reads them', async () => {
    const dataDir = path.join(dir, 'core');
    const noSecrets = { unavailableReason: () => 'none', set() { throw new Error('no'); }, get: () => null, delete() {} };
    let core = new Core({ dataDir, transport: 'cli', secrets: noSecrets });
    const contextsOfCore = new VmContextRepository(core.db);
    const ctx = contextsOfCore.add({
      vm: { ...sampleVm('closing'), vmwareVmId: 'id-closing' },
      vcenterHost: 'vc.test.invalid',
      credentialId: null,
      vmaApplianceId: null,
    });
    const j = core.jobs.claim({ contextId: ctx.id, trigger: 'ui' });
    core.jobs.update(j.id, { status: 'replicating', phase: 'Transfer', totalBytes: 1000 });
    core.jobs.update(j.id, { phase: 'Transfer', ...moved }, { skipUnchanged: true });
    expect(new JobRepository(core.db).require(j.id).bytesTransferred).toBe(0);
    await core.close();
    core = new Core({ dataDir, transport: 'cli', secrets: noSecrets });
    expect(core.jobs.require(j.id)).toMatchObject({ status: 'replicating', ...moved });
    await core.close();
  });

  it('a batch that rolls back leaves nothing in memory that the table does not hold', () => {
    const id = running();
    expect(() =>
      jobs.batch(() => {
        jobs.update(id, { phase: 'Finalizing' }, { skipUnchanged: true });
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(jobs.pollView(id)).toMatchObject({ phase: 'Transfer' });
    expect(jobs.require(id).phase).toBe('Transfer');
  });

  it('polled(): a job whose appliance was removed reads as having none', () => {
    const id = running();
    db.prepare(`INSERT INTO appliances (id, kind, name, host, port, username, auth_method, created_at, updated_at) VALUES ('app-x','vma','x','h',22,'u','password','t','t')`).run();
    jobs.addPolled(id, 'app-x');
    expect(jobs.polled()[0]).toMatchObject({ jobId: id, applianceId: 'app-x' });
    expect(jobs.polledAppliance(id)).toBe('app-x');
    db.prepare(`DELETE FROM appliances WHERE id = 'app-x'`).run();
    expect(jobs.polled()[0]).toMatchObject({ jobId: id, applianceId: null });
    expect(jobs.polledAppliance(id)).toBeNull();
  });
});
