// Pure: turns the failovers the core reports (read again whenever a VM's status changes) into "a
// failover (or its rollback) started" / "ended" transitions. The suspension blocker counts these
// beside replication jobs, and the ended ones become desktop notifications.
import type { FailoverStatus, FailoverType } from '../../shared/domain';
import { FAILOVER_WORKING_STATUSES, type Failover } from '../../shared/failover';
import type { RunningFailoverView } from './quit-guard';

export type FailoverSeen = Pick<Failover, 'id' | 'vmContextId' | 'kind' | 'status' | 'error'> & { phase?: string | null };

export interface FailoverEnded {
  failoverId: string;
  vmContextId: string;
  kind: FailoverType;
  /** True when what ended was the rollback (or cleanup), not the failover itself. */
  rollback: boolean;
  status: FailoverStatus;
  error: string | null;
}

export interface FailoverActivityChange {
  started: string[];
  ended: FailoverEnded[];
  activeCount: number;
}

const working = (s: FailoverStatus) => FAILOVER_WORKING_STATUSES.includes(s);

export class FailoverActivity {
  /** Working failovers by id, and whether what works is their rollback. */
  private readonly active = new Map<string, { vmContextId: string; kind: FailoverType; rollback: boolean }>();

  /** `initial`: failovers already working when the shell starts (an owner that restarted resumes them). */
  constructor(initial: readonly FailoverSeen[] = []) {
    for (const f of initial) if (working(f.status)) this.active.set(f.id, { vmContextId: f.vmContextId, kind: f.kind, rollback: f.status === 'rolling_back' });
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** `current`: the latest failovers (every working one among them). */
  apply(current: readonly FailoverSeen[]): FailoverActivityChange {
    const change: FailoverActivityChange = { started: [], ended: [], activeCount: 0 };
    const byId = new Map(current.map((f) => [f.id, f]));
    for (const [id, was] of [...this.active]) {
      const now = byId.get(id);
      const rollbackNow = now?.status === 'rolling_back';
      if (now && working(now.status) && rollbackNow === was.rollback) continue;
      this.active.delete(id);
      if (!now) continue; // gone from the list (its VM removed): nothing truthful to say
      // A failover that is now rolling back completed first (only a completed one can be rolled back)
      // unless it is being cleaned up after cleanup_required, which was already reported.
      const status: FailoverStatus = working(now.status) ? 'completed' : now.status;
      change.ended.push({ failoverId: id, vmContextId: was.vmContextId, kind: was.kind, rollback: was.rollback, status, error: working(now.status) ? null : now.error });
    }
    for (const f of current) {
      if (!working(f.status) || this.active.has(f.id)) continue;
      this.active.set(f.id, { vmContextId: f.vmContextId, kind: f.kind, rollback: f.status === 'rolling_back' });
      change.started.push(f.id);
    }
    change.activeCount = this.active.size;
    return change;
  }
}

/** The failovers (and rollbacks) still working, named by their source VM, for the quit question and the tray. */
export function runningFailovers(current: readonly FailoverSeen[], vmName: (vmContextId: string) => string | null): RunningFailoverView[] {
  return current
    .filter((f) => working(f.status))
    .map((f) => ({
      failoverId: f.id,
      vmContextId: f.vmContextId,
      vmName: vmName(f.vmContextId) ?? f.vmContextId,
      kind: f.kind,
      rollback: f.status === 'rolling_back',
      phase: f.phase ?? null,
    }));
}
