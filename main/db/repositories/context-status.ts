import type { Db } from '../database';
import type { VmContextStatus } from '../../../shared/domain';
import { moveContextStatus, type ContextStatusStore } from '../../base/context-state';
import { isoNow } from '../../base/ids';

// The only SQL that writes vm_contexts.current_status (context-status.test.ts keeps it the only one).
// Every move goes through the state machine in main/base/context-state.ts.
function store(db: Db): ContextStatusStore {
  return {
    read: (id) => {
      const r = db.prepare(`SELECT name, current_status FROM vm_contexts WHERE id = ?`).get(id) as { name: string; current_status: string } | undefined;
      return r ? { name: r.name, status: r.current_status as VmContextStatus } : null;
    },
    write: (id, status) => {
      db.prepare(`UPDATE vm_contexts SET current_status = ?, updated_at = ? WHERE id = ?`).run(status, isoNow(), id);
    },
  };
}

/** Moves a VM's status through the state machine; an illegal move throws a conflict and writes nothing. */
export function writeContextStatus(db: Db, contextId: string, to: VmContextStatus): { from: VmContextStatus; to: VmContextStatus; changed: boolean } {
  return moveContextStatus(store(db), contextId, to);
}
