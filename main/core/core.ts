import path from 'node:path';
import { openDatabase, schemaVersion, DB_FILE_NAME, type Db, type MigrationReport } from '../db/database';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import { ApplianceRepository } from '../db/repositories/appliances';
import { CredentialRepository } from '../db/repositories/credentials';
import { EventBus } from '../ipc/event-bus';
import { Logbook } from '../logbook/logbook';
import type { SecretStore } from '../secrets/secret-store';
import { ApplianceService, type ApplianceServiceOptions } from '../appliances/appliance-service';
import { CredentialService } from '../appliances/credential-service';
import { DiscoveryService, type DiscoveryOptions } from '../discovery/discovery-service';
import { CloudStackSettings, type ClientTuning } from '../settings/cloudstack-settings';
import { DesktopSettingsStore } from '../settings/desktop-settings';
import { JobRepository } from '../engine/job-repository';
import { VolumeRepository } from '../engine/volume-repository';
import { ReplicationEngine, type EngineOptions } from '../engine/replication-engine';
import { createEnginePorts } from '../engine/engine-ports';
import { VmManagementService } from '../engine/vm-management';
import { ChangeIdChannel } from '../engine/change-id-channel';
import { ScheduleRepository } from '../db/repositories/schedules';
import { VmGroupRepository } from '../db/repositories/vm-groups';
import { ScheduleExecutionRepository } from '../db/repositories/schedule-executions';
import { MachineGroups } from '../scheduler/machine-groups';
import { SchedulerService, type SchedulerOptions } from '../scheduler/scheduler-service';
import { systemClock, type SchedulerClock } from '../scheduler/ports';
import { silentLogger, type AppLogger } from '../base/app-log';
import { DomainEvents } from '../base/domain-events';
import { secureDataDir } from '../base/data-dir';
import { FailoverRepository } from '../db/repositories/failovers';
import { NetworkMappingRepository } from '../db/repositories/network-mappings';
import { FailoverService, type FailoverOptions } from '../failover/failover-service';
import { AppError } from '../../shared/errors';
import type { OwnerPort } from '../owner/owner-port';
import pkg from '../../package.json';

export type CoreTransport = 'electron' | 'dev-bridge' | 'cli';

export interface CoreOptions {
  dataDir: string;
  transport: CoreTransport;
  secrets: SecretStore;
  logger?: AppLogger;
  bus?: EventBus;
  appliances?: ApplianceServiceOptions;
  engine?: Partial<EngineOptions>;
  discovery?: Partial<DiscoveryOptions>;
  cloudstack?: ClientTuning;
  scheduler?: Partial<SchedulerOptions> & { clock?: SchedulerClock };
  failover?: Partial<FailoverOptions>;
  /** Who holds the owner lock of dataDir: the shell that took it hands it in (Settings/About, `mkc status`). */
  owner?: OwnerPort;
  /** The embedded lab: every screen labels it. */
  lab?: boolean;
}

export interface BackgroundOptions {
  /** Run schedules (the owner process: the app, the dev bridge, `mkc serve`); off for a CLI following one job. */
  schedules?: boolean;
}

/** The services every transport shares, built once per process over one data directory. */
export class Core {
  readonly db: Db;
  readonly migration: MigrationReport;
  readonly contexts: VmContextRepository;
  readonly logbook: Logbook;
  readonly bus: EventBus;
  /** Internal typed facts (jobs started/ended, steps, active job count); the bus is for windows. */
  readonly events: DomainEvents;
  readonly secrets: SecretStore;
  readonly logger: AppLogger;
  readonly dataDir: string;
  readonly transport: CoreTransport;
  readonly version: string = pkg.version;
  readonly owner: OwnerPort | null;
  readonly lab: boolean;
  readonly appliances: ApplianceService;
  readonly credentials: CredentialService;
  readonly cloudstack: CloudStackSettings;
  readonly desktop: DesktopSettingsStore;
  readonly discovery: DiscoveryService;
  readonly jobs: JobRepository;
  readonly volumes: VolumeRepository;
  readonly engine: ReplicationEngine;
  /** Disable, enable and remove VMs from management (refused while a job or failover works on them). */
  readonly management: VmManagementService;
  readonly schedules: ScheduleRepository;
  readonly groups: VmGroupRepository;
  /** Operator changes to groups (recorded in the job log); `groups` is for reading. */
  readonly machineGroups: MachineGroups;
  readonly executions: ScheduleExecutionRepository;
  readonly scheduler: SchedulerService;
  readonly networkMappings: NetworkMappingRepository;
  readonly failover: FailoverService;
  private backgroundStarted = false;
  private readonly closers: (() => void | Promise<void>)[] = [];

  constructor(options: CoreOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.transport = options.transport;
    this.owner = options.owner ?? null;
    this.lab = options.lab === true;
    secureDataDir(this.dataDir);
    const { db, migration } = openDatabase(path.join(this.dataDir, DB_FILE_NAME));
    this.db = db;
    this.migration = migration;
    this.secrets = options.secrets;
    this.logger = options.logger ?? silentLogger;
    this.bus = options.bus ?? new EventBus();
    this.events = new DomainEvents((type, e) => this.logger.warn(`a ${type} listener failed: ${e instanceof Error ? e.message : String(e)}`));
    // Windows are told about step changes as they happen, not left to infer them from progress frames.
    this.events.on('step-changed', (e) => {
      if (e.kind !== 'replication' || !e.vmContextId) return;
      this.bus.emit('jobs:step', { changes: [{ jobId: e.operationId, vmContextId: e.vmContextId, step: e.step, status: e.status, durationMs: e.durationMs, error: e.error }] });
    });
    this.contexts = new VmContextRepository(db);
    this.logbook = new Logbook(db);
    this.logbook.onEvent((e) => this.bus.emit('logs:appended', { events: [e] }));
    // Operator actions are recorded by the service that performs them, whichever transport asked.
    this.appliances = new ApplianceService(new ApplianceRepository(db), this.secrets, this.bus, this.logger, options.appliances, this.logbook);
    this.credentials = new CredentialService(new CredentialRepository(db), this.secrets, this.logbook);
    this.cloudstack = new CloudStackSettings(db, this.secrets, options.cloudstack, this.logbook);
    this.desktop = new DesktopSettingsStore(db);
    this.discovery = new DiscoveryService(this.appliances, this.credentials.repo, this.secrets, this.contexts, this.bus, options.discovery, this.logbook);
    this.jobs = new JobRepository(db);
    this.volumes = new VolumeRepository(db);
    const channel = new ChangeIdChannel(db, this.jobs, {
      accepted: (jobId, diskKey, outcome, changeId) => {
        this.logbook.event(
          jobId,
          outcome === 'recorded' ? 'info' : 'warn',
          outcome === 'recorded' ? `${diskKey} finished; change id ${changeId} stored` : `${diskKey} finished but the VMA sent an empty change id; it is not stored, and this disk's next sync copies the whole disk`,
        );
        // A finished disk may be the last one: ask the VMA now rather than at the next poll.
        void this.engine.poller.pollSoon(jobId);
      },
      refused: (applianceId, reason, jobId) => {
        if (jobId && this.logbook.operation(jobId)) this.logbook.event(jobId, 'warn', `Callback refused: ${reason}`);
        else this.logger.warn(`change-ID callback refused on appliance ${applianceId}: ${reason}`);
      },
    });
    const ports = createEnginePorts({ appliances: this.appliances, credentials: this.credentials.repo, secrets: this.secrets, cloudstack: this.cloudstack, channel });
    this.engine = new ReplicationEngine(
      { contexts: this.contexts, jobs: this.jobs, volumes: this.volumes, logbook: this.logbook, bus: this.bus, events: this.events, logger: this.logger, ports },
      options.engine,
    );
    this.management = new VmManagementService({ contexts: this.contexts, volumes: this.volumes, logbook: this.logbook, bus: this.bus, ports });
    this.networkMappings = new NetworkMappingRepository(db);
    this.failover = new FailoverService(
      {
        contexts: this.contexts,
        failovers: new FailoverRepository(db),
        mappings: this.networkMappings,
        volumes: this.volumes,
        logbook: this.logbook,
        logger: this.logger,
        ports: {
          cloudstack: () => this.cloudstack.client(),
          settings: () => {
            const v = this.cloudstack.view();
            const omaVmId = v.omaVmId ?? (v.omaApplianceId ? this.appliances.record(v.omaApplianceId).cloudstackVmId : null);
            return { zoneId: v.zoneId, templateId: v.templateId, serviceOfferingId: v.serviceOfferingId, omaVmId, omaApplianceId: v.omaApplianceId };
          },
          oma: (applianceId) => ports.oma(applianceId),
          shell: (applianceId) => this.appliances.shell(applianceId),
          power: (contextId) => {
            const ctx = this.contexts.require(contextId);
            if (!ctx.vmaApplianceId || !ctx.credentialId) throw new AppError('validation', `${ctx.name} has no VMA or vCenter credential to reach it`);
            const { vcenter, username, password } = ports.login(ctx.credentialId);
            const creds = { vcenter, username, password };
            const vma = () => this.appliances.vma(ctx.vmaApplianceId!);
            return {
              state: async () => (await (await vma()).powerState(ctx.vmwareVmId, creds)).new_state,
              off: async (force, timeout) => (await (await vma()).powerOff(ctx.vmwareVmId, { ...creds, force, timeout })).new_state,
              on: async () => (await (await vma()).powerOn(ctx.vmwareVmId, creds)).new_state,
            };
          },
          finalSync: async (contextId, timeoutMs) => {
            const { jobId } = await this.engine.start(contextId, { trigger: 'failover' });
            let timer: NodeJS.Timeout | undefined;
            // unref: a wait abandoned at shutdown (the failover was interrupted) must not keep the process alive.
            const timedOut = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs).unref()));
            const job = await Promise.race([this.engine.whenSettled(jobId), timedOut]).finally(() => clearTimeout(timer));
            if (job) return { jobId, status: job.status, error: job.error };
            const cancelled = await this.engine.cancel(jobId).catch(() => this.jobs.require(jobId));
            return { jobId, status: 'timed_out', error: `did not complete within ${Math.round(timeoutMs / 60_000)} min (job ${cancelled.status})` };
          },
          cancelFinalSync: async (contextId) => {
            const job = this.jobs.active().find((j) => j.vmContextId === contextId && j.trigger === 'failover');
            if (!job) return null;
            await this.engine.cancel(job.id);
            return job.id;
          },
        },
        onContextChanged: (id) => {
          const c = this.contexts.get(id);
          if (c) this.bus.emit('contexts:changed', { contexts: [c], removedIds: [] });
        },
      },
      options.failover,
    );
    this.appliances.setChangeIdStore((vmaApplianceId) => channel.storeFor(vmaApplianceId));
    this.schedules = new ScheduleRepository(db);
    this.groups = new VmGroupRepository(db);
    this.machineGroups = new MachineGroups(this.groups, this.logbook, (id) => this.contexts.get(id)?.name ?? id);
    this.executions = new ScheduleExecutionRepository(db, (e) => this.bus.emit('executions:changed', { executions: [e] }));
    const { clock, ...schedulerOptions } = options.scheduler ?? {};
    this.scheduler = new SchedulerService(
      {
        schedules: this.schedules,
        groups: this.groups,
        executions: this.executions,
        contexts: this.contexts,
        logger: this.logger,
        logbook: this.logbook,
        ports: {
          clock: clock ?? systemClock,
          // The canonical path: fresh discovery (batched per VMA and credential), the one normaliser's
          // pick, and the same claim and setup as the UI button (engine.start does one VM the same way).
          discover: (contextIds) => this.engine.discoverContexts(contextIds),
          startDiscovered: (contextId, fresh, o) => this.engine.startDiscovered(contextId, fresh, o),
          whenJobEnds: async (jobId) => {
            const j = await this.engine.whenSettled(jobId);
            return { status: j.status, error: j.error };
          },
          vmaProblem: async (applianceId) => {
            const s = await this.appliances.connect(applianceId);
            return s.state === 'ready' ? null : (s.reason ?? s.state);
          },
          arm: (cron, handlers) => cron.startFiring(handlers),
        },
      },
      schedulerOptions,
    );
  }

  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  activeJobCount(): number {
    return this.jobs.activeCount();
  }

  /**
   * Long-running hosts (the app, the dev bridge, `mkc serve`/`watch`) reconcile persisted jobs with
   * the VMA and start the poller; one-shot CLI commands do not.
   */
  async startBackground(options: BackgroundOptions = {}): Promise<void> {
    if (!this.backgroundStarted) {
      this.backgroundStarted = true;
      const vmaIds = new Set(this.jobs.active().map((j) => this.contexts.get(j.vmContextId)?.vmaApplianceId).filter((x): x is string => Boolean(x)));
      // The change-ID callbacks must be served before the VMA finishes a disk: connect the VMAs of active jobs.
      for (const id of vmaIds) void this.appliances.connect(id).catch(() => {});
      const r = await this.engine.reconcile();
      if (r.resumed || r.failed) this.logger.info('reconciled active jobs after start', r);
      this.engine.poller.start();
      const failovers = await this.failover.reconcile();
      if (failovers) this.logger.info('compensating failovers interrupted by a restart', { failovers });
    }
    // Schedules run only in a long-running owner, after the poller: their jobs must end to free slots.
    if ((options.schedules ?? true) && !this.scheduler.active) {
      await this.scheduler.start();
      this.logger.info('scheduler started');
    }
  }

  /** Services register their shutdown here; close() runs them in reverse order. */
  onClose(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    this.scheduler.stop();
    this.engine.poller.stop();
    await this.engine.drain();
    this.failover.interrupt();
    await this.failover.drain();
    for (const fn of this.closers.reverse()) await fn();
    await this.appliances.stopAll();
    // Progress numbers the repository holds ahead of the table (PROGRESS_PERSIST_MS) are written last.
    this.jobs.persistHeldProgress();
    this.bus.flush();
    this.db.close();
  }
}
