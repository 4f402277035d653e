import { describe, expect, it } from 'vitest';
import { activeJobCounter, QuitGuard, quitConfirmationText } from './quit-guard';

function harness(active: number, answers: boolean[]) {
  const asked: number[] = [];
  let pending: ((yes: boolean) => void) | null = null;
  const guard = new QuitGuard({
    activeJobCount: () => active,
    confirm: (n) => {
      asked.push(n);
      return new Promise<boolean>((resolve) => {
        pending = resolve;
      });
    },
  });
  const attempt = () => {
    let prevented = false;
    let proceeded = 0;
    const state = { get prevented() { return prevented; }, get proceeded() { return proceeded; } };
    guard.intercept(() => (prevented = true), () => proceeded++);
    return state;
  };
  const answer = async () => {
    const yes = answers.shift()!;
    pending!(yes);
    await new Promise((r) => setTimeout(r, 0));
  };
  return { guard, asked, attempt, answer };
}

describe('QuitGuard', () => {
  it('lets quitting through when no job runs', () => {
    const h = harness(0, []);
    expect(h.attempt().prevented).toBe(false);
    expect(h.asked).toEqual([]);
  });

  it('asks once while jobs run and quits when the operator agrees', async () => {
    const h = harness(3, [true]);
    const first = h.attempt();
    const second = h.attempt(); // e.g. window close then app quit while the dialog is open
    expect(first.prevented && second.prevented).toBe(true);
    expect(h.asked).toEqual([3]);
    await h.answer();
    expect(first.proceeded).toBe(1);
    expect(second.proceeded).toBe(0);
    expect(h.guard.quitConfirmed).toBe(true);
    expect(h.attempt().prevented).toBe(false);
  });

  it('keeps running when the operator declines, and asks again next time', async () => {
    const h = harness(1, [false, true]);
    const a = h.attempt();
    await h.answer();
    expect(a.proceeded).toBe(0);
    expect(h.guard.quitConfirmed).toBe(false);
    const b = h.attempt();
    expect(b.prevented).toBe(true);
    expect(h.asked).toEqual([1, 1]);
    await h.answer();
    expect(b.proceeded).toBe(1);
  });
});

describe('activeJobCounter', () => {
  it('uses the core hook when present and defaults to 0', () => {
    expect(activeJobCounter({})()).toBe(0);
    expect(activeJobCounter({ activeJobCount: () => 2 })()).toBe(2);
    expect(activeJobCounter({ activeJobCount: () => -1 })()).toBe(0);
    expect(activeJobCounter({ activeJobCount: () => Number.NaN })()).toBe(0);
    const core = { jobs: 4, activeJobCount(this: { jobs: number }) { return this.jobs; } };
    expect(activeJobCounter(core)()).toBe(4);
  });

  it('words the question for one and several jobs', () => {
    expect(quitConfirmationText(1).message).toMatch(/^1 replication job is still running/);
    expect(quitConfirmationText(5).message).toMatch(/^5 replication jobs are still running/);
    // The operator must learn the cost before agreeing: missed callbacks make the next sync full.
    expect(quitConfirmationText(1).detail).toMatch(/change-ID callbacks/);
    expect(quitConfirmationText(1).detail).toMatch(/next sync of those disks is a full copy/);
  });
});
