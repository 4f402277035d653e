// Benchmark 3 (issue "Replication engine", issue 13): wall time and console CPU of one initial and
// several incremental syncs on the lab rig (real sshd, real nbdkit started over SSH, VMA and
// CloudStack simulators), with the time of each engine step from the job log, and the console's
// own time: wall time outside every interval in which it waited for a simulator (a CloudStack or
// VMA API call, async-job waits included, or the VMA copier running).
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

/** Epoch ms with sub-ms resolution (the simulators report wall-clock times). */
const nowMs = (): number => performance.timeOrigin + performance.now();

interface Interval {
  kind: 'cloudstack' | 'vma' | 'omaSsh' | 'vmaCopier';
  what: string;
  start: number;
  end: number;
}

/** Wraps every method of `target` so that each call's duration lands in `out` (async or not). */
function timed<T extends object>(target: T, kind: Interval['kind'], out: Interval[]): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const start = nowMs();
        const r = (v as (...a: unknown[]) => unknown).apply(t, args);
        const done = () => out.push({ kind, what: String(prop), start, end: nowMs() });
        if (r instanceof Promise) return r.finally(done);
        done();
        return r;
      };
    },
  });
}

/** Total length of the union of intervals, clipped to [from, to]. */
function unionMs(intervals: readonly { start: number; end: number }[], from: number, to: number): number {
  const xs = intervals
    .map((i) => ({ start: Math.max(from, i.start), end: Math.min(to, i.end) }))
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let current: { start: number; end: number } | null = null;
  for (const i of xs) {
    if (current === null || i.start > current.end) {
      if (current !== null) total += current.end - current.start;
      current = { ...i };
    } else current.end = Math.max(current.end, i.end);
  }
  return current === null ? total : total + current.end - current.start;
}

export async function benchEngineOverhead(cleanup: Cleanup, override: Partial<EngineBenchParams> = {}): Promise<Record<string, unknown>> {
  const p = { ...DEFAULTS, ...override };
  const rig = await startRig({ inventory: smallInventory() });
  cleanup.add('lab rig (bench 3: sshd, nbdkit, simulators)', () => rig.close());
  const ctxId = (await rig.manage([VM]))[VM];
  if (!ctxId) throw new Error(`${VM} could not be put under management`);
  await rig.core.startBackground();
  const spec = rig.vma.inventory.get(VM)!;
  // The console's outbound boundaries, timed from outside the product: CloudStack client, VMA
  // client (through the SSH tunnel) and OMA commands over SSH.
  const calls: Interval[] = [];
  const core = rig.core;
  const csClient = core.cloudstack.client.bind(core.cloudstack);
  core.cloudstack.client = () => timed(csClient(), 'cloudstack', calls);
  const vmaOf = core.appliances.vma.bind(core.appliances);
  core.appliances.vma = async (id) => timed(await vmaOf(id), 'vma', calls);
  const shellOf = core.appliances.shell.bind(core.appliances);
  core.appliances.shell = async (id) => timed(await shellOf(id), 'omaSsh', calls);

  const syncs: Record<string, unknown>[] = [];
  for (let i = 0; i <= p.incrementalSyncs; i++) {
    if (i > 0) for (const d of spec.disks) await rig.vma.mutateDisk(VM, d.key, { blocks: p.mutatedBlocksPerDisk, seed: 1000 + i * 10 + d.key });
    const cpu0 = process.cpuUsage();
    const callsBefore = calls.length;
    const e0 = nowMs();
    const t0 = performance.now();
    const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
    const startReturnedMs = performance.now() - t0;
    const cpuAtStartReturn = cpuMsSince(cpu0);
    const job = await rig.core.engine.whenSettled(jobId);
    const wallMs = performance.now() - t0;
    const e1 = e0 + wallMs;
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
    const mine = calls.slice(callsBefore);
    const timing = (sim?.progress?.['timing'] ?? {}) as { elapsed_ms?: number; last_update?: string };
    const copier: Interval[] =
      timing.elapsed_ms !== undefined && timing.last_update
        ? [{ kind: 'vmaCopier', what: 'copier', start: Date.parse(timing.last_update) - timing.elapsed_ms, end: Date.parse(timing.last_update) }]
        : [];
    const simWaits = [...mine.filter((c) => c.kind !== 'omaSsh'), ...copier];
    const waitingOnSimulatorsMs = unionMs(simWaits, e0, e1);
    const sumBy = (kind: Interval['kind']) => round(mine.filter((c) => c.kind === kind).reduce((s, c) => s + c.end - c.start, 0), 1);
    const countBy = (kind: Interval['kind']) => mine.filter((c) => c.kind === kind).length;
    // Completion latency: the last change-ID callback the console accepted → the job settled.
    const callbackAt = rig.core.logbook
      .events({ operationId: jobId })
      .filter((e) => / finished; change id .* stored$/.test(e.message))
      .map((e) => Date.parse(e.createdAt));
    const lastCallbackAt = callbackAt.length > 0 ? Math.max(...callbackAt) : null;
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
      consoleOutsideSimulatorsMs: round(wallMs - waitingOnSimulatorsMs, 1),
      waitingOnSimulatorsMs: round(waitingOnSimulatorsMs, 1),
      outboundCalls: {
        cloudstack: { count: countBy('cloudstack'), totalMs: sumBy('cloudstack') },
        vma: { count: countBy('vma'), totalMs: sumBy('vma') },
        omaSshCommands: { count: countBy('omaSsh'), totalMs: sumBy('omaSsh') },
      },
      lastChangeIdCallbackToSettledMs: lastCallbackAt === null ? null : round(e1 - lastCallbackAt, 1),
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
      consoleOutsideSimulatorsMs: round(median(incr.map((s) => s.consoleOutsideSimulatorsMs as number)), 1),
      lastChangeIdCallbackToSettledMs: round(median(incr.map((s) => (s.lastChangeIdCallbackToSettledMs as number | null) ?? NaN)), 1),
      publishExportsStepMs: median(incr.map((s) => ((s.steps as { name: string; durationMs: number | null }[]).find((x) => x.name === 'Publish NBD exports')?.durationMs ?? NaN))),
      omaSshCommands: median(incr.map((s) => (s.outboundCalls as { omaSshCommands: { count: number } }).omaSshCommands.count)),
      processCpuTotalMs: round(median(incr.map((s) => (s.processCpuMs as { totalMs: number }).totalMs)), 1),
      stepsTotalMs: round(median(incr.map((s) => s.stepsTotalMs as number)), 1),
    },
    notes: [
      'CPU is process.cpuUsage() of the bench process, which also runs the VMA and CloudStack simulators (rig design). It therefore INCLUDES simulator work: the VMA copier reading source files and writing every byte over NBD, the CloudStack API answering, the callback stand-ins. sshd and nbdkit are separate processes and are not included.',
      'processCpuMsUntilStartReturned is the part up to engine.start() returning (fresh single-VM discovery through the SSH tunnel, normalise, atomic claim): simulator work there is one discovery answer, so it is nearly all console CPU.',
      'Most of the wall time is deliberate simulator pacing (async job delay, by-id link delay 100 ms, first push delay, poll interval 250 ms); vmaCopierElapsedMs is the simulated copier from replicate to its last push, afterCopierToSettledMs the remainder until the engine recorded the terminal state (poll interval granularity).',
      'Step durations are from the job log (core.logbook.steps(jobId).durationMs).',
      'consoleOutsideSimulatorsMs = wall time − the union of the intervals in which the console awaited a simulator: each CloudStack client call (async-job waits included), each VMA client call (through the SSH tunnel) and the VMA copier from its start to its last push (simulator record). What remains is the console itself: its own work, its SSH commands to the OMA appliance (sshd and nbdkit are real, the number of commands is the console\'s choice; shown in outboundCalls.omaSshCommands), its waits between polls and the time until it notices completion.',
      'lastChangeIdCallbackToSettledMs: from the job log event of the last change-ID callback the console accepted to engine.whenSettled returning (issue 13: within 0.5 s).',
    ],
  };
}
