import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { expectTargetsEqualSources, sha256Prefix } from '../fixtures/disk-compare';
import { labVm, startRig, type Rig } from '../lab/rig';
import type { SimVmSpec } from '../sim/vma/index';

// A clone sharing the managed VM's BIOS uuid, under a name that contains the VM's name (the VMA's
// substring filter returns `web10` for `web1`, and it comes first), against the lab: the fresh
// discovery before each sync syncs the VM whose exact name and id match, never the clone; once no VM
// has the old name and the id is shared, the sync stops with a conflict and writes nothing.
const MiB = 1024 * 1024;
const SHARED_ID = '4205c10e-0000-4000-8000-000000000001';
let rig: Rig;
let ctxId: string;

const vm = (name: string): SimVmSpec => labVm(name, SHARED_ID, [4]);

beforeAll(async () => {
  rig = await startRig({ inventory: [vm('web1')] });
  ctxId = (await rig.manage(['web1'])).web1!;
  // Later a clone of web1 appears in vCenter and comes first in the VMA's answers for "web1".
  rig.vma.inventory.remove('web1');
  rig.vma.inventory.add(vm('web10'));
  rig.vma.inventory.add(vm('web1'));
  expect(rig.vma.inventory.list().map((v) => [v.name, v.id])).toEqual([
    ['web10', SHARED_ID],
    ['web1', SHARED_ID],
  ]);
  await rig.core.startBackground();
});
afterAll(async () => {
  await rig?.close();
});

const replicatedPaths = () => rig.vma.requests.filter((r) => r.endpoint === 'replicate').map((r) => (r.body as { vm_paths: string[] }).vm_paths[0]);

describe('a clone sharing the BIOS uuid whose name contains the VM name', () => {
  it('is never synced in the VM’s place; with the VM renamed away the sync stops with a conflict and writes nothing', async () => {
    const ctx = rig.core.contexts.require(ctxId);
    expect(ctx).toMatchObject({ name: 'web1', vmwareVmId: SHARED_ID });
    await rig.vma.mutateDisk('web1', 2000, { blocks: 10, seed: 1 });
    await rig.vma.mutateDisk('web10', 2000, { blocks: 20, seed: 2 });

    for (let sync = 0; sync < 2; sync++) {
      if (sync > 0) {
        await rig.vma.mutateDisk('web1', 2000, { blocks: 3, seed: 10 + sync });
        await rig.vma.mutateDisk('web10', 2000, { blocks: 3, seed: 20 + sync });
      }
      const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
      const job = await rig.core.engine.whenSettled(jobId);
      expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: null });
      expect(replicatedPaths().at(-1)).toBe(rig.vma.inventory.get('web1')!.path);
      await expectTargetsEqualSources(rig, ctxId, 'web1');
      const replica = rig.cloudstack.volumeFile(rig.core.contexts.disks(ctxId)[0]!.cloudstackVolumeId!);
      expect(sha256Prefix(replica, 4 * MiB)).not.toBe(sha256Prefix(await rig.vma.diskFilePath('web10', 2000), 4 * MiB));
    }

    // web1 is renamed in vCenter while its clone web10 exists: two VMs carry the id, none the name.
    rig.vma.inventory.rename('web1', 'web1-old');
    const replicates = replicatedPaths().length;
    const before = sha256Prefix(rig.cloudstack.volumeFile(rig.core.contexts.disks(ctxId)[0]!.cloudstackVolumeId!), 4 * MiB);
    const e = (await rig.core.engine.start(ctxId, { trigger: 'cli' }).catch((x: unknown) => x)) as AppError;
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe('conflict');
    expect(e.message).toMatch(/web1 is gone and VMware id .* is shared by .*web10.*web1-old|web1 is gone and VMware id .* is shared by .*web1-old.*web10/);
    expect(e.message).toMatch(/Nothing was written/);
    expect(replicatedPaths()).toHaveLength(replicates);
    expect(sha256Prefix(rig.cloudstack.volumeFile(rig.core.contexts.disks(ctxId)[0]!.cloudstackVolumeId!), 4 * MiB)).toBe(before);
    expect(rig.core.contexts.require(ctxId)).toMatchObject({ name: 'web1', currentJobId: null });
  });
});
