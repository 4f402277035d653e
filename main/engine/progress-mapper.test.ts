import { describe, expect, it } from 'vitest';
import { mapProgress, meaningfulEta, MAX_MEANINGFUL_ETA_S, type MappedProgress, type MapperDisk, type ProgressSample } from './progress-mapper';
import type { VmaProgress } from './ports';

const MiB = 1024 * 1024;

/** Plays VMA frames through the mapper the way the poller persists results between polls. */
class Replay {
  disks: MapperDisk[];
  percent = 0;
  sample: ProgressSample | null = null;
  t = 1_000_000;
  percents: number[] = [];
  last!: MappedProgress;

  constructor(disks: { key: string; total: number; capacity?: number }[]) {
    // As the claim stores them: the byte total is unknown until the VMA reports it; capacity is apart.
    this.disks = disks.map((d) => ({ diskKey: d.key, status: 'pending', totalBytes: 0, bytesTransferred: 0, capacityBytes: d.capacity ?? d.total }));
  }

  frame(p: VmaProgress, stepMs = 1000): MappedProgress {
    this.t += stepMs;
    const m = mapProgress(p, this.disks, { percent: this.percent, sample: this.sample }, this.t);
    this.percent = m.progressPercent;
    this.sample = m.sample;
    this.percents.push(m.progressPercent);
    for (const u of m.diskUpdates) {
      const d = this.disks.find((x) => x.diskKey === u.diskKey)!;
      if (u.status === 'transferring') Object.assign(d, { status: 'transferring', bytesTransferred: u.bytesTransferred, totalBytes: u.totalBytes });
    }
    this.last = m;
    return m;
  }

  /** The change-ID callback for one disk. */
  reported(key: string): void {
    const d = this.disks.find((x) => x.diskKey === key)!;
    d.status = 'completed';
    d.bytesTransferred = d.totalBytes;
  }
}

const setup: VmaProgress[] = [
  { status: 'in_progress', phase: 'Initializing', percentage: 5 },
  { status: 'in_progress', phase: 'Creating Snapshot', percentage: 10 },
  { status: 'in_progress', phase: 'Creating Snapshot', percentage: 15 },
  { status: 'in_progress', phase: 'Setting up NBD', percentage: 20 },
  { status: 'in_progress', phase: 'Preparing Migration', percentage: 30 },
];

const transfer = (total: number, pct: number, status = 'in_progress'): VmaProgress => ({
  status,
  phase: 'Transfer',
  sync_type: 'full',
  percentage: pct,
  bytes_transferred: Math.round((total * pct) / 100),
  total_bytes: total,
  throughput: { current_mbps: 10 },
});

const isNonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

describe('mapProgress over the real VMA sequence (2 disks)', () => {
  const d1 = 24 * MiB;
  const d2 = 16 * MiB;

  function playDisk1(r: Replay): void {
    for (const p of setup) r.frame(p);
    for (const pct of [0, 25, 50, 75, 100]) r.frame(transfer(d1, pct));
  }

  it('keeps setup within the first few percent, never goes backwards and reaches 100 only when every disk reported', () => {
    const r = new Replay([
      { key: 'disk-2000', total: d1 },
      { key: 'disk-2001', total: d2 },
    ]);
    for (const p of setup) r.frame(p);
    expect(r.percent).toBeGreaterThan(0);
    expect(r.percent).toBeLessThanOrEqual(5);
    expect(r.last.phase).toBe('Preparing Migration');
    for (const pct of [0, 25, 50, 75, 100]) r.frame(transfer(d1, pct));
    expect(r.last.currentDiskKey).toBe('disk-2000');
    expect(r.last.diskUpdates[0]).toMatchObject({ status: 'transferring', percent: 100, bytesTransferred: d1 });
    // The copier reports the change id, then pushes "completed" 100 % for disk 1.
    r.reported('disk-2000');
    const afterFirst = r.frame(transfer(d1, 100, 'completed'));
    expect(afterFirst.vmaSaysCompleted).toBe(true);
    expect(afterFirst.allDisksReported).toBe(false);
    expect(afterFirst.progressPercent).toBeLessThan(100);
    expect(afterFirst.currentDiskKey).toBe('disk-2001');
    for (const pct of [0, 30, 60, 100]) {
      const m = r.frame(transfer(d2, pct));
      expect(m.progressPercent).toBeLessThan(100);
      expect(m.allDisksReported).toBe(false);
    }
    r.frame(transfer(d2, 100, 'completed'));
    expect(r.percent).toBeLessThan(100);
    r.reported('disk-2001');
    const done = r.frame(transfer(d2, 100, 'completed'));
    expect(done.allDisksReported).toBe(true);
    expect(done.progressPercent).toBe(100);
    expect(done.etaSeconds).toBe(0);
    expect(done.bytesTransferred).toBe(d1 + d2);
    expect(isNonDecreasing(r.percents)).toBe(true);
    expect(r.percents.filter((p) => p === 100)).toHaveLength(1);
  });

  it("does not credit disk 1's completed frame to disk 2 (job percent follows bytes, not the frozen frame)", () => {
    const r = new Replay([
      { key: 'disk-2000', total: d1 },
      { key: 'disk-2001', total: d2 },
    ]);
    playDisk1(r);
    r.reported('disk-2000');
    const m = r.frame(transfer(d1, 100, 'completed'));
    const disk2 = m.diskUpdates.find((d) => d.diskKey === 'disk-2001')!;
    expect(disk2.bytesTransferred).toBe(0);
    expect(disk2.percent).toBe(0);
    // 24 of 40 MiB are done: 5 % setup share + 95 % × 0.6 = 62 %.
    expect(m.progressPercent).toBeCloseTo(62, 0);
    const halfway = r.frame(transfer(d2, 50));
    expect(halfway.progressPercent).toBeCloseTo(5 + 95 * (32 / 40), 0);
  });

  it('when the completed frame arrives before the change id, disk 1 keeps its bytes and nothing completes', () => {
    const r = new Replay([
      { key: 'disk-2000', total: d1 },
      { key: 'disk-2001', total: d2 },
    ]);
    playDisk1(r);
    const m = r.frame(transfer(d1, 100, 'completed'));
    expect(m.allDisksReported).toBe(false);
    expect(m.vmaSaysCompleted).toBe(true);
    expect(m.currentDiskKey).toBe('disk-2000');
    expect(m.diskUpdates[0]!.bytesTransferred).toBe(d1);
    expect(m.diskUpdates[1]!.bytesTransferred).toBe(0);
    expect(m.progressPercent).toBeLessThan(100);
  });

  it('a single-disk job completes only with the change-id evidence', () => {
    const r = new Replay([{ key: 'disk-2000', total: 8 * MiB }]);
    for (const p of setup) r.frame(p);
    for (const pct of [0, 50, 100]) r.frame(transfer(8 * MiB, pct));
    expect(r.frame(transfer(8 * MiB, 100, 'completed')).progressPercent).toBeLessThan(100);
    r.reported('disk-2000');
    expect(r.frame(transfer(8 * MiB, 100, 'completed')).progressPercent).toBe(100);
  });
});

describe('mapProgress bytes for an incremental sync (issue 7: bytes that were really moved)', () => {
  const cap1 = 24 * MiB;
  const cap2 = 8 * MiB;
  const changed1 = 1 * MiB;
  const changed2 = 512 * 1024;
  const incremental = (total: number, pct: number, status = 'in_progress'): VmaProgress => ({ ...transfer(total, pct, status), sync_type: 'incremental' });

  it("job and disk totals are the VMA's changed bytes, never the capacity, and keep that meaning all job long", () => {
    const r = new Replay([
      { key: 'disk-2000', total: changed1, capacity: cap1 },
      { key: 'disk-2001', total: changed2, capacity: cap2 },
    ]);
    for (const p of setup) {
      r.frame(p);
      expect(r.last.totalBytes).toBe(0);
    }
    const totals: number[] = [];
    for (const pct of [0, 50, 100]) totals.push(r.frame(incremental(changed1, pct)).totalBytes);
    expect(totals).toEqual([changed1, changed1, changed1]);
    expect(r.last.diskUpdates[0]).toMatchObject({ bytesTransferred: changed1, totalBytes: changed1, percent: 100 });
    // Disk 2 has not been reached: it adds nothing to the total (unknown, not its capacity) and no ETA is made up.
    expect(r.last.diskUpdates[1]).toMatchObject({ bytesTransferred: 0, totalBytes: 0 });
    expect(r.last.etaSeconds).toBeNull();
    r.reported('disk-2000');
    r.frame(incremental(changed1, 100, 'completed'));
    for (const pct of [0, 50, 100]) r.frame(incremental(changed2, pct));
    r.reported('disk-2001');
    const done = r.frame(incremental(changed2, 100, 'completed'));
    expect(done.totalBytes).toBe(changed1 + changed2);
    expect(done.bytesTransferred).toBe(changed1 + changed2);
    expect(done.progressPercent).toBe(100);
    expect(isNonDecreasing(r.percents)).toBe(true);
  });

  it("learns the last disk's bytes from the final frame when its copy started and ended between two polls", () => {
    const r = new Replay([
      { key: 'disk-2000', total: changed1, capacity: cap1 },
      { key: 'disk-2001', total: changed2, capacity: cap2 },
    ]);
    for (const p of setup) r.frame(p);
    for (const pct of [0, 100]) r.frame(incremental(changed1, pct));
    r.reported('disk-2000');
    // Between two polls disk 2 copied everything and reported its change id; its completed frame is on show.
    r.reported('disk-2001');
    const done = r.frame(incremental(changed2, 100, 'completed'));
    expect(done.diskUpdates.map((d) => [d.diskKey, d.bytesTransferred, d.totalBytes])).toEqual([
      ['disk-2000', changed1, changed1],
      ['disk-2001', changed2, changed2],
    ]);
    expect(done.totalBytes).toBe(changed1 + changed2);
  });

  it('weighs the job percent by capacity, so the first disk of two does not read as almost done', () => {
    const r = new Replay([
      { key: 'disk-2000', total: changed1, capacity: cap1 },
      { key: 'disk-2001', total: changed2, capacity: cap1 },
    ]);
    for (const p of setup) r.frame(p);
    r.frame(incremental(changed1, 100));
    expect(r.percent).toBeCloseTo(5 + 95 * 0.5, 0);
  });
});

describe('mapProgress details', () => {
  const one: MapperDisk[] = [{ diskKey: 'disk-2000', status: 'pending', totalBytes: 0, bytesTransferred: 0, capacityBytes: 100 * MiB }];

  it('reports a VMA failure with its reason (status failed, last_error string or object)', () => {
    const fresh = { percent: 0, sample: null };
    expect(mapProgress({ status: 'failed', last_error: 'NBD connection reset' }, one, fresh, 1).vmaError).toBe('NBD connection reset');
    expect(mapProgress({ status: 'failed' }, one, fresh, 1).vmaError).toBe('the VMA reported the copy as failed');
    expect(mapProgress({ status: 'in_progress', last_error: { message: ' disk gone ' } }, one, fresh, 1).vmaError).toBe('disk gone');
    expect(mapProgress({ status: 'in_progress', last_error: '  ' }, one, fresh, 1).vmaError).toBeNull();
    expect(mapProgress({ status: 'in_progress', last_error: null, errors: [] }, one, fresh, 1).vmaError).toBeNull();
  });

  it('survives missing and nonsense fields', () => {
    const m = mapProgress({ percentage: Number.NaN, bytes_transferred: -5, total_bytes: undefined }, one, { percent: 0, sample: null }, 1);
    expect(m.phase).toBe('Waiting for the VMA');
    expect(m.progressPercent).toBe(0);
    expect(m.bytesTransferred).toBe(0);
    expect(m.etaSeconds).toBeNull();
    expect(m.vmaError).toBeNull();
    expect(mapProgress({ current_operation: 'Connecting' }, one, { percent: 0, sample: null }, 1).phase).toBe('Connecting');
  });

  it('never goes below the previous percent', () => {
    const m = mapProgress({ status: 'in_progress', phase: 'Initializing', percentage: 5 }, one, { percent: 40, sample: null }, 1);
    expect(m.progressPercent).toBe(40);
  });

  it('computes the rate from its own samples and the ETA from the remaining bytes', () => {
    const first = mapProgress({ phase: 'Transfer', percentage: 10, bytes_transferred: 10 * MiB, total_bytes: 100 * MiB }, one, { percent: 0, sample: null }, 10_000);
    // Without a previous sample the VMA's throughput is the only hint, and it is absent here.
    expect(first.rateBps).toBe(0);
    expect(first.etaSeconds).toBeNull();
    const second = mapProgress({ phase: 'Transfer', percentage: 30, bytes_transferred: 30 * MiB, total_bytes: 100 * MiB }, one, { percent: first.progressPercent, sample: first.sample }, 12_000);
    expect(second.rateBps).toBe(10 * MiB);
    expect(second.etaSeconds).toBe(7);
    // Smoothed with the previous rate: 0.6 × 10 MiB/s + 0.4 × 20 MiB/s.
    const third = mapProgress({ phase: 'Transfer', percentage: 50, bytes_transferred: 50 * MiB, total_bytes: 100 * MiB }, one, { percent: second.progressPercent, sample: second.sample }, 13_000);
    expect(third.rateBps).toBe(Math.round(0.6 * 10 * MiB + 0.4 * 20 * MiB));
    expect(third.etaSeconds).toBe(Math.round((50 * MiB) / third.rateBps));
  });

  it("falls back to the VMA's throughput when it has no sample", () => {
    const m = mapProgress({ phase: 'Transfer', percentage: 10, bytes_transferred: 10 * MiB, total_bytes: 100 * MiB, throughput: { current_mbps: 5 } }, one, { percent: 0, sample: null }, 1);
    expect(m.rateBps).toBe(5_000_000);
    expect(m.etaSeconds).toBe(Math.round((90 * MiB) / 5_000_000));
  });

  it('changes its fingerprint when the copy moves and keeps it when nothing moves', () => {
    const p = { status: 'in_progress', phase: 'Transfer', percentage: 40, bytes_transferred: 40 * MiB, total_bytes: 100 * MiB };
    const a = mapProgress(p, one, { percent: 0, sample: null }, 1).fingerprint;
    expect(mapProgress({ ...p }, one, { percent: 0, sample: null }, 2).fingerprint).toBe(a);
    expect(mapProgress({ ...p, bytes_transferred: 41 * MiB }, one, { percent: 0, sample: null }, 2).fingerprint).not.toBe(a);
    // A disk reporting its change id is movement too.
    expect(mapProgress(p, [{ ...one[0]!, status: 'completed' }], { percent: 0, sample: null }, 2).fingerprint).not.toBe(a);
  });
});

describe('meaningfulEta', () => {
  it('is null without a measurable rate or when the estimate is beyond 30 days, else remaining / rate', () => {
    expect(meaningfulEta(1_000_000, 0)).toBeNull();
    expect(meaningfulEta(1_000_000, 1e-60)).toBeNull();
    expect(meaningfulEta(Number.MAX_SAFE_INTEGER, 2)).toBeNull();
    expect(meaningfulEta(MAX_MEANINGFUL_ETA_S * 10, 10)).toBe(MAX_MEANINGFUL_ETA_S);
    expect(meaningfulEta(3_000_000, 1_000_000)).toBe(3);
  });
});
