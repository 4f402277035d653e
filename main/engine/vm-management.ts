import type { RemovalPlan, RemovalVolumeFate, RemoveContextResult } from '../../shared/contract';
import type { VmContextSummary } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { VmContextRepository } from '../db/repositories/vm-contexts';
import type { EventBus } from '../ipc/event-bus';
import type { Logbook } from '../logbook/logbook';
import { newId } from '../base/ids';
import type { EnginePorts } from './ports';
import type { VolumeRepository } from './volume-repository';

// Taking a VM out of management (disable, remove) is refused while anything works on it: an active
// replication job writes its volumes, and a running failover or rollback owns the VM and its volumes.

/** Failover statuses in which the failover engine is working on the VM right now. */
const FAILOVER_WORKING: readonly VmContextSummary['status'][] = ['failing_over', 'rolling_back'];

export interface VmManagementDeps {
  contexts: VmContextRepository;
  volumes: VolumeRepository;
  logbook: Logbook;
  bus: EventBus;
  ports: Pick<EnginePorts, 'cloudstack' | 'oma' | 'target'>;
}

/** Why this VM cannot be disabled or removed now, or null. */
export function busyReason(c: VmContextSummary): string | null {
  if (c.currentJobId) return `${c.name} has an active replication job ${c.currentJobId}; cancel it or let it finish first`;
  if (FAILOVER_WORKING.includes(c.status)) return `${c.name} is ${c.status === 'failing_over' ? 'failing over' : 'rolling back'}; wait until that finishes`;
  return null;
}

/** Why removal is refused beyond busyness: a test failover VM still boots from the replica volumes. */
function removalBlocked(c: VmContextSummary, deleteVolumes: boolean): string | null {
  const busy = busyReason(c);
  if (busy) return busy;
  if (c.status === 'failed_over_test') return `${c.name} has a test failover VM running on its replica volumes; roll the test failover back first`;
  if (deleteVolumes && c.status === 'failed_over_live') {
    return `${c.name} was failed over live: its replica volumes are now the disks of the CloudStack VM and are never deleted from here; remove it keeping the volumes`;
  }
  return null;
}

export class VmManagementService {
  constructor(private readonly deps: VmManagementDeps) {}

  /** Disabled VMs are skipped by schedules and refused by manual syncs; their replicas stay as they are. */
  setEnabled(id: string, enabled: boolean): VmContextSummary {
    const c = this.deps.contexts.require(id);
    if (!enabled) {
      const busy = busyReason(c);
      if (busy) throw new AppError('conflict', `Cannot disable: ${busy}`, { contextId: id });
    }
    if (c.enabled !== enabled) this.deps.contexts.setEnabled(id, enabled);
    const next = this.deps.contexts.require(id);
    this.deps.bus.emit('contexts:changed', { contexts: [next], removedIds: [] });
    return next;
  }

  /** What removing each VM would do to its replica volumes, and whether it is refused now. */
  plan(ids: string[]): RemovalPlan[] {
    return ids.map((id) => {
      const c = this.deps.contexts.require(id);
      const volumes = this.volumesOf(id).map((v) => ({ id: v.id, name: v.name, sizeBytes: v.sizeBytes, attached: v.state === 'attached' }));
      return {
        contextId: id,
        name: c.name,
        volumes,
        refusedKeeping: removalBlocked(c, false),
        refusedDeleting: removalBlocked(c, true),
        failedOverLive: c.status === 'failed_over_live',
      };
    });
  }

  /**
   * Forgets the VM. `keep`: its replica volumes stay in CloudStack under their names (detached from
   * the OMA, NBD exports withdrawn, so the OMA holds nothing for a VM it no longer serves); after a live
   * failover they stay with the CloudStack VM untouched. `delete`: exports withdrawn, volumes detached
   * and deleted. The VM's row goes last: a CloudStack or OMA failure leaves it managed and says why.
   */
  async remove(id: string, fate: RemovalVolumeFate): Promise<RemoveContextResult> {
    const c = this.deps.contexts.require(id);
    const blocked = removalBlocked(c, fate === 'delete');
    if (blocked) throw new AppError('conflict', `Cannot remove: ${blocked}`, { contextId: id });
    const volumes = this.volumesOf(id);
    const opId = newId('op');
    this.deps.logbook.startOperation(opId, 'inventory', `Remove ${c.name} from management (${fate === 'delete' ? 'delete' : 'keep'} replica volumes)`, id);
    const outcome: RemoveContextResult['volumes'] = [];
    // A job or failover may have started since the check above (they claim the VM in the database).
    const recheck = () => {
      const now = this.deps.contexts.require(id);
      const again = removalBlocked(now, fate === 'delete');
      if (again) throw new AppError('conflict', `Cannot remove: ${again}`, { contextId: id });
    };
    try {
      if (volumes.length > 0 && c.status !== 'failed_over_live') {
        const target = this.deps.ports.target();
        const cs = this.deps.ports.cloudstack();
        const oma = this.deps.ports.oma(target.omaApplianceId);
        for (const v of volumes) {
          recheck();
          if (v.exportStatus === 'active') {
            await oma.withdrawExport(v.id);
            this.deps.volumes.markExportRemoved(v.id);
            this.deps.logbook.event(opId, 'info', `NBD export of ${v.name} withdrawn`);
          }
          const live = await cs.getVolume(v.id);
          if (!live) {
            this.deps.volumes.markDeleted(v.id);
            this.deps.logbook.event(opId, 'warn', `Volume ${v.name} (${v.id}) no longer exists in CloudStack`);
            outcome.push({ id: v.id, name: v.name, outcome: 'missing' });
            continue;
          }
          if (live.virtualmachineid && (fate === 'delete' || live.virtualmachineid === target.omaVmId)) {
            await cs.detachVolume(v.id);
            this.deps.volumes.setState(v.id, 'detached', null);
            this.deps.logbook.event(opId, 'info', `Volume ${v.name} detached from ${live.virtualmachineid}`);
          }
          if (fate === 'delete') {
            await cs.deleteVolume(v.id);
            this.deps.volumes.markDeleted(v.id);
            this.deps.logbook.event(opId, 'info', `Volume ${v.name} (${v.id}) deleted`);
            outcome.push({ id: v.id, name: v.name, outcome: 'deleted' });
          } else {
            this.deps.logbook.event(opId, 'info', `Volume ${v.name} (${v.id}) kept in CloudStack`);
            outcome.push({ id: v.id, name: v.name, outcome: 'kept' });
          }
        }
      } else {
        for (const v of volumes) outcome.push({ id: v.id, name: v.name, outcome: 'kept' });
      }
      recheck();
      this.deps.contexts.remove(id);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.deps.logbook.event(opId, 'error', `${c.name} stays under management: ${message}`);
      this.deps.logbook.finishOperation(opId, 'failed', message);
      throw e instanceof AppError ? e : new AppError('internal', `${c.name} stays under management: removing its replica volumes failed: ${message}`, { contextId: id });
    }
    this.deps.logbook.event(opId, 'info', `${c.name} removed from management`);
    this.deps.logbook.finishOperation(opId, 'completed');
    this.deps.bus.emit('contexts:changed', { contexts: [], removedIds: [id] });
    return { removed: true, volumes: outcome };
  }

  private volumesOf(contextId: string) {
    return this.deps.contexts
      .disks(contextId, true)
      .map((d) => (d.cloudstackVolumeId ? this.deps.volumes.get(d.cloudstackVolumeId) : null))
      .filter((v): v is NonNullable<typeof v> => v !== null && v.state !== 'deleted');
  }
}
