import { describe, expect, it } from 'vitest';
import type { VmContextSummary, VmContextStatus } from '../../../shared/domain';
import type { VmSchedulePlan } from '../../../shared/contract';
import { groupsText, matchesSearch, sortContexts, statusSummary, summaryFromCounts, summaryText, visibleContexts, type PlansById } from './vm-list';
import { countStatuses } from '../../../shared/vm-order';
import { sidebarCounts, sidebarCountsFrom } from './sidebar-counts';

let n = 0;
function ctx(name: string, status: VmContextStatus, lastSync: string | null, extra: Partial<VmContextSummary> = {}): VmContextSummary {
  n++;
  return {
    id: `ctx-${n}`,
    vmwareVmId: `vm-${n}`,
    vcenterHost: 'vc',
    name,
    path: `/dc/vm/prod/${name}`,
    datacenter: 'dc',
    status,
    currentJobId: null,
    replicaTornJobId: null,
    specs: { cpus: 2, memoryMb: 4096, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', networks: [] },
    diskCount: 1,
    totalBytes: 10,
    totalJobs: 0,
    successfulJobs: 0,
    failedJobs: 0,
    lastSuccessfulJobId: null,
    lastSuccessfulSyncAt: lastSync,
    lastError: null,
    enabled: true,
    credentialId: null,
    vmaApplianceId: null,
    lastDiscoveredAt: null,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

const list = [
  ctx('web-10', 'ready_for_failover', '2026-12-01T10:00:00Z'),
  ctx('web-2', 'failed', '2026-12-01T08:00:00Z'),
  ctx('db-1', 'replicating', '2026-12-01T09:00:00Z', { path: '/dc/vm/finance/db-1' }),
  ctx('new-vm', 'discovered', null),
  ctx('old-vm', 'ready_for_failover', '2026-11-01T00:00:00Z'),
];
const names = (l: VmContextSummary[]) => l.map((c) => c.name);

describe('VM list helpers', () => {
  it('sorts names naturally (web-2 before web-10) in both directions', () => {
    expect(names(sortContexts(list, { key: 'name', dir: 'asc' }))).toEqual(['db-1', 'new-vm', 'old-vm', 'web-2', 'web-10']);
    expect(names(sortContexts(list, { key: 'name', dir: 'desc' }))).toEqual(['web-10', 'web-2', 'old-vm', 'new-vm', 'db-1']);
  });
  it('sorts by replica age with VMs that never synced as the oldest', () => {
    expect(names(sortContexts(list, { key: 'age', dir: 'desc' }))).toEqual(['new-vm', 'old-vm', 'web-2', 'db-1', 'web-10']);
    expect(names(sortContexts(list, { key: 'lastSync', dir: 'desc' }))).toEqual(['web-10', 'db-1', 'web-2', 'old-vm', 'new-vm']);
  });
  it('sorts by status with what needs attention first', () => {
    expect(names(sortContexts(list, { key: 'status', dir: 'asc' }))[0]).toBe('web-2');
  });
  it('sorts by next sync soonest first, VMs no schedule will sync after the planned ones', () => {
    const byName = Object.fromEntries(list.map((c) => [c.name, c.id]));
    const plan = (name: string, nextSyncAt: string | null, groups: VmSchedulePlan['groups'] = []): VmSchedulePlan => ({
      contextId: byName[name]!, groups, nextSyncAt, nextSyncScheduleName: nextSyncAt ? 'nightly' : null, noSyncReason: nextSyncAt ? null : 'in no group', replicaAgeTargetSeconds: null,
    });
    // web-10 has no plan at all (plans still loading for it): counted as not scheduled.
    const plans: PlansById = Object.fromEntries(
      [plan('web-2', '2026-12-02T03:00:00Z'), plan('db-1', '2026-12-02T01:00:00Z'), plan('new-vm', null), plan('old-vm', '2026-12-02T02:30:00Z')].map((p) => [p.contextId, p]),
    );
    expect(names(sortContexts(list, { key: 'nextSync', dir: 'asc' }, plans))).toEqual(['db-1', 'old-vm', 'web-2', 'new-vm', 'web-10']);
    // Ties (both unscheduled) keep name order in either direction.
    expect(names(sortContexts(list, { key: 'nextSync', dir: 'desc' }, plans))).toEqual(['new-vm', 'web-10', 'web-2', 'old-vm', 'db-1']);
    // The same through the view the table draws (search and summary group first, then the sort).
    expect(names(visibleContexts(list, '', 'ready', { key: 'nextSync', dir: 'asc' }, plans))).toEqual(['old-vm', 'web-10']);
  });
  it('sorts by groups as the cell reads them (natural order), VMs in no group after the grouped ones', () => {
    const g = (name: string, memberEnabled = true) => ({ id: `g-${name}`, name, replicaAgeTargetSeconds: null, memberEnabled });
    const byName = Object.fromEntries(list.map((c) => [c.name, c.id]));
    const plan = (name: string, groups: VmSchedulePlan['groups']): [string, VmSchedulePlan] => [
      byName[name]!,
      { contextId: byName[name]!, groups, nextSyncAt: null, nextSyncScheduleName: null, noSyncReason: 'in no group', replicaAgeTargetSeconds: null },
    ];
    const plans: PlansById = Object.fromEntries([
      plan('web-10', [g('tier-10')]),
      plan('web-2', [g('tier-2'), g('web', false)]),
      plan('db-1', [g('Databases')]),
      plan('old-vm', []),
    ]);
    expect(groupsText(plans[byName['web-2']!])).toBe('tier-2, web (off)');
    expect(names(sortContexts(list, { key: 'groups', dir: 'asc' }, plans))).toEqual(['db-1', 'web-2', 'web-10', 'new-vm', 'old-vm']);
    expect(names(sortContexts(list, { key: 'groups', dir: 'desc' }, plans))).toEqual(['new-vm', 'old-vm', 'web-10', 'web-2', 'db-1']);
  });
  it('searches name, path and status word (shown or stored)', () => {
    expect(list.filter((c) => matchesSearch(c, 'finance')).map((c) => c.name)).toEqual(['db-1']);
    expect(list.filter((c) => matchesSearch(c, 'not synced')).map((c) => c.name)).toEqual(['new-vm']);
    expect(list.filter((c) => matchesSearch(c, 'ready_for_failover')).length).toBe(2);
    expect(list.filter((c) => matchesSearch(c, 'WEB failed')).map((c) => c.name)).toEqual(['web-2']);
    expect(list.filter((c) => matchesSearch(c, '  ')).length).toBe(5);
  });
  it('summarises by status in reading order', () => {
    const s = statusSummary(list);
    expect(summaryText(s)).toBe('1 failed · 1 replicating · 2 ready · 1 not synced');
  });
  it('summarises the core\'s whole-set counts (shown while the list loads) the same way', () => {
    expect(summaryFromCounts(countStatuses(list).byDisplayStatus)).toEqual(statusSummary(list));
    const counts = { failed: 2, cleanup_required: 1, failing_over: 1, failed_over_live: 3, discovered: 9000, disabled: 4 } as const;
    expect(summaryText(summaryFromCounts(counts))).toBe('3 failed · 4 in failover · 9000 not synced · 4 disabled');
    expect(sidebarCountsFrom({ total: 9011, attention: 5, byDisplayStatus: { ...counts, replicating: 7 } })).toEqual({ total: 9011, attention: 5, replicating: 7, failedOver: 3 });
    expect(sidebarCountsFrom(countStatuses(list))).toEqual(sidebarCounts(list));
  });
  it('filters by summary group and search together, then sorts', () => {
    expect(names(visibleContexts(list, '', 'ready', { key: 'name', dir: 'asc' }))).toEqual(['old-vm', 'web-10']);
    expect(names(visibleContexts(list, 'web', 'ready', { key: 'name', dir: 'asc' }))).toEqual(['web-10']);
  });
});
