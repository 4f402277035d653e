import { describe, expect, it } from 'vitest';
import type { LogStep } from '../../../../shared/domain';
import { buildPipeline, COPY_STEP, SETUP_STEPS } from './pipeline';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function step(seq: number, status: LogStep['status'], start: number, end: number | null, error: string | null = null): LogStep {
  return {
    id: seq,
    operationId: 'job-x',
    seq,
    name: SETUP_STEPS[seq - 1]!,
    status,
    startedAt: at(start),
    completedAt: end === null ? null : at(end),
    durationMs: end === null ? null : (end - start) * 1000,
    error,
  };
}

describe('buildPipeline', () => {
  it('shows the running setup step with its elapsed time and the rest pending', () => {
    const p = buildPipeline('attaching', [step(1, 'completed', 0, 2), step(2, 'running', 2, null)], null, [], T0 + 5000);
    expect(p.map((s) => [s.name, s.status, s.durationMs])).toEqual([
      [SETUP_STEPS[0], 'completed', 2000],
      [SETUP_STEPS[1], 'running', 3000],
      [SETUP_STEPS[2], 'pending', null],
      [SETUP_STEPS[3], 'pending', null],
      [COPY_STEP, 'pending', null],
    ]);
  });

  it('runs the copy after the start step, with the VMA phases and their durations', () => {
    const steps = [step(1, 'completed', 0, 1), step(2, 'completed', 1, 2), step(3, 'completed', 2, 3), step(4, 'completed', 3, 4)];
    const phases = [
      { name: 'Creating Snapshot', at: at(4.5) },
      { name: 'Transfer', at: at(6) },
    ];
    const running = buildPipeline('replicating', steps, null, phases, T0 + 10_000).at(-1)!;
    expect(running).toMatchObject({ name: COPY_STEP, status: 'running', durationMs: 6000 });
    expect(running.phases).toEqual([
      { name: 'Creating Snapshot', at: at(4.5), durationMs: 1500, current: false },
      { name: 'Transfer', at: at(6), durationMs: 4000, current: true },
    ]);
    const done = buildPipeline('completed', steps, at(12), phases, T0 + 99_000).at(-1)!;
    expect(done).toMatchObject({ status: 'completed', durationMs: 8000 });
    expect(done.phases?.at(-1)).toEqual({ name: 'Transfer', at: at(6), durationMs: 6000, current: false });
    // The history is the recorded one: the same for any page, whenever it was opened.
    expect(buildPipeline('completed', steps, at(12), phases, T0 + 5_000).at(-1)).toEqual(done);
  });

  it('shows the copy as the engine recorded it, with its phases, once it is a step of the log', () => {
    const setup = [step(1, 'completed', 0, 1), step(2, 'completed', 1, 2), step(3, 'completed', 2, 3), step(4, 'completed', 3, 4)];
    const copy = (status: LogStep['status'], end: number | null): LogStep => ({ ...step(5, status, 4, end), name: COPY_STEP });
    const phases = [{ name: 'Transfer', at: at(5) }];
    const running = buildPipeline('replicating', [...setup, copy('running', null)], null, phases, T0 + 9_000);
    expect(running.map((s) => s.name)).toEqual([...SETUP_STEPS, COPY_STEP]);
    expect(running.at(-1)).toMatchObject({ status: 'running', durationMs: 5000, phases: [{ name: 'Transfer', at: at(5), durationMs: 4000, current: true }] });
    const failed = buildPipeline('failed', [...setup, { ...copy('failed', 10), error: 'stalled' }], at(10), phases, T0 + 99_000).at(-1)!;
    expect(failed).toMatchObject({ status: 'failed', durationMs: 6000, error: 'stalled', phases: [{ name: 'Transfer', durationMs: 5000, current: false }] });
  });

  it('marks what a failed setup never reached', () => {
    const p = buildPipeline('failed', [step(1, 'completed', 0, 1), step(2, 'failed', 1, 3, 'attach failed')], at(3), [], T0 + 9000);
    expect(p.map((s) => s.status)).toEqual(['completed', 'failed', 'skipped', 'skipped', 'skipped']);
    expect(p[1]?.error).toBe('attach failed');
  });
  it('never gives a running step a negative duration when the page clock is behind the core', () => {
    const p = buildPipeline('provisioning', [step(1, 'running', 10, null)], null, [], T0 + 9_611);
    expect(p[0]!.durationMs).toBe(0);
  });
});
