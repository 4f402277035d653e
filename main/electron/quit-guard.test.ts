import { describe, expect, it } from 'vitest';
import { activeJobCounter, QuitGuard, quitConfirmationText, type RunningFailoverView } from './quit-guard';

const failover = (over: Partial<RunningFailoverView> = {}): RunningFailoverView => ({
  failoverId: 'fo-1',
  vmContextId: 'ctx-1',
  vmName: 'web-01',
  kind: 'live',
  rollback: false,
  phase: 'Final incremental sync',
  ...over,
});

function harness(active: number, answers: boolean[], failovers: RunningFailoverView[] = []) {
  const asked: number[] = [];
  const askedFailovers: RunningFailoverView[][] = [];
  let pending: ((yes: boolean) => void) | null = null;
  const guard = new QuitGuard({
    activity: () => ({ jobs: active, failovers }),
    confirm: (a) => {
      asked.push(a.jobs);
      askedFailovers.push(a.failovers);
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
  return { guard, asked, askedFailovers, attempt, answer };
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

describe('QuitGuard with failovers', () => {
  it('asks while a failover runs even when no replication job does, and passes the failover to the question', async () => {
    const running = [failover()];
    const h = harness(0, [false], running);
    const a = h.attempt();
    expect(a.prevented).toBe(true);
    expect(h.askedFailovers).toEqual([running]);
    await h.answer();
    expect(a.proceeded).toBe(0);
    expect(h.guard.quitConfirmed).toBe(false);
  });

  it('asks while a rollback runs', () => {
    const h = harness(0, [true], [failover({ kind: 'test', rollback: true })]);
    expect(h.attempt().prevented).toBe(true);
  });
});

describe('quitConfirmationText with failovers', () => {
  it('names a live failover and says it is undone on the next start, the source powered back on', () => {
    const t = quitConfirmationText({ jobs: 0, failovers: [failover()] });
    expect(t.message).toBe('The live failover of web-01 is still running. Quit anyway?');
    expect(t.detail).toMatch(/The failover stops at the next step and does not complete/);
    expect(t.detail).toMatch(/next start of the console undoes what was done/);
    expect(t.detail).toMatch(/powers the source VM back on unless you chose to keep it off/);
    // Nothing about change-ID callbacks when no replication job runs.
    expect(t.detail).not.toMatch(/change-ID/);
  });

  it('says nothing about the source for a test failover', () => {
    const t = quitConfirmationText({ jobs: 0, failovers: [failover({ kind: 'test' })] });
    expect(t.message).toBe('The test failover of web-01 is still running. Quit anyway?');
    expect(t.detail).not.toMatch(/source VM/);
  });

  it('says a rollback is finished by the next start', () => {
    const t = quitConfirmationText({ jobs: 0, failovers: [failover({ rollback: true })] });
    expect(t.message).toBe('The rollback of web-01 is still running. Quit anyway?');
    expect(t.detail).toMatch(/next start of the console finishes it/);
    expect(t.detail).not.toMatch(/undoes/);
  });

  it('combines jobs, failovers and rollbacks with every consequence', () => {
    const t = quitConfirmationText({ jobs: 2, failovers: [failover(), failover({ failoverId: 'fo-2', kind: 'test' }), failover({ failoverId: 'fo-3', rollback: true })] });
    expect(t.message).toBe('2 replication jobs, 2 failovers and the rollback of web-01 are still running. Quit anyway?');
    expect(t.detail).toMatch(/change-ID callbacks/);
    expect(t.detail).toMatch(/The failovers stop/);
    expect(t.detail).toMatch(/powers the source VM back on/);
    expect(t.detail).toMatch(/finishes it/);
    expect(quitConfirmationText({ jobs: 1, failovers: [failover({ kind: 'test' })] }).message).toBe('1 replication job and the test failover of web-01 are still running. Quit anyway?');
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
