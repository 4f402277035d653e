// The scheduler's central rule against the lab: a scheduled job is created exactly like a UI job.
// Each goes through its own fresh discovery of the VM and the VMA receives the same replicate request
// (apart from the job id and the per-job callback token); a full-sync schedule offers no base.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, smallInventory, type Rig } from '../lab/rig';

let rig: Rig;
let ctxId: string;

beforeAll(async () => {
  rig = await startRig({ inventory: smallInventory() });
  ctxId = (await rig.manage(['web10'])).web10!;
  await rig.core.startBackground();
});
afterAll(async () => {
  await rig?.close();
});

type Body = Record<string, unknown> & { job_id: string; oma_url: string };

/** The requests the VMA saw between two indexes: discover filters and replicate bodies, in order. */
function seen(from: number, to?: number): { endpoint: string; body: unknown }[] {
  return rig.vma.requests.slice(from, to).filter((r) => r.endpoint === 'discover' || r.endpoint === 'replicate').map((r) => ({ endpoint: r.endpoint, body: r.body }));
}

describe('scheduled and UI syncs share the canonical path', () => {
  it('send identical replicate requests, each after its own fresh discovery', async () => {
    const before = rig.vma.requests.length;
    const { jobId: uiJob } = await rig.core.engine.start(ctxId, { trigger: 'ui' });
    expect((await rig.core.engine.whenSettled(uiJob)).status).toBe('completed');
    const afterUi = rig.vma.requests.length;

    const s = rig.core.scheduler.createSchedule({ name: 'canonical', cronExpression: '0 3 * * *', timezone: 'UTC' });
    const g = rig.core.groups.create({ name: 'g', description: '', scheduleId: s.id, maxConcurrentVms: 1, priority: 1, enabled: true, replicaAgeTargetSeconds: null });
    rig.core.groups.addMembers(g.id, [ctxId]);
    const e = rig.core.scheduler.runNow(s.id);
    const done = await rig.core.scheduler.whenExecutionEnds(e.id);
    expect(done).toMatchObject({ status: 'completed', started: 1, completed: 1, failed: 0 });

    const ui = seen(before, afterUi);
    const scheduled = seen(afterUi);
    for (const run of [ui, scheduled]) {
      // Discovery of this VM by name comes first, then exactly one replicate.
      expect(run.map((r) => r.endpoint)).toEqual(['discover', 'replicate']);
      expect(JSON.stringify(run[0]!.body)).toContain('web10');
    }
    const strip = (b: Body) => ({ ...b, job_id: 'X', oma_url: b.oma_url.replace(/\/[^/]+$/, '/TOKEN') });
    const [a, b] = [ui[1]!.body as Body, scheduled[1]!.body as Body];
    expect(a.job_id).toBe(uiJob);
    expect(b.job_id).not.toBe(uiJob);
    expect(a.oma_url).not.toBe(b.oma_url); // each job its own callback token
    expect(strip(b)).toEqual(strip(a));
    const job = rig.core.jobs.require(b.job_id);
    expect(job).toMatchObject({ trigger: 'scheduler', scheduleExecutionId: e.id, vmGroupId: g.id, scheduledBy: 'manual:canonical', jobType: 'incremental' });
  }, 120_000);

  it('a full-sync schedule copies every disk whole even when change ids exist', async () => {
    const s = rig.core.scheduler.createSchedule({ name: 'full', cronExpression: '0 4 * * *', timezone: 'UTC', syncType: 'full' });
    const g = rig.core.groups.create({ name: 'gf', description: '', scheduleId: s.id, maxConcurrentVms: 1, priority: 1, enabled: true, replicaAgeTargetSeconds: null });
    rig.core.groups.addMembers(g.id, [ctxId]);
    expect(rig.core.contexts.disks(ctxId).every((d) => d.lastChangeId)).toBe(true);
    const e = rig.core.scheduler.runNow(s.id);
    const done = await rig.core.scheduler.whenExecutionEnds(e.id);
    expect(done.status).toBe('completed');
    const [job] = rig.core.executions.jobIds(e.id);
    expect(rig.core.jobs.require(job!.jobId).jobType).toBe('initial');
    expect(rig.core.jobs.jobDisks(job!.jobId).every((d) => d.previousChangeId === null)).toBe(true);
  }, 120_000);

  it('a run discovers the VMs of one VMA in one request (exact names picked from the substring answer) and syncs each', async () => {
    const ids = { web10: ctxId, ...(await rig.manage(['web1', 'pgtest1'])) };
    const s = rig.core.scheduler.createSchedule({ name: 'batch', cronExpression: '0 5 * * *', timezone: 'UTC', maxConcurrentJobs: 3 });
    const g = rig.core.groups.create({ name: 'gb', description: '', scheduleId: s.id, maxConcurrentVms: 3, priority: 1, enabled: true, replicaAgeTargetSeconds: null });
    rig.core.groups.addMembers(g.id, Object.values(ids));
    const before = rig.vma.requests.length;
    const e = rig.core.scheduler.runNow(s.id);
    const done = await rig.core.scheduler.whenExecutionEnds(e.id);
    expect(done).toMatchObject({ status: 'completed', started: 3, completed: 3, failed: 0 });
    const run = seen(before);
    const discovers = run.filter((r) => r.endpoint === 'discover');
    // Counted at the VMA simulator: 3 VMs on one VMA and credential, one discovery request.
    expect(discovers).toHaveLength(1);
    expect(String((discovers[0]!.body as { filter?: string }).filter).split(',').sort()).toEqual(['pgtest1', 'web1', 'web10']);
    expect(run.filter((r) => r.endpoint === 'replicate')).toHaveLength(3);
    expect(rig.core.scheduler.discoveryRequests.get(s.id)).toBe(1);
    // web1's filter also returns web10: each job copied its own VM.
    for (const [name, id] of Object.entries(ids)) {
      const job = rig.core.executions.jobIds(e.id).find((j) => rig.core.jobs.require(j.jobId).vmContextId === id)!;
      const body = run.find((r) => r.endpoint === 'replicate' && (r.body as Body).job_id === job.jobId)!.body as { vm_paths: string[] };
      expect(body.vm_paths).toEqual([rig.core.contexts.require(id).path]);
      expect(rig.core.contexts.require(id).name).toBe(name);
    }
  }, 180_000);
});
