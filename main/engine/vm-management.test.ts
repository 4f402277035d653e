import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../core/core';
import { createHandlers } from '../ipc/handlers';
import { dispatch } from '../ipc/dispatch';
import type { SecretStore } from '../secrets/secret-store';
import type { EventPayload } from '../../shared/contract';
import type { VmContextStatus } from '../../shared/domain';

// Disable, enable and remove a VM from management through the IPC handler map over a real SQLite
// database: the zod schema, the refusals while a job or failover works on the VM, what happens to
// memberships and the log, and that a failed volume clean-up leaves the VM managed.

const noSecrets: SecretStore = { unavailableReason: () => 'none', set() { throw new Error('no'); }, get: () => null, delete() {} };
let dir: string;
let core: Core;
let handlers: ReturnType<typeof createHandlers>;
let changes: EventPayload<'contexts:changed'>[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-mgmt-'));
  core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
  handlers = createHandlers(core);
  changes = [];
  core.bus.subscribe((channel, payload) => {
    if (channel === 'contexts:changed') changes.push(payload as EventPayload<'contexts:changed'>);
  });
});
afterEach(async () => {
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const vm = (name: string) =>
  core.contexts.add({
    vm: {
      vmwareVmId: `id-${name}`, name, path: `/DC/vm/${name}`, datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19',
      disks: [{ diskKey: 'disk-2000', label: 'Hard disk 1', vmdkPath: `[ds] ${name}/${name}.vmdk`, datastore: 'ds', capacityBytes: 1 << 20, provisioningType: 'thin', unitNumber: 0 }],
      networks: [],
    },
    vcenterHost: 'vc', credentialId: null, vmaApplianceId: null,
  }).id;

const call = (channel: string, req: unknown) => dispatch(handlers, channel, [req]);
/** The last contexts:changed push a window would receive. */
const lastChange = () => {
  core.bus.flush();
  return changes.at(-1);
};

function walk(id: string, ...to: VmContextStatus[]) {
  for (const s of to) core.contexts.transition(id, s);
}

describe('disable and enable', () => {
  it('disables and enables through the handler, pushes the change, and the engine refuses a disabled VM', async () => {
    const id = vm('web1');
    const off = await call('contexts:set-enabled', { id, enabled: false });
    expect(off).toMatchObject({ ok: true, value: { id, enabled: false } });
    expect(core.contexts.require(id).enabled).toBe(false);
    expect(lastChange()?.contexts[0]).toMatchObject({ id, enabled: false });
    const start = await call('replication:start', { contextId: id });
    expect(start).toMatchObject({ ok: false, error: { code: 'conflict', message: 'web1 is disabled for management; enable it to sync it' } });
    const on = await call('contexts:set-enabled', { id, enabled: true });
    expect(on).toMatchObject({ ok: true, value: { enabled: true } });
    expect(core.contexts.require(id).enabled).toBe(true);
  });

  it('refuses to disable while a job runs or a failover works, and says why', async () => {
    const id = vm('db1');
    const job = core.jobs.claim({ contextId: id, trigger: 'cli' });
    const r = await call('contexts:set-enabled', { id, enabled: false });
    expect(r).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(!r.ok && r.error.message).toBe(`Cannot disable: db1 has an active replication job ${job.id}; cancel it or let it finish first`);
    expect(core.contexts.require(id).enabled).toBe(true);
    core.jobs.finish(job.id, 'completed', null);
    walk(id, 'replicating', 'ready_for_failover', 'failing_over');
    const f = await call('contexts:set-enabled', { id, enabled: false });
    expect(!f.ok && f.error.message).toBe('Cannot disable: db1 is failing over; wait until that finishes');
    expect(core.contexts.require(id).enabled).toBe(true);
  });

  it('validates the request with the contract schema', async () => {
    const r = await call('contexts:set-enabled', { id: 'x', enabled: 'no' });
    expect(r).toMatchObject({ ok: false, error: { code: 'validation' } });
    const v = await call('contexts:remove', { id: 'x', volumes: 'maybe' });
    expect(v).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(!v.ok && v.error.message).toMatch(/^Invalid request for contexts:remove: volumes:/);
  });
});

describe('remove from management', () => {
  it('removes a VM without replica volumes: its memberships go, its log stays, the list is told', async () => {
    const id = vm('old1');
    const keep = vm('keep1');
    const g = core.groups.create({ name: 'g', description: '', scheduleId: null, maxConcurrentVms: 5, priority: 100, enabled: true, replicaAgeTargetSeconds: null });
    core.groups.addMembers(g.id, [id, keep]);
    const plan = await call('contexts:removal-plan', { ids: [id] });
    expect(plan).toMatchObject({ ok: true, value: [{ contextId: id, name: 'old1', volumes: [], refusedKeeping: null, refusedDeleting: null }] });
    const r = await call('contexts:remove', { id, volumes: 'keep' });
    expect(r).toEqual({ ok: true, value: { removed: true, volumes: [] } });
    expect(core.contexts.get(id)).toBeNull();
    expect(core.groups.members(g.id).map((m) => m.vmContextId)).toEqual([keep]);
    expect(lastChange()).toEqual({ contexts: [], removedIds: [id] });
    const op = core.logbook.operations({ kind: 'inventory' })[0];
    expect(op).toMatchObject({ status: 'completed', title: 'Remove old1 from management (keep replica volumes)' });
    expect(core.logbook.events({ operationId: op!.id }).map((e) => e.message)).toContain('old1 removed from management');
  });

  it('refuses while a job runs, while a failover works, and while a test failover VM uses the volumes', async () => {
    const id = vm('busy1');
    const job = core.jobs.claim({ contextId: id, trigger: 'cli' });
    const r1 = await call('contexts:remove', { id, volumes: 'delete' });
    expect(!r1.ok && r1.error).toMatchObject({ code: 'conflict', message: `Cannot remove: busy1 has an active replication job ${job.id}; cancel it or let it finish first` });
    core.jobs.finish(job.id, 'completed', null);
    walk(id, 'replicating', 'ready_for_failover', 'failing_over');
    const r2 = await call('contexts:remove', { id, volumes: 'keep' });
    expect(!r2.ok && r2.error.message).toBe('Cannot remove: busy1 is failing over; wait until that finishes');
    walk(id, 'failed_over_test');
    const r3 = await call('contexts:remove', { id, volumes: 'keep' });
    expect(!r3.ok && r3.error.message).toBe('Cannot remove: busy1 has a test failover VM running on its replica volumes; roll the test failover back first');
    expect(core.contexts.get(id)).not.toBeNull();
    expect(core.logbook.operations({ kind: 'inventory' })).toEqual([]);
  });

  it('after a live failover keeps the volumes with the CloudStack VM and refuses to delete them', async () => {
    const id = vm('moved1');
    walk(id, 'replicating', 'ready_for_failover', 'failing_over', 'failed_over_live');
    const disk = core.contexts.disks(id)[0]!;
    core.volumes.recordCreated({ id: 'vol-live-1', vmDiskId: disk.id, name: 'moved1-disk-2000', sizeBytes: 1 << 30, zoneId: 'z1' });
    core.volumes.setState('vol-live-1', 'attached', 'cs-vm-moved1');
    const [plan] = handlers['contexts:removal-plan']({ ids: [id] }) as Awaited<ReturnType<typeof core.management.plan>>;
    expect(plan).toMatchObject({ failedOverLive: true, refusedKeeping: null, volumes: [{ id: 'vol-live-1', name: 'moved1-disk-2000', attached: true }] });
    expect(plan!.refusedDeleting).toMatch(/failed over live: its replica volumes are now the disks of the CloudStack VM/);
    const del = await call('contexts:remove', { id, volumes: 'delete' });
    expect(del).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(core.contexts.get(id)).not.toBeNull();
    // Keeping touches neither CloudStack nor the OMA (none is configured here): the volume stays as it is.
    const keep = await call('contexts:remove', { id, volumes: 'keep' });
    expect(keep).toEqual({ ok: true, value: { removed: true, volumes: [{ id: 'vol-live-1', name: 'moved1-disk-2000', outcome: 'kept' }] } });
    expect(core.volumes.get('vol-live-1')).toMatchObject({ state: 'attached', attachedVmId: 'cs-vm-moved1' });
  });

  it('leaves the VM managed, with the reason, when its volumes cannot be cleaned up', async () => {
    const id = vm('stuck1');
    const disk = core.contexts.disks(id)[0]!;
    core.volumes.recordCreated({ id: 'vol-1', vmDiskId: disk.id, name: 'stuck1-disk-2000', sizeBytes: 1 << 30, zoneId: 'z1' });
    core.volumes.setState('vol-1', 'attached', 'oma-vm');
    const r = await call('contexts:remove', { id, volumes: 'delete' });
    expect(r.ok).toBe(false);
    // CloudStack is not configured in this data directory: the settings error says what to do.
    expect(!r.ok && r.error.code).toBe('validation');
    expect(core.contexts.get(id)).not.toBeNull();
    expect(core.volumes.get('vol-1')).toMatchObject({ state: 'attached' });
    const op = core.logbook.operations({ kind: 'inventory' })[0];
    expect(op).toMatchObject({ status: 'failed' });
    expect(core.logbook.events({ operationId: op!.id }).at(-1)?.message).toMatch(/^stuck1 stays under management: /);
  });
});
