import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../core/core';
import { InMemorySecretStore } from '../secrets/memory-store';
import { overviewView } from './overview';
import type { ViewDeps } from './schedule-views';

let dir: string;
let core: Core;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-overview-'));
  core = new Core({ dataDir: dir, transport: 'cli', secrets: new InMemorySecretStore() });
});
afterEach(async () => {
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const vm = (name: string) =>
  core.contexts.add({
    vm: { vmwareVmId: `id-${name}`, name, path: `/DC/vm/${name}`, datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [{ diskKey: 'disk-2000', label: 'Hard disk 1', vmdkPath: `[ds] ${name}/${name}.vmdk`, datastore: 'ds', capacityBytes: 1 << 20, provisioningType: 'thin', unitNumber: 0 }], networks: [] },
    vcenterHost: 'vc',
    credentialId: null,
    vmaApplianceId: null,
  }).id;
const set = (id: string, fields: Record<string, unknown>) => {
  for (const [k, v] of Object.entries(fields)) core.db.prepare(`UPDATE vm_contexts SET ${k} = ? WHERE id = ?`).run(v, id);
};
/** A completed sync of `bytes` that ran from `start` to `end`. */
const completedJob = (contextId: string, bytes: number, start: string, end: string) => {
  const job = core.jobs.claim({ contextId, trigger: 'ui', now: new Date(start) });
  core.jobs.update(job.id, { bytesTransferred: bytes, totalBytes: bytes });
  core.jobs.updateJobDisk(job.id, 'disk-2000', { status: 'completed', bytesTransferred: bytes, totalBytes: bytes, percent: 100 });
  core.jobs.finish(job.id, 'completed', null, new Date(end));
  core.db.prepare('UPDATE replication_jobs SET started_at = ? WHERE id = ?').run(start, job.id);
  return job.id;
};
const now = new Date('2026-06-01T12:00:00Z');
const deps = (): ViewDeps => ({ scheduler: core.scheduler, schedules: core.schedules, groups: core.groups, executions: core.executions, contexts: core.contexts, jobs: core.jobs, now: () => now });

describe('overview read model', () => {
  it('counts VMs by state, lists what needs attention and the oldest replicas against their targets', () => {
    const [fresh, old, never, broken, torn] = ['fresh', 'old', 'never', 'broken', 'torn'].map(vm) as [string, string, string, string, string];
    completedJob(fresh, 1, '2026-06-01T11:29:00.000Z', '2026-06-01T11:30:00.000Z');
    completedJob(old, 1, '2026-05-30T11:59:00.000Z', '2026-05-30T12:00:00.000Z');
    set(fresh, { current_status: 'ready_for_failover' });
    set(old, { current_status: 'ready_for_failover' });
    set(broken, { current_status: 'failed', last_error: 'stalled: no progress for 10 min' });
    set(torn, { current_status: 'discovered', replica_torn_job_id: 'job-x' });
    const g = core.groups.create({ name: 'g', description: '', scheduleId: null, maxConcurrentVms: 1, priority: 1, enabled: true, replicaAgeTargetSeconds: 3600 });
    const loose = core.groups.create({ name: 'loose', description: '', scheduleId: null, maxConcurrentVms: 1, priority: 1, enabled: true, replicaAgeTargetSeconds: 7 * 86400 });
    core.groups.addMembers(g.id, [fresh, old, never]);
    core.groups.addMembers(loose.id, [old]);

    const v = overviewView(deps());
    expect(v.totalVms).toBe(5);
    expect(Object.fromEntries(v.vmsByState.filter((s) => s.count).map((s) => [s.status, s.count]))).toEqual({ ready_for_failover: 2, discovered: 2, failed: 1 });
    expect(v.vmsByState.reduce((s, x) => s + x.count, 0)).toBe(5);
    expect(v.attention.map((a) => [a.name, a.problem])).toEqual(
      expect.arrayContaining([
        ['broken', 'stalled: no progress for 10 min'],
        ['torn', expect.stringMatching(/torn|incomplete|unfinished/i)],
      ]),
    );
    expect(v.attention).toHaveLength(2);
    // Never synced first, then oldest; the tightest target applies; over target only where a target exists.
    expect(v.oldestReplicas.map((r) => [r.name, r.targetSeconds, r.overTarget])).toEqual([
      ['broken', null, false],
      ['never', 3600, true],
      ['torn', null, false],
      ['old', 3600, true],
      ['fresh', 3600, false],
    ]);
    expect(v.overTargetCount).toBe(2);
  });

  it('sums data replicated since the start of the day and per sync, and lists running jobs and next runs', () => {
    const a = vm('a');
    const b = vm('b');
    completedJob(a, 1000, '2026-05-31T23:00:00.000Z', '2026-05-31T23:50:00.000Z');
    completedJob(a, 3000, '2026-06-01T08:00:00.000Z', '2026-06-01T08:01:00.000Z');
    completedJob(b, 5000, '2026-06-01T09:00:00.000Z', '2026-06-01T09:02:00.000Z');
    const running = core.jobs.claim({ contextId: b, trigger: 'ui', now });
    const s = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '0 2 * * *', timezone: 'UTC' });
    core.scheduler.createSchedule({ name: 'off', cronExpression: '0 1 * * *', timezone: 'UTC', enabled: false });
    const g = core.groups.create({ name: 'g', description: '', scheduleId: s.id, maxConcurrentVms: 1, priority: 1, enabled: true, replicaAgeTargetSeconds: null });
    core.groups.addMembers(g.id, [a, b]);

    const v = overviewView(deps(), '2026-06-01T00:00:00.000Z');
    expect(v.today).toEqual({ since: '2026-06-01T00:00:00.000Z', syncs: 2, bytes: 8000, averageBytesPerSync: 4000 });
    expect(v.recentSyncs.map((r) => [r.name, r.bytes, r.durationMs])).toEqual([
      ['b', 5000, 120_000],
      ['a', 3000, 60_000],
      ['a', 1000, 3_000_000],
    ]);
    expect(v.runningJobs.map((j) => [j.jobId, j.name])).toEqual([[running.id, 'b']]);
    expect(v.nextRuns).toEqual([{ scheduleId: s.id, name: 'nightly', at: '2026-06-02T02:00:00.000Z', vmCount: 2 }]);
    // An earlier start of "today" takes in the late sync of the day before.
    expect(overviewView(deps(), '2026-05-31T00:00:00.000Z').today).toMatchObject({ syncs: 3, bytes: 9000 });
  });
});
