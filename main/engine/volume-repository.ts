import type { Db } from '../db/database';
import type { VolumeState } from '../../shared/domain';
import { isoNow } from '../base/ids';
import { num, strOrNull } from '../db/repositories/rows';

type Row = Record<string, unknown>;

export interface VolumeRecord {
  id: string;
  vmDiskId: number | null;
  name: string;
  sizeBytes: number;
  zoneId: string;
  state: VolumeState;
  attachedVmId: string | null;
  devicePath: string | null;
  exportName: string | null;
  exportStatus: string | null;
}

const map = (r: Row): VolumeRecord => ({
  id: String(r.id),
  vmDiskId: r.vm_disk_id === null ? null : num(r.vm_disk_id),
  name: String(r.name),
  sizeBytes: num(r.size_bytes),
  zoneId: String(r.zone_id),
  state: r.state as VolumeState,
  attachedVmId: strOrNull(r.attached_vm_id),
  devicePath: strOrNull(r.device_path),
  exportName: strOrNull(r.export_name),
  exportStatus: strOrNull(r.export_status),
});

const SELECT = `SELECT v.*, e.export_name, e.status AS export_status FROM cloudstack_volumes v LEFT JOIN nbd_exports e ON e.volume_id = v.id`;

/** CloudStack volumes that hold replicas, one per VM disk, and the NBD export of each. */
export class VolumeRepository {
  constructor(private readonly db: Db) {}

  forDisk(vmDiskId: number): VolumeRecord | null {
    const r = this.db.prepare(`${SELECT} WHERE v.vm_disk_id = ? AND v.state != 'deleted'`).get(vmDiskId) as Row | undefined;
    return r ? map(r) : null;
  }

  get(id: string): VolumeRecord | null {
    const r = this.db.prepare(`${SELECT} WHERE v.id = ?`).get(id) as Row | undefined;
    return r ? map(r) : null;
  }

  /** A new volume for a disk; the disk's change id is cleared because the new target is empty. */
  recordCreated(input: { id: string; vmDiskId: number; name: string; sizeBytes: number; zoneId: string }): void {
    const now = isoNow();
    this.db.transaction(() => {
      this.db.prepare(`UPDATE cloudstack_volumes SET vm_disk_id = NULL, updated_at = ? WHERE vm_disk_id = ?`).run(now, input.vmDiskId);
      this.db
        .prepare(`INSERT INTO cloudstack_volumes (id, vm_disk_id, name, size_bytes, zone_id, state, created_at, updated_at) VALUES (?,?,?,?,?,'detached',?,?)`)
        .run(input.id, input.vmDiskId, input.name, input.sizeBytes, input.zoneId, now, now);
      this.db.prepare(`UPDATE vm_disks SET last_change_id = NULL, last_change_id_at = NULL, updated_at = ? WHERE id = ?`).run(now, input.vmDiskId);
    })();
  }

  setState(id: string, state: VolumeState, attachedVmId: string | null, devicePath?: string | null): void {
    this.db
      .prepare(`UPDATE cloudstack_volumes SET state = ?, attached_vm_id = ?, device_path = COALESCE(?, device_path), updated_at = ? WHERE id = ?`)
      .run(state, attachedVmId, devicePath ?? null, isoNow(), id);
  }

  recordExport(volumeId: string, exportName: string, applianceId: string, devicePath: string): void {
    const now = isoNow();
    this.db
      .prepare(
        `INSERT INTO nbd_exports (export_name, volume_id, appliance_id, device_path, status, created_at, updated_at) VALUES (?,?,?,?,'active',?,?)
         ON CONFLICT(volume_id) DO UPDATE SET export_name = excluded.export_name, appliance_id = excluded.appliance_id,
           device_path = excluded.device_path, status = 'active', updated_at = excluded.updated_at`,
      )
      .run(exportName, volumeId, applianceId, devicePath, now, now);
  }

  markExportRemoved(volumeId: string): void {
    this.db.prepare(`UPDATE nbd_exports SET status = 'removed', updated_at = ? WHERE volume_id = ?`).run(isoNow(), volumeId);
  }

  /** The target is gone: forget it and make that disk's next sync full. */
  markDeleted(id: string): void {
    const now = isoNow();
    this.db.transaction(() => {
      const v = this.get(id);
      this.db.prepare(`UPDATE cloudstack_volumes SET state = 'deleted', attached_vm_id = NULL, updated_at = ? WHERE id = ?`).run(now, id);
      this.markExportRemoved(id);
      if (v?.vmDiskId) this.db.prepare(`UPDATE vm_disks SET last_change_id = NULL, last_change_id_at = NULL, updated_at = ? WHERE id = ?`).run(now, v.vmDiskId);
    })();
  }
}
