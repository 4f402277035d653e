// Test failover and its rollback. Each phase is a recorded step of the job log; a failover ends in
// exactly one truthful state: `completed` (VM failed_over_test), `failed` after its compensations
// ran (VM back to ready_for_failover), or `cleanup_required` when a compensation failed too
// (lesson 18). The work runs in the owner, independent of whoever asked for it (lesson 15).
import type { FailoverStatus, FailoverType, VmContextSummary, VmDisk, VmNetwork } from '../../shared/domain';
import { AppError, isAppError } from '../../shared/errors';
import {
  FAILOVER_PHASES,
  FAILOVER_WORKING_STATUSES,
  findingRef,
  type BootEvidence,
  type Failover,
  type FailoverPhase,
  type FailoverSnapshot,
  type FailoverValidation,
  type FailoverRunOptions,
  type NetworkMapping,
  type NicEvidence,
  type SourceOnFailure,
  type Finding,
} from '../../shared/failover';
import type { CloudStackClient } from '../cloudstack/client';
import type { CsVirtualMachine } from '../cloudstack/types';
import type { VmContextRepository } from '../db/repositories/vm-contexts';
import type { FailoverRepository } from '../db/repositories/failovers';
import type { NetworkMappingRepository } from '../db/repositories/network-mappings';
import type { VolumeRepository } from '../engine/volume-repository';
import type { Logbook } from '../logbook/logbook';
import type { AppLogger } from '../base/app-log';
import { isoNow } from '../base/ids';
import { attachOrder, resolveBootDisk } from './boot-disk';
import { checkPort } from './port-check';
import type { FailoverPorts, FailoverSettings } from './ports';
import { summarise, uncovered, validateFailover, type ValidationFacts, type VolumeFacts } from './validation';

export interface FailoverOptions {
  /** How long the started VM may take to be reported Running. */
  runningWaitMs: number;
  pollIntervalMs: number;
  /** Bounded wait for each listed TCP port. */
  portWaitMs: number;
  portIntervalMs: number;
  /** Limit of one connection attempt (the appliance's shell must start within it too). */
  portAttemptSeconds: number;
  /** Pause before another try of an undo phase after a timeout (multiplied by the try number). */
  retryDelayMs: number;
  /** Live: how long a graceful shutdown of the source may take before it is forced. */
  powerOffTimeoutMs: number;
  powerPollMs: number;
  /** Live: how long the final sync may take (it is cancelled after that and the failover fails). */
  finalSyncTimeoutMs: number;
  /** Sent with custom service offerings, which need a CPU speed besides count and memory. */
  cpuSpeedMhz: number;
}

const DEFAULTS: FailoverOptions = { runningWaitMs: 5 * 60_000, pollIntervalMs: 2_000, portWaitMs: 120_000, portIntervalMs: 3_000, portAttemptSeconds: 10, retryDelayMs: 2_000, powerOffTimeoutMs: 5 * 60_000, powerPollMs: 2_000, finalSyncTimeoutMs: 30 * 60_000, cpuSpeedMhz: 1000 };

export interface StartFailoverInput {
  kind: FailoverType;
  /** Defaults to `<vm>-test-<timestamp>`. */
  vmName?: string;
  /** TCP ports to check from the OMA appliance once the VM runs. */
  ports?: number[];
  /** Accepts these error findings (`code` or `code:subject`), recorded with who did it. */
  override?: { by: string; findings: string[] };
  /** Live only: the VM's name as the operator typed it. */
  confirmName?: string;
  /** Live: graceful shutdown time before forcing (the service's default when absent). */
  powerOffTimeoutSeconds?: number;
  /** Live: false skips the final sync; recorded as a warning finding. */
  finalSync?: boolean;
  /** Live: power the source back on if the failover fails (default) or leave it off. */
  sourceOnFailure?: SourceOnFailure;
  /** Ask for the source NICs' MAC addresses (see macFindings for what CloudStack allows). */
  keepMacAddresses?: boolean;
}

export interface FailoverDeps {
  contexts: VmContextRepository;
  failovers: FailoverRepository;
  mappings: NetworkMappingRepository;
  volumes: VolumeRepository;
  logbook: Logbook;
  logger: AppLogger;
  ports: FailoverPorts;
  /** Told whenever a VM's status may have changed. */
  onContextChanged?: (contextId: string) => void;
}

/** Undo phases are idempotent, so a transient failure gets this many tries in all. */
const UNDO_ATTEMPTS = 3;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CloudStack VM names are host names: letters, digits and hyphens, at most 63, starting with a letter. */
export function testVmName(vmName: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const base = vmName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'vm';
  const suffix = `-test-${stamp}`;
  const head = /^[a-z]/.test(base) ? base : `vm-${base}`;
  return `${head.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** The live VM keeps the VM's real name, as a valid CloudStack host name. */
export function liveVmName(vmName: string): string {
  const base = vmName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'vm';
  return (/^[a-z]/.test(base) ? base : `vm-${base}`).slice(0, 63).replace(/-+$/, '');
}

/** Where each disk's replica volume is and what it is called. */
interface DiskPlan {
  disk: VmDisk;
  volumeId: string;
}

export class FailoverService {
  private readonly options: FailoverOptions;
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;
  /** Waits that end at shutdown rather than with their work (the final sync). */
  private readonly onInterrupt = new Set<() => void>();

  constructor(private readonly deps: FailoverDeps, options: Partial<FailoverOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  list(filter: { contextId?: string; limit?: number } = {}): Failover[] {
    return this.deps.failovers.list(filter);
  }

  get(id: string): Failover {
    return this.deps.failovers.require(id);
  }

  // ---------------------------------------------------------------- validation

  private missingConfig(s: FailoverSettings): string[] {
    return (['zoneId', 'templateId', 'serviceOfferingId', 'omaVmId', 'omaApplianceId'] as const).filter((k) => !s[k]);
  }

  /** Gathers the facts (database, CloudStack) and runs the pure validation over them. */
  async validate(contextId: string, kind: FailoverType): Promise<FailoverValidation> {
    const ctx = this.deps.contexts.require(contextId);
    const disks = this.deps.contexts.disks(contextId);
    let settings: FailoverSettings;
    try {
      settings = this.deps.ports.settings();
    } catch {
      settings = { zoneId: null, templateId: null, serviceOfferingId: null, omaVmId: null, omaApplianceId: null };
    }
    const facts: ValidationFacts = {
      kind,
      vm: {
        name: ctx.name,
        status: ctx.status,
        lastSuccessfulJobId: ctx.lastSuccessfulJobId,
        cpus: ctx.specs.cpus,
        memoryMb: ctx.specs.memoryMb,
        networks: ctx.specs.networks,
      },
      disks: disks.map((d) => ({ diskKey: d.diskKey, unitNumber: d.unitNumber, lastChangeId: d.lastChangeId, volumeId: d.cloudstackVolumeId })),
      bootDiskChoice: this.deps.mappings.bootDisk(contextId),
      activeJobId: ctx.currentJobId,
      missingConfig: this.missingConfig(settings),
      omaVmId: settings.omaVmId,
      volumes: null,
      mappings: this.deps.mappings.forContext(contextId),
      networkIds: null,
      offering: null,
    };
    if (kind === 'live') {
      try {
        facts.sourcePower = await this.deps.ports.power(contextId).state();
      } catch (e) {
        facts.sourcePower = null;
        facts.sourcePowerError = message(e);
      }
    }
    try {
      const cs = this.deps.ports.cloudstack();
      const volumes: VolumeFacts[] = [];
      for (const d of disks) {
        if (!d.cloudstackVolumeId) continue;
        const v = await this.findVolume(cs, d.cloudstackVolumeId);
        if (v) volumes.push({ id: v.id, ...(v.virtualmachineid ? { virtualmachineid: v.virtualmachineid } : {}), state: v.state });
      }
      facts.volumes = volumes;
      facts.networkIds = (await cs.listNetworks(settings.zoneId ? { zoneid: settings.zoneId } : {})).map((n) => n.id);
      if (settings.serviceOfferingId) {
        const o = (await cs.listServiceOfferings()).find((x) => x.id === settings.serviceOfferingId);
        if (o) facts.offering = o;
        else facts.missingConfig.push(`service offering ${settings.serviceOfferingId} (not listed by CloudStack)`);
      }
    } catch (e) {
      facts.cloudstackError = message(e);
    }
    return summarise(kind, validateFailover(facts));
  }

  private async findVolume(cs: CloudStackClient, id: string) {
    try {
      return (await cs.listVolumes({ id })).find((v) => v.id === id) ?? null;
    } catch (e) {
      // CloudStack answers 431 for an id it does not know: the volume is not there.
      if (isAppError(e) && e.code === 'validation') return null;
      throw e;
    }
  }

  // ---------------------------------------------------------------- start

  /**
   * Validates, claims the VM (failing_over) and starts the failover in the background. A blocking
   * finding that the override does not name stops it here, before anything is touched.
   */
  async start(contextId: string, input: StartFailoverInput): Promise<Failover> {
    const ctx = this.deps.contexts.require(contextId);
    if (input.kind === 'live' && input.confirmName !== ctx.name) {
      throw new AppError('validation', `Live failover powers ${ctx.name} off: confirm it by typing the VM's name exactly`);
    }
    const validation = await this.validate(contextId, input.kind);
    const open = uncovered(validation.findings, input.override?.findings ?? []);
    if (open.length > 0) {
      throw new AppError('validation', `Failover of ${ctx.name} is blocked: ${open.map((f) => f.message).join('; ')}`, {
        findings: validation.findings,
        blocking: open.map(findingRef),
      });
    }
    const overridden = validation.findings.filter((f) => f.severity === 'error').map(findingRef);
    const options: FailoverRunOptions = {
      ...(input.kind === 'live' && input.powerOffTimeoutSeconds !== undefined ? { powerOffTimeoutSeconds: input.powerOffTimeoutSeconds } : {}),
      ...(input.kind === 'live' ? { finalSync: input.finalSync ?? true, sourceOnFailure: input.sourceOnFailure ?? 'power_on' } : {}),
      ...(input.keepMacAddresses ? { keepMacAddresses: true } : {}),
    };
    const chosen: Finding[] = [...optionFindings(options, ctx.name, ctx.specs.networks)];
    const failover = this.deps.failovers.open({
      vmContextId: contextId,
      kind: input.kind,
      vmName: input.vmName ?? (input.kind === 'live' ? liveVmName(ctx.name) : testVmName(ctx.name, new Date())),
      findings: [...validation.findings, ...chosen],
      options,
      override: input.override && overridden.length > 0 ? { by: input.override.by, at: isoNow(), findings: overridden } : null,
      ports: input.ports ?? [],
      // The override may accept "not ready" (e.g. a VM whose last job failed after a good sync).
      from: overridden.some((r) => r.startsWith('not_ready')) ? ['ready_for_failover', 'failed'] : ['ready_for_failover'],
    });
    this.deps.logbook.startOperation(failover.id, 'failover', `${input.kind === 'live' ? 'Live' : 'Test'} failover of ${ctx.name}`, contextId);
    this.changed(contextId);
    this.launch(failover.id, () => this.runFailover(failover.id));
    return failover;
  }

  /** Rolls back a test failover (or cleans up one that needs it) in the background. */
  async rollback(failoverId: string, choice: { powerOnSource?: boolean } = {}): Promise<Failover> {
    const f = this.deps.failovers.require(failoverId);
    if (this.running.has(failoverId)) throw new AppError('conflict', `Failover ${failoverId} is still working (${f.status})`);
    if (f.status !== 'completed' && f.status !== 'cleanup_required') {
      throw new AppError('conflict', `Failover ${failoverId} is ${f.status}; only a completed failover or one that needs cleanup can be rolled back`);
    }
    const ctx = this.deps.contexts.require(f.vmContextId);
    // Kept with the failover: a rollback resumed after a restart powers on (or not) as chosen here.
    if (f.kind === 'live') this.deps.failovers.update(failoverId, { options: { ...f.options, rollbackPowerOn: choice.powerOnSource ?? true } });
    const next = this.deps.failovers.settle(failoverId, 'rolling_back', 'rolling_back');
    this.deps.logbook.startOperation(this.rollbackOpId(failoverId), 'rollback', `Rollback of ${f.kind} failover of ${ctx.name}`, ctx.id);
    this.changed(ctx.id);
    this.launch(failoverId, () => this.runRollback(failoverId));
    return next;
  }

  /** Resolves when the failover's background work (if any) is done. */
  async whenSettled(failoverId: string): Promise<Failover> {
    await this.running.get(failoverId);
    return this.deps.failovers.require(failoverId);
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /**
   * The owner is shutting down: running failovers stop at their next checkpoint and keep their
   * working status, so the next owner compensates them (reconcile) like after a crash.
   */
  interrupt(): void {
    this.stopping = true;
    for (const stop of [...this.onInterrupt]) stop();
  }

  /**
   * `work` or Interrupted at shutdown, whichever comes first. The final sync is a replication job that
   * outlives this owner: waiting for it would hold shutdown for up to its timeout.
   */
  private untilInterrupted<T>(work: Promise<T>): Promise<T> {
    if (this.stopping) return Promise.reject(new Interrupted());
    let stop: () => void = () => {};
    const interrupted = new Promise<never>((_, reject) => {
      stop = () => reject(new Interrupted());
      this.onInterrupt.add(stop);
    });
    return Promise.race([work, interrupted]).finally(() => this.onInterrupt.delete(stop));
  }

  private checkpoint(): void {
    if (this.stopping) throw new Interrupted();
  }

  /**
   * After a restart nobody drives a failover that was working: compensate it (or finish its
   * rollback), so none is left half-done without a truthful status.
   */
  async reconcile(): Promise<number> {
    const stale = this.deps.failovers.working(FAILOVER_WORKING_STATUSES).filter((f) => !this.running.has(f.id));
    for (const f of stale) {
      const op = f.status === 'rolling_back' ? this.rollbackOpId(f.id) : f.id;
      this.deps.logbook.event(op, 'warn', `The console restarted while this was ${f.status}; ${f.status === 'rolling_back' ? 'continuing the rollback' : 'compensating'}`);
      this.launch(f.id, async () => {
        if (f.status === 'rolling_back') return this.runRollback(f.id);
        // A final sync the previous owner was waiting for was resumed with the other jobs: it must not
        // go on writing into the volumes the compensation puts back (and the source may be powered on).
        if (f.status === 'final_sync') {
          const jobId = await this.deps.ports.cancelFinalSync(f.vmContextId).catch((e: unknown) => {
            this.deps.logbook.event(op, 'warn', `Cancelling the final sync failed: ${message(e)}`);
            return null;
          });
          if (jobId) this.deps.logbook.event(op, 'info', `Final sync ${jobId} cancelled: the failover is compensated, not resumed`, { jobId });
        }
        return this.compensate(f.id, f.phase ?? 'unknown phase', 'the console restarted mid-failover');
      });
    }
    return stale.length;
  }

  private rollbackOpId(failoverId: string): string {
    return `${failoverId}-rollback`;
  }

  private launch(id: string, work: () => Promise<void>): void {
    const p = work()
      .catch((e: unknown) => this.deps.logger.error(`failover ${id}: ${message(e)}`))
      .finally(() => this.running.delete(id));
    this.running.set(id, p);
  }

  private changed(contextId: string): void {
    this.deps.onContextChanged?.(contextId);
  }

  // ---------------------------------------------------------------- phases

  /**
   * Runs one phase as a recorded step. `attempts` > 1 only for phases that look at the current state
   * before acting (the undo phases): a timed-out or unreachable appliance gets another try.
   */
  private async phase<T>(
    opId: string,
    failoverId: string,
    phase: FailoverPhase,
    status: FailoverStatus | null,
    fn: (stepId: number) => Promise<T>,
    attempts = 1,
  ): Promise<T> {
    this.checkpoint();
    const step = this.deps.logbook.startStep(opId, phase);
    this.deps.failovers.update(failoverId, { phase, ...(status ? { status } : {}) });
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await fn(step.id);
        this.deps.logbook.finishStep(step.id, 'completed');
        return r;
      } catch (e) {
        if (e instanceof Interrupted) {
          this.deps.logbook.finishStep(step.id, 'cancelled', e.message);
          throw e;
        }
        const transient = isAppError(e) && (e.code === 'timeout' || e.code === 'unreachable');
        if (transient && attempt < attempts && !this.stopping) {
          this.deps.logbook.event(opId, 'warn', `${phase}: ${message(e)}; trying again (${attempt + 1} of ${attempts})`, undefined, step.id);
          await sleep(this.options.retryDelayMs * attempt);
          continue;
        }
        this.deps.logbook.finishStep(step.id, 'failed', message(e));
        throw new PhaseFailure(phase, e);
      }
    }
  }

  private plan(contextId: string): { ctx: VmContextSummary; disks: DiskPlan[]; boot: DiskPlan; data: DiskPlan[] } {
    const ctx = this.deps.contexts.require(contextId);
    const disks = this.deps.contexts.disks(contextId).map((disk) => {
      if (!disk.cloudstackVolumeId) throw new AppError('validation', `${disk.diskKey} has no replica volume`);
      return { disk, volumeId: disk.cloudstackVolumeId };
    });
    const boot = resolveBootDisk(disks.map((d) => d.disk), this.deps.mappings.bootDisk(contextId));
    if (boot.diskKey === null) throw new AppError('validation', `Boot disk unknown: ${boot.reason}`);
    const order = attachOrder(disks.map((d) => ({ ...d, diskKey: d.disk.diskKey, unitNumber: d.disk.unitNumber })), boot.diskKey);
    return { ctx, disks, boot: order.root, data: order.data };
  }

  private settings(): Required<{ [K in keyof FailoverSettings]: string }> {
    const s = this.deps.ports.settings();
    const missing = this.missingConfig(s);
    if (missing.length) throw new AppError('validation', `CloudStack settings missing for failover: ${missing.join(', ')}`);
    return s as Required<{ [K in keyof FailoverSettings]: string }>;
  }

  private async runFailover(id: string): Promise<void> {
    const f0 = this.deps.failovers.require(id);
    const log = (level: 'info' | 'warn', text: string, details?: Record<string, unknown>, stepId?: number) =>
      this.deps.logbook.event(id, level, text, details, stepId ?? null);
    try {
      const { ctx, disks, boot, data } = this.plan(f0.vmContextId);
      const s = this.settings();
      const cs = this.deps.ports.cloudstack();

      await this.phase(id, id, FAILOVER_PHASES.validate, 'validating', async (stepId) => {
        for (const finding of f0.findings) log(finding.severity === 'error' ? 'warn' : 'info', `${finding.severity}: ${finding.message}`, { code: finding.code }, stepId);
        if (f0.override) log('warn', `Errors overridden by ${f0.override.by} at ${f0.override.at}: ${f0.override.findings.join(', ')}`, undefined, stepId);
      });

      if (f0.kind === 'live') {
        const offMs = f0.options.powerOffTimeoutSeconds !== undefined ? f0.options.powerOffTimeoutSeconds * 1000 : this.options.powerOffTimeoutMs;
        await this.phase(id, id, FAILOVER_PHASES.powerOff, 'powering_off', (stepId) => this.powerOffSource(ctx.id, offMs, (t) => log('info', t, undefined, stepId)));
        await this.phase(id, id, FAILOVER_PHASES.finalSync, 'final_sync', async (stepId) => {
          if (f0.options.finalSync === false) {
            log('warn', 'Final sync skipped as the operator chose: the CloudStack VM starts from the last completed sync; writes to the source since then are not carried over', undefined, stepId);
            return;
          }
          // Through the canonical path; the VM's failing_over status does not refuse its own final sync (lesson 3).
          const r = await this.untilInterrupted(this.deps.ports.finalSync(ctx.id, this.options.finalSyncTimeoutMs));
          if (r.status !== 'completed') {
            const source = f0.options.sourceOnFailure === 'keep_off' ? 'the source stays powered off as chosen' : 'the source is powered back on';
            throw new AppError('remote_error', `final sync ${r.jobId} ${r.status}${r.error ? `: ${r.error}` : ''}; ${source} and the replica is as of the previous sync — fix the cause and fail over again`);
          }
          log('info', `Final sync ${r.jobId} completed`, { jobId: r.jobId }, stepId);
        });
        // Only now, after the final sync earned it, the VM is failed_over_live (lesson 3).
        this.deps.contexts.transition(ctx.id, 'failed_over_live');
        this.changed(ctx.id);
      }

      await this.phase(id, id, FAILOVER_PHASES.snapshot, 'snapshotting', async (stepId) => {
        const snaps: FailoverSnapshot[] = disks.map((d) => ({ diskKey: d.disk.diskKey, volumeId: d.volumeId, snapshotId: null, moved: false }));
        this.deps.failovers.update(id, { snapshots: snaps });
        for (const snap of snaps) {
          const made = await cs.createSnapshot(snap.volumeId, {
            // Known before the job ends, so a crash mid-snapshot still knows what to delete.
            onJobSubmitted: (_job, entityId) => {
              if (entityId) this.deps.failovers.update(id, { snapshots: snaps.map((x) => (x === snap ? { ...x, snapshotId: entityId } : x)) });
            },
          });
          snap.snapshotId = made.id;
          this.deps.failovers.update(id, { snapshots: snaps });
          log('info', `${snap.diskKey}: snapshot ${made.id} of volume ${snap.volumeId}`, undefined, stepId);
        }
      });

      const mappings = this.deps.mappings.forContext(ctx.id);
      const vm = await this.phase(id, id, FAILOVER_PHASES.deploy, 'creating_vm', async (stepId) => {
        const networkids = this.networkIds(ctx, mappings, f0.kind);
        const offering = (await cs.listServiceOfferings()).find((o) => o.id === s.serviceOfferingId);
        const details = offering?.iscustomized
          ? { cpuNumber: String(ctx.specs.cpus), memory: String(ctx.specs.memoryMb), cpuSpeed: String(offering.cpuspeed ?? this.options.cpuSpeedMhz) }
          : undefined;
        const deployed = await cs.deployVirtualMachine(
          { zoneid: s.zoneId, serviceofferingid: s.serviceOfferingId, templateid: s.templateId, name: f0.vmName, displayname: f0.vmName, networkids, startvm: false, ...(details ? { details } : {}) },
          { onJobSubmitted: (_job, entityId) => void (entityId && this.deps.failovers.update(id, { cloudstackVmId: entityId })) },
        );
        this.deps.failovers.update(id, { cloudstackVmId: deployed.id });
        log('info', `Deployed ${deployed.name} (${deployed.id}) stopped on ${networkids.length} network(s)`, { networkids, details: details ?? null }, stepId);
        return deployed;
      });

      await this.phase(id, id, FAILOVER_PHASES.replaceRoot, 'creating_vm', async (stepId) => {
        const ours = new Set(disks.map((d) => d.volumeId));
        const roots = (await cs.listVolumes({ virtualmachineid: vm.id })).filter((v) => v.type === 'ROOT' && !ours.has(v.id));
        for (const r of roots) {
          await cs.detachVolume(r.id);
          try {
            await cs.deleteVolume(r.id);
          } catch (e) {
            // Detached, it would outlive the VM: put it back at device 0 so removing the VM (expunge) deletes it.
            await cs.attachVolume(r.id, vm.id, 0).catch((again: unknown) => {
              throw new AppError('remote_error', `${message(e)}; the default root volume ${r.id} is left detached (reattaching it failed: ${message(again)}) — delete it in CloudStack`);
            });
            throw e;
          }
          log('info', `Default root volume ${r.id} detached and deleted`, undefined, stepId);
        }
      });

      await this.phase(id, id, FAILOVER_PHASES.moveVolumes, 'creating_vm', async (stepId) => {
        const oma = this.deps.ports.oma(s.omaApplianceId);
        for (const [i, d] of [boot, ...data].entries()) {
          this.checkpoint();
          // The export points at the by-id link that disappears with the detach: withdraw it first.
          await oma.withdrawExport(d.volumeId);
          this.deps.volumes.markExportRemoved(d.volumeId);
          this.markMoved(id, d.volumeId);
          await cs.detachVolume(d.volumeId);
          this.deps.volumes.setState(d.volumeId, 'detached', null);
          const attached = await cs.attachVolume(d.volumeId, vm.id, i === 0 ? 0 : undefined);
          this.deps.volumes.setState(d.volumeId, 'attached', vm.id);
          log('info', `${d.disk.diskKey}: volume ${d.volumeId} attached as ${i === 0 ? 'root' : 'data disk'} (device ${attached.deviceid ?? '?'})`, undefined, stepId);
        }
      });

      await this.phase(id, id, FAILOVER_PHASES.start, 'starting_vm', async () => {
        await cs.startVirtualMachine(vm.id);
      });

      const evidence = await this.phase(id, id, FAILOVER_PHASES.evidence, 'starting_vm', async (stepId) => {
        const e = await this.collectEvidence(cs, vm.id, f0.ports, s.omaApplianceId, ctx, mappings, f0.kind);
        this.deps.failovers.update(id, { evidence: e });
        log('info', `${vm.name} is ${e.state}; IPs ${e.ips.join(', ') || 'none reported'}`, { ips: e.ips }, stepId);
        for (const p of e.portChecks) log(p.open ? 'info' : 'warn', `${p.ip}:${p.port} ${p.open ? 'open' : 'closed'} (${p.detail})`, undefined, stepId);
        if (e.portChecksSkipped) log('info', `Port checks skipped: ${e.portChecksSkipped}`, undefined, stepId);
        return e;
      });

      // Only now, after the step that earns it, the VM is failed_over_test (lesson 3).
      this.deps.failovers.settle(id, 'completed', f0.kind === 'live' ? 'failed_over_live' : 'failed_over_test');
      this.deps.logbook.finishOperation(id, 'completed');
      log('info', `${f0.kind === 'live' ? 'Live' : 'Test'} failover complete: ${vm.name} ${evidence.state}`);
      this.changed(ctx.id);
    } catch (e) {
      if (e instanceof Interrupted) return this.leaveForRestart(id);
      const phase = e instanceof PhaseFailure ? e.phase : 'preparation';
      await this.compensate(id, phase, message(e instanceof PhaseFailure ? e.cause : e));
    }
  }

  private leaveForRestart(id: string): void {
    const f = this.deps.failovers.require(id);
    this.deps.logbook.event(f.status === 'rolling_back' ? this.rollbackOpId(id) : id, 'warn', `Interrupted by shutdown while ${f.status}; the next start of the console compensates it`);
  }

  /** Graceful first; poll until the VMA reports poweredOff; forced after the configured timeout. */
  private async powerOffSource(contextId: string, timeoutMs: number, note: (text: string) => void): Promise<void> {
    const power = this.deps.ports.power(contextId);
    if ((await power.state()) === 'poweredOff') return note('The source is already powered off');
    const waitOff = async (ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        if ((await power.state()) === 'poweredOff') return true;
        if (Date.now() + this.options.powerPollMs > deadline) return false;
        await sleep(this.options.powerPollMs);
      }
    };
    const seconds = Math.max(1, Math.round(timeoutMs / 1000));
    note(`Graceful shutdown requested (${(await power.off(false, seconds))}); forced after ${seconds} s`);
    if (await waitOff(timeoutMs)) return note('The source is powered off');
    note(`Still on after ${seconds} s: forcing power off`);
    await power.off(true, 60);
    if (!(await waitOff(60_000))) throw new AppError('timeout', 'The source VM did not power off even when forced');
    note('The source is powered off (forced)');
  }

  /** Records that a volume is leaving the OMA appliance before the detach is even asked for. */
  private markMoved(id: string, volumeId: string): void {
    const f = this.deps.failovers.require(id);
    this.deps.failovers.update(id, { snapshots: f.snapshots.map((x) => (x.volumeId === volumeId ? { ...x, moved: true } : x)) });
  }

  private networkIds(ctx: VmContextSummary, mappings: NetworkMapping[], kind: FailoverType): string[] {
    // NIC order is kept: one network id per adapter, in the discovered order.
    return ctx.specs.networks.map((nic) => {
      const m = mappings.find((x) => x.sourceNetwork === nic.networkName);
      const target = kind === 'test' ? m?.testNetworkId : m?.liveNetworkId;
      if (!target) throw new AppError('validation', `Source network ${nic.networkName} has no ${kind} network mapped`);
      return target;
    });
  }

  private async collectEvidence(
    cs: CloudStackClient,
    vmId: string,
    ports: number[],
    omaApplianceId: string,
    ctx: VmContextSummary,
    mappings: NetworkMapping[],
    kind: FailoverType,
  ): Promise<BootEvidence> {
    const deadline = Date.now() + this.options.runningWaitMs;
    let vm: CsVirtualMachine | undefined;
    for (;;) {
      vm = (await cs.listVirtualMachines({ id: vmId })).find((v) => v.id === vmId);
      if (vm?.state === 'Running') break;
      if (Date.now() + this.options.pollIntervalMs > deadline) {
        throw new AppError('timeout', `CloudStack did not report the VM Running within ${Math.round(this.options.runningWaitMs / 1000)} s (last state ${vm?.state ?? 'unknown'})`);
      }
      await sleep(this.options.pollIntervalMs);
    }
    const ips = (vm.nic ?? []).map((n) => n.ipaddress).filter((x): x is string => Boolean(x));
    const evidence: BootEvidence = { state: vm.state, ips, portChecks: [], portChecksSkipped: null, nics: nicEvidence(ctx, this.networkIds(ctx, mappings, kind), vm), observedAt: isoNow() };
    if (ports.length === 0) evidence.portChecksSkipped = 'no ports were listed';
    else if (ips.length === 0) evidence.portChecksSkipped = 'CloudStack reports no IP address for the VM';
    else {
      const shell = await this.deps.ports.shell(omaApplianceId);
      for (const port of ports) {
        evidence.portChecks.push(await checkPort(shell, ips[0]!, port, { waitMs: this.options.portWaitMs, intervalMs: this.options.portIntervalMs, attemptSeconds: this.options.portAttemptSeconds }));
      }
    }
    return evidence;
  }

  // ---------------------------------------------------------------- undo

  /** A failed phase: run the compensations, then record `failed` or, if they failed too, `cleanup_required`. */
  private async compensate(id: string, phase: string, reason: string): Promise<void> {
    const f = this.deps.failovers.require(id);
    this.deps.logbook.event(id, 'error', `${phase} failed: ${reason}; undoing what was done`);
    const error = `${phase}: ${reason}`;
    try {
      await this.undo(id, id, f.options.sourceOnFailure !== 'keep_off');
      if (this.deps.contexts.require(f.vmContextId).status === 'failed_over_live') this.deps.contexts.transition(f.vmContextId, 'rolling_back');
      this.deps.failovers.settle(id, 'failed', 'ready_for_failover', error);
      this.deps.logbook.finishOperation(id, 'failed', error);
    } catch (e) {
      if (e instanceof Interrupted) return this.leaveForRestart(id);
      const why = `${error}; compensation failed at ${e instanceof PhaseFailure ? e.phase : 'cleanup'}: ${message(e instanceof PhaseFailure ? e.cause : e)}`;
      this.deps.failovers.settle(id, 'cleanup_required', 'cleanup_required', why);
      this.deps.logbook.finishOperation(id, 'failed', why);
    }
    this.changed(f.vmContextId);
  }

  private async runRollback(id: string): Promise<void> {
    const f = this.deps.failovers.require(id);
    const op = this.rollbackOpId(id);
    try {
      await this.undo(id, op, f.options.rollbackPowerOn !== false);
      this.deps.failovers.settle(id, 'rolled_back', 'ready_for_failover');
      this.deps.logbook.finishOperation(op, 'completed');
    } catch (e) {
      if (e instanceof Interrupted) return this.leaveForRestart(id);
      const why = `rollback failed at ${e instanceof PhaseFailure ? e.phase : 'cleanup'}: ${message(e instanceof PhaseFailure ? e.cause : e)}`;
      this.deps.failovers.settle(id, 'cleanup_required', 'cleanup_required', why);
      this.deps.logbook.finishOperation(op, 'failed', why);
    }
    this.changed(f.vmContextId);
  }

  /**
   * Puts everything back, whatever point the failover reached: each step looks at what CloudStack
   * reports now, so running it twice (or after a crash) does no harm.
   */
  private async undo(id: string, op: string, powerOnSource: boolean): Promise<void> {
    const f = this.deps.failovers.require(id);
    const s = this.settings();
    const cs = this.deps.ports.cloudstack();
    const disks = this.deps.contexts.disks(f.vmContextId).filter((d) => d.cloudstackVolumeId);
    const volumeIds = new Set(disks.map((d) => d.cloudstackVolumeId!));
    const log = (text: string, stepId: number) => this.deps.logbook.event(op, 'info', text, undefined, stepId);

    await this.phase(op, id, FAILOVER_PHASES.removeVm, null, async (stepId) => {
      if (!f.cloudstackVmId) return log('No CloudStack VM was created', stepId);
      const vm = (await cs.listVirtualMachines({ id: f.cloudstackVmId }).catch((e: unknown) => {
        if (isAppError(e) && e.code === 'validation') return [];
        throw e;
      })).find((v) => v.id === f.cloudstackVmId);
      if (!vm || vm.state === 'Destroyed' || vm.state === 'Expunging') return log(`VM ${f.cloudstackVmId} is already gone`, stepId);
      if (vm.state !== 'Stopped') {
        await cs.stopVirtualMachine(vm.id).catch(() => cs.stopVirtualMachine(vm.id, true));
        log(`Stopped ${vm.name}`, stepId);
      }
      // Our volumes leave the VM before it is expunged: expunging deletes its ROOT volume.
      for (const v of await cs.listVolumes({ virtualmachineid: vm.id })) {
        if (!volumeIds.has(v.id)) continue;
        await cs.detachVolume(v.id);
        this.deps.volumes.setState(v.id, 'detached', null);
        log(`Volume ${v.id} detached from ${vm.name}`, stepId);
      }
      await cs.destroyVirtualMachine(vm.id, true);
      log(`Destroyed and expunged ${vm.name}`, stepId);
    }, UNDO_ATTEMPTS);

    const reattached = new Set<string>();
    const current = new Map<string, string | undefined>();
    for (const v of volumeIds) current.set(v, (await this.findVolume(cs, v))?.virtualmachineid);

    await this.phase(op, id, FAILOVER_PHASES.revert, null, async (stepId) => {
      for (const snap of this.deps.failovers.require(id).snapshots) {
        // A volume that never left the OMA appliance was never written by the test VM.
        const left = snap.moved || current.get(snap.volumeId) !== s.omaVmId;
        if (!snap.snapshotId || !left) continue;
        // Snapshots are deleted only after every revert succeeded: one that is gone was reverted by an
        // earlier run of this undo (a cleanup after a later phase failed).
        const still = await cs.listSnapshots({ id: snap.snapshotId }).catch((e: unknown) => {
          if (isAppError(e) && e.code === 'validation') return [];
          throw e;
        });
        if (!still.some((x) => x.id === snap.snapshotId)) continue;
        if (current.get(snap.volumeId) === s.omaVmId) {
          await cs.detachVolume(snap.volumeId);
          current.set(snap.volumeId, undefined);
        }
        await cs.revertSnapshot(snap.snapshotId);
        log(`${snap.diskKey}: volume ${snap.volumeId} reverted to snapshot ${snap.snapshotId}`, stepId);
      }
    }, UNDO_ATTEMPTS);

    await this.phase(op, id, FAILOVER_PHASES.deleteSnapshots, null, async (stepId) => {
      for (const snap of this.deps.failovers.require(id).snapshots) {
        if (!snap.snapshotId) continue;
        const exists = (await cs.listSnapshots({ id: snap.snapshotId }).catch(() => [])).some((x) => x.id === snap.snapshotId);
        if (!exists) continue;
        await cs.deleteSnapshot(snap.snapshotId);
        log(`Snapshot ${snap.snapshotId} deleted`, stepId);
      }
    }, UNDO_ATTEMPTS);

    await this.phase(op, id, FAILOVER_PHASES.reattach, null, async (stepId) => {
      for (const d of disks) {
        const vid = d.cloudstackVolumeId!;
        if (current.get(vid) === s.omaVmId) continue;
        if (current.get(vid)) await cs.detachVolume(vid);
        await cs.attachVolume(vid, s.omaVmId);
        current.set(vid, s.omaVmId);
        reattached.add(vid);
        this.deps.volumes.setState(vid, 'attached', s.omaVmId);
        log(`${d.diskKey}: volume ${vid} attached to the OMA appliance again`, stepId);
      }
    }, UNDO_ATTEMPTS);

    await this.phase(op, id, FAILOVER_PHASES.republish, null, async (stepId) => {
      // Only exports this failover withdrew (its volumes left the OMA appliance) need publishing again.
      const moved = new Set(this.deps.failovers.require(id).snapshots.filter((x) => x.moved).map((x) => x.volumeId));
      const again = disks.filter((d) => moved.has(d.cloudstackVolumeId!) || reattached.has(d.cloudstackVolumeId!));
      if (again.length === 0) return log('No export was withdrawn', stepId);
      const oma = this.deps.ports.oma(s.omaApplianceId);
      await oma.ensureNbdkitRunning();
      for (const d of again) {
        const vid = d.cloudstackVolumeId!;
        const device = await oma.waitForDevice(vid);
        const name = await oma.publishExport(vid, device);
        await oma.verifyExport(vid);
        this.deps.volumes.setState(vid, 'attached', s.omaVmId, device);
        this.deps.volumes.recordExport(vid, name, s.omaApplianceId, device);
        log(`${d.diskKey}: export ${name} published`, stepId);
      }
    }, UNDO_ATTEMPTS);

    if (f.kind === 'live' && !powerOnSource) {
      this.deps.logbook.event(op, 'info', 'The source VM is left as it is (powered off), as the operator chose');
    } else if (f.kind === 'live') {
      await this.phase(op, id, FAILOVER_PHASES.powerOn, null, async (stepId) => {
        const power = this.deps.ports.power(f.vmContextId);
        if ((await power.state()) === 'poweredOn') return log('The source is on', stepId);
        await power.on();
        const deadline = Date.now() + this.options.powerOffTimeoutMs;
        while ((await power.state()) !== 'poweredOn') {
          if (Date.now() > deadline) throw new AppError('timeout', 'The source VM did not report poweredOn after power-on');
          await sleep(this.options.powerPollMs);
        }
        log('The source is powered on again', stepId);
      }, UNDO_ATTEMPTS);
    }
  }
}

/**
 * Warnings the operator's choices earn, recorded with the failover. The CloudStack API the console
 * follows (../shared/reference/cloudstack-and-oma.md: deployVirtualMachine takes zoneid, serviceofferingid,
 * templateid, name, displayname, networkids, startvm and details) has no MAC address parameter, so
 * a request to keep MACs cannot be honoured: each NIC is named with the MAC it will lose.
 */
export function optionFindings(o: FailoverRunOptions, vmName: string, nics: readonly VmNetwork[]): Finding[] {
  const out: Finding[] = [];
  if (o.finalSync === false) {
    out.push({ code: 'final_sync_skipped', severity: 'warning', message: `No final sync: ${vmName} fails over as of its last completed sync; writes since then are lost` });
  }
  if (o.keepMacAddresses) {
    nics.forEach((n, i) => {
      out.push({
        code: 'mac_not_kept',
        severity: 'warning',
        subject: `nic${i}`,
        message: `NIC ${i + 1} (${n.networkName}) cannot keep MAC ${n.macAddress}: the CloudStack API in use takes no MAC address at deploy; CloudStack assigns one (recorded with the boot evidence)`,
      });
    });
  }
  return out;
}

/** The created VM's NICs beside the source NICs, in the source's order (CloudStack lists them in deploy order). */
export function nicEvidence(ctx: Pick<VmContextSummary, 'specs'>, networkIds: readonly string[], vm: Pick<CsVirtualMachine, 'nic'>): NicEvidence[] {
  const nics = [...(vm.nic ?? [])];
  return ctx.specs.networks.map((src, i) => {
    // Two source NICs may share a network: take the CloudStack NICs on it in order.
    const at = nics.findIndex((n) => n.networkid === networkIds[i]);
    const n = at >= 0 ? nics.splice(at, 1)[0] : undefined;
    return { sourceNetwork: src.networkName, sourceMac: src.macAddress, networkId: networkIds[i] ?? '', mac: n?.macaddress ?? null, ip: n?.ipaddress ?? null };
  });
}

/** The owner is shutting down: not a failure of the failover, nothing is compensated now. */
class Interrupted extends Error {
  constructor() {
    super('interrupted by shutdown');
  }
}

/** A phase that failed, with the phase's name for the recorded reason. */
class PhaseFailure extends Error {
  constructor(
    readonly phase: string,
    override readonly cause: unknown,
  ) {
    super(`${phase}: ${message(cause)}`);
  }
}

