// How the core learns who owns its data directory. The shells (the desktop app, `mkc`, the dev bridge,
// the lab) take the owner lock before or beside the core and hand it this port; the core only reads
// it (Settings/About, `mkc status`), so it never depends on how or where the lock is held.
import type { OwnerView } from '../../shared/contract';
import type { OwnerInfo, OwnerLock } from './owner-lock';

export interface OwnerPort {
  /** The process that holds the owner lock of the core's data directory, or null when none is held. */
  current(): OwnerInfo | null;
}

/** The port of a lock this process holds (or will hold: `lock()` may return null until it is taken). */
export function ownerPortOf(lock: OwnerLock | (() => OwnerLock | null)): OwnerPort {
  return { current: () => (typeof lock === 'function' ? lock() : lock)?.info ?? null };
}

/** What Settings/About and `mkc status` show. */
export function ownerView(port: OwnerPort | null): OwnerView {
  const info = port?.current() ?? null;
  if (!info) {
    return { state: 'unknown', pid: null, since: null, transport: null, hostname: null, detail: 'this process holds no owner lock of the data directory' };
  }
  return {
    state: 'owned',
    pid: info.pid,
    since: info.since,
    transport: info.transport,
    hostname: info.hostname,
    detail: `${info.transport}, pid ${info.pid}, since ${info.since}`,
  };
}
