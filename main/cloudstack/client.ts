// CloudStack API client: signed requests, response unwrapping, error mapping, read retries and
// waiting on every asynchronous job (0 pending, 1 succeeded, 2 failed) before returning.
import { request, type Dispatcher } from 'undici';
import { AppError } from '../../shared/errors';
import { CloudStackError } from './errors';
import { encodeParams, formatExpires, signRequest } from './signing';
import {
  JOB_FAILED,
  JOB_PENDING,
  JOB_SUCCEEDED,
  type CloudStackCredentials,
  type CsAsyncJob,
  type CsDiskOffering,
  type CsNetwork,
  type CsServiceOffering,
  type CsSnapshot,
  type CsTemplate,
  type CsVirtualMachine,
  type CsVolume,
  type CsZone,
  type DeployVirtualMachineInput,
} from './types';

export interface CloudStackClientOptions {
  apiUrl: string;
  /** Called for every request so edited keys take effect at once; never cached. */
  credentials: () => Promise<CloudStackCredentials> | CloudStackCredentials;
  dispatcher?: Dispatcher;
  method?: 'GET' | 'POST';
  /** Per HTTP request. */
  timeoutMs?: number;
  asyncPollIntervalMs?: number;
  /** How long one asynchronous job may stay pending. */
  asyncTimeoutMs?: number;
  /** When set, requests carry signatureVersion=3 and expire this long after signing. */
  signatureExpiresInMs?: number;
  /** Pauses between tries of an idempotent read; its length + 1 is the number of tries. */
  readRetryDelaysMs?: readonly number[];
}

export interface AsyncCallOptions {
  /** Told the job id (and the new entity id, if CloudStack returned one) as soon as it exists. */
  onJobSubmitted?: (jobId: string, entityId?: string) => void;
  signal?: AbortSignal;
}

export type Params = Record<string, string | number | boolean | undefined>;

export interface CloudStackClient {
  readonly apiUrl: string;
  /** One signed request, unwrapped from `<command>response`. Reads are retried, mutations never. */
  call(command: string, params?: Params, options?: { idempotent?: boolean }): Promise<Record<string, unknown>>;
  waitForJob(command: string, jobId: string, options?: AsyncCallOptions): Promise<Record<string, unknown>>;
  queryAsyncJobResult(jobId: string): Promise<CsAsyncJob>;

  listZones(): Promise<CsZone[]>;
  listDiskOfferings(): Promise<CsDiskOffering[]>;
  listServiceOfferings(): Promise<CsServiceOffering[]>;
  listNetworks(filter?: { zoneid?: string }): Promise<CsNetwork[]>;
  listTemplates(templatefilter?: string): Promise<CsTemplate[]>;
  listVirtualMachines(filter?: { id?: string }): Promise<CsVirtualMachine[]>;
  listVolumes(filter?: { id?: string; virtualmachineid?: string }): Promise<CsVolume[]>;
  listSnapshots(filter?: { id?: string; volumeid?: string }): Promise<CsSnapshot[]>;

  createVolume(
    input: { name: string; zoneid: string; diskofferingid: string; sizeGiB?: number },
    options?: AsyncCallOptions,
  ): Promise<CsVolume>;
  attachVolume(id: string, virtualmachineid: string, deviceid?: number, options?: AsyncCallOptions): Promise<CsVolume>;
  detachVolume(id: string, options?: AsyncCallOptions): Promise<CsVolume>;
  deleteVolume(id: string): Promise<void>;
  deployVirtualMachine(input: DeployVirtualMachineInput, options?: AsyncCallOptions): Promise<CsVirtualMachine>;
  startVirtualMachine(id: string, options?: AsyncCallOptions): Promise<CsVirtualMachine>;
  stopVirtualMachine(id: string, forced?: boolean, options?: AsyncCallOptions): Promise<CsVirtualMachine>;
  destroyVirtualMachine(id: string, expunge?: boolean, options?: AsyncCallOptions): Promise<void>;
  createSnapshot(volumeid: string, options?: AsyncCallOptions): Promise<CsSnapshot>;
  revertSnapshot(id: string, options?: AsyncCallOptions): Promise<void>;
  deleteSnapshot(id: string, options?: AsyncCallOptions): Promise<void>;
}

const DEFAULTS = {
  method: 'GET' as const,
  timeoutMs: 30_000,
  asyncPollIntervalMs: 2_000,
  asyncTimeoutMs: 15 * 60_000,
  readRetryDelaysMs: [300, 1_000] as readonly number[],
};

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function validateApiUrl(apiUrl: string): URL {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new AppError('validation', `CloudStack API URL "${apiUrl}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('validation', 'CloudStack API URL must start with http:// or https://');
  }
  if (url.search !== '' || url.username !== '' || url.password !== '') {
    throw new AppError('validation', 'CloudStack API URL must not contain a query string or user info');
  }
  return url;
}

function requireId(command: string, name: string, value: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AppError('validation', `${command}: ${name} is required`);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AppError('timeout', 'cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AppError('timeout', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Errors worth a retry for an idempotent read: the transport failed or the server erred (5xx). */
function isTransient(e: unknown): boolean {
  if (e instanceof CloudStackError) return e.httpStatus !== undefined && e.httpStatus >= 500;
  return e instanceof AppError && (e.code === 'unreachable' || e.code === 'timeout');
}

function networkErrorCode(e: unknown): string {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return (e as { name?: string })?.name ?? 'unknown error';
}

function pickEnvelope(body: unknown, command: string): Record<string, unknown> | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const obj = body as Record<string, unknown>;
  const direct = obj[`${command.toLowerCase()}response`];
  if (direct && typeof direct === 'object') return direct as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => k.endsWith('response'));
  if (keys.length === 1) {
    const only = obj[keys[0] as string];
    if (only && typeof only === 'object') return only as Record<string, unknown>;
  }
  return undefined;
}

const num = (v: unknown): number | undefined => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};

function listOf<T>(envelope: Record<string, unknown>, key: string): T[] {
  const value = envelope[key];
  return Array.isArray(value) ? (value as T[]) : [];
}

export function createCloudStackClient(options: CloudStackClientOptions): CloudStackClient {
  const url = validateApiUrl(options.apiUrl);
  const method = options.method ?? DEFAULTS.method;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const pollMs = options.asyncPollIntervalMs ?? DEFAULTS.asyncPollIntervalMs;
  const asyncTimeoutMs = options.asyncTimeoutMs ?? DEFAULTS.asyncTimeoutMs;
  const retryDelays = options.readRetryDelaysMs ?? DEFAULTS.readRetryDelaysMs;
  const endpoint = url.toString();
  const where = url.host;

  async function resolveCredentials(command: string): Promise<CloudStackCredentials> {
    const creds = await options.credentials();
    if (!creds || typeof creds.apiKey !== 'string' || creds.apiKey === '' || typeof creds.secretKey !== 'string' || creds.secretKey === '') {
      throw new AppError('validation', `CloudStack API key and secret key are not configured (needed for ${command})`);
    }
    return creds;
  }

  async function sendOnce(command: string, params: Params): Promise<Record<string, unknown>> {
    const creds = await resolveCredentials(command);
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined) raw[k] = String(v);
    raw.command = command;
    raw.apiKey = creds.apiKey;
    raw.response = 'json';
    if (options.signatureExpiresInMs !== undefined) {
      raw.signatureVersion = '3';
      raw.expires = formatExpires(new Date(Date.now() + options.signatureExpiresInMs));
    }
    const encoded = encodeParams(signRequest(raw, creds.secretKey));

    let status: number;
    let text: string;
    try {
      const res = await request(method === 'GET' ? `${endpoint}?${encoded}` : endpoint, {
        method,
        headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
        body: method === 'POST' ? encoded : undefined,
        dispatcher: options.dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      // Never pass the transport's message on: it may carry the signed URL.
      const code = networkErrorCode(e);
      if (TIMEOUT_CODES.has(code) || code === 'TimeoutError' || code === 'AbortError' || code === 'ABORT_ERR') {
        throw new AppError('timeout', `CloudStack at ${where} did not answer ${command} within ${timeoutMs} ms`, { command });
      }
      throw new AppError('unreachable', `CloudStack at ${where} is unreachable (${code}) while calling ${command}`, { command, cause: code });
    }

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const envelope = pickEnvelope(body, command);
    if (status >= 400) {
      if (envelope && (envelope.errortext !== undefined || envelope.errorcode !== undefined)) {
        const errortext = typeof envelope.errortext === 'string' ? envelope.errortext : undefined;
        const errorcode = num(envelope.errorcode) ?? status;
        const prefix = status === 401 ? `CloudStack rejected the API key or signature for ${command}` : `CloudStack refused ${command}`;
        throw new CloudStackError(`${prefix} (HTTP ${status})${errortext ? `: ${errortext}` : ''}`, {
          command,
          httpStatus: status,
          errorcode,
          cserrorcode: num(envelope.cserrorcode),
          errortext,
        });
      }
      throw new CloudStackError(
        `${command}: HTTP ${status} from ${where} without a CloudStack error body; check that the API URL ends in /client/api`,
        { command, httpStatus: status },
      );
    }
    if (!envelope) {
      throw new CloudStackError(
        `${command}: ${where} did not answer with a CloudStack JSON response; check that the API URL ends in /client/api`,
        { command, httpStatus: status },
      );
    }
    return envelope;
  }

  async function call(command: string, params: Params = {}, callOptions: { idempotent?: boolean } = {}) {
    const idempotent = callOptions.idempotent ?? (command.startsWith('list') || command === 'queryAsyncJobResult');
    for (let attempt = 0; ; attempt++) {
      try {
        return await sendOnce(command, params);
      } catch (e) {
        const delay = retryDelays[attempt];
        if (!idempotent || delay === undefined || !isTransient(e)) throw e;
        await sleep(delay);
      }
    }
  }

  async function queryAsyncJobResult(jobId: string): Promise<CsAsyncJob> {
    requireId('queryAsyncJobResult', 'jobid', jobId);
    const env = await call('queryAsyncJobResult', { jobid: jobId }, { idempotent: true });
    const jobstatus = num(env.jobstatus);
    if (jobstatus === undefined) {
      throw new CloudStackError(`queryAsyncJobResult for job ${jobId} returned no jobstatus`, { command: 'queryAsyncJobResult', jobId });
    }
    const jobresult = env.jobresult && typeof env.jobresult === 'object' ? (env.jobresult as Record<string, unknown>) : undefined;
    return {
      jobid: jobId,
      jobstatus,
      jobresultcode: num(env.jobresultcode),
      jobresulttype: typeof env.jobresulttype === 'string' ? env.jobresulttype : undefined,
      jobresult,
      cmd: typeof env.cmd === 'string' ? env.cmd : undefined,
    };
  }

  async function waitForJob(command: string, jobId: string, waitOptions: AsyncCallOptions = {}) {
    const deadline = Date.now() + asyncTimeoutMs;
    for (;;) {
      const job = await queryAsyncJobResult(jobId);
      if (job.jobstatus === JOB_SUCCEEDED) return job.jobresult ?? {};
      if (job.jobstatus === JOB_FAILED) {
        const r = job.jobresult ?? {};
        const errortext = typeof r.errortext === 'string' ? r.errortext : 'no error text given';
        throw new CloudStackError(`${command} failed in CloudStack (job ${jobId}): ${errortext}`, {
          command,
          jobId,
          errorcode: num(r.errorcode) ?? job.jobresultcode,
          cserrorcode: num(r.cserrorcode),
          errortext,
        });
      }
      if (job.jobstatus !== JOB_PENDING) {
        throw new CloudStackError(`${command} job ${jobId} reported unknown jobstatus ${job.jobstatus}`, { command, jobId });
      }
      if (Date.now() + pollMs > deadline) {
        throw new AppError('timeout', `${command} job ${jobId} still pending after ${Math.round(asyncTimeoutMs / 1000)} s`, {
          command,
          jobId,
        });
      }
      await sleep(pollMs, waitOptions.signal);
    }
  }

  async function runAsync(command: string, params: Params, opts: AsyncCallOptions = {}) {
    const env = await call(command, params, { idempotent: false });
    const jobId = typeof env.jobid === 'string' ? env.jobid : undefined;
    if (!jobId) {
      throw new CloudStackError(`${command} returned no job id`, { command });
    }
    opts.onJobSubmitted?.(jobId, typeof env.id === 'string' ? env.id : undefined);
    return waitForJob(command, jobId, opts);
  }

  function entity<T>(command: string, result: Record<string, unknown>, key: string): T {
    const value = result[key];
    if (!value || typeof value !== 'object') {
      throw new CloudStackError(`${command} finished without a ${key} in its result`, { command });
    }
    return value as T;
  }

  function requireSuccess(command: string, result: Record<string, unknown>): void {
    if (result.success === false || result.success === 'false') {
      throw new CloudStackError(`${command} reported success=false`, { command, errortext: String(result.displaytext ?? '') });
    }
  }

  return {
    apiUrl: endpoint,
    call,
    waitForJob,
    queryAsyncJobResult,

    listZones: async () => listOf<CsZone>(await call('listZones'), 'zone'),
    listDiskOfferings: async () => listOf<CsDiskOffering>(await call('listDiskOfferings'), 'diskoffering'),
    listServiceOfferings: async () => listOf<CsServiceOffering>(await call('listServiceOfferings'), 'serviceoffering'),
    listNetworks: async (filter = {}) => listOf<CsNetwork>(await call('listNetworks', { zoneid: filter.zoneid }), 'network'),
    listTemplates: async (templatefilter = 'executable') =>
      listOf<CsTemplate>(await call('listTemplates', { templatefilter }), 'template'),
    listVirtualMachines: async (filter = {}) =>
      listOf<CsVirtualMachine>(await call('listVirtualMachines', { id: filter.id }), 'virtualmachine'),
    listVolumes: async (filter = {}) =>
      listOf<CsVolume>(await call('listVolumes', { id: filter.id, virtualmachineid: filter.virtualmachineid }), 'volume'),
    listSnapshots: async (filter = {}) =>
      listOf<CsSnapshot>(await call('listSnapshots', { id: filter.id, volumeid: filter.volumeid }), 'snapshot'),

    async createVolume(input, opts) {
      requireId('createVolume', 'name', input.name);
      requireId('createVolume', 'zoneid', input.zoneid);
      requireId('createVolume', 'diskofferingid', input.diskofferingid);
      if (input.sizeGiB !== undefined && (!Number.isInteger(input.sizeGiB) || input.sizeGiB < 1)) {
        throw new AppError('validation', `createVolume: size must be a whole number of GiB ≥ 1, got ${input.sizeGiB}`);
      }
      const result = await runAsync(
        'createVolume',
        { name: input.name, zoneid: input.zoneid, diskofferingid: input.diskofferingid, size: input.sizeGiB },
        opts,
      );
      return entity<CsVolume>('createVolume', result, 'volume');
    },
    async attachVolume(id, virtualmachineid, deviceid, opts) {
      requireId('attachVolume', 'id', id);
      requireId('attachVolume', 'virtualmachineid', virtualmachineid);
      if (deviceid !== undefined && (!Number.isInteger(deviceid) || deviceid < 0)) {
        throw new AppError('validation', `attachVolume: deviceid must be a non-negative integer, got ${deviceid}`);
      }
      return entity<CsVolume>('attachVolume', await runAsync('attachVolume', { id, virtualmachineid, deviceid }, opts), 'volume');
    },
    async detachVolume(id, opts) {
      requireId('detachVolume', 'id', id);
      return entity<CsVolume>('detachVolume', await runAsync('detachVolume', { id }, opts), 'volume');
    },
    async deleteVolume(id) {
      requireId('deleteVolume', 'id', id);
      requireSuccess('deleteVolume', await call('deleteVolume', { id }, { idempotent: false }));
    },
    async deployVirtualMachine(input, opts) {
      for (const key of ['zoneid', 'serviceofferingid', 'templateid', 'name'] as const) requireId('deployVirtualMachine', key, input[key]);
      if (input.networkids.length === 0) throw new AppError('validation', 'deployVirtualMachine: at least one network is required');
      const params: Params = {
        zoneid: input.zoneid,
        serviceofferingid: input.serviceofferingid,
        templateid: input.templateid,
        name: input.name,
        displayname: input.displayname ?? input.name,
        networkids: input.networkids.join(','),
        startvm: input.startvm ?? false,
      };
      for (const [k, v] of Object.entries(input.details ?? {})) params[`details[0].${k}`] = v;
      return entity<CsVirtualMachine>('deployVirtualMachine', await runAsync('deployVirtualMachine', params, opts), 'virtualmachine');
    },
    async startVirtualMachine(id, opts) {
      requireId('startVirtualMachine', 'id', id);
      return entity<CsVirtualMachine>('startVirtualMachine', await runAsync('startVirtualMachine', { id }, opts), 'virtualmachine');
    },
    async stopVirtualMachine(id, forced, opts) {
      requireId('stopVirtualMachine', 'id', id);
      return entity<CsVirtualMachine>(
        'stopVirtualMachine',
        await runAsync('stopVirtualMachine', { id, forced: forced ? true : undefined }, opts),
        'virtualmachine',
      );
    },
    async destroyVirtualMachine(id, expunge, opts) {
      requireId('destroyVirtualMachine', 'id', id);
      await runAsync('destroyVirtualMachine', { id, expunge: expunge ? true : undefined }, opts);
    },
    async createSnapshot(volumeid, opts) {
      requireId('createSnapshot', 'volumeid', volumeid);
      return entity<CsSnapshot>('createSnapshot', await runAsync('createSnapshot', { volumeid }, opts), 'snapshot');
    },
    async revertSnapshot(id, opts) {
      requireId('revertSnapshot', 'id', id);
      await runAsync('revertSnapshot', { id }, opts);
    },
    async deleteSnapshot(id, opts) {
      requireId('deleteSnapshot', 'id', id);
      requireSuccess('deleteSnapshot', await runAsync('deleteSnapshot', { id }, opts));
    },
  };
}
