import type { JobDiskStatus } from '../../shared/domain';
import type { VmaProgress } from './ports';

export interface MapperDisk {
  diskKey: string;
  status: JobDiskStatus;
  /** Bytes this sync must move for the disk, as the VMA reported them (0 until its first Transfer frame). */
  totalBytes: number;
  bytesTransferred: number;
  /** The disk's size: only a weight for the job percent, never a byte total. */
  capacityBytes: number;
}

export interface ProgressSample {
  bytes: number;
  atMs: number;
  rateBps: number;
}

export interface MappedProgress {
  phase: string;
  progressPercent: number;
  bytesTransferred: number;
  totalBytes: number;
  rateBps: number;
  etaSeconds: number | null;
  /** Disk the VMA is copying now (the first one that has not reported its change id). */
  currentDiskKey: string | null;
  diskUpdates: { diskKey: string; status: JobDiskStatus; percent: number; bytesTransferred: number; totalBytes: number }[];
  /** Every disk has reported completion through the change-ID callback. */
  allDisksReported: boolean;
  /** The VMA itself says the job failed, with its reason (the real copier never does; handled if it ever does). */
  vmaError: string | null;
  /** The frame's status word says completed (true after the FIRST disk of a multi-disk job: never evidence that the job is done). */
  vmaSaysCompleted: boolean;
  /** What "moved": if it stays equal for the stall period, the copy is stalled. */
  fingerprint: string;
  sample: ProgressSample;
}

const SETUP_SHARE = 5;
/** Below one byte a second nothing is moving; beyond 30 days an estimate says nothing to an operator. */
const MIN_RATE_FOR_ETA_BPS = 1;
export const MAX_MEANINGFUL_ETA_S = 30 * 24 * 3600;

/** An ETA only when it means something: a measurable rate and an answer within 30 days; else null. */
export function meaningfulEta(remainingBytes: number, rateBps: number): number | null {
  if (!Number.isFinite(rateBps) || rateBps < MIN_RATE_FOR_ETA_BPS || !Number.isFinite(remainingBytes)) return null;
  const eta = Math.round(remainingBytes / rateBps);
  return eta <= MAX_MEANINGFUL_ETA_S ? eta : null;
}
const clampPct = (n: number) => (Number.isFinite(n) ? Math.max(0, Math.min(100, n)) : 0);
const nonNeg = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0);

function errorText(p: VmaProgress): string | null {
  if (p.status === 'failed') return typeof p.last_error === 'string' && p.last_error ? p.last_error : 'the VMA reported the copy as failed';
  if (typeof p.last_error === 'string' && p.last_error.trim()) return p.last_error.trim();
  if (p.last_error && typeof p.last_error === 'object') {
    const m = (p.last_error as { message?: unknown }).message;
    if (typeof m === 'string' && m.trim()) return m.trim();
  }
  return null;
}

/**
 * What "moved" looks like, as one string (made at every answer: a template, not JSON). The strings the
 * VMA chose are prefixed with their length, so no two different reports give the same fingerprint.
 */
function fingerprintOf(phase: string, vmaPct: number, bytes: number, status: string, disks: readonly MapperDisk[]): string {
  let diskStatuses = '';
  for (const d of disks) diskStatuses += `${d.status},`;
  return `${phase.length}:${phase}|${status.length}:${status}|${vmaPct}|${bytes}|${diskStatuses}`;
}

/**
 * The one function that turns a VMA progress report into job status fields. The VMA's percent is per
 * disk and restarts at 0 for each disk, so the job's percent is computed from per-disk bytes: setup
 * phases fill the first 5 %, the transfer the rest, and it never moves backwards within a job.
 */
export function mapProgress(
  progress: VmaProgress,
  disks: readonly MapperDisk[],
  previous: { percent: number; sample: ProgressSample | null },
  nowMs: number,
): MappedProgress {
  const phase = (progress.phase ?? '').trim() || (progress.current_operation ?? '').trim() || 'Waiting for the VMA';
  const vmaPct = clampPct(Number(progress.percentage ?? 0));
  const current = disks.find((d) => d.status !== 'completed') ?? null;
  const inTransfer = /transfer|copy/i.test(phase) || nonNeg(progress.bytes_transferred) > 0;
  // A `completed` frame is the end of a disk the VMA has just finished, and it stays up until the next
  // disk's first Transfer frame. By then that disk may already have reported its change id, so the
  // frame says nothing about the disk we call current: crediting its bytes to the next disk would
  // make that disk look done and push the job to 99.9 % after the first disk.
  const frameIsCurrentDisk = inTransfer && progress.status !== 'completed';

  const allDisksReported = disks.length > 0 && disks.every((d) => d.status === 'completed');
  // Once every disk has reported, the frame on show can only be the last disk's own (the copier pushes
  // a disk's Transfer frames before its change id, and nothing after the last disk): when its copy
  // started and ended between two polls, this is the one chance to learn what it moved.
  const finalFrameTotal = allDisksReported && inTransfer ? nonNeg(progress.total_bytes) : 0;
  const lastKey = disks.at(-1)?.diskKey;
  const diskUpdates = disks.map((d) => {
    if (d.status === 'completed') {
      const total = d.diskKey === lastKey && d.totalBytes === 0 && finalFrameTotal > 0 ? finalFrameTotal : d.totalBytes;
      return { diskKey: d.diskKey, status: d.status, percent: 100, bytesTransferred: Math.max(d.bytesTransferred, total), totalBytes: total };
    }
    if (current && d.diskKey === current.diskKey && frameIsCurrentDisk) {
      const total = nonNeg(progress.total_bytes) || d.totalBytes;
      const bytes = Math.min(total, nonNeg(progress.bytes_transferred) || (total * vmaPct) / 100);
      return { diskKey: d.diskKey, status: 'transferring' as JobDiskStatus, percent: total > 0 ? clampPct((bytes / total) * 100) : vmaPct, bytesTransferred: bytes, totalBytes: total };
    }
    // Keep what was stored for this disk (its last own frame); never borrow another disk's numbers.
    const bytes = Math.min(d.bytesTransferred, d.totalBytes || d.bytesTransferred);
    return { diskKey: d.diskKey, status: d.status, percent: d.totalBytes > 0 ? clampPct((bytes / d.totalBytes) * 100) : 0, bytesTransferred: bytes, totalBytes: d.totalBytes };
  });

  // Job bytes are the sum of what the VMA reported per disk for this sync: an incremental's total is
  // its changed bytes, and a disk the copier has not reached adds nothing yet (its total is unknown,
  // not its capacity), so the total never switches meaning mid-job.
  const totalBytes = diskUpdates.reduce((s, d) => s + d.totalBytes, 0);
  const doneBytes = diskUpdates.reduce((s, d) => s + d.bytesTransferred, 0);
  // The percent weighs each disk's own fraction by its capacity: totals of disks not reached yet are
  // unknown, and summing known totals only would jump to ~100 % after the first disk.
  const weight = (d: MapperDisk) => Math.max(1, d.capacityBytes);
  const allWeight = disks.reduce((s, d) => s + weight(d), 0);
  const doneWeight = diskUpdates.reduce((s, u, i) => {
    const fraction = disks[i]!.status === 'completed' ? 1 : u.totalBytes > 0 ? Math.min(1, u.bytesTransferred / u.totalBytes) : u.status === 'transferring' ? u.percent / 100 : 0;
    return s + weight(disks[i]!) * fraction;
  }, 0);
  let pct: number;
  if (allDisksReported) pct = 100;
  else if (!inTransfer && doneBytes === 0) pct = Math.min(SETUP_SHARE, (vmaPct / 30) * SETUP_SHARE);
  else pct = SETUP_SHARE + (100 - SETUP_SHARE) * (allWeight > 0 ? doneWeight / allWeight : 0);
  pct = Math.max(previous.percent, clampPct(pct));
  if (!allDisksReported) pct = Math.min(pct, 99.9);

  // Rate from our own samples (bytes moved between polls), smoothed; the VMA's throughput field as fallback.
  let rateBps = 0;
  const prev = previous.sample;
  if (prev && nowMs > prev.atMs && doneBytes >= prev.bytes) {
    const instant = ((doneBytes - prev.bytes) * 1000) / (nowMs - prev.atMs);
    rateBps = prev.rateBps > 0 ? prev.rateBps * 0.6 + instant * 0.4 : instant;
  } else if (progress.throughput?.current_mbps) {
    rateBps = nonNeg(progress.throughput.current_mbps) * 1_000_000;
  }
  const remaining = Math.max(0, totalBytes - doneBytes);
  // A disk still pending has not told us what it must move: any estimate would be made up.
  const unknownRemains = diskUpdates.some((d) => d.status === 'pending');
  const etaSeconds = allDisksReported ? 0 : unknownRemains ? null : meaningfulEta(remaining, rateBps);

  return {
    phase,
    progressPercent: Math.round(pct * 10) / 10,
    bytesTransferred: Math.round(doneBytes),
    totalBytes,
    rateBps: Math.round(rateBps),
    etaSeconds,
    currentDiskKey: current?.diskKey ?? null,
    diskUpdates,
    allDisksReported,
    vmaError: errorText(progress),
    vmaSaysCompleted: progress.status === 'completed',
    fingerprint: fingerprintOf(phase, vmaPct, nonNeg(progress.bytes_transferred), String(progress.status ?? ''), disks),
    sample: { bytes: doneBytes, atMs: nowMs, rateBps },
  };
}
