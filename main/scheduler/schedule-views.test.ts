import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../core/core';
import type { SecretStore } from '../secrets/secret-store';
import { groupViews, isOverTarget, scheduleViews, vmSchedulePlans } from './schedule-views';
import type { VmContextSummary, VmGroup } from '../../shared/domain';

const noSecrets: SecretStore = { unavailableReason: () => 'none', set() { throw new Error('no'); }, get: () => null, delete() {} };
let dir: string;
let core: Core;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-views-'));
  core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
});
afterEach(async () => {
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const vm = (name: string) =>
  core.contexts.add({
    vm: { vmwareVmId: `id-${name}`, name, path: `/DC/vm/${name}`, datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
    vcenterHost: 'vc', credentialId: null, vmaApplianceId: null,
  }).id;

describe('replica-age target', () => {
  const group = (target: number | null) => ({ replicaAgeTargetSeconds: target }) as VmGroup;
  const ctx = (at: string | null) => ({ lastSuccessfulSyncAt: at }) as VmContextSummary;
  const now = new Date('2026-06-01T12:00:00Z');
  it('is over when the last good sync is older than the target, or there was none; no target, never over', () => {
    expect(isOverTarget(group(3600), ctx('2026-06-01T10:59:59Z'), now)).toBe(true);
    expect(isOverTarget(group(3600), ctx('2026-06-01T11:00:00Z'), now)).toBe(false);
    expect(isOverTarget(group(3600), ctx(null), now)).toBe(true);
    expect(isOverTarget(group(null), ctx(null), now)).toBe(false);
  });
});

describe('schedule and group views', () => {
  it('count a VM in two groups once, show the next runs in order and nothing for a disabled schedule', () => {
    const [a, b] = [vm('a'), vm('b')];
    const s = core.scheduler.createSchedule({ name: 'n', cronExpression: '0 2 * * *', timezone: 'UTC' });
    const off = core.scheduler.createSchedule({ name: 'off', cronExpression: '0 2 * * *', timezone: 'UTC', enabled: false });
    const g1 = core.groups.create({ name: 'g1', description: '', scheduleId: s.id, maxConcurrentVms: 1, priority: 1, enabled: true, replicaAgeTargetSeconds: 86400 });
    const g2 = core.groups.create({ name: 'g2', description: '', scheduleId: s.id, maxConcurrentVms: 1, priority: 2, enabled: true, replicaAgeTargetSeconds: null });
    core.groups.addMembers(g1.id, [a]);
    core.groups.addMembers(g2.id, [a, b]);
    const now = () => new Date('2026-06-01T12:00:00Z');
    const views = scheduleViews({ scheduler: core.scheduler, schedules: core.schedules, groups: core.groups, executions: core.executions, contexts: core.contexts, jobs: core.jobs, now });
    const v = views.find((x) => x.schedule.id === s.id)!;
    expect(v).toMatchObject({ vmCount: 2, overTarget: 1, running: false, lastExecution: null, groupIds: [g1.id, g2.id] });
    expect(v.nextRuns).toEqual(['2026-06-02T02:00:00.000Z', '2026-06-03T02:00:00.000Z', '2026-06-04T02:00:00.000Z', '2026-06-05T02:00:00.000Z', '2026-06-06T02:00:00.000Z']);
    expect(views.find((x) => x.schedule.id === off.id)!.nextRuns).toEqual([]);
    const gv = groupViews({ scheduler: core.scheduler, schedules: core.schedules, groups: core.groups, executions: core.executions, contexts: core.contexts, jobs: core.jobs, now });
    expect(gv.find((x) => x.group.id === g1.id)!.overTarget).toEqual([a]);
    expect(gv.find((x) => x.group.id === g2.id)!.overTarget).toEqual([]);
  });
});

describe('per-VM schedule plan (the VM table\'s next sync, groups and target)', () => {
  it('takes the earliest enabled schedule, the tightest target, and says why a VM will not be synced', () => {
    const [a, b, c, d, e] = [vm('a'), vm('b'), vm('c'), vm('d'), vm('e')];
    const nightly = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '0 2 * * *', timezone: 'UTC' });
    const hourly = core.scheduler.createSchedule({ name: 'hourly', cronExpression: '30 * * * *', timezone: 'UTC' });
    const off = core.scheduler.createSchedule({ name: 'off', cronExpression: '* * * * *', timezone: 'UTC', enabled: false });
    const g = (name: string, scheduleId: string | null, target: number | null) =>
      core.groups.create({ name, description: '', scheduleId, maxConcurrentVms: 1, priority: 1, enabled: true, replicaAgeTargetSeconds: target });
    const gNightly = g('db', nightly.id, 86400);
    const gHourly = g('web', hourly.id, 7200);
    const gOff = g('frozen', off.id, 600);
    const gNone = g('loose', null, null);
    core.groups.addMembers(gNightly.id, [a, b, d]);
    core.groups.addMembers(gHourly.id, [a]);
    core.groups.addMembers(gOff.id, [c]);
    core.groups.addMembers(gNone.id, [c]);
    core.groups.updateMember(gNightly.id, b, { enabled: false });
    core.contexts.setEnabled(d, false);
    const now = () => new Date('2026-06-01T12:00:00Z');
    const plans = new Map(
      vmSchedulePlans({ scheduler: core.scheduler, schedules: core.schedules, groups: core.groups, executions: core.executions, contexts: core.contexts, jobs: core.jobs, now }).map((p) => [p.contextId, p]),
    );
    expect(plans.get(a)).toMatchObject({ nextSyncAt: '2026-06-01T12:30:00.000Z', nextSyncScheduleName: 'hourly', noSyncReason: null, replicaAgeTargetSeconds: 7200 });
    expect(plans.get(a)!.groups.map((x) => x.name)).toEqual(['db', 'web']);
    expect(plans.get(b)).toMatchObject({ nextSyncAt: null, noSyncReason: 'membership disabled', replicaAgeTargetSeconds: null, groups: [{ name: 'db', memberEnabled: false }] });
    // A disabled schedule never fires, but its group's target still applies to the VM.
    expect(plans.get(c)).toMatchObject({ nextSyncAt: null, noSyncReason: 'no enabled schedule', replicaAgeTargetSeconds: 600 });
    expect(plans.get(d)).toMatchObject({ nextSyncAt: null, noSyncReason: 'VM disabled', replicaAgeTargetSeconds: 86400 });
    expect(plans.get(e)).toMatchObject({ nextSyncAt: null, noSyncReason: 'in no group', groups: [], replicaAgeTargetSeconds: null });
  });
});
