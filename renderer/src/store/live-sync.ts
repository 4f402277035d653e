// Keeps the live store in step with the core: loads lists on every (re)connect, since events sent
// while disconnected are gone, and applies pushed batches in between.
import type { ConsoleApi } from '../../../shared/contract';
import { useConnection } from '../transport/connection';
import { liveActions } from './contexts-store';
import { uiActions } from './ui-store';

export function startLiveSync(api: ConsoleApi): () => void {
  const offs = [
    api.on('contexts:changed', liveActions.applyContextsChanged),
    api.on('jobs:progress', liveActions.applyJobProgress),
    api.on('jobs:step', liveActions.applyJobSteps),
    api.on('tunnels:state', (p) => liveActions.setTunnelStates(p.states, false, p.removedIds ?? [])),
    // A clicked notification or tray item: show that VM (its panel lists the job).
    api.on('app:open', (p) => {
      uiActions.navigate('vms');
      uiActions.selectContext(p.vmContextId);
    }),
  ];
  const load = async () => {
    const [contexts, tunnels] = await Promise.all([
      api.invoke('contexts:list', {}),
      api.invoke('appliances:tunnel-states', {}),
    ]);
    if (contexts.ok) liveActions.setContexts(contexts.value);
    else liveActions.setContextsError(contexts.error);
    if (tunnels.ok) liveActions.setTunnelStates(tunnels.value, true);
  };
  let seen = 0;
  const onConnection = (generation: number) => {
    if (generation > seen) {
      seen = generation;
      void load();
    }
  };
  onConnection(useConnection.getState().generation);
  const unsub = useConnection.subscribe((s) => onConnection(s.generation));
  return () => {
    unsub();
    for (const off of offs) off();
  };
}
