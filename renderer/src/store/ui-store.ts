import { create } from 'zustand';

export const SCREENS = [
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
  selectedContextId: string | null;
}

export const useUi = create<UiState>(() => ({ screen: 'vms', selectedContextId: null }));

export const uiActions = {
  navigate: (screen: ScreenId) => useUi.setState({ screen }),
  selectContext: (id: string | null) => useUi.setState({ selectedContextId: id }),
};
