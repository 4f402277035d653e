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
  MachineGroup,
  ReplicationJob,
  Schedule,
  TunnelState,
  VcenterCredential,
  VmContextDetail,
  VmContextSummary,
} from './domain';
import {
  APPLIANCE_KINDS,
  FAILOVER_TYPES,
  JOB_STATUSES,
  LOG_LEVELS,
  OPERATION_KINDS,
  SSH_AUTH_METHODS,
} from './domain';
import type { AddContextsResult, DiscoveryResult } from './discovery';
import { FINDING_CODES, type Failover, type FailoverValidation, type NetworkMapping } from './failover';
import type { Result } from './errors';

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
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.authMethod === 'password' && !v.password) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'is required for password authentication' });
    }
    if (v.authMethod === 'private_key' && !v.privateKey) {
      ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'is required for key authentication' });
    }
  });
export type ApplianceInput = z.infer<typeof applianceInputSchema>;

export const credentialInputSchema = z
  .object({ name, vcenterHost: host, username: name, datacenter: name, password: z.string().min(1).max(4096) })
  .strict();
export type CredentialInput = z.infer<typeof credentialInputSchema>;

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
  })
  .strict()
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
  schemaVersion: number;
  schedulesActive: boolean;
}

export interface JobDetail {
  job: ReplicationJob;
  disks: JobDiskProgress[];
  steps: LogStep[];
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

/** Channel → request → response for everything the renderer may ask the core. */
export interface InvokeMap {
  'app:info': { request: Record<string, never>; response: AppInfo };
  'contexts:list': { request: Record<string, never>; response: VmContextSummary[] };
  'contexts:get': { request: { id: string }; response: VmContextDetail };
  'contexts:add': { request: { discoveryId: string; vmwareVmIds: string[] }; response: AddContextsResult };
  'appliances:list': { request: Record<string, never>; response: Appliance[] };
  'appliances:add': { request: ApplianceInput; response: Appliance };
  'appliances:remove': { request: { id: string }; response: { removed: true } };
  'appliances:connect': { request: { id: string }; response: TunnelState };
  'appliances:disconnect': { request: { id: string }; response: TunnelState };
  'appliances:trust-host-key': { request: { id: string; fingerprint: string }; response: Appliance };
  'appliances:forget-host-key': { request: { id: string }; response: Appliance };
  'appliances:tunnel-states': { request: Record<string, never>; response: TunnelState[] };
  'credentials:list': { request: Record<string, never>; response: VcenterCredential[] };
  'credentials:add': { request: CredentialInput; response: VcenterCredential };
  'credentials:remove': { request: { id: string }; response: { removed: true } };
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
  'logs:operations': {
    request: { vmContextId?: string; kind?: (typeof OPERATION_KINDS)[number]; limit?: number };
    response: LogOperation[];
  };
  'logs:events': {
    request: { operationId?: string; vmContextId?: string; level?: (typeof LOG_LEVELS)[number]; limit?: number };
    response: LogEvent[];
  };
  'logs:steps': { request: { operationId: string }; response: LogStep[] };
  'logs:export': {
    request: { operationId?: string; vmContextId?: string; level?: (typeof LOG_LEVELS)[number] };
    response: { filename: string; content: string };
  };
  'schedules:list': { request: Record<string, never>; response: Schedule[] };
  'groups:list': { request: Record<string, never>; response: MachineGroup[] };
  'failover:list': { request: { contextId?: string; limit?: number }; response: Failover[] };
  'failover:validate': { request: { contextId: string; kind: (typeof FAILOVER_TYPES)[number] }; response: FailoverValidation };
  'failover:start': { request: FailoverStartInput; response: Failover };
  'failover:rollback': { request: { failoverId: string }; response: Failover };
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
  'contexts:list': empty,
  'contexts:get': z.object({ id }).strict(),
  'contexts:add': z.object({ discoveryId: id, vmwareVmIds: z.array(id).min(1).max(10000) }).strict(),
  'appliances:list': empty,
  'appliances:add': applianceInputSchema,
  'appliances:remove': z.object({ id }).strict(),
  'appliances:connect': z.object({ id }).strict(),
  'appliances:disconnect': z.object({ id }).strict(),
  'appliances:trust-host-key': z.object({ id, fingerprint }).strict(),
  'appliances:forget-host-key': z.object({ id }).strict(),
  'appliances:tunnel-states': empty,
  'credentials:list': empty,
  'credentials:add': credentialInputSchema,
  'credentials:remove': z.object({ id }).strict(),
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
  'logs:operations': z
    .object({ vmContextId: id.optional(), kind: z.enum(OPERATION_KINDS).optional(), limit })
    .strict(),
  'logs:events': z
    .object({ operationId: id.optional(), vmContextId: id.optional(), level: z.enum(LOG_LEVELS).optional(), limit })
    .strict(),
  'logs:steps': z.object({ operationId: id }).strict(),
  'logs:export': z
    .object({ operationId: id.optional(), vmContextId: id.optional(), level: z.enum(LOG_LEVELS).optional() })
    .strict(),
  'schedules:list': empty,
  'groups:list': empty,
  'failover:list': z.object({ contextId: id.optional(), limit }).strict(),
  'failover:validate': z.object({ contextId: id, kind: z.enum(FAILOVER_TYPES) }).strict(),
  'failover:start': failoverStartSchema,
  'failover:rollback': z.object({ failoverId: id }).strict(),
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

/** Channel → payload for everything the core pushes to the renderer. */
export interface EventMap {
  'contexts:changed': { contexts: VmContextSummary[]; removedIds: string[] };
  'jobs:progress': { updates: JobProgressUpdate[] };
  'tunnels:state': { states: TunnelState[] };
  'logs:appended': { events: LogEvent[] };
}
export type EventChannel = keyof EventMap;
export type EventPayload<C extends EventChannel> = EventMap[C];

/** The API surface the renderer sees, whichever transport carries it. */
export interface ConsoleApi {
  invoke<C extends InvokeChannel>(channel: C, request: InvokeRequest<C>): Promise<Result<InvokeResponse<C>>>;
  on<C extends EventChannel>(channel: C, listener: (payload: EventPayload<C>) => void): () => void;
}
