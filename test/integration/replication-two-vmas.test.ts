import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Prefix } from '../fixtures/disk-compare';
import { freePort } from '../fixtures/sshd';
import { LAB_DATACENTER, labVm, startRig, type Rig } from '../lab/rig';
import { startVmaSimulator, type SimVmSpec, type VmaSimulator } from '../sim/vma/index';

// Two vCenters, each behind its own VMA, each with a VM at the same inventory path (/LabDC/vm/app1).
// Change-id lookups are scoped to the job that asks (its token, its VMA's tunnel), so neither VM's
// copier ever receives the other's change ids: both stay incremental from their own base and both
// replicas stay bit-identical to their own source.
const NAME = 'app1';
const SECOND_VCENTER = 'vcenter-b.lab.invalid';
let rig: Rig;
let vma2: VmaSimulator;
let ctxA: string;
let ctxB: string;

const spec = (id: string): SimVmSpec => labVm(NAME, id, [4, 2]);

beforeAll(async () => {
  rig = await startRig({ inventory: [spec('4205aaaa-1111-4000-8000-00000000000a')] });
  const password = `b-${Math.random().toString(36).slice(2)}`;
  vma2 = await startVmaSimulator({
    vcenterHost: SECOND_VCENTER,
    datacenters: [LAB_DATACENTER],
    inventory: [spec('4205bbbb-2222-4000-8000-00000000000b')],
    credentials: { username: 'svc-b@lab.invalid', password },
    speed: { firstPushDelayMs: 150, phaseDelayMs: 10, bytesPerSecond: 0 },
  });
  const vmaB = rig.core.appliances.add({
    kind: 'vma',
    name: 'lab-vma-b',
    host: '127.0.0.1',
    port: rig.sshd.port,
    username: rig.sshd.username,
    authMethod: 'private_key',
    privateKey: rig.sshd.clientPrivateKey,
    apiPort: vma2.port,
    callbackPort: await freePort(),
  });
  await rig.core.appliances.trustHostKey(vmaB.id, rig.sshd.hostKeyFingerprint);
  const credB = rig.core.credentials.add({ name: 'vcenter-b', vcenterHost: SECOND_VCENTER, username: 'svc-b@lab.invalid', datacenter: LAB_DATACENTER, password });
  ctxA = (await rig.manage([NAME]))[NAME]!;
  const d = await rig.core.discovery.run(vmaB.id, credB.id, NAME);
  const added = rig.core.discovery.addFromDiscovery(d.discoveryId, d.vms.filter((v) => v.name === NAME).map((v) => v.vmwareVmId));
  ctxB = added.added[0]!.contextId;
  await rig.core.startBackground();
});
afterAll(async () => {
  await rig?.close();
  await vma2?.close();
});

async function expectReplicaEquals(ctxId: string, sim: VmaSimulator): Promise<void> {
  for (const d of rig.core.contexts.disks(ctxId)) {
    const source = await sim.diskFilePath(NAME, d.diskKey.replace('disk-', ''));
    const target = rig.cloudstack.volumeFile(d.cloudstackVolumeId!);
    expect(sha256Prefix(target, d.capacityBytes), `${ctxId} ${d.diskKey} equals its own source`).toBe(sha256Prefix(source, d.capacityBytes));
  }
}

async function syncBoth(): Promise<[string, string]> {
  // B starts once A copies, so both copiers run at once. (Not at the very same moment: two first
  // syncs that both start nbdkit on the OMA at once collide on its port, which is not this test's case.)
  const a = await rig.core.engine.start(ctxA, { trigger: 'cli' });
  const deadline = Date.now() + 120_000;
  while (!['replicating', 'completed', 'failed'].includes(rig.core.jobs.require(a.jobId).status)) {
    if (Date.now() > deadline) throw new Error('job A did not reach the VMA');
    await new Promise((r) => setTimeout(r, 50));
  }
  const b = await rig.core.engine.start(ctxB, { trigger: 'cli' });
  const [ja, jb] = await Promise.all([rig.core.engine.whenSettled(a.jobId), rig.core.engine.whenSettled(b.jobId)]);
  expect([ja.status, ja.error, jb.status, jb.error]).toEqual(['completed', null, 'completed', null]);
  return [a.jobId, b.jobId];
}

describe('two VMs with the same inventory path behind two VMAs', () => {
  it('each receives only its own change ids, stays incremental from its own base, and stays bit-identical', async () => {
    const pathA = rig.core.contexts.require(ctxA).path;
    expect(rig.core.contexts.require(ctxB).path).toBe(pathA);
    expect(rig.core.contexts.require(ctxB).vmaApplianceId).not.toBe(rig.core.contexts.require(ctxA).vmaApplianceId);

    await rig.vma.mutateDisk(NAME, 2000, { blocks: 6, seed: 81 });
    await vma2.mutateDisk(NAME, 2000, { blocks: 9, seed: 82 });
    await syncBoth();
    await expectReplicaEquals(ctxA, rig.vma);
    await expectReplicaEquals(ctxB, vma2);
    const idsA = rig.core.contexts.disks(ctxA).map((d) => d.lastChangeId);
    const idsB = rig.core.contexts.disks(ctxB).map((d) => d.lastChangeId);
    expect([...idsA, ...idsB].every((id) => id !== null)).toBe(true);
    for (const id of idsA) expect(idsB).not.toContain(id);

    for (let round = 0; round < 2; round++) {
      const beforeA = rig.core.contexts.disks(ctxA).map((d) => d.lastChangeId);
      const beforeB = rig.core.contexts.disks(ctxB).map((d) => d.lastChangeId);
      await rig.vma.mutateDisk(NAME, 2001, { blocks: 3 + round, seed: 90 + round });
      await vma2.mutateDisk(NAME, 2000, { blocks: 4 + round, seed: 95 + round });
      const [ja, jb] = await syncBoth();
      // Each copier started from its own VM's base (what it was answered for the same path).
      expect(rig.core.jobs.jobDisks(ja).map((d) => [d.syncType, d.previousChangeId])).toEqual(beforeA.map((id) => ['incremental', id]));
      expect(rig.core.jobs.jobDisks(jb).map((d) => [d.syncType, d.previousChangeId])).toEqual(beforeB.map((id) => ['incremental', id]));
      for (const [sim, job] of [
        [rig.vma, ja],
        [vma2, jb],
      ] as const) {
        const transfer = sim.jobs.get(job)!.history.filter((h) => h.phase === 'Transfer');
        expect(new Set(transfer.map((h) => h.syncType)), `${job} copied incrementally`).toEqual(new Set(['incremental']));
      }
      // Each VMA ran only its own job.
      expect(rig.vma.jobs.get(jb)).toBeUndefined();
      expect(vma2.jobs.get(ja)).toBeUndefined();
      await expectReplicaEquals(ctxA, rig.vma);
      await expectReplicaEquals(ctxB, vma2);
    }
  });
});
