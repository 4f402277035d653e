import type { StepStatus } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { Logbook } from '../logbook/logbook';

// One way to run a long operation as named, recorded steps: replication setup uses it, failover will.
// Each step is a logbook step (start/end times and duration), a cancel check runs before each one,
// and a failed step undoes what the steps before it did (their `compensate`, newest first).

/** What a step's body may do besides its work: add a line to its logbook step. */
export interface StepContext {
  note(message: string): void;
}

export interface Step {
  /** Shown in the job log and the UI; taken from the shared vocabulary (shared/steps.ts). */
  readonly name: string;
  run(ctx: StepContext): Promise<void>;
  /** Undoes what `run` did; called (newest first) for completed steps when a later step fails or is cancelled. */
  compensate?(ctx: StepContext): Promise<void>;
}

export type StepOutcome = Exclude<StepStatus, 'pending' | 'running'>;

/** Typed events of a run, in the order they happen. */
export type StepEvent =
  | { type: 'step-started'; operationId: string; step: string; index: number; total: number }
  | { type: 'step-ended'; operationId: string; step: string; index: number; outcome: StepOutcome; durationMs: number | null; error: string | null }
  | { type: 'compensated'; operationId: string; step: string; ok: boolean; error: string | null };

export interface StepRunnerOptions<S extends Step> {
  /** The logbook operation the steps belong to (it must exist). */
  operationId: string;
  logbook: Pick<Logbook, 'startStep' | 'finishStep' | 'event'>;
  /** Checked before each step and after a failure (a failure while cancelling is recorded as cancelled). */
  isCancelled?: () => boolean;
  /** Message of the error thrown when the cancel check trips. */
  cancelledMessage?: string;
  /** Runs after the cancel check and before the step is recorded as started (e.g. to move a job's status). */
  enter?: (step: S) => void;
  onEvent?: (e: StepEvent) => void;
}

export class StepCancelled extends AppError {
  constructor(message: string) {
    super('conflict', message);
  }
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs `steps` in order. Resolves when every step completed; otherwise rejects with the error of the
 * step that failed (or a StepCancelled), after compensating the completed steps. A failing
 * compensation is logged and does not hide the original error.
 */
export async function runSteps<S extends Step>(steps: readonly S[], o: StepRunnerOptions<S>): Promise<void> {
  const done: { step: S; stepId: number }[] = [];
  const cancelled = () => o.isCancelled?.() ?? false;
  for (const [index, step] of steps.entries()) {
    try {
      if (cancelled()) throw new StepCancelled(o.cancelledMessage ?? 'Cancelled');
      o.enter?.(step);
    } catch (e) {
      await compensate(done, o);
      throw e;
    }
    const rec = o.logbook.startStep(o.operationId, step.name);
    o.onEvent?.({ type: 'step-started', operationId: o.operationId, step: step.name, index, total: steps.length });
    try {
      await step.run({ note: (m) => o.logbook.event(o.operationId, 'info', m, undefined, rec.id) });
    } catch (e) {
      const outcome: StepOutcome = cancelled() || e instanceof StepCancelled ? 'cancelled' : 'failed';
      const ended = o.logbook.finishStep(rec.id, outcome, errorText(e));
      o.onEvent?.({ type: 'step-ended', operationId: o.operationId, step: step.name, index, outcome, durationMs: ended.durationMs, error: errorText(e) });
      await compensate(done, o);
      throw e;
    }
    const ended = o.logbook.finishStep(rec.id, 'completed');
    o.onEvent?.({ type: 'step-ended', operationId: o.operationId, step: step.name, index, outcome: 'completed', durationMs: ended.durationMs, error: null });
    done.push({ step, stepId: rec.id });
  }
}

async function compensate<S extends Step>(done: { step: S; stepId: number }[], o: StepRunnerOptions<S>): Promise<void> {
  for (const { step, stepId } of [...done].reverse()) {
    if (!step.compensate) continue;
    const note = (m: string) => o.logbook.event(o.operationId, 'info', m, undefined, stepId);
    try {
      await step.compensate({ note });
      note(`${step.name}: undone`);
      o.onEvent?.({ type: 'compensated', operationId: o.operationId, step: step.name, ok: true, error: null });
    } catch (e) {
      o.logbook.event(o.operationId, 'warn', `${step.name}: undoing it failed (${errorText(e)})`, undefined, stepId);
      o.onEvent?.({ type: 'compensated', operationId: o.operationId, step: step.name, ok: false, error: errorText(e) });
    }
  }
}
