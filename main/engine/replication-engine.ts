import type { JobTrigger, ReplicationJob, TerminalJobStatus, VmContextSummary } from '../../shared/domain';
import { TERMINAL_JOB_STATUSES } from '../../shared/domain';
import type { DiscoveredVm } from '../../shared/discovery';
import { AppError } from '../../shared/errors';
import type { AppLogger } from '../base/app-log';
import type { DomainEvents } from '../base/domain-events';
import type { VmContextRepository } from '../db/repositories/vm-contexts';
import { pickManagedVm } from '../vma/normalise';
import { REPLICATION_STEP } from '../../shared/steps';
import { replicaTornText } from '../../shared/replica-state-text';
import type { EventBus } from '../ipc/event-bus';
import type { Logbook } from '../logbook/logbook';
import type { JobDiskRow, JobRepository } from './job-repository';
import type { EnginePorts, TargetSettings, VcenterLogin, VmaApi } from './ports';
import { missingChangeIdWarning, ProgressPoller, type PollerOptions } from './progress-poller';
import type { VolumeRepository } from './volume-repository';
import { runSteps, StepCancelled, type Step } from './step-runner';

export interface EngineDeps {
  contexts: VmContextRepository;
  jobs: JobRepository;
  volumes: VolumeRepository;
  logbook: Logbook;
  bus: EventBus;
  /** Internal facts (job started/ended, step changed, active job count) for the core's listeners. */
  events: DomainEvents;
  ports: EnginePorts;
  logger: AppLogger;
}

export interface EngineOptions {
  discoveryTimeoutMs: number;
  /** A discovery of several named VMs in one request (the VMA allows itself 60 s). */
  batchDiscoveryTimeoutMs: number;
  /** At most this many VM names in one discovery request. */
  discoveryBatchSize: number;
  /** startDiscovered refuses discovery data older than this: a job starts from what vCenter says now. */
  freshDiscoveryMaxAgeMs: number;
  /** A full-inventory discovery, used only to find a renamed VM by its VMware id. */
  fullDiscoveryTimeoutMs: number;
  /** Jobs in a setup step untouched for this long belong to no live process (see reconcile). */
  setupLeaseMs: number;
  poller: Partial<PollerOptions>;
  /**
   * The clock the poller's stall/not-found periods and the setup lease are measured on. Tests pass a
   * clock they can move forward, so those periods stay long and a loaded machine cannot trip them.
   */
  now: () => number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  discoveryTimeoutMs: 15_000,
  batchDiscoveryTimeoutMs: 60_000,
  discoveryBatchSize: 50,
  freshDiscoveryMaxAgeMs: 5 * 60_000,
  fullDiscoveryTimeoutMs: 120_000,
  setupLeaseMs: 2 * 60_000,
  poller: {},
  now: () => Date.now(),
};

const GIB = 1024 ** 3;
const CANCELLED_TEXT = 'Cancelled by the operator';

/** A setup step of a replication job; while it runs the job's status says which one. */
interface SetupStep extends Step {
  status: 'provisioning' | 'attaching' | 'exporting' | 'starting';
}
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface StartOptions {
  trigger: JobTrigger;
  scheduleExecutionId?: string | null;
  vmGroupId?: string | null;
  scheduledBy?: string | null;
  /** Copy every disk whole, ignoring stored change ids (a schedule with sync type `full`). */
  fullSync?: boolean;
}

/** What a discovery gathered for one managed VM, for startDiscovered; only this engine's discovery makes it. */
export interface FreshDiscovery {
  readonly contextId: string;
  readonly vm: DiscoveredVm;
  /** Epoch ms when the VMA answered. */
  readonly discoveredAt: number;
}

export type DiscoveryOutcome = { ok: true; fresh: FreshDiscovery } | { ok: false; error: AppError };

/**
 * The VMA's filter is a comma-separated list of case-insensitive substrings: a name containing a
 * comma is asked for by its longest comma-free part (a substring still returns it; the exact name
 * is picked from the answer).
 */
export function discoveryFilter(names: readonly string[]): string {
  const terms = names.map((n) => n.split(',').reduce((a, b) => (b.trim().length > a.length ? b.trim() : a), '')).filter((t) => t.length > 0);
  return [...new Set(terms)].join(',');
}

/**
 * The canonical replication path for every caller (UI, CLI, scheduler, failover final sync):
 * fresh discovery → normalise → claim → per-disk volume/attach/export → replicate → poll → one
 * terminal state. start() returns once the job row exists; the rest belongs to the engine.
 */
export class ReplicationEngine {
  readonly poller: ProgressPoller;
  private readonly opts: EngineOptions;
  private readonly runners = new Map<string, Promise<void>>();
  private readonly cancelled = new Set<string>();
  private readonly cleanups = new Set<Promise<void>>();
  private readonly unreachableNoted = new Set<string>();
  /** The log step of each job's copy on the VMA, while it runs. */
  private readonly copySteps = new Map<string, number>();
  /** Discovery data this engine produced: startDiscovered accepts nothing else. */
  private readonly issued = new WeakSet<FreshDiscovery>();
  private readonly settledWaiters = new Map<string, ((j: ReplicationJob) => void)[]>();
  /** Set by reconcile(): only a process that reconciled sweeps for orphaned setups. */
  private lastSweepAt: number | null = null;

  constructor(private readonly deps: EngineDeps, options: Partial<EngineOptions> = {}) {
    this.opts = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    this.poller = new ProgressPoller(
      {
        jobs: deps.jobs,
        vma: (id) => deps.ports.vma(id),
        finish: (jobId, outcome, error, warnings) => this.finish(jobId, outcome, error, warnings),
        emit: (u) => deps.bus.emit('jobs:progress', { updates: [u] }),
        note: (jobId, level, message) => this.event(jobId, level, message),
        phase: (jobId, name) => void deps.logbook.recordPhase(jobId, name, this.copyStepId(jobId)),
        beforeTick: () => this.sweepOrphanedSetups(),
        onPassError: (m) => deps.logger.warn(m),
        now: this.opts.now,
      },
      this.opts.poller,
    );
  }

  // ---- steps 1–4: on the caller's time -----------------------------------------------------------

  /** The UI and CLI entry: discovers this VM now (one request), then starts it as startDiscovered does. */
  async start(contextId: string, options: StartOptions): Promise<{ jobId: string }> {
    const ctx = this.startable(contextId, options);
    // Fail on missing configuration before touching anything (credentials resolved now, not cached).
    this.deps.ports.target();
    const found = (await this.discoverContexts([ctx.id])).get(ctx.id)!;
    if (!found.ok) throw found.error;
    return this.startWith(ctx, found.fresh.vm, options);
  }

  /**
   * The batch entry (the scheduler): starts from discovery data gathered for this run by
   * discoverContexts (several VMs in one VMA request); the rest is start()'s path, claim included.
   */
  async startDiscovered(contextId: string, fresh: FreshDiscovery, options: StartOptions): Promise<{ jobId: string }> {
    const ctx = this.startable(contextId, options);
    if (!this.issued.has(fresh) || fresh.contextId !== ctx.id) {
      throw new AppError('validation', `The discovery data given for ${ctx.name} was not gathered for it by this console; discover it again`);
    }
    const ageMs = this.opts.now() - fresh.discoveredAt;
    if (ageMs > this.opts.freshDiscoveryMaxAgeMs) {
      throw new AppError('validation', `The discovery data of ${ctx.name} is ${Math.round(ageMs / 1000)} s old (at most ${Math.round(this.opts.freshDiscoveryMaxAgeMs / 1000)} s); discover it again`);
    }
    this.deps.ports.target();
    return this.startWith(ctx, fresh.vm, options);
  }

  private startable(contextId: string, options: StartOptions): VmContextSummary {
    const ctx = this.deps.contexts.require(contextId);
    // A disabled VM is out of management until enabled again; a failover's final sync is the failover's own step.
    if (!ctx.enabled && options.trigger !== 'failover') {
      throw new AppError('conflict', `${ctx.name} is disabled for management; enable it to sync it`, { contextId: ctx.id });
    }
    if (!ctx.vmaApplianceId) throw new AppError('validation', `${ctx.name} has no VMA appliance; add it again from Discovery`);
    if (!ctx.credentialId) throw new AppError('validation', `${ctx.name} has no vCenter credential; add it again from Discovery`);
    if (ctx.currentJobId) {
      throw new AppError('conflict', `${ctx.name} already has an active replication job ${ctx.currentJobId}`, { jobId: ctx.currentJobId });
    }
    return ctx;
  }

  private async startWith(ctx: VmContextSummary, vm: DiscoveredVm, options: StartOptions): Promise<{ jobId: string }> {
    await this.ensurePreviousCopierGone(ctx);
    if (vm.disks.length === 0) throw new AppError('validation', `${vm.name} has no disks in vCenter; nothing to replicate`);
    this.deps.contexts.refreshSpecs(ctx.id, vm);
    const job = this.deps.jobs.claim({ contextId: ctx.id, ...options });
    this.deps.logbook.startOperation(job.id, 'replication', `${job.jobType === 'initial' ? 'Initial' : 'Incremental'} sync of ${vm.name}`, ctx.id);
    this.event(job.id, 'info', `Job created (${options.trigger}); ${vm.disks.length} disk(s): ${vm.disks.map((d) => d.diskKey).join(', ')}`);
    this.deps.events.emit({ type: 'job-started', jobId: job.id, vmContextId: ctx.id, trigger: options.trigger });
    this.deps.events.emit({ type: 'active-jobs-changed', count: this.deps.jobs.activeCount() });
    this.contextChanged(ctx.id);
    const runner = this.runSetup(job.id).finally(() => this.runners.delete(job.id));
    this.runners.set(job.id, runner);
    return { jobId: job.id };
  }

  /**
   * One writer per export: a job the console gave up on may still have its copier running on the VMA
   * (cleanup is asked for, but the VMA may not have acted yet). Its status says `running` for the life
   * of the copy process (reference/vma-api.md), so a new job waits until it is gone.
   */
  private async ensurePreviousCopierGone(ctx: VmContextSummary): Promise<void> {
    const previous = this.deps.jobs.list({ contextId: ctx.id, limit: 1 })[0];
    if (!previous || previous.status === 'completed' || !(TERMINAL_JOB_STATUSES as readonly string[]).includes(previous.status)) return;
    // Only a job that asked the VMA to copy can have left a copier behind.
    if (!this.deps.logbook.steps(previous.id).some((s) => s.name === REPLICATION_STEP.startCopy)) return;
    const answer = await this.deps.ports.vma(ctx.vmaApplianceId!).status(previous.id);
    if (answer.found && answer.status.status === 'running') {
      this.track(this.requestVmaCleanup(previous.id, ctx.vmaApplianceId!));
      throw new AppError(
        'conflict',
        `The VMA still runs the copy of ${ctx.name}'s previous job ${previous.id} (${previous.status}); it was asked again to stop it. Start the sync once that copy has stopped, so two copies never write the same volumes.`,
        { jobId: previous.id },
      );
    }
  }

  /**
   * Fresh discovery of managed VMs: one VMA request per VMA and credential (at most
   * discoveryBatchSize names each), each VM picked by its exact name and VMware id from the answer
   * through the one normaliser's pick. VMs missing by name (renamed in vCenter) are looked up by
   * VMware id in one full-inventory request per group. A VM that cannot be found, is ambiguous or
   * whose request failed gets its own error; the others are unaffected.
   */
  async discoverContexts(contextIds: readonly string[]): Promise<Map<string, DiscoveryOutcome>> {
    const out = new Map<string, DiscoveryOutcome>();
    const groups = new Map<string, VmContextSummary[]>();
    for (const id of new Set(contextIds)) {
      const ctx = this.deps.contexts.get(id);
      if (!ctx) {
        out.set(id, { ok: false, error: new AppError('not_found', `VM context ${id} is no longer managed`) });
        continue;
      }
      if (!ctx.vmaApplianceId || !ctx.credentialId) {
        out.set(id, { ok: false, error: new AppError('validation', `${ctx.name} has no ${ctx.vmaApplianceId ? 'vCenter credential' : 'VMA appliance'}; add it again from Discovery`) });
        continue;
      }
      const key = `${ctx.vmaApplianceId}\u0000${ctx.credentialId}`;
      groups.set(key, [...(groups.get(key) ?? []), ctx]);
    }
    const chunks: VmContextSummary[][] = [];
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += this.opts.discoveryBatchSize) chunks.push(group.slice(i, i + this.opts.discoveryBatchSize));
    }
    await Promise.all(chunks.map((chunk) => this.discoverChunk(chunk, out)));
    return out;
  }

  private async discoverChunk(chunk: VmContextSummary[], out: Map<string, DiscoveryOutcome>): Promise<void> {
    const first = chunk[0]!;
    const fail = (ctxs: VmContextSummary[], e: unknown) => {
      for (const c of ctxs) {
        const error = e instanceof AppError ? e : new AppError('internal', errorText(e));
        // Alone, the VMA's error is the answer (as it always was for start); in a batch it names the VM.
        out.set(c.id, { ok: false, error: chunk.length === 1 ? error : new AppError(error.code, `Discovery of ${c.name} failed: ${error.message}`, error.details) });
      }
    };
    const found = (c: VmContextSummary, vm: DiscoveredVm, at: number) => {
      const fresh: FreshDiscovery = { contextId: c.id, vm, discoveredAt: at };
      this.issued.add(fresh);
      out.set(c.id, { ok: true, fresh });
    };
    let login: VcenterLogin;
    let vma: VmaApi;
    try {
      vma = this.deps.ports.vma(first.vmaApplianceId!);
      login = this.deps.ports.login(first.credentialId!);
    } catch (e) {
      return fail(chunk, e);
    }
    const missing: VmContextSummary[] = [];
    try {
      const timeout = chunk.length === 1 ? this.opts.discoveryTimeoutMs : this.opts.batchDiscoveryTimeoutMs;
      const answer = await vma.discover(login, discoveryFilter(chunk.map((c) => c.name)), timeout);
      const at = this.opts.now();
      for (const c of chunk) {
        const pick = pickManagedVm(answer, { name: c.name, vmwareVmId: c.vmwareVmId });
        if (pick.kind === 'found') found(c, pick.vm, at);
        else if (pick.kind === 'conflict') out.set(c.id, { ok: false, error: new AppError('conflict', `${pick.reason}. Nothing was written.`) });
        else missing.push(c);
      }
    } catch (e) {
      return fail(chunk, e);
    }
    if (missing.length === 0) return;
    // Renamed in vCenter: look these VMs up by their VMware id in the whole inventory.
    try {
      const all = await vma.discover(login, undefined, this.opts.fullDiscoveryTimeoutMs);
      const at = this.opts.now();
      for (const c of missing) {
        const pick = pickManagedVm(all, { name: c.name, vmwareVmId: c.vmwareVmId });
        if (pick.kind === 'found') {
          this.deps.logger.info(`${c.name} was renamed in vCenter to ${pick.vm.name}; syncing it under its VMware id`);
          found(c, pick.vm, at);
        } else if (pick.kind === 'conflict') {
          out.set(c.id, { ok: false, error: new AppError('conflict', `${pick.reason}. Nothing was written.`) });
        } else {
          out.set(c.id, { ok: false, error: new AppError('not_found', `${c.name} (VMware id ${c.vmwareVmId}) is no longer in vCenter ${c.vcenterHost}`) });
        }
      }
    } catch (e) {
      fail(missing, e);
    }
  }

  // ---- steps 5–6: in the background -------------------------------------------------------------

  private async runSetup(jobId: string): Promise<void> {
    try {
      const job = this.deps.jobs.require(jobId);
      const ctx = this.deps.contexts.require(job.vmContextId);
      const target = this.deps.ports.target();
      const cs = this.deps.ports.cloudstack();
      const oma = this.deps.ports.oma(target.omaApplianceId);
      const disks = this.deps.jobs.jobDisks(jobId);
      const vmDisks = new Map(this.deps.contexts.disks(ctx.id).map((d) => [d.id, d]));

      const provision: SetupStep = { name: REPLICATION_STEP.provision, status: 'provisioning', run: async ({ note }) => {
        for (const d of disks) {
          const disk = vmDisks.get(d.vmDiskId)!;
          const existing = this.deps.volumes.forDisk(d.vmDiskId);
          if (existing) {
            const live = await cs.getVolume(existing.id);
            if (!live) {
              this.deps.volumes.markDeleted(existing.id);
              throw new AppError('not_found', `Volume ${existing.id} of ${d.diskKey} no longer exists in CloudStack; the next sync will create a new one`);
            }
            if (live.size < disk.capacityBytes) {
              throw new AppError('validation', `Volume ${existing.id} (${live.size} bytes) is smaller than ${d.diskKey} (${disk.capacityBytes} bytes); resize it or delete it`);
            }
            note(`${d.diskKey}: reusing volume ${existing.id}`);
            this.deps.jobs.setJobDiskTarget(jobId, d.vmDiskId, existing.id, null);
            continue;
          }
          const sizeGiB = Math.ceil((disk.capacityBytes * (1 + target.headroomPercent / 100)) / GIB);
          const name = `mkc-${ctx.name}-${d.diskKey}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 250);
          const vol = await cs.createVolume({ name, zoneId: target.zoneId, diskOfferingId: target.diskOfferingId, sizeGiB });
          this.deps.volumes.recordCreated({ id: vol.id, vmDiskId: d.vmDiskId, name, sizeBytes: vol.size || sizeGiB * GIB, zoneId: target.zoneId });
          // A new, empty target means this disk must be copied in full whatever the history says.
          this.deps.jobs.setJobDiskTarget(jobId, d.vmDiskId, vol.id, null, 'initial');
          note(`${d.diskKey}: created volume ${vol.id} (${sizeGiB} GiB)`);
        }
        this.refreshJobType(jobId);
      } };

      const attach: SetupStep = { name: REPLICATION_STEP.attach, status: 'attaching', run: async ({ note }) => {
        for (const d of this.deps.jobs.jobDisks(jobId)) {
          const live = await cs.getVolume(d.volumeId!);
          if (live?.virtualmachineid === target.omaVmId) {
            note(`${d.diskKey}: volume ${d.volumeId} already attached`);
          } else {
            if (live?.virtualmachineid) {
              throw new AppError('conflict', `Volume ${d.volumeId} of ${d.diskKey} is attached to another VM (${live.virtualmachineid})`);
            }
            await cs.attachVolume(d.volumeId!, target.omaVmId);
            note(`${d.diskKey}: attached volume ${d.volumeId}`);
          }
          this.deps.volumes.setState(d.volumeId!, 'attached', target.omaVmId);
        }
      } };

      const exportStep: SetupStep = { name: REPLICATION_STEP.export, status: 'exporting', run: async ({ note }) => {
        // Disks are independent here (each its own device, link and check), so they are published in
        // parallel, each in one remote command when nbdkit runs and the device is there (an
        // incremental whose exports exist); the OMA manager falls back to the step-by-step path
        // (start nbdkit, wait for the device) otherwise.
        const published = await Promise.allSettled(
          this.deps.jobs.jobDisks(jobId).map(async (d) => {
            const v = await oma.publishAndVerify(d.volumeId!);
            return { d, device: v.devicePath, exportName: v.exportName, size: v.sizeBytes };
          }),
        );
        const failed = published.find((p): p is PromiseRejectedResult => p.status === 'rejected');
        if (failed) throw failed.reason;
        for (const p of published) {
          const { d, device, exportName, size } = (p as PromiseFulfilledResult<{ d: JobDiskRow; device: string; exportName: string; size: number }>).value;
          const disk = vmDisks.get(d.vmDiskId)!;
          if (size < disk.capacityBytes) {
            throw new AppError('validation', `Export ${exportName} is ${size} bytes, smaller than ${d.diskKey} (${disk.capacityBytes} bytes)`);
          }
          this.deps.volumes.setState(d.volumeId!, 'attached', target.omaVmId, device);
          this.deps.volumes.recordExport(d.volumeId!, exportName, target.omaApplianceId, device);
          this.deps.jobs.setJobDiskTarget(jobId, d.vmDiskId, d.volumeId!, exportName);
          note(`${d.diskKey}: ${device} published as ${exportName} (${size} bytes) and opens`);
        }
      } };

      const startCopy: SetupStep = { name: REPLICATION_STEP.startCopy, status: 'starting', run: async ({ note }) => {
        const rows = this.deps.jobs.jobDisks(jobId);
        this.verifyMapping(rows);
        const login = this.deps.ports.login(ctx.credentialId!);
        const current = this.deps.contexts.require(ctx.id);
        const request = {
          job_id: jobId,
          vcenter: login.vcenter,
          username: login.username,
          password: login.password,
          vm_paths: [current.path],
          // Checked and issued right before the request: our own forward is bound and carries this job's token.
          oma_url: await this.deps.ports.callbackUrl(ctx.vmaApplianceId!, jobId),
          nbd_targets: rows.map((d) => ({
            device_path: nbdUrl(target, d.exportName!),
            vmware_disk_key: d.diskKey.replace(/^disk-/, ''),
          })),
        };
        this.throwIfCancelled(jobId);
        const vma = this.deps.ports.vma(ctx.vmaApplianceId!);
        // Recorded before sending: even a request that times out may have started a copy that writes the volumes.
        this.deps.jobs.markCopyRequested(jobId);
        try {
          await vma.replicate(request);
        } catch (e) {
          // A timeout or a lost answer does not mean the VMA refused: stop whatever it may have started,
          // or a copy nobody follows keeps writing to these volumes.
          await vma.cleanup(jobId).then(
            () => note('Replicate request failed; VMA cleanup requested in case it started the copy'),
            (c: unknown) => note(`Replicate request failed and the VMA cleanup failed too (${errorText(c)}); check the VMA for a copy of ${jobId}`),
          );
          throw e;
        }
        this.deps.jobs.addPolled(jobId, ctx.vmaApplianceId, new Date(this.opts.now()));
        note(`VMA accepted the job; ${rows.map((d) => `${d.diskKey} → ${d.exportName} (${d.syncType})`).join(', ')}`);
      } };

      await runSteps([provision, attach, exportStep, startCopy], {
        operationId: jobId,
        logbook: this.deps.logbook,
        isCancelled: () => this.cancelled.has(jobId),
        cancelledMessage: CANCELLED_TEXT,
        // The job row carries the step as its status and phase: a job that ended meanwhile (cancelled,
        // swept) must not be moved back into setup.
        enter: (step) => {
          if (!this.deps.jobs.update(jobId, { status: step.status, phase: step.name })) throw new AppError('conflict', `Job ${jobId} already ended`);
          this.emitJob(jobId);
        },
        onEvent: (e) => {
          if (e.type === 'compensated') return;
          const status = e.type === 'step-started' ? 'running' : e.outcome === 'skipped' ? 'completed' : e.outcome;
          const ended = e.type === 'step-ended' ? e : null;
          this.deps.events.emit({
            type: 'step-changed',
            kind: 'replication',
            operationId: jobId,
            vmContextId: ctx.id,
            step: e.step,
            status,
            durationMs: ended?.durationMs ?? null,
            error: ended?.error ?? null,
          });
        },
      });
      this.deps.jobs.update(jobId, { status: 'replicating', phase: 'Waiting for the VMA' });
      this.startCopyStep(jobId);
      this.contextChanged(ctx.id);
    } catch (e) {
      const cancelled = this.cancelled.has(jobId);
      this.finish(jobId, cancelled ? 'cancelled' : 'failed', cancelled ? CANCELLED_TEXT : errorText(e));
    }
  }

  /** Lesson 8: every disk has its own volume and export, named after that volume, before the copy starts. */
  private verifyMapping(rows: JobDiskRow[]): void {
    const volumes = new Set<string>();
    for (const d of rows) {
      if (!d.volumeId || !d.exportName) throw new AppError('internal', `${d.diskKey} has no volume or export mapped`);
      if (d.exportName !== `migration-vol-${d.volumeId}`) throw new AppError('internal', `${d.diskKey}: export ${d.exportName} does not belong to volume ${d.volumeId}`);
      if (volumes.has(d.volumeId)) throw new AppError('internal', `Volume ${d.volumeId} is mapped to two disks`);
      volumes.add(d.volumeId);
    }
  }

  private refreshJobType(jobId: string): void {
    const initial = this.deps.jobs.jobDisks(jobId).some((d) => d.syncType === 'initial');
    this.deps.jobs.setJobType(jobId, initial ? 'initial' : 'incremental');
  }

  private throwIfCancelled(jobId: string): void {
    if (this.cancelled.has(jobId)) throw new StepCancelled(CANCELLED_TEXT);
  }

  // ---- step 7 and the one terminal path ---------------------------------------------------------

  /** The only way a job ends: DB terminal write + context recompute (one transaction), log, events. */
  finish(jobId: string, outcome: TerminalJobStatus, error: string | null, warnings: string[] = []): boolean {
    // Read before the terminal write removes the job from the polled list: the VMA accepted this job.
    const vmaApplianceId = outcome === 'failed' ? this.deps.jobs.polledAppliance(jobId) : null;
    const changed = this.deps.jobs.finish(jobId, outcome, error);
    if (!changed) return false;
    // Giving up on a copy the VMA accepted (stalled, lost, unreachable, swept) must also stop it there,
    // or it keeps writing the volumes the next job of this VM will use.
    if (vmaApplianceId) this.track(this.requestVmaCleanup(jobId, vmaApplianceId));
    const job = this.deps.jobs.require(jobId);
    const all = [...warnings];
    if (outcome === 'completed') {
      for (const d of this.deps.jobs.jobDisks(jobId)) {
        const w = d.changeId ? null : missingChangeIdWarning(d);
        if (w && !all.includes(w)) all.push(w);
      }
    }
    for (const w of all) this.event(jobId, 'warn', w);
    const torn = this.deps.contexts.get(job.vmContextId);
    if (outcome !== 'completed' && torn?.replicaTornJobId === jobId) this.event(jobId, 'warn', replicaTornText(torn)!);
    this.noteCopied(job);
    this.deps.logbook.closeOpenSteps(jobId, outcome === 'completed' ? 'completed' : outcome === 'cancelled' ? 'cancelled' : 'failed', error);
    this.event(jobId, outcome === 'failed' ? 'error' : 'info', outcome === 'completed' ? 'Replication completed' : `Replication ${outcome}${error ? `: ${error}` : ''}`);
    this.deps.logbook.finishOperation(jobId, outcome, error);
    this.emitJob(jobId);
    this.contextChanged(job.vmContextId);
    this.deps.events.emit({ type: 'job-ended', jobId, vmContextId: job.vmContextId, outcome, error });
    this.deps.events.emit({ type: 'active-jobs-changed', count: this.deps.jobs.activeCount() });
    for (const w of this.settledWaiters.get(jobId) ?? []) w(job);
    this.settledWaiters.delete(jobId);
    return true;
  }

  private async requestVmaCleanup(jobId: string, vmaApplianceId: string): Promise<void> {
    try {
      await this.deps.ports.vma(vmaApplianceId).cleanup(jobId);
      this.event(jobId, 'info', 'VMA cleanup requested (cleanup_all) for the copy the console gave up on; the VMA accepted it');
    } catch (e) {
      this.event(jobId, 'warn', `VMA cleanup of the abandoned copy failed (${errorText(e)}); check the VMA for a copy of ${jobId} before the next sync`);
    }
  }

  /** Background work that shutdown and tests wait for (drain). */
  private track(p: Promise<void>): void {
    this.cleanups.add(p);
    void p.finally(() => this.cleanups.delete(p));
  }

  /** Resolves when the job reaches its terminal state (for the CLI and tests). */
  whenSettled(jobId: string): Promise<ReplicationJob> {
    const job = this.deps.jobs.require(jobId);
    if (['completed', 'failed', 'cancelled'].includes(job.status)) return Promise.resolve(job);
    return new Promise((resolve) => this.settledWaiters.set(jobId, [...(this.settledWaiters.get(jobId) ?? []), resolve]));
  }

  async cancel(jobId: string): Promise<ReplicationJob> {
    const job = this.deps.jobs.require(jobId);
    if (['completed', 'failed', 'cancelled'].includes(job.status)) {
      throw new AppError('conflict', `Job ${jobId} already ${job.status}`);
    }
    this.cancelled.add(jobId);
    // Setup stops at its next step boundary, but a replicate request already in flight still starts
    // the copy: wait for the runner first, then ask the VMA to stop whatever it accepted.
    const runner = this.runners.get(jobId);
    if (runner) await runner;
    const now = this.deps.jobs.require(jobId);
    if (['completed', 'failed', 'cancelled'].includes(now.status)) return now;
    const ctx = this.deps.contexts.require(now.vmContextId);
    if (ctx.vmaApplianceId && ['starting', 'replicating'].includes(now.status)) {
      try {
        await this.deps.ports.vma(ctx.vmaApplianceId).cleanup(jobId);
        this.event(jobId, 'info', 'VMA cleanup requested (cleanup_all)');
      } catch (e) {
        this.event(jobId, 'warn', `VMA cleanup failed: ${errorText(e)}; the copy may still be running on the VMA`);
      }
    }
    this.finish(jobId, 'cancelled', CANCELLED_TEXT);
    return this.deps.jobs.require(jobId);
  }

  async deleteJob(jobId: string, deleteVolumes: boolean): Promise<void> {
    const job = this.deps.jobs.require(jobId);
    if (!['completed', 'failed', 'cancelled'].includes(job.status)) {
      throw new AppError('conflict', `Job ${jobId} is still ${job.status}; cancel it before deleting it`);
    }
    if (deleteVolumes) {
      const ctx = this.deps.contexts.require(job.vmContextId);
      if (ctx.currentJobId) throw new AppError('conflict', `${ctx.name} has an active job ${ctx.currentJobId}; its volumes are in use`);
      const target = this.deps.ports.target();
      const cs = this.deps.ports.cloudstack();
      const oma = this.deps.ports.oma(target.omaApplianceId);
      for (const d of this.deps.jobs.jobDisks(jobId)) {
        if (!d.volumeId) continue;
        const v = this.deps.volumes.get(d.volumeId);
        if (!v || v.state === 'deleted') continue;
        await oma.withdrawExport(v.id);
        this.deps.volumes.markExportRemoved(v.id);
        const live = await cs.getVolume(v.id);
        if (live?.virtualmachineid) await cs.detachVolume(v.id);
        if (live) await cs.deleteVolume(v.id);
        this.deps.volumes.markDeleted(v.id);
      }
    }
    this.deps.jobs.delete(jobId);
    this.contextChanged(job.vmContextId);
  }

  /**
   * On start: jobs the poller owned resume polling (with their timers reset); jobs left in a setup
   * step by a process that is gone are asked about at the VMA or failed with the reason.
   */
  async reconcile(now: number = this.opts.now()): Promise<{ resumed: number; failed: number }> {
    const resumed = this.poller.resumeAfterRestart();
    this.lastSweepAt = now;
    return { resumed, failed: await this.failOrphanedSetups(now) };
  }

  /**
   * A setup step whose lease had not run out at start may still belong to a live process (a CLI
   * run); when it runs out later nobody owns the job, so the check repeats while the console runs.
   * Otherwise such a job would hold its VM's current job forever.
   */
  private async sweepOrphanedSetups(now: number = this.opts.now()): Promise<void> {
    if (this.lastSweepAt === null || now - this.lastSweepAt < Math.min(10_000, this.opts.setupLeaseMs / 4)) return;
    this.lastSweepAt = now;
    await this.failOrphanedSetups(now);
  }

  private async failOrphanedSetups(now: number): Promise<number> {
    let failed = 0;
    for (const job of this.deps.jobs.activeUnpolled()) {
      if (this.runners.has(job.id)) continue;
      if (now - Date.parse(job.updatedAt) < this.opts.setupLeaseMs) continue;
      const ctx = this.deps.contexts.get(job.vmContextId);
      if (job.status === 'starting' && ctx?.vmaApplianceId) {
        let known: Awaited<ReturnType<ReturnType<EnginePorts['vma']>['progress']>>;
        try {
          known = await this.deps.ports.vma(ctx.vmaApplianceId).progress(job.id);
        } catch (e) {
          // Unreachable is not "not found": the VMA may be running this copy. Ask again at the next sweep.
          if (!this.unreachableNoted.has(job.id)) {
            this.unreachableNoted.add(job.id);
            this.event(job.id, 'warn', `Cannot ask the VMA whether it runs this job (${errorText(e)}); retrying before deciding`);
          }
          continue;
        }
        this.unreachableNoted.delete(job.id);
        if (known.found) {
          this.deps.jobs.addPolled(job.id, ctx.vmaApplianceId, new Date(this.opts.now()));
          this.event(job.id, 'info', 'The VMA knows this job: polling resumed after restart');
          continue;
        }
      }
      if (this.finish(job.id, 'failed', `interrupted: the console stopped while the job was ${job.status}; start the replication again`)) failed++;
    }
    return failed;
  }

  /**
   * The copy on the VMA is a step of the job log like the setup steps: it starts once the VMA accepted
   * the job and is closed with the job's outcome (finish). The VMA phases are recorded on it.
   */
  private startCopyStep(jobId: string): void {
    const job = this.deps.jobs.get(jobId);
    // Ended meanwhile (cancelled while the last setup step finished): nothing is copying.
    if (!job || (TERMINAL_JOB_STATUSES as readonly string[]).includes(job.status)) return;
    const step = this.deps.logbook.startStep(jobId, REPLICATION_STEP.copy);
    this.deps.events.emit({
      type: 'step-changed',
      kind: 'replication',
      operationId: jobId,
      vmContextId: job.vmContextId,
      step: REPLICATION_STEP.copy,
      status: 'running',
      durationMs: null,
      error: null,
    });
    this.copySteps.set(jobId, step.id);
  }

  /** The running copy step of a job (from the log after a restart), or null before the copy started. */
  private copyStepId(jobId: string): number | null {
    const known = this.copySteps.get(jobId);
    if (known !== undefined) return known;
    const step = this.deps.logbook.steps(jobId).find((s) => s.name === REPLICATION_STEP.copy && s.status === 'running');
    if (step) this.copySteps.set(jobId, step.id);
    return step?.id ?? null;
  }

  /** What the copy moved, at what rate, as the last event of its step (before finish closes it). */
  private noteCopied(job: ReplicationJob): void {
    const stepId = this.copyStepId(job.id);
    this.copySteps.delete(job.id);
    if (stepId === null) return;
    const started = this.deps.logbook.step(stepId)?.startedAt;
    // The step times are the logbook's (wall clock), so the rate is measured on the same clock.
    const seconds = started ? Math.max(0, (Date.now() - Date.parse(started)) / 1000) : null;
    const rateBps = seconds && seconds > 0 ? Math.round(job.bytesTransferred / seconds) : null;
    const MiB = 1024 * 1024;
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    this.deps.logbook.event(
      job.id,
      'info',
      `Copy on the VMA: ${mib(job.bytesTransferred)} of ${mib(job.totalBytes)} moved${seconds !== null ? ` in ${seconds.toFixed(1)} s` : ''}${rateBps !== null ? ` (${mib(rateBps)}/s)` : ''}`,
      { bytesTransferred: job.bytesTransferred, totalBytes: job.totalBytes, rateBps },
      stepId,
    );
  }

  private event(jobId: string, level: 'info' | 'warn' | 'error', message: string): void {
    if (this.deps.logbook.operation(jobId)) this.deps.logbook.event(jobId, level, message);
    else this.deps.logger[level === 'error' ? 'error' : level === 'warn' ? 'warn' : 'info'](`${jobId}: ${message}`);
  }

  private emitJob(jobId: string): void {
    const j = this.deps.jobs.get(jobId);
    if (!j) return;
    this.deps.bus.emit('jobs:progress', {
      updates: [
        {
          jobId: j.id,
          vmContextId: j.vmContextId,
          status: j.status,
          phase: j.phase,
          progressPercent: j.progressPercent,
          bytesTransferred: j.bytesTransferred,
          totalBytes: j.totalBytes,
          rateBps: j.rateBps,
          etaSeconds: j.etaSeconds,
          error: j.error,
          disks: this.deps.jobs.jobDisks(j.id).map((d) => ({ diskKey: d.diskKey, status: d.status, percent: d.percent, bytesTransferred: d.bytesTransferred, totalBytes: d.totalBytes })),
        },
      ],
    });
  }

  private contextChanged(contextId: string): void {
    const c = this.deps.contexts.get(contextId);
    if (c) this.deps.bus.emit('contexts:changed', { contexts: [c], removedIds: [] });
  }

  /** Waits for background setup work (shutdown and tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.runners.values()]);
    await Promise.all([...this.cleanups]);
  }
}

export function nbdUrl(target: Pick<TargetSettings, 'nbdHost' | 'nbdPort'>, exportName: string): string {
  const host = target.nbdHost.includes(':') ? `[${target.nbdHost}]` : target.nbdHost;
  return `nbd://${host}:${target.nbdPort}/${exportName}`;
}
