import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreOptions } from '../../main/core/core';
import { startRig, smallInventory, type Rig } from '../lab/rig';
import { TestClock } from '../lab/test-clock';
import { waitFor } from '../fixtures/wait';

// What a console finds on start when the previous process died in the middle of a job's setup
// (before the VMA had the job): the job must end failed with the reason and free its VM, whether its
// setup lease had already run out at start or only runs out later.
let rig: Rig;
let ids: Record<string, string>;
const POLLER = { intervalMs: 200, stallMs: 5_000, notFoundGraceMs: 5_000, unreachableFailMs: 60_000 };
// The lease is long; the test passes it by moving the restarted console's clock once the orphan is
// known to have survived the start (a loaded machine cannot run it out by accident).
const LEASE_MS = 10 * 60_000;
const clock = new TestClock();
const withLease: Partial<CoreOptions> = { engine: { setupLeaseMs: LEASE_MS, poller: POLLER, now: clock.now } };

beforeAll(async () => {
  rig = await startRig({ inventory: smallInventory(), core: { engine: { poller: POLLER } } });
  ids = await rig.manage(['web1', 'web10']);
});
afterAll(async () => {
  await rig?.close();
});

/** The database a process leaves behind when it dies during a setup step. */
function orphanInSetup(name: string, status: 'provisioning' | 'starting', updatedAt: Date): string {
  const job = rig.core.jobs.claim({ contextId: ids[name]!, trigger: 'ui' });
  rig.core.logbook.startOperation(job.id, 'replication', `Initial sync of ${name}`, ids[name]!);
  rig.core.jobs.update(job.id, { status, phase: 'Provision volumes' });
  rig.core.db.prepare(`UPDATE replication_jobs SET updated_at = ? WHERE id = ?`).run(updatedAt.toISOString(), job.id);
  return job.id;
}

describe('reconcile after a console that died mid-setup', () => {
  it('fails interrupted setups: at once when the lease ran out, and later when it runs out while the console runs', async () => {
    const stale = orphanInSetup('web1', 'starting', new Date(Date.now() - 3 * LEASE_MS));
    const fresh = orphanInSetup('web10', 'provisioning', new Date());
    await rig.restartCore(withLease);
    await rig.core.startBackground();

    // The VMA does not know the stale 'starting' job: failed at once.
    const s = rig.core.jobs.require(stale);
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/^interrupted: the console stopped while the job was starting/);
    expect(rig.core.contexts.require(ids.web1!).currentJobId).toBeNull();

    // The fresh one may still belong to a live process; once its lease runs out nobody owns it.
    expect(rig.core.jobs.require(fresh).status).toBe('provisioning');
    // Still owned a while later, by the console's own clock too (the sweep repeats, the lease holds).
    await new Promise((r) => setTimeout(r, 1_000));
    expect(rig.core.jobs.require(fresh).status).toBe('provisioning');
    clock.advance(LEASE_MS + 1_000);
    const f = await waitFor('the orphaned job to end', () => {
      const j = rig.core.jobs.require(fresh);
      return j.status === 'failed' ? j : null;
    }, 20_000);
    // Nothing else is timed now: back to real time, or the next job's setup would look abandoned.
    clock.rewind();
    expect(f.error).toMatch(/^interrupted: the console stopped while the job was provisioning/);
    const ctx = rig.core.contexts.require(ids.web10!);
    expect(ctx.currentJobId).toBeNull();
    expect(ctx.status).toBe('failed');
    expect(rig.core.logbook.operation(fresh)?.status).toBe('failed');

    // The VM is free: a new sync runs through.
    const { jobId } = await rig.core.engine.start(ids.web10!, { trigger: 'cli' });
    const job = await rig.core.engine.whenSettled(jobId);
    expect(job.error).toBeNull();
    expect(job.status).toBe('completed');
  });
});
