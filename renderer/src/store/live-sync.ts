// Keeps the live store in step with the core: loads lists on every (re)connect, since events sent
// while disconnected are gone, and applies pushed batches in between.
import type { ConsoleApi } from '../../../shared/contract';
import { useConnection } from '../transport/connection';
import { hasFullList, liveActions, useLive } from './contexts-store';
import { uiActions } from './ui-store';

/** Rows in the first page: a tall window's screenful (34 px rows) with room to scroll before the rest is in. */
export const FIRST_PAGE_ROWS = 100;

let firstPageSettled: () => void = () => undefined;
/**
 * Settles once the first load has its first page in the store (or knows it will not come: an error,
 * or a reconnect that skips the page). The app's first render waits a moment for it (boot.tsx).
 */
export const firstPageIn: Promise<void> = new Promise((resolve) => {
  firstPageSettled = resolve;
});

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
  /** Loads the lists; false when the core could not be reached for them. */
  const load = async (): Promise<boolean> => {
    performance.mark('mkc:load-start');
    // The first screenful comes from a small page (a 10,000-VM list is megabytes of JSON); the full
    // list is asked for once the page is in, so the core answers the page first. A reconnect with the
    // full list already shown skips the page: it would only shrink the table for a moment.
    const page = hasFullList(useLive.getState()) ? null : api.invoke('contexts:page', { limit: FIRST_PAGE_ROWS });
    const tunnels = api.invoke('appliances:tunnel-states', {});
    const first = page ? await page : null;
    // Marks for the bench (test/bench/frames.ts reads them): when each answer reached the page.
    performance.mark('mkc:contexts-page');
    if (first?.ok) liveActions.setContextsPage(first.value);
    firstPageSettled();
    const contexts = await api.invoke('contexts:list', {});
    performance.mark('mkc:contexts-list');
    if (contexts.ok) liveActions.setContexts(contexts.value);
    else liveActions.setContextsError(contexts.error);
    const t = await tunnels;
    if (t.ok) liveActions.setTunnelStates(t.value, true);
    return contexts.ok || contexts.error.code !== 'unreachable';
  };
  // The first load is asked for now, before the transport is connected: it queues the requests and
  // sends them as soon as it can (right behind the dev bridge's hello), so the first page is on its
  // way while the page is still loading React. It stands for the first connection; a later
  // (re)connect loads again, since events sent while disconnected are gone.
  let seen = Math.max(1, useConnection.getState().generation);
  void load().then((ok) => {
    // Lost before the first connection was up (the socket closed before answering): load again on it.
    if (!ok) seen = Math.min(seen, useConnection.getState().generation);
  });
  const onConnection = (generation: number) => {
    if (generation > seen) {
      seen = generation;
      void load();
    }
  };
  const unsub = useConnection.subscribe((s) => onConnection(s.generation));
  return () => {
    unsub();
    for (const off of offs) off();
  };
}
