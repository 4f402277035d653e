// Operator changes to machine groups: the one place they are made, so each is recorded in the job log
// (Logs see every operation) whichever transport asked. Readers use the repository directly.
import type { GroupInput } from '../../shared/contract';
import type { VmGroup, VmGroupMember } from '../../shared/domain';
import type { VmGroupFields, VmGroupRepository } from '../db/repositories/vm-groups';
import type { OperationLog } from '../logbook/logbook';
import { createGroup } from './schedule-views';

export class MachineGroups {
  constructor(
    private readonly groups: VmGroupRepository,
    private readonly logbook: Pick<OperationLog, 'record'>,
    private readonly vmName: (contextId: string) => string,
  ) {}

  create(input: GroupInput): VmGroup {
    const g = createGroup(this.groups, input);
    this.logbook.record({ kind: 'schedule', title: `Machine group ${g.name} created`, details: { groupId: g.id } });
    return g;
  }

  update(id: string, patch: Partial<VmGroupFields>): VmGroup {
    const g = this.groups.update(id, patch);
    const changed = Object.keys(patch).filter((k) => patch[k as keyof VmGroupFields] !== undefined);
    this.logbook.record({ kind: 'schedule', title: `Machine group ${g.name} changed`, message: `Machine group ${g.name} changed: ${changed.join(', ') || 'nothing'}`, details: { groupId: id, ...patch } });
    return g;
  }

  remove(id: string): void {
    const g = this.groups.require(id);
    this.groups.remove(id);
    this.logbook.record({ kind: 'schedule', title: `Machine group ${g.name} deleted`, details: { groupId: id } });
  }

  addMembers(groupId: string, contextIds: string[], priority?: number): VmGroupMember[] {
    const g = this.groups.require(groupId);
    const members = this.groups.addMembers(groupId, contextIds, priority);
    this.logbook.record({ kind: 'schedule', title: `Added ${this.names(contextIds)} to machine group ${g.name}`, details: { groupId, vmContextIds: contextIds } });
    return members;
  }

  updateMember(groupId: string, contextId: string, patch: { priority?: number; enabled?: boolean }): VmGroupMember[] {
    const g = this.groups.require(groupId);
    const members = this.groups.updateMember(groupId, contextId, patch);
    const what = [patch.priority !== undefined ? `priority ${patch.priority}` : null, patch.enabled !== undefined ? (patch.enabled ? 'enabled' : 'disabled') : null].filter(Boolean).join(', ');
    this.logbook.record({ kind: 'schedule', title: `${this.vmName(contextId)} in machine group ${g.name}: ${what || 'unchanged'}`, vmContextId: contextId, details: { groupId, ...patch } });
    return members;
  }

  removeMember(groupId: string, contextId: string): VmGroupMember[] {
    const g = this.groups.require(groupId);
    const members = this.groups.removeMember(groupId, contextId);
    this.logbook.record({ kind: 'schedule', title: `Removed ${this.vmName(contextId)} from machine group ${g.name}`, vmContextId: contextId, details: { groupId } });
    return members;
  }

  private names(contextIds: string[]): string {
    const names = contextIds.map((id) => this.vmName(id));
    return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
  }
}
