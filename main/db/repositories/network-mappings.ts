import type { Db } from '../database';
import type { NetworkMapping } from '../../../shared/failover';
import { AppError } from '../../../shared/errors';
import { isoNow } from '../../base/ids';
import { strOrNull } from './rows';

type Row = Record<string, unknown>;

const map = (r: Row): NetworkMapping => ({
  vmContextId: String(r.vm_context_id),
  sourceNetwork: String(r.source_network),
  liveNetworkId: strOrNull(r.live_network_id),
  testNetworkId: strOrNull(r.test_network_id),
});

export interface MappingTargets {
  /** undefined keeps the stored value, null clears it. */
  liveNetworkId?: string | null;
  testNetworkId?: string | null;
}

/** Per VM: source network (by discovered name) → CloudStack network for live and for test failover; and the boot disk choice. */
export class NetworkMappingRepository {
  constructor(private readonly db: Db) {}

  forContext(contextId: string): NetworkMapping[] {
    return (this.db.prepare(`SELECT * FROM vm_network_mappings WHERE vm_context_id = ? ORDER BY source_network`).all(contextId) as Row[]).map(map);
  }

  set(contextId: string, sourceNetwork: string, targets: MappingTargets): NetworkMapping {
    const exists = this.db.prepare(`SELECT 1 FROM vm_contexts WHERE id = ?`).get(contextId);
    if (!exists) throw new AppError('not_found', `No VM context with id ${contextId}`);
    const cur = this.forContext(contextId).find((m) => m.sourceNetwork === sourceNetwork);
    const live = targets.liveNetworkId === undefined ? (cur?.liveNetworkId ?? null) : targets.liveNetworkId;
    const test = targets.testNetworkId === undefined ? (cur?.testNetworkId ?? null) : targets.testNetworkId;
    this.db
      .prepare(
        `INSERT INTO vm_network_mappings (vm_context_id, source_network, live_network_id, test_network_id, updated_at) VALUES (?,?,?,?,?)
         ON CONFLICT (vm_context_id, source_network) DO UPDATE SET live_network_id = excluded.live_network_id,
           test_network_id = excluded.test_network_id, updated_at = excluded.updated_at`,
      )
      .run(contextId, sourceNetwork, live, test, isoNow());
    return this.forContext(contextId).find((m) => m.sourceNetwork === sourceNetwork)!;
  }

  /** Maps one source network name on every VM that has a NIC on it; returns the VMs changed. */
  setByName(sourceNetwork: string, targets: MappingTargets): string[] {
    const rows = this.db.prepare(`SELECT id, networks_json FROM vm_contexts ORDER BY id`).all() as Row[];
    const ids = rows
      .filter((r) => {
        try {
          return (JSON.parse(String(r.networks_json)) as { networkName?: string }[]).some((n) => n.networkName === sourceNetwork);
        } catch {
          return false;
        }
      })
      .map((r) => String(r.id));
    this.db.transaction(() => {
      for (const id of ids) this.set(id, sourceNetwork, targets);
    })();
    return ids;
  }

  bootDisk(contextId: string): string | null {
    const r = this.db.prepare(`SELECT disk_key FROM boot_disk_choices WHERE vm_context_id = ?`).get(contextId) as Row | undefined;
    return r ? String(r.disk_key) : null;
  }

  setBootDisk(contextId: string, diskKey: string): void {
    const disk = this.db.prepare(`SELECT 1 FROM vm_disks WHERE vm_context_id = ? AND disk_key = ? AND present = 1`).get(contextId, diskKey);
    if (!disk) throw new AppError('validation', `The VM has no disk ${diskKey}`);
    this.db
      .prepare(
        `INSERT INTO boot_disk_choices (vm_context_id, disk_key, chosen_at) VALUES (?,?,?)
         ON CONFLICT (vm_context_id) DO UPDATE SET disk_key = excluded.disk_key, chosen_at = excluded.chosen_at`,
      )
      .run(contextId, diskKey, isoNow());
  }
}
