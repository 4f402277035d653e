// Pure list logic for the VM table: text search, column sorting and the status summary, kept out of the
// component so it is tested without a browser and recomputed only when the contexts change.
import type { VmSchedulePlan } from '../../../shared/contract';
import type { VmContextSummary } from '../../../shared/domain';
import { vmDisplayStatus, vmStatusText, type VmDisplayStatus } from '../../../shared/status-text';
import { countStatuses, type VmStatusCounts } from '../../../shared/vm-order';

export const VM_SORT_KEYS = ['name', 'status', 'lastSync', 'age', 'nextSync', 'groups', 'power', 'disks', 'cpu'] as const;
export type VmSortKey = (typeof VM_SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';
export interface VmSort {
  key: VmSortKey;
  dir: SortDir;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Rank for sorting by status: what needs attention first. */
const STATUS_RANK: Record<VmDisplayStatus, number> = {
  failed: 0,
  cleanup_required: 1,
  failing_over: 2,
  rolling_back: 3,
  replicating: 4,
  discovered: 5,
  disabled: 6,
  synced: 7,
  ready_for_failover: 8,
  failed_over_test: 9,
  failed_over_live: 10,
};

/** The scheduler's per-VM plans by context id (next sync, groups); absent while they load. */
export type PlansById = Readonly<Record<string, VmSchedulePlan>>;

/** The groups cell's text: group names in the plan's order, a disabled membership marked "(off)"; empty for no group. */
export const groupsText = (plan: VmSchedulePlan | undefined): string =>
  (plan?.groups ?? []).map((g) => (g.memberEnabled ? g.name : `${g.name} (off)`)).join(', ');

const syncTime = (c: VmContextSummary): number => (c.lastSuccessfulSyncAt ? Date.parse(c.lastSuccessfulSyncAt) : Number.NaN);

/** Missing values (no next sync, no group) go after every present one in ascending order, before them in descending. */
function missingLast<T>(x: T | null, y: T | null, cmp: (x: T, y: T) => number): number {
  if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
  return cmp(x, y);
}

function compare(a: VmContextSummary, b: VmContextSummary, key: VmSortKey, plans: PlansById): number {
  switch (key) {
    case 'name':
      return collator.compare(a.name, b.name);
    case 'status':
      return STATUS_RANK[vmDisplayStatus(a)] - STATUS_RANK[vmDisplayStatus(b)];
    case 'lastSync':
    case 'age': {
      // A VM without a replica counts as the oldest replica there is: it heads a by-age-descending list.
      const x = syncTime(a);
      const y = syncTime(b);
      const xs = Number.isNaN(x) ? -Infinity : x;
      const ys = Number.isNaN(y) ? -Infinity : y;
      const byTime = xs === ys ? 0 : xs < ys ? -1 : 1;
      return key === 'age' ? -byTime : byTime;
    }
    case 'nextSync': {
      // Soonest first; a VM no schedule will sync comes after every planned one.
      const x = plans[a.id]?.nextSyncAt;
      const y = plans[b.id]?.nextSyncAt;
      return missingLast(x ? Date.parse(x) : null, y ? Date.parse(y) : null, (p, q) => p - q);
    }
    case 'groups':
      return missingLast(groupsText(plans[a.id]) || null, groupsText(plans[b.id]) || null, (p, q) => collator.compare(p, q));
    case 'power':
      return collator.compare(a.specs.powerState, b.specs.powerState);
    case 'disks':
      return a.totalBytes - b.totalBytes || a.diskCount - b.diskCount;
    case 'cpu':
      return a.specs.cpus - b.specs.cpus || a.specs.memoryMb - b.specs.memoryMb;
  }
}

/** Pure: a sorted copy; ties fall back to name then id so the order is stable across pushes. */
export function sortContexts(list: readonly VmContextSummary[], sort: VmSort, plans: PlansById = {}): VmContextSummary[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...list].sort((a, b) => sign * compare(a, b, sort.key, plans) || collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Pure: does a VM match the search text? Every whitespace-separated word must appear in the name, the
 * inventory path or the status word (as shown, e.g. "not synced", or stored, e.g. "ready_for_failover").
 */
export function matchesSearch(c: VmContextSummary, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${c.name}\n${c.path}\n${vmStatusText(c)}\n${vmDisplayStatus(c)}\n${c.status}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** The groups of the status summary bar, in the order an operator reads them. */
export const SUMMARY_GROUPS = [
  { id: 'failed', label: 'failed', statuses: ['failed', 'cleanup_required'] },
  { id: 'replicating', label: 'replicating', statuses: ['replicating'] },
  { id: 'failover', label: 'in failover', statuses: ['failing_over', 'rolling_back', 'failed_over_test', 'failed_over_live'] },
  { id: 'ready', label: 'ready', statuses: ['ready_for_failover'] },
  { id: 'synced', label: 'synced', statuses: ['synced'] },
  { id: 'not_synced', label: 'not synced', statuses: ['discovered'] },
  { id: 'disabled', label: 'disabled', statuses: ['disabled'] },
] as const satisfies readonly { id: string; label: string; statuses: readonly VmDisplayStatus[] }[];
export type SummaryGroupId = (typeof SUMMARY_GROUPS)[number]['id'];

export function summaryGroupOf(c: VmContextSummary): SummaryGroupId {
  const d = vmDisplayStatus(c);
  const g = SUMMARY_GROUPS.find((x) => (x.statuses as readonly VmDisplayStatus[]).includes(d));
  return g ? g.id : 'not_synced';
}

/** Pure: non-empty groups with their counts, e.g. [{failed, 2}, {replicating, 3}, {ready, 40}]. */
export function statusSummary(list: readonly VmContextSummary[]): { id: SummaryGroupId; label: string; count: number }[] {
  return summaryFromCounts(countStatuses(list).byDisplayStatus);
}

/** Pure: the same groups from counts by display status (the core's counts while the list loads). */
export function summaryFromCounts(byDisplayStatus: VmStatusCounts['byDisplayStatus']): { id: SummaryGroupId; label: string; count: number }[] {
  return SUMMARY_GROUPS.map((g) => ({ id: g.id, label: g.label, count: g.statuses.reduce((n, st: VmDisplayStatus) => n + (byDisplayStatus[st] ?? 0), 0) })).filter(
    (g) => g.count > 0,
  );
}

/** "2 failed · 3 replicating · 40 ready" */
export const summaryText = (s: { label: string; count: number }[]): string => s.map((g) => `${g.count} ${g.label}`).join(' · ');

/** Pure: the rows to show, filtered by the search text and the chosen summary group, then sorted. */
export function visibleContexts(
  list: readonly VmContextSummary[],
  query: string,
  group: SummaryGroupId | null,
  sort: VmSort,
  plans: PlansById = {},
): VmContextSummary[] {
  const filtered = list.filter((c) => (group === null || summaryGroupOf(c) === group) && matchesSearch(c, query));
  return sortContexts(filtered, sort, plans);
}
