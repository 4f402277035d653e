// Picks the transport once at start-up; the rest of the app only sees ConsoleApi.
import type { ConsoleApi } from '../../../shared/contract';
import { DevBridgeTransport, devBridgeUrl, readTokenFromHash } from './dev-bridge-transport';
import { electronTransport } from './electron-transport';

let instance: ConsoleApi | null = null;

export function api(): ConsoleApi {
  if (!instance) {
    instance = window.mkc
      ? electronTransport(window.mkc)
      : new DevBridgeTransport(devBridgeUrl(window.location), readTokenFromHash(window.location.hash));
  }
  return instance;
}
