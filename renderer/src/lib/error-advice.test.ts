import { describe, expect, it } from 'vitest';
import { adviceFor } from './error-advice';

describe('adviceFor', () => {
  it('tells the operator what to do for each kind of failure', () => {
    expect(adviceFor('stalled: no progress for 10 min (last: Transfer 40 %); the VMA copier has probably crashed')).toMatch(/copier.*start the replication again/);
    expect(adviceFor('lost: the VMA no longer knows this job (it was restarted ...)')).toMatch(/restarted.*Start the replication again/);
    expect(adviceFor('createVolume job 12 failed: insufficient capacity')).toContain('Settings → CloudStack');
    expect(adviceFor('CloudStack at https://cs is unreachable (ECONNREFUSED) while calling listVolumes')).toContain('Settings → CloudStack');
    expect(adviceFor('Export migration-vol-1 is 10 bytes, smaller than disk-2000')).toContain('OMA appliance');
    expect(adviceFor('interrupted: the console stopped while the job was attaching')).toMatch(/console stopped/);
    expect(adviceFor('Cancelled by the operator')).toMatch(/cancelled/);
    expect(adviceFor('something nobody expected')).toMatch(/Logs/);
  });
});
