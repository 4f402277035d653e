import { describe, expect, it } from 'vitest';
import { adviceFor, operatorError } from './error-advice';

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

describe('operatorError', () => {
  it('never shows an internal channel name', () => {
    const invalid = operatorError({ code: 'validation', message: 'Invalid request for logs:operations: to: from must be before to' });
    expect(invalid).toEqual({ what: 'to: from must be before to', todo: expect.stringMatching(/nothing was changed/) });
    const crash = operatorError({ code: 'internal', message: 'appliances:connect failed unexpectedly; see the application log' });
    expect(crash.what).toBe('The console hit an unexpected error while doing this.');
    expect(crash.todo).toMatch(/application log/);
    expect(operatorError({ code: 'auth', message: 'Refused jobs:cancel: token expired' }).what).toBe('Refused: token expired');
    expect(operatorError({ code: 'remote_error', message: 'while calling cloudstack:test the core said no' }).what).toBe('while calling the request the core said no');
  });

  it('cuts a transport dump to its first line and a bounded length', () => {
    const dump = operatorError({ code: 'remote_error', message: 'fetch failed\n    at node:internal/deps/undici:13502:13\n    at process.processTicksAndRejections' });
    expect(dump.what).toBe('fetch failed (full detail in the application log)');
    expect(operatorError({ code: 'remote_error', message: 'x'.repeat(2000) }).what).toHaveLength(400);
  });

  it('says what to do for each kind, with the replication advice for remote failures', () => {
    expect(operatorError({ code: 'host_key_mismatch', message: 'changed' }).todo).toContain('Settings → Appliances');
    expect(operatorError({ code: 'unreachable', message: 'lab-vma is not connected: backoff' }).todo).toContain('VMA');
    expect(operatorError({ code: 'unreachable', message: 'The connection to the core was lost' }).todo).toMatch(/tunnels/);
    expect(operatorError({ code: 'remote_error', message: 'createVolume job 12 failed' }).todo).toBe(adviceFor('createVolume job 12 failed'));
  });
});
