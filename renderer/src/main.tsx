// The entry: connects to the core and asks for the VM table's first page before React is loaded, so
// that answer is on its way while the rest of the app (boot.tsx and what it imports) is fetched,
// parsed and run. Keep this module's imports small: everything here delays that first request.
import { api } from './transport/api';
import { startLiveSync } from './store/live-sync';
import { storedColumnChoice } from './lib/column-storage';
import './styles.css';
import './operator.css';

performance.mark('mkc:entry');
startLiveSync(api());

import('./boot').catch((e: unknown) => {
  const root = document.getElementById('root');
  if (root) root.textContent = `The console failed to load: ${e instanceof Error ? e.message : String(e)}`;
  throw e;
});
// With the first requests queued and the app chunk asked for: the column choice is read now, while
// the answers are on their way, not inside the table's first render (lib/column-storage.ts says why).
storedColumnChoice();
