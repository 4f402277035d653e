import type { Db } from '../database';
import type { DiscoveredVm } from '../../../shared/discovery';
import type { PowerState, VmContextStatus, VmContextSummary, VmDisk, VmNetwork } from '../../../shared/domain';
import { AppError } from '../../../shared/errors';
import { writeContextStatus } from './context-status';
import { isoNow, newId } from '../../base/ids';
import { bool, num, parseJson, strOrNull } from './rows';
import type { ContextPage } from '../../../shared/contract';
import { compareNames, compareVmNames, needsAttention, type VmStatusCounts } from '../../../shared/vm-order';
import { vmDisplayStatus } from '../../../shared/status-text';

const SUMMARY_SQL = `
SELECT c.*,
  (SELECT COUNT(*) FROM vm_disks d WHERE d.vm_context_id = c.id AND d.present = 1) AS disk_count,
  (SELECT COALESCE(SUM(d.capacity_bytes), 0) FROM vm_disks d WHERE d.vm_context_id = c.id AND d.present = 1) AS total_bytes,
  (SELECT j.completed_at FROM replication_jobs j WHERE j.id = c.last_successful_job_id) AS last_successful_sync_at
FROM vm_contexts c`;

type Row = Record<string, unknown>;

// The first page's order read from the name index alone (vm_contexts_name, migration 001): names as
// plain strings, no table rows. SQLite's byte order differs from the natural order only inside a name
// (case, digit runs), so the read arrives nearly sorted and the sort below is close to one pass.
const NAMES_SQL = `SELECT name FROM vm_contexts INDEXED BY vm_contexts_name ORDER BY name`;

// The fleet-wide counts as a handful of groups (status, enabled, torn, synced) counted by SQLite in
// one scan: the status a row shows depends only on these (shared/status-text.ts vmDisplayStatus), so
// the rules run once per group rather than once per VM.
const COUNT_GROUPS_SQL = `
SELECT c.current_status, c.enabled, c.replica_torn_job_id IS NOT NULL AND c.replica_torn_job_id != '',
  CASE WHEN c.last_successful_job_id IS NULL THEN 0
    ELSE COALESCE((SELECT j.completed_at IS NOT NULL AND j.completed_at != '' FROM replication_jobs j WHERE j.id = c.last_successful_job_id), 0) END,
  COUNT(*)
FROM vm_contexts c GROUP BY 1, 2, 3, 4`;

export function mapContext(r: Row): VmContextSummary {
  return {
    id: String(r.id),
    vmwareVmId: String(r.vmware_vm_id),
    vcenterHost: String(r.vcenter_host),
    name: String(r.name),
    path: String(r.path),
    datacenter: String(r.datacenter),
    status: r.current_status as VmContextStatus,
    currentJobId: strOrNull(r.current_job_id),
    specs: {
      cpus: num(r.cpus),
      memoryMb: num(r.memory_mb),
      osType: String(r.os_type),
      powerState: r.power_state as PowerState,
      vmxVersion: String(r.vmx_version),
      networks: parseJson<VmNetwork[]>(r.networks_json, []),
    },
    diskCount: num(r.disk_count),
    totalBytes: num(r.total_bytes),
    totalJobs: num(r.total_jobs),
    successfulJobs: num(r.successful_jobs),
    failedJobs: num(r.failed_jobs),
    lastSuccessfulJobId: strOrNull(r.last_successful_job_id),
    lastSuccessfulSyncAt: strOrNull(r.last_successful_sync_at),
    replicaTornJobId: strOrNull(r.replica_torn_job_id),
    lastError: strOrNull(r.last_error),
    enabled: bool(r.enabled),
    credentialId: strOrNull(r.credential_id),
    vmaApplianceId: strOrNull(r.vma_appliance_id),
    lastDiscoveredAt: strOrNull(r.last_discovered_at),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

export function mapDisk(r: Row): VmDisk {
  return {
    id: num(r.id),
    vmContextId: String(r.vm_context_id),
    diskKey: String(r.disk_key),
    label: String(r.label),
    vmdkPath: String(r.vmdk_path),
    datastore: String(r.datastore),
    capacityBytes: num(r.capacity_bytes),
    provisioningType: String(r.provisioning_type),
    unitNumber: r.unit_number === null || r.unit_number === undefined ? null : num(r.unit_number),
    cloudstackVolumeId: strOrNull(r.volume_id),
    exportName: strOrNull(r.export_name),
    lastChangeId: strOrNull(r.last_change_id),
    lastChangeIdAt: strOrNull(r.last_change_id_at),
  };
}

export interface NewContext {
  vm: DiscoveredVm;
  vcenterHost: string;
  credentialId: string | null;
  vmaApplianceId: string | null;
}

export class VmContextRepository {
  constructor(private readonly db: Db) {}

  list(): VmContextSummary[] {
    return (this.db.prepare(`${SUMMARY_SQL} ORDER BY c.name COLLATE NOCASE, c.id`).all() as Row[]).map(mapContext);
  }

  /**
   * Rows [offset, offset + limit) of the VM table's default order (shared/vm-order.ts, the order the
   * renderer keeps), with counts over every VM. SQLite has no natural-order collation: the order is made
   * here from the names alone (NAMES_SQL), and only the rows of the page are read in full.
   */
  page(offset: number, limit: number): ContextPage {
    return this.db.transaction(() => {
      const names = this.db.prepare(NAMES_SQL).pluck().all() as string[];
      names.sort(compareNames);
      // Equal names are ordered by id, which the index does not hold: every VM whose name equals one on
      // the page's edges joins the candidates, which are read in full and ordered by name and id.
      const end = Math.min(names.length, offset + limit);
      let from = Math.min(offset, names.length);
      let to = end;
      if (from < to) {
        while (from > 0 && compareNames(names[from - 1]!, names[from]!) === 0) from--;
        while (to < names.length && compareNames(names[to]!, names[to - 1]!) === 0) to++;
      }
      const wanted = [...new Set(names.slice(from, to))];
      const rows = wanted.length === 0 ? [] : (this.db.prepare(`${SUMMARY_SQL} WHERE c.name IN (${wanted.map(() => '?').join(',')})`).all(...wanted) as Row[]);
      const contexts = rows
        .map(mapContext)
        .sort(compareVmNames)
        .slice(offset - from, end - from);
      return { offset, contexts, counts: this.countGroups() };
    })();
  }

  private countGroups(): VmStatusCounts {
    const groups = this.db.prepare(COUNT_GROUPS_SQL).raw().all() as [string, number, number, number, number][];
    const counts: VmStatusCounts = { total: 0, byDisplayStatus: {}, attention: 0 };
    for (const [status, enabled, torn, synced, n] of groups) {
      const digest = { status: status as VmContextStatus, enabled: enabled === 1, replicaTornJobId: torn ? 'torn' : null, lastSuccessfulSyncAt: synced ? 'synced' : null };
      const shown = vmDisplayStatus(digest);
      counts.total += n;
      counts.byDisplayStatus[shown] = (counts.byDisplayStatus[shown] ?? 0) + n;
      if (needsAttention(digest)) counts.attention += n;
    }
    return counts;
  }

  /** Every VM's id and whether it is enabled, in list() order: what a per-VM read model needs without the summaries. */
  listEnabled(): { id: string; enabled: boolean }[] {
    return (this.db.prepare(`SELECT id, enabled FROM vm_contexts ORDER BY name COLLATE NOCASE, id`).all() as Row[]).map((r) => ({ id: String(r.id), enabled: bool(r.enabled) }));
  }

  get(id: string): VmContextSummary | null {
    const r = this.db.prepare(`${SUMMARY_SQL} WHERE c.id = ?`).get(id) as Row | undefined;
    return r ? mapContext(r) : null;
  }

  require(id: string): VmContextSummary {
    const c = this.get(id);
    if (!c) throw new AppError('not_found', `No VM context with id ${id}`, { id });
    return c;
  }

  findByName(name: string): VmContextSummary[] {
    return (this.db.prepare(`${SUMMARY_SQL} WHERE c.name = ? ORDER BY c.id`).all(name) as Row[]).map(mapContext);
  }

  findByVmwareId(vmwareVmId: string, vcenterHost: string): VmContextSummary | null {
    const r = this.db
      .prepare(`${SUMMARY_SQL} WHERE c.vmware_vm_id = ? AND c.vcenter_host = ?`)
      .get(vmwareVmId, vcenterHost) as Row | undefined;
    return r ? mapContext(r) : null;
  }

  /**
   * Context ids of one vCenter's managed VMs by VMware id, in one query: discovery matches every VM
   * it found against these, and a lookup per VM cost more than the discovery itself at fleet size.
   */
  idsByVmwareId(vcenterHost: string): Map<string, string> {
    const rows = this.db.prepare('SELECT vmware_vm_id, id FROM vm_contexts WHERE vcenter_host = ?').raw().all(vcenterHost) as [string, string][];
    return new Map(rows);
  }

  /** Creates a context in `discovered`; an already managed VM is a conflict naming it. */
  add(input: NewContext): VmContextSummary {
    const existing = this.findByVmwareId(input.vm.vmwareVmId, input.vcenterHost);
    if (existing) {
      throw new AppError('conflict', `${existing.name} is already managed (context ${existing.id})`, {
        contextId: existing.id,
        name: existing.name,
      });
    }
    const id = newId('ctx');
    const now = isoNow();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO vm_contexts (id, vmware_vm_id, vcenter_host, name, path, datacenter, cpus, memory_mb, os_type,
             power_state, vmx_version, networks_json, current_status, credential_id, vma_appliance_id,
             last_discovered_at, created_at, updated_at)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?, 'discovered', ?,?,?,?,?)`,
        )
        .run(
          id,
          input.vm.vmwareVmId,
          input.vcenterHost,
          input.vm.name,
          input.vm.path,
          input.vm.datacenter,
          input.vm.cpus,
          input.vm.memoryMb,
          input.vm.osType,
          input.vm.powerState,
          input.vm.vmxVersion,
          JSON.stringify(input.vm.networks),
          input.credentialId,
          input.vmaApplianceId,
          now,
          now,
          now,
        );
      this.upsertDisks(id, input.vm, now);
    })();
    return this.require(id);
  }

  /** Refreshes the stored specs from a fresh discovery; disks are upserted by VMware device key. */
  refreshSpecs(id: string, vm: DiscoveredVm): VmContextSummary {
    const now = isoNow();
    this.db.transaction(() => {
      const res = this.db
        .prepare(
          `UPDATE vm_contexts SET name = ?, path = ?, datacenter = ?, cpus = ?, memory_mb = ?, os_type = ?, power_state = ?,
             vmx_version = ?, networks_json = ?, last_discovered_at = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          vm.name,
          vm.path,
          vm.datacenter,
          vm.cpus,
          vm.memoryMb,
          vm.osType,
          vm.powerState,
          vm.vmxVersion,
          JSON.stringify(vm.networks),
          now,
          now,
          id,
        );
      if (res.changes === 0) throw new AppError('not_found', `No VM context with id ${id}`, { id });
      this.upsertDisks(id, vm, now);
    })();
    return this.require(id);
  }

  /** refreshSpecs for each of a discovery's managed VMs in one transaction, not one per VM. */
  refreshSpecsOfMany(updates: readonly { id: string; vm: DiscoveredVm }[]): VmContextSummary[] {
    return this.db.transaction(() => updates.map((u) => this.refreshSpecs(u.id, u.vm)))();
  }

  private upsertDisks(contextId: string, vm: DiscoveredVm, now: string): void {
    const upsert = this.db.prepare(
      `INSERT INTO vm_disks (vm_context_id, disk_key, label, vmdk_path, datastore, capacity_bytes, provisioning_type,
         unit_number, present, created_at, updated_at)
       VALUES (?,?,?,?,?,?,?,?,1,?,?)
       ON CONFLICT (vm_context_id, disk_key) DO UPDATE SET label = excluded.label, vmdk_path = excluded.vmdk_path,
         datastore = excluded.datastore, capacity_bytes = excluded.capacity_bytes,
         provisioning_type = excluded.provisioning_type, unit_number = excluded.unit_number, present = 1,
         updated_at = excluded.updated_at`,
    );
    for (const d of vm.disks) {
      upsert.run(contextId, d.diskKey, d.label, d.vmdkPath, d.datastore, d.capacityBytes, d.provisioningType, d.unitNumber, now, now);
    }
    // A disk that vanished from the VM keeps its row (and change id history) but is marked absent.
    const keys = vm.disks.map((d) => d.diskKey);
    const placeholders = keys.map(() => '?').join(',');
    this.db
      .prepare(
        `UPDATE vm_disks SET present = 0, updated_at = ? WHERE vm_context_id = ? AND present = 1${
          keys.length ? ` AND disk_key NOT IN (${placeholders})` : ''
        }`,
      )
      .run(now, contextId, ...keys);
  }

  disks(contextId: string, includeAbsent = false): VmDisk[] {
    return (
      this.db
        .prepare(
          `SELECT d.*, v.id AS volume_id, e.export_name AS export_name FROM vm_disks d
           LEFT JOIN cloudstack_volumes v ON v.vm_disk_id = d.id AND v.state != 'deleted'
           LEFT JOIN nbd_exports e ON e.volume_id = v.id AND e.status != 'removed'
           WHERE d.vm_context_id = ?${includeAbsent ? '' : ' AND d.present = 1'}
           ORDER BY d.unit_number IS NULL, d.unit_number, d.disk_key`,
        )
        .all(contextId) as Row[]
    ).map(mapDisk);
  }

  /** Moves a VM's status through the state machine (an illegal move throws and writes nothing). */
  transition(id: string, to: VmContextStatus, lastError?: string | null): VmContextSummary {
    this.db.transaction(() => {
      writeContextStatus(this.db, id, to);
      if (lastError != null) this.db.prepare(`UPDATE vm_contexts SET last_error = ?, updated_at = ? WHERE id = ?`).run(lastError, isoNow(), id);
    })();
    return this.require(id);
  }

  setEnabled(id: string, enabled: boolean): void {
    this.db.prepare(`UPDATE vm_contexts SET enabled = ?, updated_at = ? WHERE id = ?`).run(enabled ? 1 : 0, isoNow(), id);
  }

  remove(id: string): void {
    const c = this.require(id);
    if (c.currentJobId) {
      throw new AppError('conflict', `${c.name} has an active job ${c.currentJobId}; cancel it first`, {
        jobId: c.currentJobId,
      });
    }
    this.db.prepare(`DELETE FROM vm_contexts WHERE id = ?`).run(id);
  }
}
