import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDetail } from '../../shared/contract';
import type { VmContextSummary } from '../../shared/domain';
import { coreCommands } from '../../main/cli/commands-core';
import { jobCommands } from '../../main/cli/commands-jobs';
import { expectTargetsEqualSources } from '../fixtures/disk-compare';
import { labVm, startRig, type Rig } from '../lab/rig';
import { waitForWithin } from '../fixtures/wait';

// Issue 7, "ready for failover means consistent" and "bytes that were really moved", against the lab:
// simulated VMA + CloudStack, real sshd, real nbdkit, real bytes over NBD. An incremental copy that
// stops after writing blocks leaves the VM torn (not ready for failover, shown in `mkc`); the next
// sync completes, clears it and leaves bit-identical replicas; stored bytes are the VMA's own.
const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;
const NAME = 'torn1';
// Each sync runs a dozen SSH commands on the OMA fixture; on a loaded two-core machine that takes a while.
const SLOW_LAB_MS = 600_000;
let rig: Rig;
let ctxId: string;

beforeAll(async () => {
  rig = await startRig({
    inventory: [labVm(NAME, '4205bbbb-0000-4000-8000-000000000001', [4, 8])],
    core: { engine: { poller: { intervalMs: 200, stallMs: 5_000, notFoundGraceMs: 5_000, unreachableFailMs: 60_000 } } },
    ...(process.env.MKC_RIG_LOG ? { log: (l: string) => console.log('[vma]', l) } : {}),
  });
  ctxId = (await rig.manage([NAME]))[NAME]!;
  await rig.core.startBackground();
});
afterAll(async () => {
  await rig?.close();
});

const waitFor = waitForWithin(240_000);

const sync = async () => {
  const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
  return rig.core.engine.whenSettled(jobId);
};
const human = (commands: typeof coreCommands, path: string, value: unknown) => commands.find((c) => c.path.join(' ') === path)!.human!(value);
const contextsList = () => human(coreCommands, 'contexts list', rig.core.contexts.list() satisfies VmContextSummary[]);

/** What the VMA reported as the total of each disk's Transfer in one job (the last Transfer frame per disk). */
function vmaTotals(jobId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of rig.vma.jobs.get(jobId)!.history) if (h.phase === 'Transfer') out[h.diskId] = h.totalBytes;
  return out;
}

describe('torn replica and truthful bytes', () => {
  it('an incremental that stops after writing blocks leaves the VM not ready and torn; the next sync clears it with identical bytes', async () => {
    const first = await sync();
    expect(first).toMatchObject({ status: 'completed', jobType: 'initial' });
    expect(rig.core.contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });

    // Enough changed blocks that a slow copy is caught mid-transfer of the second disk.
    await rig.vma.mutateDisk(NAME, 2000, { blocks: 16, seed: 11 });
    await rig.vma.mutateDisk(NAME, 2001, { blocks: 100, seed: 12 });
    rig.vma.speed.bytesPerSecond = 1 * MiB;
    const { jobId: tornId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
    await waitFor('the second disk mid-transfer', () => {
      const d = rig.core.jobs.jobDisks(tornId);
      return d[0]!.status === 'completed' && d[1]!.status === 'transferring' && d[1]!.bytesTransferred > 0;
    });
    rig.vma.faults.crash(tornId);
    const torn = await rig.core.engine.whenSettled(tornId);
    rig.vma.speed.bytesPerSecond = 0;
    expect(torn.status).toBe('failed');
    expect(torn.error).toMatch(/^stalled/);

    const ctx = rig.core.contexts.require(ctxId);
    expect(ctx.status).not.toBe('ready_for_failover');
    expect(ctx).toMatchObject({ status: 'failed', replicaTornJobId: tornId, currentJobId: null });
    expect(contextsList()).toContain(`${NAME}: Replica torn by ${tornId}`);
    expect(contextsList()).toMatch(/failed \(replica torn\)/);
    expect(rig.core.logbook.events({ operationId: tornId }).some((e) => e.level === 'warn' && e.message.startsWith(`Replica torn by ${tornId}`))).toBe(true);

    // The next sync: the finished disk stays incremental from its new change id; the torn one is copied in full.
    const next = await sync();
    expect(next.error).toBeNull();
    expect(next.status).toBe('completed');
    expect(rig.core.jobs.jobDisks(next.id).map((d) => [d.diskKey, d.syncType])).toEqual([
      ['disk-2000', 'incremental'],
      ['disk-2001', 'initial'],
    ]);
    expect(rig.core.contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null, lastSuccessfulJobId: next.id });
    expect(contextsList()).not.toContain('Replica torn');
    await expectTargetsEqualSources(rig, ctxId, NAME);
  }, SLOW_LAB_MS);

  it("an incremental's stored bytes are the VMA's changed bytes per disk, in the job, its disks and CBT history; capacity apart", async () => {
    const changed0 = new Set(await rig.vma.mutateDisk(NAME, 2000, { blocks: 3, seed: 21 })).size * BLOCK;
    const changed1 = new Set(await rig.vma.mutateDisk(NAME, 2001, { blocks: 5, seed: 22 })).size * BLOCK;
    // Slow enough that the poller sees each disk's Transfer frames: the real progress endpoint shows
    // only the current frame, so a disk that starts and ends between two polls reports no bytes.
    rig.vma.speed.bytesPerSecond = 256 * 1024;
    const job = await sync();
    rig.vma.speed.bytesPerSecond = 0;
    expect(job).toMatchObject({ status: 'completed', jobType: 'incremental' });
    const reported = vmaTotals(job.id);
    expect(reported).toEqual({ 'disk-2000': changed0, 'disk-2001': changed1 });
    const disks = rig.core.jobs.jobDisks(job.id);
    expect(disks.map((d) => [d.diskKey, d.bytesTransferred, d.totalBytes, d.capacityBytes])).toEqual([
      ['disk-2000', changed0, changed0, 4 * MiB],
      ['disk-2001', changed1, changed1, 8 * MiB],
    ]);
    expect(job).toMatchObject({ bytesTransferred: changed0 + changed1, totalBytes: changed0 + changed1, capacityBytes: 12 * MiB });
    const history = rig.core.jobs.cbtHistory(ctxId).filter((h) => h.jobId === job.id);
    expect(Object.fromEntries(history.map((h) => [h.diskKey, h.bytesTransferred]))).toEqual(reported);
    const detail: JobDetail = { job, disks, steps: [], phases: [] };
    expect(human(jobCommands, 'jobs show', detail)).toContain(`(capacity 12.0 MiB)`);
    await expectTargetsEqualSources(rig, ctxId, NAME);
  }, SLOW_LAB_MS);
});
