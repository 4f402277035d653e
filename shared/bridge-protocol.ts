// Messages of the loopback dev bridge (renderer in a normal browser ⇄ headless core over WebSocket).
// The page is served at http://127.0.0.1:<port>/#token=<token>; the socket is /bridge on the same
// origin and must say hello with the token before anything else, or it is closed. Requests may follow
// the hello at once, without waiting for 'ready' (the page asks for its first rows that way); the
// bridge answers them only after a good hello and never reads them after a bad one.
import type { EventChannel, EventMap, InvokeChannel } from './contract';
import type { Result } from './errors';

export const BRIDGE_PATH = '/bridge';

export type BridgeClientMessage =
  | { type: 'hello'; token: string }
  | { type: 'invoke'; id: number; channel: InvokeChannel; request: unknown };

export type BridgeServerMessage =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: Result<unknown> }
  | { [C in EventChannel]: { type: 'event'; channel: C; payload: EventMap[C] } }[EventChannel];

/** Close code the bridge uses for a wrong or missing token. */
export const BRIDGE_CLOSE_UNAUTHORIZED = 4401;
