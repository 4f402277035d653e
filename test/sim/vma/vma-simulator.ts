// An in-process HTTP simulator of the VMA API (shared/reference/vma-api.md), quirks included:
// plain-text error bodies, substring discovery filter, "started" even when the copy cannot start,
// progress 404 until the first push and after a restart, "completed" after each disk, a copier
// that never reports failure, a status endpoint that says `running` until the job is cleaned up
// (then 404), `oma_url` used as the copier's API base by plain concatenation, change-ID POSTs
// without `previous_change_id`. Behaviour the reference allows but does not make the default (an
// empty change id now and then) and old behaviour some tests still lean on are `SimQuirks`, all off
// by default. Real bytes are copied from sparse source files to real NBD exports.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { VmaEndpoint } from '../../../main/vma/vma-client';
import type { VmaNbdTarget } from '../../../main/vma/vma-types';
import { SimCopyJob, type ProgressSample, type SimSpeed } from './copier';
import { DEFAULT_BLOCK_SIZE, SimDiskStore } from './disk-store';
import { openNbdTarget, type DiskTargetOpener } from './disk-target-writer';
import { matchesFilter, resolveVm, toDiscoveryJson, type SimVm, type SimVmSpec } from './inventory';

export type SimEndpoint = VmaEndpoint;

/**
 * Optional behaviours, all off by default (the default is the reference). Mutable at run time through
 * `VmaSimulator.quirks`, so one simulator can serve tests with and without them.
 */
export interface SimQuirks {
  /**
   * NOT the real VMA: the status endpoint turns `completed`/`failed` when the copy process ends (the
   * real one says `running` for the life of the job record). Only for a test that says why it needs it.
   */
  statusReportsEnd: boolean;
  /** The change-ID POST carries `previous_change_id` (the base the copier looked up); the public copier omits it. */
  sendPreviousChangeId: boolean;
  /**
   * The real copier sends an empty change id after some conversions (reference/vma-api.md): disks for
   * which this answers true report `""` instead of their new change id.
   */
  emptyChangeId: ((d: { jobId: string; diskId: string; syncType: 'full' | 'incremental' }) => boolean) | null;
}

export const DEFAULT_QUIRKS: Readonly<SimQuirks> = { statusReportsEnd: false, sendPreviousChangeId: false, emptyChangeId: null };

export interface VmaSimulatorOptions {
  /** The vCenter the simulated inventory lives in; requests naming another host cannot connect. */
  vcenterHost: string;
  /** Datacenters that exist (besides those of the inventory's VMs). */
  datacenters?: string[];
  inventory?: SimVmSpec[];
  /** Expected vCenter login; any non-empty login is accepted when omitted. */
  credentials?: { username: string; password: string };
  /** Directory for the source disk files; a temp dir (removed on close) when omitted. */
  dataDir?: string;
  blockSize?: number;
  initialDataBlocks?: number;
  speed?: Partial<SimSpeed>;
  /** Extra fields in the health answer (identity/version tests; the real VMA sends none). */
  healthExtra?: Record<string, unknown>;
  openTarget?: DiskTargetOpener;
  /** Post each disk's change id after pushing its `completed` instead of before. */
  changeIdAfterCompleted?: boolean;
  quirks?: Partial<SimQuirks>;
  /** How long a graceful power-off request takes to answer (real VMA ≈ 5 s). */
  gracefulReturnMs?: number;
  /** How long after a graceful power-off the VM still reports poweredOn. */
  gracefulOffLagMs?: number;
  /** Receives the simulator's log lines (never credentials). */
  log?: (line: string) => void;
  /**
   * Called once per answered request, when its last byte has been handed to the socket: the VMA's own
   * share of a round trip, for benchmarks that report the console's part apart from the appliance's.
   */
  onAnswered?: (answer: AnsweredRequest) => void;
}

/** One request as the simulator saw it, timed from its arrival (headers read) in this process. */
export interface AnsweredRequest {
  endpoint: SimEndpoint | 'unknown';
  status: number;
  /** Arrival until the answer was ready to write (request body read, work done, JSON encoded). */
  produceMs: number;
  /**
   * Arrival until the last byte was handed to the socket. For a large answer this includes waiting
   * for the peer to read: the kernel takes the last few MB only as the console drains them.
   */
  answerMs: number;
}

export interface RecordedRequest {
  endpoint: SimEndpoint | 'unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface InjectedError {
  status: number;
  text: string;
  /** How many requests it applies to (default 1; Infinity for all). */
  times?: number;
}

export interface SimJobView {
  jobId: string;
  vmPath: string;
  state: 'running' | 'completed' | 'failed';
  progress: Record<string, unknown> | null;
  history: ProgressSample[];
}

export interface VmaSimulator {
  readonly url: string;
  readonly port: number;
  readonly host: '127.0.0.1';
  readonly dataDir: string;
  readonly speed: SimSpeed;
  readonly requests: RecordedRequest[];
  readonly logs: string[];
  /** Optional behaviours (see SimQuirks); change them between tests, restore them after. */
  readonly quirks: SimQuirks;
  inventory: {
    list(): SimVm[];
    get(name: string): SimVm | undefined;
    add(spec: SimVmSpec): SimVm;
    remove(name: string): void;
    rename(name: string, newName: string): void;
    setPowerState(name: string, state: SimVm['powerState']): void;
    setCbtEnabled(name: string, enabled: boolean): void;
  };
  /** Writes random data into `blocks` random blocks of a source disk and records them as changed. */
  mutateDisk(vmName: string, diskKey: string | number, o: { blocks: number; seed: number }): Promise<number[]>;
  /** Whole content of a source disk (small test disks only). */
  readDisk(vmName: string, diskKey: string | number): Promise<Buffer>;
  diskFilePath(vmName: string, diskKey: string | number): Promise<string>;
  /** Invalidates every change id of a disk (CBT reset): the next sync of it is full. */
  resetCbt(vmName: string, diskKey: string | number): Promise<void>;
  faults: {
    setLatency(ms: number, endpoint?: SimEndpoint): void;
    injectError(endpoint: SimEndpoint, e: InjectedError): void;
    clearErrors(): void;
    /** Freezes one copier (or, without id, every current and future copier) in its current state. */
    crash(jobId?: string): void;
    /** Lets new copiers run again after a global crash (frozen ones stay frozen). */
    recover(): void;
    /**
     * Test control, not a VMA behaviour: every copier (running or new) pauses at its next step, its
     * progress standing still, until release(). Lets a test act at a known point of a live job.
     */
    hold(): void;
    release(): void;
    /** VMA restart: every copy stops and all in-memory progress is forgotten. */
    restart(): void;
    setVcenterReachable(reachable: boolean): void;
    setGracefulPowerOff(o: { returnMs?: number; offLagMs?: number }): void;
  };
  jobs: {
    get(jobId: string): SimJobView | undefined;
    list(): SimJobView[];
    /** Resolves when the job's copier has finished, failed or been stopped (not when frozen). */
    settled(jobId: string): Promise<void>;
  };
  close(): Promise<void>;
}

const DEFAULT_SPEED: SimSpeed = { firstPushDelayMs: 200, phaseDelayMs: 20, bytesPerSecond: 0 };
const MAX_BODY_BYTES = 10 * 1024 * 1024;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {
    super(text);
  }
}

type Raw = Record<string, unknown>;
const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

interface Route {
  endpoint: SimEndpoint;
  method: 'GET' | 'POST';
  param?: string;
}

function route(pathname: string): Route | undefined {
  if (pathname === '/api/v1/health') return { endpoint: 'health', method: 'GET' };
  if (pathname === '/api/v1/discover') return { endpoint: 'discover', method: 'POST' };
  if (pathname === '/api/v1/replicate') return { endpoint: 'replicate', method: 'POST' };
  if (pathname === '/api/v1/cleanup') return { endpoint: 'cleanup', method: 'POST' };
  let m = /^\/api\/v1\/(progress|status)\/([^/]+)$/.exec(pathname);
  if (m !== null) return { endpoint: m[1] as 'progress' | 'status', method: 'GET', param: decodeURIComponent(m[2]!) };
  m = /^\/api\/v1\/vm\/([^/]+)\/(power-off|power-on|power-state)$/.exec(pathname);
  if (m !== null) return { endpoint: m[2] as SimEndpoint, method: m[2] === 'power-state' ? 'GET' : 'POST', param: decodeURIComponent(m[1]!) };
  m = /^\/api\/v1\/vms\/(.+)\/cbt-status$/.exec(pathname);
  if (m !== null) return { endpoint: 'cbt-status', method: 'GET', param: decodeURIComponent(m[1]!) };
  return undefined;
}

const diskKeyNumber = (k: string | number): number => {
  const n = typeof k === 'number' ? k : Number(k.replace(/^disk-/, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`"${k}" is not a disk key`);
  return n;
};

export async function startVmaSimulator(options: VmaSimulatorOptions): Promise<VmaSimulator> {
  if (!nonEmpty(options.vcenterHost)) throw new Error('startVmaSimulator: vcenterHost is required');
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'vma-sim-')));
  const store = new SimDiskStore(dataDir, options.blockSize ?? DEFAULT_BLOCK_SIZE, options.initialDataBlocks ?? 4);
  const speed: SimSpeed = { ...DEFAULT_SPEED, ...options.speed };
  // Keyed by an internal per-VM key, not the BIOS uuid: clones can share a BIOS uuid
  // (reference/vma-api.md), and each clone has its own disks.
  const vms = new Map<string, SimVm>();
  const diskOwner = new WeakMap<SimVm, string>();
  let nextVmKey = 1;
  const addVm = (spec: SimVmSpec): SimVm => {
    const vm = resolveVm(spec);
    // The first VM with a BIOS uuid keeps it as its disk key (stable file names); later clones get their own.
    const key = [...vms.values()].some((v) => v.id === vm.id) ? `${vm.id}-clone${nextVmKey}` : vm.id;
    nextVmKey += 1;
    vms.set(key, vm);
    diskOwner.set(vm, key);
    return vm;
  };
  const diskKeyOf = (vm: SimVm): string => diskOwner.get(vm) ?? vm.id;
  for (const spec of options.inventory ?? []) addVm(spec);
  const datacenters = new Set(options.datacenters ?? []);
  const requests: RecordedRequest[] = [];
  const logs: string[] = [];
  const log = (line: string): void => {
    logs.push(line);
    options.log?.(line);
  };
  const latency = new Map<SimEndpoint | '*', number>();
  const injected = new Map<SimEndpoint, InjectedError & { times: number }>();
  let vcenterReachable = true;
  let crashed = false;
  let held = false;
  let startedAt = Date.now();
  let gracefulReturnMs = options.gracefulReturnMs ?? 50;
  let gracefulOffLagMs = options.gracefulOffLagMs ?? 0;
  const quirks: SimQuirks = { ...DEFAULT_QUIRKS, ...options.quirks };
  /** One job record per replicate call; `cleanedUp` once cleanup_all removed it from the status endpoint. */
  type JobRecord = { job: SimCopyJob | null; vmPath: string; state: 'running' | 'completed' | 'failed'; cleanedUp: boolean };
  const jobs = new Map<string, JobRecord>();
  const allCopiers = new Set<SimCopyJob>();
  const powerTimers = new Set<NodeJS.Timeout>();
  const openTarget = options.openTarget ?? openNbdTarget;

  const byName = (name: string): SimVm => {
    const vm = [...vms.values()].find((v) => v.name === name);
    if (vm === undefined) throw new Error(`no simulated VM named ${name}`);
    return vm;
  };
  const diskOf = async (vmName: string, key: string | number) => {
    const vm = byName(vmName);
    const n = diskKeyNumber(key);
    const d = vm.disks.find((x) => x.key === n);
    if (d === undefined) throw new Error(`VM ${vmName} has no disk ${key}`);
    return store.disk(diskKeyOf(vm), d.key, d.capacityBytes);
  };

  // Checks the vCenter connection a request asks for, as the VMA does on each call.
  const connect = (vcenter: string, username: string, password: string, prefix: string): void => {
    if (!vcenterReachable || vcenter !== options.vcenterHost) {
      throw new HttpFailure(500, `${prefix}failed to connect to vCenter ${vcenter}: dial tcp: lookup ${vcenter}: i/o timeout`);
    }
    const c = options.credentials;
    if (c !== undefined && (username !== c.username || password !== c.password)) {
      throw new HttpFailure(500, `${prefix}failed to connect to vCenter ${vcenter}: ServerFaultCode: Cannot complete login due to an incorrect user name or password.`);
    }
  };

  const parseJson = (body: string): Raw => {
    try {
      const v: unknown = JSON.parse(body);
      if (isRecord(v)) return v;
    } catch {
      // fall through
    }
    throw new HttpFailure(400, 'Invalid request body');
  };

  const requireFields = (b: Raw, fields: string[]): void => {
    const missing = fields.filter((f) => !nonEmpty(b[f]));
    if (missing.length > 0) throw new HttpFailure(400, `Missing required fields: ${missing.join(', ')}`);
  };

  const credsFromQuery = (q: URLSearchParams): { vcenter: string; username: string; password: string } => {
    const vcenter = q.get('vcenter') ?? '';
    const username = q.get('username') ?? '';
    const password = q.get('password') ?? '';
    if (vcenter === '' || username === '' || password === '') throw new HttpFailure(400, 'Missing required parameters: vcenter, username, password');
    return { vcenter, username, password };
  };

  function discover(b: Raw): unknown {
    requireFields(b, ['vcenter', 'username', 'password', 'datacenter']);
    connect(b['vcenter'] as string, b['username'] as string, b['password'] as string, 'Discovery failed: ');
    const dc = b['datacenter'] as string;
    const known = new Set([...datacenters, ...[...vms.values()].map((v) => v.datacenter)]);
    if (!known.has(dc)) throw new HttpFailure(500, `Discovery failed: failed to find datacenter '${dc}': datacenter '${dc}' not found`);
    const filter = typeof b['filter'] === 'string' ? b['filter'] : '';
    const list = [...vms.values()].filter((v) => v.datacenter === dc && matchesFilter(v.name, filter)).map(toDiscoveryJson);
    return { vcenter: { host: b['vcenter'], datacenter: dc }, vms: list };
  }

  function replicate(b: Raw): unknown {
    requireFields(b, ['job_id', 'vcenter', 'username', 'password']);
    const paths = b['vm_paths'];
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every(nonEmpty)) throw new HttpFailure(400, 'Missing required fields: vm_paths');
    if (!vcenterReachable || b['vcenter'] !== options.vcenterHost) {
      throw new HttpFailure(500, `Failed to connect to vCenter: dial tcp: lookup ${String(b['vcenter'])}: i/o timeout`);
    }
    const jobId = b['job_id'] as string;
    const targets: VmaNbdTarget[] = (Array.isArray(b['nbd_targets']) ? b['nbd_targets'] : [])
      .filter(isRecord)
      .map((t) => ({ device_path: String(t['device_path'] ?? ''), vmware_disk_key: String(t['vmware_disk_key'] ?? '') }));
    const omaUrl = typeof b['oma_url'] === 'string' ? b['oma_url'] : '';
    const previous = jobs.get(jobId);
    previous?.job?.stop();
    const vmPath = paths[0] as string;
    const record: JobRecord = { job: null, vmPath, state: 'failed', cleanedUp: false };
    jobs.set(jobId, record);
    // Per-VM failures are only logged: the answer is "started" regardless (real VMA behaviour).
    const c = options.credentials;
    const vm = [...vms.values()].find((v) => v.path === vmPath);
    if (c !== undefined && (b['username'] !== c.username || b['password'] !== c.password)) {
      log(`job ${jobId}: vCenter login failed for ${vmPath}; copy not started`);
    } else if (vm === undefined) {
      log(`job ${jobId}: VM ${vmPath} not found; copy not started`);
    } else if (omaUrl === '') {
      log(`job ${jobId}: no oma_url; copy not started`);
    } else {
      const job = new SimCopyJob(jobId, vm, diskKeyOf(vm), targets, omaUrl, {
        store,
        openTarget,
        speed,
        crashed: () => crashed,
        held: () => held,
        log,
        changeIdAfterCompleted: options.changeIdAfterCompleted ?? false,
        quirks: () => quirks,
      });
      record.job = job;
      record.state = 'running';
      allCopiers.add(job);
      void job.done.then(() => {
        allCopiers.delete(job);
        if (jobs.get(jobId) === record) record.state = job.state;
      });
    }
    return { job_id: jobId, status: 'started', vm_count: paths.length, started_at: new Date().toISOString() };
  }

  function progressOf(jobId: string): unknown {
    const rec = jobs.get(jobId);
    const body = rec?.job?.progress ?? null;
    if (body === null) throw new HttpFailure(404, 'job not found');
    return body;
  }

  function statusOf(jobId: string): unknown {
    const rec = jobs.get(jobId);
    // A job cleaned up (or forgotten by a restart) is unknown to the status endpoint.
    if (rec === undefined || rec.cleanedUp) throw new HttpFailure(404, 'job not found');
    const p = rec.job?.progress ?? null;
    // The real VMA sets `running` when the job is accepted and never updates it.
    const state = !quirks.statusReportsEnd ? 'running' : rec.job !== null && rec.job.state === 'running' ? 'running' : rec.job?.state ?? rec.state;
    return {
      job_id: jobId,
      status: state,
      progress_percent: p === null ? 0 : (p['percentage'] as number),
      current_operation: p === null ? '' : (p['current_operation'] as string),
      start_time: (rec.job?.startedAt ?? new Date()).toISOString(),
      last_update: p === null ? new Date().toISOString() : ((p['timing'] as Raw)['last_update'] as string),
      vm_path: rec.vmPath,
    };
  }

  const vmById = (id: string): SimVm => {
    // Like a lookup by BIOS uuid in vCenter: the first VM with that uuid.
    const vm = [...vms.values()].find((v) => v.id === id);
    if (vm === undefined) throw new HttpFailure(404, `VM not found: ${id}`);
    return vm;
  };

  async function power(endpoint: 'power-off' | 'power-on', vmId: string, b: Raw): Promise<unknown> {
    requireFields(b, ['vcenter', 'username', 'password']);
    connect(b['vcenter'] as string, b['username'] as string, b['password'] as string, 'Failed to connect to vCenter: ');
    const vm = vmById(vmId);
    const started = Date.now();
    const previous = vm.powerState;
    const base = { success: true, vm_id: vm.id, previous_state: previous, operation: endpoint, tools_status: vm.toolsStatus };
    if (endpoint === 'power-on') {
      vm.powerState = 'poweredOn';
      return { ...base, new_state: vm.powerState, duration_seconds: (Date.now() - started) / 1000, timestamp: new Date().toISOString(), message: previous === 'poweredOn' ? 'VM is already powered on' : 'VM powered on' };
    }
    if (previous === 'poweredOff') {
      return { ...base, new_state: 'poweredOff', duration_seconds: 0, timestamp: new Date().toISOString(), message: 'VM is already powered off' };
    }
    if (b['force'] === true) {
      vm.powerState = 'poweredOff';
      return { ...base, new_state: 'poweredOff', shutdown_method: 'force', duration_seconds: (Date.now() - started) / 1000, timestamp: new Date().toISOString(), message: 'VM powered off (forced)' };
    }
    if (gracefulOffLagMs <= 0) vm.powerState = 'poweredOff';
    else {
      const t = setTimeout(() => {
        powerTimers.delete(t);
        vm.powerState = 'poweredOff';
      }, gracefulOffLagMs);
      powerTimers.add(t);
    }
    await new Promise((r) => setTimeout(r, gracefulReturnMs));
    return {
      ...base,
      new_state: vm.powerState,
      shutdown_method: 'graceful',
      duration_seconds: (Date.now() - started) / 1000,
      timestamp: new Date().toISOString(),
      message: 'Guest shutdown initiated',
    };
  }

  function powerState(vmId: string, q: URLSearchParams): unknown {
    const c = credsFromQuery(q);
    connect(c.vcenter, c.username, c.password, 'Failed to connect to vCenter: ');
    const vm = vmById(vmId);
    return {
      success: true,
      vm_id: vm.id,
      previous_state: vm.powerState,
      new_state: vm.powerState,
      operation: 'power-state',
      tools_status: vm.toolsStatus,
      duration_seconds: 0,
      timestamp: new Date().toISOString(),
    };
  }

  function cbtStatus(vmPath: string, q: URLSearchParams): unknown {
    const c = credsFromQuery(q);
    connect(c.vcenter, c.username, c.password, 'Failed to connect to vCenter: ');
    const vm = [...vms.values()].find((v) => v.path === vmPath);
    if (vm === undefined) throw new HttpFailure(404, `VM not found: ${vmPath}`);
    return { enabled: vm.cbtEnabled, vm_name: vm.name, power_state: vm.powerState, vm_path: vm.path };
  }

  function cleanup(b: Raw): unknown {
    requireFields(b, ['job_id', 'action']);
    const jobId = b['job_id'] as string;
    const action = b['action'];
    if (action === 'delete_snapshot') throw new HttpFailure(500, 'Failed to delete snapshot: snapshot deletion not implemented');
    if (action !== 'cleanup_all') throw new HttpFailure(400, `Invalid action: ${String(action)}`);
    const rec = jobs.get(jobId);
    if (rec?.job !== null && rec?.job !== undefined && rec.job.state === 'running') {
      rec.job.stop();
      rec.job.state = 'failed';
      rec.state = 'failed';
      log(`job ${jobId}: stopped by cleanup`);
    }
    if (rec !== undefined) rec.cleanedUp = true;
    return { success: true, job_id: jobId, action, message: rec === undefined ? 'No active job' : 'Cleanup completed' };
  }

  async function dispatch(r: Route, url: URL, body: string): Promise<unknown> {
    switch (r.endpoint) {
      case 'health':
        return { status: 'healthy', timestamp: new Date().toISOString(), uptime: `${Math.round((Date.now() - startedAt) / 1000)}s`, ...options.healthExtra };
      case 'discover':
        return discover(parseJson(body));
      case 'replicate':
        return replicate(parseJson(body));
      case 'progress':
        return progressOf(r.param!);
      case 'status':
        return statusOf(r.param!);
      case 'power-off':
      case 'power-on':
        return power(r.endpoint, r.param!, parseJson(body));
      case 'power-state':
        return powerState(r.param!, url.searchParams);
      case 'cbt-status':
        return cbtStatus(r.param!, url.searchParams);
      case 'cleanup':
        return cleanup(parseJson(body));
    }
  }

  // When each answer was ready to write (onAnswered's produceMs).
  const producedAt = new WeakMap<http.ServerResponse, number>();

  const sendText = (res: http.ServerResponse, status: number, text: string): void => {
    producedAt.set(res, performance.now());
    // Like Go's http.Error: text/plain, one line and a newline.
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(`${text}\n`);
  };

  const readBody = (req: http.IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(new HttpFailure(413, 'Request body too large'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const server = http.createServer((req, res) => {
    const arrivedAt = performance.now();
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const r = route(url.pathname);
      const onAnswered = options.onAnswered;
      if (onAnswered !== undefined) {
        res.once('finish', () => {
          const now = performance.now();
          onAnswered({ endpoint: r?.endpoint ?? 'unknown', status: res.statusCode, produceMs: (producedAt.get(res) ?? now) - arrivedAt, answerMs: now - arrivedAt });
        });
      }
      let body = '';
      try {
        body = await readBody(req);
      } catch (e) {
        if (e instanceof HttpFailure && !res.destroyed) sendText(res, e.status, e.text);
        return;
      }
      let parsed: unknown = body;
      try {
        parsed = body === '' ? undefined : JSON.parse(body);
      } catch {
        // recorded as text
      }
      requests.push({ endpoint: r?.endpoint ?? 'unknown', method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), body: parsed });
      if (r === undefined) return sendText(res, 404, '404 page not found');
      if (req.method !== r.method) return sendText(res, 405, 'Method not allowed');
      const delay = latency.get(r.endpoint) ?? latency.get('*') ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (res.destroyed) return;
      const fault = injected.get(r.endpoint);
      if (fault !== undefined) {
        fault.times -= 1;
        if (fault.times <= 0) injected.delete(r.endpoint);
        return sendText(res, fault.status, fault.text);
      }
      try {
        const out = await dispatch(r, url, body);
        if (res.destroyed) return;
        const json = JSON.stringify(out);
        producedAt.set(res, performance.now());
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(json);
      } catch (e) {
        if (res.destroyed) return;
        if (e instanceof HttpFailure) return sendText(res, e.status, e.text);
        log(`internal error on ${url.pathname}: ${e instanceof Error ? e.message : String(e)}`);
        sendText(res, 500, 'Internal server error');
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const view = (jobId: string): SimJobView | undefined => {
    const rec = jobs.get(jobId);
    if (rec === undefined) return undefined;
    return {
      jobId,
      vmPath: rec.vmPath,
      state: rec.job?.state ?? rec.state,
      progress: rec.job?.progress ?? null,
      history: rec.job === null ? [] : [...rec.job.history],
    };
  };

  const stopAll = async (): Promise<void> => {
    const copiers = [...allCopiers];
    for (const c of copiers) c.stop();
    await Promise.allSettled(copiers.map((c) => c.done));
  };

  let closed = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    host: '127.0.0.1',
    dataDir,
    speed,
    requests,
    logs,
    quirks,
    inventory: {
      list: () => [...vms.values()],
      get: (name) => [...vms.values()].find((v) => v.name === name),
      add(spec) {
        return addVm(spec);
      },
      remove(name) {
        const vm = byName(name);
        vms.delete(diskKeyOf(vm));
      },
      rename(name, newName) {
        const vm = byName(name);
        vm.name = newName;
        vm.path = `/${vm.datacenter}/vm/${vm.folder === '' ? '' : `${vm.folder}/`}${newName}`;
      },
      setPowerState(name, state) {
        byName(name).powerState = state;
      },
      setCbtEnabled(name, enabled) {
        byName(name).cbtEnabled = enabled;
      },
    },
    async mutateDisk(vmName, diskKey, o) {
      return store.mutate(await diskOf(vmName, diskKey), o.blocks, o.seed);
    },
    async readDisk(vmName, diskKey) {
      return readFile((await diskOf(vmName, diskKey)).filePath);
    },
    async diskFilePath(vmName, diskKey) {
      return (await diskOf(vmName, diskKey)).filePath;
    },
    async resetCbt(vmName, diskKey) {
      store.resetCbt(await diskOf(vmName, diskKey));
    },
    faults: {
      setLatency(ms, endpoint) {
        latency.set(endpoint ?? '*', ms);
      },
      injectError(endpoint, e) {
        injected.set(endpoint, { ...e, times: e.times ?? 1 });
      },
      clearErrors() {
        injected.clear();
      },
      crash(jobId) {
        if (jobId === undefined) crashed = true;
        else jobs.get(jobId)?.job?.freeze();
      },
      recover() {
        crashed = false;
      },
      hold() {
        held = true;
      },
      release() {
        held = false;
      },
      restart() {
        for (const c of allCopiers) c.stop();
        jobs.clear();
        crashed = false;
        startedAt = Date.now();
        log('VMA restarted: all in-memory progress lost');
      },
      setVcenterReachable(reachable) {
        vcenterReachable = reachable;
      },
      setGracefulPowerOff(o) {
        if (o.returnMs !== undefined) gracefulReturnMs = o.returnMs;
        if (o.offLagMs !== undefined) gracefulOffLagMs = o.offLagMs;
      },
    },
    jobs: {
      get: view,
      list: () => [...jobs.keys()].map((id) => view(id)!),
      async settled(jobId) {
        const job = jobs.get(jobId)?.job;
        if (job !== null && job !== undefined) await job.done;
      },
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of powerTimers) clearTimeout(t);
      await stopAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
