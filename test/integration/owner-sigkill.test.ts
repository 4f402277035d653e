import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretStoreFromEnvironment } from '../../main/secrets/secret-store-from-env';
import { readOwner } from '../../main/owner/owner-lock';
import { expectTargetsEqualSources } from '../fixtures/disk-compare';
import { labVm, startRig, type Rig } from '../lab/rig';
import { waitForWithin } from '../fixtures/wait';
import { requireBuiltMkc, runMkc, startOwnerProcess } from '../fixtures/mkc-process';

// A real `mkc serve` owns the data directory and runs an incremental sync; it is killed with SIGKILL
// in the middle of the copy (no clean shutdown: the lock file, the SSH session and its callback
// forward die with it) and started again. The job it left must end in a truthful state (the same
// job, completed only once every disk reported its change id to the new owner), the replica must be
// bit-identical, and the next sync must be incremental from those ids and bit-identical too.
const key = `sigkill-key-${process.pid}-${Date.now()}`;
const MiB = 1024 * 1024;
const VM = 'kill1';
let rig: Rig;
let dataDir: string;
let ctxId: string;
const started: ChildProcess[] = [];
const env = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, MKC_SECRET_KEY: key });

const mkc = (args: string[]) => runMkc([...args, '--data-dir', dataDir], { env: env(), timeoutMs: 180_000 });

async function startOwner() {
  const owner = await startOwnerProcess(dataDir, env());
  started.push(owner.child);
  return owner;
}

const waitFor = waitForWithin(120_000, { intervalMs: 100 });

/** True when something accepts connections on the VMA's callback port (the owner's remote forward). */
const forwardBound = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const jobRow = (jobId: string) => rig.core.db.prepare(`SELECT status, error, job_type FROM replication_jobs WHERE id = ?`).get(jobId) as { status: string; error: string | null; job_type: string };
const jobDisks = (jobId: string) =>
  rig.core.db.prepare(`SELECT disk_key, sync_type, previous_change_id, change_id FROM job_disks WHERE job_id = ? ORDER BY disk_key`).all(jobId) as {
    disk_key: string;
    sync_type: string;
    previous_change_id: string | null;
    change_id: string | null;
  }[];

beforeAll(async () => {
  requireBuiltMkc();
  const root = fs.mkdtempSync('/tmp/mkc-sigkill-lab-');
  dataDir = path.join(root, 'data');
  rig = await startRig({
    inventory: [labVm(VM, '4205dead-0000-4000-8000-000000000001', [8, 4])],
    dataDir,
    secrets: secretStoreFromEnvironment(dataDir, { MKC_SECRET_KEY: key }),
  });
  ctxId = (await rig.manage([VM]))[VM]!;
  const oma = rig.core.appliances.record(rig.omaAppliance.id).settings.oma as Record<string, unknown>;
  rig.core.appliances.setSettings(rig.omaAppliance.id, { oma: { ...oma, commandTimeoutMs: 90_000, nbdkitStartTimeoutMs: 90_000 } });
  // The owner opens its own tunnels: release the rig's so the callback forward is the owner's.
  await rig.core.appliances.disconnect(rig.vmaAppliance.id);
});
afterAll(async () => {
  rig?.vma.faults.release();
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rig?.close();
});

describe('an owner killed with SIGKILL mid-copy', () => {
  it('the restarted owner completes the same job with every change id; replica and the next incremental are bit-identical', async () => {
    let owner = await startOwner();
    const first = await mkc(['replicate', VM]);
    expect(first.code, first.stderr).toBe(0);
    await expectTargetsEqualSources(rig, ctxId, VM);
    const base = rig.core.contexts.disks(ctxId).map((d) => d.lastChangeId);
    expect(base.every((id) => id !== null)).toBe(true);

    // Enough changed blocks that the copy takes seconds at this rate.
    await rig.vma.mutateDisk(VM, 2000, { blocks: 100, seed: 61 });
    await rig.vma.mutateDisk(VM, 2001, { blocks: 40, seed: 62 });
    rig.vma.speed.bytesPerSecond = 1 * MiB;
    const detached = await mkc(['replicate', VM, '--detach', '--json']);
    expect(detached.code, detached.stderr).toBe(0);
    const jobId = (JSON.parse(detached.stdout.slice(detached.stdout.indexOf('{'))) as { id: string }).id;
    await waitFor('the copy to be mid-transfer', () => {
      const p = rig.vma.jobs.get(jobId)?.progress;
      return p && p['phase'] === 'Transfer' && Number(p['bytes_transferred']) > 0 && p['status'] === 'in_progress';
    });
    // The copier stands still while no owner can take its callbacks (a lost callback is another test's case).
    rig.vma.faults.hold();
    const killed = owner.child.pid;
    owner.child.kill('SIGKILL');
    await owner.exit;
    expect(readOwner(dataDir)?.pid).toBe(killed);
    // What the dead owner left is the truth at that moment: the job is still replicating, no disk reported.
    expect(jobRow(jobId).status).toBe('replicating');
    expect(jobDisks(jobId).map((d) => d.change_id)).toEqual([null, null]);
    const port = rig.vmaAppliance.callbackPort!;
    await waitFor('the dead owner’s forward to be gone', async () => !(await forwardBound(port)), 30_000);

    owner = await startOwner();
    expect(readOwner(dataDir)?.pid).toBe(owner.child.pid);
    await waitFor('the new owner’s callback forward', () => forwardBound(port), 60_000);
    rig.vma.speed.bytesPerSecond = 0;
    rig.vma.faults.release();

    const watch = await mkc(['jobs', 'watch', jobId]);
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout).toMatch(new RegExp(`${jobId} completed$`, 'm'));
    expect(jobRow(jobId)).toEqual({ status: 'completed', error: null, job_type: 'incremental' });
    const reported = jobDisks(jobId);
    expect(reported.map((d) => d.previous_change_id)).toEqual(base);
    expect(reported.every((d) => d.change_id !== null && !base.includes(d.change_id))).toBe(true);
    expect(rig.core.contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', currentJobId: null, replicaTornJobId: null });
    await expectTargetsEqualSources(rig, ctxId, VM);
    const jobs = JSON.parse((await mkc(['jobs', 'list', '--vm', VM, '--json'])).stdout) as { id: string }[];
    expect(jobs).toHaveLength(2);

    // The next sync starts from the ids the new owner received and is bit-identical.
    await rig.vma.mutateDisk(VM, 2000, { blocks: 6, seed: 63 });
    await rig.vma.mutateDisk(VM, 2001, { blocks: 4, seed: 64 });
    const next = await mkc(['replicate', VM]);
    expect(next.code, next.stderr).toBe(0);
    const last = (JSON.parse((await mkc(['jobs', 'list', '--vm', VM, '--json'])).stdout) as { id: string; jobType: string; status: string }[]).find((j) => j.id !== jobId && !jobs.some((o) => o.id === j.id))!;
    expect(last).toMatchObject({ status: 'completed', jobType: 'incremental' });
    expect(jobDisks(last.id).map((d) => [d.sync_type, d.previous_change_id])).toEqual(reported.map((d) => ['incremental', d.change_id]));
    const transfer = rig.vma.jobs.get(last.id)!.history.filter((h) => h.phase === 'Transfer');
    expect(new Set(transfer.map((h) => h.syncType))).toEqual(new Set(['incremental']));
    await expectTargetsEqualSources(rig, ctxId, VM);

    owner.child.kill('SIGINT');
    expect((await owner.exit).code).toBe(0);
  }, 600_000);
});
