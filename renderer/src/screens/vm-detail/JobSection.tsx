// The running (or most recent) job of one VM: overall progress, throughput sparkline, the step
// pipeline with per-step status and duration, per-disk progress, and Cancel.
import { useEffect, useState } from 'react';
import type { JobDetail, JobProgressUpdate } from '../../../../shared/contract';
import type { JobDiskProgress, StepStatus } from '../../../../shared/domain';
import { buildPipeline, isTerminal, type PipelineStep } from './pipeline';
import { progressView } from '../../lib/job-progress';
import type { AppErrorShape } from '../../../../shared/errors';
import { useLive } from '../../store/contexts-store';

const EMPTY_SAMPLES: number[] = [];
import { useInvoke } from '../../lib/use-invoke';
import { useNow } from '../../lib/use-now';
import { api } from '../../transport/api';
import { StatusBadge } from '../../components/StatusBadge';
import { ErrorBox } from '../../components/ErrorBox';
import { ProgressBar, Sparkline } from '../../components/Charts';
import { formatBytes, formatDuration, formatMs, formatRate, formatTime } from '../../lib/format';
import { adviceFor } from '../../lib/error-advice';
import { statusText } from '../../../../shared/status-text';

const STEP_ICON: Record<StepStatus, string> = {
  pending: '○',
  running: '◐',
  completed: '✓',
  failed: '✕',
  skipped: '–',
  cancelled: '⊘',
};

function Pipeline({ steps }: { steps: PipelineStep[] }) {
  return (
    <ol className="pipeline" data-testid="step-pipeline">
      {steps.map((s) => (
        <li key={s.name} className={`pipe-step pipe-${s.status}`} data-step={s.name} data-status={s.status}>
          <span className="pipe-icon" aria-hidden>
            {STEP_ICON[s.status]}
          </span>
          <span className="pipe-name">{s.name}</span>
          <span className="pipe-status">{statusText(s.status)}</span>
          <span className="pipe-duration num">{s.durationMs !== null ? formatMs(s.durationMs) : ''}</span>
          {s.error && <div className="pipe-error err-text">{s.error}</div>}
          {s.phases && s.phases.length > 0 && (
            <div className="pipe-phases" data-testid="vma-phases">
              {s.phases.map((p, i) => (
                <span
                  key={`${p.name}-${i}`}
                  className={p.current ? 'phase-chip current' : 'phase-chip'}
                  data-phase={p.name}
                  data-at={p.at}
                  title={`${p.name} since ${formatTime(p.at)}`}
                >
                  {p.name} <span className="muted">{formatMs(p.durationMs)}</span>
                </span>
              ))}
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}

/**
 * Bytes this sync moved of what it must move, as the VMA reported them (an incremental's total is its
 * changed bytes). Before the VMA has said, the total is unknown: shown as such, never as the capacity.
 */
function movedText(bytes: number, total: number, status: string, jobHadNothingToCopy: boolean): string {
  if (total > 0 || bytes > 0) return `${formatBytes(bytes)} of ${formatBytes(total)} to move`;
  // The job line says "nothing to copy (no changes)" from the same totals: the disk rows agree with it.
  if (status === 'completed' && jobHadNothingToCopy) return 'nothing to copy (no changes)';
  // A disk that starts and ends between two polls leaves no frame: unknown, which is not "nothing".
  return status === 'completed' ? 'no bytes reported by the VMA' : 'bytes to move not reported yet';
}

/** Per-disk rows: the job's stored disk rows with the live numbers laid over them. */
function DiskProgress({ disks, live, jobStatus, jobTotalBytes }: { disks: JobDiskProgress[]; live: JobProgressUpdate | undefined; jobStatus: string; jobTotalBytes: number }) {
  const liveByKey = new Map((live?.disks ?? []).map((d) => [d.diskKey, d]));
  if (disks.length === 0) return null;
  return (
    <table className="mini disk-progress" data-testid="disk-progress">
      <tbody>
        {disks.map((d) => {
          const l = liveByKey.get(d.diskKey);
          const percent = l?.percent ?? d.percent;
          const bytes = l?.bytesTransferred ?? d.bytesTransferred;
          const total = l?.totalBytes ?? d.totalBytes;
          const stored = l?.status ?? d.status;
          // The core closes an unfinished disk of a cancelled job as failed; the operator cancelled it.
          const status = jobStatus === 'cancelled' && stored !== 'completed' ? 'cancelled' : stored;
          return (
            <tr key={d.diskKey} data-disk={d.diskKey}>
              <td className="nowrap">{d.diskKey}</td>
              <td className="muted">{d.syncType}</td>
              {/* The bytes sit under the bar, so the row fits the narrow panel and its badge stays in view. */}
              <td className="bar-cell">
                <ProgressBar percent={percent} label={`${d.diskKey} progress`} className="wide" />
                <div className="disk-moved" title={`capacity ${formatBytes(d.capacityBytes)}`}>
                  {movedText(bytes, total, stored, jobStatus === 'completed' && jobTotalBytes === 0)}
                </div>
              </td>
              <td className="num">{percent.toFixed(1)}%</td>
              <td className="disk-status">
                <StatusBadge status={status} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function CancelJob({ jobId }: { jobId: string }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const cancel = async () => {
    setBusy(true);
    setError(null);
    const r = await api().invoke('jobs:cancel', { id: jobId });
    setBusy(false);
    setConfirming(false);
    if (!r.ok) setError(r.error);
  };
  return (
    <div className="cancel-job">
      {confirming ? (
        <span className="confirm-inline">
          Cancel this job?{' '}
          <button type="button" className="btn danger small" disabled={busy} onClick={() => void cancel()}>
            {busy ? 'Cancelling…' : 'Yes, cancel'}
          </button>{' '}
          <button type="button" className="btn small" disabled={busy} onClick={() => setConfirming(false)}>
            Keep running
          </button>
        </span>
      ) : (
        <button type="button" className="btn danger small" onClick={() => setConfirming(true)}>
          Cancel job
        </button>
      )}
      {error && <ErrorBox error={error} what="Cancel" />}
    </div>
  );
}

function JobBody({ detail, live }: { detail: JobDetail; live: JobProgressUpdate | undefined }) {
  const job = detail.job;
  const status = live?.status ?? job.status;
  const terminal = isTerminal(status);
  const samples = useLive((s) => s.rateSamplesByJobId[job.id] ?? EMPTY_SAMPLES);
  const now = useNow(terminal ? null : 1000);
  const bytes = live?.bytesTransferred ?? job.bytesTransferred;
  const total = live?.totalBytes ?? job.totalBytes;
  const rate = live?.rateBps ?? job.rateBps;
  const eta = live?.etaSeconds ?? job.etaSeconds;
  const phase = live?.phase ?? job.phase;
  const error = live?.error ?? job.error;
  // Percent, bytes and setup wording from one helper so the bar, the number and the text agree.
  const view = progressView({ status, phase, bytesTransferred: bytes, totalBytes: total });
  const pipeline = buildPipeline(status, detail.steps, job.completedAt, detail.phases, now);
  const took = terminal && job.startedAt && job.completedAt ? Date.parse(job.completedAt) - Date.parse(job.startedAt) : null;
  return (
    <div className="job-section" data-testid="job-section" data-job-id={job.id} data-status={status}>
      <div className="job-head">
        <div>
          <span className="mono job-id">{job.id}</span> <span className="muted">{job.jobType} · {job.trigger}</span>
        </div>
        <div className="job-head-right">
          <StatusBadge status={status} />
          {!terminal && <CancelJob jobId={job.id} />}
        </div>
      </div>
      <div className="job-overall">
        {view.setup ? (
          <span className="job-setup" data-testid="job-setup">
            Setting up: {view.detail}
          </span>
        ) : (
          <>
            <ProgressBar percent={view.percent ?? 0} label="Job progress" className="wide big" />
            <span className="job-percent num" data-testid="job-percent">
              {view.percentText || '—'}
            </span>
          </>
        )}
      </div>
      <div className="job-numbers muted" data-testid="job-numbers">
        {!view.setup && view.detail}
        {!terminal && !view.setup && (
          <>
            {' '}
            · {formatRate(rate)} · ETA {formatDuration(eta)}
          </>
        )}
        {/* The badge already says Completed/Failed/Cancelled: the phase is only news while running. */}
        {!view.setup && !terminal && phase && <> · {phase}</>}
        {took !== null && <> · took {formatMs(took)}</>}
        {/* Capacity is not what this sync moves: shown apart so neither reads as the other. */}
        {job.capacityBytes > 0 && <> · capacity {formatBytes(job.capacityBytes)}</>}
      </div>
      {!view.setup && (!terminal || samples.length > 1) && <Sparkline samples={samples} />}
      {error && status === 'failed' && (
        <div className="error-box" role="alert">
          {error}
          <div className="advice">{adviceFor(error)}</div>
        </div>
      )}
      <Pipeline steps={pipeline} />
      <DiskProgress disks={detail.disks} live={live} jobStatus={status} jobTotalBytes={total} />
    </div>
  );
}

/**
 * The job's detail, refetched whenever its live status or VMA phase changes or the core says a step
 * changed (not on every percent): the phase history shown is the one the core recorded, never one
 * built from the frames this page happened to see.
 */
export function JobSection({ jobId }: { jobId: string }) {
  const live = useLive((s) => s.progressByJobId[jobId]);
  const stepRevision = useLive((s) => s.stepByJobId[jobId]?.revision ?? 0);
  const stepKey = `${live?.status ?? ''}|${live?.phase ?? ''}|${stepRevision}`;
  const detail = useInvoke('jobs:get', { id: jobId });
  const { reload } = detail;
  const [seenKey, setSeenKey] = useState(stepKey);
  useEffect(() => {
    if (stepKey !== seenKey) {
      setSeenKey(stepKey);
      reload();
    }
  }, [stepKey, seenKey, reload]);
  if (detail.result === null) return <p className="muted">Loading job…</p>;
  if (!detail.result.ok) return <ErrorBox error={detail.result.error} />;
  return <JobBody detail={detail.result.value} live={live} />;
}
