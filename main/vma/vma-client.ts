// HTTP client for the VMA API (shared/reference/vma-api.md). In the product the dispatcher sends
// requests through an SSH forwardOut channel; tests use the default dispatcher against the
// simulator. Credentials travel only in bodies, except for the two GETs where the VMA itself takes
// them as query parameters: there the query never reaches a log line or an error message.
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { AppError } from '../../shared/errors';
import { BodyCollector, BodyTooLargeError, DEFAULT_MAX_BODY_BYTES, decodeBody, type IncrementalBodyParser } from './body-text';
import { createDiscoveryParser } from './discovery-slices';
import { normaliseDiscovery, type NormalisedDiscovery } from './normalise';
import { VmaHttpError } from './vma-http-error';
import type {
  VmaCbtStatus,
  VmaCleanupRequest,
  VmaDiscoverRequest,
  VmaHealthResponse,
  VmaJobStatus,
  VmaLookup,
  VmaPowerRequest,
  VmaPowerResponse,
  VmaProgress,
  VmaReplicateRequest,
  VmaReplicateResponse,
  VmaVcenterCredentials,
} from './vma-types';

export interface VmaClientTimeouts {
  health: number;
  /** Single-VM discovery (seeds: 15 s); pass a longer one per call for full inventories. */
  discover: number;
  replicate: number;
  progress: number;
  status: number;
  /** Added to the power-off request's own `timeout` (seconds), which the VMA waits out. */
  powerOffMargin: number;
  powerOn: number;
  powerState: number;
  cbtStatus: number;
  cleanup: number;
}

export const DEFAULT_VMA_TIMEOUTS_MS: VmaClientTimeouts = {
  health: 5_000,
  discover: 15_000,
  replicate: 30_000,
  progress: 10_000,
  status: 10_000,
  powerOffMargin: 30_000,
  powerOn: 120_000,
  powerState: 30_000,
  cbtStatus: 30_000,
  cleanup: 60_000,
};

/** VMA default graceful shutdown wait, seconds. */
const VMA_DEFAULT_POWER_OFF_TIMEOUT_S = 300;

export type VmaEndpoint =
  | 'health'
  | 'discover'
  | 'replicate'
  | 'progress'
  | 'status'
  | 'power-off'
  | 'power-on'
  | 'power-state'
  | 'cbt-status'
  | 'cleanup';

/** One line per request; never carries a query string, a body or a credential. */
export interface VmaRequestLogEntry {
  endpoint: VmaEndpoint;
  method: string;
  path: string;
  status: number | null;
  durationMs: number;
  outcome: 'ok' | 'http_error' | 'timeout' | 'unreachable';
}

export interface VmaClientOptions {
  /** e.g. http://127.0.0.1:8081 (no path, no query). */
  baseUrl: string;
  dispatcher?: Dispatcher;
  timeoutsMs?: Partial<VmaClientTimeouts>;
  onRequest?: (entry: VmaRequestLogEntry) => void;
  /** Largest answer body read (default DEFAULT_MAX_BODY_BYTES); a larger one is a remote_error. */
  maxBodyBytes?: number;
  /**
   * Default true: discovery parses the VM list in slices while the body arrives. false parses the
   * whole body once complete, with the same result; kept so the benchmark can compare the two.
   */
  discoverInSlices?: boolean;
}

export interface VmaCallOptions {
  timeoutMs?: number;
}

export interface VmaClient {
  readonly baseUrl: string;
  health(opts?: VmaCallOptions): Promise<VmaHealthResponse>;
  /** Discovery normalised by the single normaliser. */
  discover(req: VmaDiscoverRequest, opts?: VmaCallOptions): Promise<NormalisedDiscovery>;
  replicate(req: VmaReplicateRequest, opts?: VmaCallOptions): Promise<VmaReplicateResponse>;
  /** 404 (normal before the copier's first push, and after a VMA restart) → `{found: false}`. */
  progress(jobId: string, opts?: VmaCallOptions): Promise<VmaLookup<VmaProgress>>;
  status(jobId: string, opts?: VmaCallOptions): Promise<VmaLookup<VmaJobStatus>>;
  powerOff(vmId: string, req: VmaPowerRequest, opts?: VmaCallOptions): Promise<VmaPowerResponse>;
  powerOn(vmId: string, req: VmaVcenterCredentials, opts?: VmaCallOptions): Promise<VmaPowerResponse>;
  powerState(vmId: string, creds: VmaVcenterCredentials, opts?: VmaCallOptions): Promise<VmaPowerResponse>;
  cbtStatus(vmPath: string, creds: VmaVcenterCredentials, opts?: VmaCallOptions): Promise<VmaCbtStatus>;
  cleanup(req: VmaCleanupRequest, opts?: VmaCallOptions): Promise<Record<string, unknown>>;
}

interface CallSpec {
  endpoint: VmaEndpoint;
  method: 'GET' | 'POST';
  /** Path only; also what errors and logs show. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  /** Values to scrub from error texts (the VMA may echo what it was sent). */
  secrets?: string[];
  /** Parses a 2xx body while it arrives; without it the body is parsed as JSON once complete. */
  parse?: () => IncrementalBodyParser<unknown>;
}

type Raw = Record<string, unknown>;
const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new AppError('validation', `${what} is required`);
  return value;
}

function requireCredentials(c: VmaVcenterCredentials | undefined): void {
  if (c === undefined || c === null) throw new AppError('validation', 'vCenter credentials are required');
  requireText(c.vcenter, 'vCenter host');
  requireText(c.username, 'vCenter username');
  requireText(c.password, 'vCenter password');
}

function validateBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new AppError('validation', `VMA base URL "${baseUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('validation', `VMA base URL must be http(s), got ${url.protocol}`);
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new AppError('validation', 'VMA base URL must not carry a query, fragment or user info');
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function redact(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/** Error text of a failed transport, scrubbed of the full URL (which may carry a query). */
function describeTransportError(e: unknown, fullUrl: string, path: string): string {
  const parts: string[] = [];
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') parts.push(code);
    if (e.message !== '') parts.push(e.message);
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message !== '' && cause.message !== e.message) parts.push(cause.message);
  } else {
    parts.push(String(e));
  }
  return parts.join(': ').split(fullUrl).join(path);
}

/** Shared by every call: undici only reads the headers object, so one per shape is enough. */
const GET_HEADERS: Readonly<Record<string, string>> = Object.freeze({ accept: 'application/json' });
const JSON_BODY_HEADERS: Readonly<Record<string, string>> = Object.freeze({ accept: 'application/json', 'content-type': 'application/json' });

const noop = (): void => {};

/** A whole answer: its status (200 and up) and its body. */
interface Answer {
  status: number;
  bytes: Buffer;
}

/**
 * One call's answer taken straight from undici's dispatch handler: what undici's request() does with
 * its own handler, without what the client does not use (a response stream per answer, an
 * AbortSignal and its listener, an async resource, a headers object). The progress poller makes
 * hundreds of these calls a second, and that machinery was most of their cost. The handler methods
 * are undici's classic ones (onConnect … onComplete): undici calls them directly, where the newer
 * onRequestStart … onResponseEnd ones go through an adapter that parses every answer's headers.
 */
class AnswerHandler implements Dispatcher.DispatchHandler {
  /** The answer's status once its head arrived (informational 1xx heads are skipped); 0 before. */
  status = 0;
  private abortRequest: ((err?: Error) => void) | null = null;
  /** An abort asked for before undici gave this request a connection: applied when it does. */
  private reason: Error | null = null;
  private collector: BodyCollector | null = null;
  private settled = false;
  private resolve: (a: Answer) => void = noop;
  private reject: (e: unknown) => void = noop;

  /** `collect` is called once the head arrived; it may throw (BodyTooLargeError): the request is then aborted with that error. */
  constructor(private readonly collect: (status: number, contentLength: string | string[] | undefined) => BodyCollector) {}

  /** Rejects with undici's error when the request fails, before or after the head. */
  send(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      try {
        dispatcher.dispatch(opts, this);
      } catch (e) {
        // A dispatcher that refuses at once (closed, invalid options): request() rejects too.
        this.onError(e as Error);
      }
    });
  }

  abort(reason: Error): void {
    if (this.settled) return;
    if (this.abortRequest !== null) this.abortRequest(reason);
    else this.reason = reason;
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.reason !== null) {
      abort(this.reason);
      return;
    }
    this.abortRequest = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.collector = this.collect(statusCode, contentLengthOf(rawHeaders));
    return true;
  }

  onData(chunk: Buffer): boolean {
    // A throw (the size limit, the parser's sink) makes undici abort the request with it.
    this.collector!.add(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    if (this.collector === null) {
      // Not an answer undici would end this way (only informational heads came): a failed request.
      this.onError(new Error('the answer ended before its head'));
      return;
    }
    this.settled = true;
    this.resolve({ status: this.status, bytes: this.collector.finish() });
  }

  onError(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }
}

const CONTENT_LENGTH = 'content-length';

/** The content-length header as undici's request() reports it: absent, one value, or every value when repeated. */
function contentLengthOf(rawHeaders: Buffer[]): string | string[] | undefined {
  let out: string | string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== CONTENT_LENGTH.length || name.toString('latin1').toLowerCase() !== CONTENT_LENGTH) continue;
    const value = rawHeaders[i + 1]!.toString('utf8');
    out = out === undefined ? value : Array.isArray(out) ? [...out, value] : [out, value];
  }
  return out;
}

export function createVmaClient(options: VmaClientOptions): VmaClient {
  const baseUrl = validateBaseUrl(options.baseUrl);
  // Origin and path prefix split once here: dispatching with them directly spares undici parsing
  // the full URL on every call (the progress poller makes many small calls).
  const { origin, pathname } = new URL(baseUrl);
  const basePath = pathname === '/' ? '' : pathname;
  const timeouts: VmaClientTimeouts = { ...DEFAULT_VMA_TIMEOUTS_MS, ...options.timeoutsMs };
  for (const [k, v] of Object.entries(timeouts)) {
    if (!Number.isFinite(v) || v <= 0) throw new AppError('validation', `VMA timeout "${k}" must be a positive number of milliseconds`);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const discoverInSlices = options.discoverInSlices ?? true;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new AppError('validation', 'maxBodyBytes must be a positive whole number of bytes');
  const pick = (opts: VmaCallOptions | undefined, fallback: number): number => {
    const t = opts?.timeoutMs;
    if (t === undefined) return fallback;
    if (!Number.isFinite(t) || t <= 0) throw new AppError('validation', 'timeoutMs must be a positive number');
    return t;
  };

  async function call(spec: CallSpec): Promise<{ status: number; body: unknown }> {
    const qs = spec.query === undefined ? '' : `?${new URLSearchParams(spec.query).toString()}`;
    const started = Date.now();
    const log = (status: number | null, outcome: VmaRequestLogEntry['outcome']): void => {
      options.onRequest?.({ endpoint: spec.endpoint, method: spec.method, path: spec.path, status, durationMs: Date.now() - started, outcome });
    };
    // Only an answer the client will parse goes to the incremental parser; error bodies are text.
    let parser: IncrementalBodyParser<unknown> | undefined;
    const handler = new AnswerHandler((status, contentLength) => {
      parser = status >= 200 && status <= 299 ? spec.parse?.() : undefined;
      return new BodyCollector({ contentLength, maxBytes: maxBodyBytes, ...(parser === undefined ? {} : { onData: parser.onData }) });
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      handler.abort(new Error(`timed out after ${spec.timeoutMs} ms`));
    }, spec.timeoutMs);
    const timeoutError = (): AppError => {
      log(null, 'timeout');
      return new AppError('timeout', `VMA ${spec.method} ${spec.path} did not answer within ${spec.timeoutMs} ms`, {
        endpoint: spec.endpoint,
        path: spec.path,
        timeoutMs: spec.timeoutMs,
      });
    };
    let answer: Answer;
    try {
      // The global dispatcher is looked up per call, as undici's request() does.
      answer = await handler.send(options.dispatcher ?? getGlobalDispatcher(), {
        origin,
        path: `${basePath}${spec.path}${qs}`,
        method: spec.method,
        headers: spec.body === undefined ? GET_HEADERS : JSON_BODY_HEADERS,
        body: spec.body === undefined ? null : JSON.stringify(spec.body),
      });
    } catch (e) {
      if (timedOut) throw timeoutError();
      const status = handler.status;
      const transport = (): string => describeTransportError(e, `${baseUrl}${spec.path}${qs}`, spec.path);
      if (status === 0) {
        log(null, 'unreachable');
        throw new AppError('unreachable', `VMA unreachable (${spec.method} ${spec.path}): ${transport()}`, { endpoint: spec.endpoint, path: spec.path });
      }
      if (e instanceof BodyTooLargeError) {
        log(status, status >= 200 && status <= 299 ? 'ok' : 'http_error');
        throw new AppError('remote_error', `VMA ${spec.method} ${spec.path} answered ${status} with a body over the limit of ${e.maxBytes} bytes`, {
          endpoint: spec.endpoint,
          path: spec.path,
        });
      }
      log(status, 'unreachable');
      throw new AppError('unreachable', `VMA connection lost while reading ${spec.method} ${spec.path}: ${transport()}`, { endpoint: spec.endpoint, path: spec.path });
    } finally {
      clearTimeout(timer);
    }
    const { status, bytes } = answer;
    if (status < 200 || status > 299) {
      log(status, 'http_error');
      throw new VmaHttpError(status, redact(decodeBody(bytes).trim(), spec.secrets), spec.method, spec.path);
    }
    log(status, 'ok');
    try {
      return { status, body: parser === undefined ? JSON.parse(decodeBody(bytes)) : parser.finish(bytes) };
    } catch (e) {
      // The parser's own checks (AppError) say what is wrong; only a JSON syntax error is "not JSON".
      if (!(e instanceof SyntaxError)) throw e;
      throw new AppError('remote_error', `VMA ${spec.method} ${spec.path} answered ${status} with a body that is not JSON`, {
        endpoint: spec.endpoint,
        path: spec.path,
      });
    }
  }

  const objectBody = (body: unknown, spec: { method: string; path: string }): Raw => {
    if (!isRecord(body)) throw new AppError('remote_error', `VMA ${spec.method} ${spec.path} answered with JSON that is not an object`);
    return body;
  };

  async function lookup<T>(spec: CallSpec, parse: (b: Raw) => T): Promise<VmaLookup<T>> {
    try {
      const { body } = await call(spec);
      return { found: true, value: parse(objectBody(body, spec)) };
    } catch (e) {
      if (e instanceof VmaHttpError && e.status === 404) return { found: false };
      throw e;
    }
  }

  const jobPath = (kind: 'progress' | 'status', jobId: string): string =>
    `/api/v1/${kind}/${encodeURIComponent(requireText(jobId, 'job id'))}`;

  const credentialQuery = (c: VmaVcenterCredentials): Record<string, string> => ({ vcenter: c.vcenter, username: c.username, password: c.password });

  async function power(endpoint: 'power-off' | 'power-on', vmId: string, req: VmaPowerRequest, timeoutMs: number): Promise<VmaPowerResponse> {
    requireText(vmId, 'VM id');
    requireCredentials(req);
    const path = `/api/v1/vm/${encodeURIComponent(vmId)}/${endpoint}`;
    const body: Raw = { vm_id: vmId, vcenter: req.vcenter, username: req.username, password: req.password };
    if (req.force !== undefined) body['force'] = req.force;
    if (req.timeout !== undefined) body['timeout'] = req.timeout;
    const spec: CallSpec = { endpoint, method: 'POST', path, body, timeoutMs, secrets: [req.password] };
    return parsePower(objectBody((await call(spec)).body, spec));
  }

  return {
    baseUrl,

    async health(opts) {
      const spec: CallSpec = { endpoint: 'health', method: 'GET', path: '/api/v1/health', timeoutMs: pick(opts, timeouts.health) };
      const raw = objectBody((await call(spec)).body, spec);
      return { status: str(raw['status']), timestamp: str(raw['timestamp']), uptime: str(raw['uptime']), raw };
    },

    async discover(req, opts) {
      requireCredentials(req);
      requireText(req.datacenter, 'datacenter');
      const body: Raw = { vcenter: req.vcenter, username: req.username, password: req.password, datacenter: req.datacenter };
      if (req.filter !== undefined) body['filter'] = req.filter;
      const spec: CallSpec = {
        endpoint: 'discover',
        method: 'POST',
        path: '/api/v1/discover',
        body,
        timeoutMs: pick(opts, timeouts.discover),
        secrets: [req.password],
        // The VM list is parsed and normalised in slices while it arrives; the parser's result is
        // normaliseDiscovery's on the whole body, errors included.
        ...(discoverInSlices ? { parse: () => createDiscoveryParser() } : {}),
      };
      const answer = (await call(spec)).body;
      return discoverInSlices ? (answer as NormalisedDiscovery) : normaliseDiscovery(answer);
    },

    async replicate(req, opts) {
      requireText(req.job_id, 'job id');
      requireCredentials(req);
      if (!Array.isArray(req.vm_paths) || req.vm_paths.length !== 1) throw new AppError('validation', 'replicate takes exactly one VM path');
      requireText(req.vm_paths[0], 'VM path');
      requireText(req.oma_url, 'callback (oma_url) URL');
      if (!Array.isArray(req.nbd_targets) || req.nbd_targets.length === 0) throw new AppError('validation', 'at least one NBD target is required');
      for (const t of req.nbd_targets) {
        if (!/^nbd:\/\/[^/]+\/.+/.test(t.device_path ?? '')) throw new AppError('validation', `NBD target "${t.device_path}" is not nbd://host:port/export`);
        if (!/^\d+$/.test(t.vmware_disk_key ?? '')) throw new AppError('validation', `NBD target disk key "${t.vmware_disk_key}" must be the numeric VMware key (e.g. 2000)`);
      }
      const spec: CallSpec = {
        endpoint: 'replicate',
        method: 'POST',
        path: '/api/v1/replicate',
        body: {
          job_id: req.job_id,
          vcenter: req.vcenter,
          username: req.username,
          password: req.password,
          vm_paths: req.vm_paths,
          oma_url: req.oma_url,
          nbd_targets: req.nbd_targets.map((t) => ({ device_path: t.device_path, vmware_disk_key: t.vmware_disk_key })),
        },
        timeoutMs: pick(opts, timeouts.replicate),
        secrets: [req.password],
      };
      const raw = objectBody((await call(spec)).body, spec);
      return { job_id: str(raw['job_id']), status: str(raw['status']), vm_count: num(raw['vm_count']), started_at: str(raw['started_at']) };
    },

    async progress(jobId, opts) {
      return lookup({ endpoint: 'progress', method: 'GET', path: jobPath('progress', jobId), timeoutMs: pick(opts, timeouts.progress) }, parseProgress);
    },

    async status(jobId, opts) {
      return lookup({ endpoint: 'status', method: 'GET', path: jobPath('status', jobId), timeoutMs: pick(opts, timeouts.status) }, parseJobStatus);
    },

    async powerOff(vmId, req, opts) {
      const waitS = req.timeout ?? VMA_DEFAULT_POWER_OFF_TIMEOUT_S;
      if (!Number.isFinite(waitS) || waitS <= 0) throw new AppError('validation', 'power-off timeout must be a positive number of seconds');
      return power('power-off', vmId, req, pick(opts, waitS * 1000 + timeouts.powerOffMargin));
    },

    async powerOn(vmId, req, opts) {
      return power('power-on', vmId, { vcenter: req.vcenter, username: req.username, password: req.password }, pick(opts, timeouts.powerOn));
    },

    async powerState(vmId, creds, opts) {
      requireText(vmId, 'VM id');
      requireCredentials(creds);
      const spec: CallSpec = {
        endpoint: 'power-state',
        method: 'GET',
        path: `/api/v1/vm/${encodeURIComponent(vmId)}/power-state`,
        query: credentialQuery(creds),
        timeoutMs: pick(opts, timeouts.powerState),
        secrets: [creds.password],
      };
      return parsePower(objectBody((await call(spec)).body, spec));
    },

    async cbtStatus(vmPath, creds, opts) {
      requireText(vmPath, 'VM path');
      requireCredentials(creds);
      const spec: CallSpec = {
        endpoint: 'cbt-status',
        method: 'GET',
        path: `/api/v1/vms/${encodeURIComponent(vmPath)}/cbt-status`,
        query: credentialQuery(creds),
        timeoutMs: pick(opts, timeouts.cbtStatus),
        secrets: [creds.password],
      };
      const raw = objectBody((await call(spec)).body, spec);
      return { enabled: raw['enabled'] === true, vm_name: str(raw['vm_name']), power_state: str(raw['power_state']), vm_path: str(raw['vm_path']) };
    },

    async cleanup(req, opts) {
      requireText(req.job_id, 'job id');
      if (req.action !== 'cleanup_all' && req.action !== 'delete_snapshot') throw new AppError('validation', `unknown cleanup action "${String(req.action)}"`);
      const spec: CallSpec = {
        endpoint: 'cleanup',
        method: 'POST',
        path: '/api/v1/cleanup',
        body: { job_id: req.job_id, action: req.action },
        timeoutMs: pick(opts, timeouts.cleanup),
      };
      return objectBody((await call(spec)).body, spec);
    },
  };
}

function parsePower(raw: Raw): VmaPowerResponse {
  const out: VmaPowerResponse = {
    success: raw['success'] === true,
    vm_id: str(raw['vm_id']),
    previous_state: str(raw['previous_state']),
    new_state: str(raw['new_state']),
    operation: str(raw['operation']),
    duration_seconds: num(raw['duration_seconds']),
    timestamp: str(raw['timestamp']),
  };
  if (typeof raw['shutdown_method'] === 'string') out.shutdown_method = raw['shutdown_method'];
  if (typeof raw['tools_status'] === 'string') out.tools_status = raw['tools_status'];
  if (typeof raw['message'] === 'string') out.message = raw['message'];
  return out;
}

const SYNC_TYPES = ['full', 'incremental', ''] as const;

/** Defensive: every field the type promises is present, whatever the VMA omitted. */
export function parseProgress(raw: Raw): VmaProgress {
  const t = isRecord(raw['throughput']) ? raw['throughput'] : {};
  const tm = isRecord(raw['timing']) ? raw['timing'] : {};
  const syncType = str(raw['sync_type']);
  const out: VmaProgress = {
    job_id: str(raw['job_id']),
    status: str(raw['status']),
    sync_type: (SYNC_TYPES as readonly string[]).includes(syncType) ? (syncType as VmaProgress['sync_type']) : '',
    phase: str(raw['phase']),
    percentage: num(raw['percentage']),
    current_operation: str(raw['current_operation']),
    bytes_transferred: num(raw['bytes_transferred']),
    total_bytes: num(raw['total_bytes']),
    throughput: {
      current_mbps: num(t['current_mbps']),
      average_mbps: num(t['average_mbps']),
      peak_mbps: num(t['peak_mbps']),
      last_update: str(t['last_update']),
    },
    timing: {
      start_time: str(tm['start_time']),
      last_update: str(tm['last_update']),
      elapsed_ms: num(tm['elapsed_ms']),
      phase_start: str(tm['phase_start']),
      phase_elapsed_ms: num(tm['phase_elapsed_ms']),
      eta_seconds: num(tm['eta_seconds']),
    },
    vm_info: isRecord(raw['vm_info']) ? raw['vm_info'] : {},
    phases: Array.isArray(raw['phases']) ? raw['phases'] : [],
    errors: Array.isArray(raw['errors']) ? raw['errors'] : [],
    last_error: raw['last_error'] ?? null,
  };
  if (Array.isArray(raw['disk_progresses'])) {
    out.disk_progresses = raw['disk_progresses'].filter(isRecord).map((d) => ({
      disk_id: str(d['disk_id']),
      label: str(d['label']),
      bytes_transferred: num(d['bytes_transferred']),
      total_bytes: num(d['total_bytes']),
      percent: num(d['percent']),
      throughput_mbps: num(d['throughput_mbps']),
      status: str(d['status']),
    }));
  }
  return out;
}

export function parseJobStatus(raw: Raw): VmaJobStatus {
  const out: VmaJobStatus = {
    job_id: str(raw['job_id']),
    status: str(raw['status']),
    progress_percent: num(raw['progress_percent']),
    current_operation: str(raw['current_operation']),
    start_time: str(raw['start_time']),
    last_update: str(raw['last_update']),
  };
  if (typeof raw['vm_path'] === 'string') out.vm_path = raw['vm_path'];
  return out;
}
