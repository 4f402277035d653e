import type { ConsoleApi } from '../../../shared/contract';
import { setConnection } from './connection';

declare global {
  interface Window {
    /** Exposed by the Electron preload (contextBridge); absent in a plain browser. */
    mkc?: ConsoleApi;
  }
}

/** The preload's API is already a ConsoleApi; IPC has no connection to lose. */
export function electronTransport(api: ConsoleApi): ConsoleApi {
  setConnection({ transport: 'electron', phase: 'connected', detail: null, nextAttemptAt: null, generation: 1 });
  return api;
}
