import { describe, expect, it } from 'vitest';
import type { VmContextSummary } from '../../../shared/domain';
import type { JobProgressUpdate } from '../../../shared/contract';
import { RATE_SAMPLES, hasFullList, withContextList, withContextPage, withContextsChanged, withJobProgress, withJobSteps, type LiveState } from './contexts-store';
import { compareVmNames, countStatuses } from '../../../shared/vm-order';

const empty: LiveState = {
  contextsById: {},
  contextIds: [],
  contextsLoaded: false,
  contextsError: null,
  contextsPartial: null,
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

  describe('first page, then the full list', () => {
    // The core's order (shared/vm-order.ts) cut into a first page: what main/db/repositories/vm-contexts.ts answers.
    const everyVm = ['vm-10', 'vm-9', 'VM-2', 'vm-1', 'alpha', 'Beta', 'vm-100', 'vm-11'].map((n, i) => ctx(`id-${i}`, n));
    const inCoreOrder = [...everyVm].sort(compareVmNames);
    const page = { offset: 0, contexts: inCoreOrder.slice(0, 3), counts: countStatuses(everyVm) };

    it('shows the page with the whole set\'s counts, and the full list keeps the page\'s rows where they were', () => {
      const s1 = withContextPage(empty, page);
      expect(s1.contextIds).toEqual(inCoreOrder.slice(0, 3).map((c) => c.id));
      expect(s1).toMatchObject({ contextsLoaded: true, contextsPartial: { total: 8 } });
      expect(hasFullList(s1)).toBe(false);
      // The full list arrives in the database's order; the store puts it in the table's.
      const s2 = withContextList(s1, [...everyVm].reverse());
      expect(s2.contextIds.slice(0, 3)).toEqual(s1.contextIds);
      expect(s2.contextIds).toEqual(inCoreOrder.map((c) => c.id));
      expect(s2.contextsPartial).toBeNull();
      expect(hasFullList(s2)).toBe(true);
      // Rows of the page that did not change keep their objects: they do not re-render.
      expect(s2.contextsById[s1.contextIds[0]!]).toBe(s1.contextsById[s1.contextIds[0]!]);
    });

    it('while only the page is in, applies changes to its rows and leaves VMs outside it to the full list', () => {
      const s1 = withContextPage(empty, page);
      const inside = { ...page.contexts[1]!, status: 'replicating' as const, updatedAt: '2025-03-01T00:00:00.000Z' };
      const outside = { ...inCoreOrder[6]!, status: 'failed' as const };
      const s2 = withContextsChanged(s1, { contexts: [inside, outside, ctx('new', 'aaa-new')], removedIds: [] });
      expect(s2.contextsById[inside.id]).toBe(inside);
      expect(s2.contextIds).toEqual(s1.contextIds);
      expect(s2.contextsById[outside.id]).toBeUndefined();
      expect(s2.contextsById.new).toBeUndefined();
    });
  });
});
