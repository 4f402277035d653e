import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectTargetsEqualSources as expectTargetsEqualSourcesOf } from '../fixtures/disk-compare';
import { startRig, smallInventory, type Rig } from '../lab/rig';

// The canonical path end to end against the lab: simulated VMA + CloudStack, real sshd, real nbdkit
// started over SSH by the console's OMA manager, real bytes written over NBD.
let rig: Rig;
let ctxId: string;
const MiB = 1024 * 1024;
/** Every command the console ran on the OMA appliance over SSH (one exec = one round trip). */
const omaCommands: string[] = [];

beforeAll(async () => {
  rig = await startRig({ inventory: smallInventory(), ...(process.env.MKC_RIG_LOG ? { log: (l: string) => console.log('[vma]', l) } : {}) });
  ctxId = (await rig.manage(['pgtest1'])).pgtest1!;
  // Counts the SSH commands the engine sends to the OMA appliance: the engine's OMA port asks the
  // appliance service for its shell at each sync.
  const appliances = rig.core.appliances;
  const shellOf = appliances.shell.bind(appliances);
  appliances.shell = async (id) => {
    const shell = await shellOf(id);
    return { exec: (command, options) => (omaCommands.push(command), shell.exec(command, options)) };
  };
  await rig.core.startBackground();
});
afterAll(async () => {
  await rig?.close();
});

const expectTargetsEqualSources = async () => {
  expect(rig.core.contexts.disks(ctxId)).toHaveLength(2);
  for (const d of rig.core.contexts.disks(ctxId)) expect(d.exportName).toBe(`migration-vol-${d.cloudstackVolumeId}`);
  await expectTargetsEqualSourcesOf(rig, ctxId, 'pgtest1');
};

describe('replication integrity (2 disks of different sizes, 1 initial + 3 incremental syncs)', () => {
  it('copies both disks in full, then only changed blocks, and every target equals its source after each sync', async () => {
    const jobTypes: string[] = [];
    for (let sync = 0; sync < 4; sync++) {
      if (sync > 0) {
        await rig.vma.mutateDisk('pgtest1', 2000, { blocks: 5 + sync, seed: 100 + sync });
        await rig.vma.mutateDisk('pgtest1', 2001, { blocks: 3 + sync, seed: 200 + sync });
      }
      const commandsBefore = omaCommands.length;
      const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
      const job = await rig.core.engine.whenSettled(jobId);
      expect(job.error).toBeNull();
      // Volumes and exports exist after the first sync: an incremental publishes and checks each
      // disk's export in one SSH round trip (issue: at most one per disk when nothing changes).
      if (sync > 0) expect(omaCommands.slice(commandsBefore), 'OMA commands of an incremental sync').toHaveLength(2);
      else expect(omaCommands.length - commandsBefore).toBeGreaterThan(2);
      expect(job.status).toBe('completed');
      jobTypes.push(job.jobType);
      const disks = rig.core.jobs.jobDisks(jobId);
      expect(disks.map((d) => d.diskKey)).toEqual(['disk-2000', 'disk-2001']);
      for (const d of disks) {
        expect(d.status).toBe('completed');
        expect(d.changeId, `${d.diskKey} reported a change id`).toMatch(/\/\d+$/);
        expect(d.syncType).toBe(sync === 0 ? 'initial' : 'incremental');
        if (sync > 0) expect(d.previousChangeId).toBeTruthy();
      }
      // Change ids are per disk: never one disk's id for another.
      expect(disks[0]!.changeId).not.toBe(disks[1]!.changeId);
      await expectTargetsEqualSources();
      const ctx = rig.core.contexts.require(ctxId);
      expect(ctx.status).toBe('ready_for_failover');
      expect(ctx.currentJobId).toBeNull();
      expect(ctx.lastSuccessfulJobId).toBe(jobId);
    }
    expect(jobTypes).toEqual(['initial', 'incremental', 'incremental', 'incremental']);
    const ctx = rig.core.contexts.require(ctxId);
    expect([ctx.totalJobs, ctx.successfulJobs, ctx.failedJobs]).toEqual([4, 4, 0]);
    // One CBT history row per disk per completed sync.
    expect(rig.core.jobs.cbtHistory(ctxId)).toHaveLength(8);
    // Volumes and exports are reused by incremental syncs: exactly one volume per disk was created.
    expect(rig.cloudstack.requests.filter((r) => r.command === 'createVolume' && r.status === 200)).toHaveLength(2);
    // The VMA copied whole disks first, then only changed blocks.
    const simJobs = rig.vma.jobs.list();
    expect(simJobs).toHaveLength(4);
    simJobs.forEach((j, i) => {
      const transfer = j.history.filter((h) => h.phase === 'Transfer');
      expect(new Set(transfer.map((h) => h.syncType))).toEqual(new Set([i === 0 ? 'full' : 'incremental']));
      if (i > 0) for (const h of transfer) expect(h.totalBytes).toBeLessThan(16 * MiB);
    });
  });

  it('records every step of the job log with timings', async () => {
    const [last] = rig.core.jobs.list({ contextId: ctxId, limit: 1 });
    const steps = rig.core.logbook.steps(last!.id);
    expect(steps.map((s) => s.name)).toEqual([
      'Provision volumes',
      'Attach volumes to the OMA appliance',
      'Publish NBD exports',
      'Start the copy on the VMA',
      // The copy itself, ending with what it moved.
      'Copy on the VMA',
    ]);
    const copyEvents = rig.core.logbook.events({ operationId: last!.id }).filter((e) => e.stepId === steps.at(-1)!.id);
    expect(copyEvents.at(-1)?.message).toMatch(/^Copy on the VMA: \d+\.\d MiB of \d+\.\d MiB moved in \d+\.\d s/);
    for (const s of steps) {
      expect(s.status).toBe('completed');
      expect(s.durationMs).not.toBeNull();
    }
    expect(rig.core.logbook.operation(last!.id)?.status).toBe('completed');
  });
});
