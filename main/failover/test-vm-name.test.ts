import { describe, expect, it } from 'vitest';
import { testVmName } from './failover-service';

describe('test VM names', () => {
  const at = new Date('2026-12-02T01:02:03.456Z');
  it('is <vm>-test-<timestamp> for a plain name', () => {
    expect(testVmName('pgtest1', at)).toBe('pgtest1-test-20261202010203');
  });
  it('turns a VMware display name into a CloudStack host name of at most 63 characters', () => {
    expect(testVmName('SQL Server_01 (prod)', at)).toBe('sql-server-01-prod-test-20261202010203');
    expect(testVmName('1st-box', at)).toBe('vm-1st-box-test-20261202010203');
    const long = testVmName('x'.repeat(100), at);
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^x+-test-20261202010203$/);
    expect(testVmName('___', at)).toBe('vm-test-20261202010203');
  });
});
