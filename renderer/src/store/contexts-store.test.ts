import { describe, expect, it } from 'vitest';
import type { VmContextSummary } from '../../../shared/domain';
import type { JobProgressUpdate } from '../../../shared/contract';
import { withContextList, withContextsChanged, withJobProgress, type LiveState } from './contexts-store';

const empty: LiveState = {
  contextsById: {},
  contextIds: [],
  contextsLoaded: false,
  contextsError: null,
  progressByJobId: {},
  tunnelsByAppliance: {},
};

function ctx(id: string, name: string, updatedAt = '2025-01-01T00:00:00.000Z'): VmContextSummary {
  return {
    id,
    vmwareVmId: `vm-${id}`,
    vcenterHost: 'vc.test',
    name,
    path: `/dc/vm/${name}`,
    datacenter: 'dc',
    status: 'discovered',
    currentJobId: null,
    specs: { cpus: 2, memoryMb: 4096, osType: 'otherGuest', powerState: 'poweredOn', vmxVersion: 'vmx-19', networks: [] },
    diskCount: 1,
    totalBytes: 1024,
    totalJobs: 0,
    successfulJobs: 0,
    failedJobs: 0,
    lastSuccessfulJobId: null,
    lastSuccessfulSyncAt: null,
    lastError: null,
    enabled: true,
    credentialId: null,
    vmaApplianceId: null,
    lastDiscoveredAt: null,
    createdAt: updatedAt,
    updatedAt,
  };
}

const progress = (jobId: string, pct: number): JobProgressUpdate => ({
  jobId,
  vmContextId: 'a',
  status: 'replicating',
  phase: 'copy',
  progressPercent: pct,
  bytesTransferred: 0,
  totalBytes: 0,
  rateBps: 0,
  etaSeconds: null,
  error: null,
  disks: [],
});

describe('live contexts store', () => {
  it('orders ids by name, numerically', () => {
    const s = withContextList(empty, [ctx('a', 'vm-10'), ctx('b', 'vm-2'), ctx('c', 'alpha')]);
    expect(s.contextIds).toEqual(['c', 'b', 'a']);
    expect(s.contextsLoaded).toBe(true);
  });

  it('replaces only the changed entries and keeps the id list when order is unaffected', () => {
    const s1 = withContextList(empty, [ctx('a', 'one'), ctx('b', 'two'), ctx('c', 'three')]);
    const updated = { ...ctx('b', 'two', '2025-01-02T00:00:00.000Z'), status: 'replicating' as const };
    const s2 = withContextsChanged(s1, { contexts: [updated], removedIds: [] });
    expect(s2.contextsById.a).toBe(s1.contextsById.a);
    expect(s2.contextsById.c).toBe(s1.contextsById.c);
    expect(s2.contextsById.b).toBe(updated);
    expect(s2.contextIds).toBe(s1.contextIds);
  });

  it('re-sorts on additions, renames and removals', () => {
    const s1 = withContextList(empty, [ctx('a', 'b-vm'), ctx('b', 'd-vm')]);
    const s2 = withContextsChanged(s1, { contexts: [ctx('c', 'a-vm')], removedIds: ['b'] });
    expect(s2.contextIds).toEqual(['c', 'a']);
    expect(s2.contextsById.b).toBeUndefined();
    const s3 = withContextsChanged(s2, { contexts: [ctx('a', '0-first')], removedIds: [] });
    expect(s3.contextIds).toEqual(['a', 'c']);
  });

  it('keeps unchanged objects across a full reload', () => {
    const s1 = withContextList(empty, [ctx('a', 'one'), ctx('b', 'two')]);
    const s2 = withContextList(s1, [ctx('a', 'one'), ctx('b', 'two', '2025-02-01T00:00:00.000Z')]);
    expect(s2.contextsById.a).toBe(s1.contextsById.a);
    expect(s2.contextsById.b).not.toBe(s1.contextsById.b);
  });

  it('applies job progress per job id without touching other jobs', () => {
    const s1 = withJobProgress(empty, { updates: [progress('j1', 10), progress('j2', 20)] });
    const s2 = withJobProgress(s1, { updates: [progress('j1', 50)] });
    expect(s2.progressByJobId.j1?.progressPercent).toBe(50);
    expect(s2.progressByJobId.j2).toBe(s1.progressByJobId.j2);
    expect(withJobProgress(s2, { updates: [] })).toBe(s2);
  });
});
