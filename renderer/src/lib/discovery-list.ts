// Pure list logic for Discovery results: the loaded inventory is filtered and sorted locally, so
// narrowing 43 VMs to 9 needs no new call to the VMA.
import type { DiscoveryRow } from '../../../shared/discovery';
import type { SortDir } from './vm-list';

export const DISCOVERY_SORT_KEYS = ['name', 'path', 'power', 'cpus', 'memory', 'os', 'disks', 'nics', 'managed'] as const;
export type DiscoverySortKey = (typeof DISCOVERY_SORT_KEYS)[number];
export interface DiscoverySort {
  key: DiscoverySortKey;
  dir: SortDir;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export const diskBytes = (vm: DiscoveryRow): number => vm.disks.reduce((s, d) => s + d.capacityBytes, 0);

function compare(a: DiscoveryRow, b: DiscoveryRow, key: DiscoverySortKey): number {
  switch (key) {
    case 'name':
      return collator.compare(a.name, b.name);
    case 'path':
      return collator.compare(a.path, b.path);
    case 'power':
      return collator.compare(a.powerState, b.powerState);
    case 'cpus':
      return a.cpus - b.cpus;
    case 'memory':
      return a.memoryMb - b.memoryMb;
    case 'os':
      return collator.compare(a.osType, b.osType);
    case 'disks':
      return diskBytes(a) - diskBytes(b) || a.disks.length - b.disks.length;
    case 'nics':
      return a.networks.length - b.networks.length;
    case 'managed':
      return Number(a.managedContextId !== null) - Number(b.managedContextId !== null);
  }
}

/** Every word of the filter must appear in the name, path, guest OS or power state. */
export function matchesDiscoveryFilter(vm: DiscoveryRow, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${vm.name}\n${vm.path}\n${vm.osType}\n${vm.powerState}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** Pure: the rows to show, filtered then sorted (ties by name, then VMware id, for a stable order). */
export function visibleDiscoveryRows(rows: readonly DiscoveryRow[], filter: string, sort: DiscoverySort): DiscoveryRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return rows
    .filter((r) => matchesDiscoveryFilter(r, filter))
    .sort((a, b) => sign * compare(a, b, sort.key) || collator.compare(a.name, b.name) || collator.compare(a.vmwareVmId, b.vmwareVmId));
}

/** Pure: the selection without VMs that became managed meanwhile (added here, by another window, or by a conflict). */
export function pruneSelection(selected: ReadonlySet<string>, rows: readonly DiscoveryRow[]): ReadonlySet<string> {
  const managed = new Set(rows.filter((r) => r.managedContextId !== null).map((r) => r.vmwareVmId));
  let changed = false;
  const next = new Set<string>();
  for (const id of selected) {
    if (managed.has(id)) changed = true;
    else next.add(id);
  }
  return changed ? next : selected;
}
