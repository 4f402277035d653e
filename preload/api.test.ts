import { describe, expect, it } from 'vitest';
import { EVENT_CHANNELS, INVOKE_CHANNELS, type ConsoleApi } from '../shared/contract';
import { createPreloadApi, type IpcRendererLike } from './api';

type Listener = (event: unknown, ...args: unknown[]) => void;

// Behaves like ipcRenderer: listeners per channel, `emit` plays the main process sending an event.
function fakeIpc(answer: (channel: string, args: unknown[]) => Promise<unknown> = async () => ({ ok: true, value: 'pong' })) {
  const listeners = new Map<string, Set<Listener>>();
  const invocations: { channel: string; args: unknown[] }[] = [];
  const ipc: IpcRendererLike & { emit(channel: string, payload: unknown): void; count(channel: string): number } = {
    invoke: (channel, ...args) => {
      invocations.push({ channel, args });
      return answer(channel, args);
    },
    on: (channel, l) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(l);
    },
    removeListener: (channel, l) => listeners.get(channel)?.delete(l),
    emit: (channel, payload) => {
      const event = { sender: { send: () => undefined }, senderId: 0, ports: [] };
      for (const l of listeners.get(channel) ?? []) l(event, payload);
    },
    count: (channel) => listeners.get(channel)?.size ?? 0,
  };
  return { ipc, invocations };
}

describe('createPreloadApi', () => {
  it('exposes only invoke and on, frozen', () => {
    const api = createPreloadApi(fakeIpc().ipc);
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on']);
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('forwards allowlisted channels with exactly one request argument', async () => {
    const { ipc, invocations } = fakeIpc();
    const api = createPreloadApi(ipc);
    const res = await api.invoke('contexts:get', { id: 'ctx-1' });
    expect(res).toEqual({ ok: true, value: 'pong' });
    expect(invocations).toEqual([{ channel: 'contexts:get', args: [{ id: 'ctx-1' }] }]);
  });

  it('refuses channels outside INVOKE_CHANNELS without touching ipc', async () => {
    const { ipc, invocations } = fakeIpc();
    const api = createPreloadApi(ipc) as unknown as { invoke(c: string, r: unknown): Promise<unknown> };
    for (const bad of ['shell:openExternal', 'contexts:changed', '__proto__', 'toString', '']) {
      expect(await api.invoke(bad, {})).toMatchObject({ ok: false, error: { code: 'validation' } });
    }
    expect(invocations).toEqual([]);
    expect(INVOKE_CHANNELS).toContain('app:info');
  });

  it('turns an ipc rejection into a Result error', async () => {
    const { ipc } = fakeIpc(async () => {
      throw new Error("No handler registered for 'app:info'");
    });
    const res = await createPreloadApi(ipc).invoke('app:info', {});
    expect(res).toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  it('delivers only the payload to listeners, never the ipc event', () => {
    const { ipc } = fakeIpc();
    const api: ConsoleApi = createPreloadApi(ipc);
    const received: unknown[][] = [];
    api.on('jobs:progress', (...args: unknown[]) => received.push(args));
    const payload = { updates: [] };
    ipc.emit('jobs:progress', payload);
    expect(received).toEqual([[payload]]);
    expect(received[0]).toHaveLength(1);
  });

  it('unsubscribes, and unsubscribing twice is harmless', () => {
    const { ipc } = fakeIpc();
    const api = createPreloadApi(ipc);
    let calls = 0;
    const off = api.on('logs:appended', () => calls++);
    const other = api.on('logs:appended', () => calls++);
    ipc.emit('logs:appended', { events: [] });
    expect(calls).toBe(2);
    off();
    off();
    expect(ipc.count('logs:appended')).toBe(1);
    ipc.emit('logs:appended', { events: [] });
    expect(calls).toBe(3);
    other();
    expect(ipc.count('logs:appended')).toBe(0);
  });

  it('refuses event channels outside EVENT_CHANNELS and non-function listeners', () => {
    const { ipc } = fakeIpc();
    const api = createPreloadApi(ipc) as unknown as { on(c: string, l: unknown): () => void };
    expect(() => api.on('app:info', () => undefined)).toThrow(/Unknown event channel/);
    expect(() => api.on('ELECTRON_BROWSER_REQUIRE', () => undefined)).toThrow(/Unknown event channel/);
    expect(() => api.on(EVENT_CHANNELS[0]!, 'not a function')).toThrow(/must be a function/);
    for (const c of ['app:info', 'ELECTRON_BROWSER_REQUIRE', EVENT_CHANNELS[0]!]) expect(ipc.count(c)).toBe(0);
  });
});
