import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { Logbook } from '../logbook/logbook';
import { AppError } from '../../shared/errors';
import { runSteps, StepCancelled, type Step, type StepEvent } from './step-runner';

// The runner over a real logbook (real SQLite): what it records is what the job log shows.
let dir: string;
let db: Db;
let logbook: Logbook;
const OP = 'op-1';

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-steps-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  logbook = new Logbook(db);
  logbook.startOperation(OP, 'replication', 'test operation', null);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function recorder() {
  const calls: string[] = [];
  const step = (name: string, fail?: Error, compensateFails = false): Step => ({
    name,
    run: async ({ note }) => {
      calls.push(`run ${name}`);
      note(`${name} did its work`);
      if (fail) throw fail;
    },
    compensate: async () => {
      calls.push(`undo ${name}`);
      if (compensateFails) throw new Error(`cannot undo ${name}`);
    },
  });
  return { calls, step };
}

describe('runSteps', () => {
  it('runs the steps in order, records each as a logbook step with timings, and emits typed events', async () => {
    const { calls, step } = recorder();
    const events: StepEvent[] = [];
    const entered: string[] = [];
    await runSteps([step('A'), step('B')], { operationId: OP, logbook, enter: (s) => entered.push(s.name), onEvent: (e) => events.push(e) });
    expect(calls).toEqual(['run A', 'run B']);
    expect(entered).toEqual(['A', 'B']);
    const steps = logbook.steps(OP);
    expect(steps.map((s) => [s.seq, s.name, s.status])).toEqual([
      [1, 'A', 'completed'],
      [2, 'B', 'completed'],
    ]);
    for (const s of steps) {
      expect(s.startedAt).not.toBeNull();
      expect(s.completedAt).not.toBeNull();
      expect(s.durationMs).toBeGreaterThanOrEqual(0);
    }
    // A note lands on the step that wrote it.
    const notes = logbook.events({ operationId: OP }).filter((e) => e.message === 'B did its work');
    expect(notes.map((e) => e.stepId)).toEqual([steps[1]!.id]);
    expect(events.map((e) => `${e.type} ${e.step}${e.type === 'step-ended' ? ` ${e.outcome}` : ''}`)).toEqual([
      'step-started A',
      'step-ended A completed',
      'step-started B',
      'step-ended B completed',
    ]);
    expect(events[0]).toMatchObject({ index: 0, total: 2, operationId: OP });
  });

  it('stops at the failing step, compensates the completed ones newest first, and rethrows the original error', async () => {
    const { calls, step } = recorder();
    const boom = new AppError('unreachable', 'CloudStack did not answer');
    const events: StepEvent[] = [];
    await expect(runSteps([step('A'), step('B'), step('C', boom), step('D')], { operationId: OP, logbook, onEvent: (e) => events.push(e) })).rejects.toBe(boom);
    expect(calls).toEqual(['run A', 'run B', 'run C', 'undo B', 'undo A']);
    expect(logbook.steps(OP).map((s) => [s.name, s.status, s.error])).toEqual([
      ['A', 'completed', null],
      ['B', 'completed', null],
      ['C', 'failed', 'CloudStack did not answer'],
    ]);
    expect(events.filter((e) => e.type === 'compensated').map((e) => e.step)).toEqual(['B', 'A']);
  });

  it('a failing compensation is logged and does not hide the original error or stop the others', async () => {
    const { calls, step } = recorder();
    const boom = new Error('export failed');
    await expect(runSteps([step('A'), step('B', undefined, true), step('C', boom)], { operationId: OP, logbook })).rejects.toBe(boom);
    expect(calls).toEqual(['run A', 'run B', 'run C', 'undo B', 'undo A']);
    const warns = logbook.events({ operationId: OP }).filter((e) => e.level === 'warn').map((e) => e.message);
    expect(warns).toEqual(['B: undoing it failed (cannot undo B)']);
  });

  it('checks for cancel before each step: the next step never starts, the done ones are compensated', async () => {
    const { calls, step } = recorder();
    let cancel = false;
    const a: Step = { ...step('A'), run: async () => void (calls.push('run A'), (cancel = true)) };
    const err = await runSteps([a, step('B')], { operationId: OP, logbook, isCancelled: () => cancel, cancelledMessage: 'Cancelled by the operator' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepCancelled);
    expect((err as Error).message).toBe('Cancelled by the operator');
    expect(calls).toEqual(['run A', 'undo A']);
    expect(logbook.steps(OP).map((s) => [s.name, s.status])).toEqual([['A', 'completed']]);
  });

  it('a step failing while cancelled is recorded as cancelled, not failed', async () => {
    let cancel = false;
    const s: Step = {
      name: 'A',
      run: async () => {
        cancel = true;
        throw new Error('request aborted');
      },
    };
    await expect(runSteps([s], { operationId: OP, logbook, isCancelled: () => cancel })).rejects.toThrow('request aborted');
    expect(logbook.steps(OP).map((x) => [x.status, x.error])).toEqual([['cancelled', 'request aborted']]);
  });

  it('an `enter` hook that refuses stops the run before the step is recorded', async () => {
    const { calls, step } = recorder();
    const refusal = new AppError('conflict', 'Job already ended');
    await expect(
      runSteps([step('A'), step('B')], {
        operationId: OP,
        logbook,
        enter: (s) => {
          if (s.name === 'B') throw refusal;
        },
      }),
    ).rejects.toBe(refusal);
    expect(calls).toEqual(['run A', 'undo A']);
    expect(logbook.steps(OP).map((s) => s.name)).toEqual(['A']);
  });
});
