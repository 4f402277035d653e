import { describe, expect, it } from 'vitest';
import type { IpcMainInvokeEvent } from 'electron';
import { INVOKE_CHANNELS, type EventChannel } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import { EventBus } from '../ipc/event-bus';
import type { HandlerMap } from '../ipc/handler-types';
import { forwardBusEvents, registerIpcBridge, type IpcMainLike } from './ipc-bridge';
import type { TrustedRenderer } from './sender-check';

type Listener = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>;

const rendererUrl = 'file:///app/dist/renderer/index.html';
const trusted: TrustedRenderer = { webContentsId: 1, mainFrame: { processId: 2, routingId: 3 }, rendererUrl };

function fakeEvent(opts: { url?: string; parent?: object | null; webContentsId?: number; frameGone?: boolean } = {}): IpcMainInvokeEvent {
  const frame = opts.frameGone
    ? null
    : { url: opts.url ?? rendererUrl, parent: opts.parent ?? null, processId: 2, routingId: 3 };
  return { sender: { id: opts.webContentsId ?? 1 }, senderFrame: frame } as unknown as IpcMainInvokeEvent;
}

function setup(trust: () => TrustedRenderer | null = () => trusted) {
  const handled = new Map<string, Listener>();
  const ipcMain: IpcMainLike = {
    handle: (c, l) => {
      if (handled.has(c)) throw new Error(`second handler for ${c}`);
      handled.set(c, l);
    },
    removeHandler: (c) => handled.delete(c),
  };
  const calls: { channel: string; request: unknown }[] = [];
  const handlers = Object.fromEntries(
    INVOKE_CHANNELS.map((c) => [
      c,
      (request: unknown) => {
        calls.push({ channel: c, request });
        if (c === 'jobs:cancel') throw new AppError('conflict', 'job already finished');
        return { served: c };
      },
    ]),
  ) as unknown as HandlerMap;
  const warnings: unknown[] = [];
  const dispose = registerIpcBridge({
    ipcMain,
    handlers,
    trustedRenderer: trust,
    logger: { warn: (m, d) => warnings.push({ m, d }), error: () => undefined },
  });
  const call = (channel: string, event: IpcMainInvokeEvent, ...args: unknown[]) => handled.get(channel)!(event, ...args);
  return { handled, calls, warnings, dispose, call };
}

describe('registerIpcBridge', () => {
  it('registers exactly the contract channels and unregisters them', () => {
    const s = setup();
    expect([...s.handled.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
    s.dispose();
    expect(s.handled.size).toBe(0);
  });

  it('dispatches trusted calls with validation and the Result shape', async () => {
    const s = setup();
    expect(await s.call('contexts:get', fakeEvent(), { id: 'ctx-1' })).toEqual({ ok: true, value: { served: 'contexts:get' } });
    expect(s.calls).toEqual([{ channel: 'contexts:get', request: { id: 'ctx-1' } }]);
    expect(await s.call('contexts:get', fakeEvent(), { id: '' })).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(await s.call('jobs:cancel', fakeEvent(), { id: 'j' })).toEqual({ ok: false, error: { code: 'conflict', message: 'job already finished' } });
    expect(s.calls).toHaveLength(2);
  });

  it.each([
    ['a subframe', fakeEvent({ parent: {} })],
    ['another page', fakeEvent({ url: 'file:///tmp/x.html' })],
    ['another webContents', fakeEvent({ webContentsId: 99 })],
    ['a vanished frame', fakeEvent({ frameGone: true })],
  ])('answers %s with an auth Result and never runs the handler', async (_name, event) => {
    const s = setup();
    const res = await s.call('app:info', event, {});
    expect(res).toMatchObject({ ok: false, error: { code: 'auth' } });
    expect(s.calls).toEqual([]);
    expect(s.warnings).toHaveLength(1);
  });

  it('refuses everything while there is no window', async () => {
    const s = setup(() => null);
    expect(await s.call('app:info', fakeEvent(), {})).toMatchObject({ ok: false, error: { code: 'auth' } });
  });

  it('treats a throwing senderFrame getter as a vanished frame', async () => {
    const s = setup();
    const event = { sender: { id: 1 }, get senderFrame() { throw new Error('frame disposed'); } } as unknown as IpcMainInvokeEvent;
    expect(await s.call('app:info', event, {})).toMatchObject({ ok: false, error: { code: 'auth' } });
  });
});

describe('forwardBusEvents', () => {
  it('sends flushed bus events to the window and stops after unsubscribe', () => {
    const bus = new EventBus({ setTimer: () => 0 });
    const sent: { channel: EventChannel; payload: unknown }[] = [];
    const off = forwardBusEvents(bus, (channel, payload) => sent.push({ channel, payload }));
    bus.emit('tunnels:state', { states: [] });
    bus.flush();
    expect(sent).toEqual([{ channel: 'tunnels:state', payload: { states: [] } }]);
    off();
    bus.emit('tunnels:state', { states: [] });
    bus.flush();
    expect(sent).toHaveLength(1);
  });
});
