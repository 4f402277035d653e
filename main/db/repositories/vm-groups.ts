import type { Db } from '../database';
import type { VmGroup, VmGroupMember } from '../../../shared/domain';
import { AppError } from '../../../shared/errors';
import { isoNow, newId } from '../../base/ids';
import { bool, num, strOrNull } from './rows';
import { uniqueName } from './schedules';

type Row = Record<string, unknown>;

export interface VmGroupFields {
  name: string;
  description: string;
  scheduleId: string | null;
  maxConcurrentVms: number;
  priority: number;
  enabled: boolean;
  replicaAgeTargetSeconds: number | null;
}

export const GROUP_DEFAULTS: Omit<VmGroupFields, 'name'> = {
  description: '',
  scheduleId: null,
  maxConcurrentVms: 5,
  priority: 100,
  enabled: true,
  replicaAgeTargetSeconds: null,
};

const COLUMNS: Record<keyof VmGroupFields, string> = {
  name: 'name',
  description: 'description',
  scheduleId: 'schedule_id',
  maxConcurrentVms: 'max_concurrent_vms',
  priority: 'priority',
  enabled: 'enabled',
  replicaAgeTargetSeconds: 'replica_age_target_seconds',
};

const dbValue = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

export function mapGroup(r: Row): VmGroup {
  return {
    id: String(r.id),
    name: String(r.name),
    description: String(r.description),
    scheduleId: strOrNull(r.schedule_id),
    maxConcurrentVms: num(r.max_concurrent_vms),
    priority: num(r.priority),
    enabled: bool(r.enabled),
    replicaAgeTargetSeconds: r.replica_age_target_seconds === null ? null : num(r.replica_age_target_seconds),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

function mapMember(r: Row): VmGroupMember {
  return {
    groupId: String(r.group_id),
    vmContextId: String(r.vm_context_id),
    vmName: String(r.vm_name),
    priority: num(r.priority),
    enabled: bool(r.enabled),
    addedAt: String(r.added_at),
  };
}

const MEMBER_SQL = `SELECT m.*, c.name AS vm_name FROM vm_group_members m JOIN vm_contexts c ON c.id = m.vm_context_id`;

export class VmGroupRepository {
  constructor(private readonly db: Db) {}

  /** Groups in run order: priority (lower first), then name. */
  list(filter: { scheduleId?: string } = {}): VmGroup[] {
    const where = filter.scheduleId ? 'WHERE schedule_id = ?' : '';
    const args = filter.scheduleId ? [filter.scheduleId] : [];
    return (this.db.prepare(`SELECT * FROM vm_groups ${where} ORDER BY priority, name COLLATE NOCASE, id`).all(...args) as Row[]).map(mapGroup);
  }

  get(id: string): VmGroup | null {
    const r = this.db.prepare(`SELECT * FROM vm_groups WHERE id = ?`).get(id) as Row | undefined;
    return r ? mapGroup(r) : null;
  }

  require(id: string): VmGroup {
    const g = this.get(id);
    if (!g) throw new AppError('not_found', `No VM group with id ${id}`, { id });
    return g;
  }

  create(fields: VmGroupFields, now: string = isoNow()): VmGroup {
    const id = newId('grp');
    const keys = Object.keys(COLUMNS) as (keyof VmGroupFields)[];
    try {
      this.db
        .prepare(`INSERT INTO vm_groups (id, ${keys.map((k) => COLUMNS[k]).join(', ')}, created_at, updated_at) VALUES (?, ${keys.map(() => '?').join(', ')}, ?, ?)`)
        .run(id, ...keys.map((k) => dbValue(fields[k])), now, now);
    } catch (e) {
      throw this.explain(e, fields.name, fields.scheduleId);
    }
    return this.require(id);
  }

  update(id: string, patch: Partial<VmGroupFields>, now: string = isoNow()): VmGroup {
    this.require(id);
    const keys = (Object.keys(patch) as (keyof VmGroupFields)[]).filter((k) => patch[k] !== undefined && k in COLUMNS);
    if (keys.length > 0) {
      try {
        this.db
          .prepare(`UPDATE vm_groups SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')}, updated_at = ? WHERE id = ?`)
          .run(...keys.map((k) => dbValue(patch[k])), now, id);
      } catch (e) {
        throw this.explain(e, patch.name ?? '', patch.scheduleId ?? null);
      }
    }
    return this.require(id);
  }

  remove(id: string): void {
    if (this.db.prepare(`DELETE FROM vm_groups WHERE id = ?`).run(id).changes === 0) {
      throw new AppError('not_found', `No VM group with id ${id}`, { id });
    }
  }

  /** Members in run order: priority (lower first), then VM name. */
  members(groupId: string): VmGroupMember[] {
    return (this.db.prepare(`${MEMBER_SQL} WHERE m.group_id = ? ORDER BY m.priority, c.name COLLATE NOCASE, c.id`).all(groupId) as Row[]).map(mapMember);
  }

  allMembers(): VmGroupMember[] {
    return (this.db.prepare(`${MEMBER_SQL} ORDER BY m.group_id, m.priority, c.name COLLATE NOCASE`).all() as Row[]).map(mapMember);
  }

  /** Adds VMs (already members keep their settings); a VM may belong to several groups. */
  addMembers(groupId: string, contextIds: string[], priority = 100, now: string = isoNow()): VmGroupMember[] {
    this.require(groupId);
    const insert = this.db.prepare(
      `INSERT INTO vm_group_members (group_id, vm_context_id, priority, enabled, added_at) VALUES (?,?,?,1,?) ON CONFLICT DO NOTHING`,
    );
    this.db.transaction(() => {
      for (const c of contextIds) {
        try {
          insert.run(groupId, c, priority, now);
        } catch (e) {
          if (String((e as Error).message).includes('FOREIGN KEY')) throw new AppError('not_found', `No VM context with id ${c}`, { id: c });
          throw e;
        }
      }
    })();
    return this.members(groupId);
  }

  updateMember(groupId: string, contextId: string, patch: { priority?: number; enabled?: boolean }): VmGroupMember[] {
    const r = this.db
      .prepare(
        `UPDATE vm_group_members SET priority = COALESCE(?, priority), enabled = COALESCE(?, enabled) WHERE group_id = ? AND vm_context_id = ?`,
      )
      .run(patch.priority ?? null, patch.enabled === undefined ? null : patch.enabled ? 1 : 0, groupId, contextId);
    if (r.changes === 0) throw new AppError('not_found', `VM ${contextId} is not a member of group ${groupId}`);
    return this.members(groupId);
  }

  removeMember(groupId: string, contextId: string): VmGroupMember[] {
    this.db.prepare(`DELETE FROM vm_group_members WHERE group_id = ? AND vm_context_id = ?`).run(groupId, contextId);
    return this.members(groupId);
  }

  private explain(e: unknown, name: string, scheduleId: string | null): unknown {
    if (String((e as Error)?.message).includes('FOREIGN KEY')) return new AppError('not_found', `No schedule with id ${String(scheduleId)}`);
    return uniqueName(e, name);
  }
}
