import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretStoreFromEnvironment } from '../../main/secrets/secret-store-from-env';
import { ownerLockPath, readOwner } from '../../main/owner/owner-lock';
import { smallInventory, startRig, type Rig } from '../lab/rig';
import { requireBuiltMkc, runMkc, spawnMkc, startOwnerProcess, type WatchedMkc } from '../fixtures/mkc-process';

// One data directory, several real `mkc` processes as an operator starts them: `mkc serve` owns the
// directory; every other `mkc` is served by it over the control socket and follows jobs from its
// pushed events; a second owner is refused; a killed owner's stale lock is taken over.
const key = `owner-key-${process.pid}-${Date.now()}`;
let rig: Rig;
let dataDir: string;
const env = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, MKC_SECRET_KEY: key });

const mkc = (args: string[]) => runMkc([...args, '--data-dir', dataDir], { env: env() });
const watchMkc = (args: string[]) => spawnMkc([...args, '--data-dir', dataDir], env());

let owner: WatchedMkc | null = null;
const started: ChildProcess[] = [];

async function startOwner() {
  const o = await startOwnerProcess(dataDir, env());
  started.push(o.child);
  return o;
}

beforeAll(async () => {
  requireBuiltMkc();
  const root = fs.mkdtempSync('/tmp/mkc-owner-lab-');
  dataDir = path.join(root, 'data');
  rig = await startRig({ inventory: smallInventory(), dataDir, secrets: secretStoreFromEnvironment(dataDir, { MKC_SECRET_KEY: key }) });
  await rig.manage(['web1', 'pgtest1']);
  // Commands on the OMA (nbdkit start) get more time than the default: other test processes share the machine.
  const oma = rig.core.appliances.record(rig.omaAppliance.id).settings.oma as Record<string, unknown>;
  rig.core.appliances.setSettings(rig.omaAppliance.id, { oma: { ...oma, commandTimeoutMs: 90_000, nbdkitStartTimeoutMs: 90_000 } });
  // The owner opens its own tunnels: release the rig's so the callback forward is the owner's.
  await rig.core.appliances.disconnect(rig.vmaAppliance.id);
  owner = await startOwner();
});
afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rig?.close();
});

describe('one owner per data directory', () => {
  it('refuses a second mkc serve and names the owner', async () => {
    const info = readOwner(dataDir)!;
    expect(info).toMatchObject({ pid: owner!.child.pid, transport: 'mkc serve' });
    const second = await mkc(['serve']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`is owned by mkc serve (pid ${owner!.child.pid}, since ${info.since})`);
    expect(readOwner(dataDir)?.pid).toBe(owner!.child.pid);
  });

  it('serves mkc replicate from the owner; it follows the job and exits 0 once the owner completed it', async () => {
    const r = await mkc(['replicate', 'web1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Started job-\\S+ for web1 in mkc serve \\(pid ${owner!.child.pid}\\)`));
    expect(r.stdout).toMatch(/job-\S+ completed$/m);
    // The command never took the lock: the owner ran the job.
    expect(readOwner(dataDir)?.pid).toBe(owner!.child.pid);
    const jobs = JSON.parse((await mkc(['jobs', 'list', '--vm', 'web1', '--json'])).stdout);
    expect(jobs).toMatchObject([{ status: 'completed', jobType: 'initial' }]);
  }, 300_000);

  it('returns from replicate --detach once the owner copies, and jobs watch then reports the end', async () => {
    const r = await mkc(['replicate', 'web1', '--detach', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    expect(['replicating', 'completed']).toContain(job.status);
    expect(job.jobType).toBe('incremental');
    const w = await mkc(['jobs', 'watch', job.id]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(new RegExp(`${job.id} completed$`, 'm'));
  }, 300_000);

  it('refuses bad input at the owner with the schema message and exit code 2', async () => {
    const r = await mkc(['jobs', 'list', '--limit', '-5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Invalid request for jobs:list: limit/);
  });

  it('exits non-zero from replicate and jobs watch when another process cancels the job', async () => {
    const speed = { ...rig.vma.speed };
    // Slow enough that the copy is still running when the operator cancels it.
    rig.vma.speed.phaseDelayMs = 20_000;
    rig.vma.speed.bytesPerSecond = 64 * 1024;
    try {
      const replicate = watchMkc(['replicate', 'pgtest1']);
      started.push(replicate.child);
      const [, jobId] = await replicate.waitFor(/Started (job-\S+) for pgtest1/);
      await replicate.waitFor(/replicating/);
      const watch = watchMkc(['jobs', 'watch', jobId!]);
      started.push(watch.child);
      await watch.waitFor(/replicating/);
      const cancel = await mkc(['jobs', 'cancel', jobId!]);
      expect(cancel.code, cancel.stderr).toBe(0);
      const [r, w] = await Promise.all([replicate.exit, watch.exit]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`Job ${jobId} was cancelled`));
      expect(w.code).toBe(1);
      expect(w.stderr).toMatch(new RegExp(`Job ${jobId} was cancelled`));
    } finally {
      Object.assign(rig.vma.speed, speed);
    }
  }, 300_000);

  it('only the owner polls the VMA while mkc replicate and mkc jobs watch follow the same job (polls counted at the simulator)', async () => {
    const speed = { ...rig.vma.speed };
    // Slow enough that the copy runs through the whole counting window.
    rig.vma.speed.phaseDelayMs = 30_000;
    rig.vma.speed.bytesPerSecond = 64 * 1024;
    try {
      const replicate = watchMkc(['replicate', 'web1']);
      started.push(replicate.child);
      const [, jobId] = await replicate.waitFor(/Started (job-\S+) for web1/);
      await replicate.waitFor(/replicating/);
      const watch = watchMkc(['jobs', 'watch', jobId!]);
      started.push(watch.child);
      await watch.waitFor(/replicating/);
      const from = rig.vma.requests.length;
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 16_000));
      const elapsed = Date.now() - t0;
      const polls = rig.vma.requests.slice(from).filter((r) => r.endpoint === 'progress' && r.path.endsWith(`/${jobId}`)).length;
      // One poller asks at most once per 2 s pass (the owner's default interval), plus a pass already
      // under way at each edge of the window; a second poller in either mkc would about double it.
      expect(polls).toBeGreaterThan(0);
      expect(polls).toBeLessThanOrEqual(Math.floor(elapsed / 2_000) + 2);
      const cancel = await mkc(['jobs', 'cancel', jobId!]);
      expect(cancel.code, cancel.stderr).toBe(0);
      await Promise.all([replicate.exit, watch.exit]);
    } finally {
      Object.assign(rig.vma.speed, speed);
    }
  }, 300_000);

  it('takes over the lock of a killed owner; a stopped owner releases it', async () => {
    const killed = owner!.child.pid;
    owner!.child.kill('SIGKILL');
    await owner!.exit;
    // Nobody released it: the file still names the dead process.
    expect(readOwner(dataDir)?.pid).toBe(killed);
    owner = await startOwner();
    expect(owner.child.pid).not.toBe(killed);
    expect(readOwner(dataDir)).toMatchObject({ pid: owner.child.pid, transport: 'mkc serve' });
    const list = await mkc(['contexts', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/web1/);
    owner.child.kill('SIGINT');
    const stopped = await owner.exit;
    expect(stopped.code).toBe(0);
    expect(fs.existsSync(ownerLockPath(dataDir))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'control.sock'))).toBe(false);
  });

  it('refuses replicate --detach with no owner and says what to run instead', async () => {
    const before = JSON.parse((await mkc(['jobs', 'list', '--vm', 'web1', '--json'])).stdout);
    const r = await mkc(['replicate', 'web1', '--detach']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nobody would receive the change-ID callbacks/);
    expect(r.stderr).toMatch(/`mkc serve`/);
    const after = JSON.parse((await mkc(['jobs', 'list', '--vm', 'web1', '--json'])).stdout);
    expect(after).toEqual(before);
  });
});
