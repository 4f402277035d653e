import { useEffect, useRef, useState } from 'react';
import type { VmContextStatus } from '../../../shared/domain';
import { api } from '../transport/api';
import { useLive } from '../store/contexts-store';
import { uiActions, useUi } from '../store/ui-store';
import { failoverOutcomeToasts, jobOutcomeToasts, toastsToShow, type Toast } from '../lib/outcome-toasts';

const TOAST_MS = 10_000;
const MAX_TOASTS = 4;

/** Job and failover outcomes, as toasts, while the operator is on a screen that does not show them. */
export function Toasts() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const announced = useRef(new Set<string>());
  const statuses = useRef<Record<string, VmContextStatus>>({});
  useEffect(() => {
    // VMs first seen in a (re)load start from their loaded status; changes are tracked by the events below.
    const seed = (byId: Record<string, { status: VmContextStatus } | undefined>) => {
      for (const [id, c] of Object.entries(byId)) if (c && !(id in statuses.current)) statuses.current[id] = c.status;
    };
    seed(useLive.getState().contextsById);
    // Only when the contexts changed: the store also changes on every job progress batch, and walking
    // 10,000 VMs for each of those would cost milliseconds per event.
    const unsubscribe = useLive.subscribe((s, prev) => {
      if (s.contextsById !== prev.contextsById) seed(s.contextsById);
    });
    const show = (list: Toast[]) => {
      const fresh = toastsToShow(list, useUi.getState());
      if (fresh.length === 0) return;
      setToasts((prev) => [...prev.filter((p) => !fresh.some((f) => f.id === p.id)), ...fresh].slice(-MAX_TOASTS));
      for (const t of fresh) setTimeout(() => setToasts((prev) => prev.filter((p) => p.id !== t.id)), TOAST_MS);
    };
    const nameOf = (id: string) => useLive.getState().contextsById[id]?.name ?? id;
    const offs = [
      api().on('jobs:progress', (p) => show(jobOutcomeToasts(p.updates, nameOf, announced.current))),
      api().on('contexts:changed', (p) => {
        const list = failoverOutcomeToasts(statuses.current, p.contexts);
        for (const c of p.contexts) statuses.current[c.id] = c.status;
        for (const id of p.removedIds) delete statuses.current[id];
        show(list);
      }),
    ];
    return () => {
      unsubscribe();
      for (const off of offs) off();
    };
  }, []);
  if (toasts.length === 0) return null;
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.tone}`} data-tone={t.tone}>
          <span className="toast-text">{t.text}</span>
          <button
            type="button"
            className="btn small"
            onClick={() => {
              uiActions.navigate('vms');
              uiActions.selectContext(t.vmContextId);
              setToasts((prev) => prev.filter((p) => p.id !== t.id));
            }}
          >
            Open
          </button>
          <button type="button" className="link" aria-label="Dismiss" onClick={() => setToasts((prev) => prev.filter((p) => p.id !== t.id))}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
