// The dev bridge: the same ConsoleApi over a loopback WebSocket, for running the renderer in a normal
// browser against a headless core. The socket reconnects with backoff; a wrong token is final.
import type { ConsoleApi, EventChannel, EventPayload, InvokeChannel, InvokeRequest, InvokeResponse } from '../../../shared/contract';
import {
  BRIDGE_CLOSE_UNAUTHORIZED,
  BRIDGE_PATH,
  type BridgeClientMessage,
  type BridgeServerMessage,
} from '../../../shared/bridge-protocol';
import type { AppErrorShape, Result } from '../../../shared/errors';
import { setConnection, useConnection } from './connection';

type Listener = (payload: unknown) => void;
interface Pending {
  resolve: (r: Result<unknown>) => void;
}
interface Queued extends Pending {
  channel: InvokeChannel;
  request: unknown;
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

export function readTokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  return token && token.length > 0 ? token : null;
}

const failure = (error: AppErrorShape): Result<never> => ({ ok: false, error });

export class DevBridgeTransport implements ConsoleApi {
  private socket: WebSocket | null = null;
  /** The hello is sent on this socket: requests may follow it at once (the bridge reads them in order). */
  private helloSent = false;
  private ready = false;
  private refused: AppErrorShape | null = null;
  private nextId = 1;
  private attempt = 0;
  private readonly pending = new Map<number, Pending>();
  private queue: Queued[] = [];
  private readonly listeners = new Map<EventChannel, Set<Listener>>();

  constructor(
    private readonly url: string,
    private readonly token: string | null,
  ) {
    setConnection({ transport: 'dev-bridge', phase: 'connecting', detail: null, nextAttemptAt: null });
    if (!token) {
      this.refuse('This page was opened without an access token. Open the address the dev bridge printed (it ends in #token=…).');
      return;
    }
    this.connect();
  }

  invoke<C extends InvokeChannel>(channel: C, request: InvokeRequest<C>): Promise<Result<InvokeResponse<C>>> {
    if (this.refused) return Promise.resolve(failure(this.refused));
    // While the core is away a request is refused at once rather than left waiting ("Starting…" forever);
    // only the first connect queues, since the page has not seen the core yet.
    if (!this.ready && useConnection.getState().phase === 'reconnecting') {
      return Promise.resolve(failure({ code: 'unreachable', message: 'The console core is unreachable right now; nothing was sent. Try again once it is back.' }));
    }
    return new Promise<Result<InvokeResponse<C>>>((resolve) => {
      const entry: Queued = { channel, request, resolve: resolve as (r: Result<unknown>) => void };
      if (this.helloSent) this.send(entry);
      else this.queue.push(entry);
    });
  }

  on<C extends EventChannel>(channel: C, listener: (payload: EventPayload<C>) => void): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  private send(entry: Queued): void {
    const id = this.nextId++;
    this.pending.set(id, entry);
    const msg: BridgeClientMessage = { type: 'invoke', id, channel: entry.channel, request: entry.request };
    this.socket?.send(JSON.stringify(msg));
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.socket = ws;
    ws.onopen = () => {
      const hello: BridgeClientMessage = { type: 'hello', token: this.token ?? '' };
      ws.send(JSON.stringify(hello));
      this.helloSent = true;
      // What the page asked for before the socket was open (the first page of the VM table, sent by the
      // entry before React is loaded) goes right behind the hello, without waiting a round trip for
      // 'ready': the bridge answers nothing before a good hello and closes the socket after a bad one.
      const queued = this.queue;
      this.queue = [];
      for (const q of queued) this.send(q);
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = (ev) => this.onClose(ev.code, ev.reason);
  }

  private onMessage(data: unknown): void {
    let msg: BridgeServerMessage;
    try {
      msg = JSON.parse(String(data)) as BridgeServerMessage;
    } catch {
      return;
    }
    if (msg.type === 'ready') {
      this.ready = true;
      this.attempt = 0;
      setConnection({
        phase: 'connected',
        detail: null,
        nextAttemptAt: null,
        generation: useConnection.getState().generation + 1,
      });
    } else if (msg.type === 'result') {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        p.resolve(msg.result);
      }
    } else if (msg.type === 'event') {
      for (const l of this.listeners.get(msg.channel) ?? []) {
        try {
          l(msg.payload);
        } catch (e) {
          console.error(`listener for ${msg.channel} failed`, e);
        }
      }
    }
  }

  private onClose(code: number, reason: string): void {
    this.ready = false;
    this.helloSent = false;
    this.socket = null;
    if (code === BRIDGE_CLOSE_UNAUTHORIZED) {
      // Requests sent behind the refused hello were never carried out: they fail with the refusal.
      this.refuse('The core refused this page: its access token is wrong or expired. Open the address the dev bridge printed.');
      return;
    }
    const lost: AppErrorShape = {
      code: 'unreachable',
      message: 'The connection to the core was lost before it answered; the request may or may not have been carried out.',
    };
    for (const p of this.pending.values()) p.resolve(failure(lost));
    this.pending.clear();
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? 15000;
    this.attempt++;
    setConnection({
      phase: 'reconnecting',
      detail: reason ? `Connection closed (${code}: ${reason})` : `Connection closed (${code})`,
      nextAttemptAt: new Date(Date.now() + delay).toISOString(),
    });
    setTimeout(() => this.connect(), delay);
  }

  private refuse(message: string): void {
    this.refused = { code: 'auth', message };
    setConnection({ phase: 'unauthorised', detail: message, nextAttemptAt: null });
    for (const q of [...this.queue, ...this.pending.values()]) q.resolve(failure(this.refused));
    this.queue = [];
    this.pending.clear();
  }
}

export function devBridgeUrl(location: Location): string {
  return `${location.origin.replace(/^http/, 'ws')}${BRIDGE_PATH}`;
}
