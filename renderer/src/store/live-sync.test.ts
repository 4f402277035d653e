import { describe, expect, it, vi } from 'vitest';
import type { ConsoleApi, EventChannel, EventPayload } from '../../../shared/contract';
import { FIRST_PAGE_ROWS, startLiveSync } from './live-sync';
import { useUi } from './ui-store';
import { useLive, liveActions } from './contexts-store';
import { useConnection } from '../transport/connection';
import type { VmContextSummary } from '../../../shared/domain';

function fakeApi() {
  const listeners = new Map<string, ((p: unknown) => void)[]>();
  const api: ConsoleApi = {
    invoke: async () => ({ ok: false, error: { code: 'not_available', message: 'not in this test' } }),
    on: (channel, listener) => {
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener as (p: unknown) => void]);
      return () => listeners.set(channel, (listeners.get(channel) ?? []).filter((l) => l !== listener));
    },
  };
  const emit = <C extends EventChannel>(c: C, p: EventPayload<C>) => (listeners.get(c) ?? []).forEach((l) => l(p));
  return { api, emit };
}

describe('startLiveSync', () => {
  it('shows the VM the desktop shell asks for (a clicked notification or tray item), until stopped', () => {
    useUi.setState({ screen: 'settings', selectedContextId: null });
    const { api, emit } = fakeApi();
    const stop = startLiveSync(api);
    emit('app:open', { vmContextId: 'ctx-7', jobId: 'job-3' });
    expect(useUi.getState()).toMatchObject({ screen: 'vms', selectedContextId: 'ctx-7' });
    stop();
    useUi.setState({ screen: 'logs', selectedContextId: null });
    emit('app:open', { vmContextId: 'ctx-8', jobId: null });
    expect(useUi.getState()).toMatchObject({ screen: 'logs', selectedContextId: null });
  });

  it('paints from the first page, asks for the full list only once the page is in, and skips the page on a reconnect', async () => {
    liveActions.reset();
    useConnection.setState({ generation: 1 });
    const vm = (id: string, name: string) => ({ id, name, status: 'discovered', enabled: true, lastSuccessfulSyncAt: null, replicaTornJobId: null, updatedAt: 't' }) as unknown as VmContextSummary;
    const calls: string[] = [];
    const seenAtListCall: boolean[] = [];
    const api: ConsoleApi = {
      invoke: (async (channel: string, request: unknown) => {
        calls.push(channel);
        if (channel === 'contexts:page') {
          expect(request).toEqual({ limit: FIRST_PAGE_ROWS });
          return { ok: true, value: { offset: 0, contexts: [vm('a', 'vm-1')], counts: { total: 2, attention: 0, byDisplayStatus: { discovered: 2 } } } };
        }
        if (channel === 'contexts:list') {
          seenAtListCall.push(useLive.getState().contextsPartial !== null);
          return { ok: true, value: [vm('b', 'vm-2'), vm('a', 'vm-1')] };
        }
        return { ok: true, value: [] };
      }) as ConsoleApi['invoke'],
      on: () => () => undefined,
    };
    const stop = startLiveSync(api);
    await vi.waitFor(() => expect(useLive.getState().contextIds).toEqual(['a', 'b']));
    expect(calls.indexOf('contexts:page')).toBeLessThan(calls.indexOf('contexts:list'));
    expect(seenAtListCall).toEqual([true]);
    expect(useLive.getState().contextsPartial).toBeNull();
    calls.length = 0;
    useConnection.setState({ generation: 2 });
    await vi.waitFor(() => expect(calls).toContain('contexts:list'));
    expect(calls).not.toContain('contexts:page');
    stop();
  });

  it('asks for the first page before the transport is connected, and loads again on the first connection only if that was lost', async () => {
    const calls: string[] = [];
    let reachable = true;
    const api: ConsoleApi = {
      invoke: (async (channel: string) => {
        calls.push(channel);
        if (!reachable) return { ok: false, error: { code: 'unreachable', message: 'lost' } };
        if (channel === 'contexts:page') return { ok: true, value: { offset: 0, contexts: [], counts: { total: 0, attention: 0, byDisplayStatus: {} } } };
        return { ok: true, value: [] };
      }) as ConsoleApi['invoke'],
      on: () => () => undefined,
    };
    liveActions.reset();
    useConnection.setState({ generation: 0 });
    let stop = startLiveSync(api);
    expect(calls[0]).toBe('contexts:page');
    await vi.waitFor(() => expect(calls).toContain('contexts:list'));
    calls.length = 0;
    useConnection.setState({ generation: 1 });
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual([]);
    stop();

    liveActions.reset();
    reachable = false;
    useConnection.setState({ generation: 0 });
    stop = startLiveSync(api);
    await vi.waitFor(() => expect(calls).toContain('contexts:list'));
    await new Promise((r) => setTimeout(r, 0));
    calls.length = 0;
    reachable = true;
    useConnection.setState({ generation: 1 });
    await vi.waitFor(() => expect(calls).toContain('contexts:list'));
    expect(calls[0]).toBe('contexts:page');
    stop();
  });
});
