/**
 * HTTP to a service on the appliance (the VMA API on its 127.0.0.1:8081) through the SSH tunnel:
 * each undici connection is a forwardOut channel, so no port is opened on the workstation.
 */
import type { Dispatcher } from 'undici';
import { AppError, isAppError } from '../../shared/errors';
import type { SshTunnelManager } from './tunnel-manager';
import { TunnelPools } from './tunnel-pools';

/** Where the VMA API listens on the appliance itself (reference/vma-api.md); callers may override. */
export const DEFAULT_VMA_API_HOST = '127.0.0.1';
export const DEFAULT_VMA_API_PORT = 8081;
export const DEFAULT_TUNNEL_CONNECTIONS = 16;

export interface TunnelDispatcherOptions {
  /** How long an idle pooled channel is kept open (undici keepAliveTimeout). */
  keepAliveTimeoutMs?: number;
  /**
   * Channels per origin (default 16). Each request waits for a free channel, so fewer channels than
   * concurrent callers (the progress poller runs 16 polls at once) queue requests behind each other
   * on the console side; a channel is cheap (one SSH channel and one loopback TCP connection on the
   * appliance), so the pool matches the largest concurrent caller.
   */
  connections?: number;
}

/**
 * An undici dispatcher whose connections go to `targetHost:targetPort` as seen from the appliance,
 * whatever host the request URL names (the URL's host only ends up in the Host header).
 * While the tunnel is not ready, requests fail at once with AppError 'unreachable'
 * (undici may wrap it: look for an AppError in `error` or `error.cause`).
 */
export function createTunnelDispatcher(
  manager: SshTunnelManager,
  targetHost: string,
  targetPort: number,
  options: TunnelDispatcherOptions = {},
): Dispatcher {
  if (typeof targetHost !== 'string' || targetHost.trim() === '') {
    throw new AppError('validation', 'tunnel dispatcher needs a target host');
  }
  if (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65_535) {
    throw new AppError('validation', `tunnel dispatcher target port must be 1..65535, got ${targetPort}`);
  }
  // No HTTP pipelining (undici's default of one request at a time per channel), on purpose: with
  // several requests queued on one channel the appliance's server answers them one after another,
  // each answer lets the next request out, and the client, sshd and the server then take turns on
  // every single request instead of on a batch of them. Measured with test/bench/tunnel-vs-direct.ts's
  // setup (8 health calls in flight): 1 channel × 8 deep cost sshd 138 µs and 1.8 wake-ups per
  // request against 57 µs and 0.4 with a channel per request, at a quarter of the rate; 16 channels
  // × 4 deep was no better than no pipelining. It would also let a slow call (a discovery waiting on
  // vCenter) hold the quick ones queued behind it on the same channel.
  return new TunnelPools({
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
    connections: options.connections ?? DEFAULT_TUNNEL_CONNECTIONS,
    connect: (_connectOptions, callback) => {
      manager.openForwardSocket(targetHost, targetPort).then(
        (socket) => {
          callback(null, socket);
        },
        (error: unknown) => {
          const appError = isAppError(error) ? error : new AppError('unreachable', `Tunnel channel failed: ${String(error)}`);
          callback(appError, null);
        },
      );
    },
  });
}

/** The AppError behind an undici request failure, if the tunnel produced one. */
export function tunnelErrorOf(error: unknown): AppError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && current !== undefined; depth += 1) {
    if (isAppError(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
