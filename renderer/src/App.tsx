import { lazy, Suspense, useEffect, useState } from 'react';
import { useNow } from './lib/use-now';
import { Sidebar } from './components/Sidebar';
import { Header } from './components/Header';
import { useUi, type ScreenId } from './store/ui-store';
import { useConnection } from './transport/connection';
import { VirtualMachinesScreen } from './screens/VirtualMachines';
import { Toasts } from './components/Toasts';
import { hasFullList, useLive } from './store/contexts-store';

// The VM list is the screen the console opens on and is part of the app's own chunk; every other
// screen is a chunk of its own, loaded when first shown (and fetched early once the list is up), so
// the first screen does not wait for code it does not run.
const screenChunks = {
  overview: () => import('./screens/Overview').then((m) => ({ default: m.OverviewScreen })),
  discovery: () => import('./screens/Discovery').then((m) => ({ default: m.DiscoveryScreen })),
  schedules: () => import('./screens/Schedules').then((m) => ({ default: m.SchedulesScreen })),
  groups: () => import('./screens/Groups').then((m) => ({ default: m.GroupsScreen })),
  failover: () => import('./screens/FailoverScreen').then((m) => ({ default: m.FailoverScreen })),
  logs: () => import('./screens/Logs').then((m) => ({ default: m.LogsScreen })),
  settings: () => import('./screens/Settings').then((m) => ({ default: m.SettingsScreen })),
};
const OverviewScreen = lazy(screenChunks.overview);
const DiscoveryScreen = lazy(screenChunks.discovery);
const SchedulesScreen = lazy(screenChunks.schedules);
const GroupsScreen = lazy(screenChunks.groups);
const FailoverScreen = lazy(screenChunks.failover);
const LogsScreen = lazy(screenChunks.logs);
const SettingsScreen = lazy(screenChunks.settings);

/**
 * Fetches the other screens' chunks once the VM list is fully in and the browser is idle, so switching
 * screens later is instant. Not before: an idle moment while the first page is on its way is not free
 * (the chunks are served by the same core that is answering, and compiled on this thread).
 */
function usePrefetchScreens() {
  const listIn = useLive((s) => hasFullList(s) || s.contextsError !== null);
  useEffect(() => {
    if (!listIn) return;
    const fetchAll = () => {
      for (const load of Object.values(screenChunks)) void load().catch(() => undefined);
    };
    if (typeof requestIdleCallback === 'function') {
      const id = requestIdleCallback(fetchAll, { timeout: 5000 });
      return () => cancelIdleCallback(id);
    }
    const t = setTimeout(fetchAll, 2000);
    return () => clearTimeout(t);
  }, [listIn]);
}

function Screen({ id }: { id: ScreenId }) {
  return (
    <Suspense fallback={<div className="screen-pad muted">Loading…</div>}>
      <ScreenBody id={id} />
    </Suspense>
  );
}

function ScreenBody({ id }: { id: ScreenId }) {
  switch (id) {
    case 'overview':
      return <OverviewScreen />;
    case 'vms':
      return <VirtualMachinesScreen />;
    case 'discovery':
      return <DiscoveryScreen />;
    case 'schedules':
      return <SchedulesScreen />;
    case 'groups':
      return <GroupsScreen />;
    case 'failover':
      return <FailoverScreen />;
    case 'logs':
      return <LogsScreen />;
    case 'settings':
      return <SettingsScreen />;
  }
}

function NotAuthorised({ detail }: { detail: string | null }) {
  return (
    <div className="not-authorised" role="alert" data-testid="not-authorised">
      <h2>Not authorised</h2>
      <p>{detail ?? 'The core refused this page.'}</p>
    </div>
  );
}

/** The first connect gets a moment before the page calls the core unreachable. */
const FIRST_CONNECT_GRACE_MS = 3000;

/** Whether the core is away: reconnecting, or a first connect that is taking too long. */
function useCoreAway(): boolean {
  const phase = useConnection((s) => s.phase);
  const [graceOver, setGraceOver] = useState(false);
  useEffect(() => {
    if (phase !== 'connecting') return;
    const t = setTimeout(() => setGraceOver(true), FIRST_CONNECT_GRACE_MS);
    return () => clearTimeout(t);
  }, [phase]);
  return phase === 'reconnecting' || (phase === 'connecting' && graceOver);
}

function CoreUnreachable() {
  const c = useConnection();
  const now = useNow(1000);
  const seconds = c.nextAttemptAt ? Math.max(0, Math.round((Date.parse(c.nextAttemptAt) - now) / 1000)) : null;
  return (
    <div className="banner" role="alert" data-testid="core-unreachable">
      <strong>The console core is unreachable.</strong>
      <span>
        {c.phase === 'connecting' ? 'It has not answered yet. ' : `${c.detail ? `${c.detail.split('\n')[0]}. ` : ''}`}
        What you see may be out of date, and actions are disabled until it is back
        {seconds !== null ? ` (next attempt in ${seconds}s)` : ''}. The engine keeps running jobs and schedules on its own.
      </span>
    </div>
  );
}

export function App() {
  const screen = useUi((s) => s.screen);
  const phase = useConnection((s) => s.phase);
  const detail = useConnection((s) => s.detail);
  const away = useCoreAway();
  usePrefetchScreens();
  return (
    <div className="app">
      <Sidebar />
      <div className="main">
        <Header />
        {away && <CoreUnreachable />}
        <main className={away ? 'content stale' : 'content'} data-screen={screen} data-stale={away || undefined} aria-busy={away || undefined}>
          {/* A disabled fieldset disables every control on the screen at once; the banner says why. */}
          <fieldset className="screen-frame" disabled={away} title={away ? 'The console core is unreachable; actions are disabled until it is back' : undefined}>
            {phase === 'unauthorised' ? <NotAuthorised detail={detail} /> : <Screen id={screen} />}
          </fieldset>
        </main>
      </div>
      <Toasts />
    </div>
  );
}
