import { create } from 'zustand';
import type { SummaryGroupId, VmSort } from '../lib/vm-list';

export const SCREENS = [
  { id: 'overview', label: 'Overview' },
  { id: 'vms', label: 'Virtual Machines' },
  { id: 'discovery', label: 'Discovery' },
  { id: 'schedules', label: 'Schedules' },
  { id: 'groups', label: 'Machine Groups' },
  { id: 'failover', label: 'Failover' },
  { id: 'logs', label: 'Logs' },
  { id: 'settings', label: 'Settings' },
] as const;
export type ScreenId = (typeof SCREENS)[number]['id'];

interface UiState {
  screen: ScreenId;
  /** The VM whose detail panel is open. */
  selectedContextId: string | null;
  /** VMs ticked for a bulk action (kept while searching, so a search can build up a selection). */
  checkedContextIds: ReadonlySet<string>;
  vmSearch: string;
  vmGroup: SummaryGroupId | null;
  vmSort: VmSort;
}

export const useUi = create<UiState>(() => ({
  screen: 'vms',
  selectedContextId: null,
  checkedContextIds: new Set<string>(),
  vmSearch: '',
  vmGroup: null,
  vmSort: { key: 'name', dir: 'asc' },
}));

export const uiActions = {
  navigate: (screen: ScreenId) => useUi.setState({ screen }),
  selectContext: (id: string | null) => useUi.setState({ selectedContextId: id }),
  toggleChecked: (id: string) =>
    useUi.setState((s) => {
      const n = new Set(s.checkedContextIds);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return { checkedContextIds: n };
    }),
  setChecked: (ids: Iterable<string>) => useUi.setState({ checkedContextIds: new Set(ids) }),
  setVmSearch: (vmSearch: string) => useUi.setState({ vmSearch }),
  setVmGroup: (vmGroup: SummaryGroupId | null) => useUi.setState({ vmGroup }),
  /** Click on a column header: the same column flips direction, another starts ascending. */
  sortBy: (key: VmSort['key']) =>
    useUi.setState((s) => ({ vmSort: { key, dir: s.vmSort.key === key && s.vmSort.dir === 'asc' ? 'desc' : 'asc' } })),
};
