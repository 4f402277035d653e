import { describe, expect, it } from 'vitest';
import { describeShutdownReport, realAfter, runShutdown, type ShutdownStep } from './shutdown';

/** A deadline the test fires by hand. */
function manualDeadline() {
  let fire: () => void = () => {};
  let cancelled = false;
  const after = () => ({
    promise: new Promise<void>((r) => {
      fire = r;
    }),
    cancel: () => {
      cancelled = true;
    },
  });
  return { after, fire: () => fire(), get cancelled() { return cancelled; } };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('runShutdown', () => {
  it('runs the steps in order and reports each one it waits for', async () => {
    const order: string[] = [];
    const waiting: string[][] = [];
    const d = manualDeadline();
    const steps: ShutdownStep[] = ['scheduler', 'poller', 'database checkpoint', 'tunnels'].map((name) => ({ name, run: async () => void order.push(name) }));
    const r = await runShutdown(steps, { timeoutMs: 10_000, after: d.after, onWaiting: (w) => waiting.push(w) });
    expect(order).toEqual(['scheduler', 'poller', 'database checkpoint', 'tunnels']);
    expect(r).toEqual({ completed: order, failed: [], timedOutWaitingFor: [] });
    expect(waiting[0]).toEqual(['scheduler', 'poller', 'database checkpoint', 'tunnels']);
    expect(waiting[3]).toEqual(['tunnels']);
    expect(d.cancelled).toBe(true);
    expect(describeShutdownReport(r)).toBe('Quit finished cleanly');
  });

  it('keeps going past a failing step and reports it', async () => {
    const ran: string[] = [];
    const r = await runShutdown(
      [
        { name: 'poller', run: () => { throw new Error('boom'); } },
        { name: 'database checkpoint', run: () => Promise.reject(new Error('busy')) },
        { name: 'tunnels', run: () => void ran.push('tunnels') },
      ],
      { timeoutMs: 10_000, after: manualDeadline().after },
    );
    expect(ran).toEqual(['tunnels']);
    expect(r.failed).toEqual([{ name: 'poller', error: 'boom' }, { name: 'database checkpoint', error: 'busy' }]);
    expect(r.completed).toEqual(['tunnels']);
    expect(describeShutdownReport(r)).toMatch(/poller \(boom\); database checkpoint \(busy\)/);
  });

  it('gives up at the deadline and names the hanging step and the ones not started', async () => {
    const d = manualDeadline();
    let lateStepRan = false;
    const done = runShutdown(
      [
        { name: 'poller', run: () => {} },
        { name: 'tunnels', run: () => new Promise<void>(() => {}) },
        { name: 'core', run: () => void (lateStepRan = true) },
      ],
      { timeoutMs: 10_000, after: d.after },
    );
    await flush();
    d.fire();
    const r = await done;
    expect(r.completed).toEqual(['poller']);
    expect(r.timedOutWaitingFor).toEqual(['tunnels', 'core']);
    expect(lateStepRan).toBe(false);
    expect(describeShutdownReport(r)).toBe('Quit did not finish in time; gave up waiting for tunnels, core');
  });

  it('is bounded with the real timer too', async () => {
    const r = await runShutdown([{ name: 'tunnels', run: () => new Promise<void>(() => {}) }], { timeoutMs: 5, after: realAfter });
    expect(r.timedOutWaitingFor).toEqual(['tunnels']);
  });
});
