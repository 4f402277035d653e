// The one place Electron IPC meets the handler map. Only electron *types* are imported, so the
// registration itself is unit tested with a fake ipcMain.
import type { IpcMainInvokeEvent } from 'electron';
import { INVOKE_CHANNELS, isEventChannel, type EventChannel, type EventPayload } from '../../shared/contract';
import type { Result } from '../../shared/errors';
import type { AppLogger } from '../base/app-log';
import type { EventBus } from '../ipc/event-bus';
import { dispatch } from '../ipc/dispatch';
import type { HandlerMap } from '../ipc/handler-types';
import { checkIpcSender, type IpcSenderInfo, type TrustedRenderer } from './sender-check';

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface IpcBridgeOptions {
  ipcMain: IpcMainLike;
  handlers: HandlerMap;
  /** Read on every message, so it follows the window being re-created or closed. */
  trustedRenderer: () => TrustedRenderer | null;
  logger?: Pick<AppLogger, 'warn' | 'error'>;
}

/** Plain data about who sent an IPC message; a destroyed frame reads as `frame: null`. */
export function describeSender(event: IpcMainInvokeEvent): IpcSenderInfo {
  let frame: IpcSenderInfo['frame'] = null;
  try {
    const f = event.senderFrame;
    if (f) frame = { url: f.url, isMainFrame: f.parent === null, processId: f.processId, routingId: f.routingId };
  } catch {
    frame = null;
  }
  return { webContentsId: event.sender.id, frame };
}

/** Registers every invoke channel; returns a function that unregisters them. */
export function registerIpcBridge(options: IpcBridgeOptions): () => void {
  const { ipcMain, handlers, trustedRenderer, logger } = options;
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, async (event, ...args): Promise<Result<unknown>> => {
      const verdict = checkIpcSender(describeSender(event), trustedRenderer());
      if (!verdict.trusted) {
        logger?.warn('refused an IPC call from an untrusted sender', { channel, reason: verdict.reason });
        return { ok: false, error: { code: 'auth', message: `Refused ${channel}: ${verdict.reason}` } };
      }
      return dispatch(handlers, channel, args, logger);
    });
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}

/** Pushes bus events to a window; only contract event channels ever leave the main process. */
export function forwardBusEvents(
  bus: Pick<EventBus, 'subscribe'>,
  send: <C extends EventChannel>(channel: C, payload: EventPayload<C>) => void,
): () => void {
  return bus.subscribe((channel, payload) => {
    if (isEventChannel(channel)) send(channel, payload);
  });
}
