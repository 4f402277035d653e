import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../core/core';
import { InMemorySecretStore } from '../secrets/memory-store';
import { GROUP_DEFAULTS } from '../db/repositories/vm-groups';
import type { LogOperation } from '../../shared/domain';

// Operator actions are recorded where they happen (the services), over the real database of a core.
let dir: string;
let core: Core;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-rec-'));
  core = new Core({ dataDir: dir, transport: 'cli', secrets: new InMemorySecretStore() });
});
afterEach(async () => {
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ops = (kind?: LogOperation['kind']): LogOperation[] => core.logbook.operations(kind ? { kind } : {}).reverse();
const messages = (op: LogOperation) => core.logbook.events({ operationId: op.id }).map((e) => e.message);

describe('the logbook records every operator action', () => {
  it('vCenter credentials: added and removed, never with the password', () => {
    const c = core.credentials.add({ name: 'lab', vcenterHost: 'vc.example', username: 'admin', datacenter: 'DC', password: 'hunter2' });
    core.credentials.remove(c.id);
    expect(ops('credential').map((o) => [o.title, o.status])).toEqual([
      ['vCenter credential lab added', 'completed'],
      ['vCenter credential lab removed', 'completed'],
    ]);
    expect(messages(ops('credential')[0]!)).toEqual(['vCenter credential lab added (admin on vc.example)']);
    expect(JSON.stringify(core.db.prepare('SELECT * FROM log_events').all())).not.toContain('hunter2');
  });

  it('appliances: added, host key trusted and forgotten, removed', async () => {
    const a = core.appliances.add({ kind: 'vma', name: 'vma-1', host: '127.0.0.1', port: 2222, username: 'root', authMethod: 'password', password: 'pw' });
    const fp = `SHA256:${'A'.repeat(43)}`;
    await core.appliances.trustHostKey(a.id, fp);
    await core.appliances.forgetHostKey(a.id);
    await core.appliances.remove(a.id);
    expect(ops('appliance').map((o) => o.title)).toEqual([
      'VMA vma-1 added',
      'Host key of vma-1 trusted',
      'Host key of vma-1 forgotten',
      'VMA vma-1 removed',
    ]);
    expect(messages(ops('appliance')[1]!)).toEqual([`Host key of vma-1 trusted: ${fp}`]);
    expect(JSON.stringify(core.db.prepare('SELECT * FROM log_events').all())).not.toContain('"pw"');
  });

  it('CloudStack configuration: what changed, keys only named as replaced', () => {
    core.cloudstack.save({ apiUrl: 'http://cs.example/client/api', apiKey: 'AK-secret', secretKey: 'SK-secret', zoneId: 'z1' });
    core.cloudstack.save({ apiUrl: 'http://cs.example/client/api', zoneId: 'z2' });
    core.cloudstack.save({ apiUrl: 'http://cs.example/client/api' });
    const [first, second, third] = ops('cloudstack');
    expect(messages(first!)[0]).toMatch(/apiUrl \(none\) → http:\/\/cs\.example\/client\/api; zoneId \(none\) → z1;.*API keys replaced$/);
    expect(messages(second!)).toEqual(['CloudStack configuration saved: zoneId z1 → z2']);
    expect(messages(third!)).toEqual(['CloudStack configuration saved (no changes)']);
    expect(JSON.stringify(core.db.prepare('SELECT * FROM log_events').all())).not.toMatch(/AK-secret|SK-secret/);
  });

  it('schedules: created, changed, each run with its outcome, deleted', async () => {
    const s = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '0 2 * * *', timezone: 'UTC' });
    core.scheduler.updateSchedule(s.id, { maxConcurrentJobs: 3 });
    const ex = core.scheduler.runNow(s.id);
    const done = await core.scheduler.whenExecutionEnds(ex.id);
    core.scheduler.deleteSchedule(s.id);
    expect(ops('schedule').map((o) => [o.title, o.status])).toEqual([
      ['Schedule nightly created', 'completed'],
      ['Schedule nightly changed', 'completed'],
      ['Manual run of schedule nightly', 'completed'],
      ['Schedule nightly deleted', 'completed'],
    ]);
    const run = core.logbook.operation(ex.id)!;
    expect(messages(run)).toEqual(['0 VM(s) eligible from 0 enabled group(s)', `Run ${done.status}: 0 completed, 0 failed, 0 skipped of 0 eligible`]);
    expect(messages(ops('schedule')[1]!)).toEqual(['Schedule nightly changed: maxConcurrentJobs']);
  });

  it('a schedule run names each VM it skips', async () => {
    const vm = core.contexts.add({
      vm: { vmwareVmId: 'vm-1', name: 'web-01', path: '/DC/vm/web-01', datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
      vcenterHost: 'vc',
      credentialId: null,
      vmaApplianceId: null,
    });
    const s = core.scheduler.createSchedule({ name: 'hourly', cronExpression: '0 * * * *', timezone: 'UTC' });
    const g = core.groups.create({ ...GROUP_DEFAULTS, name: 'g', scheduleId: s.id });
    core.groups.addMembers(g.id, [vm.id]);
    core.scheduler.updateSchedule(s.id, { enabled: false });
    const ex = core.scheduler.runNow(s.id);
    await core.scheduler.whenExecutionEnds(ex.id);
    const run = core.logbook.operation(ex.id)!;
    expect(run.title).toBe('Manual run of schedule hourly');
    expect(messages(run)).toContain('web-01: skipped (schedule disabled)');
  });

  it('appliance edits: the change is recorded, a new address unpins the host key, a new secret replaces the old', async () => {
    const a = core.appliances.add({ kind: 'vma', name: 'vma-1', host: '127.0.0.1', port: 2222, username: 'root', authMethod: 'password', password: 'old-pw' });
    await core.appliances.trustHostKey(a.id, `SHA256:${'B'.repeat(43)}`);
    const same = await core.appliances.update({ id: a.id, username: 'admin', password: 'new-pw' });
    expect(same).toMatchObject({ username: 'admin', hostKeyFingerprint: `SHA256:${'B'.repeat(43)}` });
    const secretRef = core.appliances.record(a.id).secretRef!;
    expect(JSON.parse(core.secrets.get(secretRef)!)).toEqual({ password: 'new-pw' });
    const moved = await core.appliances.update({ id: a.id, host: '127.0.0.2' });
    expect(moved.hostKeyFingerprint).toBeNull();
    expect(ops('appliance').slice(-2).map((o) => messages(o)[0])).toEqual([
      'VMA vma-1 changed: username root → admin; SSH secret replaced',
      'VMA vma-1 changed: host 127.0.0.1 → 127.0.0.2; host key unpinned (new address)',
    ]);
    const other = core.appliances.add({ kind: 'vma', name: 'vma-2', host: '127.0.0.1', port: 2223, username: 'root', authMethod: 'password', password: 'pw' });
    await expect(core.appliances.update({ id: other.id, name: 'vma-1' })).rejects.toMatchObject({ code: 'conflict' });
    expect(JSON.stringify(core.db.prepare('SELECT * FROM log_events').all())).not.toMatch(/old-pw|new-pw/);
  });

  it('credential edits: changed fields and a replaced password are recorded, the password is not', () => {
    const c = core.credentials.add({ name: 'lab', vcenterHost: 'vc.example', username: 'admin', datacenter: 'DC', password: 'pw-1' });
    core.credentials.update({ id: c.id, username: 'svc', password: 'pw-2' });
    expect(core.secrets.get(core.credentials.repo.require(c.id).secretRef)).toBe('pw-2');
    expect(messages(ops('credential').at(-1)!)).toEqual(['vCenter credential lab changed: username admin → svc; password replaced']);
    expect(JSON.stringify(core.db.prepare('SELECT * FROM log_events').all())).not.toMatch(/pw-1|pw-2/);
  });
});
