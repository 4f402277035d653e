// The step pipeline of one replication job, computed from the logbook's steps and the VMA phases the
// owner of the engine recorded in the same log (so every window shows the same history as the Logs).
import type { JobStatus, LogStep, RecordedPhase, StepStatus } from '../../../../shared/domain';
import { TERMINAL_JOB_STATUSES } from '../../../../shared/domain';

import { REPLICATION_STEP, SETUP_STEPS } from '../../../../shared/steps';

export { SETUP_STEPS };
export const COPY_STEP = REPLICATION_STEP.copy;

export const isTerminal = (s: JobStatus) => (TERMINAL_JOB_STATUSES as readonly JobStatus[]).includes(s);

export interface PipelineStep {
  name: string;
  status: StepStatus;
  durationMs: number | null;
  error: string | null;
  /** The recorded VMA phases of the copy: when each began (the owner's clock) and how long it lasted. */
  phases?: { name: string; at: string; durationMs: number; current: boolean }[];
}

/**
 * Pure: the pipeline shown for a job — the recorded steps (the copy on the VMA among them once the VMA
 * accepted the job), the setup steps not reached yet, and the VMA phases recorded for the job.
 */
export function buildPipeline(
  status: JobStatus,
  steps: LogStep[],
  jobCompletedAt: string | null,
  phases: RecordedPhase[],
  nowMs: number,
): PipelineStep[] {
  const terminal = isTerminal(status);
  const out: PipelineStep[] = steps.map((s) => ({
    name: s.name,
    status: s.status,
    // A running step lasts until now; clocks that disagree (the page's and the core's) must not make it negative.
    durationMs:
      s.durationMs !== null
        ? Math.max(0, s.durationMs)
        : s.startedAt && s.status === 'running'
          ? Math.max(0, nowMs - Date.parse(s.startedAt))
          : null,
    error: s.error,
  }));
  const seen = new Set(steps.map((s) => s.name));
  const setupFailed = steps.some((s) => s.status === 'failed' || s.status === 'cancelled');
  for (const name of SETUP_STEPS) {
    if (!seen.has(name)) out.push({ name, status: terminal ? 'skipped' : 'pending', durationMs: null, error: null });
  }
  const copyEnd = terminal && jobCompletedAt ? Date.parse(jobCompletedAt) : nowMs;
  const phaseView = (copyRunning: boolean) =>
    phases.map((p, i) => {
      const next = phases[i + 1];
      const current = !next && copyRunning;
      // A phase lasts until the next one began; the last until now while copying, until the job ended once it has.
      const end = next ? Date.parse(next.at) : terminal && jobCompletedAt ? copyEnd : nowMs;
      return { name: p.name, at: p.at, durationMs: Math.max(0, end - Date.parse(p.at)), current };
    });
  // The engine records the copy as a step (with the job's outcome): shown as recorded, with its phases.
  const recorded = out.find((s) => s.name === COPY_STEP);
  if (recorded) {
    recorded.phases = phaseView(recorded.status === 'running' && !terminal);
    return out;
  }
  // Jobs from before the copy was recorded: the copy follows the job's status from the start step on.
  const started = steps.find((s) => s.name === SETUP_STEPS[3] && s.status === 'completed');
  let copyStatus: StepStatus = 'pending';
  if (started) {
    copyStatus = status === 'completed' ? 'completed' : status === 'failed' ? 'failed' : status === 'cancelled' ? 'cancelled' : 'running';
  } else if (terminal || setupFailed) copyStatus = 'skipped';
  const copyStart = started?.completedAt ? Date.parse(started.completedAt) : null;
  out.push({
    name: COPY_STEP,
    status: copyStatus,
    durationMs: copyStart !== null ? Math.max(0, copyEnd - copyStart) : null,
    error: null,
    phases: phaseView(copyStatus === 'running'),
  });
  return out;
}
