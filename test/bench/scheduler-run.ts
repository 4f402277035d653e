// Benchmark 6 (issue "Scheduled syncs", issue 9): one run of a schedule over 1,000 VMs in groups with
// a concurrency limit of 50. The real SchedulerService over the real SQLite repositories of a real
// Core; fresh discovery is the engine's real batch discovery (engine.discoverContexts) through the
// real SSH tunnel to the VMA simulator (child process, no added latency); VMA checks are the real
// appliance connect. The engine's start is NOT the real one: a full replication (CloudStack volumes,
// nbdkit over SSH, copies) for 1,000 VMs does not fit a benchmark run, so the start port claims the
// job with the real JobRepository (the engine's own claim and conflict rules) and ends it after a
// short delay the way the engine does (change ids, then one terminal write). The printed summary says so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { JobStatus } from '../../shared/domain';
import { Core } from '../../main/core/core';
import { InMemorySecretStore } from '../../main/secrets/memory-store';
import { SchedulerService } from '../../main/scheduler/scheduler-service';
import type { SchedulerPorts } from '../../main/scheduler/ports';
import { createVmaClient } from '../../main/vma/vma-client';
import { startSshd } from '../fixtures/sshd';
import type { Cleanup } from './cleanup';
import { cpuMsSince, distribution, round } from './stats';
import { connectBenchVma, startSimChild } from './sim-child';

export interface SchedulerBenchParams {
  vms: number;
  groups: number;
  concurrency: number;
  /** How long each stand-in job "runs" before it ends. */
  jobMs: number;
}

const DEFAULTS: SchedulerBenchParams = { vms: 1000, groups: 10, concurrency: 50, jobMs: 50 };

export const SCHEDULER_START_NOTE =
  'engine start replaced: the start port claims each job with the real JobRepository and ends it after a short delay; discovery, VMA checks, scheduler and SQLite are real';

export async function benchSchedulerRun(cleanup: Cleanup, override: Partial<SchedulerBenchParams> = {}): Promise<Record<string, unknown>> {
  const p = { ...DEFAULTS, ...override };
  const vcenter = 'vcenter.bench.invalid';
  const datacenter = 'BenchDC';
  const login = { username: 'svc-bench@bench.invalid', password: `bench-${Math.random().toString(36).slice(2)}` };
  const sim = await startSimChild(
    { vcenterHost: vcenter, datacenter, vms: p.vms, diskCapacityBytes: 16 * 1024 * 1024, blockSize: 16 * 1024, initialDataBlocks: 4, bytesPerSecond: 1024 * 1024, seed: 9 },
    cleanup,
  );
  const sshd = await startSshd();
  cleanup.add('sshd (bench 6)', () => sshd.dispose());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-bench-sched-'));
  cleanup.add('scheduler data dir', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const core = new Core({ dataDir, transport: 'dev-bridge', secrets: new InMemorySecretStore() });
  cleanup.add('core (bench 6)', () => core.close());
  const vma = await connectBenchVma(core, sshd, sim.port);
  const cred = core.credentials.add({ name: 'bench-vcenter', vcenterHost: vcenter, username: login.username, datacenter, password: login.password });

  // --- setup (not measured): 1,000 managed VMs in groups of one schedule -------------------------
  const discovered = await createVmaClient({ baseUrl: sim.url }).discover({ vcenter, datacenter, ...login }, { timeoutMs: 60_000 });
  if (discovered.vms.length !== p.vms) throw new Error(`the simulator listed ${discovered.vms.length} VMs, expected ${p.vms}`);
  const contextIds = core.db.transaction(() =>
    discovered.vms.map((vm) => core.contexts.add({ vm, vcenterHost: vcenter, credentialId: cred.id, vmaApplianceId: vma.id }).id),
  )();

  // Stand-in for the engine's long-running part (see the header): claim, then end after jobMs.
  const ends = new Map<string, Promise<{ status: JobStatus; error: string | null }>>();
  let running = 0;
  let maxRunningClaimed = 0;
  let maxActiveInDb = 0;
  const claimTimes: number[] = [];
  const endTimes: number[] = [];
  const pending = new Set<NodeJS.Timeout>();
  cleanup.add('stand-in job timers', () => pending.forEach((t) => clearTimeout(t)));
  let discoverCalls = 0;
  const discoverMs: number[] = [];
  const ports: SchedulerPorts = {
    clock: { now: () => new Date(), setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout) },
    discover: async (ids) => {
      discoverCalls++;
      const t = performance.now();
      try {
        return await core.engine.discoverContexts(ids);
      } finally {
        discoverMs.push(performance.now() - t);
      }
    },
    startDiscovered: async (contextId, fresh, o) => {
      if (fresh.contextId !== contextId) throw new Error(`started ${contextId} with the discovery of ${fresh.contextId}`);
      // What the engine writes before its claim (disk specs from the fresh answer), then its claim.
      core.contexts.refreshSpecs(contextId, fresh.vm);
      const job = core.jobs.claim({ contextId, ...o });
      claimTimes.push(performance.now());
      running++;
      maxRunningClaimed = Math.max(maxRunningClaimed, running);
      // The database's own count of active jobs, independent of any counter kept here or in the scheduler.
      maxActiveInDb = Math.max(maxActiveInDb, core.jobs.activeCount());
      ends.set(
        job.id,
        new Promise((resolve) => {
          const t = setTimeout(() => {
            pending.delete(t);
            for (const d of core.jobs.jobDisks(job.id)) core.jobs.recordChangeId(job.id, d.diskKey, '52 0a 1b 2c/7');
            core.jobs.finish(job.id, 'completed', null);
            running--;
            endTimes.push(performance.now());
            resolve({ status: 'completed', error: null });
          }, p.jobMs);
          pending.add(t);
        }),
      );
      return { jobId: job.id };
    },
    whenJobEnds: (jobId) => ends.get(jobId) ?? Promise.reject(new Error(`no stand-in job ${jobId}`)),
    vmaProblem: async (applianceId) => {
      const s = await core.appliances.connect(applianceId);
      return s.state === 'ready' ? null : (s.reason ?? s.state);
    },
    // Never armed: the run is started by hand ("run now").
    arm: () => ({ stop: () => {} }),
  };
  const svc = new SchedulerService({ schedules: core.schedules, groups: core.groups, executions: core.executions, contexts: core.contexts, logger: core.logger, logbook: core.logbook, ports });
  cleanup.add('scheduler (bench 6)', () => svc.stop());
  const schedule = svc.createSchedule({ name: 'bench-1000', cronExpression: '0 3 1 1 *', timezone: 'UTC', maxConcurrentJobs: p.concurrency });
  const perGroup = Math.ceil(p.vms / p.groups);
  const groupIds: string[] = [];
  for (let g = 0; g < p.groups; g++) {
    const group = core.groups.create({ name: `bench-group-${g}`, description: '', scheduleId: schedule.id, maxConcurrentVms: p.concurrency, priority: 100 + g, enabled: true, replicaAgeTargetSeconds: null });
    core.groups.addMembers(group.id, contextIds.slice(g * perGroup, (g + 1) * perGroup));
    groupIds.push(group.id);
  }
  // A VM may belong to several groups; one run starts it once (the first group's members again in the second).
  if (groupIds.length > 1) core.groups.addMembers(groupIds[1]!, contextIds.slice(0, Math.min(50, perGroup)));

  // --- measured: one run ----------------------------------------------------------------------
  const before = await sim.requests();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const execution = svc.runNow(schedule.id);
  const runNowMs = performance.now() - t0;
  const final = await svc.whenExecutionEnds(execution.id);
  const wallMs = performance.now() - t0;
  const cpu = cpuMsSince(cpu0);
  const after = await sim.requests();
  const delta = (endpoint: string) => (after[endpoint] ?? 0) - (before[endpoint] ?? 0);

  const lastClaimMs = Math.max(...claimTimes) - t0;
  const waves = Math.ceil(p.vms / p.concurrency);
  const idealMs = waves * p.jobMs;
  // Slot refill: from a job's end to the next claim (how long a freed slot stays empty).
  const sortedClaims = [...claimTimes].sort((a, b) => a - b);
  const refill: number[] = [];
  for (const e of endTimes) {
    const next = sortedClaims.find((c) => c >= e);
    if (next !== undefined) refill.push(next - e);
  }
  const schedulerMax = svc.maxObserved.get(schedule.id) ?? null;
  const maxRunning = Math.max(maxRunningClaimed, maxActiveInDb, schedulerMax ?? 0);
  const result = {
    method: SCHEDULER_START_NOTE,
    vms: p.vms,
    groups: p.groups,
    concurrencyLimit: p.concurrency,
    standInJobMs: p.jobMs,
    execution: { status: final.status, eligible: final.eligible, started: final.started, completed: final.completed, failed: final.failed, skippedCount: final.skippedCount, startFailures: final.startFailures.length },
    runNowReturnMs: round(runNowMs, 1),
    dispatchAllMs: round(lastClaimMs, 1),
    runWallMs: round(wallMs, 1),
    idealWallMs: idealMs,
    schedulerOverheadPerVmMs: round((wallMs - idealMs) / p.vms, 3),
    consoleCpuMsPerVm: round(cpu.totalMs / p.vms, 3),
    slotRefillMs: distribution(refill),
    discovery: { vmaDiscoverRequests: delta('discover'), portCalls: discoverCalls, countedByScheduler: svc.discoveryRequests.get(schedule.id) ?? null, callMs: distribution(discoverMs) },
    vmaRequestsByEndpoint: Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)])),
    maxRunning: { max: maxRunning, claimedNotEnded: maxRunningClaimed, activeJobsInDatabase: maxActiveInDb, scheduler: schedulerMax },
  };
  if (maxRunning > p.concurrency) throw new Error(`concurrency exceeded: ${maxRunning} jobs running at once (limit ${p.concurrency}); ${JSON.stringify(result)}`);
  if (final.completed !== p.vms || final.status !== 'completed') throw new Error(`the run did not complete every VM: ${JSON.stringify(result.execution)}`);
  return result;
}
