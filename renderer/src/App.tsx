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

function Screen({ id }: { id: ScreenId }) {
  switch (id) {
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

export function App() {
  const screen = useUi((s) => s.screen);
  const phase = useConnection((s) => s.phase);
  const detail = useConnection((s) => s.detail);
  return (
    <div className="app">
      <Sidebar />
      <div className="main">
        <Header />
        <main className="content" data-screen={screen}>
          {phase === 'unauthorised' ? <NotAuthorised detail={detail} /> : <Screen id={screen} />}
        </main>
      </div>
    </div>
  );
}
