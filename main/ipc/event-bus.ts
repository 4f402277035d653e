import type { EventChannel, EventMap, EventPayload } from '../../shared/contract';

export type EventSink = <C extends EventChannel>(channel: C, payload: EventPayload<C>) => void;

type Merger<C extends EventChannel> = (pending: EventMap[C], next: EventMap[C]) => EventMap[C];

// Coalescing rules: a later update for the same job/context/appliance replaces the earlier one, so a
// flush carries only the latest state of what changed.
const byKey = <T>(items: T[], key: (t: T) => string): T[] => [...new Map(items.map((i) => [key(i), i])).values()];
const MERGERS: { [C in EventChannel]: Merger<C> } = {
  // The rule EventBus.emit applies through its keyed map (without merging arrays at each emit).
  'jobs:progress': (a, b) => ({ updates: byKey([...a.updates, ...b.updates], (u) => u.jobId) }),
  'contexts:changed': (a, b) => {
    const removed = new Set([...a.removedIds, ...b.removedIds]);
    const contexts = byKey([...a.contexts, ...b.contexts], (c) => c.id);
    for (const c of b.contexts) removed.delete(c.id);
    return { contexts: contexts.filter((c) => !b.removedIds.includes(c.id)), removedIds: [...removed] };
  },
  'jobs:step': (a, b) => ({ changes: [...a.changes, ...b.changes] }),
  'tunnels:state': (a, b) => {
    const removed = new Set([...(a.removedIds ?? []), ...(b.removedIds ?? [])]);
    for (const s of b.states) removed.delete(s.applianceId);
    const states = byKey([...a.states, ...b.states], (s) => s.applianceId).filter((s) => !b.removedIds?.includes(s.applianceId));
    return removed.size ? { states, removedIds: [...removed] } : { states };
  },
  'logs:appended': (a, b) => ({ events: [...a.events, ...b.events].slice(-500) }),
  // Only the latest request to show something matters.
  'app:open': (_a, b) => b,
  'executions:changed': (a, b) => ({ executions: byKey([...a.executions, ...b.executions], (e) => e.id) }),
};

export interface EventBusOptions {
  /** Minimum time between two flushes; 250 ms keeps a window at about four updates a second. */
  intervalMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
}

/**
 * One emitter for every pushed event. Events are merged per channel and flushed at most once per
 * interval to every subscriber (Electron windows, dev-bridge sockets).
 */
export class EventBus {
  private readonly sinks = new Set<EventSink>();
  private pending = new Map<EventChannel, EventMap[EventChannel]>();
  /**
   * Pending job updates by job id, latest wins (the 'jobs:progress' merger's rule), kept apart so that
   * each emit costs one map write: merging arrays at each emit was quadratic in the updates of one
   * interval (the poller emits one per job, 1,000 jobs every 2 s).
   */
  private progress = new Map<string, EventMap['jobs:progress']['updates'][number]>();
  private timer: unknown = null;
  private readonly intervalMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  flushes = 0;

  constructor(options: EventBusOptions = {}) {
    this.intervalMs = options.intervalMs ?? 250;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
  }

  subscribe(sink: EventSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  emit<C extends EventChannel>(channel: C, payload: EventPayload<C>): void {
    if (channel === 'jobs:progress') {
      // Holds the channel's place in the flush order; the updates are filled in at flush.
      if (!this.pending.has(channel)) this.pending.set(channel, { updates: [] });
      for (const u of (payload as EventMap['jobs:progress']).updates) this.progress.set(u.jobId, u);
      if (this.timer === null) this.timer = this.setTimer(() => this.flush(), this.intervalMs);
      return;
    }
    const prev = this.pending.get(channel) as EventMap[C] | undefined;
    const merge = MERGERS[channel] as Merger<C>;
    this.pending.set(channel, prev ? merge(prev, payload) : payload);
    if (this.timer === null) this.timer = this.setTimer(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    this.timer = null;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.has('jobs:progress')) batch.set('jobs:progress', { updates: [...this.progress.values()] });
    this.progress = new Map();
    if (batch.size === 0) return;
    this.flushes++;
    for (const [channel, payload] of batch) {
      for (const sink of this.sinks) {
        try {
          sink(channel, payload as never);
        } catch {
          // A broken subscriber (closed window or socket) must not stop the others.
        }
      }
    }
  }
}
