import { describe, expect, it } from 'vitest';
import { replicaTornText } from './replica-state-text';

describe('replicaTornText', () => {
  it('names the job that tore the replica and what clears it; nothing when consistent', () => {
    expect(replicaTornText({ replicaTornJobId: null })).toBeNull();
    const t = replicaTornText({ replicaTornJobId: 'job-20261202-010000.000-abcdef' });
    expect(t).toContain('job-20261202-010000.000-abcdef');
    expect(t).toMatch(/not ready for failover until a sync completes/);
  });
});
