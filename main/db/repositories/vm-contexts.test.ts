import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../database';
import { VmContextRepository } from './vm-contexts';
import type { DiscoveredVm } from '../../../shared/discovery';
import { type AppError } from '../../../shared/errors';
import { compareVmNames, countStatuses } from '../../../shared/vm-order';

let dir: string;
let db: Db;
let repo: VmContextRepository;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-ctx-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  repo = new VmContextRepository(db);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const vm = (over: Partial<DiscoveredVm> = {}): DiscoveredVm => ({
  vmwareVmId: '4205784a-098a-40f1-1f1e-a5cd2597fd59',
  name: 'pgtest2',
  path: '/DC1/vm/pgtest2',
  datacenter: 'DC1',
  cpus: 2,
  memoryMb: 4096,
  osType: 'windows',
  powerState: 'poweredOn',
  vmxVersion: 'vmx-15',
  disks: [
    { diskKey: 'disk-2000', label: 'Hard disk 1', vmdkPath: '[ds] a/a.vmdk', datastore: 'ds', capacityBytes: 10 * 2 ** 30, provisioningType: 'thin', unitNumber: 0 },
    { diskKey: 'disk-2001', label: 'Hard disk 2', vmdkPath: '[ds] a/a_1.vmdk', datastore: 'ds', capacityBytes: 5 * 2 ** 30, provisioningType: 'thin', unitNumber: 1 },
  ],
  networks: [{ label: 'Network adapter 1', networkName: 'VLAN10', adapterType: 'vmxnet3', macAddress: '00:50:56:85:bf:a2', connected: true }],
  ...over,
});

describe('VmContextRepository', () => {
  it('adds a context in discovered with its disks and specs', () => {
    const c = repo.add({ vm: vm(), vcenterHost: 'vc.example', credentialId: null, vmaApplianceId: null });
    expect(c.status).toBe('discovered');
    expect(c.diskCount).toBe(2);
    expect(c.totalBytes).toBe(15 * 2 ** 30);
    expect(c.specs.networks[0]!.networkName).toBe('VLAN10');
    expect(repo.disks(c.id).map((d) => d.diskKey)).toEqual(['disk-2000', 'disk-2001']);
    expect(repo.list().map((x) => x.id)).toEqual([c.id]);
  });

  it('refuses to add an already managed VM with a conflict naming it', () => {
    const c = repo.add({ vm: vm(), vcenterHost: 'vc.example', credentialId: null, vmaApplianceId: null });
    let error: AppError | undefined;
    try {
      repo.add({ vm: vm({ name: 'renamed' }), vcenterHost: 'vc.example', credentialId: null, vmaApplianceId: null });
    } catch (e) {
      error = e as AppError;
    }
    expect(error?.code).toBe('conflict');
    expect(error?.message).toContain('pgtest2');
    expect(error?.details?.contextId).toBe(c.id);
    // Same VMware id on another vCenter is another VM.
    expect(() => repo.add({ vm: vm(), vcenterHost: 'vc2.example', credentialId: null, vmaApplianceId: null })).not.toThrow();
  });

  it('upserts disks by VMware device key on refresh, keeping ids and change ids', () => {
    const c = repo.add({ vm: vm(), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
    const before = repo.disks(c.id);
    db.prepare(`UPDATE vm_disks SET last_change_id = 'cid/1' WHERE id = ?`).run(before[1]!.id);
    const reordered = vm({ cpus: 4, disks: [{ ...vm().disks[1]!, capacityBytes: 6 * 2 ** 30 }, vm().disks[0]!] });
    const after = repo.refreshSpecs(c.id, reordered);
    expect(after.specs.cpus).toBe(4);
    const disks = repo.disks(c.id);
    expect(disks.find((d) => d.diskKey === 'disk-2001')).toMatchObject({ id: before[1]!.id, capacityBytes: 6 * 2 ** 30, lastChangeId: 'cid/1' });
    expect(disks.find((d) => d.diskKey === 'disk-2000')!.id).toBe(before[0]!.id);
    // A disk removed from the VM is no longer listed but its row is kept.
    repo.refreshSpecs(c.id, vm({ disks: [vm().disks[0]!] }));
    expect(repo.disks(c.id).map((d) => d.diskKey)).toEqual(['disk-2000']);
    expect(repo.disks(c.id, true)).toHaveLength(2);
  });

  it("maps one vCenter's managed VMware ids to their contexts, and refreshes many contexts all or nothing", () => {
    const a = repo.add({ vm: vm(), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
    const b = repo.add({ vm: vm({ vmwareVmId: 'id-b', name: 'b' }), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
    const other = repo.add({ vm: vm({ vmwareVmId: 'id-c', name: 'c' }), vcenterHost: 'vc2', credentialId: null, vmaApplianceId: null });
    expect(repo.idsByVmwareId('vc')).toEqual(new Map([[vm().vmwareVmId, a.id], ['id-b', b.id]]));
    expect(repo.idsByVmwareId('vc2')).toEqual(new Map([['id-c', other.id]]));
    expect(repo.idsByVmwareId('nowhere').size).toBe(0);

    const refreshed = repo.refreshSpecsOfMany([
      { id: a.id, vm: vm({ cpus: 8 }) },
      { id: b.id, vm: vm({ vmwareVmId: 'id-b', name: 'b', cpus: 6 }) },
    ]);
    expect(refreshed.map((c) => [c.id, c.specs.cpus])).toEqual([[a.id, 8], [b.id, 6]]);
    // One unknown id undoes the whole batch: no context is left half refreshed.
    expect(() => repo.refreshSpecsOfMany([{ id: a.id, vm: vm({ cpus: 1 }) }, { id: 'ctx-gone', vm: vm() }])).toThrow(/No VM context with id ctx-gone/);
    expect(repo.require(a.id).specs.cpus).toBe(8);
  });

  it('moves status only through the state machine', () => {
    const c = repo.add({ vm: vm(), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
    expect(repo.transition(c.id, 'replicating').status).toBe('replicating');
    expect(() => repo.transition(c.id, 'failed_over_live')).toThrow(/cannot go from replicating to failed_over_live/);
    expect(repo.get(c.id)!.status).toBe('replicating');
  });

  it('answers not_found for an unknown id', () => {
    expect(() => repo.require('ctx-missing')).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  describe('page', () => {
    // Names whose case-insensitive byte order (what SQL sorts by) differs from the natural order the
    // table keeps: vm-10 sorts before vm-9 in SQL, after it in the table.
    const NAMES = ['vm-10', 'vm-9', 'VM-2', 'vm-1', 'alpha', 'vm-9', 'Beta', 'vm-100'];
    const addAll = () =>
      NAMES.map((name, i) =>
        repo.add({ vm: vm({ vmwareVmId: `4205784a-098a-40f1-1f1e-a5cd2597fd${String(i).padStart(2, '0')}`, name, path: `/DC1/vm/${name}` }), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null }),
      );

    it('slices the natural name order, the order the table keeps, so the pages put together are the whole list', () => {
      addAll();
      const expected = repo.list().sort(compareVmNames);
      expect(expected.map((c) => c.name)).toEqual(['alpha', 'Beta', 'vm-1', 'VM-2', 'vm-9', 'vm-9', 'vm-10', 'vm-100']);
      const pages = [repo.page(0, 3), repo.page(3, 3), repo.page(6, 3)];
      expect(pages.map((p) => p.contexts.length)).toEqual([3, 3, 2]);
      expect(pages.map((p) => p.offset)).toEqual([0, 3, 6]);
      // Whole summaries, equal to what the full list carries for the same VMs.
      expect(pages.flatMap((p) => p.contexts)).toEqual(expected);
      expect(repo.page(8, 5).contexts).toEqual([]);
      expect(repo.page(100, 5).contexts).toEqual([]);
    });

    it('counts every VM by the status its row shows, not only the page', () => {
      const added = addAll();
      db.prepare(`UPDATE vm_contexts SET current_status = 'failed' WHERE id = ?`).run(added[0]!.id);
      db.prepare(`UPDATE vm_contexts SET current_status = 'replicating' WHERE id IN (?, ?)`).run(added[1]!.id, added[2]!.id);
      repo.setEnabled(added[3]!.id, false);
      const p = repo.page(0, 1);
      expect(p.contexts).toHaveLength(1);
      expect(p.counts).toEqual({ total: 8, attention: 1, byDisplayStatus: { failed: 1, replicating: 2, disabled: 1, discovered: 4 } });
      // The lean read the schedule plans use agrees with the full list, in the same order.
      expect(repo.listEnabled()).toEqual(repo.list().map((c) => ({ id: c.id, enabled: c.enabled })));
      expect(repo.listEnabled().filter((c) => !c.enabled).map((c) => c.id)).toEqual([added[3]!.id]);
    });

    it('cuts pages between VMs of equal name in the order of the full list (name, then id)', () => {
      addAll();
      const expected = repo.list().sort(compareVmNames);
      const ones = expected.map((_, i) => repo.page(i, 1).contexts);
      expect(ones.flat()).toEqual(expected);
    });

    it('counts a synced VM, a torn replica and an unfinished last job as their rows show them', () => {
      const added = addAll();
      const job = (id: string, ctx: string, completedAt: string | null) =>
        db
          .prepare(
            `INSERT INTO replication_jobs (id, vm_context_id, job_type, status, vm_path, trigger, created_at, updated_at, completed_at)
             VALUES (?, ?, 'initial', ?, '/p', 'ui', 't', 't', ?)`,
          )
          .run(id, ctx, completedAt ? 'completed' : 'replicating', completedAt);
      job('job-done', added[0]!.id, '2026-01-01T00:00:00.000Z');
      job('job-open', added[1]!.id, null);
      db.prepare(`UPDATE vm_contexts SET last_successful_job_id = 'job-done' WHERE id = ?`).run(added[0]!.id);
      db.prepare(`UPDATE vm_contexts SET last_successful_job_id = 'job-open', replica_torn_job_id = 'job-open' WHERE id = ?`).run(added[1]!.id);
      const p = repo.page(0, 2);
      expect(p.counts).toEqual(countStatuses(repo.list()));
      expect(p.counts).toEqual({ total: 8, attention: 1, byDisplayStatus: { synced: 1, discovered: 7 } });
    });

    it('answers an empty page and zero counts with no VMs', () => {
      expect(repo.page(0, 50)).toEqual({ offset: 0, contexts: [], counts: { total: 0, attention: 0, byDisplayStatus: {} } });
    });
  });
});
