import type { ExecutionDetail, GroupInput, ScheduleView, VmGroupView, VmSchedulePlan } from '../../shared/contract';
import type { VmContextSummary, VmGroup } from '../../shared/domain';
import type { ScheduleExecutionRepository } from '../db/repositories/schedule-executions';
import type { ScheduleRepository } from '../db/repositories/schedules';
import type { VmContextRepository } from '../db/repositories/vm-contexts';
import { GROUP_DEFAULTS, type VmGroupRepository } from '../db/repositories/vm-groups';
import type { JobRepository } from '../engine/job-repository';
import type { SchedulerService } from './scheduler-service';

// Read models for the screens and the CLI: what a schedule will do next, how its last run went, and
// which VMs are older than their group's replica-age target.

export interface ViewDeps {
  scheduler: SchedulerService;
  schedules: ScheduleRepository;
  groups: VmGroupRepository;
  executions: ScheduleExecutionRepository;
  contexts: VmContextRepository;
  jobs: JobRepository;
  now?: () => Date;
}

/** A member is over target when its last good sync is older than the target, or it never synced. */
export function isOverTarget(group: VmGroup, ctx: VmContextSummary | undefined, now: Date): boolean {
  if (group.replicaAgeTargetSeconds === null || !ctx) return false;
  if (!ctx.lastSuccessfulSyncAt) return true;
  return now.getTime() - Date.parse(ctx.lastSuccessfulSyncAt) > group.replicaAgeTargetSeconds * 1000;
}

export function groupViews(d: ViewDeps): VmGroupView[] {
  const now = (d.now ?? (() => new Date()))();
  const contexts = new Map(d.contexts.list().map((c) => [c.id, c]));
  return d.groups.list().map((group) => {
    const members = d.groups.members(group.id);
    const overTarget = members.filter((m) => m.enabled && isOverTarget(group, contexts.get(m.vmContextId), now)).map((m) => m.vmContextId);
    return { group, members, overTarget };
  });
}

export function scheduleViews(d: ViewDeps, previewCount = 5): ScheduleView[] {
  const now = (d.now ?? (() => new Date()))();
  const groups = groupViews(d);
  return d.schedules.list().map((schedule) => {
    const own = groups.filter((g) => g.group.scheduleId === schedule.id);
    const vms = new Set(own.flatMap((g) => g.members.filter((m) => m.enabled).map((m) => m.vmContextId)));
    const over = new Set(own.flatMap((g) => g.overTarget));
    return {
      schedule,
      nextRuns: schedule.enabled ? d.scheduler.preview(schedule.cronExpression, schedule.timezone, previewCount, now).map((x) => x.toISOString()) : [],
      running: d.scheduler.isRunning(schedule.id) || d.executions.running(schedule.id) !== null,
      lastExecution: d.executions.latest(schedule.id),
      groupIds: own.map((g) => g.group.id),
      vmCount: vms.size,
      overTarget: over.size,
    };
  });
}

/**
 * Per managed VM: its groups, the next time a schedule will try it (the earliest next run among the
 * enabled schedules of its enabled groups where its membership is enabled) and the tightest replica-age
 * target of those memberships. The same preview as the Schedules screen, so both say the same time.
 */
export function vmSchedulePlans(d: ViewDeps): VmSchedulePlan[] {
  const now = (d.now ?? (() => new Date()))();
  const schedules = new Map(d.schedules.list().map((s) => [s.id, s]));
  const nextRun = new Map<string, Date | null>();
  const nextOf = (scheduleId: string): Date | null => {
    if (!nextRun.has(scheduleId)) {
      const s = schedules.get(scheduleId);
      nextRun.set(scheduleId, s?.enabled ? (d.scheduler.preview(s.cronExpression, s.timezone, 1, now)[0] ?? null) : null);
    }
    return nextRun.get(scheduleId) ?? null;
  };
  const groups = new Map(d.groups.list().map((g) => [g.id, g]));
  const byVm = new Map<string, VmSchedulePlan['groups']>();
  for (const m of d.groups.allMembers()) {
    const g = groups.get(m.groupId);
    if (!g) continue;
    const list = byVm.get(m.vmContextId) ?? [];
    list.push({ id: g.id, name: g.name, replicaAgeTargetSeconds: g.replicaAgeTargetSeconds, memberEnabled: m.enabled && g.enabled });
    byVm.set(m.vmContextId, list);
  }
  // Ids and the enabled flag only: full summaries of a 10,000-VM fleet took the core a second here.
  return d.contexts.listEnabled().map((c) => {
    const own = (byVm.get(c.id) ?? []).sort((a, b) => a.name.localeCompare(b.name));
    const active = own.filter((g) => g.memberEnabled);
    const targets = active.map((g) => g.replicaAgeTargetSeconds).filter((t): t is number => t !== null);
    let best: { at: Date; name: string } | null = null;
    for (const g of active) {
      const sid = groups.get(g.id)?.scheduleId;
      const at = sid ? nextOf(sid) : null;
      if (at && (!best || at < best.at)) best = { at, name: schedules.get(sid!)!.name };
    }
    const noSyncReason = !c.enabled
      ? 'VM disabled'
      : own.length === 0
        ? 'in no group'
        : active.length === 0
          ? 'membership disabled'
          : best
            ? null
            : 'no enabled schedule';
    return {
      contextId: c.id,
      groups: own,
      nextSyncAt: c.enabled && best ? best.at.toISOString() : null,
      nextSyncScheduleName: c.enabled && best ? best.name : null,
      noSyncReason,
      replicaAgeTargetSeconds: targets.length > 0 ? Math.min(...targets) : null,
    };
  });
}

export function executionDetail(d: Pick<ViewDeps, 'executions' | 'jobs'>, id: string): ExecutionDetail {
  const execution = d.executions.require(id);
  return { execution, jobs: d.executions.jobIds(id).map((j) => d.jobs.require(j.jobId)) };
}

export function createGroup(groups: VmGroupRepository, input: GroupInput): VmGroup {
  const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as GroupInput;
  return groups.create({ ...GROUP_DEFAULTS, ...clean });
}
