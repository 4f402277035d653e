import type {
  ExecutionStatus,
  ExecutionTrigger,
  Schedule,
  ScheduleExecution,
  ScheduleSkipReason,
  VmContextSummary,
  VmGroup,
} from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { AppLogger } from '../base/app-log';
import type { ScheduleExecutionRepository } from '../db/repositories/schedule-executions';
import { SCHEDULE_DEFAULTS, type ScheduleFields, type ScheduleRepository } from '../db/repositories/schedules';
import type { VmContextRepository } from '../db/repositories/vm-contexts';
import type { VmGroupRepository } from '../db/repositories/vm-groups';
import type { OperationLog } from '../logbook/logbook';
import { CronSchedule, type CronFiring } from './cron-schedule';
import type { SchedulerPorts } from './ports';
import type { DiscoveryOutcome, FreshDiscovery } from '../engine/replication-engine';

export interface SchedulerDeps {
  schedules: ScheduleRepository;
  groups: VmGroupRepository;
  executions: ScheduleExecutionRepository;
  contexts: VmContextRepository;
  ports: SchedulerPorts;
  logger: AppLogger;
  /** The job log: each run is an operation (id = execution id), schedule changes are one-shot entries. */
  logbook?: OperationLog;
}

export interface SchedulerOptions {
  /** How long a "VMA answers" result is trusted within a run before asking again. */
  vmaCheckTtlMs: number;
  /** At most this many VMs (of one VMA and credential) in one discovery request. */
  discoveryBatchSize: number;
  /**
   * A VM discovered ahead of its turn (in the batch of another VM) starts from that answer only
   * while it is younger than this; otherwise its turn discovers again.
   */
  discoveryMaxAgeMs: number;
}

const DEFAULT_OPTIONS: SchedulerOptions = { vmaCheckTtlMs: 60_000, discoveryBatchSize: 50, discoveryMaxAgeMs: 2 * 60_000 };

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface Entry {
  contextId: string;
  groupId: string;
  /** Failed attempts so far within this run. */
  failures: number;
}

type VmOutcome = 'completed' | 'failed' | 'skipped';

/** One run of one schedule, in memory while it lasts; the execution row is its durable record. */
interface Run {
  executionId: string;
  scheduleId: string;
  scheduledBy: string;
  queue: Entry[];
  /** Entries holding a slot: their job is being created or is running. */
  inFlight: Map<string, Entry>;
  /** In-flight count per group (kept with inFlight; a scan per queued VM would be quadratic). */
  inFlightByGroup: Map<string, number>;
  retryTimers: Set<unknown>;
  groupLimits: Map<string, number>;
  outcomes: Map<string, VmOutcome>;
  vmaChecks: Map<string, { at: number; problem: string | null }>;
  /** Discovery answers not yet used, by context id (see discoverFor). */
  discovered: Map<string, { at: number; outcome: DiscoveryOutcome }>;
  /** Discovery requests in flight, by every context id they cover. */
  discovering: Map<string, Promise<void>>;
  maxRunning: number;
  done: Promise<ScheduleExecution>;
  resolve: (e: ScheduleExecution) => void;
}

/**
 * Runs schedules: a run takes each group of the schedule (priority order), its enabled members
 * (priority order), once per VM, checks each VM and either records why it is skipped or starts it
 * through the canonical engine path. Limits (schedule jobs, group VMs) hold at every moment; waiting
 * VMs start as running ones end; failed VMs are retried within the same execution.
 */
export class SchedulerService {
  private readonly opts: SchedulerOptions;
  private readonly armed = new Map<string, CronFiring>();
  private readonly runs = new Map<string, Run>();
  /** A fire that came while the schedule ran and skip-if-running is off: one run follows the current one. */
  private readonly queuedFires = new Map<string, { trigger: ExecutionTrigger; slot: Date }>();
  private started = false;
  /** Highest number of jobs of one schedule in flight at once (benchmarks and tests read it). */
  readonly maxObserved = new Map<string, number>();
  /** Discovery requests made by runs of each schedule (benchmarks and tests read it). */
  readonly discoveryRequests = new Map<string, number>();

  constructor(private readonly deps: SchedulerDeps, options: Partial<SchedulerOptions> = {}) {
    this.opts = { ...DEFAULT_OPTIONS, ...options };
  }

  get active(): boolean {
    return this.started;
  }

  // ---- lifecycle (owner process only) -------------------------------------------------------------

  /** Arms every enabled schedule, finishes runs a stopped process left open, applies catch-up. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.recoverOpenExecutions();
    for (const s of this.deps.schedules.list()) {
      this.arm(s);
      this.catchUp(s.id);
    }
  }

  /** After sleep: runs missed while the machine slept follow each schedule's catch-up policy. */
  resume(): void {
    if (!this.started) return;
    for (const s of this.deps.schedules.list()) this.catchUp(s.id);
  }

  stop(): void {
    this.started = false;
    for (const f of this.armed.values()) f.stop();
    this.armed.clear();
    for (const run of this.runs.values()) for (const t of run.retryTimers) this.deps.ports.clock.clearTimer(t);
  }

  private arm(s: Schedule): void {
    this.armed.get(s.id)?.stop();
    this.armed.delete(s.id);
    if (!this.started || !s.enabled) return;
    const cron = CronSchedule.parse({ expression: s.cronExpression, timezone: s.timezone });
    this.armed.set(
      s.id,
      this.deps.ports.arm(cron, {
        onFire: (slot) => this.fire(s.id, slot),
        onMissed: () => this.catchUp(s.id),
      }),
    );
  }

  // ---- schedule CRUD (validated here: the cron module is the judge of an expression) -------------

  createSchedule(input: Partial<ScheduleFields> & Pick<ScheduleFields, 'name' | 'cronExpression'>): Schedule {
    const fields: ScheduleFields = { ...SCHEDULE_DEFAULTS, ...stripUndefined(input), name: input.name, cronExpression: input.cronExpression };
    CronSchedule.parse({ expression: fields.cronExpression, timezone: fields.timezone });
    const s = this.deps.schedules.create(fields, this.now().toISOString());
    // Slots before creation are not "missed".
    this.deps.schedules.markSlot(s.id, s.createdAt);
    this.arm(s);
    this.deps.logbook?.record({ kind: 'schedule', title: `Schedule ${s.name} created`, message: `Schedule ${s.name} created: ${s.cronExpression} (${s.timezone})${s.enabled ? '' : ', disabled'}` });
    return s;
  }

  updateSchedule(id: string, patch: Partial<ScheduleFields>): Schedule {
    const current = this.deps.schedules.require(id);
    const next = { ...current, ...stripUndefined(patch) };
    CronSchedule.parse({ expression: next.cronExpression, timezone: next.timezone });
    const s = this.deps.schedules.update(id, patch, this.now().toISOString());
    // Re-enabling does not replay slots that passed while the schedule was off.
    if (patch.enabled === true && !current.enabled) this.deps.schedules.markSlot(id, this.now().toISOString());
    this.arm(s);
    const changed = Object.keys(stripUndefined(patch)).filter((k) => k !== 'id');
    this.deps.logbook?.record({ kind: 'schedule', title: `Schedule ${s.name} changed`, message: `Schedule ${s.name} changed: ${changed.join(', ') || 'nothing'}`, details: stripUndefined(patch) });
    return s;
  }

  deleteSchedule(id: string): void {
    if (this.runs.has(id)) throw new AppError('conflict', 'The schedule is running; wait for its run to end before deleting it');
    this.armed.get(id)?.stop();
    this.armed.delete(id);
    const s = this.deps.schedules.require(id);
    this.deps.schedules.remove(id);
    this.deps.logbook?.record({ kind: 'schedule', title: `Schedule ${s.name} deleted` });
  }

  /** Next runs of an expression in its zone, exactly as they will fire. */
  preview(expression: string, timezone: string, count = 5, from: Date = this.now()): Date[] {
    return CronSchedule.parse({ expression, timezone }).nextRuns(from, count);
  }

  nextRun(schedule: Schedule, from: Date = this.now()): Date | null {
    if (!schedule.enabled) return null;
    return CronSchedule.parse({ expression: schedule.cronExpression, timezone: schedule.timezone }).nextAfter(from);
  }

  isRunning(scheduleId: string): boolean {
    return this.runs.has(scheduleId);
  }

  // ---- triggers ----------------------------------------------------------------------------------

  /** "Run now": exactly one execution, returned as soon as it exists. */
  runNow(scheduleId: string): ScheduleExecution {
    this.deps.schedules.require(scheduleId);
    if (this.runs.has(scheduleId) || this.deps.executions.running(scheduleId)) {
      throw new AppError('conflict', 'The schedule is already running; its runs never overlap');
    }
    return this.beginRun(scheduleId, 'manual', this.now());
  }

  /** A cron slot is due (node-cron in production, the test by hand). */
  fire(scheduleId: string, slot: Date, trigger: ExecutionTrigger = 'scheduled'): ScheduleExecution | null {
    const s = this.deps.schedules.get(scheduleId);
    if (!s) return null;
    // A slot already accounted for (a catch-up took it first) is not run twice.
    const last = this.deps.schedules.lastSlotAt(scheduleId);
    if (last && slot.toISOString() <= last) return null;
    this.deps.schedules.markSlot(scheduleId, slot.toISOString());
    if (this.runs.has(scheduleId) || this.deps.executions.running(scheduleId)) {
      if (s.skipIfRunning) {
        const skipped = this.deps.executions.recordSkippedRun({
          scheduleId,
          trigger,
          scheduledFor: slot.toISOString(),
          now: this.now().toISOString(),
          note: 'Skipped: the previous run of this schedule was still running (skip if running is on)',
        });
        this.deps.logbook?.record({ kind: 'schedule', title: `Run of schedule ${s.name} skipped`, message: skipped.note ?? 'Skipped', level: 'warn', details: { executionId: skipped.id } });
        return skipped;
      }
      // Runs never overlap; with skip-if-running off the fire waits for the current run (coalesced to one).
      this.queuedFires.set(scheduleId, { trigger, slot });
      return null;
    }
    return this.beginRun(scheduleId, trigger, slot);
  }

  /**
   * Slots that passed without a run (no owner process, sleep) since the last accounted slot: with
   * `run_once` one catch-up run stands for all of them; with `skip` they are passed over.
   */
  catchUp(scheduleId: string): ScheduleExecution | null {
    const s = this.deps.schedules.get(scheduleId);
    if (!s || !s.enabled) return null;
    const now = this.now();
    const after = new Date(this.deps.schedules.lastSlotAt(scheduleId) ?? s.createdAt);
    const cron = CronSchedule.parse({ expression: s.cronExpression, timezone: s.timezone });
    // A slot due this very second is included: a task armed now would not fire it, and fire() ignores
    // a slot that catch-up already took.
    const missed = cron.missedBetween(after, now, 1);
    if (!missed.latest) return null;
    // A run still going (one a stopped process left open is being followed) leaves the missed slots
    // for the next check, so they are not marked as handled without a run.
    if (s.catchUp === 'run_once' && (this.runs.has(scheduleId) || this.deps.executions.running(scheduleId))) return null;
    this.deps.schedules.markSlot(scheduleId, missed.latest.toISOString());
    if (s.catchUp === 'skip') {
      this.deps.logger.info(`schedule ${s.name}: ${missed.count} missed run(s) passed over (catch-up: skip)`);
      return null;
    }
    this.deps.logger.info(`schedule ${s.name}: ${missed.count} missed run(s); one catch-up run now`);
    return this.beginRun(scheduleId, 'catch_up', missed.latest);
  }

  /** Resolves when the execution is final (tests, CLI `--wait`). */
  whenExecutionEnds(executionId: string): Promise<ScheduleExecution> {
    for (const run of this.runs.values()) if (run.executionId === executionId) return run.done;
    return Promise.resolve(this.deps.executions.require(executionId));
  }

  // ---- a run -------------------------------------------------------------------------------------

  private beginRun(scheduleId: string, trigger: ExecutionTrigger, slot: Date): ScheduleExecution {
    const s = this.deps.schedules.require(scheduleId);
    const now = this.now().toISOString();
    const execution = this.deps.executions.open({ scheduleId, trigger, scheduledFor: slot.toISOString(), now });
    this.deps.schedules.markRun(scheduleId, now);
    let resolve!: (e: ScheduleExecution) => void;
    const done = new Promise<ScheduleExecution>((r) => (resolve = r));
    const groups = this.deps.groups.list({ scheduleId }).filter((g) => g.enabled);
    const run: Run = {
      executionId: execution.id,
      scheduleId,
      scheduledBy: `${trigger}:${s.name}`,
      queue: this.collect(groups),
      inFlight: new Map(),
      inFlightByGroup: new Map(),
      retryTimers: new Set(),
      groupLimits: new Map(groups.map((g) => [g.id, g.maxConcurrentVms])),
      outcomes: new Map(),
      vmaChecks: new Map(),
      discovered: new Map(),
      discovering: new Map(),
      maxRunning: 0,
      done,
      resolve,
    };
    this.runs.set(scheduleId, run);
    this.deps.executions.setEligible(execution.id, run.queue.length);
    this.deps.logbook?.startOperation(execution.id, 'schedule', `${TRIGGER_TITLE[trigger]} run of schedule ${s.name}`, null);
    this.deps.logbook?.event(execution.id, 'info', `${run.queue.length} VM(s) eligible from ${groups.length} enabled group(s)`);
    this.pump(run);
    return this.deps.executions.require(execution.id);
  }

  /** Each group's enabled members by priority; a VM in several groups runs once, with its first group. */
  private collect(groups: VmGroup[]): Entry[] {
    const seen = new Set<string>();
    const out: Entry[] = [];
    for (const g of groups) {
      for (const m of this.deps.groups.members(g.id)) {
        if (!m.enabled || seen.has(m.vmContextId)) continue;
        seen.add(m.vmContextId);
        out.push({ contextId: m.vmContextId, groupId: g.id, failures: 0 });
      }
    }
    return out;
  }

  /** Starts queued VMs while both limits allow; called at start and whenever a slot frees. */
  private pump(run: Run): void {
    const schedule = this.deps.schedules.get(run.scheduleId);
    // A schedule deleted underneath a run (another process) drains one VM at a time, each skipped as disabled.
    const scheduleLimit = schedule?.maxConcurrentJobs ?? 1;
    let i = 0;
    while (i < run.queue.length && run.inFlight.size < scheduleLimit) {
      const entry = run.queue[i]!;
      const groupLimit = run.groupLimits.get(entry.groupId) ?? 1;
      const inGroup = run.inFlightByGroup.get(entry.groupId) ?? 0;
      if (inGroup >= groupLimit) {
        i++; // this group is full; a VM of another group may still start
        continue;
      }
      run.queue.splice(i, 1);
      run.inFlight.set(entry.contextId, entry);
      run.inFlightByGroup.set(entry.groupId, inGroup + 1);
      run.maxRunning = Math.max(run.maxRunning, run.inFlight.size);
      this.maxObserved.set(run.scheduleId, Math.max(this.maxObserved.get(run.scheduleId) ?? 0, run.inFlight.size));
      void this.dispatch(run, entry, schedule);
    }
    this.finishIfDone(run);
  }

  private async dispatch(run: Run, entry: Entry, schedule: Schedule | null): Promise<void> {
    let outcome: { kind: 'skipped'; reason: ScheduleSkipReason } | { kind: 'failed'; error: string; retry: boolean } | { kind: 'completed' };
    try {
      const skip = await this.skipReason(run, entry, schedule);
      if (skip) {
        outcome = { kind: 'skipped', reason: skip };
      } else {
        // Fresh data for this run, gathered with the other VMs of the same VMA and credential; a VM
        // that cannot be discovered fails here alone, with the reason, and may be retried.
        const fresh = await this.discoverFor(run, entry.contextId);
        let jobId: string;
        try {
          ({ jobId } = await this.deps.ports.startDiscovered(entry.contextId, fresh, {
            trigger: 'scheduler',
            scheduleExecutionId: run.executionId,
            vmGroupId: entry.groupId,
            scheduledBy: run.scheduledBy,
            fullSync: schedule?.syncType === 'full',
          }));
        } catch (e) {
          // A job started by someone else between the check and the claim is the same skip as before it.
          if (e instanceof AppError && e.code === 'conflict' && e.details?.jobId) throw new SkipSignal('active_job');
          // Likewise a failover that began in between (the claim names the VM's status).
          if (e instanceof AppError && e.code === 'conflict' && typeof e.details?.status === 'string') {
            throw new SkipSignal(String(e.details.status).startsWith('failed_over') ? 'failed_over' : 'failing_over');
          }
          throw e;
        }
        this.deps.executions.recount(run.executionId);
        this.runEvent(run, 'info', `${this.vmName(entry.contextId)}: job ${jobId} started`);
        const end = await this.deps.ports.whenJobEnds(jobId);
        if (end.status === 'completed') outcome = { kind: 'completed' };
        else outcome = { kind: 'failed', error: end.error ?? end.status, retry: end.status === 'failed' };
      }
    } catch (e) {
      if (e instanceof SkipSignal) outcome = { kind: 'skipped', reason: e.reason };
      else {
        this.deps.executions.addStartFailure(run.executionId, entry.contextId, errorText(e));
        outcome = { kind: 'failed', error: errorText(e), retry: true };
      }
    }
    run.inFlight.delete(entry.contextId);
    run.inFlightByGroup.set(entry.groupId, (run.inFlightByGroup.get(entry.groupId) ?? 1) - 1);
    const vm = this.vmName(entry.contextId);
    if (outcome.kind === 'skipped') this.runEvent(run, 'info', `${vm}: skipped (${outcome.reason.replace(/_/g, ' ')})`);
    else if (outcome.kind === 'completed') this.runEvent(run, 'info', `${vm}: sync completed`);
    else this.runEvent(run, 'warn', `${vm}: ${outcome.error}`);
    if (outcome.kind === 'skipped') {
      this.deps.executions.addSkip(run.executionId, outcome.reason, entry.contextId);
      run.outcomes.set(entry.contextId, 'skipped');
    } else if (outcome.kind === 'completed') {
      run.outcomes.set(entry.contextId, 'completed');
    } else {
      const current = this.deps.schedules.get(run.scheduleId);
      const attempts = current?.retryAttempts ?? 0;
      if (outcome.retry && entry.failures < attempts) {
        entry.failures++;
        this.deps.executions.addRetry(run.executionId);
        const delayMs = (current?.retryDelaySeconds ?? 0) * 1000;
        const timer = this.deps.ports.clock.setTimer(() => {
          run.retryTimers.delete(timer);
          run.queue.push(entry);
          this.pump(run);
        }, delayMs);
        run.retryTimers.add(timer);
      } else {
        run.outcomes.set(entry.contextId, 'failed');
      }
    }
    this.deps.executions.recount(run.executionId);
    this.pump(run);
  }

  /** The per-VM checks, at the moment the VM's turn comes (state may have changed since the run began). */
  private async skipReason(run: Run, entry: Entry, schedule: Schedule | null): Promise<ScheduleSkipReason | null> {
    if (!schedule?.enabled) return 'schedule_disabled';
    const ctx: VmContextSummary | null = this.deps.contexts.get(entry.contextId);
    if (!ctx) throw new AppError('not_found', `VM context ${entry.contextId} is no longer managed`);
    if (!ctx.enabled) return 'vm_disabled';
    if (ctx.currentJobId) return 'active_job';
    if (ctx.status === 'failing_over' || ctx.status === 'rolling_back') return 'failing_over';
    if (ctx.status === 'failed_over_test' || ctx.status === 'failed_over_live') return 'failed_over';
    if (ctx.vmaApplianceId) {
      const problem = await this.vmaProblem(run, ctx.vmaApplianceId);
      if (problem) return 'vma_unreachable';
    }
    return null;
  }

  /**
   * Discovery for one VM's turn. One request covers this VM and the next VMs of the run (in flight
   * or queued) on the same VMA and credential that have no answer yet, up to discoveryBatchSize; VMs
   * whose turn comes while that request runs wait for it instead of asking again.
   */
  private async discoverFor(run: Run, contextId: string): Promise<FreshDiscovery> {
    const take = (): FreshDiscovery => {
      const got = run.discovered.get(contextId);
      run.discovered.delete(contextId);
      if (!got) throw new AppError('internal', `The discovery answer for VM context ${contextId} went missing`);
      if (!got.outcome.ok) throw got.outcome.error;
      return got.outcome.fresh;
    };
    const isFresh = (id: string) => {
      const d = run.discovered.get(id);
      return d !== undefined && this.now().getTime() - d.at < this.opts.discoveryMaxAgeMs;
    };
    if (isFresh(contextId)) return take();
    const pending = run.discovering.get(contextId);
    if (pending) {
      await pending;
      return take();
    }
    const ctx = this.deps.contexts.get(contextId);
    const key = (c: VmContextSummary) => `${c.vmaApplianceId ?? ''}\u0000${c.credentialId ?? ''}`;
    const batch = [contextId];
    if (ctx) {
      for (const e of [...run.inFlight.values(), ...run.queue]) {
        if (batch.length >= this.opts.discoveryBatchSize) break;
        if (e.contextId === contextId || run.discovering.has(e.contextId) || isFresh(e.contextId)) continue;
        const c = this.deps.contexts.get(e.contextId);
        if (c && c.enabled && !c.currentJobId && key(c) === key(ctx)) batch.push(c.id);
      }
    }
    this.discoveryRequests.set(run.scheduleId, (this.discoveryRequests.get(run.scheduleId) ?? 0) + 1);
    const request = this.deps.ports
      .discover(batch)
      .catch((e: unknown) => new Map<string, DiscoveryOutcome>(batch.map((id) => [id, { ok: false, error: e instanceof AppError ? e : new AppError('internal', errorText(e)) }])))
      .then((answers) => {
        // Stored before anyone waiting on this request resumes, so each finds its own answer.
        const at = this.now().getTime();
        for (const id of batch) {
          run.discovering.delete(id);
          run.discovered.set(id, { at, outcome: answers.get(id) ?? { ok: false, error: new AppError('internal', `Discovery gave no answer for VM context ${id}`) } });
        }
      });
    for (const id of batch) run.discovering.set(id, request);
    await request;
    return take();
  }

  private async vmaProblem(run: Run, applianceId: string): Promise<string | null> {
    const now = this.now().getTime();
    const cached = run.vmaChecks.get(applianceId);
    if (cached && now - cached.at < this.opts.vmaCheckTtlMs) return cached.problem;
    let problem: string | null;
    try {
      problem = await this.deps.ports.vmaProblem(applianceId);
    } catch (e) {
      problem = errorText(e);
    }
    run.vmaChecks.set(applianceId, { at: now, problem });
    return problem;
  }

  private finishIfDone(run: Run): void {
    if (run.queue.length > 0 || run.inFlight.size > 0 || run.retryTimers.size > 0) return;
    if (this.runs.get(run.scheduleId) !== run) return;
    this.runs.delete(run.scheduleId);
    const finished = this.deps.executions.finish(run.executionId, finalStatus([...run.outcomes.values()]), this.now().toISOString());
    this.closeRunOperation(finished);
    run.resolve(finished);
    const queued = this.queuedFires.get(run.scheduleId);
    if (queued) {
      this.queuedFires.delete(run.scheduleId);
      // Started from a clean stack: the caller of finishIfDone may still be unwinding this run.
      queueMicrotask(() => {
        if (!this.runs.has(run.scheduleId)) this.beginRun(run.scheduleId, queued.trigger, queued.slot);
      });
    }
  }

  /**
   * Executions a stopped process left running: their jobs live on (the poller resumes them), so the
   * counters follow those jobs to the end; VMs the run had not started yet are not started now.
   */
  private async recoverOpenExecutions(): Promise<void> {
    for (const e of this.deps.executions.allRunning()) {
      const jobs = this.deps.executions.jobIds(e.id);
      const active = jobs.filter((j) => !['completed', 'failed', 'cancelled'].includes(j.status));
      const note = 'The console stopped during this run; VMs it had not started yet were not started';
      const close = () => {
        const latest = new Map<string, string>();
        for (const j of this.deps.executions.jobIds(e.id)) latest.set(j.vmContextId, j.status);
        const outcomes: VmOutcome[] = [...latest.values()].map((s) => (s === 'completed' ? 'completed' : 'failed'));
        for (const f of e.startFailures) if (!latest.has(f.vmContextId)) outcomes.push('failed');
        for (const ids of Object.values(e.skipped)) for (let i = 0; i < (ids?.length ?? 0); i++) outcomes.push('skipped');
        while (outcomes.length < e.eligible) outcomes.push('skipped');
        this.closeRunOperation(this.deps.executions.finish(e.id, finalStatus(outcomes), this.now().toISOString(), note));
        // Slots missed while this run was still open were left for now.
        if (this.started) this.catchUp(e.scheduleId);
      };
      if (active.length === 0) {
        close();
        continue;
      }
      void Promise.all(active.map((j) => this.deps.ports.whenJobEnds(j.jobId).then(() => this.deps.executions.recount(e.id)))).then(close, (err: unknown) =>
        this.deps.logger.warn(`could not follow the jobs of execution ${e.id}: ${errorText(err)}`),
      );
    }
  }

  private now(): Date {
    return this.deps.ports.clock.now();
  }

  private vmName(contextId: string): string {
    return this.deps.contexts.get(contextId)?.name ?? contextId;
  }

  private runEvent(run: Run, level: 'info' | 'warn', message: string): void {
    if (this.deps.logbook?.operation(run.executionId)) this.deps.logbook.event(run.executionId, level, message);
  }

  /** The run's log operation ends with the execution: partial and failed runs end failed, saying how many VMs failed. */
  private closeRunOperation(e: ScheduleExecution): void {
    const log = this.deps.logbook;
    if (!log?.operation(e.id)) return;
    const summary = `${e.completed} completed, ${e.failed} failed, ${e.skippedCount} skipped of ${e.eligible} eligible${e.retried ? `; ${e.retried} retried` : ''}`;
    const failed = e.status === 'failed' || e.status === 'partial';
    log.event(e.id, failed ? 'error' : 'info', `Run ${e.status}: ${summary}${e.note ? ` (${e.note})` : ''}`);
    log.finishOperation(e.id, failed ? 'failed' : 'completed', failed ? `${e.failed} of ${e.eligible} VM(s) failed` : null);
  }
}

const TRIGGER_TITLE: Record<ExecutionTrigger, string> = { scheduled: 'Scheduled', manual: 'Manual', catch_up: 'Catch-up' };

class SkipSignal extends Error {
  constructor(readonly reason: ScheduleSkipReason) {
    super(reason);
  }
}

/** completed: every eligible VM synced; failed: none did and some failed; skipped: nothing was attempted. */
export function finalStatus(outcomes: VmOutcome[]): Exclude<ExecutionStatus, 'running'> {
  const completed = outcomes.filter((o) => o === 'completed').length;
  const failed = outcomes.filter((o) => o === 'failed').length;
  if (completed === 0 && failed === 0) return 'skipped';
  if (completed === outcomes.length) return 'completed';
  if (completed === 0) return 'failed';
  return 'partial';
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
