import { isEventChannel, isInvokeChannel } from '../shared/channels';
import {
  type ConsoleApi,
  type EventChannel,
  type EventPayload,
  type InvokeChannel,
  type InvokeRequest,
  type InvokeResponse,
} from '../shared/contract';
import type { Result } from '../shared/errors';

type IpcListener = (event: unknown, ...args: unknown[]) => void;

/** The part of Electron's ipcRenderer the preload uses; a fake stands in for it in tests. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: IpcListener): unknown;
  removeListener(channel: string, listener: IpcListener): unknown;
}

const describeChannel = (c: unknown) => JSON.stringify(String(c)).slice(0, 80);

/**
 * The whole renderer-facing API: an allowlisted `invoke` that always resolves to the Result shape
 * and an allowlisted `on` whose listener gets only the payload (never the IpcRendererEvent, which
 * would hand the page `sender` and with it every channel).
 */
export function createPreloadApi(ipc: IpcRendererLike): ConsoleApi {
  const invoke = async <C extends InvokeChannel>(channel: C, request: InvokeRequest<C>): Promise<Result<InvokeResponse<C>>> => {
    if (!isInvokeChannel(channel)) {
      return { ok: false, error: { code: 'validation', message: `Unknown channel ${describeChannel(channel)}` } };
    }
    try {
      return (await ipc.invoke(channel, request)) as Result<InvokeResponse<C>>;
    } catch {
      // The main process answers with a Result even on failure, so a rejection means the channel
      // is not served (e.g. the core failed to start); details stay in the main process log.
      return { ok: false, error: { code: 'internal', message: `${channel} could not reach the console core` } };
    }
  };

  const on = <C extends EventChannel>(channel: C, listener: (payload: EventPayload<C>) => void): (() => void) => {
    if (!isEventChannel(channel)) throw new Error(`Unknown event channel ${describeChannel(channel)}`);
    if (typeof listener !== 'function') throw new Error(`The listener for ${channel} must be a function`);
    const wrapped: IpcListener = (_event, payload) => listener(payload as EventPayload<C>);
    ipc.on(channel, wrapped);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      ipc.removeListener(channel, wrapped);
    };
  };

  return Object.freeze({ invoke, on });
}
