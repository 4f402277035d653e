// The one contract between the renderer and the core: every request the renderer can make and every
// event it can be told. The request schemas double as the runtime channel list, and the mapped type
// below forces them to cover exactly the channels of InvokeMap.
import { z } from 'zod';
import type {
  Appliance,
  JobDiskProgress,
  LogEvent,
  LogOperation,
  LogStep,
  RecordedPhase,
  ReplicationJob,
  Schedule,
  SecretStoreStatus,
  StepStatus,
  ScheduleExecution,
  TunnelState,
  VcenterCredential,
  VmContextDetail,
  VmContextSummary,
  VmGroup,
  VmGroupMember,
} from './domain';
import {
  NOTIFICATION_LEVELS,
  type NotificationLevel,
  APPLIANCE_KINDS,
  FAILOVER_TYPES,
  JOB_STATUSES,
  LOG_LEVELS,
  OPERATION_KINDS,
  SCHEDULE_CATCH_UP_POLICIES,
  SCHEDULE_SYNC_TYPES,
  SSH_AUTH_METHODS,
} from './domain';
import type { AddContextsResult, DiscoveryResult } from './discovery';
import { FINDING_CODES, SOURCE_ON_FAILURE, type Failover, type FailoverValidation, type NetworkMapping } from './failover';
import type { Result } from './errors';
import type { VmStatusCounts } from './vm-order';

export { EVENT_CHANNELS, INVOKE_CHANNELS, isEventChannel, isInvokeChannel } from './channels';

const id = z.string().min(1, 'must not be empty').max(200);
const name = z.string().trim().min(1, 'must not be empty').max(200);
const host = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(253)
  .regex(/^[A-Za-z0-9.:\-_[\]]+$/, 'must be a host name or IP address');
const port = z.number().int().min(1).max(65535);
const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be an OpenSSH SHA256 fingerprint (SHA256:...)');
const empty = z.object({}).strict();

// OMA appliance layout overrides (main/oma/oma-config.ts holds the defaults and checks them again
// where they are used); the same bounds here refuse a bad settings file before anything is stored.
const absolutePath = z
  .string()
  .max(1024)
  .regex(/^\/[^\0\n\r]+$/, 'must be an absolute path other than / without NUL or line breaks')
  .refine((p) => !p.endsWith('/') && !p.split('/').some((s) => s === '.' || s === '..'), 'must not end with / or contain . or .. segments');
const word = z.string().min(1).max(1024).regex(/^[^\0\n\r]+$/, 'must not contain NUL or line breaks');
const timeoutMs = z.number().int().min(100).max(600_000);
export const omaSettingsSchema = z
  .object({
    byIdDir: absolutePath.optional(),
    exportsDir: absolutePath.optional(),
    nbdListenAddress: host.optional(),
    nbdPort: port.optional(),
    pidFile: absolutePath.optional(),
    nbdkitBinary: word.optional(),
    /** The VMA's address(es) as the OMA sees them: nbdkit's ip filter admits only these (and loopback). */
    nbdAllowedClients: z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()])).max(64).optional(),
    nbdkitExtraArgs: z.array(word).max(64).optional(),
    nbdinfoBinary: word.optional(),
    privilegePrefix: z.array(word).max(16).optional(),
    commandTimeoutMs: timeoutMs.optional(),
    nbdkitStartTimeoutMs: timeoutMs.optional(),
  })
  .strict();
export type OmaSettingsInput = z.infer<typeof omaSettingsSchema>;

export const applianceInputSchema = z
  .object({
    kind: z.enum(APPLIANCE_KINDS),
    name,
    host,
    port: port.optional(),
    username: name,
    authMethod: z.enum(SSH_AUTH_METHODS),
    password: z.string().min(1).max(4096).optional(),
    privateKey: z.string().min(1).max(65536).optional(),
    passphrase: z.string().min(1).max(4096).optional(),
    apiPort: port.optional(),
    callbackPort: port.optional(),
    nbdHost: host.optional(),
    nbdPort: port.optional(),
    cloudstackVmId: id.optional(),
    omaSettings: omaSettingsSchema.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.omaSettings && v.kind !== 'oma') {
      ctx.addIssue({ code: 'custom', path: ['omaSettings'], message: 'applies to OMA appliances only' });
    }
    if (v.authMethod === 'password' && !v.password) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'is required for password authentication' });
    }
    if (v.authMethod === 'private_key' && !v.privateKey) {
      ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'is required for key authentication' });
    }
  });
export type ApplianceInput = z.infer<typeof applianceInputSchema>;

/** An appliance edit: the SSH address and login; a secret given replaces the stored one. */
export const applianceUpdateSchema = z
  .object({
    id,
    name: name.optional(),
    host: host.optional(),
    port: port.optional(),
    username: name.optional(),
    password: z.string().min(1).max(4096).optional(),
    privateKey: z.string().min(1).max(65536).optional(),
  })
  .strict();
export type ApplianceUpdate = z.infer<typeof applianceUpdateSchema>;

export const credentialInputSchema = z
  .object({ name, vcenterHost: host, username: name, datacenter: name, password: z.string().min(1).max(4096) })
  .strict();
export type CredentialInput = z.infer<typeof credentialInputSchema>;
/** An edit: only the fields given change; a password given replaces the stored one. */
export const credentialUpdateSchema = z
  .object({ id, name: name.optional(), vcenterHost: host.optional(), username: name.optional(), datacenter: name.optional(), password: z.string().min(1).max(4096).optional() })
  .strict();
export type CredentialUpdate = z.infer<typeof credentialUpdateSchema>;

export const cloudstackConfigInputSchema = z
  .object({
    apiUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
    apiKey: z.string().min(1).max(1024).optional(),
    secretKey: z.string().min(1).max(1024).optional(),
    zoneId: id.nullable().optional(),
    diskOfferingId: id.nullable().optional(),
    serviceOfferingId: id.nullable().optional(),
    templateId: id.nullable().optional(),
    defaultNetworkId: id.nullable().optional(),
    omaApplianceId: id.nullable().optional(),
    omaVmId: id.nullable().optional(),
    volumeHeadroomPercent: z.number().min(0).max(100).optional(),
  })
  .strict();
export type CloudStackConfigInput = z.infer<typeof cloudstackConfigInputSchema>;

// Cron syntax and zones are judged by the scheduler's cron module (the one owner of cron semantics);
// here only shape and bounds.
const cronExpression = z.string().trim().min(1, 'must not be empty').max(200);
const timezone = z.string().trim().min(1, 'must not be empty').max(100);
const scheduleFields = {
  name,
  cronExpression,
  timezone,
  enabled: z.boolean(),
  syncType: z.enum(SCHEDULE_SYNC_TYPES),
  maxConcurrentJobs: z.number().int().min(1).max(1000),
  skipIfRunning: z.boolean(),
  retryAttempts: z.number().int().min(0).max(20),
  retryDelaySeconds: z.number().int().min(0).max(7 * 86400),
  catchUp: z.enum(SCHEDULE_CATCH_UP_POLICIES),
};
export const scheduleInputSchema = z
  .object({ ...scheduleFields, timezone: timezone.optional() })
  .partial()
  .required({ name: true, cronExpression: true })
  .strict();
export type ScheduleInput = z.infer<typeof scheduleInputSchema>;
export const scheduleUpdateSchema = z.object({ id, ...scheduleFields }).partial().required({ id: true }).strict();
export type ScheduleUpdate = z.infer<typeof scheduleUpdateSchema>;

const groupFields = {
  name,
  description: z.string().trim().max(2000),
  scheduleId: id.nullable(),
  maxConcurrentVms: z.number().int().min(1).max(1000),
  priority: z.number().int().min(0).max(100000),
  enabled: z.boolean(),
  replicaAgeTargetSeconds: z.number().int().min(60).max(365 * 86400).nullable(),
};
export const groupInputSchema = z.object(groupFields).partial().required({ name: true }).strict();
export type GroupInput = z.infer<typeof groupInputSchema>;
export const groupUpdateSchema = z.object({ id, ...groupFields }).partial().required({ id: true }).strict();
export type GroupUpdate = z.infer<typeof groupUpdateSchema>;
const memberPriority = z.number().int().min(0).max(100000);

export interface ScheduleView {
  schedule: Schedule;
  /** The next runs as they will fire (empty when disabled). */
  nextRuns: string[];
  running: boolean;
  lastExecution: ScheduleExecution | null;
  groupIds: string[];
  vmCount: number;
  /** Member VMs whose last good sync is older than their group's replica-age target (or that never synced). */
  overTarget: number;
}

/** The overview screen's read model: one answer, computed in the core. */
export interface OverviewView {
  generatedAt: string;
  /** Managed VMs per status (every status, zeros included, in the domain's order). */
  vmsByState: { status: VmContextSummary['status']; count: number }[];
  totalVms: number;
  /** VMs that need the operator: failed, cleanup required, or a torn replica. */
  attention: { vmContextId: string; name: string; status: VmContextSummary['status']; problem: string; since: string | null }[];
  /** The oldest replicas first (never synced before all), each against its tightest group target. */
  oldestReplicas: {
    vmContextId: string;
    name: string;
    lastSyncAt: string | null;
    targetSeconds: number | null;
    overTarget: boolean;
  }[];
  /** VMs whose replica is older than their target (or never synced while one applies). */
  overTargetCount: number;
  /** Completed syncs since `since` (the operator's local midnight). */
  today: { since: string; syncs: number; bytes: number; averageBytesPerSync: number | null };
  /** The latest completed syncs, newest first. */
  recentSyncs: { jobId: string; vmContextId: string; name: string; jobType: string; bytes: number; durationMs: number | null; completedAt: string }[];
  runningJobs: { jobId: string; vmContextId: string; name: string; status: string; phase: string; progressPercent: number; bytesTransferred: number; totalBytes: number; rateBps: number }[];
  /** Enabled schedules by their next run, soonest first. */
  nextRuns: { scheduleId: string; name: string; at: string; vmCount: number }[];
  schedulesActive: boolean;
}

export interface VmGroupView {
  group: VmGroup;
  members: VmGroupMember[];
  /** Context ids of enabled members over the group's replica-age target. */
  overTarget: string[];
}

/** Per managed VM, from the scheduler's read model: its groups, its next scheduled sync and its replica-age target. */
export interface VmSchedulePlan {
  contextId: string;
  groups: { id: string; name: string; replicaAgeTargetSeconds: number | null; memberEnabled: boolean }[];
  /** The next time a schedule will try this VM; null when none will (see noSyncReason). */
  nextSyncAt: string | null;
  nextSyncScheduleName: string | null;
  /** Why no schedule will sync it: no group, groups without an enabled schedule, VM or membership disabled. */
  noSyncReason: string | null;
  /** The tightest replica-age target among its enabled memberships; null when none sets one. */
  replicaAgeTargetSeconds: number | null;
}

/** What removing a VM from management does to its replica volumes. */
export const REMOVAL_VOLUME_FATES = ['keep', 'delete'] as const;
export type RemovalVolumeFate = (typeof REMOVAL_VOLUME_FATES)[number];
export interface RemovalPlan {
  contextId: string;
  name: string;
  volumes: { id: string; name: string; sizeBytes: number; attached: boolean }[];
  /** Why removal keeping the volumes is refused now (active job, failover working, test failover up), or null. */
  refusedKeeping: string | null;
  /** Why removal deleting the volumes is refused now (also: a live failover's VM owns them), or null. */
  refusedDeleting: string | null;
  failedOverLive: boolean;
}
export interface RemoveContextResult {
  removed: true;
  volumes: { id: string; name: string; outcome: 'kept' | 'deleted' | 'missing' }[];
}

export interface ExecutionDetail {
  execution: ScheduleExecution;
  jobs: ReplicationJob[];
}
const findingRefSchema = z
  .string()
  .max(400)
  .refine((v) => (FINDING_CODES as readonly string[]).includes(v.split(':')[0]!), 'must name a validation finding (code or code:subject)');

export const failoverStartSchema = z
  .object({
    contextId: id,
    kind: z.enum(FAILOVER_TYPES),
    vmName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/, 'must be a host name: a letter, then letters, digits or hyphens (63 at most)')
      .optional(),
    ports: z.array(port).max(20).optional(),
    override: z.object({ by: name, findings: z.array(findingRefSchema).min(1).max(100) }).strict().optional(),
    /** Live failover powers the source off: the operator types the VM's name to confirm. */
    confirmName: name.optional(),
    /** Live: seconds a graceful shutdown may take before the power-off is forced. */
    powerOffTimeoutSeconds: z.number().int().min(10).max(3600).optional(),
    /** Live: false skips the final sync (recorded as a warning with the failover). */
    finalSync: z.boolean().optional(),
    /** Live: what the source gets when the failover fails after powering it off. */
    sourceOnFailure: z.enum(SOURCE_ON_FAILURE).optional(),
    keepMacAddresses: z.boolean().optional(),
  })
  .strict()
  .refine((v) => v.kind === 'live' || (v.powerOffTimeoutSeconds === undefined && v.finalSync === undefined && v.sourceOnFailure === undefined), {
    path: ['kind'],
    message: 'power-off timeout, final sync and source-on-failure apply to live failover only',
  })
  .refine((v) => v.kind !== 'live' || v.confirmName !== undefined, { path: ['confirmName'], message: "type the VM's name to confirm a live failover" });
export type FailoverStartInput = z.infer<typeof failoverStartSchema>;

export const networkMapSchema = z
  .object({
    /** Omitted: every VM with a NIC on this source network (bulk mapping by name). */
    contextId: id.optional(),
    sourceNetwork: name,
    liveNetworkId: id.nullable().optional(),
    testNetworkId: id.nullable().optional(),
  })
  .strict()
  .refine((v) => v.liveNetworkId !== undefined || v.testNetworkId !== undefined, 'give liveNetworkId or testNetworkId');
export type NetworkMapInput = z.infer<typeof networkMapSchema>;

export interface AppInfo {
  version: string;
  transport: 'electron' | 'dev-bridge';
  dataDir: string;
  /** The application log (JSON lines); null where the host writes none. */
  logFile: string | null;
  schemaVersion: number;
  schedulesActive: boolean;
  /** Which secret store holds passwords and keys, and why it cannot store any when it cannot. */
  secretStore: { kind: string; label: string; problem: string | null };
  /** Who owns this data directory (runs the engine, the poller and the schedules). */
  owner: OwnerView;
  /** The embedded lab (simulated appliances in a temporary data directory), labelled wherever it shows. */
  lab: boolean;
}

/**
 * The process holding the owner lock of a data directory: `owned` names it (pid, since, and what it is:
 * "the desktop app", "mkc serve", ...); `unknown` where the host holds no lock (tools, tests).
 */
export interface OwnerView {
  state: 'owned' | 'unknown';
  pid: number | null;
  since: string | null;
  transport: string | null;
  hostname: string | null;
  /** One line for people: "mkc serve, pid 4242, since 2026-…". */
  detail: string | null;
}

// In domain.ts (no zod) so the renderer can use the list without bundling the request schemas.
export { NOTIFICATION_LEVELS, type NotificationLevel } from './domain';

/** Settings of the desktop shell; the headless hosts keep them but do not act on them. */
export interface DesktopSettings {
  notifications: NotificationLevel;
  /** Start at login, hidden to the tray. */
  openAtLogin: boolean;
}
export const desktopSettingsInputSchema = z
  .object({ notifications: z.enum(NOTIFICATION_LEVELS).optional(), openAtLogin: z.boolean().optional() })
  .strict();
export type DesktopSettingsInput = z.infer<typeof desktopSettingsInputSchema>;

export interface JobDetail {
  job: ReplicationJob;
  disks: JobDiskProgress[];
  steps: LogStep[];
  /** The VMA phases of the copy, as recorded in the job log (oldest first). */
  phases: RecordedPhase[];
}

export interface CloudStackConfigView {
  apiUrl: string | null;
  hasKeys: boolean;
  zoneId: string | null;
  diskOfferingId: string | null;
  serviceOfferingId: string | null;
  templateId: string | null;
  defaultNetworkId: string | null;
  omaApplianceId: string | null;
  omaVmId: string | null;
  volumeHeadroomPercent: number;
}

export interface CloudStackOption {
  id: string;
  name: string;
  detail?: string;
}
export interface CloudStackOptions {
  zones: CloudStackOption[];
  diskOfferings: CloudStackOption[];
  serviceOfferings: CloudStackOption[];
  templates: CloudStackOption[];
  networks: CloudStackOption[];
  virtualMachines: CloudStackOption[];
}

export interface ConnectionTestResult {
  ok: boolean;
  checks: { name: string; ok: boolean; message: string }[];
}

/** What the Logs screen searches by; filtered in the core so a large log is never shipped whole. */
export interface LogSearch {
  vmContextId?: string;
  kind?: (typeof OPERATION_KINDS)[number];
  /** Text in an operation's title, id, error or any of its event messages. */
  text?: string;
  /** ISO time: operations started at or after it. */
  from?: string;
  /** ISO time: operations started before it. */
  to?: string;
}
const isoTime = z.string().datetime({ offset: true, message: 'must be an ISO date-time (2026-01-31T00:00:00Z)' });
const logSearchShape = {
  vmContextId: id.optional(),
  kind: z.enum(OPERATION_KINDS).optional(),
  text: z.string().trim().max(200).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
};
const fromBeforeTo = (v: { from?: string; to?: string }): boolean => !v.from || !v.to || Date.parse(v.from) < Date.parse(v.to);
const fromBeforeToIssue = { message: 'from must be before to', path: ['to'] };

/**
 * What `contexts:page` answers: the rows at [offset, offset + limit) of the table's default order, so
 * the table paints its first screenful from a small answer while the full list (`contexts:list`) loads.
 */
export interface ContextPage {
  offset: number;
  contexts: VmContextSummary[];
  /** Size and status counts of every managed VM, read in the same transaction as the rows. */
  counts: VmStatusCounts;
}

/** Channel → request → response for everything the renderer may ask the core. */
export interface InvokeMap {
  'app:info': { request: Record<string, never>; response: AppInfo };
  'desktop:get-settings': { request: Record<string, never>; response: DesktopSettings };
  'desktop:save-settings': { request: DesktopSettingsInput; response: DesktopSettings };
  'contexts:list': { request: Record<string, never>; response: VmContextSummary[] };
  /** A slice of the VM table's default order (by name, shared/vm-order.ts) with the whole set's size and counts. */
  'contexts:page': { request: { offset?: number; limit: number }; response: ContextPage };
  'contexts:get': { request: { id: string }; response: VmContextDetail };
  'contexts:add': { request: { discoveryId: string; vmwareVmIds: string[] }; response: AddContextsResult };
  'contexts:set-enabled': { request: { id: string; enabled: boolean }; response: VmContextSummary };
  'contexts:removal-plan': { request: { ids: string[] }; response: RemovalPlan[] };
  'contexts:remove': { request: { id: string; volumes: RemovalVolumeFate }; response: RemoveContextResult };
  'contexts:schedule-plans': { request: Record<string, never>; response: VmSchedulePlan[] };
  'appliances:list': { request: Record<string, never>; response: Appliance[] };
  'appliances:add': { request: ApplianceInput; response: Appliance };
  'appliances:remove': { request: { id: string }; response: { removed: true } };
  'appliances:update': { request: ApplianceUpdate; response: Appliance };
  'appliances:connect': { request: { id: string; waitSeconds?: number }; response: TunnelState };
  'appliances:disconnect': { request: { id: string }; response: TunnelState };
  'appliances:trust-host-key': { request: { id: string; fingerprint: string }; response: Appliance };
  'appliances:forget-host-key': { request: { id: string }; response: Appliance };
  'appliances:tunnel-states': { request: Record<string, never>; response: TunnelState[] };
  'credentials:list': { request: Record<string, never>; response: VcenterCredential[] };
  'credentials:add': { request: CredentialInput; response: VcenterCredential };
  'credentials:remove': { request: { id: string }; response: { removed: true } };
  'credentials:update': { request: CredentialUpdate; response: VcenterCredential };
  /** Logs in to vCenter through a VMA (the given one, else the first) without changing anything. */
  'credentials:test': { request: { id: string; applianceId?: string }; response: ConnectionTestResult };
  'discovery:run': {
    request: { applianceId: string; credentialId: string; filter?: string };
    response: DiscoveryResult;
  };
  'replication:start': { request: { contextId: string }; response: { jobId: string } };
  'jobs:list': {
    request: { contextId?: string; status?: (typeof JOB_STATUSES)[number]; limit?: number };
    response: ReplicationJob[];
  };
  'jobs:get': { request: { id: string }; response: JobDetail };
  'jobs:cancel': { request: { id: string }; response: ReplicationJob };
  'jobs:delete': { request: { id: string; deleteVolumes?: boolean }; response: { deleted: true } };
  'cloudstack:get-config': { request: Record<string, never>; response: CloudStackConfigView };
  'cloudstack:save-config': { request: CloudStackConfigInput; response: CloudStackConfigView };
  'cloudstack:test': { request: Record<string, never>; response: ConnectionTestResult };
  'cloudstack:options': { request: Record<string, never>; response: CloudStackOptions };
  'secrets:status': { request: Record<string, never>; response: SecretStoreStatus };
  'logs:operations': { request: LogSearch & { limit?: number }; response: LogOperation[] };
  'logs:events': {
    request: { operationId?: string; vmContextId?: string; level?: (typeof LOG_LEVELS)[number]; limit?: number };
    response: LogEvent[];
  };
  'logs:steps': { request: { operationId: string }; response: LogStep[] };
  'logs:export': {
    request: LogSearch & { operationId?: string; level?: (typeof LOG_LEVELS)[number] };
    /** `path` is where the core wrote the file (the data directory's exports folder). */
    response: { filename: string; path: string; content: string };
  };
  'schedules:list': { request: Record<string, never>; response: ScheduleView[] };
  'schedules:create': { request: ScheduleInput; response: Schedule };
  'schedules:update': { request: ScheduleUpdate; response: Schedule };
  'schedules:delete': { request: { id: string }; response: { deleted: true } };
  'schedules:run-now': { request: { id: string }; response: ScheduleExecution };
  'schedules:preview': { request: { cronExpression: string; timezone: string; count?: number }; response: { runs: string[] } };
  'groups:list': { request: Record<string, never>; response: VmGroupView[] };
  'groups:create': { request: GroupInput; response: VmGroup };
  'groups:update': { request: GroupUpdate; response: VmGroup };
  'groups:delete': { request: { id: string }; response: { deleted: true } };
  'groups:add-members': { request: { groupId: string; vmContextIds: string[]; priority?: number }; response: VmGroupMember[] };
  'groups:update-member': { request: { groupId: string; vmContextId: string; priority?: number; enabled?: boolean }; response: VmGroupMember[] };
  'groups:remove-member': { request: { groupId: string; vmContextId: string }; response: VmGroupMember[] };
  'executions:list': { request: { scheduleId?: string; limit?: number }; response: ScheduleExecution[] };
  'executions:get': { request: { id: string }; response: ExecutionDetail };
  'overview:get': { request: { since?: string }; response: OverviewView };
  'failover:list': { request: { contextId?: string; limit?: number }; response: Failover[] };
  'failover:validate': { request: { contextId: string; kind: (typeof FAILOVER_TYPES)[number] }; response: FailoverValidation };
  'failover:start': { request: FailoverStartInput; response: Failover };
  'failover:rollback': { request: { failoverId: string; powerOnSource?: boolean }; response: Failover };
  'failover:networks': { request: { contextId: string }; response: FailoverNetworksView };
  'failover:map-network': { request: NetworkMapInput; response: { contextIds: string[] } };
  'failover:boot-disk': { request: { contextId: string; diskKey: string }; response: FailoverNetworksView };
}

/** A VM's NICs and disks as the failover needs them mapped. */
export interface FailoverNetworksView {
  sourceNetworks: string[];
  mappings: NetworkMapping[];
  bootDisk: string | null;
}

export type InvokeChannel = keyof InvokeMap;
export type InvokeRequest<C extends InvokeChannel> = InvokeMap[C]['request'];
export type InvokeResponse<C extends InvokeChannel> = InvokeMap[C]['response'];

const limit = z.number().int().min(1).max(10000).optional();

/** Runtime validation of every request; its keys are the channel allowlist. */
export const invokeRequestSchemas: { [C in InvokeChannel]: z.ZodType<InvokeRequest<C>> } = {
  'app:info': empty,
  'desktop:get-settings': empty,
  'desktop:save-settings': desktopSettingsInputSchema,
  'contexts:list': empty,
  'contexts:page': z.object({ offset: z.number().int().min(0).max(10_000_000).optional(), limit: z.number().int().min(1).max(1000) }).strict(),
  'contexts:get': z.object({ id }).strict(),
  'contexts:add': z.object({ discoveryId: id, vmwareVmIds: z.array(id).min(1).max(10000) }).strict(),
  'contexts:set-enabled': z.object({ id, enabled: z.boolean() }).strict(),
  'contexts:removal-plan': z.object({ ids: z.array(id).min(1).max(10000) }).strict(),
  'contexts:remove': z.object({ id, volumes: z.enum(REMOVAL_VOLUME_FATES) }).strict(),
  'contexts:schedule-plans': empty,
  'appliances:list': empty,
  'appliances:add': applianceInputSchema,
  'appliances:remove': z.object({ id }).strict(),
  'appliances:update': applianceUpdateSchema,
  'appliances:connect': z.object({ id, waitSeconds: z.number().int().min(1).max(600).optional() }).strict(),
  'appliances:disconnect': z.object({ id }).strict(),
  'appliances:trust-host-key': z.object({ id, fingerprint }).strict(),
  'appliances:forget-host-key': z.object({ id }).strict(),
  'appliances:tunnel-states': empty,
  'credentials:list': empty,
  'credentials:add': credentialInputSchema,
  'credentials:remove': z.object({ id }).strict(),
  'credentials:update': credentialUpdateSchema,
  'credentials:test': z.object({ id, applianceId: id.optional() }).strict(),
  'discovery:run': z
    .object({ applianceId: id, credentialId: id, filter: z.string().trim().max(1000).optional() })
    .strict(),
  'replication:start': z.object({ contextId: id }).strict(),
  'jobs:list': z.object({ contextId: id.optional(), status: z.enum(JOB_STATUSES).optional(), limit }).strict(),
  'jobs:get': z.object({ id }).strict(),
  'jobs:cancel': z.object({ id }).strict(),
  'jobs:delete': z.object({ id, deleteVolumes: z.boolean().optional() }).strict(),
  'cloudstack:get-config': empty,
  'cloudstack:save-config': cloudstackConfigInputSchema,
  'cloudstack:test': empty,
  'cloudstack:options': empty,
  'secrets:status': empty,
  'logs:operations': z.object({ ...logSearchShape, limit }).strict().refine(fromBeforeTo, fromBeforeToIssue),
  'logs:events': z
    .object({ operationId: id.optional(), vmContextId: id.optional(), level: z.enum(LOG_LEVELS).optional(), limit })
    .strict(),
  'logs:steps': z.object({ operationId: id }).strict(),
  'logs:export': z
    .object({ ...logSearchShape, operationId: id.optional(), level: z.enum(LOG_LEVELS).optional() })
    .strict()
    .refine(fromBeforeTo, fromBeforeToIssue),
  'schedules:list': empty,
  'schedules:create': scheduleInputSchema,
  'schedules:update': scheduleUpdateSchema,
  'schedules:delete': z.object({ id }).strict(),
  'schedules:run-now': z.object({ id }).strict(),
  'schedules:preview': z.object({ cronExpression, timezone, count: z.number().int().min(1).max(50).optional() }).strict(),
  'groups:list': empty,
  'groups:create': groupInputSchema,
  'groups:update': groupUpdateSchema,
  'groups:delete': z.object({ id }).strict(),
  'groups:add-members': z.object({ groupId: id, vmContextIds: z.array(id).min(1).max(10000), priority: memberPriority.optional() }).strict(),
  'groups:update-member': z.object({ groupId: id, vmContextId: id, priority: memberPriority.optional(), enabled: z.boolean().optional() }).strict(),
  'groups:remove-member': z.object({ groupId: id, vmContextId: id }).strict(),
  'executions:list': z.object({ scheduleId: id.optional(), limit }).strict(),
  'executions:get': z.object({ id }).strict(),
  'overview:get': z.object({ since: isoTime.optional() }).strict(),
  'failover:list': z.object({ contextId: id.optional(), limit }).strict(),
  'failover:validate': z.object({ contextId: id, kind: z.enum(FAILOVER_TYPES) }).strict(),
  'failover:start': failoverStartSchema,
  'failover:rollback': z.object({ failoverId: id, powerOnSource: z.boolean().optional() }).strict(),
  'failover:networks': z.object({ contextId: id }).strict(),
  'failover:map-network': networkMapSchema,
  'failover:boot-disk': z.object({ contextId: id, diskKey: z.string().regex(/^disk-\d+$/, 'must be a VMware disk key (disk-<n>)') }).strict(),
};


/** What changed for one running job; sent in batches. */
export interface JobProgressUpdate {
  jobId: string;
  vmContextId: string;
  status: ReplicationJob['status'];
  phase: string;
  progressPercent: number;
  bytesTransferred: number;
  totalBytes: number;
  rateBps: number;
  etaSeconds: number | null;
  error: string | null;
  disks: Pick<JobDiskProgress, 'diskKey' | 'status' | 'percent' | 'bytesTransferred' | 'totalBytes'>[];
}

/** A replication job's recorded step started or ended (the engine's step runner says so; nothing infers it). */
export interface JobStepChange {
  jobId: string;
  vmContextId: string;
  /** One of the names in shared/steps.ts. */
  step: string;
  status: Extract<StepStatus, 'running' | 'completed' | 'failed' | 'cancelled'>;
  durationMs: number | null;
  error: string | null;
}

/** Channel → payload for everything the core pushes to the renderer. */
export interface EventMap {
  'contexts:changed': { contexts: VmContextSummary[]; removedIds: string[] };
  'jobs:progress': { updates: JobProgressUpdate[] };
  /** Every step change in order (never coalesced away: each one is news). */
  'jobs:step': { changes: JobStepChange[] };
  /** `removedIds`: appliances removed since; their tunnel leaves every view at once. */
  'tunnels:state': { states: TunnelState[]; removedIds?: string[] };
  'logs:appended': { events: LogEvent[] };
  /** The desktop shell asks the window to show a VM and its job (a clicked notification or tray item). */
  'app:open': { vmContextId: string; jobId: string | null };
  /** A schedule execution opened, counted a start, skip, retry or job end, or became final (latest state of each). */
  'executions:changed': { executions: ScheduleExecution[] };
}
export type EventChannel = keyof EventMap;
export type EventPayload<C extends EventChannel> = EventMap[C];

/** The API surface the renderer sees, whichever transport carries it. */
export interface ConsoleApi {
  invoke<C extends InvokeChannel>(channel: C, request: InvokeRequest<C>): Promise<Result<InvokeResponse<C>>>;
  on<C extends EventChannel>(channel: C, listener: (payload: EventPayload<C>) => void): () => void;
}
