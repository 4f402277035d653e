import type { ErrorCode } from './errors';

// Domain vocabulary shared by every side. Status lists are runtime arrays so the database CHECK
// constraints, the zod schemas and the TypeScript unions all come from one place.

export const VM_CONTEXT_STATUSES = [
  'discovered',
  'replicating',
  'ready_for_failover',
  'failing_over',
  'failed_over_test',
  'failed_over_live',
  'rolling_back',
  'failed',
  'cleanup_required',
] as const;
export type VmContextStatus = (typeof VM_CONTEXT_STATUSES)[number];

export const JOB_STATUSES = [
  'pending',
  'provisioning',
  'attaching',
  'exporting',
  'starting',
  'replicating',
  'completed',
  'failed',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];
export type TerminalJobStatus = (typeof TERMINAL_JOB_STATUSES)[number];
export const ACTIVE_JOB_STATUSES = [
  'pending',
  'provisioning',
  'attaching',
  'exporting',
  'starting',
  'replicating',
] as const satisfies readonly JobStatus[];

/** VM statuses in which a failover owns the VM: no replication may start (except its own final sync). */
export const FAILOVER_BUSY_STATUSES: readonly VmContextStatus[] = ['failing_over', 'failed_over_test', 'rolling_back', 'failed_over_live'];

export const JOB_TYPES = ['initial', 'incremental'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export const JOB_TRIGGERS = ['ui', 'cli', 'scheduler', 'failover'] as const;
export type JobTrigger = (typeof JOB_TRIGGERS)[number];

export const JOB_DISK_STATUSES = ['pending', 'transferring', 'completed', 'failed'] as const;
export type JobDiskStatus = (typeof JOB_DISK_STATUSES)[number];

export const VOLUME_STATES = ['creating', 'detached', 'attached', 'deleted', 'error'] as const;
export type VolumeState = (typeof VOLUME_STATES)[number];

export const EXPORT_STATES = ['pending', 'active', 'removed'] as const;
export type ExportState = (typeof EXPORT_STATES)[number];

export const APPLIANCE_KINDS = ['vma', 'oma'] as const;
export type ApplianceKind = (typeof APPLIANCE_KINDS)[number];

export const SSH_AUTH_METHODS = ['password', 'private_key'] as const;
export type SshAuthMethod = (typeof SSH_AUTH_METHODS)[number];

export const TUNNEL_STATES = ['disconnected', 'connecting', 'ready', 'backoff', 'failed'] as const;
export type TunnelStateName = (typeof TUNNEL_STATES)[number];

/** What a schedule does about runs missed while no owner process ran or the machine slept. */
export const SCHEDULE_CATCH_UP_POLICIES = ['skip', 'run_once'] as const;
export type ScheduleCatchUpPolicy = (typeof SCHEDULE_CATCH_UP_POLICIES)[number];

/** `auto`: the engine decides per disk from stored change ids; `full`: every disk is copied whole. */
export const SCHEDULE_SYNC_TYPES = ['auto', 'full'] as const;
export type ScheduleSyncType = (typeof SCHEDULE_SYNC_TYPES)[number];

export const EXECUTION_STATUSES = ['running', 'completed', 'partial', 'failed', 'skipped'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const EXECUTION_TRIGGERS = ['scheduled', 'manual', 'catch_up'] as const;
export type ExecutionTrigger = (typeof EXECUTION_TRIGGERS)[number];

/** Why a run did not start a VM; recorded per VM in the execution. */
export const SCHEDULE_SKIP_REASONS = [
  'schedule_disabled',
  'vm_disabled',
  'active_job',
  'failing_over',
  'failed_over',
  'vma_unreachable',
] as const;
export type ScheduleSkipReason = (typeof SCHEDULE_SKIP_REASONS)[number];

export const FAILOVER_TYPES = ['test', 'live'] as const;
export type FailoverType = (typeof FAILOVER_TYPES)[number];

export const FAILOVER_STATUSES = [
  'pending',
  'validating',
  'snapshotting',
  'powering_off',
  'final_sync',
  'creating_vm',
  'starting_vm',
  'completed',
  'failed',
  'rolling_back',
  'rolled_back',
  'cleanup_required',
] as const;
export type FailoverStatus = (typeof FAILOVER_STATUSES)[number];

export const OPERATION_KINDS = [
  'replication',
  'failover',
  'rollback',
  'discovery',
  'schedule',
  'cleanup',
  'appliance',
  'inventory',
  'credential',
  'cloudstack',
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const OPERATION_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const STEP_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const POWER_STATES = ['poweredOn', 'poweredOff', 'suspended', 'unknown'] as const;
export type PowerState = (typeof POWER_STATES)[number];

/** A network adapter as discovered (normalised). */
export interface VmNetwork {
  label: string;
  networkName: string;
  adapterType: string;
  macAddress: string;
  connected: boolean;
}

/** Specs of a VM as the last discovery reported them (normalised). */
export interface VmSpecs {
  cpus: number;
  memoryMb: number;
  osType: string;
  powerState: PowerState;
  vmxVersion: string;
  networks: VmNetwork[];
}

export interface VmContextSummary {
  id: string;
  vmwareVmId: string;
  vcenterHost: string;
  name: string;
  path: string;
  datacenter: string;
  status: VmContextStatus;
  currentJobId: string | null;
  specs: VmSpecs;
  diskCount: number;
  totalBytes: number;
  totalJobs: number;
  successfulJobs: number;
  failedJobs: number;
  lastSuccessfulJobId: string | null;
  /** ISO time the last successful sync completed: the replica's age is now minus this. */
  lastSuccessfulSyncAt: string | null;
  /** The job whose unfinished copy left the replica volumes torn; null when they hold a completed sync (or none). */
  replicaTornJobId: string | null;
  lastError: string | null;
  enabled: boolean;
  credentialId: string | null;
  vmaApplianceId: string | null;
  lastDiscoveredAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface VmDisk {
  id: number;
  vmContextId: string;
  diskKey: string;
  label: string;
  vmdkPath: string;
  datastore: string;
  capacityBytes: number;
  provisioningType: string;
  unitNumber: number | null;
  cloudstackVolumeId: string | null;
  exportName: string | null;
  lastChangeId: string | null;
  lastChangeIdAt: string | null;
}

export interface ReplicationJob {
  id: string;
  vmContextId: string;
  jobType: JobType;
  status: JobStatus;
  phase: string;
  progressPercent: number;
  /** Bytes this sync moved so far and must move in all, as the VMA reports them (0 until it says). */
  bytesTransferred: number;
  totalBytes: number;
  /** Capacity of the disks this job covers: never a byte total. */
  capacityBytes: number;
  rateBps: number;
  etaSeconds: number | null;
  error: string | null;
  vmPath: string;
  trigger: JobTrigger;
  scheduleExecutionId: string | null;
  vmGroupId: string | null;
  scheduledBy: string | null;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  completedAt: string | null;
}

export interface JobDiskProgress {
  jobId: string;
  vmDiskId: number;
  diskKey: string;
  status: JobDiskStatus;
  syncType: JobType;
  previousChangeId: string | null;
  changeId: string | null;
  /** What the VMA reported for this disk in this sync (an incremental's total is its changed bytes). */
  bytesTransferred: number;
  totalBytes: number;
  /** The disk's capacity, apart from the byte total. */
  capacityBytes: number;
  percent: number;
}

export interface CbtHistoryEntry {
  id: number;
  vmContextId: string;
  vmDiskId: number;
  diskKey: string;
  jobId: string | null;
  syncType: JobType;
  previousChangeId: string | null;
  changeId: string | null;
  bytesTransferred: number;
  durationMs: number;
  createdAt: string;
}

export interface VmContextDetail {
  context: VmContextSummary;
  disks: VmDisk[];
  jobs: ReplicationJob[];
  cbtHistory: CbtHistoryEntry[];
}

export interface Appliance {
  id: string;
  kind: ApplianceKind;
  name: string;
  host: string;
  port: number;
  username: string;
  authMethod: SshAuthMethod;
  hasSecret: boolean;
  hostKeyFingerprint: string | null;
  hostKeyPinnedAt: string | null;
  apiPort: number;
  callbackPort: number;
  nbdHost: string | null;
  nbdPort: number | null;
  cloudstackVmId: string | null;
  /** OMA appliances: where nbdkit listens and whom its ip filter admits (from the appliance's settings). */
  nbdAccess?: NbdAccess | null;
  reportedIdentity: Record<string, unknown> | null;
  identityCheckedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NbdAccess {
  /** nbdkit's listen address; null = the default (127.0.0.1). */
  listenAddress: string | null;
  /** Addresses nbdkit's ip filter admits besides the appliance's loopback. */
  allowedClients: string[];
}

export interface TunnelState {
  applianceId: string;
  state: TunnelStateName;
  /** ISO time of the next attempt while in backoff. */
  nextAttemptAt: string | null;
  attempt: number;
  reason: string | null;
  /** Fingerprint offered by the server when it is not (yet) trusted. */
  offeredFingerprint: string | null;
  /** Why a failed link failed (e.g. host_key_untrusted, host_key_mismatch, auth), for the UI to act on. */
  errorCode: ErrorCode | null;
  /** VMAs only: this console's change-ID callback forward on the appliance (no copy starts unless bound). */
  callbackForward?: CallbackForwardState | null;
}

export interface CallbackForwardState {
  state: 'requested' | 'bound' | 'refused';
  /** Port on the appliance's loopback the copier calls back on. */
  port: number;
  reason: string | null;
}

export interface VcenterCredential {
  id: string;
  name: string;
  vcenterHost: string;
  username: string;
  datacenter: string;
  hasSecret: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface LogOperation {
  id: string;
  kind: OperationKind;
  vmContextId: string | null;
  status: OperationStatus;
  title: string;
  startedAt: string;
  completedAt: string | null;
  error: string | null;
}

export interface LogStep {
  id: number;
  operationId: string;
  seq: number;
  name: string;
  status: StepStatus;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

/**
 * One VMA copy phase as the owner of the engine recorded it: the first time its poller saw the phase
 * (its own clock), kept in the job log so every window and the Logs read the same history.
 */
export interface RecordedPhase {
  name: string;
  at: string;
}

/** The key of a log event's details that marks it as a recorded VMA phase. */
export const VMA_PHASE_DETAIL = 'vmaPhase';

export interface LogEvent {
  id: number;
  operationId: string;
  stepId: number | null;
  level: LogLevel;
  message: string;
  details: Record<string, unknown> | null;
  createdAt: string;
}

export interface Schedule {
  id: string;
  name: string;
  cronExpression: string;
  timezone: string;
  enabled: boolean;
  syncType: ScheduleSyncType;
  maxConcurrentJobs: number;
  skipIfRunning: boolean;
  retryAttempts: number;
  retryDelaySeconds: number;
  catchUp: ScheduleCatchUpPolicy;
  lastRunAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface VmGroup {
  id: string;
  name: string;
  description: string;
  scheduleId: string | null;
  maxConcurrentVms: number;
  /** Lower runs first. */
  priority: number;
  enabled: boolean;
  /** The oldest acceptable last good sync, in seconds; null: no target. */
  replicaAgeTargetSeconds: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface VmGroupMember {
  groupId: string;
  vmContextId: string;
  vmName: string;
  /** Lower runs first within the group. */
  priority: number;
  enabled: boolean;
  addedAt: string;
}

export interface ExecutionVmFailure {
  vmContextId: string;
  error: string;
}

export interface ScheduleExecution {
  id: string;
  scheduleId: string;
  trigger: ExecutionTrigger;
  status: ExecutionStatus;
  /** The cron slot this run stands for (the moment of the request for a manual run). */
  scheduledFor: string;
  eligible: number;
  started: number;
  skipped: Partial<Record<ScheduleSkipReason, string[]>>;
  skippedCount: number;
  completed: number;
  failed: number;
  retried: number;
  /** VMs whose job could not be created (discovery failed, conflict...), with the reason. */
  startFailures: ExecutionVmFailure[];
  note: string | null;
  startedAt: string;
  endedAt: string | null;
}

export interface FailoverJob {
  id: string;
  vmContextId: string;
  failoverType: FailoverType;
  status: FailoverStatus;
  validationOverridden: boolean;
  overrideReason: string | null;
  cloudstackVmId: string | null;
  finalSyncJobId: string | null;
  error: string | null;
  createdAt: string;
  completedAt: string | null;
}

/** `job-YYYYMMDD-HHMMSS.mmm-<6hex>`: one id end to end (DB, VMA, logs, UI). */
export const JOB_ID_PATTERN = /^job-\d{8}-\d{6}\.\d{3}-[0-9a-f]{6}$/;

/** Ways the data key of the secret store can be unwrapped: the OS keychain (app) or a passphrase. */
export const SECRET_UNLOCKER_KINDS = ['safe-storage', 'passphrase'] as const;
export type SecretUnlockerKind = (typeof SECRET_UNLOCKER_KINDS)[number];

export const SECRET_STORE_KINDS = ['data-key-file', 'memory'] as const;
export type SecretStoreKind = (typeof SECRET_STORE_KINDS)[number];

export interface SecretUnlockerStatus {
  kind: SecretUnlockerKind;
  /** This process can use it (keychain present, passphrase supplied or can be asked for). */
  available: boolean;
  /** The store file holds the data key wrapped by it. */
  enrolled: boolean;
  /** Where it comes from or why it cannot be used; never the secret itself. */
  detail: string | null;
}

/** Which secret store serves this data directory and whether this process can open it (Settings). */
export interface SecretStoreStatus {
  kind: SecretStoreKind;
  /** The store file, or null for a store that is not persisted. */
  location: string | null;
  /** Secrets can be read and written now. */
  usable: boolean;
  /** Why not, when not usable. */
  reason: string | null;
  unlockers: SecretUnlockerStatus[];
}

/** Desktop notifications: none, only failures, or every job end. */
export const NOTIFICATION_LEVELS = ['off', 'failures', 'all'] as const;
export type NotificationLevel = (typeof NOTIFICATION_LEVELS)[number];
