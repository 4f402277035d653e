import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_ID_PATTERN } from '../../main/ssh/callback-api';
import type { Appliance } from '../../shared/domain';
import { expectTargetsEqualSources } from '../fixtures/disk-compare';
import { freePort } from '../fixtures/sshd';
import { labVm, startRig, type Rig } from '../lab/rig';
import { waitForWithin } from '../fixtures/wait';

// Forged change-ID callbacks against the lab: the simulated VMA's copier calls back through a real
// sshd remote forward (the VMA's 127.0.0.1:<callback port> is this machine's loopback), and so does
// the forger, playing any other process on the VMA. Every forged POST is refused with its status
// code, nothing it carried is stored, and the next incremental is still bit-identical: a forged id
// that became the base would skip the blocks changed between the real base and the forged one.
const VM = 'forge1';
let rig: Rig;
let ctxId: string;
let otherVma: Appliance;

beforeAll(async () => {
  rig = await startRig({
    inventory: [labVm(VM, '4205f0f0-0000-4000-8000-000000000001', [6, 4])],
    ...(process.env.MKC_RIG_LOG ? { log: (l: string) => console.log('[vma]', l) } : {}),
  });
  ctxId = (await rig.manage([VM]))[VM]!;
  // A second VMA appliance (same sshd, its own callback forward): its tunnel is another VMA's tunnel.
  otherVma = rig.core.appliances.add({
    kind: 'vma',
    name: 'other-vma',
    host: '127.0.0.1',
    port: rig.sshd.port,
    username: rig.sshd.username,
    authMethod: 'private_key',
    privateKey: rig.sshd.clientPrivateKey,
    apiPort: rig.vma.port,
    callbackPort: await freePort(),
  });
  await rig.core.appliances.trustHostKey(otherVma.id, rig.sshd.hostKeyFingerprint);
  await rig.core.startBackground();
});
afterAll(async () => {
  rig?.vma.faults.release();
  await rig?.close();
});

const waitFor = waitForWithin(60_000);

/** The token the console put into this job's oma_url (what a forger would have to guess). */
function tokenOf(jobId: string): string {
  const sent = rig.vma.requests.find((r) => r.endpoint === 'replicate' && (r.body as { job_id?: string }).job_id === jobId);
  const url = new URL((sent!.body as { oma_url: string }).oma_url);
  return url.pathname.slice(1);
}

async function post(port: number, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const r = await request(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.statusCode, text: await r.body.text() };
}

async function sync(): Promise<string> {
  const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
  const job = await rig.core.engine.whenSettled(jobId);
  expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: null });
  return jobId;
}

const storedIds = () => rig.core.contexts.disks(ctxId).map((d) => d.lastChangeId);

describe('forged change-ID callbacks through the VMA tunnel', () => {
  it('no token, wrong token, finished job, wrong previous id, malformed id, another VMA tunnel: each refused, nothing stored, next incremental bit-identical', async () => {
    const port = rig.vmaAppliance.callbackPort!;
    const first = await sync();
    const firstIds = storedIds();
    expect(firstIds.every((id) => id !== null && CHANGE_ID_PATTERN.test(id))).toBe(true);
    await expectTargetsEqualSources(rig, ctxId, VM);

    // The other VMA's tunnel is up with its own forward bound.
    await rig.core.appliances.connect(otherVma.id);
    await waitFor('other VMA forward bound', () => rig.core.appliances.callbackForward(otherVma.id)?.state === 'active', 20_000);

    // A live incremental, held before its first change-ID lookup.
    await rig.vma.mutateDisk(VM, 2000, { blocks: 9, seed: 31 });
    await rig.vma.mutateDisk(VM, 2001, { blocks: 5, seed: 32 });
    rig.vma.faults.hold();
    const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
    await waitFor('the live job to replicate', () => rig.core.jobs.get(jobId)?.status === 'replicating' && rig.vma.jobs.get(jobId));
    expect(rig.core.jobs.require(jobId).jobType).toBe('incremental');
    const live = tokenOf(jobId);
    const finished = tokenOf(first);
    expect(live).not.toBe(finished);

    // Ids a forger would like to become the base (newer-looking sequence numbers than the real ones).
    const forged = '52 1a d2 3f 9e 8b 77 10-a1 b2 c3 d4 e5 f6 07 db/999';
    const postPath = (token: string | null, job: string) => `${token === null ? '' : `/${token}`}/api/v1/replications/${job}/changeid`;
    const body = (disk: string, extra: Record<string, unknown> = {}) => ({ change_id: forged, disk_id: disk, ...extra });
    const otherPort = otherVma.callbackPort!;
    const attempts: { what: string; port: number; path: string; body: unknown; status: number }[] = [
      { what: 'no token', port, path: postPath(null, jobId), body: body('disk-2000'), status: 404 },
      { what: 'wrong token', port, path: postPath(randomBytes(24).toString('base64url'), jobId), body: body('disk-2000'), status: 404 },
      { what: "finished job's token, for that job", port, path: postPath(finished, first), body: body('disk-2000'), status: 404 },
      { what: "finished job's token, for the live job", port, path: postPath(finished, jobId), body: body('disk-2001'), status: 404 },
      { what: 'wrong previous_change_id', port, path: postPath(live, jobId), body: body('disk-2000', { previous_change_id: forged.replace('/999', '/1') }), status: 409 },
      { what: 'malformed change id', port, path: postPath(live, jobId), body: { change_id: 'not-a-change-id/../../etc', disk_id: 'disk-2001' }, status: 400 },
      { what: 'overlong change id', port, path: postPath(live, jobId), body: { change_id: `${'ab '.repeat(200)}ab/1`, disk_id: 'disk-2001' }, status: 400 },
      { what: "another VMA's tunnel", port: otherPort, path: postPath(live, jobId), body: body('disk-2000'), status: 404 },
    ];
    const got: [string, number][] = [];
    for (const a of attempts) {
      const r = await post(a.port, a.path, a.body);
      got.push([a.what, r.status]);
      // Refusals are plain text and never echo the token.
      expect(r.text).not.toContain(live);
    }
    expect(got).toEqual(attempts.map((a) => [a.what, a.status]));
    // The change-ID lookup is refused the same way without the live token or on another tunnel.
    const vmPath = encodeURIComponent(rig.core.contexts.require(ctxId).path);
    for (const [p, t] of [
      [port, finished],
      [otherPort, live],
    ] as const) {
      const r = await request(`http://127.0.0.1:${p}/${t}/api/v1/replications/changeid?vm_path=${vmPath}&disk_id=disk-2000`);
      expect(r.statusCode).toBe(404);
      expect(await r.body.text()).not.toContain(firstIds[0]!);
    }

    // Nothing stored: the live job's disks have no id and are not done, the VM keeps its real base.
    expect(rig.core.jobs.jobDisks(jobId).map((d) => [d.status === 'completed', d.changeId])).toEqual([
      [false, null],
      [false, null],
    ]);
    expect(storedIds()).toEqual(firstIds);
    expect(rig.core.jobs.jobDisks(first).map((d) => d.changeId)).toEqual(firstIds);
    // A refusal naming the live job is in that job's log.
    expect(rig.core.logbook.events({ operationId: jobId }).some((e) => e.level === 'warn' && /Callback refused: .*previous change id is not the base this job used/.test(e.message))).toBe(true);
    expect(rig.core.jobs.require(jobId).status).toBe('replicating');

    // The real copier goes on: its callbacks (no previous_change_id, as the public copier) are accepted.
    rig.vma.faults.release();
    const job = await rig.core.engine.whenSettled(jobId);
    expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: null });
    const secondIds = rig.core.jobs.jobDisks(jobId).map((d) => d.changeId);
    expect(rig.core.jobs.jobDisks(jobId).map((d) => d.previousChangeId)).toEqual(firstIds);
    expect(secondIds.every((id) => id !== null && id !== forged && CHANGE_ID_PATTERN.test(id))).toBe(true);
    expect(storedIds()).toEqual(secondIds);
    await expectTargetsEqualSources(rig, ctxId, VM);

    // The next incremental starts from the real ids and is bit-identical. This time the copier also
    // sends previous_change_id (a quirk of some copier builds): the genuine one is accepted.
    rig.vma.quirks.sendPreviousChangeId = true;
    try {
      await rig.vma.mutateDisk(VM, 2000, { blocks: 4, seed: 33 });
      await rig.vma.mutateDisk(VM, 2001, { blocks: 6, seed: 34 });
      const third = await sync();
      expect(rig.core.jobs.require(third).jobType).toBe('incremental');
      expect(rig.core.jobs.jobDisks(third).map((d) => [d.syncType, d.previousChangeId])).toEqual(secondIds.map((id) => ['incremental', id]));
      const transfer = rig.vma.jobs.get(third)!.history.filter((h) => h.phase === 'Transfer');
      expect(new Set(transfer.map((h) => h.syncType))).toEqual(new Set(['incremental']));
      await expectTargetsEqualSources(rig, ctxId, VM);
    } finally {
      rig.vma.quirks.sendPreviousChangeId = false;
    }
  });

  it('an empty change id from the copier: the job completes with a warning, the id is not stored, and that disk alone is copied in full next time, bit-identical', async () => {
    const before = storedIds();
    await rig.vma.mutateDisk(VM, 2000, { blocks: 3, seed: 41 });
    await rig.vma.mutateDisk(VM, 2001, { blocks: 3, seed: 42 });
    rig.vma.quirks.emptyChangeId = (d) => d.diskId === 'disk-2001';
    let jobId: string;
    try {
      jobId = await sync();
    } finally {
      rig.vma.quirks.emptyChangeId = null;
    }
    expect(rig.core.jobs.jobDisks(jobId).map((d) => [d.diskKey, d.status, d.changeId === null])).toEqual([
      ['disk-2000', 'completed', false],
      ['disk-2001', 'completed', true],
    ]);
    const warnings = rig.core.logbook.events({ operationId: jobId }).filter((e) => e.level === 'warn').map((e) => e.message);
    expect(warnings).toContain('disk-2001 finished without a change id: its next sync will copy the whole disk');
    // The good id from before is not overwritten by the empty one.
    expect(storedIds()[1]).toBe(before[1]);
    expect(rig.core.contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', currentJobId: null });
    await expectTargetsEqualSources(rig, ctxId, VM);

    await rig.vma.mutateDisk(VM, 2000, { blocks: 2, seed: 43 });
    await rig.vma.mutateDisk(VM, 2001, { blocks: 2, seed: 44 });
    const next = await sync();
    expect(rig.core.jobs.jobDisks(next).map((d) => [d.diskKey, d.syncType])).toEqual([
      ['disk-2000', 'incremental'],
      ['disk-2001', 'initial'],
    ]);
    const done = rig.vma.jobs.get(next)!.history.filter((h) => h.phase === 'Transfer' && h.status === 'completed');
    expect(done.map((h) => [h.diskId, h.syncType])).toEqual([
      ['disk-2000', 'incremental'],
      ['disk-2001', 'full'],
    ]);
    await expectTargetsEqualSources(rig, ctxId, VM);
  });

  // Last: it replaces rig.core with one whose stall period is short.
  it('change-ID callbacks lost while our forward is down: the copy ending is never taken for completion; the job fails as stalled, the replica is torn, and the next sync copies in full, bit-identical', async () => {
    await rig.restartCore({ engine: { poller: { stallMs: 3_000 } } });
    await rig.core.startBackground();
    const vmaId = rig.vmaAppliance.id;
    const port = rig.vmaAppliance.callbackPort!;
    await rig.vma.mutateDisk(VM, 2000, { blocks: 80, seed: 71 });
    await rig.vma.mutateDisk(VM, 2001, { blocks: 40, seed: 72 });
    rig.vma.speed.bytesPerSecond = 1024 * 1024;
    const holder = net.createServer((sock) => sock.destroy());
    let holding = false;
    let jobId: string;
    try {
      ({ jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' }));
      await waitFor('mid-transfer', () => {
        const j = rig.core.jobs.get(jobId);
        return j?.status === 'replicating' && j.bytesTransferred > 0;
      });
      // The console's link drops and another process takes the VMA's callback port before it is back:
      // the copier's callbacks reach that process, not us.
      await rig.core.appliances.disconnect(vmaId);
      await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
      holding = true;
      await rig.core.appliances.connect(vmaId);
      await waitFor('the copy to end on the VMA', () => rig.vma.jobs.get(jobId)?.state === 'completed');
      rig.vma.speed.bytesPerSecond = 0;
      const job = await rig.core.engine.whenSettled(jobId);
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(/^stalled: no progress for \d+ s \(last: Transfer 100 %\)/);
    } finally {
      rig.vma.speed.bytesPerSecond = 0;
      if (holding) await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    // The copier did finish both disks and did send both callbacks; neither reached the console.
    expect(rig.vma.logs.filter((l) => l.includes(jobId) && /storing change id for disk-200[01] (failed|answered)/.test(l))).toHaveLength(2);
    expect(rig.core.jobs.jobDisks(jobId).map((d) => [d.status, d.changeId])).toEqual([
      ['failed', null],
      ['failed', null],
    ]);
    expect(rig.core.contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: jobId, currentJobId: null });
    // Giving up asked the VMA to clean the job up, so the next start is not blocked by it.
    await waitFor('cleanup sent', () => rig.vma.requests.some((r) => r.endpoint === 'cleanup' && (r.body as { job_id?: string }).job_id === jobId));

    await waitFor('our callback forward bound again', () => rig.core.appliances.callbackForward(vmaId)?.state === 'active', 30_000);
    const next = await sync();
    expect(rig.core.jobs.jobDisks(next).map((d) => [d.syncType, d.previousChangeId])).toEqual([
      ['initial', null],
      ['initial', null],
    ]);
    const done = rig.vma.jobs.get(next)!.history.filter((h) => h.phase === 'Transfer' && h.status === 'completed');
    expect(done.map((h) => h.syncType)).toEqual(['full', 'full']);
    await expectTargetsEqualSources(rig, ctxId, VM);
    expect(rig.core.contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });
  });
});
