/**
 * One SSH connection to one appliance, kept up with keepalives and reconnects, with pinned host
 * keys. Everything the console does on an appliance goes over it: HTTP to the appliance API
 * (forwardOut channels), remote forwards for the callback API, and exec.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig, type TcpConnectionDetails } from 'ssh2';
import type { TunnelState, TunnelStateName } from '../../shared/domain';
import { AppError, isAppError, type ErrorCode } from '../../shared/errors';
import { backoffDelayMs, resolveBackoffPolicy, type BackoffPolicy } from './backoff';
import { asUndiciSocket, TickWriteBatcher } from './batch-writes';
import { formatSha256Fingerprint } from './fingerprint';

export interface SshCredentials {
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

/**
 * TunnelState plus the error code of a failure (the shared type has only a human reason).
 * Structurally a TunnelState, so it can be forwarded wherever one is expected.
 */
export interface TunnelStatus extends TunnelState {
  errorCode: ErrorCode | null;
}

export interface TunnelLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface SshTunnelOptions {
  applianceId: string;
  host: string;
  port: number;
  username: string;
  /** Resolved at each connection attempt; the result is used for that attempt only. */
  auth: () => Promise<SshCredentials>;
  /** The trusted host key fingerprint (`SHA256:...`), or null when none is trusted yet. */
  pinnedFingerprint: () => string | null;
  onState?: (state: TunnelStatus) => void;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Time allowed for TCP connect + handshake + authentication of one attempt. */
  readyTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** How often to re-request a remote forward the appliance refused while the link is up. */
  forwardRetryMs?: number;
  random?: () => number;
  now?: () => number;
  logger?: TunnelLogger;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface RemoteForwardOptions {
  /** Address the appliance's sshd listens on (127.0.0.1 keeps it local to the appliance). */
  bindAddress: string;
  /** Port on the appliance; 0 lets the appliance choose (see RemoteForward.boundPort). */
  bindPort: number;
  /** Called with each channel the appliance opens for a connection to the forwarded port. */
  onConnection: (stream: Duplex, details: TcpConnectionDetails) => void;
  /** Called whenever the forward becomes active or fails to be established. */
  onStatus?: (status: RemoteForwardStatus) => void;
}

export interface RemoteForwardStatus {
  state: 'inactive' | 'active' | 'failed';
  boundPort: number | null;
  error: string | null;
}

export interface RemoteForward {
  status(): RemoteForwardStatus;
  /** Stops re-requesting the forward and cancels it on the current connection. */
  remove(): Promise<void>;
}

const DEFAULT_KEEPALIVE_INTERVAL_MS = 15_000;
const DEFAULT_KEEPALIVE_COUNT_MAX = 3;
const DEFAULT_READY_TIMEOUT_MS = 20_000;
const DEFAULT_FORWARD_RETRY_MS = 5_000;
const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const DEFAULT_EXEC_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

interface ForwardEntry {
  options: RemoteForwardOptions;
  status: RemoteForwardStatus;
  retryTimer: NodeJS.Timeout | null;
  removed: boolean;
}

/** Why the current attempt is ending; decides between retrying and failing for good. */
interface Failure {
  error: AppError;
  retry: boolean;
}

export class SshTunnelManager {
  private readonly options: SshTunnelOptions;
  private readonly backoffPolicy: BackoffPolicy;
  private readonly random: () => number;
  private readonly now: () => number;
  private current: TunnelStatus;
  private client: Client | null = null;
  /** Coalesces the packets of one event-loop turn on the current connection's TCP socket. */
  private batcher: TickWriteBatcher | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Consecutive failed attempts since the last ready connection (drives the backoff delay). */
  private attempt = 0;
  private started = false;
  /** Bumped by start/stop so an attempt still awaiting credentials knows it is obsolete. */
  private generation = 0;
  private readonly forwards = new Set<ForwardEntry>();
  private readyWaiters: Array<{ resolve: () => void; reject: (e: AppError) => void; timer: NodeJS.Timeout }> = [];

  constructor(options: SshTunnelOptions) {
    validateOptions(options);
    this.options = options;
    this.backoffPolicy = resolveBackoffPolicy(options.backoff);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.current = {
      applianceId: options.applianceId,
      state: 'disconnected',
      nextAttemptAt: null,
      attempt: 0,
      reason: null,
      offeredFingerprint: null,
      errorCode: null,
    };
  }

  get state(): TunnelStatus {
    return { ...this.current };
  }

  get target(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /**
   * Starts connecting (and keeps reconnecting after drops). Also the way out of 'failed': after
   * the caller has changed what was wrong (trusted a new host key, fixed credentials), call it
   * again.
   */
  start(): void {
    if (this.started && this.current.state !== 'failed') return;
    this.started = true;
    this.generation += 1;
    this.attempt = 0;
    this.clearReconnectTimer();
    void this.connectOnce();
  }

  /** Closes the connection and stops reconnecting. State becomes 'disconnected'. */
  async stop(): Promise<void> {
    this.started = false;
    this.generation += 1;
    this.clearReconnectTimer();
    for (const entry of this.forwards) this.clearForwardRetry(entry);
    const client = this.client;
    this.client = null;
    if (client !== null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        client.end();
      });
    }
    this.setState({ state: 'disconnected', nextAttemptAt: null, reason: null, offeredFingerprint: null, errorCode: null });
    this.rejectReadyWaiters(new AppError('unreachable', `SSH tunnel to ${this.target} was stopped`));
  }

  /** Resolves when the tunnel is ready; rejects on 'failed' or after `timeoutMs`. */
  waitUntilReady(timeoutMs: number): Promise<void> {
    if (this.current.state === 'ready') return Promise.resolve();
    if (this.current.state === 'failed') return Promise.reject(this.failureError());
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
          reject(new AppError('timeout', `SSH tunnel to ${this.target} not ready within ${timeoutMs} ms (state ${this.current.state})`));
        }, timeoutMs),
      };
      this.readyWaiters.push(waiter);
    });
  }

  /** Opens a channel to `targetHost:targetPort` as seen from the appliance. Fails fast when not ready. */
  openForwardOut(targetHost: string, targetPort: number): Promise<ClientChannel> {
    const client = this.readyClient();
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, targetHost, targetPort, (error, channel) => {
        if (error) {
          reject(
            new AppError('unreachable', `${targetHost}:${targetPort} is not reachable through the SSH tunnel to ${this.target}: ${error.message}`),
          );
          return;
        }
        resolve(channel);
      });
    });
  }

  /**
   * A forwardOut channel wrapped as the socket undici expects (see batch-writes.ts): one channel
   * write per request, packets of one event-loop turn in one TCP write.
   */
  async openForwardSocket(targetHost: string, targetPort: number): Promise<Socket> {
    const batcher = this.batcher;
    const channel = await this.openForwardOut(targetHost, targetPort);
    return asUndiciSocket(channel, batcher);
  }

  /**
   * Runs a command on the appliance over the tunnel's connection. Rejects with 'timeout' (the
   * channel is closed) or 'remote_error' when the output exceeds `maxOutputBytes` (default 16 MiB).
   */
  exec(command: string, options: { timeoutMs?: number; maxOutputBytes?: number } = {}): Promise<ExecResult> {
    if (typeof command !== 'string' || command.trim() === '') {
      return Promise.reject(new AppError('validation', 'exec needs a non-empty command'));
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    if (!(timeoutMs > 0)) return Promise.reject(new AppError('validation', `exec timeoutMs must be > 0, got ${timeoutMs}`));
    const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_EXEC_MAX_OUTPUT_BYTES;
    let client: Client;
    try {
      client = this.readyClient();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      let channel: ClientChannel | null = null;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        channel?.close();
        reject(new AppError('timeout', `Command on ${this.target} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      client.exec(command, (error, stream) => {
        if (settled) {
          stream?.close();
          return;
        }
        if (error) {
          settled = true;
          clearTimeout(timer);
          reject(new AppError('remote_error', `Could not run a command on ${this.target}: ${error.message}`));
          return;
        }
        channel = stream;
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let code: number | null = null;
        let signal: string | null = null;
        let outputBytes = 0;
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          if (settled) return;
          outputBytes += chunk.length;
          if (outputBytes > maxOutputBytes) {
            settled = true;
            clearTimeout(timer);
            stream.close();
            reject(new AppError('remote_error', `Command output on ${this.target} exceeded ${maxOutputBytes} bytes`));
            return;
          }
          into.push(chunk);
        };
        stream.on('data', collect(stdout));
        stream.stderr.on('data', collect(stderr));
        stream.on('exit', (exitCode: number | null, exitSignal?: string) => {
          code = exitCode ?? null;
          signal = exitSignal ?? null;
        });
        stream.on('close', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            code,
            signal,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          });
        });
      });
    });
  }

  /**
   * Asks the appliance to forward connections on `bindAddress:bindPort` back to us. Requested on
   * every (re)connect until removed; a refused request is retried while the link is up, because
   * after a drop the appliance may still hold the port for the dead session for a while.
   */
  addRemoteForward(options: RemoteForwardOptions): RemoteForward {
    if (!Number.isInteger(options.bindPort) || options.bindPort < 0 || options.bindPort > 65_535) {
      throw new AppError('validation', `remote forward port must be an integer 0..65535, got ${options.bindPort}`);
    }
    const entry: ForwardEntry = {
      options,
      status: { state: 'inactive', boundPort: null, error: null },
      retryTimer: null,
      removed: false,
    };
    this.forwards.add(entry);
    if (this.current.state === 'ready' && this.client !== null) this.requestForward(entry, this.client);
    return {
      status: () => ({ ...entry.status }),
      remove: async () => {
        entry.removed = true;
        this.forwards.delete(entry);
        this.clearForwardRetry(entry);
        const client = this.client;
        const boundPort = entry.status.boundPort;
        entry.status = { state: 'inactive', boundPort: null, error: null };
        if (client !== null && this.current.state === 'ready' && boundPort !== null) {
          await new Promise<void>((resolve) => client.unforwardIn(options.bindAddress, boundPort, () => resolve()));
        }
      },
    };
  }

  // ---- connection lifecycle ----

  private async connectOnce(): Promise<void> {
    const generation = this.generation;
    this.setState({ state: 'connecting', nextAttemptAt: null, reason: null, offeredFingerprint: null, errorCode: null });

    let credentials: SshCredentials;
    try {
      credentials = await this.options.auth();
    } catch (error) {
      if (!this.started || generation !== this.generation) return;
      // A secret store that cannot answer will not answer better in a second; the caller retries.
      const appError = isAppError(error)
        ? error
        : new AppError('auth', `Credentials for ${this.target} could not be resolved: ${(error as Error)?.message ?? String(error)}`);
      this.enterFailed(appError, null);
      return;
    }
    if (!this.started || generation !== this.generation) return;

    const client = new Client();
    this.client = client;
    // Our own TCP socket (ssh2's `sock` option) so that writes can be batched per event-loop turn.
    const socket = new Socket();
    const batcher = new TickWriteBatcher(socket);
    this.batcher = batcher;
    let failure: Failure | null = null;
    let offeredFingerprint: string | null = null;
    let wasReady = false;

    const hostVerifier = (key: Buffer): boolean => {
      const offered = formatSha256Fingerprint(key);
      offeredFingerprint = offered;
      const pinned = this.options.pinnedFingerprint();
      if (pinned === null) {
        failure = {
          retry: false,
          error: new AppError(
            'host_key_untrusted',
            `The SSH host key of ${this.target} is not trusted yet (offered ${offered}); confirm the fingerprint to connect.`,
            { offeredFingerprint: offered },
          ),
        };
        return false;
      }
      if (pinned !== offered) {
        failure = {
          retry: false,
          error: new AppError(
            'host_key_mismatch',
            `The SSH host key of ${this.target} has changed: expected ${pinned}, offered ${offered}. ` +
              'Nothing will connect until the new key is explicitly trusted.',
            { expectedFingerprint: pinned, offeredFingerprint: offered },
          ),
        };
        return false;
      }
      return true;
    };

    client.on('ready', () => {
      if (this.client !== client) return;
      // Small request/response traffic (HTTP over forwardOut, exec) otherwise waits on Nagle + delayed
      // ACK: measured 5x slower single-VM discovery through the tunnel without this.
      client.setNoDelay(true);
      setAppliancesNoDelay(client);
      wasReady = true;
      this.attempt = 0;
      this.setState({ state: 'ready', nextAttemptAt: null, reason: null, offeredFingerprint: null, errorCode: null });
      this.options.logger?.info('SSH tunnel ready', { applianceId: this.options.applianceId, target: this.target });
      this.resolveReadyWaiters();
      for (const entry of this.forwards) this.requestForward(entry, client);
    });

    client.on('tcp connection', (details, accept, reject) => {
      const entry = [...this.forwards].find(
        (candidate) => candidate.status.state === 'active' && candidate.status.boundPort === details.destPort,
      );
      if (entry === undefined) {
        reject();
        return;
      }
      const stream = accept();
      try {
        entry.options.onConnection(stream, details);
      } catch (error) {
        this.options.logger?.warn('remote forward connection handler failed', { message: (error as Error).message });
        stream.close();
      }
    });

    client.on('error', (error: Error & { level?: string }) => {
      if (failure !== null) return;
      failure = classifyError(error, this.target, wasReady);
    });

    client.on('close', () => {
      if (this.batcher === batcher) this.batcher = null;
      if (this.client !== client) return;
      this.client = null;
      for (const entry of this.forwards) {
        this.clearForwardRetry(entry);
        entry.status = { state: 'inactive', boundPort: null, error: null };
        entry.options.onStatus?.({ ...entry.status });
      }
      if (!this.started) return;
      const ended: Failure = failure ?? {
        retry: true,
        error: new AppError('unreachable', `SSH connection to ${this.target} closed`),
      };
      if (!ended.retry) {
        this.enterFailed(ended.error, offeredFingerprint);
        return;
      }
      this.options.logger?.warn('SSH tunnel down, will reconnect', { applianceId: this.options.applianceId, reason: ended.error.message });
      this.scheduleReconnect(ended.error);
    });

    const config: ConnectConfig = {
      sock: socket,
      host: this.options.host,
      port: this.options.port,
      username: this.options.username,
      hostVerifier,
      keepaliveInterval: this.options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: this.options.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT_MAX,
      readyTimeout: this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      tryKeyboard: false,
    };
    if (credentials.password !== undefined) config.password = credentials.password;
    if (credentials.privateKey !== undefined) config.privateKey = credentials.privateKey;
    if (credentials.passphrase !== undefined) config.passphrase = credentials.passphrase;
    if (config.password === undefined && config.privateKey === undefined) {
      this.client = null;
      this.batcher = null;
      this.enterFailed(new AppError('auth', `No password or private key configured for ${this.target}`), null);
      return;
    }
    try {
      // Connected here, not by ssh2, because the socket is ours (see above); ssh2 starts the
      // handshake on 'connect' and reports its errors, and the ready timeout, as before.
      socket.connect({ host: this.options.host, port: this.options.port });
      client.connect(config);
    } catch (error) {
      // ssh2 parses the private key synchronously: an unreadable key or wrong passphrase lands here.
      this.client = null;
      this.batcher = null;
      socket.destroy();
      this.enterFailed(new AppError('auth', `The private key for ${this.target} cannot be used: ${(error as Error).message}`), null);
    }
  }

  private scheduleReconnect(cause: AppError): void {
    this.attempt += 1;
    const delay = backoffDelayMs(this.attempt, this.backoffPolicy, this.random);
    const nextAttemptAt = new Date(this.now() + delay).toISOString();
    this.setState({ state: 'backoff', nextAttemptAt, reason: cause.message, offeredFingerprint: null, errorCode: cause.code });
    this.clearReconnectTimer();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.started) void this.connectOnce();
    }, delay);
  }

  private enterFailed(error: AppError, offeredFingerprint: string | null): void {
    this.clearReconnectTimer();
    this.setState({
      state: 'failed',
      nextAttemptAt: null,
      reason: error.message,
      offeredFingerprint: error.code === 'host_key_untrusted' || error.code === 'host_key_mismatch' ? offeredFingerprint : null,
      errorCode: error.code,
    });
    this.options.logger?.warn('SSH tunnel failed', { applianceId: this.options.applianceId, code: error.code, reason: error.message });
    this.rejectReadyWaiters(error);
  }

  // ---- remote forwards ----

  private requestForward(entry: ForwardEntry, client: Client): void {
    if (entry.removed) return;
    this.clearForwardRetry(entry);
    const { bindAddress, bindPort } = entry.options;
    client.forwardIn(bindAddress, bindPort, (error, allocatedPort) => {
      if (entry.removed || this.client !== client) return;
      if (error) {
        entry.status = { state: 'failed', boundPort: null, error: `The appliance refused to forward ${bindAddress}:${bindPort}: ${error.message}` };
        entry.options.onStatus?.({ ...entry.status });
        entry.retryTimer = setTimeout(() => {
          entry.retryTimer = null;
          if (this.client === client && this.current.state === 'ready') this.requestForward(entry, client);
        }, this.options.forwardRetryMs ?? DEFAULT_FORWARD_RETRY_MS);
        return;
      }
      // ssh2 reports the allocated port only when 0 was requested.
      const boundPort = bindPort === 0 ? allocatedPort : bindPort;
      entry.status = { state: 'active', boundPort, error: null };
      entry.options.onStatus?.({ ...entry.status });
    });
  }

  private clearForwardRetry(entry: ForwardEntry): void {
    if (entry.retryTimer !== null) clearTimeout(entry.retryTimer);
    entry.retryTimer = null;
  }

  // ---- helpers ----

  private readyClient(): Client {
    if (this.current.state !== 'ready' || this.client === null) {
      const detail = this.current.reason !== null ? `: ${this.current.reason}` : '';
      throw new AppError('unreachable', `SSH tunnel to ${this.target} is not ready (state ${this.current.state}${detail})`, {
        tunnelState: this.current.state,
      });
    }
    return this.client;
  }

  private failureError(): AppError {
    return new AppError(this.current.errorCode ?? 'unreachable', this.current.reason ?? `SSH tunnel to ${this.target} failed`);
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private resolveReadyWaiters(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  private rejectReadyWaiters(error: AppError): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  private setState(next: Omit<TunnelStatus, 'applianceId' | 'attempt'> & { state: TunnelStateName }): void {
    const updated: TunnelStatus = { applianceId: this.options.applianceId, attempt: this.attempt, ...next };
    const previous = this.current;
    const changed = (Object.keys(updated) as Array<keyof TunnelStatus>).some((key) => updated[key] !== previous[key]);
    if (!changed) return;
    this.current = updated;
    try {
      this.options.onState?.({ ...updated });
    } catch (error) {
      this.options.logger?.warn('tunnel state listener threw', { message: (error as Error).message });
    }
  }
}

/**
 * sshd sets TCP_NODELAY on its socket only when a session runs a command or shell (OpenSSH's
 * ssh_packet_set_interactive, called once per connection); forwardOut channels alone never trigger
 * it, and sshd's replies then wait on Nagle (40 ms stalls under concurrent requests). A trivial
 * `exit 0` once per connection makes it set the option. Best effort: an appliance that refuses exec
 * (a restricted account) still works, only slower.
 */
function setAppliancesNoDelay(client: Client): void {
  try {
    client.exec('exit 0', (error, stream) => {
      if (error) return;
      stream.on('error', () => {});
      stream.stderr.resume();
      stream.resume();
    });
  } catch {
    // the connection went away meanwhile; the next one tries again
  }
}

function classifyError(error: Error & { level?: string }, target: string, wasReady: boolean): Failure {
  switch (error.level) {
    case 'client-authentication':
      return { retry: false, error: new AppError('auth', `SSH authentication to ${target} was rejected: ${error.message}`) };
    case 'client-timeout':
      return { retry: true, error: new AppError('timeout', `SSH connection to ${target} timed out: ${error.message}`) };
    default:
      return {
        retry: true,
        error: new AppError('unreachable', `SSH connection to ${target} ${wasReady ? 'was lost' : 'failed'}: ${error.message}`),
      };
  }
}

function validateOptions(options: SshTunnelOptions): void {
  const problems: string[] = [];
  if (typeof options.applianceId !== 'string' || options.applianceId === '') problems.push('applianceId is required');
  if (typeof options.host !== 'string' || options.host.trim() === '') problems.push('host is required');
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) problems.push(`port must be 1..65535, got ${options.port}`);
  if (typeof options.username !== 'string' || options.username === '') problems.push('username is required');
  if (typeof options.auth !== 'function') problems.push('auth callback is required');
  if (typeof options.pinnedFingerprint !== 'function') problems.push('pinnedFingerprint callback is required');
  for (const key of ['keepaliveIntervalMs', 'keepaliveCountMax', 'readyTimeoutMs', 'forwardRetryMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) problems.push(`${key} must be > 0, got ${value}`);
  }
  if (problems.length > 0) throw new AppError('validation', `Invalid SSH tunnel options: ${problems.join('; ')}`);
}
