import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../database';
import { VmContextRepository } from './vm-contexts';
import { FailoverRepository } from './failovers';
import { NetworkMappingRepository } from './network-mappings';
import type { DiscoveredVm } from '../../../shared/discovery';

let dir: string;
let db: Db;
let contexts: VmContextRepository;
let failovers: FailoverRepository;
let mappings: NetworkMappingRepository;
let ctxId: string;

const vm = (id: string, name: string, networks: string[]): DiscoveredVm => ({
  vmwareVmId: id,
  name,
  path: `/DC1/vm/${name}`,
  datacenter: 'DC1',
  cpus: 2,
  memoryMb: 4096,
  osType: 'linux',
  powerState: 'poweredOn',
  vmxVersion: 'vmx-15',
  disks: [{ diskKey: 'disk-2001', label: 'Hard disk 2', vmdkPath: '[ds] a.vmdk', datastore: 'ds', capacityBytes: 2 ** 30, provisioningType: 'thin', unitNumber: 1 }],
  networks: networks.map((n) => ({ label: n, networkName: n, adapterType: 'vmxnet3', macAddress: '', connected: true })),
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-fo-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  contexts = new VmContextRepository(db);
  failovers = new FailoverRepository(db);
  mappings = new NetworkMappingRepository(db);
  ctxId = contexts.add({ vm: vm('vm-1', 'db01', ['LAN', 'DMZ']), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null }).id;
  contexts.transition(ctxId, 'replicating');
  contexts.transition(ctxId, 'ready_for_failover');
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const openTest = (over: Partial<Parameters<FailoverRepository['open']>[0]> = {}) =>
  failovers.open({ vmContextId: ctxId, kind: 'test', vmName: 'db01-test-1', findings: [], override: null, ports: [22], options: {}, from: ['ready_for_failover'], ...over });

describe('failover rows', () => {
  it("keeps the operator's options with the failover and updates them (a rollback's power-on choice)", () => {
    const f = openTest({ kind: 'live', options: { powerOffTimeoutSeconds: 90, finalSync: false, sourceOnFailure: 'keep_off' } });
    expect(failovers.require(f.id).options).toEqual({ powerOffTimeoutSeconds: 90, finalSync: false, sourceOnFailure: 'keep_off' });
    failovers.update(f.id, { options: { ...f.options, rollbackPowerOn: false } });
    expect(failovers.require(f.id).options.rollbackPowerOn).toBe(false);
  });

  it('open claims the VM (failing_over) and the row together; a second open is a conflict', () => {
    const f = openTest({
      findings: [{ code: 'job_running', severity: 'error', message: 'x', subject: 'job-1' }],
      override: { by: 'alice', at: '2026-12-02T00:00:00.000Z', findings: ['job_running:job-1'] },
    });
    expect(f).toMatchObject({ status: 'pending', kind: 'test', ports: [22], override: { by: 'alice', findings: ['job_running:job-1'] } });
    expect(contexts.require(ctxId).status).toBe('failing_over');
    expect(() => openTest()).toThrow(/already has failover/);
    expect(failovers.openFor(ctxId)?.id).toBe(f.id);
  });

  it('refuses a VM that is not in an allowed status, and touches nothing', () => {
    contexts.transition(ctxId, 'replicating');
    expect(() => openTest()).toThrow(/replicating/);
    expect(failovers.list()).toEqual([]);
    expect(contexts.require(ctxId).status).toBe('replicating');
  });

  it('records progress, then one terminal outcome with the VM status; an ended failover is never revived', () => {
    const f = openTest();
    failovers.update(f.id, { status: 'snapshotting', phase: 'Snapshot', snapshots: [{ diskKey: 'disk-2001', volumeId: 'v', snapshotId: 's', moved: false }] });
    failovers.update(f.id, { cloudstackVmId: 'cs-vm', evidence: { state: 'Running', ips: ['10.0.0.5'], portChecks: [], portChecksSkipped: 'none', observedAt: 'now' } });
    const done = failovers.settle(f.id, 'completed', 'failed_over_test');
    expect(done).toMatchObject({ status: 'completed', cloudstackVmId: 'cs-vm', snapshots: [{ snapshotId: 's' }], evidence: { ips: ['10.0.0.5'] } });
    expect(done.endedAt).not.toBeNull();
    expect(contexts.require(ctxId).status).toBe('failed_over_test');
    failovers.settle(f.id, 'rolling_back', 'rolling_back');
    failovers.settle(f.id, 'rolled_back', 'ready_for_failover');
    expect(() => failovers.update(f.id, { phase: 'again' })).toThrow(/already ended/);
    expect(() => failovers.settle(f.id, 'completed', 'failed_over_test')).toThrow(/already ended/);
    expect(contexts.require(ctxId).status).toBe('ready_for_failover');
    // A new failover may start once the previous one has ended.
    expect(openTest().id).not.toBe(f.id);
  });

  it('an illegal VM move rolls the whole settle back', () => {
    const f = openTest();
    expect(() => failovers.settle(f.id, 'completed', 'discovered')).toThrow(/cannot go/);
    expect(failovers.require(f.id).status).toBe('pending');
  });

  it('lists working failovers for the restart reconciliation', () => {
    const f = openTest();
    failovers.update(f.id, { status: 'creating_vm' });
    expect(failovers.working(['creating_vm']).map((x) => x.id)).toEqual([f.id]);
    expect(failovers.working(['rolling_back'])).toEqual([]);
  });
});

describe('network mappings and boot disk', () => {
  it('maps per VM, keeps the other kind when one is set, and clears with null', () => {
    mappings.set(ctxId, 'LAN', { liveNetworkId: 'live-1' });
    mappings.set(ctxId, 'LAN', { testNetworkId: 'test-1' });
    expect(mappings.forContext(ctxId)).toEqual([{ vmContextId: ctxId, sourceNetwork: 'LAN', liveNetworkId: 'live-1', testNetworkId: 'test-1' }]);
    mappings.set(ctxId, 'LAN', { liveNetworkId: null });
    expect(mappings.forContext(ctxId)[0]).toMatchObject({ liveNetworkId: null, testNetworkId: 'test-1' });
  });

  it('bulk maps one source network name on every VM that has it', () => {
    const other = contexts.add({ vm: vm('vm-2', 'web01', ['DMZ']), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null }).id;
    const third = contexts.add({ vm: vm('vm-3', 'app01', ['BACKUP']), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null }).id;
    expect(mappings.setByName('DMZ', { testNetworkId: 'iso-1' }).sort()).toEqual([ctxId, other].sort());
    expect(mappings.forContext(other)).toEqual([{ vmContextId: other, sourceNetwork: 'DMZ', liveNetworkId: null, testNetworkId: 'iso-1' }]);
    expect(mappings.forContext(third)).toEqual([]);
  });

  it('stores the boot disk only for a disk the VM has', () => {
    expect(mappings.bootDisk(ctxId)).toBeNull();
    expect(() => mappings.setBootDisk(ctxId, 'disk-2000')).toThrow(/no disk disk-2000/);
    mappings.setBootDisk(ctxId, 'disk-2001');
    expect(mappings.bootDisk(ctxId)).toBe('disk-2001');
  });
});
