import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../database';
import { MIGRATIONS } from '../migrations/index';
import { ScheduleRepository, SCHEDULE_DEFAULTS } from './schedules';
import { VmGroupRepository, GROUP_DEFAULTS } from './vm-groups';
import { ScheduleExecutionRepository } from './schedule-executions';
import { VmContextRepository } from './vm-contexts';
import { JobRepository } from '../../engine/job-repository';
import type { DiscoveredVm } from '../../../shared/discovery';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-schedrepo-'));
});
afterEach(() => {
  db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
const file = () => path.join(dir, 'db.sqlite3');
const now = '2026-01-01T00:00:00.000Z';

const vm = (name: string, n: number): DiscoveredVm => ({
  vmwareVmId: `4205784a-0000-0000-0000-${String(n).padStart(12, '0')}`,
  name,
  path: `/DC1/vm/${name}`,
  datacenter: 'DC1',
  cpus: 2,
  memoryMb: 4096,
  osType: 'linux',
  powerState: 'poweredOn',
  vmxVersion: 'vmx-19',
  disks: [{ diskKey: 'disk-2000', label: 'Hard disk 1', vmdkPath: '[ds] x.vmdk', datastore: 'ds', capacityBytes: 2 ** 30, provisioningType: 'thin', unitNumber: 0 }],
  networks: [],
});

describe('migration 004', () => {
  it('keeps schedules, groups and memberships written under the old shape, and the jobs keep their group link', () => {
    const old = openDatabase(file(), { migrations: MIGRATIONS.filter((m) => m.version <= 2) }).db;
    old.prepare(`INSERT INTO schedules (id, name, cron_expression, timezone, catch_up_policy, retry_delay_minutes, created_at, updated_at) VALUES ('s1','nightly','0 2 * * *','Europe/Berlin','skip',3,?,?)`).run(now, now);
    old.prepare(`INSERT INTO machine_groups (id, name, schedule_id, created_at, updated_at) VALUES ('g1','db servers','s1',?,?)`).run(now, now);
    const ctx = new VmContextRepository(old).add({ vm: vm('pg', 1), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
    old.prepare(`INSERT INTO group_memberships (group_id, vm_context_id, priority, added_at) VALUES ('g1', ?, 7, ?)`).run(ctx.id, now);
    old.prepare(`INSERT INTO replication_jobs (id, vm_context_id, job_type, status, vm_path, trigger, vm_group_id, created_at, updated_at, completed_at) VALUES ('job-1', ?, 'initial', 'completed', '/p', 'scheduler', 'g1', ?, ?, ?)`).run(ctx.id, now, now, now);
    old.close();

    db = openDatabase(file()).db;
    const s = new ScheduleRepository(db).require('s1');
    expect(s).toMatchObject({ name: 'nightly', timezone: 'Europe/Berlin', catchUp: 'skip', retryDelaySeconds: 180, syncType: 'auto' });
    const groups = new VmGroupRepository(db);
    expect(groups.require('g1')).toMatchObject({ name: 'db servers', scheduleId: 's1', replicaAgeTargetSeconds: null });
    expect(groups.members('g1')).toMatchObject([{ vmContextId: ctx.id, vmName: 'pg', priority: 7 }]);
    expect(new JobRepository(db).require('job-1').vmGroupId).toBe('g1');
    // The foreign key now points at vm_groups: an unknown group is refused.
    expect(() => db.prepare(`UPDATE replication_jobs SET vm_group_id = 'nope' WHERE id = 'job-1'`).run()).toThrow(/FOREIGN KEY/);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // The new CHECKs hold.
    expect(() => db.prepare(`UPDATE schedules SET catch_up = 'run_all'`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`UPDATE schedules SET sync_type = 'delta'`).run()).toThrow(/CHECK/);
  });
});

describe('scheduler repositories', () => {
  it('stores every schedule setting and refuses a duplicate name as a conflict', () => {
    db = openDatabase(file()).db;
    const repo = new ScheduleRepository(db);
    const s = repo.create({ ...SCHEDULE_DEFAULTS, name: 'n', cronExpression: '*/5 * * * * *', timezone: 'America/New_York', syncType: 'full', maxConcurrentJobs: 3, skipIfRunning: false, retryAttempts: 2, retryDelaySeconds: 45, catchUp: 'skip', enabled: false });
    expect(repo.require(s.id)).toMatchObject({ cronExpression: '*/5 * * * * *', timezone: 'America/New_York', syncType: 'full', maxConcurrentJobs: 3, skipIfRunning: false, retryAttempts: 2, retryDelaySeconds: 45, catchUp: 'skip', enabled: false });
    expect(repo.update(s.id, { maxConcurrentJobs: 9, enabled: true })).toMatchObject({ maxConcurrentJobs: 9, enabled: true, syncType: 'full' });
    expect(() => repo.create({ ...SCHEDULE_DEFAULTS, name: 'n', cronExpression: '0 * * * *' })).toThrow(/already exists/);
    expect(() => repo.update(s.id, { maxConcurrentJobs: 0 })).toThrow(/CHECK/);
    repo.markSlot(s.id, '2026-01-02T00:00:00.000Z');
    repo.markSlot(s.id, '2026-01-01T00:00:00.000Z'); // never rewinds
    expect(repo.lastSlotAt(s.id)).toBe('2026-01-02T00:00:00.000Z');
  });

  it('orders groups and members by priority; refuses unknown VMs and schedules', () => {
    db = openDatabase(file()).db;
    const contexts = new VmContextRepository(db);
    const [a, b] = [contexts.add({ vm: vm('b-vm', 1), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null }), contexts.add({ vm: vm('a-vm', 2), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null })];
    const groups = new VmGroupRepository(db);
    const g2 = groups.create({ ...GROUP_DEFAULTS, name: 'second', priority: 20 });
    const g1 = groups.create({ ...GROUP_DEFAULTS, name: 'first', priority: 10, replicaAgeTargetSeconds: 86400 });
    expect(groups.list().map((g) => g.name)).toEqual(['first', 'second']);
    groups.addMembers(g1.id, [a.id, b.id]);
    expect(groups.members(g1.id).map((m) => m.vmName)).toEqual(['a-vm', 'b-vm']);
    groups.updateMember(g1.id, a.id, { priority: 1 });
    expect(groups.members(g1.id).map((m) => m.vmName)).toEqual(['b-vm', 'a-vm']);
    groups.addMembers(g2.id, [a.id]); // a VM may be in several groups
    expect(groups.allMembers()).toHaveLength(3);
    expect(() => groups.addMembers(g1.id, ['ctx-missing'])).toThrow(/No VM context/);
    expect(() => groups.update(g1.id, { scheduleId: 'sch-missing' })).toThrow(/No schedule/);
    expect(groups.removeMember(g1.id, a.id).map((m) => m.vmName)).toEqual(['a-vm']);
  });

  it('execution counters come from the jobs and the start failures', () => {
    db = openDatabase(file()).db;
    const s = new ScheduleRepository(db).create({ ...SCHEDULE_DEFAULTS, name: 's', cronExpression: '0 * * * *' });
    const ex = new ScheduleExecutionRepository(db);
    const e = ex.open({ scheduleId: s.id, trigger: 'manual', scheduledFor: now, now });
    const contexts = new VmContextRepository(db);
    const jobs = new JobRepository(db);
    const ids = [1, 2, 3].map((n) => contexts.add({ vm: vm(`v${n}`, n), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null }).id);
    const j = ids.map((c) => jobs.claim({ contextId: c, trigger: 'scheduler', scheduleExecutionId: e.id }));
    expect(ex.recount(e.id)).toMatchObject({ started: 3, completed: 0, failed: 0 });
    jobs.finish(j[0]!.id, 'completed', null);
    jobs.finish(j[1]!.id, 'failed', 'x');
    ex.addStartFailure(e.id, 'ctx-z', 'not in vCenter');
    ex.addSkip(e.id, 'active_job', 'ctx-y');
    expect(ex.require(e.id)).toMatchObject({ started: 3, completed: 1, failed: 2, skippedCount: 1, skipped: { active_job: ['ctx-y'] } });
    expect(ex.activeJobCount(e.id)).toBe(1);
    const fin = ex.finish(e.id, 'partial', '2026-01-01T01:00:00.000Z');
    expect(fin).toMatchObject({ status: 'partial', endedAt: '2026-01-01T01:00:00.000Z' });
    expect(() => db.prepare(`UPDATE schedule_executions SET status = 'running' WHERE id = ?`).run(e.id)).toThrow(/CHECK/);
  });
});
