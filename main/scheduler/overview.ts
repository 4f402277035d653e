import type { OverviewView } from '../../shared/contract';
import { VM_CONTEXT_STATUSES, type VmContextSummary } from '../../shared/domain';
import { replicaTornText } from '../../shared/replica-state-text';
import { isOverTarget, type ViewDeps } from './schedule-views';

// The overview screen's read model (issue 12 "In-app overview"): one query answers the whole screen,
// so the counts it shows agree with each other and with the sidebar.

const ATTENTION_LIMIT = 20;
const OLDEST_LIMIT = 8;
const RECENT_LIMIT = 10;
const NEXT_RUNS_LIMIT = 5;

/** Local midnight of the process when the caller gives no start of "today". */
function startOfDay(now: Date): string {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
}

function attentionProblem(c: VmContextSummary): string | null {
  if (c.status === 'failed') return c.lastError ?? 'The last operation failed';
  if (c.status === 'cleanup_required') return c.lastError ?? 'A failover or rollback left resources to clean up';
  const torn = replicaTornText(c);
  return torn;
}

export function overviewView(d: ViewDeps, since?: string): OverviewView {
  const now = (d.now ?? (() => new Date()))();
  const contexts = d.contexts.list();
  const byId = new Map(contexts.map((c) => [c.id, c]));

  const counts = new Map<string, number>();
  for (const c of contexts) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);

  const attention = contexts
    .map((c) => ({ c, problem: attentionProblem(c) }))
    .filter((x): x is { c: VmContextSummary; problem: string } => x.problem !== null)
    .sort((a, b) => b.c.updatedAt.localeCompare(a.c.updatedAt))
    .slice(0, ATTENTION_LIMIT)
    .map(({ c, problem }) => ({ vmContextId: c.id, name: c.name, status: c.status, problem, since: c.updatedAt }));

  // A VM's target is the tightest of its enabled groups' replica-age targets.
  const targets = new Map<string, number>();
  const over = new Set<string>();
  for (const group of d.groups.list()) {
    if (!group.enabled || group.replicaAgeTargetSeconds === null) continue;
    for (const m of d.groups.members(group.id)) {
      if (!m.enabled) continue;
      const t = targets.get(m.vmContextId);
      if (t === undefined || group.replicaAgeTargetSeconds < t) targets.set(m.vmContextId, group.replicaAgeTargetSeconds);
      if (isOverTarget(group, byId.get(m.vmContextId), now)) over.add(m.vmContextId);
    }
  }
  // Replicas that can age: managed, enabled, not failed over (a failed-over VM runs in CloudStack).
  const ageing = contexts.filter((c) => c.enabled && c.status !== 'failed_over_live' && c.status !== 'failed_over_test');
  const oldestReplicas = ageing
    .sort((a, b) => (a.lastSuccessfulSyncAt ?? '').localeCompare(b.lastSuccessfulSyncAt ?? '') || a.name.localeCompare(b.name))
    .slice(0, OLDEST_LIMIT)
    .map((c) => ({
      vmContextId: c.id,
      name: c.name,
      lastSyncAt: c.lastSuccessfulSyncAt,
      targetSeconds: targets.get(c.id) ?? null,
      overTarget: over.has(c.id),
    }));

  const from = since ?? startOfDay(now);
  const done = d.jobs.completedSince(from);
  const bytes = done.reduce((s, j) => s + j.bytesTransferred, 0);
  const recentSyncs = d.jobs
    .list({ status: 'completed', limit: RECENT_LIMIT })
    .filter((j) => j.completedAt)
    .map((j) => ({
      jobId: j.id,
      vmContextId: j.vmContextId,
      name: byId.get(j.vmContextId)?.name ?? j.vmContextId,
      jobType: j.jobType,
      bytes: j.bytesTransferred,
      durationMs: j.startedAt && j.completedAt ? Date.parse(j.completedAt) - Date.parse(j.startedAt) : null,
      completedAt: j.completedAt!,
    }));

  const runningJobs = d.jobs.active().map((j) => ({
    jobId: j.id,
    vmContextId: j.vmContextId,
    name: byId.get(j.vmContextId)?.name ?? j.vmContextId,
    status: j.status,
    phase: j.phase,
    progressPercent: j.progressPercent,
    bytesTransferred: j.bytesTransferred,
    totalBytes: j.totalBytes,
    rateBps: j.rateBps,
  }));

  const groups = d.groups.list();
  const nextRuns = d.schedules
    .list()
    .filter((s) => s.enabled)
    .map((s) => {
      const at = d.scheduler.nextRun(s, now);
      const vms = new Set(
        groups
          .filter((g) => g.scheduleId === s.id && g.enabled)
          .flatMap((g) => d.groups.members(g.id).filter((m) => m.enabled).map((m) => m.vmContextId)),
      );
      return at ? { scheduleId: s.id, name: s.name, at: at.toISOString(), vmCount: vms.size } : null;
    })
    .filter((x): x is NonNullable<typeof x> => x !== null)
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(0, NEXT_RUNS_LIMIT);

  return {
    generatedAt: now.toISOString(),
    vmsByState: VM_CONTEXT_STATUSES.map((status) => ({ status, count: counts.get(status) ?? 0 })),
    totalVms: contexts.length,
    attention,
    oldestReplicas,
    overTargetCount: over.size,
    today: { since: from, syncs: done.length, bytes, averageBytesPerSync: done.length ? Math.round(bytes / done.length) : null },
    recentSyncs,
    runningJobs,
    nextRuns,
    schedulesActive: d.scheduler.active,
  };
}
