import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import { EventBus } from '../ipc/event-bus';
import { Logbook } from '../logbook/logbook';
import { silentLogger } from '../core/app-log';
import { JobRepository } from './job-repository';
import { VolumeRepository } from './volume-repository';
import { ReplicationEngine } from './replication-engine';
import type { EnginePorts, VmaApi } from './ports';

// The engine's terminal path and reconcile over a real database. Nothing here reaches a VMA,
// CloudStack or OMA appliance: the ports answer "not found" and fail loudly if setup is attempted.
const MiB = 1024 * 1024;
let dir: string;
let db: Db;
let contexts: VmContextRepository;
let jobs: JobRepository;
let logbook: Logbook;
let bus: EventBus;
let engine: ReplicationEngine;
let ctxId: string;
let vmaProgressFound: Set<string>;
let cleanups: string[];

function ports(): EnginePorts {
  const vma: VmaApi = {
    discover: () => Promise.reject(new Error('discovery is not part of these tests')),
    replicate: () => Promise.reject(new Error('replicate is not part of these tests')),
    progress: async (jobId) => (vmaProgressFound.has(jobId) ? { found: true, progress: { status: 'in_progress', phase: 'Transfer' } } : { found: false }),
    status: async () => ({ found: false }),
    cleanup: async (jobId) => void cleanups.push(jobId),
  };
  const refuse = () => {
    throw new Error('not part of these tests');
  };
  return { vma: () => vma, callbackPort: () => 8082, cloudstack: refuse, oma: refuse, target: refuse, login: refuse };
}

function makeEngine(setupLeaseMs = 60_000): ReplicationEngine {
  return new ReplicationEngine(
    { contexts, jobs, volumes: new VolumeRepository(db), logbook, bus, ports: ports(), logger: silentLogger },
    { setupLeaseMs, poller: { intervalMs: 1_000 } },
  );
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-engine-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  contexts = new VmContextRepository(db);
  jobs = new JobRepository(db);
  logbook = new Logbook(db);
  bus = new EventBus({ setTimer: () => null });
  vmaProgressFound = new Set();
  cleanups = [];
  const now = new Date().toISOString();
  db.prepare(`INSERT INTO appliances (id, kind, name, host, username, auth_method, created_at, updated_at) VALUES ('app-vma','vma','vma','127.0.0.1','u','password',?,?)`).run(now, now);
  ctxId = contexts.add({
    vm: {
      vmwareVmId: '4205784a-098a-40f1-1f1e-a5cd2597fd59',
      name: 'pgtest1',
      path: '/DC/vm/pgtest1',
      datacenter: 'DC',
      cpus: 2,
      memoryMb: 4096,
      osType: 'linux',
      powerState: 'poweredOn',
      vmxVersion: 'vmx-19',
      disks: [
        { diskKey: 'disk-2000', label: 'Hard disk 1', vmdkPath: '[ds] a.vmdk', datastore: 'ds', capacityBytes: 24 * MiB, provisioningType: 'thin', unitNumber: 0 },
        { diskKey: 'disk-2001', label: 'Hard disk 2', vmdkPath: '[ds] b.vmdk', datastore: 'ds', capacityBytes: 16 * MiB, provisioningType: 'thin', unitNumber: 1 },
      ],
      networks: [],
    },
    vcenterHost: 'vc.test.invalid',
    credentialId: null,
    vmaApplianceId: 'app-vma',
  }).id;
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
    const poller = ['disk-2000 finished without a change id: its next sync will copy all changes since the previous change id'];
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

  it('keeps checking setups whose lease had not run out at start, while the poller runs', async () => {
    engine = makeEngine(40);
    const orphan = claimed('attaching' as 'provisioning');
    await engine.reconcile();
    expect(jobs.require(orphan).status).toBe('attaching');
    await new Promise((r) => setTimeout(r, 80));
    await engine.poller.tick();
    expect(jobs.require(orphan).status).toBe('failed');
    expect(contexts.require(ctxId).currentJobId).toBeNull();
  });
});
