import fs from 'node:fs';
import net from 'node:net';
import { isEventChannel, type EventChannel } from '../../shared/contract';
import { dispatch, type DispatchLogger } from '../ipc/dispatch';
import type { EventBus } from '../ipc/event-bus';
import type { HandlerMap } from '../ipc/handler-types';
import { clientMessageSchema, lineReader, type HelloAnswer, type ServerMessage } from './control-protocol';

export interface ControlServerOptions {
  socketPath: string;
  handlers: HandlerMap;
  bus: EventBus;
  hello: HelloAnswer;
  logger?: DispatchLogger;
}

export interface ControlServer {
  readonly path: string;
  connectionCount(): number;
  close(): Promise<void>;
}

/** A client that stops reading is dropped rather than letting the owner buffer its events without bound. */
const MAX_PENDING_WRITE_BYTES = 16 * 1024 * 1024;

/**
 * Serves the owner's handler map on the control socket. Every request passes the same dispatch (channel
 * allowlist + zod schema) as IPC; events of the owner's bus are pushed to the clients that subscribed.
 * Call only while holding the owner lock: an existing socket file is removed as a leftover.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const clients = new Map<net.Socket, Set<EventChannel>>();
  const send = (socket: net.Socket, message: ServerMessage) => {
    if (socket.destroyed) return;
    if (socket.writableLength > MAX_PENDING_WRITE_BYTES) {
      socket.destroy();
      return;
    }
    socket.write(`${JSON.stringify(message)}\n`);
  };

  const unsubscribeBus = options.bus.subscribe((channel, payload) => {
    for (const [socket, channels] of clients) if (channels.has(channel)) send(socket, { event: channel, payload });
  });

  const server = net.createServer((socket) => {
    clients.set(socket, new Set());
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => socket.destroy());
    const handle = async (line: string) => {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        send(socket, { id: null, result: { ok: false, error: { code: 'validation', message: 'Control request is not JSON' } } });
        return;
      }
      const parsed = clientMessageSchema.safeParse(raw);
      if (!parsed.success) {
        send(socket, { id: null, result: { ok: false, error: { code: 'validation', message: 'Malformed control request' } } });
        return;
      }
      const m = parsed.data;
      if ('hello' in m) {
        send(socket, { id: m.id, result: { ok: true, value: options.hello } });
      } else if ('subscribe' in m) {
        const unknown = m.subscribe.filter((c) => !isEventChannel(c));
        if (unknown.length) {
          send(socket, { id: m.id, result: { ok: false, error: { code: 'validation', message: `Unknown event channel ${unknown.join(', ')}` } } });
          return;
        }
        clients.set(socket, new Set(m.subscribe as EventChannel[]));
        send(socket, { id: m.id, result: { ok: true, value: { subscribed: m.subscribe } } });
      } else {
        const result = await dispatch(options.handlers, m.invoke, m.request === undefined ? [] : [m.request], options.logger);
        send(socket, { id: m.id, result });
      }
    };
    socket.on(
      'data',
      lineReader(
        (line) => void handle(line),
        () => {
          send(socket, { id: null, result: { ok: false, error: { code: 'validation', message: 'Control request too large' } } });
          socket.end();
        },
      ),
    );
  });

  const isPipe = options.socketPath.startsWith('\\\\');
  if (!isPipe) fs.rmSync(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket is created by bind() inside listen(); the umask makes it 0600 from its first moment,
    // so no other user can connect in the gap before the chmod below.
    const previous = isPipe ? null : process.umask(0o177);
    try {
      server.listen(options.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      if (previous !== null) process.umask(previous);
    }
  });
  if (!isPipe) fs.chmodSync(options.socketPath, 0o600);

  let closed: Promise<void> | null = null;
  return {
    path: options.socketPath,
    connectionCount: () => clients.size,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        unsubscribeBus();
        server.close(() => resolve());
        for (const socket of clients.keys()) socket.destroy();
      }).then(() => {
        if (!isPipe) fs.rmSync(options.socketPath, { force: true });
      });
      return closed;
    },
  };
}
