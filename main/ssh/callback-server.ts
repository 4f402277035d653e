/**
 * Serves the change-ID callback API to the VMA over SSH remote-forward channels. The HTTP server
 * never listens: each channel the appliance opens is injected as a connection, so the API exists
 * only inside the tunnel and the workstation opens no port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { handleCallbackRequest, MAX_CALLBACK_BODY_BYTES, type ChangeIdStore } from './callback-api';
import type { RemoteForward, RemoteForwardStatus, SshTunnelManager, TunnelLogger } from './tunnel-manager';

export const DEFAULT_CALLBACK_PORT = 8082;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** A change-ID request is a few hundred bytes: one whose body has not arrived by then is refused. */
export const REQUEST_BODY_DEADLINE_MS = 10_000;

/**
 * Only the copier on the VMA itself may call back: a forwarded connection whose originator is not the
 * appliance's loopback came from elsewhere (the forward is bound to loopback, so this is defence in depth).
 */
export function isLoopbackOriginator(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || ip === '::1';
}

export interface CallbackServerOptions {
  /** Address on the appliance the forward listens on. Default 127.0.0.1 (local to the appliance). */
  bindAddress?: string;
  /** Port on the appliance (the VMA's `oma_url` port). Default 8082; 0 = chosen by the appliance. */
  port?: number;
  /** A channel with no traffic for this long is closed (the HTTP server's own timers need listen()). */
  idleTimeoutMs?: number;
  onForwardStatus?: (status: RemoteForwardStatus) => void;
  logger?: TunnelLogger;
}

export interface CallbackService {
  readonly server: Server;
  readonly forward: RemoteForward;
  /** Removes the remote forward and closes open callback connections. */
  close(): Promise<void>;
}

/** An HTTP server (not listening) that answers the callback API from `store`. */
export function createCallbackHttpServer(store: ChangeIdStore, logger?: TunnelLogger, bodyDeadlineMs = REQUEST_BODY_DEADLINE_MS): Server {
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    // A slow client holds nothing for long: the whole body within the deadline, or 408 and close.
    const deadline = setTimeout(() => {
      tooLarge = true;
      respond(response, 408, 'text/plain; charset=utf-8', 'Request body not received in time.\n', true);
      request.socket.destroy();
    }, bodyDeadlineMs);
    request.once('close', () => clearTimeout(deadline));
    request.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_CALLBACK_BODY_BYTES) {
        tooLarge = true;
        respond(response, 413, 'text/plain; charset=utf-8', `Request body exceeds ${MAX_CALLBACK_BODY_BYTES} bytes.\n`, true);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      clearTimeout(deadline);
      if (tooLarge) return;
      const result = handleCallbackRequest(
        store,
        { method: request.method ?? 'GET', url: request.url ?? '/', body: Buffer.concat(chunks).toString('utf8') },
        (error) => logger?.warn('change ID store failed', { message: (error as Error)?.message ?? String(error) }),
      );
      respond(response, result.status, result.contentType, result.body, false);
    });
  });
}

function respond(response: ServerResponse, status: number, contentType: string, body: string, close: boolean): void {
  const headers: Record<string, string | number> = {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  };
  if (close) headers.connection = 'close';
  response.writeHead(status, headers);
  response.end(body);
}

/** Inject a tunnel channel into the server as an HTTP connection, with an idle timeout. */
function injectConnection(server: Server, stream: Duplex, idleTimeoutMs: number, open: Set<Duplex>): void {
  open.add(stream);
  let timer: NodeJS.Timeout | null = null;
  const arm = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => stream.destroy(), idleTimeoutMs);
  };
  arm();
  stream.on('data', arm);
  stream.once('close', () => {
    if (timer !== null) clearTimeout(timer);
    open.delete(stream);
  });
  server.emit('connection', stream);
}

/**
 * Requests the remote forward on the appliance (again after every reconnect, by the manager)
 * and serves the callback API on every channel it brings in.
 */
export function serveCallbackApi(manager: SshTunnelManager, store: ChangeIdStore, options: CallbackServerOptions = {}): CallbackService {
  const server = createCallbackHttpServer(store, options.logger);
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const open = new Set<Duplex>();
  const forwardOptions: Parameters<SshTunnelManager['addRemoteForward']>[0] = {
    bindAddress: options.bindAddress ?? '127.0.0.1',
    bindPort: options.port ?? DEFAULT_CALLBACK_PORT,
    onConnection: (stream, details) => {
      if (!isLoopbackOriginator(details.srcIP)) {
        options.logger?.warn('callback connection refused: its originator is not loopback on the appliance', { srcIP: details.srcIP });
        stream.destroy();
        return;
      }
      injectConnection(server, stream, idleTimeoutMs, open);
    },
  };
  if (options.onForwardStatus !== undefined) forwardOptions.onStatus = options.onForwardStatus;
  const forward = manager.addRemoteForward(forwardOptions);
  return {
    server,
    forward,
    async close() {
      await forward.remove();
      for (const stream of open) stream.destroy();
      open.clear();
    },
  };
}
