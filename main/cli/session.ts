// Where an `mkc` command runs. When an owner (the desktop app, `mkc serve`, or another `mkc` working
// in-process) holds the data directory, the command is sent to it over the control channel. Otherwise
// this process becomes the owner for as long as the command works: it takes the lock, opens the core
// and serves the control channel itself, so a second `mkc` started meanwhile is served by it.
import type { EventChannel, InvokeChannel, InvokeRequest, InvokeResponse } from '../../shared/contract';
import { AppError, type Result } from '../../shared/errors';
import { Core } from '../core/core';
import { dispatch, type DispatchLogger } from '../ipc/dispatch';
import { createHandlers } from '../ipc/handlers';
import { connectControl, type ControlClient, type EventListener } from '../owner/control-client';
import { controlSocketPath } from '../owner/control-protocol';
import { startControlServer, type ControlServer } from '../owner/control-server';
import { describeOwner, tryAcquireOwnerLock, type OwnerInfo, type OwnerLock } from '../owner/owner-lock';
import { ownerPortOf } from '../owner/owner-port';
import type { SecretStore } from '../secrets/secret-store';

export interface ConsoleSession {
  /** 'owner': another process serves this command; 'in-process': this process owns the directory now. */
  readonly servedBy: 'owner' | 'in-process';
  /** Who serves the command (this process when in-process). */
  readonly owner: OwnerInfo;
  /** The core, only when this process owns the directory. */
  readonly local: Core | null;
  invoke<C extends InvokeChannel>(channel: C, request: InvokeRequest<C>): Promise<InvokeResponse<C>>;
  on(channels: readonly EventChannel[], listener: EventListener): Promise<() => void>;
  /** Resumes and polls jobs in this process; nothing to do when an owner runs them. */
  runBackground(): Promise<void>;
  /** Called when the serving owner goes away. */
  onLost(fn: () => void): void;
  close(): Promise<void>;
}

export interface SessionOptions {
  dataDir: string;
  /** Names this process in the lock, e.g. "mkc replicate". */
  transport: string;
  secrets(dataDir: string): SecretStore;
  /** `mkc serve`: must own the directory; refuses when another process does. */
  mustOwn?: boolean;
  /** How long to wait for an owner that holds the lock but does not answer yet (it is starting). */
  waitMs?: number;
  /** Where unexpected handler failures are reported (dispatch answers only "failed unexpectedly"). */
  logger?: DispatchLogger;
}

const unwrap = <T>(r: Result<unknown>): T => {
  if (r.ok) return r.value as T;
  throw new AppError(r.error.code, r.error.message, r.error.details);
};

function servedSession(client: ControlClient): ConsoleSession {
  return {
    servedBy: 'owner',
    owner: { pid: client.owner.pid, since: client.owner.since, transport: client.owner.transport, hostname: '' },
    local: null,
    invoke: async (channel, request) => unwrap(await client.invoke(channel, request)),
    on: (channels, listener) => client.subscribe(channels, listener),
    runBackground: async () => {},
    onLost: (fn) => client.onClose(fn),
    close: async () => client.close(),
  };
}

async function ownSession(options: SessionOptions, lock: OwnerLock): Promise<ConsoleSession> {
  let core: Core | null = null;
  let server: ControlServer | null = null;
  try {
    core = new Core({ dataDir: options.dataDir, transport: 'cli', secrets: options.secrets(options.dataDir), owner: ownerPortOf(lock) });
    const handlers = createHandlers(core, { trigger: 'cli' });
    server = await startControlServer({
      socketPath: controlSocketPath(core.dataDir),
      handlers,
      bus: core.bus,
      hello: { pid: lock.info.pid, since: lock.info.since, transport: lock.info.transport, dataDir: core.dataDir },
      ...(options.logger ? { logger: options.logger } : {}),
    });
    const c = core;
    const s = server;
    return {
      servedBy: 'in-process',
      owner: lock.info,
      local: c,
      invoke: async (channel, request) => unwrap(await dispatch(handlers, channel, [request], options.logger)),
      on: async (channels, listener) => c.bus.subscribe((channel, payload) => channels.includes(channel) && listener(channel, payload)),
      // Schedules run only in a long-running owner (`mkc serve`, the app), never in a one-off command.
      runBackground: () => c.startBackground({ schedules: options.mustOwn === true }),
      onLost: () => {},
      close: async () => {
        try {
          await s.close();
          await c.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    await server?.close();
    if (core) await core.close();
    lock.release();
    throw e;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openSession(options: SessionOptions): Promise<ConsoleSession> {
  const socketPath = controlSocketPath(options.dataDir);
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  for (;;) {
    if (!options.mustOwn) {
      const client = await connectControl(socketPath).catch(() => null);
      if (client) return servedSession(client);
    }
    const r = tryAcquireOwnerLock(options.dataDir, options.transport);
    if (r.ok) return ownSession(options, r.lock);
    if (options.mustOwn) {
      throw new AppError('conflict', `${describeOwner(options.dataDir, r.owner)}. Only one process may own a data directory; \`mkc\` commands are served by it.`, { owner: r.owner });
    }
    // The owner took the lock but is still opening its control channel: ask again shortly.
    if (Date.now() > deadline) {
      throw new AppError('unreachable', `${describeOwner(options.dataDir, r.owner)}, but it does not answer on ${socketPath}.`, { owner: r.owner });
    }
    await sleep(100);
  }
}
