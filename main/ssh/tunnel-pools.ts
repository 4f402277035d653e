/**
 * One undici Pool per origin, kept for the dispatcher's life. undici's Agent closes and forgets an
 * origin's pool whenever its count of connected channels drops to zero (after any idle gap, or when
 * a channel fails to open), and builds a new one for the next request. Here an origin keeps its
 * pool: idle channels still close on the keep-alive timeout, and the pool opens new ones and reuses
 * them as requests come. (The console talks to one origin per appliance, so the map stays tiny.)
 */
import { Dispatcher, Pool } from 'undici';

export class TunnelPools extends Dispatcher {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(private readonly options: Pool.Options) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.closed) throw new Error('tunnel dispatcher is closed');
    const origin = String(options.origin ?? '');
    let pool = this.pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, this.options);
      this.pools.set(origin, pool);
    }
    return pool.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.closed = true;
    const done = Promise.all([...this.pools.values()].map((pool) => pool.close())).then(() => undefined);
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    this.closed = true;
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const done = Promise.all([...this.pools.values()].map((pool) => pool.destroy(err))).then(() => undefined);
    if (cb === undefined) return done;
    void done.then(cb, cb);
  }
}
