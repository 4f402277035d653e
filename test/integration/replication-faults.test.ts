import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import type { ReplicationJob } from '../../shared/domain';
import { expectTargetsEqualSources as expectTargetsEqualSourcesOf } from '../fixtures/disk-compare';
import { labVm, startRig, type Rig } from '../lab/rig';
import { TestClock } from '../lab/test-clock';
import type { SimVmSpec } from '../sim/vma/index';
import { waitForWithin } from '../fixtures/wait';

// The replication engine under faults, against the lab: simulated VMA + CloudStack, real sshd, real
// nbdkit started over SSH, real bytes over NBD. Every scenario must end with a free VM context and a
// job whose status and error say what happened.
const MiB = 1024 * 1024;
const SLOW = 2 * MiB;
let rig: Rig;
let ids: Record<string, string>;
// Stall and not-found periods are long: only a test that froze or lost its copy passes one, by moving
// the clock (see passPeriod). The setup lease is longer than all those moves together, so a job in a
// setup step is never taken for an orphan.
const clock = new TestClock();
const PERIOD_MS = 10 * 60_000;

const vm = (name: string, n: number, diskMiB: number[]): SimVmSpec => labVm(name, `4205aaaa-0000-4000-8000-${String(n).padStart(12, '0')}`, diskMiB);

const INVENTORY = [
  vm('crash1', 1, [8]),
  vm('vmarestart1', 2, [8]),
  vm('attach1', 3, [4]),
  vm('export1', 4, [4]),
  vm('console1', 5, [6, 4]),
  vm('twin1', 6, [4]),
  vm('cancel1', 7, [8]),
  vm('cancelstart1', 8, [8]),
  vm('held1', 9, [4]),
  vm('stallclean1', 10, [8]),
  vm('lostclean1', 11, [4]),
];

beforeAll(async () => {
  rig = await startRig({
    inventory: INVENTORY,
    core: {
      engine: {
        now: clock.now,
        setupLeaseMs: 24 * 60 * 60_000,
        poller: { intervalMs: 200, stallMs: PERIOD_MS, notFoundGraceMs: PERIOD_MS, unreachableFailMs: 60 * 60_000 },
      },
    },
    ...(process.env.MKC_RIG_LOG ? { log: (l: string) => console.log('[vma]', l) } : {}),
  });
  ids = await rig.manage(INVENTORY.map((v) => v.name));
  await rig.core.startBackground();
});
afterAll(async () => {
  await rig?.close();
});
afterEach(() => {
  rig.vma.faults.clearErrors();
  rig.vma.faults.recover();
  rig.vma.speed.bytesPerSecond = 0;
  rig.vma.faults.setLatency(0, 'replicate');
  rig.cloudstack.faults.clear();
});

const waitFor = waitForWithin(60_000);

/** Waits until the job copies bytes (the VMA is mid-transfer). */
const midTransfer = (jobId: string) =>
  waitFor(`${jobId} mid-transfer`, () => {
    const j = rig.core.jobs.get(jobId);
    if (j && ['completed', 'failed', 'cancelled'].includes(j.status)) throw new Error(`${jobId} ended early: ${j.status} ${j.error}`);
    return j?.status === 'replicating' && j.bytesTransferred > 0 ? j : null;
  });

const polledRow = (jobId: string) => rig.core.jobs.polled().find((p) => p.jobId === jobId);

/**
 * Once the poller has seen the condition the test set up (`seen`), moves the clock past the stall and
 * not-found period until the job ends. It moves only while this job is the only one running: any other
 * job's period would pass with it. It moves again if the first move met an answer already under way
 * (a last progress frame resets the stall period).
 */
async function passPeriod(jobId: string, seen: () => boolean): Promise<ReplicationJob> {
  await waitFor(`the poller to see ${jobId}'s fault`, seen);
  let movedAt = 0;
  await waitFor(`${jobId} to end once its period passed`, () => {
    const j = rig.core.jobs.require(jobId);
    if (['completed', 'failed', 'cancelled'].includes(j.status)) return j;
    if (Date.now() - movedAt >= 1_000) {
      expect(rig.core.jobs.activeCount(), 'jobs running while the clock moves').toBe(1);
      clock.advance(PERIOD_MS + 1_000);
      movedAt = Date.now();
    }
    return null;
  });
  return rig.core.engine.whenSettled(jobId);
}

/** The copier is frozen: a poll that began after the freeze has been answered. */
const frozenSeen = (jobId: string) => {
  const frozenAt = clock.now();
  return () => {
    const p = polledRow(jobId);
    return !!p?.lastPollAt && Date.parse(p.lastPollAt) > frozenAt + 400;
  };
};

function expectFree(name: string): void {
  const ctx = rig.core.contexts.require(ids[name]!);
  expect(ctx.currentJobId, `${name} holds no job`).toBeNull();
  expect(ctx.status).not.toBe('replicating');
}

function expectEnded(job: ReplicationJob, status: 'failed' | 'cancelled', error: RegExp): void {
  expect(job.status).toBe(status);
  expect(job.error).toMatch(error);
  expect(job.completedAt).not.toBeNull();
  expect(rig.core.jobs.polled().some((p) => p.jobId === job.id)).toBe(false);
  expect(rig.core.logbook.operation(job.id)?.status).toBe(status);
}

const expectTargetsEqualSources = (name: string) => expectTargetsEqualSourcesOf(rig, ids[name]!, name);

/** The simulated disks start nearly empty (a few blocks): write data so a slow copy takes seconds. */
async function fill(name: string, seed: number): Promise<void> {
  const spec = INVENTORY.find((v) => v.name === name)!;
  for (const d of spec.disks) await rig.vma.mutateDisk(name, d.key, { blocks: Math.round((d.capacityBytes / (64 * 1024)) * 0.9), seed: seed + d.key });
}

const start = (name: string) => rig.core.engine.start(ids[name]!, { trigger: 'cli' });

describe('replication under faults', () => {
  it('a VMA copier that crashes mid-transfer is failed as stalled', async () => {
    await fill('crash1', 1);
    rig.vma.speed.bytesPerSecond = SLOW;
    const { jobId } = await start('crash1');
    await midTransfer(jobId);
    rig.vma.faults.crash(jobId);
    const job = await passPeriod(jobId, frozenSeen(jobId));
    expectEnded(job, 'failed', /^stalled: no progress for \d+ min \(last: Transfer \d+ %\)/);
    expect(job.progressPercent).toBeGreaterThan(0);
    expect(job.progressPercent).toBeLessThan(100);
    expectFree('crash1');
    expect(rig.core.contexts.require(ids.crash1!)).toMatchObject({ status: 'failed', lastError: job.error });
  });

  it('a VMA restart mid-copy fails the job as lost, never as done', async () => {
    await fill('vmarestart1', 2);
    rig.vma.speed.bytesPerSecond = SLOW;
    const { jobId } = await start('vmarestart1');
    await midTransfer(jobId);
    rig.vma.faults.restart();
    const job = await passPeriod(jobId, () => !!polledRow(jobId)?.notFoundSince);
    expectEnded(job, 'failed', /^lost: the VMA no longer knows this job/);
    expect(rig.core.jobs.jobDisks(jobId).map((d) => d.status)).toEqual(['failed']);
    expectFree('vmarestart1');
  });

  it("another process holding the VMA's callback port fails the job before replicate, naming the port; the copy starts once it is ours", async () => {
    const vmaId = rig.vmaAppliance.id;
    const port = rig.vmaAppliance.callbackPort;
    await rig.core.appliances.disconnect(vmaId);
    // The sshd of the lab VMA runs on this machine: its remote forward binds this machine's loopback.
    const holder = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    try {
      await rig.core.appliances.connect(vmaId);
      // The tunnel reads ready, and its state says the forward is refused and why.
      const refused = await waitFor('forward refused in the tunnel state', () =>
        rig.core.appliances.tunnelStates().find((t) => t.applianceId === vmaId && t.callbackForward?.state === 'refused'),
      );
      expect(refused.state).toBe('ready');
      expect(refused.callbackForward).toMatchObject({ port, reason: expect.stringMatching(/refused to forward 127\.0\.0\.1:\d+/) });
      const replicatesBefore = rig.vma.requests.filter((r) => r.endpoint === 'replicate').length;
      const { jobId } = await start('held1');
      const job = await rig.core.engine.whenSettled(jobId);
      expectEnded(job, 'failed', new RegExp(`callback forward on .* 127\\.0\\.0\\.1:${port} is not bound.*Another process or SSH session on the VMA probably holds that port`));
      expect(rig.vma.requests.filter((r) => r.endpoint === 'replicate').length).toBe(replicatesBefore);
      expect(rig.core.logbook.steps(jobId).at(-1)).toMatchObject({ name: 'Start the copy on the VMA', status: 'failed' });
      expectFree('held1');
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    // The forward is requested again while the link is up; once bound, the copy runs with our token.
    await waitFor('callback forward bound', () => rig.core.appliances.callbackForward(vmaId)?.state === 'active', 20_000);
    expect(rig.core.appliances.tunnelStates().find((t) => t.applianceId === vmaId)?.callbackForward).toEqual({ state: 'bound', port, reason: null });
    const again = await start('held1');
    const ok = await rig.core.engine.whenSettled(again.jobId);
    expect(ok.status).toBe('completed');
    const sent = rig.vma.requests.filter((r) => r.endpoint === 'replicate').at(-1)!.body as { oma_url: string };
    expect(sent.oma_url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/[A-Za-z0-9_-]{32}$`));
    await expectTargetsEqualSources('held1');
  });

  it("a CloudStack attach failure fails the job with CloudStack's errortext; the next start works", async () => {
    rig.cloudstack.faults.failAsync('attachVolume', 'Insufficient capacity on the OMA host for this volume', 1);
    const { jobId } = await start('attach1');
    const job = await rig.core.engine.whenSettled(jobId);
    expectEnded(job, 'failed', /Insufficient capacity on the OMA host for this volume/);
    const steps = rig.core.logbook.steps(jobId);
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ['Provision volumes', 'completed'],
      ['Attach volumes to the OMA appliance', 'failed'],
    ]);
    expectFree('attach1');
    expect(rig.core.contexts.require(ids.attach1!).lastError).toMatch(/Insufficient capacity/);

    const again = await start('attach1');
    const ok = await rig.core.engine.whenSettled(again.jobId);
    expect(ok.error).toBeNull();
    expect(ok.status).toBe('completed');
    expect(ok.jobType).toBe('initial');
    // The volume created by the failed job is reused, not leaked.
    expect(rig.core.jobs.jobDisks(again.jobId)[0]!.volumeId).toBe(rig.core.jobs.jobDisks(jobId)[0]!.volumeId);
    await expectTargetsEqualSources('attach1');
    expect(rig.core.contexts.require(ids.attach1!)).toMatchObject({ status: 'ready_for_failover', currentJobId: null, failedJobs: 1, successfulJobs: 1 });
  });

  it('an export whose by-id device never appears fails the job naming the volume and device', async () => {
    const oma = rig.omaAppliance.id;
    const settings = rig.core.appliances.record(oma).settings;
    expect(settings.oma).toBeTruthy();
    rig.core.appliances.setSettings(oma, { ...settings, deviceWaitMs: 1_500 });
    rig.cloudstack.faults.byIdLinkDelayMs = 120_000;
    try {
      const { jobId } = await start('export1');
      const job = await rig.core.engine.whenSettled(jobId);
      const volumeId = rig.core.jobs.jobDisks(jobId)[0]!.volumeId!;
      expect(volumeId).toBeTruthy();
      expectEnded(job, 'failed', /did not appear on the OMA appliance/);
      expect(job.error).toContain(volumeId);
      expect(job.error).toContain(`${rig.byIdDir}/virtio-${volumeId.replace(/-/g, '').slice(0, 20)}`);
      expect(rig.core.logbook.steps(jobId).at(-1)).toMatchObject({ name: 'Publish NBD exports', status: 'failed' });
      expectFree('export1');
      // Nothing was sent to the VMA.
      expect(rig.vma.requests.some((r) => r.endpoint === 'replicate' && (r.body as { job_id?: string }).job_id === jobId)).toBe(false);
    } finally {
      rig.cloudstack.faults.byIdLinkDelayMs = 100;
      rig.core.appliances.setSettings(oma, settings);
    }
  });

  it('two simultaneous starts create one job; the other is refused with a conflict naming it', async () => {
    const results = await Promise.allSettled([start('twin1'), start('twin1')]);
    const ok = results.filter((r): r is PromiseFulfilledResult<{ jobId: string }> => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const jobId = ok[0]!.value.jobId;
    const e = refused[0]!.reason as AppError;
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe('conflict');
    expect(e.message).toContain(jobId);
    expect(rig.core.jobs.list({ contextId: ids.twin1! })).toHaveLength(1);
    const job = await rig.core.engine.whenSettled(jobId);
    expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: null });
    expect(rig.core.contexts.require(ids.twin1!)).toMatchObject({ totalJobs: 1, currentJobId: null });
  });

  it('cancelling a running job stops the copy on the VMA and frees the VM; deleting a job with its volumes makes the next sync initial', async () => {
    const first = await start('cancel1');
    expect((await rig.core.engine.whenSettled(first.jobId)).status).toBe('completed');
    const oldVolume = rig.core.contexts.disks(ids.cancel1!)[0]!.cloudstackVolumeId!;

    rig.vma.speed.bytesPerSecond = SLOW;
    await rig.vma.mutateDisk('cancel1', 2000, { blocks: 64, seed: 7 });
    const { jobId } = await start('cancel1');
    expect(rig.core.jobs.require(jobId).jobType).toBe('incremental');
    await midTransfer(jobId);
    const cancelled = await rig.core.engine.cancel(jobId);
    expectEnded(cancelled, 'cancelled', /Cancelled by the operator/);
    expect(rig.vma.requests.some((r) => r.endpoint === 'cleanup' && (r.body as { job_id?: string }).job_id === jobId)).toBe(true);
    expect(rig.vma.jobs.get(jobId)?.state).not.toBe('running');
    expectFree('cancel1');
    // The cancelled incremental had written blocks: the replica is torn, not ready for failover.
    expect(rig.core.contexts.require(ids.cancel1!)).toMatchObject({ status: 'failed', replicaTornJobId: jobId });
    // A late poll cannot turn the cancelled job into anything else.
    await new Promise((r) => setTimeout(r, 600));
    expect(rig.core.jobs.require(jobId).status).toBe('cancelled');
    rig.vma.speed.bytesPerSecond = 0;

    await rig.core.engine.deleteJob(first.jobId, true);
    expect(rig.core.jobs.get(first.jobId)).toBeNull();
    expect(rig.cloudstack.state.volumes.has(oldVolume)).toBe(false);
    expect(rig.core.contexts.disks(ids.cancel1!)[0]).toMatchObject({ cloudstackVolumeId: null, lastChangeId: null });

    const next = await start('cancel1');
    const job = await rig.core.engine.whenSettled(next.jobId);
    expect(job.status).toBe('completed');
    expect(job.jobType).toBe('initial');
    expect(rig.core.jobs.jobDisks(next.jobId)[0]).toMatchObject({ syncType: 'initial', previousChangeId: null });
    expect(rig.core.contexts.disks(ids.cancel1!)[0]!.cloudstackVolumeId).not.toBe(oldVolume);
    // The VMA copied the whole disk, not just the blocks changed since the deleted replica.
    const transfer = rig.vma.jobs.get(next.jobId)!.history.filter((h) => h.phase === 'Transfer');
    expect(new Set(transfer.map((h) => h.syncType))).toEqual(new Set(['full']));
    await expectTargetsEqualSources('cancel1');
  });

  it('cancelling while the VMA is accepting the job stops the copy that request started', async () => {
    await fill('cancelstart1', 4);
    rig.vma.speed.bytesPerSecond = SLOW;
    rig.vma.faults.setLatency(1_000, 'replicate');
    const { jobId } = await start('cancelstart1');
    await waitFor('replicate request sent', () => rig.vma.requests.some((r) => r.endpoint === 'replicate' && (r.body as { job_id?: string }).job_id === jobId));
    expect(rig.core.jobs.require(jobId).status).toBe('starting');
    const cancelled = await rig.core.engine.cancel(jobId);
    expectEnded(cancelled, 'cancelled', /Cancelled by the operator/);
    expectFree('cancelstart1');
    // The VMA accepted the job after the cancel began: it must have been told to stop it.
    const sim = await waitFor('the VMA to know the job', () => rig.vma.jobs.get(jobId));
    await new Promise((r) => setTimeout(r, 300));
    expect(rig.vma.jobs.get(jobId)!.state, `VMA copy of ${sim.jobId} after cancel`).not.toBe('running');
    const cleanups = rig.vma.requests.filter((r) => r.endpoint === 'cleanup' && (r.body as { job_id?: string }).job_id === jobId);
    expect(cleanups.length).toBeGreaterThan(0);
  });

  /**
   * The job has ended; its cleanup request reached the VMA and failed there, so the VMA's status still
   * says `running` (it does until the job is cleaned up): a new start is refused naming the job, and
   * once a cleanup goes through the next sync runs and is bit-identical.
   */
  async function expectCleanupBlocksUntilDone(name: string, jobId: string): Promise<void> {
    await waitFor('the cleanup request', () => rig.core.logbook.events({ operationId: jobId }).find((e) => /VMA cleanup of the abandoned copy failed/.test(e.message)));
    const cleanups = () => rig.vma.requests.filter((r) => r.endpoint === 'cleanup' && (r.body as { job_id?: string }).job_id === jobId);
    expect(cleanups().map((r) => (r.body as { action?: string }).action)).toEqual(['cleanup_all']);
    expect(rig.vma.jobs.get(jobId)!.state).toBe('running');
    const refused = (await start(name).catch((e: unknown) => e)) as AppError;
    expect(refused).toBeInstanceOf(AppError);
    expect(refused.code).toBe('conflict');
    expect(refused.message).toMatch(new RegExp(`The VMA still runs the copy of ${name}'s previous job ${jobId} \\(failed\\); it was asked again to stop it`));
    expect(rig.core.jobs.list({ contextId: ids[name]! }).map((j) => j.id)).toEqual([jobId]);
    // The VMA cleans up once its errors stop: the conflict's own request, or the next start's.
    rig.vma.faults.clearErrors();
    rig.vma.faults.recover();
    const next = await waitFor('a start the VMA no longer blocks', async () => {
      const r = await start(name).catch((e: unknown) => e);
      if (r instanceof AppError && r.code === 'conflict') {
        await new Promise((res) => setTimeout(res, 200));
        return null;
      }
      if (r instanceof Error) throw r;
      return r as { jobId: string };
    });
    expect(rig.vma.jobs.get(jobId)!.state).toBe('failed');
    expect(cleanups().length).toBeGreaterThanOrEqual(2);
    const job = await rig.core.engine.whenSettled(next.jobId);
    expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: null });
    await expectTargetsEqualSources(name);
  }

  it('a stalled job asks the VMA to clean it up; while the VMA still runs that copier a new start is refused naming it', async () => {
    await fill('stallclean1', 5);
    rig.vma.speed.bytesPerSecond = SLOW;
    rig.vma.faults.injectError('cleanup', { status: 500, text: 'Cleanup failed: vCenter session expired', times: Infinity });
    const { jobId } = await start('stallclean1');
    await midTransfer(jobId);
    rig.vma.faults.crash(jobId);
    const job = await passPeriod(jobId, frozenSeen(jobId));
    expectEnded(job, 'failed', /^stalled: /);
    rig.vma.speed.bytesPerSecond = 0;
    await expectCleanupBlocksUntilDone('stallclean1', jobId);
  });

  it('a lost job (the copy never reported progress) asks the VMA to clean it up; while the VMA still runs that copier a new start is refused naming it', async () => {
    rig.vma.faults.injectError('cleanup', { status: 500, text: 'Cleanup failed: vCenter session expired', times: Infinity });
    // Every new copier freezes before its first progress push: progress stays 404, status says running.
    rig.vma.faults.crash();
    const { jobId } = await start('lostclean1');
    const job = await passPeriod(jobId, () => {
      const p = polledRow(jobId);
      return !!p?.notFoundSince && !p.firstSeenAt;
    });
    expectEnded(job, 'failed', /^lost: the VMA never reported progress for this job/);
    await expectCleanupBlocksUntilDone('lostclean1', jobId);
  });

  // Last: it replaces rig.core.
  it('a console restart mid-sync reconciles the same job, which completes with identical bytes and every change id kept: the next sync is incremental and identical too', async () => {
    await fill('console1', 3);
    rig.vma.speed.bytesPerSecond = SLOW;
    const { jobId } = await start('console1');
    await midTransfer(jobId);
    // The copier pauses while the console is away (it would otherwise finish a disk and lose that
    // disk's change-ID callback, reference/vma-api.md): the restart happens mid-disk, as intended.
    rig.vma.faults.hold();
    let held = true;
    try {
      // The restarted console keeps the rig's long stall period and clock: the held copy stands still until released.
      await rig.restartCore();
      expect(rig.core.jobs.require(jobId).status).toBe('replicating');
      await rig.core.startBackground();
      await waitFor('callback forward bound by the restarted console', () => rig.core.appliances.callbackForward(rig.vmaAppliance.id)?.state === 'active', 30_000);
      rig.vma.faults.release();
      held = false;
    } finally {
      if (held) rig.vma.faults.release();
    }
    const job = await rig.core.engine.whenSettled(jobId);
    expect(job.error).toBeNull();
    expect(job.status).toBe('completed');
    expect(rig.core.jobs.list({ contextId: ids.console1! })).toHaveLength(1);
    expect(rig.core.logbook.events({ operationId: jobId }).some((e) => /Console restarted/.test(e.message))).toBe(true);
    expectFree('console1');
    await expectTargetsEqualSources('console1');
    // Every disk reported its change id to the restarted console: none is lost.
    const reported = rig.core.jobs.jobDisks(jobId).map((d) => d.changeId);
    expect(reported.every((id) => id !== null && /\/\d+$/.test(id))).toBe(true);
    expect(rig.core.contexts.disks(ids.console1!).map((d) => d.lastChangeId)).toEqual(reported);

    // The next sync is incremental from exactly those ids and bit-identical.
    rig.vma.speed.bytesPerSecond = 0;
    await rig.vma.mutateDisk('console1', 2000, { blocks: 7, seed: 51 });
    await rig.vma.mutateDisk('console1', 2001, { blocks: 5, seed: 52 });
    const next = await start('console1');
    const done = await rig.core.engine.whenSettled(next.jobId);
    expect({ status: done.status, error: done.error, jobType: done.jobType }).toEqual({ status: 'completed', error: null, jobType: 'incremental' });
    expect(rig.core.jobs.jobDisks(next.jobId).map((d) => [d.syncType, d.previousChangeId])).toEqual(reported.map((id) => ['incremental', id]));
    const transfer = rig.vma.jobs.get(next.jobId)!.history.filter((h) => h.phase === 'Transfer');
    expect(new Set(transfer.map((h) => h.syncType))).toEqual(new Set(['incremental']));
    await expectTargetsEqualSources('console1');
  });
});
