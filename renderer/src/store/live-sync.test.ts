import { describe, expect, it } from 'vitest';
import type { ConsoleApi, EventChannel, EventPayload } from '../../../shared/contract';
import { startLiveSync } from './live-sync';
import { useUi } from './ui-store';

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
});
