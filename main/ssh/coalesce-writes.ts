/**
 * Coalesces the SSH client's socket writes of one event-loop turn into one system call.
 *
 * ssh2 writes every SSH packet to the socket on its own. The progress poller sends a burst of small
 * HTTP requests through forwardOut channels each time answers come back (undici starts the next
 * requests in setImmediate callbacks), and each request became one write(2): on loopback that call
 * also pays for the receiving side's TCP processing, and it was the largest single cost of polling
 * 1,000 jobs (`npm run bench -- poller`, whereTheCpuGoes). Corking the socket at the first write of
 * a turn and uncorking it in the next check phase sends the burst with one writev(2); a lone write
 * waits only until the loop comes round (no timer), so latency stays as it was.
 */
export interface CorkableSocket {
  write(...args: unknown[]): boolean;
  cork(): void;
  uncork(): void;
  readonly destroyed?: boolean;
}

const installed = new WeakSet<object>();

export function coalesceWrites(socket: CorkableSocket): void {
  if (installed.has(socket)) return;
  installed.add(socket);
  const write = socket.write;
  let corked = false;
  socket.write = function coalescedWrite(this: CorkableSocket, ...args: unknown[]): boolean {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write.apply(this, args);
  };
}

/** The socket under an ssh2 Client (not part of its typed API; absent before connect). */
export function sshClientSocket(client: object): CorkableSocket | null {
  const sock = (client as { _sock?: unknown })._sock;
  if (sock && typeof sock === 'object' && typeof (sock as CorkableSocket).cork === 'function' && typeof (sock as CorkableSocket).write === 'function') {
    return sock as CorkableSocket;
  }
  return null;
}
