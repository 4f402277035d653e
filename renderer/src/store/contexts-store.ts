// Normalised live state pushed by the core: contexts by id with a sorted id list, job progress by job
// id, tunnel states by appliance. Applying an event batch replaces only the entries it names, so a
// row that selects its own entry re-renders only when that entry changed.
import { create } from 'zustand';
import type { ContextPage, JobProgressUpdate, JobStepChange, EventPayload } from '../../../shared/contract';
import { compareVmNames, type VmStatusCounts } from '../../../shared/vm-order';
import type { TunnelState, VmContextSummary } from '../../../shared/domain';
import type { AppErrorShape } from '../../../shared/errors';

export interface LiveState {
  contextsById: Record<string, VmContextSummary>;
  contextIds: string[];
  contextsLoaded: boolean;
  contextsError: AppErrorShape | null;
  /**
   * Set while only the first page (`contexts:page`) is in the store and the full list is on its way:
   * the size and status counts of every VM, as the core counted them with that page. Null once the
   * full list is in.
   */
  contextsPartial: VmStatusCounts | null;
  progressByJobId: Record<string, JobProgressUpdate>;
  /** The last RATE_SAMPLES rates (bytes/s) reported for each job, oldest first, for the sparkline. */
  rateSamplesByJobId: Record<string, number[]>;
  /** The latest setup step change the core pushed for each job (`jobs:step`) and how many were seen. */
  stepByJobId: Record<string, JobStepChange & { revision: number }>;
  tunnelsByAppliance: Record<string, TunnelState>;
}

export const RATE_SAMPLES = 60;

const initial: LiveState = {
  contextsById: {},
  contextIds: [],
  contextsLoaded: false,
  contextsError: null,
  contextsPartial: null,
  progressByJobId: {},
  rateSamplesByJobId: {},
  stepByJobId: {},
  tunnelsByAppliance: {},
};

export const useLive = create<LiveState>(() => initial);

// The core's first page is cut from this same order (shared/vm-order.ts), so its rows stay put when
// the full list arrives. One shared Intl.Collator: localeCompare with options builds a collator per
// call, which made sorting 10,000 names take over a second.
const byName = (byId: Record<string, VmContextSummary>) => (a: string, b: string) => {
  const x = byId[a];
  const y = byId[b];
  return x && y ? compareVmNames(x, y) : a < b ? -1 : a > b ? 1 : 0;
};

/** Keeps the old object when nothing changed so its row does not re-render after a reload. */
function keepUnchanged(state: LiveState, list: readonly VmContextSummary[]): Record<string, VmContextSummary> {
  const contextsById: Record<string, VmContextSummary> = {};
  for (const c of list) {
    const prev = state.contextsById[c.id];
    contextsById[c.id] = prev && prev.updatedAt === c.updatedAt && prev.lastSuccessfulSyncAt === c.lastSuccessfulSyncAt ? prev : c;
  }
  return contextsById;
}

/** Pure: the state after a full list load. */
export function withContextList(state: LiveState, list: VmContextSummary[]): LiveState {
  const contextsById = keepUnchanged(state, list);
  const contextIds = Object.keys(contextsById).sort(byName(contextsById));
  return { ...state, contextsById, contextIds, contextsLoaded: true, contextsError: null, contextsPartial: null };
}

/**
 * Pure: the state after the first page arrives and before the full list does. The page comes cut from
 * the table's order; its rows are kept in the order given, with the whole set's counts beside them.
 */
export function withContextPage(state: LiveState, page: ContextPage): LiveState {
  const contextsById = keepUnchanged(state, page.contexts);
  return {
    ...state,
    contextsById,
    contextIds: page.contexts.map((c) => c.id),
    contextsLoaded: true,
    contextsError: null,
    contextsPartial: page.counts,
  };
}

/** Whether the store holds the full list (a reconnect then reloads it without a first page). */
export const hasFullList = (s: LiveState): boolean => s.contextsLoaded && s.contextsPartial === null && s.contextsError === null;

/** Pure: the state after one `contexts:changed` batch. */
export function withContextsChanged(state: LiveState, payload: EventPayload<'contexts:changed'>): LiveState {
  if (payload.contexts.length === 0 && payload.removedIds.length === 0) return state;
  // With only the first page in, a VM outside it has no known place in the order: the full list,
  // requested after the page and read after this change, carries it where it belongs.
  if (state.contextsPartial !== null) payload = { ...payload, contexts: payload.contexts.filter((c) => c.id in state.contextsById) };
  const contextsById = { ...state.contextsById };
  let membershipOrOrderChanged = false;
  for (const id of payload.removedIds) {
    if (id in contextsById) {
      delete contextsById[id];
      membershipOrOrderChanged = true;
    }
  }
  for (const c of payload.contexts) {
    const prev = contextsById[c.id];
    if (!prev || prev.name !== c.name) membershipOrOrderChanged = true;
    contextsById[c.id] = c;
  }
  const contextIds = membershipOrOrderChanged ? Object.keys(contextsById).sort(byName(contextsById)) : state.contextIds;
  return { ...state, contextsById, contextIds };
}

/** Pure: the state after one `jobs:progress` batch. */
export function withJobProgress(state: LiveState, payload: EventPayload<'jobs:progress'>): LiveState {
  if (payload.updates.length === 0) return state;
  const progressByJobId = { ...state.progressByJobId };
  const rateSamplesByJobId = { ...state.rateSamplesByJobId };
  for (const u of payload.updates) {
    const prev = progressByJobId[u.jobId];
    // A retrying or setup frame carries no disks; keep the per-disk numbers already known.
    progressByJobId[u.jobId] = u.disks.length === 0 && prev && prev.disks.length > 0 ? { ...u, disks: prev.disks } : u;
    // Only the copy itself has a rate worth drawing; setup steps and terminal frames would add flat zeros.
    if (u.status === 'replicating') {
      const samples = [...(rateSamplesByJobId[u.jobId] ?? []), Number.isFinite(u.rateBps) ? Math.max(0, u.rateBps) : 0];
      rateSamplesByJobId[u.jobId] = samples.slice(-RATE_SAMPLES);
    }
  }
  return { ...state, progressByJobId, rateSamplesByJobId };
}

/** Pure: the state after one `jobs:step` batch (changes arrive in the order they happened). */
export function withJobSteps(state: LiveState, payload: EventPayload<'jobs:step'>): LiveState {
  if (payload.changes.length === 0) return state;
  const stepByJobId = { ...state.stepByJobId };
  for (const c of payload.changes) stepByJobId[c.jobId] = { ...c, revision: (stepByJobId[c.jobId]?.revision ?? 0) + 1 };
  return { ...state, stepByJobId };
}

/** Pure: the state after tunnel states arrive (full list or an event batch). */
export function withTunnelStates(state: LiveState, states: TunnelState[], replaceAll: boolean, removedIds: readonly string[] = []): LiveState {
  const tunnelsByAppliance = replaceAll ? {} : { ...state.tunnelsByAppliance };
  for (const s of states) tunnelsByAppliance[s.applianceId] = s;
  for (const id of removedIds) delete tunnelsByAppliance[id];
  return { ...state, tunnelsByAppliance };
}

export const liveActions = {
  setContexts: (list: VmContextSummary[]) => useLive.setState((s) => withContextList(s, list)),
  /** A first page never replaces a full list already in (a late page after a reconnect). */
  setContextsPage: (page: ContextPage) => useLive.setState((s) => (hasFullList(s) ? s : withContextPage(s, page))),
  setContextsError: (error: AppErrorShape) => useLive.setState({ contextsError: error, contextsLoaded: true }),
  applyContextsChanged: (p: EventPayload<'contexts:changed'>) => useLive.setState((s) => withContextsChanged(s, p)),
  applyJobProgress: (p: EventPayload<'jobs:progress'>) => useLive.setState((s) => withJobProgress(s, p)),
  applyJobSteps: (p: EventPayload<'jobs:step'>) => useLive.setState((s) => withJobSteps(s, p)),
  setTunnelStates: (states: TunnelState[], replaceAll: boolean, removedIds: readonly string[] = []) =>
    useLive.setState((s) => withTunnelStates(s, states, replaceAll, removedIds)),
  reset: () => useLive.setState(initial, true),
};
