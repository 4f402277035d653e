import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import { ScheduleRepository, type ScheduleFields } from '../db/repositories/schedules';
import { VmGroupRepository } from '../db/repositories/vm-groups';
import { ScheduleExecutionRepository } from '../db/repositories/schedule-executions';
import { JobRepository } from '../engine/job-repository';
import { silentLogger } from '../base/app-log';
import type { DiscoveredVm } from '../../shared/discovery';
import type { JobStatus, VmContextStatus } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { FiringHandlers } from './cron-schedule';
import type { ScheduledStartOptions, SchedulerClock, SchedulerPorts } from './ports';
import type { DiscoveryOutcome } from '../engine/replication-engine';
import { SchedulerService, finalStatus } from './scheduler-service';

// Real SQLite and the real job repository (claim and finish, the engine's own conflict rules); the
// engine's long-running part is replaced by a hand that ends jobs, and time by a hand-driven clock.

class ManualClock implements SchedulerClock {
  private t: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  constructor(start: string) {
    this.t = Date.parse(start);
  }
  now = () => new Date(this.t);
  setTimer = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimer = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  get pending(): number {
    return this.timers.length;
  }
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = due.at;
      this.timers = this.timers.filter((x) => x !== due);
      due.fn();
      await settle();
    }
    this.t = until;
  }
}

/** Lets promise chains run to quiescence (no wall-clock waiting). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

let dir: string;
let db: Db;
let contexts: VmContextRepository;
let schedules: ScheduleRepository;
let groups: VmGroupRepository;
let executions: ScheduleExecutionRepository;
let jobs: JobRepository;
let clock: ManualClock;
let svc: SchedulerService;
let starts: { contextId: string; options: ScheduledStartOptions; jobId: string }[];
let waiters: Map<string, (r: { status: JobStatus; error: string | null }) => void>;
let startFailures: Map<string, string>;
let discoveries: string[][];
let vmaDown: Map<string, string>;
let armed: Map<string, FiringHandlers>;
let running: Set<string>;
let peak: { all: number; byGroup: Map<string, number> };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-sched-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  contexts = new VmContextRepository(db);
  schedules = new ScheduleRepository(db);
  groups = new VmGroupRepository(db);
  executions = new ScheduleExecutionRepository(db);
  jobs = new JobRepository(db);
  clock = new ManualClock('2026-06-01T10:00:00.000Z');
  starts = [];
  waiters = new Map();
  startFailures = new Map();
  discoveries = [];
  vmaDown = new Map();
  armed = new Map();
  running = new Set();
  peak = { all: 0, byGroup: new Map() };
  const now = new Date().toISOString();
  for (const id of ['vma-1', 'vma-2']) {
    db.prepare(`INSERT INTO appliances (id, kind, name, host, username, auth_method, created_at, updated_at) VALUES (?, 'vma', ?, 'h.invalid', 'u', 'password', ?, ?)`).run(id, id, now, now);
  }
  const ports: SchedulerPorts = {
    clock,
    // The engine's batch discovery: one answer per VM; a VM vCenter no longer has fails alone.
    discover: async (contextIds) => {
      await Promise.resolve(); // a VMA request: the answer never arrives synchronously
      discoveries.push([...contextIds]);
      return new Map(
        contextIds.map((id): [string, DiscoveryOutcome] => {
          const failure = startFailures.get(id);
          if (failure) return [id, { ok: false, error: new AppError('not_found', failure) }];
          return [id, { ok: true, fresh: { contextId: id, vm: { name: contexts.require(id).name } as DiscoveredVm, discoveredAt: clock.now().getTime() } }];
        }),
      );
    },
    startDiscovered: async (contextId, fresh, options) => {
      await Promise.resolve();
      if (fresh.contextId !== contextId) throw new Error(`started ${contextId} with the discovery of ${fresh.contextId}`);
      const job = jobs.claim({ contextId, ...options });
      starts.push({ contextId, options, jobId: job.id });
      running.add(job.id);
      peak.all = Math.max(peak.all, running.size);
      const inGroup = starts.filter((s) => running.has(s.jobId) && s.options.vmGroupId === options.vmGroupId).length;
      peak.byGroup.set(options.vmGroupId, Math.max(peak.byGroup.get(options.vmGroupId) ?? 0, inGroup));
      return { jobId: job.id };
    },
    whenJobEnds: (jobId) => new Promise((resolve) => waiters.set(jobId, resolve)),
    vmaProblem: (id) => Promise.resolve(vmaDown.get(id) ?? null),
    arm: (cron, handlers) => {
      armed.set(cron.spec.expression, handlers);
      return { stop: () => armed.delete(cron.spec.expression) };
    },
  };
  svc = new SchedulerService({ schedules, groups, executions, contexts, ports, logger: silentLogger });
});
afterEach(() => {
  svc.stop();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
function vm(name: string, vma = 'vma-1'): string {
  const v: DiscoveredVm = {
    vmwareVmId: `4205784a-0000-0000-0000-${String(++seq).padStart(12, '0')}`,
    name,
    path: `/DC1/vm/${name}`,
    datacenter: 'DC1',
    cpus: 2,
    memoryMb: 4096,
    osType: 'linux',
    powerState: 'poweredOn',
    vmxVersion: 'vmx-19',
    disks: [{ diskKey: 'disk-2000', label: 'Hard disk 1', vmdkPath: `[ds] ${name}/${name}.vmdk`, datastore: 'ds', capacityBytes: 2 ** 30, provisioningType: 'thin', unitNumber: 0 }],
    networks: [],
  };
  return contexts.add({ vm: v, vcenterHost: 'vc.test.invalid', credentialId: null, vmaApplianceId: vma }).id;
}

function schedule(over: Partial<ScheduleFields> = {}) {
  return svc.createSchedule({ name: `s${++seq}`, cronExpression: '0 2 * * *', timezone: 'Europe/Berlin', ...over });
}

function group(scheduleId: string, members: string[], over: Partial<{ priority: number; maxConcurrentVms: number; name: string }> = {}) {
  const g = groups.create({ name: over.name ?? `g${++seq}`, description: '', scheduleId, maxConcurrentVms: over.maxConcurrentVms ?? 10, priority: over.priority ?? 100, enabled: true, replicaAgeTargetSeconds: null });
  groups.addMembers(g.id, members);
  return g;
}

/** Ends a job the way the engine does (one terminal write) and tells the scheduler. */
async function end(jobId: string, status: 'completed' | 'failed' | 'cancelled', error: string | null = null): Promise<void> {
  // A copy that completes reports every disk's change id first, as the copier does.
  if (status === 'completed') for (const d of jobs.jobDisks(jobId)) jobs.recordChangeId(jobId, d.diskKey, '52 0a 1b 2c/7');
  jobs.finish(jobId, status, status === 'completed' ? null : (error ?? `job ${status}`));
  running.delete(jobId);
  const w = waiters.get(jobId);
  waiters.delete(jobId);
  w?.({ status, error });
  await settle();
}

async function endAll(status: 'completed' | 'failed' = 'completed'): Promise<void> {
  while (waiters.size > 0) await end([...waiters.keys()][0]!, status);
}

const startedNames = () => starts.map((s) => contexts.require(s.contextId).name);

describe('a run', () => {
  it('takes groups by priority, members by priority, each VM once, through the canonical start with scheduler metadata', async () => {
    const [a, b, c, d] = [vm('a'), vm('b'), vm('c'), vm('d')];
    const s = schedule({ maxConcurrentJobs: 1 });
    const late = group(s.id, [d, a], { priority: 200, name: 'late' });
    const early = group(s.id, [c, b], { priority: 10, name: 'early' });
    groups.updateMember(early.id, b, { priority: 1 });
    const e = svc.runNow(s.id);
    expect(e).toMatchObject({ trigger: 'manual', status: 'running', eligible: 4 });
    for (let i = 0; i < 4; i++) {
      await settle();
      await endAll();
    }
    // b (priority 1) before c in the early group; then the late group: a and d (same priority, by name).
    expect(startedNames()).toEqual(['b', 'c', 'a', 'd']);
    expect(starts[0]!.options).toEqual({ trigger: 'scheduler', scheduleExecutionId: e.id, vmGroupId: early.id, scheduledBy: `manual:${s.name}`, fullSync: false });
    expect(starts[2]!.options.vmGroupId).toBe(late.id);
    const job = jobs.require(starts[0]!.jobId);
    expect(job).toMatchObject({ trigger: 'scheduler', scheduleExecutionId: e.id, vmGroupId: early.id, scheduledBy: `manual:${s.name}` });
    const done = await svc.whenExecutionEnds(e.id);
    expect(done).toMatchObject({ status: 'completed', eligible: 4, started: 4, completed: 4, failed: 0, skippedCount: 0 });
    expect(done.endedAt).not.toBeNull();
    // "Run now" is exactly one execution.
    expect(executions.list({ scheduleId: s.id })).toHaveLength(1);
    expect(schedules.require(s.id).lastRunAt).toBe('2026-06-01T10:00:00.000Z');
  });

  it('starts a VM that is in two groups once, with the first group', async () => {
    const shared = vm('shared');
    const s = schedule();
    const g1 = group(s.id, [shared], { priority: 1 });
    group(s.id, [shared, vm('other')], { priority: 2 });
    const e = svc.runNow(s.id);
    await settle();
    expect(starts.filter((x) => x.contextId === shared)).toHaveLength(1);
    expect(starts.find((x) => x.contextId === shared)!.options.vmGroupId).toBe(g1.id);
    expect(executions.require(e.id).eligible).toBe(2);
    await endAll();
    expect((await svc.whenExecutionEnds(e.id)).completed).toBe(2);
  });

  it('leaves out disabled members and disabled groups', async () => {
    const [a, b, c] = [vm('a'), vm('b'), vm('c')];
    const s = schedule();
    const g = group(s.id, [a, b]);
    groups.updateMember(g.id, b, { enabled: false });
    const off = group(s.id, [c]);
    groups.update(off.id, { enabled: false });
    const e = svc.runNow(s.id);
    await settle();
    expect(startedNames()).toEqual(['a']);
    expect(executions.require(e.id).eligible).toBe(1);
    await endAll();
  });

  it('records each skip reason per VM and starts only the VMs that pass', async () => {
    const names = ['ok', 'off', 'busy', 'failing', 'failedover', 'unreachable'];
    const ids = Object.fromEntries(names.map((n) => [n, vm(n, n === 'unreachable' ? 'vma-2' : 'vma-1')]));
    contexts.setEnabled(ids.off!, false);
    const uiJob = jobs.claim({ contextId: ids.busy!, trigger: 'ui' });
    const setStatus = (id: string, st: VmContextStatus) => db.prepare(`UPDATE vm_contexts SET current_status = ? WHERE id = ?`).run(st, id);
    setStatus(ids.failing!, 'failing_over');
    setStatus(ids.failedover!, 'failed_over_test');
    vmaDown.set('vma-2', 'SSH connection refused');
    const s = schedule();
    group(s.id, Object.values(ids));
    const e = svc.runNow(s.id);
    await settle();
    expect(startedNames()).toEqual(['ok']);
    await endAll();
    const done = await svc.whenExecutionEnds(e.id);
    expect(done.skipped).toEqual({
      vm_disabled: [ids.off],
      active_job: [ids.busy],
      failing_over: [ids.failing],
      failed_over: [ids.failedover],
      vma_unreachable: [ids.unreachable],
    });
    expect(done).toMatchObject({ eligible: 6, started: 1, completed: 1, skippedCount: 5, status: 'partial' });
    expect(jobs.require(uiJob.id).status).toBe('pending'); // the UI's job was left alone
  });

  it('skips every VM of a disabled schedule run by hand, recording why', async () => {
    const [a, b] = [vm('a'), vm('b')];
    const s = schedule({ enabled: false });
    group(s.id, [a, b]);
    const e = svc.runNow(s.id);
    await settle();
    expect(starts).toHaveLength(0);
    const done = await svc.whenExecutionEnds(e.id);
    expect(done).toMatchObject({ status: 'skipped', skippedCount: 2, skipped: { schedule_disabled: [a, b] } });
  });

  it('a VM that cannot be started fails alone with its reason and the run goes on', async () => {
    const [a, b] = [vm('a'), vm('b')];
    startFailures.set(a, 'a (VMware id x) is no longer in vCenter vc.test.invalid');
    const s = schedule();
    group(s.id, [a, b]);
    const e = svc.runNow(s.id);
    await settle();
    expect(startedNames()).toEqual(['b']);
    await endAll();
    const done = await svc.whenExecutionEnds(e.id);
    expect(done.startFailures).toEqual([{ vmContextId: a, error: 'a (VMware id x) is no longer in vCenter vc.test.invalid' }]);
    expect(done).toMatchObject({ status: 'partial', started: 1, completed: 1, failed: 1 });
  });

  it('discovers the VMs of one VMA in one request per batch; waiting VMs start from that answer while it is fresh', async () => {
    const ids = ['a', 'b', 'c', 'd'].map((n) => vm(n));
    const s = schedule({ maxConcurrentJobs: 2 });
    group(s.id, ids);
    const e = svc.runNow(s.id);
    await settle();
    expect(startedNames()).toEqual(['a', 'b']);
    // One request covered the two starting VMs and the two waiting ones.
    expect(discoveries).toEqual([ids]);
    await endAll();
    await settle();
    expect(startedNames()).toEqual(['a', 'b', 'c', 'd']);
    expect(discoveries).toHaveLength(1);
    await endAll();
    expect(await svc.whenExecutionEnds(e.id)).toMatchObject({ status: 'completed', completed: 4 });
    expect(svc.discoveryRequests.get(s.id)).toBe(1);
  });

  it('a waiting VM whose discovery grew old is discovered again at its turn (with the others still waiting)', async () => {
    const ids = ['a', 'b', 'c'].map((n) => vm(n));
    const s = schedule({ maxConcurrentJobs: 1 });
    group(s.id, ids);
    const e = svc.runNow(s.id);
    await settle();
    expect(discoveries).toEqual([ids]);
    await clock.advance(3 * 60_000);
    await end(starts[0]!.jobId, 'completed');
    await settle();
    expect(startedNames()).toEqual(['a', 'b']);
    expect(discoveries).toEqual([ids, [ids[1], ids[2]]]);
    await end(starts[1]!.jobId, 'completed');
    await settle();
    await endAll();
    expect(await svc.whenExecutionEnds(e.id)).toMatchObject({ completed: 3 });
    expect(discoveries).toHaveLength(2);
  });

  it('VMs of different VMAs are discovered in separate requests, each naming only its own VMs', async () => {
    const [a, b, c] = [vm('a', 'vma-1'), vm('b', 'vma-2'), vm('c', 'vma-1')];
    const s = schedule({ maxConcurrentJobs: 10 });
    group(s.id, [a, b, c]);
    svc.runNow(s.id);
    await settle();
    expect(startedNames().sort()).toEqual(['a', 'b', 'c']);
    expect(discoveries.map((d) => [...d].sort())).toEqual(expect.arrayContaining([[a, c].sort(), [b]]));
    expect(discoveries).toHaveLength(2);
  });

  it('a discovery request that fails fails each of its VMs with the reason; the run goes on and retries them', async () => {
    const [a, b] = [vm('a'), vm('b')];
    const s = schedule({ maxConcurrentJobs: 10, retryAttempts: 1, retryDelaySeconds: 30 });
    group(s.id, [a, b]);
    startFailures.set(a, 'Discovery of a failed: SSH tunnel to vma-1 is down');
    startFailures.set(b, 'Discovery of b failed: SSH tunnel to vma-1 is down');
    const e = svc.runNow(s.id);
    await settle();
    expect(starts).toHaveLength(0);
    startFailures.clear();
    await clock.advance(30_000);
    expect(startedNames().sort()).toEqual(['a', 'b']);
    await endAll();
    const done = await svc.whenExecutionEnds(e.id);
    expect(done).toMatchObject({ status: 'completed', completed: 2 });
    expect(done.startFailures.map((f) => f.error).sort()).toEqual(['Discovery of a failed: SSH tunnel to vma-1 is down', 'Discovery of b failed: SSH tunnel to vma-1 is down']);
  });

  it('a job started elsewhere between the check and the claim is recorded as an active-job skip', async () => {
    const a = vm('a');
    const s = schedule();
    group(s.id, [a]);
    // The VM is free when checked; the claim (inside the start) finds the UI's job.
    startFailures.delete(a);
    const original = jobs.claim.bind(jobs);
    let raced = false;
    jobs.claim = (input) => {
      if (!raced) {
        raced = true;
        original({ contextId: input.contextId, trigger: 'ui' });
      }
      return original(input);
    };
    const e = svc.runNow(s.id);
    await settle();
    const done = await svc.whenExecutionEnds(e.id);
    expect(done).toMatchObject({ status: 'skipped', skipped: { active_job: [a] }, failed: 0 });
  });

  it('a failover begun between the check and the claim is recorded as a failover skip, not a failure', async () => {
    const a = vm('a');
    const s = schedule({ retryAttempts: 3 });
    group(s.id, [a]);
    const original = jobs.claim.bind(jobs);
    jobs.claim = (input) => {
      db.prepare(`UPDATE vm_contexts SET current_status = 'failing_over' WHERE id = ?`).run(input.contextId);
      return original(input);
    };
    const e = svc.runNow(s.id);
    await settle();
    const done = await svc.whenExecutionEnds(e.id);
    expect(done).toMatchObject({ status: 'skipped', skipped: { failing_over: [a] }, failed: 0, retried: 0 });
  });

  it('sync type full asks the engine for full copies', async () => {
    const a = vm('a');
    db.prepare(`UPDATE vm_disks SET last_change_id = 'cid/1' WHERE vm_context_id = ?`).run(a);
    const s = schedule({ syncType: 'full' });
    group(s.id, [a]);
    svc.runNow(s.id);
    await settle();
    expect(starts[0]!.options.fullSync).toBe(true);
    expect(jobs.require(starts[0]!.jobId).jobType).toBe('initial');
    expect(jobs.jobDisks(starts[0]!.jobId)[0]!.previousChangeId).toBeNull();
    await endAll();
    // sync type auto keeps the incremental decision of the engine.
    const auto = schedule({ syncType: 'auto' });
    group(auto.id, [a]);
    svc.runNow(auto.id);
    await settle();
    expect(jobs.require(starts[1]!.jobId).jobType).toBe('incremental');
    await endAll();
  });
});

describe('concurrency', () => {
  it('never exceeds the schedule limit nor a group limit under a burst, and waiting VMs start as others end', async () => {
    const s = schedule({ maxConcurrentJobs: 5 });
    const gs = [0, 1, 2].map((i) => group(s.id, Array.from({ length: 12 }, (_, k) => vm(`g${i}-vm${k}`)), { maxConcurrentVms: i === 0 ? 2 : 3, priority: i }));
    const e = svc.runNow(s.id);
    await settle();
    expect(running.size).toBe(5);
    // End jobs in a scrambled order; every end lets exactly one more start while VMs wait.
    let rounds = 0;
    while (waiters.size > 0) {
      const ids = [...waiters.keys()];
      await end(ids[(rounds * 7) % ids.length]!, rounds % 5 === 0 ? 'failed' : 'completed');
      rounds++;
      expect(running.size).toBeLessThanOrEqual(5);
    }
    expect(starts).toHaveLength(36);
    expect(peak.all).toBe(5);
    expect(peak.byGroup.get(gs[0]!.id)).toBe(2);
    expect(Math.max(peak.byGroup.get(gs[1]!.id)!, peak.byGroup.get(gs[2]!.id)!)).toBeLessThanOrEqual(3);
    expect(svc.maxObserved.get(s.id)).toBe(5);
    const done = await svc.whenExecutionEnds(e.id);
    // Counters equal the jobs' real outcomes.
    const real = (st: string) => (db.prepare(`SELECT COUNT(*) n FROM replication_jobs WHERE schedule_execution_id = ? AND status = ?`).get(e.id, st) as { n: number }).n;
    expect(done).toMatchObject({ eligible: 36, started: 36, completed: real('completed'), failed: real('failed'), status: 'partial' });
    expect(done.completed + done.failed).toBe(36);
  });

  it('the group limit binds below the schedule limit', async () => {
    const s = schedule({ maxConcurrentJobs: 10 });
    group(s.id, Array.from({ length: 6 }, (_, k) => vm(`v${k}`)), { maxConcurrentVms: 2 });
    svc.runNow(s.id);
    await settle();
    expect(running.size).toBe(2);
    await end([...waiters.keys()][0]!, 'completed');
    expect(running.size).toBe(2);
    expect(starts).toHaveLength(3);
    while (waiters.size) await end([...waiters.keys()][0]!, 'completed');
    expect(peak.all).toBe(2);
  });
});

describe('retries', () => {
  it('retries a failed VM after the configured delay, as many times as configured, in the same execution', async () => {
    const a = vm('a');
    const s = schedule({ retryAttempts: 2, retryDelaySeconds: 600 });
    group(s.id, [a]);
    const e = svc.runNow(s.id);
    await settle();
    await end(starts[0]!.jobId, 'failed');
    await clock.advance(599_000);
    expect(starts).toHaveLength(1);
    await clock.advance(1_000);
    expect(starts).toHaveLength(2);
    await end(starts[1]!.jobId, 'failed');
    await clock.advance(600_000);
    expect(starts).toHaveLength(3);
    await end(starts[2]!.jobId, 'failed');
    await clock.advance(3_600_000);
    expect(starts).toHaveLength(3); // two retries, no third
    const done = await svc.whenExecutionEnds(e.id);
    expect(done).toMatchObject({ status: 'failed', started: 3, failed: 3, completed: 0, retried: 2 });
    expect(new Set(starts.map((x) => x.options.scheduleExecutionId))).toEqual(new Set([e.id]));
    expect(executions.list({ scheduleId: s.id })).toHaveLength(1);
  });

  it('a retry that succeeds makes the run complete; zero attempts means no retry', async () => {
    const [a, b] = [vm('a'), vm('b')];
    const s = schedule({ retryAttempts: 1, retryDelaySeconds: 30 });
    group(s.id, [a]);
    const e = svc.runNow(s.id);
    await settle();
    await end(starts[0]!.jobId, 'failed');
    expect(executions.require(e.id).status).toBe('running'); // not final while a retry is pending
    await clock.advance(30_000);
    await end(starts[1]!.jobId, 'completed');
    expect(await svc.whenExecutionEnds(e.id)).toMatchObject({ status: 'completed', started: 2, completed: 1, failed: 1, retried: 1 });

    const none = schedule({ retryAttempts: 0, retryDelaySeconds: 30 });
    group(none.id, [b]);
    const e2 = svc.runNow(none.id);
    await settle();
    await end(starts[2]!.jobId, 'failed');
    expect(clock.pending).toBe(0);
    expect(await svc.whenExecutionEnds(e2.id)).toMatchObject({ status: 'failed', retried: 0 });
  });
});

describe('firing, overlap and catch-up', () => {
  it('arms enabled schedules on start; a fire runs the schedule for that slot', async () => {
    const a = vm('a');
    const s = schedule({ cronExpression: '*/5 * * * *', timezone: 'UTC' });
    group(s.id, [a]);
    schedule({ cronExpression: '1 1 1 1 *', enabled: false });
    await svc.start();
    expect([...armed.keys()]).toEqual(['*/5 * * * *']);
    armed.get('*/5 * * * *')!.onFire(new Date('2026-06-01T10:05:00Z'));
    await settle();
    expect(startedNames()).toEqual(['a']);
    expect(executions.latest(s.id)).toMatchObject({ trigger: 'scheduled', scheduledFor: '2026-06-01T10:05:00.000Z' });
    expect(starts[0]!.options.scheduledBy).toBe(`scheduled:${s.name}`);
    await endAll();
  });

  it('skip-if-running on: a fire during a run is recorded as skipped and starts nothing', async () => {
    const a = vm('a');
    const s = schedule({ skipIfRunning: true });
    group(s.id, [a]);
    const first = svc.fire(s.id, new Date('2026-06-02T00:00:00Z'))!;
    await settle();
    const second = svc.fire(s.id, new Date('2026-06-03T00:00:00Z'))!;
    expect(second).toMatchObject({ status: 'skipped', note: expect.stringMatching(/previous run .* still running/) });
    await endAll();
    expect(starts).toHaveLength(1);
    expect((await svc.whenExecutionEnds(first.id)).status).toBe('completed');
    expect(() => svc.runNow(s.id)).not.toThrow();
    await settle();
    await endAll();
  });

  it('skip-if-running off: a fire during a run waits and runs once the run ends; runs never overlap', async () => {
    const a = vm('a');
    const s = schedule({ skipIfRunning: false });
    group(s.id, [a]);
    svc.fire(s.id, new Date('2026-06-02T00:00:00Z'));
    await settle();
    expect(svc.fire(s.id, new Date('2026-06-03T00:00:00Z'))).toBeNull();
    expect(svc.fire(s.id, new Date('2026-06-04T00:00:00Z'))).toBeNull(); // coalesced with the one waiting
    expect(() => svc.runNow(s.id)).toThrow(/already running/);
    expect(starts).toHaveLength(1);
    await end(starts[0]!.jobId, 'completed');
    expect(starts).toHaveLength(2);
    const list = executions.list({ scheduleId: s.id });
    expect(list.map((x) => x.status)).toEqual(['running', 'completed']);
    expect(list[0]!.scheduledFor).toBe('2026-06-04T00:00:00.000Z');
    await endAll();
    expect(executions.list({ scheduleId: s.id })).toHaveLength(2);
  });

  it('the database refuses a second running execution of one schedule (another process)', () => {
    const s = schedule();
    executions.open({ scheduleId: s.id, trigger: 'manual', scheduledFor: 'x', now: 'x' });
    expect(() => executions.open({ scheduleId: s.id, trigger: 'manual', scheduledFor: 'y', now: 'y' })).toThrow(/already running/);
  });

  it('catch-up run_once on start: missed slots while no owner ran give exactly one catch-up run for the latest slot', async () => {
    const a = vm('a');
    const s = schedule({ cronExpression: '0 * * * *', timezone: 'UTC', catchUp: 'run_once' });
    group(s.id, [a]);
    schedules.markSlot(s.id, '2026-06-01T06:00:00.000Z');
    db.prepare(`UPDATE schedules SET last_slot_at = '2026-06-01T06:00:00.000Z' WHERE id = ?`).run(s.id);
    await svc.start();
    await settle();
    const list = executions.list({ scheduleId: s.id });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ trigger: 'catch_up', scheduledFor: '2026-06-01T10:00:00.000Z' });
    expect(startedNames()).toEqual(['a']);
    await endAll();
    // Accounted for: a second start finds nothing missed.
    svc.stop();
    await svc.start();
    expect(executions.list({ scheduleId: s.id })).toHaveLength(1);
  });

  it('catch-up skip on start and on resume: missed slots are passed over, no run', async () => {
    const a = vm('a');
    const s = schedule({ cronExpression: '0 * * * *', timezone: 'UTC', catchUp: 'skip' });
    group(s.id, [a]);
    db.prepare(`UPDATE schedules SET last_slot_at = '2026-06-01T06:00:00.000Z' WHERE id = ?`).run(s.id);
    await svc.start();
    await clock.advance(3 * 3_600_000); // the machine sleeps through three slots
    svc.resume();
    await settle();
    expect(executions.list({ scheduleId: s.id })).toHaveLength(0);
    expect(schedules.lastSlotAt(s.id)).toBe('2026-06-01T13:00:00.000Z');
  });

  it('catch-up run_once on resume after sleep, and on node-cron noticing a missed slot', async () => {
    const a = vm('a');
    const s = schedule({ cronExpression: '30 * * * *', timezone: 'UTC', catchUp: 'run_once' });
    group(s.id, [a]);
    await svc.start();
    expect(executions.list({ scheduleId: s.id })).toHaveLength(0); // created just now: nothing missed
    await clock.advance(2 * 3_600_000);
    svc.resume();
    await settle();
    expect(executions.list({ scheduleId: s.id })[0]).toMatchObject({ trigger: 'catch_up', scheduledFor: '2026-06-01T11:30:00.000Z' });
    await endAll();
    await clock.advance(3_600_000);
    armed.get('30 * * * *')!.onMissed(new Date('2026-06-01T12:30:00Z'));
    await settle();
    expect(executions.list({ scheduleId: s.id })[0]).toMatchObject({ trigger: 'catch_up', scheduledFor: '2026-06-01T12:30:00.000Z' });
    expect(executions.list({ scheduleId: s.id })).toHaveLength(2);
    await endAll();
  });

  it('re-enabling a schedule does not replay the slots it spent disabled', async () => {
    const s = schedule({ cronExpression: '0 * * * *', timezone: 'UTC', catchUp: 'run_once', enabled: false });
    group(s.id, [vm('a')]);
    await svc.start();
    await clock.advance(5 * 3_600_000);
    svc.updateSchedule(s.id, { enabled: true });
    svc.resume();
    await settle();
    expect(executions.list({ scheduleId: s.id })).toHaveLength(0);
    expect(armed.has('0 * * * *')).toBe(true);
  });
});

describe('validation and restart', () => {
  it('refuses a bad expression or zone on create and update, naming the problem', () => {
    expect(() => schedule({ cronExpression: '0 2 * *' })).toThrow(/5 fields/);
    expect(() => schedule({ timezone: 'Europe/Nowhere' })).toThrow(/Unknown time zone/);
    const s = schedule();
    expect(() => svc.updateSchedule(s.id, { cronExpression: '99 * * * *' })).toThrow(/99/);
    expect(schedules.require(s.id).cronExpression).toBe('0 2 * * *');
    expect(svc.preview('0 2 * * *', 'Europe/Berlin', 2).map((d) => d.toISOString())).toEqual(['2026-06-02T00:00:00.000Z', '2026-06-03T00:00:00.000Z']);
  });

  it('an execution left running by a stopped process follows its jobs to the end, then becomes final', async () => {
    const [a, b] = [vm('a'), vm('b')];
    const s = schedule();
    const g = group(s.id, [a, b]);
    const open = executions.open({ scheduleId: s.id, trigger: 'scheduled', scheduledFor: '2026-06-01T00:00:00.000Z', now: '2026-06-01T00:00:00.000Z' });
    executions.setEligible(open.id, 2);
    const done = jobs.claim({ contextId: a, trigger: 'scheduler', scheduleExecutionId: open.id, vmGroupId: g.id });
    jobs.finish(done.id, 'completed', null);
    const live = jobs.claim({ contextId: b, trigger: 'scheduler', scheduleExecutionId: open.id, vmGroupId: g.id });
    await svc.start();
    await settle();
    expect(executions.require(open.id).status).toBe('running');
    await end(live.id, 'completed');
    expect(executions.require(open.id)).toMatchObject({ status: 'completed', started: 2, completed: 2, note: expect.stringMatching(/console stopped/) });
  });

  it('missed slots wait for a run left open to end, then get their one catch-up run', async () => {
    const [a, b] = [vm('a'), vm('b')];
    const s = schedule({ cronExpression: '0 * * * *', timezone: 'UTC', catchUp: 'run_once' });
    const g = group(s.id, [a, b]);
    db.prepare(`UPDATE schedules SET last_slot_at = '2026-06-01T06:00:00.000Z' WHERE id = ?`).run(s.id);
    const open = executions.open({ scheduleId: s.id, trigger: 'scheduled', scheduledFor: '2026-06-01T06:00:00.000Z', now: '2026-06-01T06:00:00.000Z' });
    executions.setEligible(open.id, 1);
    const live = jobs.claim({ contextId: a, trigger: 'scheduler', scheduleExecutionId: open.id, vmGroupId: g.id });
    await svc.start();
    await settle();
    expect(executions.list({ scheduleId: s.id })).toHaveLength(1);
    await end(live.id, 'completed');
    const list = executions.list({ scheduleId: s.id });
    expect(list.map((x) => [x.trigger, x.status])).toEqual([
      ['catch_up', 'running'],
      ['scheduled', 'completed'],
    ]);
    expect(list[0]!.scheduledFor).toBe('2026-06-01T10:00:00.000Z');
    await settle();
    await endAll();
  });

  it('final status rules', () => {
    expect(finalStatus([])).toBe('skipped');
    expect(finalStatus(['skipped'])).toBe('skipped');
    expect(finalStatus(['completed', 'completed'])).toBe('completed');
    expect(finalStatus(['failed', 'skipped'])).toBe('failed');
    expect(finalStatus(['completed', 'failed'])).toBe('partial');
    expect(finalStatus(['completed', 'skipped'])).toBe('partial');
  });
});
