// Benchmark 3 (issue "Replication engine"): wall time and console CPU of one initial and several
// incremental syncs on the lab rig (real sshd, real nbdkit started over SSH, VMA and CloudStack
// simulators), with the time of each engine step from the job log.
import { performance } from 'node:perf_hooks';
import { startRig, smallInventory } from '../lab/rig';
import type { Cleanup } from './cleanup';
import { cpuMsSince, median, round } from './stats';

export interface EngineBenchParams {
  incrementalSyncs: number;
  mutatedBlocksPerDisk: number;
}

const DEFAULTS: EngineBenchParams = { incrementalSyncs: 3, mutatedBlocksPerDisk: 8 };
const VM = 'pgtest1';

export async function benchEngineOverhead(cleanup: Cleanup, override: Partial<EngineBenchParams> = {}): Promise<Record<string, unknown>> {
  const p = { ...DEFAULTS, ...override };
  const rig = await startRig({ inventory: smallInventory() });
  cleanup.add('lab rig (bench 3: sshd, nbdkit, simulators)', () => rig.close());
  const ctxId = (await rig.manage([VM]))[VM];
  if (!ctxId) throw new Error(`${VM} could not be put under management`);
  await rig.core.startBackground();
  const spec = rig.vma.inventory.get(VM)!;

  const syncs: Record<string, unknown>[] = [];
  for (let i = 0; i <= p.incrementalSyncs; i++) {
    if (i > 0) for (const d of spec.disks) await rig.vma.mutateDisk(VM, d.key, { blocks: p.mutatedBlocksPerDisk, seed: 1000 + i * 10 + d.key });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
    const startReturnedMs = performance.now() - t0;
    const cpuAtStartReturn = cpuMsSince(cpu0);
    const job = await rig.core.engine.whenSettled(jobId);
    const wallMs = performance.now() - t0;
    const cpu = cpuMsSince(cpu0);
    if (job.status !== 'completed') throw new Error(`sync ${i} ended ${job.status}: ${job.error ?? ''}`);
    const rawSteps = rig.core.logbook.steps(jobId);
    const steps = rawSteps.map((s) => ({ name: s.name, status: s.status, durationMs: s.durationMs }));
    // The job log events of the slowest step, with their offset into it, show where its time goes.
    const slowest = [...rawSteps].sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0))[0];
    const slowestStepEvents = slowest?.startedAt
      ? rig.core.logbook
          .events({ operationId: jobId })
          .filter((e) => e.stepId === slowest.id)
          .map((e) => ({ atMs: Date.parse(e.createdAt) - Date.parse(slowest.startedAt!), level: e.level, message: e.message }))
      : [];
    const sim = rig.vma.jobs.get(jobId);
    const simTiming = (sim?.progress?.['timing'] ?? {}) as { elapsed_ms?: number };
    const transfer = (sim?.history ?? []).filter((h) => h.phase === 'Transfer' && h.percentage === 100);
    const bytesCopied = transfer.reduce((s, h) => s + h.totalBytes, 0);
    const stepsMs = steps.reduce((s, x) => s + (x.durationMs ?? 0), 0);
    syncs.push({
      jobId,
      jobType: job.jobType,
      wallMs: round(wallMs, 1),
      engineStartReturnedMs: round(startReturnedMs, 1),
      stepsTotalMs: stepsMs,
      steps,
      slowestStep: slowest ? { name: slowest.name, durationMs: slowest.durationMs, events: slowestStepEvents } : null,
      vmaCopierElapsedMs: simTiming.elapsed_ms ?? null,
      bytesCopiedBySimulator: bytesCopied,
      afterCopierToSettledMs: simTiming.elapsed_ms === undefined ? null : round(wallMs - startReturnedMs - stepsMs - simTiming.elapsed_ms, 1),
      processCpuMs: cpu,
      processCpuMsUntilStartReturned: cpuAtStartReturn,
      processCpuShareOfWallPercent: round((cpu.totalMs / wallMs) * 100, 1),
    });
  }
  const incr = syncs.filter((s) => s.jobType === 'incremental');
  return {
    parameters: {
      ...p,
      vm: `${VM} (2 disks: 24 MiB + 16 MiB sparse, 5 data blocks of 64 KiB each initially)`,
      rig: 'test/lab/rig.ts startRig({inventory: smallInventory()}): real OpenSSH sshd for both appliances, real nbdkit started over SSH by the OMA manager, VMA + CloudStack simulators in this process; poller interval 250 ms, CloudStack async job delay 30 ms, VMA first push 150 ms and phase delay 10 ms',
      trigger: 'rig.core.engine.start(ctxId, {trigger:"cli"}) then engine.whenSettled(jobId)',
    },
    units: { '*Ms': 'ms', processCpuMs: 'ms of CPU (user+system) of this Node process', processCpuShareOfWallPercent: '% of one core', bytesCopiedBySimulator: 'bytes' },
    initial: syncs[0],
    incremental: incr,
    incrementalMedian: {
      wallMs: round(median(incr.map((s) => s.wallMs as number)), 1),
      processCpuTotalMs: round(median(incr.map((s) => (s.processCpuMs as { totalMs: number }).totalMs)), 1),
      stepsTotalMs: round(median(incr.map((s) => s.stepsTotalMs as number)), 1),
    },
    notes: [
      'CPU is process.cpuUsage() of the bench process, which also runs the VMA and CloudStack simulators (rig design). It therefore INCLUDES simulator work: the VMA copier reading source files and writing every byte over NBD, the CloudStack API answering, the callback stand-ins. sshd and nbdkit are separate processes and are not included.',
      'processCpuMsUntilStartReturned is the part up to engine.start() returning (fresh single-VM discovery through the SSH tunnel, normalise, atomic claim): simulator work there is one discovery answer, so it is nearly all console CPU.',
      'Most of the wall time is deliberate simulator pacing (async job delay, by-id link delay 100 ms, first push delay, poll interval 250 ms); vmaCopierElapsedMs is the simulated copier from replicate to its last push, afterCopierToSettledMs the remainder until the engine recorded the terminal state (poll interval granularity).',
      'Step durations are from the job log (core.logbook.steps(jobId).durationMs).',
    ],
  };
}
