import { describe, expect, it } from 'vitest';
import { notificationFor } from './notifications';
import type { JobEnded } from './job-activity';

const ended = (status: JobEnded['status'], error: string | null = null): JobEnded => ({ jobId: 'job-1', vmContextId: 'ctx-1', status, error });

describe('notificationFor', () => {
  it('says nothing when notifications are off', () => {
    expect(notificationFor(ended('failed', 'x'), 'off', 'web-01')).toBeNull();
    expect(notificationFor(ended('completed'), 'off', 'web-01')).toBeNull();
  });

  it('limited to failures, only failures notify', () => {
    expect(notificationFor(ended('completed'), 'failures', 'web-01')).toBeNull();
    expect(notificationFor(ended('failed', 'VMA unreachable'), 'failures', 'web-01')).toEqual({
      title: 'Replication of web-01 failed',
      body: 'VMA unreachable',
      open: { vmContextId: 'ctx-1', jobId: 'job-1' },
    });
  });

  it('with all, completions notify too and clicking opens that job; cancels never do', () => {
    expect(notificationFor(ended('completed'), 'all', 'web-01')).toMatchObject({ title: 'Replication of web-01 completed', open: { jobId: 'job-1' } });
    expect(notificationFor(ended('cancelled'), 'all', 'web-01')).toBeNull();
    expect(notificationFor(ended('failed'), 'all', null)?.title).toBe('Replication of ctx-1 failed');
  });
});
