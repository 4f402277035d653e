import { SCREENS, uiActions, useUi, type ScreenId } from '../store/ui-store';
import { useShallow } from 'zustand/react/shallow';
import { useLive, type LiveState } from '../store/contexts-store';
import { sidebarCounts, sidebarCountsFrom } from '../lib/sidebar-counts';

// The selector runs on every change of the live store (each job progress batch too): the counts are
// walked over the list only when the list itself changed.
let lastList: { ids: LiveState['contextIds']; byId: LiveState['contextsById']; counts: ReturnType<typeof sidebarCounts> } | null = null;
function listCounts(s: LiveState): ReturnType<typeof sidebarCounts> {
  if (lastList === null || lastList.ids !== s.contextIds || lastList.byId !== s.contextsById) {
    lastList = { ids: s.contextIds, byId: s.contextsById, counts: sidebarCounts(s.contextIds.map((id) => s.contextsById[id]!).filter(Boolean)) };
  }
  return lastList.counts;
}

export function Sidebar() {
  const screen = useUi((s) => s.screen);
  // Shallow-compared: the sidebar re-renders when a count changes, not on every progress frame.
  // While only the first page is in, the core's counts of the whole set stand in for the list's.
  const counts = useLive(
    useShallow((s) => (s.contextsPartial ? sidebarCountsFrom(s.contextsPartial) : listCounts(s))),
  );
  const badge: Partial<Record<ScreenId, { n: number; alert: boolean; label: string }>> = {
    overview: { n: counts.attention, alert: counts.attention > 0, label: `${counts.attention} VM(s) need attention` },
    vms: { n: counts.total, alert: false, label: `${counts.total} VM(s) managed, ${counts.replicating} replicating` },
    failover: { n: counts.failedOver, alert: false, label: `${counts.failedOver} VM(s) failed over` },
  };
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark">MK</span>
        <span className="brand-name">MigrateKit Console</span>
      </div>
      <ul>
        {SCREENS.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className={screen === s.id ? 'nav-item active' : 'nav-item'}
              aria-current={screen === s.id ? 'page' : undefined}
              data-screen={s.id}
              onClick={() => uiActions.navigate(s.id)}
            >
              {s.label}
              {badge[s.id] && badge[s.id]!.n > 0 && (
                <span className={badge[s.id]!.alert ? 'nav-count alert' : 'nav-count'} title={badge[s.id]!.label} aria-label={badge[s.id]!.label} data-testid={`nav-count-${s.id}`}>
                  {badge[s.id]!.n}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

