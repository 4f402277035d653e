// The control channel between the owner of a data directory and `mkc`: newline-delimited JSON over a
// Unix socket (mode 0600, in the data directory) or a named pipe on Windows. A client asks with
// `invoke` (the same channels and request objects as the renderer's IPC, validated by the same
// dispatch) and may `subscribe` to the pushed events of the owner's event bus.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import type { EventChannel } from '../../shared/contract';
import type { Result } from '../../shared/errors';

export const CONTROL_SOCKET_FILE_NAME = 'control.sock';
/** A request line larger than this is refused and the connection closed (a client cannot make the owner buffer without bound). */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export function controlSocketPath(dataDir: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') {
    // Named pipes live in their own namespace; the data directory picks a stable, private name.
    const digest = createHash('sha256').update(path.resolve(dataDir).toLowerCase()).digest('hex').slice(0, 24);
    return `\\\\.\\pipe\\migratekit-console-${digest}`;
  }
  return path.join(dataDir, CONTROL_SOCKET_FILE_NAME);
}

const requestId = z.number().int().nonnegative();

export const clientMessageSchema = z.union([
  z.object({ id: requestId, invoke: z.string().min(1).max(100), request: z.unknown().optional() }).strict(),
  z.object({ id: requestId, subscribe: z.array(z.string().min(1).max(100)).max(20) }).strict(),
  z.object({ id: requestId, hello: z.literal(true) }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export interface HelloAnswer {
  pid: number;
  since: string;
  transport: string;
  dataDir: string;
}

export type ServerMessage =
  | { id: number | null; result: Result<unknown> }
  | { event: EventChannel; payload: unknown };

/** Splits a byte stream into lines; calls `onTooLong` once when a line exceeds the bound. */
export function lineReader(onLine: (line: string) => void, onTooLong: () => void): (chunk: Buffer) => void {
  let buffer = '';
  let dead = false;
  return (chunk) => {
    if (dead) return;
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
    if (buffer.length > MAX_LINE_BYTES) {
      dead = true;
      onTooLong();
    }
  };
}
