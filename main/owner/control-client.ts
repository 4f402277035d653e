import net from 'node:net';
import { isEventChannel, type EventChannel } from '../../shared/contract';
import { AppError, type Result } from '../../shared/errors';
import { lineReader, type HelloAnswer } from './control-protocol';

export type EventListener = (channel: EventChannel, payload: unknown) => void;

export interface ControlClient {
  readonly owner: HelloAnswer;
  invoke(channel: string, request: unknown): Promise<Result<unknown>>;
  /** Adds channels to this connection's subscription; `listener` receives every pushed event. */
  subscribe(channels: readonly EventChannel[], listener: EventListener): Promise<() => void>;
  /** Called once when the owner goes away (it stopped, or it was killed). */
  onClose(fn: () => void): void;
  readonly closed: boolean;
  close(): void;
}

const NOBODY_LISTENS = new Set(['ENOENT', 'ECONNREFUSED']);

/**
 * Connects to the owner's control channel. Resolves null when nobody serves it (no socket file, or a
 * leftover file of a dead owner), so the caller can become the owner itself.
 */
export async function connectControl(socketPath: string): Promise<ControlClient | null> {
  const socket = await new Promise<net.Socket | null>((resolve, reject) => {
    const s = net.createConnection(socketPath);
    s.once('connect', () => {
      s.off('error', onError);
      resolve(s);
    });
    const onError = (e: NodeJS.ErrnoException) => (NOBODY_LISTENS.has(e.code ?? '') ? resolve(null) : reject(e));
    s.once('error', onError);
  });
  if (!socket) return null;

  let nextId = 1;
  let closed = false;
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const listeners = new Set<EventListener>();
  const subscribed = new Set<EventChannel>();
  const closeFns: (() => void)[] = [];

  const lost = (): Result<never> => ({ ok: false, error: { code: 'unreachable', message: 'The owner of the data directory went away before answering' } });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    for (const resolve of pending.values()) resolve(lost());
    pending.clear();
    for (const fn of closeFns) fn();
  });
  socket.on(
    'data',
    lineReader(
      (line) => {
        let m: { id?: number | null; result?: Result<unknown>; event?: unknown; payload?: unknown };
        try {
          m = JSON.parse(line);
        } catch {
          return;
        }
        if (typeof m.id === 'number' && m.result) {
          pending.get(m.id)?.(m.result);
          pending.delete(m.id);
        } else if (isEventChannel(m.event)) {
          for (const l of listeners) l(m.event, m.payload);
        }
      },
      () => socket.destroy(),
    ),
  );

  const request = (message: Record<string, unknown>): Promise<Result<unknown>> => {
    if (closed) return Promise.resolve(lost());
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      socket.write(`${JSON.stringify({ id, ...message })}\n`);
    });
  };

  const hello = await request({ hello: true });
  if (!hello.ok) {
    socket.destroy();
    throw new AppError(hello.error.code, hello.error.message);
  }

  return {
    owner: hello.value as HelloAnswer,
    invoke: (channel, req) => request(req === undefined ? { invoke: channel } : { invoke: channel, request: req }),
    subscribe: async (channels, listener) => {
      for (const c of channels) subscribed.add(c);
      listeners.add(listener);
      const r = await request({ subscribe: [...subscribed] });
      if (!r.ok) throw new AppError(r.error.code, r.error.message);
      return () => listeners.delete(listener);
    },
    onClose: (fn) => {
      if (closed) fn();
      else closeFns.push(fn);
    },
    get closed() {
      return closed;
    },
    close: () => {
      closed = true;
      socket.destroy();
      for (const resolve of pending.values()) resolve(lost());
      pending.clear();
    },
  };
}
