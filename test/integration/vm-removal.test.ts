import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../../main/core/core';
import { MemorySecretStore, makeDiscoveredVm } from '../fixtures/browser';
import { startCloudStackSimulator, type CloudStackSimulator } from '../sim/cloudstack/simulator';

// Removing a VM from management against the CloudStack simulator (real HTTP, signed requests): with
// "delete" its replica volume is detached from the OMA VM and deleted; with "keep" it is detached from
// the OMA VM and stays in CloudStack; the VM is forgotten only after CloudStack did what was asked.
// The volumes carry no active NBD export here, so the OMA is not asked anything.
let sim: CloudStackSimulator;
let core: Core;
let dir: string;

beforeAll(async () => {
  sim = await startCloudStackSimulator({ asyncJobDelayMs: 5 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-removal-'));
  core = new Core({ dataDir: dir, transport: 'cli', secrets: new MemorySecretStore() });
  const oma = core.appliances.add({
    kind: 'oma', name: 'oma-1', host: '127.0.0.1', port: 22, username: 'mk', authMethod: 'password', password: 'x',
    nbdHost: '127.0.0.1', nbdPort: 10809, cloudstackVmId: sim.omaVmId,
  });
  core.cloudstack.save({
    apiUrl: sim.url, apiKey: sim.apiKey, secretKey: sim.secretKey,
    zoneId: [...sim.state.zones.values()][0]!.id,
    diskOfferingId: [...sim.state.diskOfferings.values()].find((o) => o.iscustomized)!.id,
    omaApplianceId: oma.id, omaVmId: sim.omaVmId,
  });
});
afterAll(async () => {
  await core?.close();
  await sim?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A managed VM whose one disk has a replica volume attached to the OMA VM (in CloudStack and in the database). */
async function vmWithReplica(name: string): Promise<{ id: string; volumeId: string }> {
  const ctx = core.contexts.add({ vm: makeDiscoveredVm(name, 1), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
  const client = core.cloudstack.client();
  const v = core.cloudstack.view();
  const vol = await client.createVolume({ name: `${name}-disk-2000`, zoneid: v.zoneId!, diskofferingid: v.diskOfferingId!, sizeGiB: 1 });
  await client.attachVolume(vol.id, sim.omaVmId);
  const disk = core.contexts.disks(ctx.id)[0]!;
  core.volumes.recordCreated({ id: vol.id, vmDiskId: disk.id, name: vol.name, sizeBytes: 1 << 30, zoneId: v.zoneId! });
  core.volumes.setState(vol.id, 'attached', sim.omaVmId, '/dev/vdb');
  return { id: ctx.id, volumeId: vol.id };
}

describe('remove from management against CloudStack', () => {
  it('deletes the replica volumes when asked, then forgets the VM', async () => {
    const { id, volumeId } = await vmWithReplica('gone1');
    expect(core.management.plan([id])[0]).toMatchObject({ volumes: [{ id: volumeId, name: 'gone1-disk-2000', attached: true }], refusedDeleting: null });
    const r = await core.management.remove(id, 'delete');
    expect(r).toEqual({ removed: true, volumes: [{ id: volumeId, name: 'gone1-disk-2000', outcome: 'deleted' }] });
    expect(sim.state.volumes.has(volumeId)).toBe(false);
    expect(core.volumes.get(volumeId)?.state).toBe('deleted');
    expect(core.contexts.get(id)).toBeNull();
  });

  it('keeps the replica volumes detached from the OMA in CloudStack when asked to keep them', async () => {
    const { id, volumeId } = await vmWithReplica('kept1');
    const r = await core.management.remove(id, 'keep');
    expect(r.volumes).toEqual([{ id: volumeId, name: 'kept1-disk-2000', outcome: 'kept' }]);
    const left = sim.state.volumes.get(volumeId);
    expect(left).toBeDefined();
    expect(left?.virtualmachineid ?? null).toBeNull();
    expect(core.volumes.get(volumeId)).toMatchObject({ state: 'detached', attachedVmId: null, vmDiskId: null });
    expect(core.contexts.get(id)).toBeNull();
  });

  it('leaves the VM managed, and says why, when CloudStack refuses the deletion', async () => {
    const { id, volumeId } = await vmWithReplica('stuck2');
    sim.faults.failHttp('deleteVolume', 431, 1);
    await expect(core.management.remove(id, 'delete')).rejects.toThrow(/deleteVolume/);
    expect(core.contexts.get(id)).not.toBeNull();
    const op = core.logbook.operations({ vmContextId: id, kind: 'inventory' })[0]!;
    expect(op.status).toBe('failed');
    expect(core.logbook.events({ operationId: op.id }).at(-1)?.message).toMatch(/^stuck2 stays under management: .*deleteVolume/);
    expect(sim.state.volumes.has(volumeId)).toBe(true);
    // Asked again, it completes: the volume was already detached, so only the deletion remains.
    const r = await core.management.remove(id, 'delete');
    expect(r.volumes).toEqual([{ id: volumeId, name: 'stuck2-disk-2000', outcome: 'deleted' }]);
    expect(sim.state.volumes.has(volumeId)).toBe(false);
  });
});
