// The scheduler's per-VM read model (groups, next scheduled sync, replica-age target), loaded for the
// VM table. Groups and schedules change on their own screens and a next sync passes with time, so it
// is reloaded on mount, after a reconnect, when VMs come or go, and once a shown next sync is due.
import { create } from 'zustand';
import type { VmSchedulePlan } from '../../../shared/contract';
import { api } from '../transport/api';

interface PlansState {
  byContextId: Record<string, VmSchedulePlan>;
  loaded: boolean;
}

export const usePlans = create<PlansState>(() => ({ byContextId: {}, loaded: false }));

let inFlight: Promise<void> | null = null;

export function reloadPlans(): Promise<void> {
  inFlight ??= api()
    .invoke('contexts:schedule-plans', {})
    .then((r) => {
      if (r.ok) usePlans.setState({ byContextId: Object.fromEntries(r.value.map((p) => [p.contextId, p])), loaded: true });
    })
    .finally(() => {
      inFlight = null;
    });
  return inFlight;
}

/** Milliseconds until the earliest shown next sync (plus a second), or null when none is planned. */
export function msUntilNextDue(plans: Record<string, VmSchedulePlan>, nowMs: number): number | null {
  let best: number | null = null;
  for (const p of Object.values(plans)) {
    if (!p.nextSyncAt) continue;
    const t = Date.parse(p.nextSyncAt);
    if (best === null || t < best) best = t;
  }
  return best === null ? null : Math.max(1000, best - nowMs + 1000);
}
