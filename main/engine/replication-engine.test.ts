import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import { EventBus } from '../ipc/event-bus';
import { Logbook } from '../logbook/logbook';
import { silentLogger } from '../base/app-log';
import { JobRepository } from './job-repository';
import { VolumeRepository } from './volume-repository';
import { discoveryFilter, ReplicationEngine, type FreshDiscovery } from './replication-engine';
import { randomUUID } from 'node:crypto';
import type { DiscoveredVm } from '../../shared/discovery';
import { AppError } from '../../shared/errors';
import type { CloudStackApi, CsVolume, EnginePorts, OmaApi, ReplicateRequest, TargetSettings, VmaApi } from './ports';
import { twoDiskVm } from '../testing/two-disk-vm';
import { DomainEvents, type DomainEvent } from '../base/domain-events';
import { REPLICATION_STEP, SETUP_STEPS } from '../../shared/steps';

// The engine over a real database. The VMA, CloudStack and the OMA appliance cannot run here: the
// ports are small in-memory stand-ins (the lab rig tests the same paths against the simulators).
let dir: string;
let db: Db;
let contexts: VmContextRepository;
let jobs: JobRepository;
let logbook: Logbook;
let bus: EventBus;
let events: DomainEvents;
let seen: DomainEvent[];
let engine: ReplicationEngine;
let ctxId: string;
let vmaProgressFound: Set<string>;
let vmaUnreachable: boolean;
let callbackForwardRefused: string | null;
let cleanups: string[];
let replicateImpl: (r: ReplicateRequest) => Promise<{ status?: string }>;
let replicated: ReplicateRequest[];
let csVolumes: Map<string, CsVolume>;
let createVolumeError: AppError | null;
let discoveredVms: DiscoveredVm[];
let sharedIdVms: DiscoveredVm[];
let vmaStatusRunning: Set<string>;
let discoverFilters: (string | undefined)[];

const discovered = (): DiscoveredVm => twoDiskVm();

function ports(): EnginePorts {
  const vma: VmaApi = {
    discover: async (_login, filter) => {
      discoverFilters.push(filter);
      return { vcenterHost: 'vc.test.invalid', datacenter: 'DC', vms: discoveredVms, sharedIdVms, warnings: [] };
    },
    replicate: (r) => {
      replicated.push(r);
      return replicateImpl(r);
    },
    progress: async (jobId) => {
      if (vmaUnreachable) throw new AppError('unreachable', 'SSH tunnel to app-vma is down');
      return vmaProgressFound.has(jobId) ? { found: true, progress: { status: 'in_progress', phase: 'Transfer' } } : { found: false };
    },
    status: async (jobId) => (vmaStatusRunning.has(jobId) ? { found: true, status: { status: 'running' } } : { found: false }),
    cleanup: async (jobId) => void cleanups.push(jobId),
  };
  // In-memory stand-ins with the behaviour the engine relies on (ids, attachment, export naming).
  const cloudstack: CloudStackApi = {
    getVolume: async (id) => csVolumes.get(id) ?? null,
    createVolume: async (input) => {
      if (createVolumeError) throw createVolumeError;
      const v: CsVolume = { id: randomUUID(), name: input.name, size: input.sizeGiB * 2 ** 30, virtualmachineid: null };
      csVolumes.set(v.id, v);
      return v;
    },
    attachVolume: async (id, vmId) => void (csVolumes.get(id)!.virtualmachineid = vmId),
    detachVolume: async (id) => void (csVolumes.get(id)!.virtualmachineid = null),
    deleteVolume: async (id) => void csVolumes.delete(id),
  };
  const oma: OmaApi = {
    waitForDevice: async (id) => `/dev/disk/by-id/virtio-${id.replace(/-/g, '').slice(0, 20)}`,
    ensureNbdkitRunning: async () => {},
    publishExport: async (id) => `migration-vol-${id}`,
    verifyExport: async (id) => csVolumes.get(id)!.size,
    withdrawExport: async () => {},
    publishAndVerify: async (id) => ({
      devicePath: `/dev/disk/by-id/virtio-${id.replace(/-/g, '').slice(0, 20)}`,
      exportName: `migration-vol-${id}`,
      sizeBytes: csVolumes.get(id)!.size,
    }),
  };
  const target: TargetSettings = { zoneId: 'zone-1', diskOfferingId: 'offering-1', omaVmId: 'oma-vm-1', omaApplianceId: 'app-oma', headroomPercent: 0, nbdHost: '10.0.0.5', nbdPort: 10809 };
  return {
    vma: () => vma,
    callbackPort: () => 8082,
    callbackUrl: async (_id, jobId) => {
      if (callbackForwardRefused) throw new AppError('conflict', callbackForwardRefused);
      return `http://127.0.0.1:8082/token-of-${jobId}`;
    },
    cloudstack: () => cloudstack,
    oma: () => oma,
    target: () => target,
    login: () => ({ vcenter: 'vc.test.invalid', username: 'svc', password: 'not-a-real-secret', datacenter: 'DC' }),
  };
}

function makeEngine(setupLeaseMs = 60_000, now?: () => number): ReplicationEngine {
  return new ReplicationEngine(
    { contexts, jobs, volumes: new VolumeRepository(db), logbook, bus, events, ports: ports(), logger: silentLogger },
    { setupLeaseMs, poller: { intervalMs: 1_000 }, ...(now ? { now } : {}) },
  );
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-engine-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  contexts = new VmContextRepository(db);
  jobs = new JobRepository(db);
  logbook = new Logbook(db);
  bus = new EventBus({ setTimer: () => null });
  events = new DomainEvents();
  seen = [];
  for (const t of ['job-started', 'job-ended', 'step-changed', 'active-jobs-changed'] as const) events.on(t, (e) => seen.push(e));
  vmaProgressFound = new Set();
  vmaUnreachable = false;
  callbackForwardRefused = null;
  cleanups = [];
  replicated = [];
  csVolumes = new Map();
  createVolumeError = null;
  discoveredVms = [discovered()];
  sharedIdVms = [];
  vmaStatusRunning = new Set();
  discoverFilters = [];
  replicateImpl = async () => ({ status: 'started' });
  const now = new Date().toISOString();
  for (const [id, kind] of [['app-vma', 'vma'], ['app-oma', 'oma']]) {
    db.prepare(`INSERT INTO appliances (id, kind, name, host, username, auth_method, created_at, updated_at) VALUES (?,?,?,'127.0.0.1','u','password',?,?)`).run(id, kind, id, now, now);
  }
  db.prepare(`INSERT INTO vcenter_credentials (id, name, vcenter_host, username, datacenter, secret_ref, created_at, updated_at) VALUES ('cred-1','lab','vc.test.invalid','svc','DC','ref-1',?,?)`).run(now, now);
  ctxId = contexts.add({ vm: discovered(), vcenterHost: 'vc.test.invalid', credentialId: 'cred-1', vmaApplianceId: 'app-vma' }).id;
  engine = makeEngine();
});
afterEach(() => {
  engine.poller.stop();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function claimed(status: 'provisioning' | 'starting' | 'replicating' = 'replicating'): string {
  const job = jobs.claim({ contextId: ctxId, trigger: 'ui' });
  logbook.startOperation(job.id, 'replication', 'Initial sync of pgtest1', ctxId);
  jobs.update(job.id, { status });
  return job.id;
}

const warnings = (jobId: string) => logbook.events({ operationId: jobId }).filter((e) => e.level === 'warn').map((e) => e.message);

describe('ReplicationEngine.finish', () => {
  it('ends a job once: job, context, log operation, settled waiters and pushed events agree', async () => {
    const jobId = claimed();
    const settled = engine.whenSettled(jobId);
    const pushed: unknown[] = [];
    bus.subscribe((channel, payload) => pushed.push({ channel, payload }));
    expect(engine.finish(jobId, 'failed', 'stalled: no progress for 10 min')).toBe(true);
    expect(engine.finish(jobId, 'completed', null)).toBe(false);
    const job = await settled;
    expect(job).toMatchObject({ id: jobId, status: 'failed', error: 'stalled: no progress for 10 min' });
    expect(contexts.require(ctxId)).toMatchObject({ currentJobId: null, status: 'failed', lastError: 'stalled: no progress for 10 min' });
    expect(logbook.operation(jobId)).toMatchObject({ status: 'failed' });
    expect(logbook.events({ operationId: jobId }).filter((e) => e.level === 'error')).toHaveLength(1);
    bus.flush();
    const channels = pushed.map((p) => (p as { channel: string }).channel);
    expect(channels).toContain('jobs:progress');
    expect(channels).toContain('contexts:changed');
    expect((await engine.whenSettled(jobId)).status).toBe('failed');
  });

  it('warns once per disk that finished without a change id, saying what its next sync copies', () => {
    // disk-2000 had a change id from an earlier sync; disk-2001 never had one.
    const [d0] = contexts.disks(ctxId);
    db.prepare(`UPDATE vm_disks SET last_change_id = 'old/1' WHERE id = ?`).run(d0!.id);
    const jobId = claimed();
    const poller = ['disk-2000 finished without a change id: its next sync will copy the whole disk'];
    engine.finish(jobId, 'completed', null, poller);
    const w = warnings(jobId);
    expect(w.filter((m) => m.startsWith('disk-2000'))).toEqual(poller);
    expect(w.filter((m) => m.startsWith('disk-2001'))).toEqual(['disk-2001 finished without a change id: its next sync will copy the whole disk']);
  });

  it('a completed job with every change id logs no warning', () => {
    const jobId = claimed();
    jobs.recordChangeId(jobId, 'disk-2000', 'a/1');
    jobs.recordChangeId(jobId, 'disk-2001', 'b/1');
    engine.finish(jobId, 'completed', null);
    expect(warnings(jobId)).toEqual([]);
  });
});

describe('ReplicationEngine.cancel and reconcile', () => {
  it('cancelling a replicating job asks the VMA to clean up and frees the VM', async () => {
    const jobId = claimed('replicating');
    jobs.addPolled(jobId, 'app-vma');
    const job = await engine.cancel(jobId);
    expect(job).toMatchObject({ status: 'cancelled', error: 'Cancelled by the operator' });
    expect(cleanups).toEqual([jobId]);
    expect(contexts.require(ctxId)).toMatchObject({ currentJobId: null, status: 'discovered' });
    await expect(engine.cancel(jobId)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('reconcile resumes polled jobs, resumes a starting job the VMA knows, and fails setups nobody owns', async () => {
    const polledJob = claimed('replicating');
    jobs.addPolled(polledJob, 'app-vma');
    jobs.finish(polledJob, 'completed', null);
    const resumedJob = claimed('replicating');
    jobs.addPolled(resumedJob, 'app-vma');
    const r1 = await engine.reconcile();
    expect(r1).toEqual({ resumed: 1, failed: 0 });
    expect(jobs.require(resumedJob).status).toBe('replicating');
    jobs.finish(resumedJob, 'completed', null);

    const known = claimed('starting');
    vmaProgressFound.add(known);
    const later = Date.now() + 120_000;
    expect(await engine.reconcile(later)).toEqual({ resumed: 0, failed: 0 });
    expect(jobs.polled().map((p) => p.jobId)).toEqual([known]);
    jobs.finish(known, 'completed', null);

    const orphan = claimed('provisioning');
    expect(await engine.reconcile(Date.now())).toEqual({ resumed: 0, failed: 0 });
    expect(jobs.require(orphan).status).toBe('provisioning');
    expect(await engine.reconcile(later)).toEqual({ resumed: 0, failed: 1 });
    expect(jobs.require(orphan)).toMatchObject({ status: 'failed', error: 'interrupted: the console stopped while the job was provisioning; start the replication again' });
    expect(contexts.require(ctxId).currentJobId).toBeNull();
  });

  it('a job the VMA accepted and the console gives up on (stalled, lost, unreachable) is cleaned up on the VMA; the answer is logged', async () => {
    const given = claimed('replicating');
    jobs.addPolled(given, 'app-vma');
    engine.finish(given, 'failed', 'stalled: no progress for 10 min');
    await engine.drain();
    expect(cleanups).toEqual([given]);
    expect(logbook.events({ operationId: given }).map((e) => e.message)).toContain(
      'VMA cleanup requested (cleanup_all) for the copy the console gave up on; the VMA accepted it',
    );
    // A job that never reached the VMA has no copy to stop.
    const setupOnly = claimed('provisioning');
    engine.finish(setupOnly, 'failed', 'CloudStack refused');
    await engine.drain();
    expect(cleanups).toEqual([given]);
  });

  it('the orphan sweep backs off while the VMA is unreachable instead of failing a starting job as orphaned', async () => {
    const starting = claimed('starting');
    const later = Date.now() + 120_000;
    vmaUnreachable = true;
    expect(await engine.reconcile(later)).toEqual({ resumed: 0, failed: 0 });
    expect(await engine.reconcile(later + 1_000)).toEqual({ resumed: 0, failed: 0 });
    expect(jobs.require(starting).status).toBe('starting');
    const notes = logbook.events({ operationId: starting }).filter((e) => e.message.startsWith('Cannot ask the VMA'));
    expect(notes).toHaveLength(1);
    // Reachable again and it knows the job: polling resumes.
    vmaUnreachable = false;
  callbackForwardRefused = null;
    vmaProgressFound.add(starting);
    expect(await engine.reconcile(later + 2_000)).toEqual({ resumed: 0, failed: 0 });
    expect(jobs.polled().map((p) => p.jobId)).toEqual([starting]);
  });

  it('keeps checking setups whose lease had not run out at start, while the poller runs', async () => {
    // The engine's own clock, moved by the test: the lease is measured on it, not on the wall.
    let offset = 0;
    engine = makeEngine(60_000, () => Date.now() + offset);
    const orphan = claimed('attaching' as 'provisioning');
    await engine.reconcile();
    expect(jobs.require(orphan).status).toBe('attaching');
    offset = 30_000;
    await engine.poller.tick();
    expect(jobs.require(orphan).status, 'a sweep within the lease leaves the job').toBe('attaching');
    offset = 61_000;
    await engine.poller.tick();
    expect(jobs.require(orphan).status).toBe('failed');
    expect(contexts.require(ctxId).currentJobId).toBeNull();
  });
});

describe('ReplicationEngine setup path', () => {
  const settle = async () => {
    const { jobId } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    return jobId;
  };

  it('maps every disk to its own volume and export and sends one NBD target per VMware disk key', async () => {
    const jobId = await settle();
    expect(jobs.require(jobId)).toMatchObject({ status: 'replicating', jobType: 'initial' });
    expect(jobs.polled().map((p) => p.jobId)).toEqual([jobId]);
    expect(replicated).toHaveLength(1);
    const rows = jobs.jobDisks(jobId);
    expect(replicated[0]!.nbd_targets).toEqual(
      rows.map((d) => ({ device_path: `nbd://10.0.0.5:10809/migration-vol-${d.volumeId}`, vmware_disk_key: d.diskKey.replace('disk-', '') })),
    );
    expect(new Set(rows.map((d) => d.volumeId)).size).toBe(2);
    for (const d of rows) expect(csVolumes.get(d.volumeId!)!.virtualmachineid).toBe('oma-vm-1');
    expect(replicated[0]).toMatchObject({ job_id: jobId, vm_paths: ['/DC/vm/pgtest1'], oma_url: `http://127.0.0.1:8082/token-of-${jobId}` });
  });

  it('records the copy on the VMA as a step: running once the VMA accepted, its phases on it, closed with the outcome and what it moved', async () => {
    const jobId = await settle();
    const copy = () => logbook.steps(jobId).find((x) => x.name === REPLICATION_STEP.copy);
    expect(logbook.steps(jobId).map((x) => x.name)).toEqual([...SETUP_STEPS, REPLICATION_STEP.copy]);
    expect(copy()).toMatchObject({ status: 'running', completedAt: null });
    vmaProgressFound.add(jobId);
    await engine.poller.tick();
    expect(logbook.phases(jobId).map((x) => x.name)).toEqual(['Transfer']);
    const phaseEvent = logbook.events({ operationId: jobId }).find((e) => e.message === 'VMA phase: Transfer');
    expect(phaseEvent?.stepId).toBe(copy()!.id);
    jobs.update(jobId, { bytesTransferred: 3 * 1024 * 1024, totalBytes: 4 * 1024 * 1024 });
    engine.finish(jobId, 'completed', null);
    expect(copy()).toMatchObject({ status: 'completed' });
    expect(copy()!.durationMs).toBeGreaterThanOrEqual(0);
    const moved = logbook.events({ operationId: jobId }).find((e) => e.message.startsWith('Copy on the VMA: '));
    expect(moved).toMatchObject({ stepId: copy()!.id, details: { bytesTransferred: 3 * 1024 * 1024, totalBytes: 4 * 1024 * 1024 } });
    expect(moved!.message).toMatch(/^Copy on the VMA: 3\.0 MiB of 4\.0 MiB moved in \d+\.\d s/);
  });

  it('cancelling the job ends its copy step cancelled', async () => {
    const jobId = await settle();
    await engine.cancel(jobId);
    expect(logbook.steps(jobId).at(-1)).toMatchObject({ name: REPLICATION_STEP.copy, status: 'cancelled' });
  });

  it('a replicate request that fails (it may have reached the VMA) fails the job and asks the VMA to stop the copy', async () => {
    replicateImpl = () => Promise.reject(new AppError('timeout', 'The VMA did not answer POST /api/v1/replicate within 30 s'));
    const jobId = await settle();
    const job = jobs.require(jobId);
    expect(job.status).toBe('failed');
    expect(job.error).toBe('The VMA did not answer POST /api/v1/replicate within 30 s');
    expect(cleanups).toEqual([jobId]);
    expect(jobs.polled()).toHaveLength(0);
    expect(contexts.require(ctxId)).toMatchObject({ currentJobId: null, status: 'failed' });
    expect(logbook.steps(jobId).at(-1)).toMatchObject({ name: 'Start the copy on the VMA', status: 'failed' });
  });

  it('without our own callback forward the job fails before the VMA is asked, naming the port', async () => {
    callbackForwardRefused = "This console's callback forward on app-vma 127.0.0.1:8082 is not bound: address in use";
    const jobId = await settle();
    expect(jobs.require(jobId)).toMatchObject({ status: 'failed', error: callbackForwardRefused });
    expect(replicated).toEqual([]);
    expect(cleanups).toEqual([]);
  });

  it('tells its listeners, in order: job started, each setup step running then completed, and the active job count', async () => {
    const jobId = await settle();
    const summary = seen.map((e) =>
      e.type === 'step-changed' ? `step ${e.step} ${e.status}` : e.type === 'active-jobs-changed' ? `active ${e.count}` : e.type,
    );
    expect(summary).toEqual([
      'job-started',
      'active 1',
      ...SETUP_STEPS.flatMap((s) => [`step ${s} running`, `step ${s} completed`]),
      `step ${REPLICATION_STEP.copy} running`,
    ]);
    expect(seen[0]).toEqual({ type: 'job-started', jobId, vmContextId: ctxId, trigger: 'ui' });
    for (const e of seen) if (e.type === 'step-changed') expect(e).toMatchObject({ kind: 'replication', operationId: jobId, vmContextId: ctxId });
    // Ending the job is told once, from the one terminal path, whoever calls it.
    seen = [];
    engine.finish(jobId, 'completed', null);
    engine.finish(jobId, 'failed', 'late duplicate');
    expect(seen).toEqual([
      { type: 'job-ended', jobId, vmContextId: ctxId, outcome: 'completed', error: null },
      { type: 'active-jobs-changed', count: 0 },
    ]);
  });

  it('a failed setup step is told as failed with its error, then the job as failed', async () => {
    createVolumeError = new AppError('remote_error', 'CloudStack answered 530: volume limit reached');
    const jobId = await settle();
    const tail = seen.slice(-4);
    expect(tail).toEqual([
      expect.objectContaining({ type: 'step-changed', step: SETUP_STEPS[0], status: 'running' }),
      expect.objectContaining({ type: 'step-changed', step: SETUP_STEPS[0], status: 'failed', error: 'CloudStack answered 530: volume limit reached' }),
      { type: 'job-ended', jobId, vmContextId: ctxId, outcome: 'failed', error: 'CloudStack answered 530: volume limit reached' },
      { type: 'active-jobs-changed', count: 0 },
    ]);
  });

  it('a setup failure before the VMA is asked sends no cleanup', async () => {
    createVolumeError = new AppError('remote_error', 'CloudStack answered 530: volume limit reached');
    const jobId = await settle();
    expect(jobs.require(jobId)).toMatchObject({ status: 'failed', error: 'CloudStack answered 530: volume limit reached' });
    expect(cleanups).toEqual([]);
    expect(replicated).toEqual([]);
  });
});

describe('ReplicationEngine: the right VM, one copier', () => {
  it('a clone sharing the VMware id whose name contains the VM name is never synced in its place', async () => {
    const vm = discovered();
    const clone = { ...discovered(), name: `${vm.name}0`, path: `${vm.path}0` };
    // The VMA's substring filter returns the clone first; the normaliser lists one VM per id.
    discoveredVms = [clone];
    sharedIdVms = [vm];
    const { jobId } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    expect(replicated[0]).toMatchObject({ job_id: jobId, vm_paths: [vm.path] });
  });

  it('a VM of the same name with another VMware id is a conflict: no job, nothing written', async () => {
    discoveredVms = [{ ...discovered(), vmwareVmId: 'another-id' }];
    await expect(engine.start(ctxId, { trigger: 'ui' })).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/has VMware id another-id, not .*Nothing was written/) });
    expect(jobs.list({ contextId: ctxId })).toEqual([]);
    expect(csVolumes.size).toBe(0);
  });

  it("no new job while the VMA still runs the previous job's copier; the conflict names it and cleanup is asked again", async () => {
    replicateImpl = () => Promise.reject(new AppError('timeout', 'The VMA did not answer POST /api/v1/replicate within 30 s'));
    const { jobId: first } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    expect(jobs.require(first).status).toBe('failed');
    cleanups = [];
    vmaStatusRunning.add(first);
    await expect(engine.start(ctxId, { trigger: 'ui' })).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining(`previous job ${first}`) });
    await engine.drain();
    expect(cleanups).toEqual([first]);
    expect(jobs.list({ contextId: ctxId })).toHaveLength(1);
    // Once the VMA no longer knows the copy, the next start goes ahead.
    vmaStatusRunning.clear();
    replicateImpl = async () => ({ status: 'started' });
    const { jobId: second } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    expect(jobs.require(second).status).toBe('replicating');
  });

  it('a previous job that failed before asking the VMA to copy needs no check', async () => {
    createVolumeError = new AppError('remote_error', 'CloudStack answered 530: volume limit reached');
    const { jobId: first } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    vmaStatusRunning.add(first);
    createVolumeError = null;
    const { jobId: second } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    expect(second).not.toBe(first);
    expect(jobs.require(second).status).toBe('replicating');
  });
});

describe('ReplicationEngine: torn replica (issue 7)', () => {
  /** A first sync that completed, so the VM has a consistent replica and change ids. */
  async function goodSync(): Promise<string> {
    const { jobId } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    jobs.recordChangeId(jobId, 'disk-2000', 'a/1');
    jobs.recordChangeId(jobId, 'disk-2001', 'b/1');
    engine.finish(jobId, 'completed', null);
    expect(contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });
    return jobId;
  }

  it('a copy the VMA accepted and the poller gives up on leaves the VM torn, not ready, with the reason in the job log', async () => {
    await goodSync();
    const { jobId } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    jobs.recordChangeId(jobId, 'disk-2000', 'a/2');
    engine.finish(jobId, 'failed', 'stalled: no progress for 10 min');
    await engine.drain();
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: jobId });
    expect(warnings(jobId).some((w) => w.startsWith(`Replica torn by ${jobId}`))).toBe(true);
    // The next sync copies the half-written disk in full and keeps the finished one incremental.
    const { jobId: next } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    expect(jobs.jobDisks(next).map((d) => [d.diskKey, d.syncType, d.previousChangeId])).toEqual([
      ['disk-2000', 'incremental', 'a/2'],
      ['disk-2001', 'initial', null],
    ]);
    jobs.recordChangeId(next, 'disk-2000', 'a/3');
    jobs.recordChangeId(next, 'disk-2001', 'b/3');
    engine.finish(next, 'completed', null);
    expect(contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });
  });

  it('cancelling a running copy tears the replica; a replicate request that timed out does too (it may have started)', async () => {
    await goodSync();
    const { jobId } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    await engine.cancel(jobId);
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: jobId });

    replicateImpl = () => Promise.reject(new AppError('timeout', 'The VMA did not answer POST /api/v1/replicate within 30 s'));
    const { jobId: timedOut } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: timedOut });
  });

  it('a sync that fails before the VMA is asked (no callback forward) leaves the replica ready', async () => {
    await goodSync();
    callbackForwardRefused = "This console's callback forward on app-vma 127.0.0.1:8082 is not bound: address in use";
    const { jobId } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    expect(jobs.require(jobId).status).toBe('failed');
    expect(contexts.require(ctxId)).toMatchObject({ status: 'ready_for_failover', replicaTornJobId: null });
  });

  it('reconcile failing a starting job the VMA no longer knows, after replicate was sent, tears the replica', async () => {
    await goodSync();
    const job = jobs.claim({ contextId: ctxId, trigger: 'ui' });
    logbook.startOperation(job.id, 'replication', 'Incremental sync of pgtest1', ctxId);
    jobs.update(job.id, { status: 'starting' });
    jobs.markCopyRequested(job.id);
    expect(await engine.reconcile(Date.now() + 120_000)).toEqual({ resumed: 0, failed: 1 });
    expect(contexts.require(ctxId)).toMatchObject({ status: 'failed', replicaTornJobId: job.id });
  });
});

describe('ReplicationEngine: batch discovery and startDiscovered', () => {
  const add = (name: string, vmwareVmId: string) =>
    contexts.add({ vm: twoDiskVm({ name, vmwareVmId, path: `/DC/vm/${name}` }), vcenterHost: 'vc.test.invalid', credentialId: 'cred-1', vmaApplianceId: 'app-vma' }).id;

  it('asks the VMA once for several names and picks each exact name; a VM found only by id under a new name is a rename', async () => {
    const web1 = add('web1', 'id-web1');
    const web10 = add('web10', 'id-web10');
    const gone = add('db1', 'id-db1');
    const renamed = add('old-name', 'id-renamed');
    // The substring filter returns web1 and web10 for "web1"; the renamed VM only shows in the full inventory.
    discoveredVms = [twoDiskVm({ name: 'web10', vmwareVmId: 'id-web10' }), twoDiskVm({ name: 'web1', vmwareVmId: 'id-web1' }), twoDiskVm({ name: 'new-name', vmwareVmId: 'id-renamed' })];
    const out = await engine.discoverContexts([web1, web10, gone, renamed]);
    expect(discoverFilters).toEqual(['web1,web10,db1,old-name', undefined]);
    const ok = (id: string) => {
      const o = out.get(id)!;
      return o.ok ? o.fresh : null;
    };
    expect(ok(web1)!.vm).toMatchObject({ name: 'web1', vmwareVmId: 'id-web1' });
    expect(ok(web10)!.vm).toMatchObject({ name: 'web10', vmwareVmId: 'id-web10' });
    expect(ok(renamed)!.vm.name).toBe('new-name');
    expect(out.get(gone)).toMatchObject({ ok: false, error: { code: 'not_found', message: 'db1 (VMware id id-db1) is no longer in vCenter vc.test.invalid' } });
  });

  it('one request per batch of discoveryBatchSize names; a name with a comma is asked for by a comma-free part', async () => {
    expect(discoveryFilter(['web1', 'a,b-long', 'web1'])).toBe('web1,b-long');
    const small = new ReplicationEngine(
      { contexts, jobs, volumes: new VolumeRepository(db), logbook, bus, events, ports: ports(), logger: silentLogger },
      { discoveryBatchSize: 2, poller: { intervalMs: 1_000 } },
    );
    const ids = ['v1', 'v2', 'v3'].map((n, i) => add(n, `id-${i}`));
    discoveredVms = ['v1', 'v2', 'v3'].map((n, i) => twoDiskVm({ name: n, vmwareVmId: `id-${i}` }));
    const out = await small.discoverContexts(ids);
    expect(discoverFilters.sort()).toEqual(['v1,v2', 'v3']);
    expect([...out.values()].every((o) => o.ok)).toBe(true);
  });

  it('startDiscovered starts from that data (no discovery of its own) and sends the same replicate request as start', async () => {
    const fresh = (await engine.discoverContexts([ctxId])).get(ctxId)!;
    expect(fresh.ok).toBe(true);
    discoverFilters = [];
    const { jobId } = await engine.startDiscovered(ctxId, (fresh as { fresh: FreshDiscovery }).fresh, { trigger: 'scheduler' });
    await engine.drain();
    expect(discoverFilters).toEqual([]);
    expect(jobs.require(jobId)).toMatchObject({ status: 'replicating', trigger: 'scheduler' });
    engine.finish(jobId, 'completed', null);
    const { jobId: second } = await engine.start(ctxId, { trigger: 'ui' });
    await engine.drain();
    expect(discoverFilters).toEqual(['pgtest1']);
    const strip = (r: (typeof replicated)[number]) => ({ ...r, job_id: 'X', oma_url: r.oma_url.replace(/\/[^/]+$/, '/TOKEN') });
    expect(replicated.map((r) => r.job_id)).toEqual([jobId, second]);
    expect(strip(replicated[1]!)).toEqual(strip(replicated[0]!));
  });

  it('startDiscovered refuses data it did not gather, data for another VM and old data, writing nothing', async () => {
    const other = add('other', 'id-other');
    discoveredVms = [twoDiskVm(), twoDiskVm({ name: 'other', vmwareVmId: 'id-other', path: '/DC/vm/other' })];
    const out = await engine.discoverContexts([ctxId, other]);
    const fresh = (id: string) => (out.get(id) as { fresh: FreshDiscovery }).fresh;
    await expect(engine.startDiscovered(ctxId, { ...fresh(ctxId) }, { trigger: 'scheduler' })).rejects.toThrow('was not gathered for it by this console');
    await expect(engine.startDiscovered(ctxId, fresh(other), { trigger: 'scheduler' })).rejects.toThrow('was not gathered for it by this console');
    // The age is measured on the engine's clock: six minutes pass between discovery and start.
    let clock = Date.parse('2026-03-01T10:00:00Z');
    const old = new ReplicationEngine(
      { contexts, jobs, volumes: new VolumeRepository(db), logbook, bus, events, ports: ports(), logger: silentLogger },
      { freshDiscoveryMaxAgeMs: 5 * 60_000, poller: { intervalMs: 1_000 }, now: () => clock },
    );
    const mine = (await old.discoverContexts([ctxId])).get(ctxId) as { fresh: FreshDiscovery };
    expect(mine.fresh.discoveredAt).toBe(clock);
    clock += 6 * 60_000;
    await expect(old.startDiscovered(ctxId, mine.fresh, { trigger: 'scheduler' })).rejects.toThrow('discovery data of pgtest1 is 360 s old (at most 300 s)');
    expect(jobs.list({ contextId: ctxId })).toEqual([]);
  });
});
