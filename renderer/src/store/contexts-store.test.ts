import { describe, expect, it } from 'vitest';
import type { VmContextSummary } from '../../../shared/domain';
import type { JobProgressUpdate } from '../../../shared/contract';
import { RATE_SAMPLES, withContextList, withContextsChanged, withJobProgress, withJobSteps, type LiveState } from './contexts-store';

const empty: LiveState = {
  contextsById: {},
  contextIds: [],
  contextsLoaded: false,
  contextsError: null,
  progressByJobId: {},
  rateSamplesByJobId: {},
  stepByJobId: {},
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
    replicaTornJobId: null,
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

  it('keeps the last RATE_SAMPLES rates per job from copy frames only', () => {
    let s = withJobProgress(empty, { updates: [{ ...progress('j1', 1), status: 'provisioning', rateBps: 999 }] });
    expect(s.rateSamplesByJobId.j1).toBeUndefined();
    for (let i = 0; i < RATE_SAMPLES + 5; i++) s = withJobProgress(s, { updates: [{ ...progress('j1', i), rateBps: i * 10 }] });
    const samples = s.rateSamplesByJobId.j1 ?? [];
    expect(samples).toHaveLength(RATE_SAMPLES);
    expect(samples[0]).toBe(50);
    expect(samples.at(-1)).toBe((RATE_SAMPLES + 4) * 10);
  });

  it('keeps known per-disk progress when a frame carries no disks', () => {
    const disk = { diskKey: 'disk-2000', status: 'transferring' as const, percent: 40, bytesTransferred: 4, totalBytes: 10 };
    const s1 = withJobProgress(empty, { updates: [{ ...progress('j1', 10), disks: [disk] }] });
    const s2 = withJobProgress(s1, { updates: [progress('j1', 10)] });
    expect(s2.progressByJobId.j1?.disks).toEqual([disk]);
  });

  it('keeps the latest pushed step change per job and counts them, so a view refetches once per change', () => {
    const change = (jobId: string, step: string, status: 'running' | 'completed') => ({ jobId, vmContextId: 'c1', step, status, durationMs: null, error: null });
    let s = withJobSteps(empty, { changes: [change('j1', 'Provision volumes', 'running'), change('j1', 'Provision volumes', 'completed'), change('j2', 'Provision volumes', 'running')] });
    expect(s.stepByJobId.j1).toMatchObject({ step: 'Provision volumes', status: 'completed', revision: 2 });
    expect(s.stepByJobId.j2).toMatchObject({ status: 'running', revision: 1 });
    const j2 = s.stepByJobId.j2;
    s = withJobSteps(s, { changes: [change('j1', 'Attach volumes to the OMA appliance', 'running')] });
    expect(s.stepByJobId.j1).toMatchObject({ step: 'Attach volumes to the OMA appliance', status: 'running', revision: 3 });
    // Another job's entry is the same object: its view does not re-render.
    expect(s.stepByJobId.j2).toBe(j2);
    expect(withJobSteps(s, { changes: [] })).toBe(s);
  });
});
