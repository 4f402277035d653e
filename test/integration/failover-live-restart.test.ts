import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILOVER_PHASES } from '../../shared/failover';
import { expectTargetsEqualSources } from '../fixtures/disk-compare';
import { replicasOnOma, startLiveFailoverRig } from '../lab/failover-rig';
import type { Rig } from '../lab/rig';
import { waitForWithin } from '../fixtures/wait';

// An owner restart in the middle of a live failover, after the source was powered off: during the
// final sync (the old owner must not wait for it to stop) and after it (the VM already
// failed_over_live). Either way the next owner compensates it to a truthful state: failed with the
// reason, the replica back on the OMA appliance, the source powered back on, nothing left in CloudStack.
let rig: Rig;
let ctxId: string;
const MiB = 1024 * 1024;

const onOma = () => replicasOnOma(rig, ctxId);

const waitFor = waitForWithin(120_000, { intervalMs: 5 });

beforeAll(async () => {
  ({ rig, ctxId } = await startLiveFailoverRig({ pollIntervalMs: 25, runningWaitMs: 10_000, retryDelayMs: 100, powerPollMs: 50 }));
});
afterAll(async () => {
  rig?.vma.faults.release();
  await rig?.close();
});

/** The compensated end state every restart must reach. */
async function expectCompensated(failoverId: string): Promise<void> {
  const f = await rig.core.failover.whenSettled(failoverId);
  expect(f.status).toBe('failed');
  expect(f.error).toContain('restarted');
  expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
  expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOn');
  if (f.cloudstackVmId) expect(rig.cloudstack.state.vms.has(f.cloudstackVmId)).toBe(false);
  expect(rig.cloudstack.state.snapshots.size).toBe(0);
  expect(onOma()).toEqual([true, true]);
  expect(rig.core.jobs.active().filter((j) => j.vmContextId === ctxId)).toEqual([]);
}

describe('owner restart mid live failover', { timeout: 400_000 }, () => {
  it('during the final sync: the old owner stops without waiting for it, the next one cancels it and compensates; the next sync is bit-identical', async () => {
    await rig.vma.mutateDisk('pgtest1', 2000, { blocks: 64, seed: 701 });
    await rig.vma.mutateDisk('pgtest1', 2001, { blocks: 64, seed: 702 });
    rig.vma.speed.bytesPerSecond = 2 * MiB;
    const started = await rig.core.failover.start(ctxId, { kind: 'live', confirmName: 'pgtest1' });
    const job = await waitFor('the final sync copying', () => {
      const f = rig.core.failover.get(started.id);
      if (!['pending', 'validating', 'powering_off', 'final_sync'].includes(f.status)) throw new Error(`the failover went on to ${f.status} ${f.error}`);
      const j = rig.core.jobs.active().find((x) => x.vmContextId === ctxId && x.trigger === 'failover');
      return f.status === 'final_sync' && j?.status === 'replicating' && j.bytesTransferred > 0 ? j : null;
    });
    expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOff');
    rig.vma.faults.hold();
    // Would hang (the failover waiting for a job the stopped poller no longer follows) without the interrupt.
    await rig.restartCore();
    const left = rig.core.failover.get(started.id);
    expect(left.status).toBe('final_sync');
    expect(rig.core.contexts.require(ctxId).status).toBe('failing_over');
    expect(rig.core.logbook.steps(started.id).find((s) => s.name === FAILOVER_PHASES.finalSync)?.status).toBe('cancelled');
    await rig.core.startBackground();
    rig.vma.faults.release();
    rig.vma.speed.bytesPerSecond = 1024 * MiB;
    await expectCompensated(started.id);
    expect(rig.core.jobs.require(job.id).status).toBe('cancelled');
    const events = rig.core.logbook.events({ operationId: started.id }).map((e) => e.message);
    expect(events.some((m) => m.includes(`Final sync ${job.id} cancelled`))).toBe(true);
    expect(events.some((m) => /restarted while this was final_sync/.test(m))).toBe(true);
    // The replica is usable: the next sync completes and the targets hold the source's bytes.
    const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
    expect((await rig.core.engine.whenSettled(jobId)).status).toBe('completed');
    await expectTargetsEqualSources(rig, ctxId, 'pgtest1');
  });

  it('after the final sync (failed_over_live, VM being created): the next owner removes the VM, reattaches the volumes and powers the source on', async () => {
    await rig.vma.mutateDisk('pgtest1', 2000, { blocks: 2, seed: 711 });
    const started = await rig.core.failover.start(ctxId, { kind: 'live', confirmName: 'pgtest1' });
    await waitFor('the VM being created after the final sync', () => {
      const f = rig.core.failover.get(started.id);
      if (['completed', 'failed', 'cleanup_required'].includes(f.status)) throw new Error(`the failover ended ${f.status} ${f.error}`);
      return f.phase === FAILOVER_PHASES.replaceRoot || f.phase === FAILOVER_PHASES.moveVolumes ? f : null;
    });
    await rig.restartCore();
    const left = rig.core.failover.get(started.id);
    expect(left.status).toBe('creating_vm');
    expect(left.cloudstackVmId).toBeTruthy();
    expect(rig.core.contexts.require(ctxId).status).toBe('failed_over_live');
    expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOff');
    await rig.core.startBackground();
    await expectCompensated(started.id);
    await expectTargetsEqualSources(rig, ctxId, 'pgtest1');
  });
});
