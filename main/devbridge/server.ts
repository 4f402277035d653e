import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Core } from '../core/core';
import { createHandlers } from '../ipc/handlers/index';
import { dispatch } from '../ipc/dispatch';
import type { HandlerMap } from '../ipc/handler-types';
import { BRIDGE_CLOSE_UNAUTHORIZED, BRIDGE_PATH, type BridgeClientMessage, type BridgeServerMessage } from '../../shared/bridge-protocol';
import { resolveStatic } from './static-files';

export interface DevBridgeOptions {
  core: Core;
  staticDir: string;
  /** Only loopback is allowed: the bridge is a development tool. */
  host?: '127.0.0.1';
  port?: number;
  handlers?: HandlerMap;
}

export interface DevBridge {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws://127.0.0.1:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The loopback dev bridge: serves the built renderer and the same handler map as Electron IPC over
 * a WebSocket. A random token per start must be presented first; the Host and Origin headers must be
 * this loopback origin so other pages in the browser cannot drive the core.
 */
export async function startDevBridge(options: DevBridgeOptions): Promise<DevBridge> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error('The dev bridge binds to 127.0.0.1 only');
  const staticDir = path.resolve(options.staticDir);
  if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
    throw new Error(`The renderer is not built: ${staticDir}/index.html is missing (run npm run build)`);
  }
  const handlers = options.handlers ?? createHandlers(options.core);
  const token = randomBytes(24).toString('base64url');
  let origin = '';

  const server = http.createServer((req, res) => {
    if (req.headers.host !== origin.replace('http://', '')) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('wrong host\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const found = resolveStatic(staticDir, req.url ?? '/');
    if (!found) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': found.type,
      'cache-control': 'no-store',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(found.file).pipe(res);
  });

  // One message per tick: requests that arrive together (a page's first requests are sent in one go)
  // would otherwise all run before any answer leaves, since each answer is sent from a promise
  // continuation that waits for the whole batch. With this, a quick first page is answered before a
  // slow request queued behind it (renderer/src/store/live-sync.ts) starts.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024, allowSynchronousEvents: false });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const okPath = (req.url ?? '').split('?')[0] === BRIDGE_PATH;
    const okOrigin = req.headers.origin === origin && req.headers.host === origin.replace('http://', '');
    if (!okPath || !okOrigin) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const send = (ws: WebSocket, msg: BridgeServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };

  function attach(ws: WebSocket) {
    let authed = false;
    const helloTimer = setTimeout(() => ws.close(BRIDGE_CLOSE_UNAUTHORIZED, 'no hello'), 5000);
    let unsubscribe: (() => void) | null = null;
    ws.on('message', async (data) => {
      let msg: BridgeClientMessage;
      try {
        msg = JSON.parse(String(data)) as BridgeClientMessage;
      } catch {
        ws.close(1003, 'bad json');
        return;
      }
      // The hello is checked synchronously, before the next message is read (one message per tick,
      // above): requests a page sends right behind its hello are answered once it is accepted, and
      // after a wrong one the socket is closed and they are never read.
      if (!authed) {
        if (msg?.type === 'hello' && typeof msg.token === 'string' && tokensEqual(msg.token, token)) {
          authed = true;
          clearTimeout(helloTimer);
          sockets.add(ws);
          unsubscribe = options.core.bus.subscribe((channel, payload) =>
            send(ws, { type: 'event', channel, payload } as BridgeServerMessage),
          );
          send(ws, { type: 'ready' });
        } else {
          ws.close(BRIDGE_CLOSE_UNAUTHORIZED, 'unauthorised');
        }
        return;
      }
      if (msg?.type === 'invoke' && Number.isInteger(msg.id)) {
        const result = await dispatch(handlers, msg.channel, [msg.request], options.core.logger);
        send(ws, { type: 'result', id: msg.id, result });
      } else {
        ws.close(1008, 'unknown message');
      }
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      sockets.delete(ws);
      unsubscribe?.();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  origin = `http://${host}:${port}`;
  return {
    url: `${origin}/#token=${token}`,
    port,
    token,
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      // An open page keeps keep-alive connections (and reconnect attempts) that would hold close() open.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
