import type { ExecutionDetail, GroupInput, ScheduleView, VmGroupView } from '../../shared/contract';
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

export function executionDetail(d: Pick<ViewDeps, 'executions' | 'jobs'>, id: string): ExecutionDetail {
  const execution = d.executions.require(id);
  return { execution, jobs: d.executions.jobIds(id).map((j) => d.jobs.require(j.jobId)) };
}

export function createGroup(groups: VmGroupRepository, input: GroupInput): VmGroup {
  const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as GroupInput;
  return groups.create({ ...GROUP_DEFAULTS, ...clean });
}
