// What a job's progress reads as, in one pure place for the table cell and the panel: the percent is
// computed from the same bytes the text shows (so "3.3 %" never sits beside "0 B of 40 MiB"), setup
// steps are shown as steps rather than as a percent of data, and a sync with nothing to copy says so.
import type { JobStatus } from '../../../shared/domain';
import { TERMINAL_JOB_STATUSES } from '../../../shared/domain';
import { statusText } from '../../../shared/status-text';
import { formatBytes } from './format';

export interface ProgressInput {
  status: JobStatus;
  phase: string;
  bytesTransferred: number;
  totalBytes: number;
}

export interface ProgressView {
  /** Before the copy starts: the step the job is in, and no percent. */
  setup: boolean;
  /** 0–100 from bytes, or null when there is nothing to measure yet. */
  percent: number | null;
  percentText: string;
  /** "1.2 GiB of 40 GiB", "nothing to copy", or the setup step. */
  detail: string;
}

const SETUP: readonly JobStatus[] = ['pending', 'provisioning', 'attaching', 'exporting', 'starting'];

/** One decimal, rounded down: 99.96 % of the bytes is "99.9%", never "100.0%" before the last byte. */
export const percentText = (p: number): string => `${(Math.floor(p * 10) / 10).toFixed(1)}%`;

export function progressView(p: ProgressInput): ProgressView {
  const terminal = (TERMINAL_JOB_STATUSES as readonly JobStatus[]).includes(p.status);
  if (SETUP.includes(p.status)) {
    // The engine's phase names the step ("Publish NBD exports"); the status word is the fallback, and the badge beside it.
    return { setup: true, percent: null, percentText: '', detail: p.phase || statusText(p.status) };
  }
  const bytes = Math.max(0, Number.isFinite(p.bytesTransferred) ? p.bytesTransferred : 0);
  const total = Math.max(0, Number.isFinite(p.totalBytes) ? p.totalBytes : 0);
  if (total === 0) {
    if (p.status === 'completed') return { setup: false, percent: 100, percentText: percentText(100), detail: 'nothing to copy (no changes)' };
    if (terminal) return { setup: false, percent: null, percentText: '', detail: 'no data copied' };
    return { setup: false, percent: null, percentText: '', detail: 'measuring what to copy…' };
  }
  // A completed sync moved everything it had to: say what it copied rather than "3 MiB of 8 MiB · 100%".
  if (p.status === 'completed') {
    return { setup: false, percent: 100, percentText: percentText(100), detail: bytes > 0 ? `${formatBytes(bytes)} copied` : 'nothing to copy (no changes)' };
  }
  const pct = Math.min(100, (bytes / total) * 100);
  return { setup: false, percent: pct, percentText: percentText(pct), detail: `${formatBytes(bytes)} of ${formatBytes(total)}` };
}
