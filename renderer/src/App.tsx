import { useEffect, useState } from 'react';
import { useNow } from './lib/use-now';
import { Sidebar } from './components/Sidebar';
import { Header } from './components/Header';
import { useUi, type ScreenId } from './store/ui-store';
import { useConnection } from './transport/connection';
import { VirtualMachinesScreen } from './screens/VirtualMachines';
import { DiscoveryScreen } from './screens/Discovery';
import { LogsScreen } from './screens/Logs';
import { SettingsScreen } from './screens/Settings';
import { FailoverScreen } from './screens/FailoverScreen';
import { SchedulesScreen } from './screens/Schedules';
import { GroupsScreen } from './screens/Groups';
import { OverviewScreen } from './screens/Overview';
import { Toasts } from './components/Toasts';

function Screen({ id }: { id: ScreenId }) {
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
