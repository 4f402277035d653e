// One simulated migratekit copy process per replicate call. It reproduces the real copier's
// progress sequence and its faults (vma-api.md): nothing visible until the first push,
// `Initializing` 5 → `Creating Snapshot` 10, 15 → `Setting up NBD` 20 → `Preparing Migration` 30 →
// per disk `Transfer` 0..100 then `completed` 100 (so "completed" after the first of several disks),
// never a `failed` status, errors always empty. Failures are only logged and freeze the progress.
// Real bytes go to the NBD targets; change ids go to the console's callback API.
import { promises as fs } from 'node:fs';
import type { VmaNbdTarget } from '../../../main/vma/vma-types';
import type { DiskTargetOpener, DiskTargetWriter } from './disk-target-writer';
import type { SimDiskState, SimDiskStore } from './disk-store';
import type { SimVm } from './inventory';
import type { SimQuirks } from './vma-simulator';

export interface SimSpeed {
  /** Delay between replicate and the copier's first progress push (progress is 404 until then). */
  firstPushDelayMs: number;
  /** Pause between phases. */
  phaseDelayMs: number;
  /** Copy rate limit; 0 = as fast as the target takes it. */
  bytesPerSecond: number;
}

export interface ProgressSample {
  phase: string;
  status: string;
  percentage: number;
  syncType: string;
  diskId: string;
  bytesTransferred: number;
  totalBytes: number;
}

export interface CopierEnv {
  store: SimDiskStore;
  openTarget: DiskTargetOpener;
  speed: SimSpeed;
  /** True while the simulator's global crash fault is on. */
  crashed(): boolean;
  /** True while the test holds every copier (a pause it later releases; not a VMA behaviour). */
  held(): boolean;
  log(line: string): void;
  /** Post the change id before pushing the disk's `completed` (default) or after. */
  changeIdAfterCompleted: boolean;
  /** The simulator's optional behaviours, read at the time of use. */
  quirks(): Readonly<SimQuirks>;
  /** Called when a disk copy finishes (for tests that inspect what was written). */
  onDiskCopied?: (info: { jobId: string; diskId: string; syncType: 'full' | 'incremental'; blocks: number[]; changeId: string }) => void;
}

class Stopped extends Error {}

const MAX_RUN_BYTES = 1024 * 1024;
const HISTORY_LIMIT = 5_000;

export class SimCopyJob {
  state: 'running' | 'completed' | 'failed' = 'running';
  /** The wire body of GET /progress; null until the first push. */
  progress: Record<string, unknown> | null = null;
  readonly history: ProgressSample[] = [];
  readonly startedAt = new Date();
  private frozen = false;
  private readonly abort = new AbortController();
  private readonly aborted: Promise<void>;
  readonly done: Promise<void>;

  // Progress fields, pushed together.
  private phase = '';
  private phaseStart = new Date();
  private status = 'in_progress';
  private syncType: '' | 'full' | 'incremental' = '';
  private percentage = 0;
  private operation = '';
  private bytes = 0;
  private total = 0;
  private diskId = '';
  private transferStart = Date.now();
  private peakMbps = 0;
  private readonly phases: { name: string; status: string; start_time: string; end_time?: string }[] = [];

  constructor(
    readonly jobId: string,
    readonly vm: SimVm,
    private readonly targets: VmaNbdTarget[],
    private readonly omaUrl: string,
    private readonly env: CopierEnv,
  ) {
    this.aborted = new Promise((resolve) => this.abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.done = this.run().catch((e: unknown) => {
      if (!(e instanceof Stopped)) {
        this.env.log(`job ${jobId}: copier crashed: ${e instanceof Error ? e.message : String(e)}`);
        this.state = 'failed';
      }
    });
  }

  get vmPath(): string {
    return this.vm.path;
  }

  /** Stops the copy process (VMA restart, cleanup, simulator close). */
  stop(): void {
    this.abort.abort();
  }

  /** Freezes the copier in its current state, as a crashed real copier leaves it. */
  freeze(): void {
    this.frozen = true;
  }

  private async checkpoint(): Promise<void> {
    if (this.abort.signal.aborted) throw new Stopped();
    while (this.env.held() && !this.abort.signal.aborted) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, 20))), this.aborted]);
      clearTimeout(timer);
    }
    if (this.abort.signal.aborted) throw new Stopped();
    if (this.frozen || this.env.crashed()) {
      this.frozen = true;
      await this.aborted;
      throw new Stopped();
    }
  }

  private async sleep(ms: number): Promise<void> {
    await this.checkpoint();
    if (ms > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), this.aborted]);
      clearTimeout(timer);
    }
    await this.checkpoint();
  }

  private push(update: Partial<{ phase: string; status: string; syncType: '' | 'full' | 'incremental'; percentage: number; operation: string; bytes: number; total: number; diskId: string }>): void {
    if (update.phase !== undefined && update.phase !== this.phase) {
      const now = new Date();
      const last = this.phases.at(-1);
      if (last !== undefined) {
        last.status = 'completed';
        last.end_time = now.toISOString();
      }
      this.phases.push({ name: update.phase, status: 'in_progress', start_time: now.toISOString() });
      this.phase = update.phase;
      this.phaseStart = now;
    }
    if (update.status !== undefined) this.status = update.status;
    if (update.syncType !== undefined) this.syncType = update.syncType;
    if (update.percentage !== undefined) this.percentage = Math.round(update.percentage * 100) / 100;
    if (update.operation !== undefined) this.operation = update.operation;
    if (update.bytes !== undefined) this.bytes = update.bytes;
    if (update.total !== undefined) this.total = update.total;
    if (update.diskId !== undefined) this.diskId = update.diskId;

    const now = new Date();
    const transferSeconds = Math.max((Date.now() - this.transferStart) / 1000, 0.001);
    const mbps = this.phase === 'Transfer' ? this.bytes / (1024 * 1024) / transferSeconds : 0;
    this.peakMbps = Math.max(this.peakMbps, mbps);
    const bytesPerSecond = this.bytes / transferSeconds;
    const eta = this.phase === 'Transfer' && bytesPerSecond > 0 ? Math.round((this.total - this.bytes) / bytesPerSecond) : 0;
    this.progress = {
      job_id: this.jobId,
      status: this.status,
      sync_type: this.syncType,
      phase: this.phase,
      percentage: this.percentage,
      current_operation: this.operation,
      bytes_transferred: this.bytes,
      total_bytes: this.total,
      throughput: { current_mbps: mbps, average_mbps: mbps, peak_mbps: this.peakMbps, last_update: now.toISOString() },
      timing: {
        start_time: this.startedAt.toISOString(),
        last_update: now.toISOString(),
        elapsed_ms: now.getTime() - this.startedAt.getTime(),
        phase_start: this.phaseStart.toISOString(),
        phase_elapsed_ms: now.getTime() - this.phaseStart.getTime(),
        eta_seconds: eta,
      },
      vm_info: { name: this.vm.name, path: this.vm.path, cpus: this.vm.numCpu, memory_mb: this.vm.memoryMb, disk_count: this.vm.disks.length },
      phases: this.phases.map((p) => ({ ...p })),
      errors: [],
      last_error: null,
    };
    const sample: ProgressSample = {
      phase: this.phase,
      status: this.status,
      percentage: this.percentage,
      syncType: this.syncType,
      diskId: this.diskId,
      bytesTransferred: this.bytes,
      totalBytes: this.total,
    };
    const prev = this.history.at(-1);
    const minor =
      prev !== undefined &&
      prev.phase === sample.phase &&
      prev.status === sample.status &&
      prev.diskId === sample.diskId &&
      sample.percentage - prev.percentage < 1 &&
      sample.percentage !== 100;
    if (!minor && this.history.length < HISTORY_LIMIT) this.history.push(sample);
  }

  /** Stops this copy: logged only, the progress stays where it was (the real VMA reports nothing). */
  private giveUp(message: string): void {
    this.env.log(`job ${this.jobId}: ${message}`);
    this.state = 'failed';
  }

  private async run(): Promise<void> {
    const { env, vm } = this;
    await this.sleep(env.speed.firstPushDelayMs);
    this.push({ phase: 'Initializing', status: 'in_progress', percentage: 5, operation: 'Initializing migration' });
    await this.sleep(env.speed.phaseDelayMs);

    this.push({ phase: 'Creating Snapshot', percentage: 10, operation: 'Creating VM snapshot' });
    const disks: { spec: SimVm['disks'][number]; diskId: string; state: SimDiskState; snapshot: { changeId: string; epoch: number } }[] = [];
    for (const spec of vm.disks) {
      const state = await env.store.disk(vm.id, spec.key, spec.capacityBytes);
      disks.push({ spec, diskId: `disk-${spec.key}`, state, snapshot: env.store.snapshot(state) });
    }
    await this.sleep(env.speed.phaseDelayMs);
    this.push({ percentage: 15, operation: 'Snapshot created' });
    await this.sleep(env.speed.phaseDelayMs);

    this.push({ phase: 'Setting up NBD', percentage: 20, operation: 'Connecting to NBD targets' });
    const writers = new Map<string, DiskTargetWriter>();
    const closeAll = async (): Promise<void> => {
      await Promise.allSettled([...writers.values()].map((w) => w.close()));
    };
    try {
      for (const d of disks) {
        const target = this.targets.find((t) => t.vmware_disk_key === String(d.spec.key));
        if (target === undefined) {
          this.giveUp(`no NBD target for ${d.diskId}; copy not started`);
          return;
        }
        let writer: DiskTargetWriter;
        try {
          writer = await env.openTarget(target.device_path);
        } catch (e) {
          this.giveUp(`cannot open NBD target ${target.device_path} for ${d.diskId}: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
        writers.set(d.diskId, writer);
        if (writer.size < d.spec.capacityBytes) {
          this.giveUp(`NBD target ${target.device_path} (${writer.size} bytes) is smaller than ${d.diskId} (${d.spec.capacityBytes} bytes)`);
          return;
        }
      }
      await this.sleep(env.speed.phaseDelayMs);
      this.push({ phase: 'Preparing Migration', percentage: 30, operation: 'Preparing migration' });
      await this.sleep(env.speed.phaseDelayMs);

      for (const d of disks) {
        const previous = await this.lookupChangeId(d.diskId);
        await this.checkpoint();
        const since = previous === '' ? null : env.store.resolveChangeId(d.state, previous);
        if (previous !== '' && since === null) {
          env.log(`job ${this.jobId}: change id "${previous}" for ${d.diskId} refused by vCenter; doing a full copy`);
        }
        const syncType = since === null ? 'full' : 'incremental';
        const blocks = since === null ? env.store.allocatedBlocks(d.state) : env.store.changedBlocks(d.state, since, d.snapshot.epoch);
        await this.copyDisk(d.state, d.diskId, d.spec.label, syncType, blocks, writers.get(d.diskId)!);
        env.onDiskCopied?.({ jobId: this.jobId, diskId: d.diskId, syncType, blocks, changeId: d.snapshot.changeId });
        const empty = env.quirks().emptyChangeId?.({ jobId: this.jobId, diskId: d.diskId, syncType }) ?? false;
        const reported = empty ? '' : d.snapshot.changeId;
        if (!env.changeIdAfterCompleted) await this.reportChangeId(d.diskId, reported, previous);
        this.push({ status: 'completed', percentage: 100, operation: `Completed ${d.spec.label} (${d.diskId})` });
        if (env.changeIdAfterCompleted) await this.reportChangeId(d.diskId, reported, previous);
        await this.sleep(env.speed.phaseDelayMs);
      }
      this.state = 'completed';
    } finally {
      await closeAll();
    }
  }

  private async copyDisk(state: SimDiskState, diskId: string, label: string, syncType: 'full' | 'incremental', blocks: number[], writer: DiskTargetWriter): Promise<void> {
    const { store } = this.env;
    const total = blocks.reduce((n, i) => n + store.blockLength(state, i), 0);
    this.transferStart = Date.now();
    this.peakMbps = 0;
    this.push({ phase: 'Transfer', status: 'in_progress', syncType, percentage: 0, bytes: 0, total, diskId, operation: `Copying ${label} (${diskId}), ${syncType} sync` });
    const fh = await fs.open(state.filePath, 'r');
    let done = 0;
    let debtMs = 0;
    try {
      for (let k = 0; k < blocks.length; ) {
        // Coalesce contiguous blocks into one write.
        let end = k + 1;
        while (end < blocks.length && blocks[end] === blocks[end - 1]! + 1 && (end - k + 1) * state.blockSize <= MAX_RUN_BYTES) end++;
        const offset = blocks[k]! * state.blockSize;
        const length = blocks.slice(k, end).reduce((n, i) => n + store.blockLength(state, i), 0);
        const buf = Buffer.alloc(length);
        await fh.read(buf, 0, length, offset);
        await this.checkpoint();
        await writer.pwrite(buf, offset);
        done += length;
        k = end;
        this.push({ bytes: done, percentage: total === 0 ? 100 : (done / total) * 100 });
        const bps = this.env.speed.bytesPerSecond;
        if (bps > 0) {
          debtMs += (length / bps) * 1000;
          if (debtMs >= 5) {
            await this.sleep(debtMs);
            debtMs = 0;
          }
        }
        await this.checkpoint();
      }
      await writer.flush();
    } finally {
      await fh.close();
    }
    this.push({ bytes: total, percentage: 100 });
  }

  private async lookupChangeId(diskId: string): Promise<string> {
    const url = `${this.omaUrl}/api/v1/replications/changeid?vm_path=${encodeURIComponent(this.vm.path)}&disk_id=${encodeURIComponent(diskId)}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(10_000)]) });
      const text = await res.text();
      if (!res.ok) {
        this.env.log(`job ${this.jobId}: change id lookup for ${diskId} answered ${res.status}; doing a full copy`);
        return '';
      }
      const body = JSON.parse(text) as { change_id?: unknown };
      return typeof body.change_id === 'string' ? body.change_id : '';
    } catch (e) {
      if (this.abort.signal.aborted) throw new Stopped();
      this.env.log(`job ${this.jobId}: change id lookup for ${diskId} failed (${e instanceof Error ? e.message : String(e)}); doing a full copy`);
      return '';
    }
  }

  private async reportChangeId(diskId: string, changeId: string, previous: string): Promise<void> {
    const url = `${this.omaUrl}/api/v1/replications/${encodeURIComponent(this.jobId)}/changeid`;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // The public copier sends change_id and disk_id only (reference/vma-api.md).
        body: JSON.stringify({ change_id: changeId, disk_id: diskId, ...(this.env.quirks().sendPreviousChangeId ? { previous_change_id: previous } : {}) }),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(10_000)]),
      });
      await res.text();
      if (!res.ok) this.env.log(`job ${this.jobId}: storing change id for ${diskId} answered ${res.status}`);
    } catch (e) {
      if (this.abort.signal.aborted) throw new Stopped();
      this.env.log(`job ${this.jobId}: storing change id for ${diskId} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
