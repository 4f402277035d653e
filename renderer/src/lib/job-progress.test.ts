import { describe, expect, it } from 'vitest';
import { percentText, progressView } from './job-progress';

const MiB = 1024 ** 2;

describe('progressView', () => {
  it('computes the percent from the bytes it shows', () => {
    const v = progressView({ status: 'replicating', phase: 'copying', bytesTransferred: 0, totalBytes: 40 * MiB });
    expect(v.percentText).toBe('0.0%');
    expect(v.detail).toBe('0 B of 40.0 MiB');
    const half = progressView({ status: 'replicating', phase: 'copying', bytesTransferred: 20 * MiB, totalBytes: 40 * MiB });
    expect(half.percent).toBe(50);
    expect(half.detail).toBe('20.0 MiB of 40.0 MiB');
  });
  it('shows setup steps as steps, not as a percent of data', () => {
    const v = progressView({ status: 'provisioning', phase: 'creating volume 1 of 2', bytesTransferred: 0, totalBytes: 40 * MiB });
    expect(v.setup).toBe(true);
    expect(v.percent).toBeNull();
    expect(v.percentText).toBe('');
    expect(v.detail).toBe('creating volume 1 of 2');
    expect(progressView({ status: 'attaching', phase: '', bytesTransferred: 0, totalBytes: 1 }).detail).toBe('Attaching volumes');
  });
  it('does not claim 100% before the last byte', () => {
    expect(percentText(99.96)).toBe('99.9%');
    const v = progressView({ status: 'replicating', phase: '', bytesTransferred: 40 * MiB - 1, totalBytes: 40 * MiB });
    expect(v.percentText).toBe('99.9%');
  });
  it('says a sync with nothing to copy had nothing to copy', () => {
    const v = progressView({ status: 'completed', phase: '', bytesTransferred: 0, totalBytes: 0 });
    expect(v.percent).toBe(100);
    expect(v.detail).toBe('nothing to copy (no changes)');
    expect(progressView({ status: 'replicating', phase: '', bytesTransferred: 0, totalBytes: 0 }).percent).toBeNull();
    expect(progressView({ status: 'failed', phase: '', bytesTransferred: 0, totalBytes: 0 }).detail).toBe('no data copied');
  });
  it('says what a completed sync copied instead of a fraction of a different total', () => {
    const v = progressView({ status: 'completed', phase: '', bytesTransferred: 3 * MiB, totalBytes: 8 * MiB });
    expect(v.percentText).toBe('100.0%');
    expect(v.detail).toBe('3.0 MiB copied');
  });
  it('clamps a transferred count beyond the total', () => {
    expect(progressView({ status: 'replicating', phase: '', bytesTransferred: 50 * MiB, totalBytes: 40 * MiB }).percent).toBe(100);
  });
});
