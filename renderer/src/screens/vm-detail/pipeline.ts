// The step pipeline of one replication job, computed from the logbook's steps and the live VMA phases.
import type { JobStatus, LogStep, StepStatus } from '../../../../shared/domain';
import { TERMINAL_JOB_STATUSES } from '../../../../shared/domain';
import type { SeenPhase } from '../../store/contexts-store';

import { REPLICATION_STEP, SETUP_STEPS } from '../../../../shared/steps';

export { SETUP_STEPS };
export const COPY_STEP = REPLICATION_STEP.copy;

export const isTerminal = (s: JobStatus) => (TERMINAL_JOB_STATUSES as readonly JobStatus[]).includes(s);

export interface PipelineStep {
  name: string;
  status: StepStatus;
  durationMs: number | null;
  error: string | null;
  phases?: { name: string; durationMs: number; current: boolean }[];
}

/**
 * Pure: the pipeline shown for a job — the recorded steps, the setup steps not reached yet, and the
 * copy on the VMA (its status follows the job's) with the VMA phases this page saw.
 */
export function buildPipeline(
  status: JobStatus,
  steps: LogStep[],
  jobCompletedAt: string | null,
  phases: SeenPhase[],
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
  const started = steps.find((s) => s.name === SETUP_STEPS[3] && s.status === 'completed');
  let copyStatus: StepStatus = 'pending';
  if (started) {
    copyStatus = status === 'completed' ? 'completed' : status === 'failed' ? 'failed' : status === 'cancelled' ? 'cancelled' : 'running';
  } else if (terminal || setupFailed) copyStatus = 'skipped';
  const copyStart = started?.completedAt ? Date.parse(started.completedAt) : null;
  const copyEnd = terminal && jobCompletedAt ? Date.parse(jobCompletedAt) : nowMs;
  out.push({
    name: COPY_STEP,
    status: copyStatus,
    durationMs: copyStart !== null ? Math.max(0, copyEnd - copyStart) : null,
    error: null,
    phases: phases.map((p, i) => {
      const next = phases[i + 1];
      const current = !next && copyStatus === 'running';
      // The last phase lasts until now while copying, until the job ended once it has.
      const end = next ? next.firstSeenMs : current ? nowMs : terminal && jobCompletedAt ? Math.max(p.lastSeenMs, copyEnd) : p.lastSeenMs;
      return { name: p.name, durationMs: Math.max(0, end - p.firstSeenMs), current };
    }),
  });
  return out;
}
