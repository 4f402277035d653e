// A minimal NBD client (fixed newstyle handshake, simple replies) used by the VMA simulator's
// copier to write disk bytes into the OMA appliance's nbdkit exports. It speaks the protocol
// described in https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md.
import net from 'node:net';

const NBDMAGIC = 0x4e42444d41474943n;
const IHAVEOPT = 0x49484156454f5054n;
const OPT_REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;

const OPT_EXPORT_NAME = 1;
const OPT_ABORT = 2;
const OPT_GO = 7;

const REP_ACK = 1;
const REP_INFO = 3;
const REP_ERR_UNSUP = 0x80000001;
const INFO_EXPORT = 0;

const TX_FLAG_READ_ONLY = 1 << 1;
const TX_FLAG_SEND_FLUSH = 1 << 2;

const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;

/** Largest payload put in one request; larger reads and writes are split. */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

const OPTION_ERRORS: Record<number, string> = {
  0x80000001: 'NBD_REP_ERR_UNSUP',
  0x80000002: 'NBD_REP_ERR_POLICY',
  0x80000003: 'NBD_REP_ERR_INVALID',
  0x80000004: 'NBD_REP_ERR_PLATFORM',
  0x80000005: 'NBD_REP_ERR_TLS_REQD',
  0x80000006: 'NBD_REP_ERR_UNKNOWN',
  0x80000007: 'NBD_REP_ERR_SHUTDOWN',
  0x80000008: 'NBD_REP_ERR_BLOCK_SIZE_REQD',
  0x80000009: 'NBD_REP_ERR_TOO_BIG',
};

const COMMAND_ERRORS: Record<number, string> = {
  1: 'EPERM',
  5: 'EIO',
  12: 'ENOMEM',
  22: 'EINVAL',
  28: 'ENOSPC',
  75: 'EOVERFLOW',
  95: 'ENOTSUP',
  108: 'ESHUTDOWN',
};

/** An error reported by the NBD server: `nbdError` is the option reply code or the command errno. */
export class NbdError extends Error {
  readonly nbdError: number;
  readonly nbdErrorName: string;
  constructor(message: string, nbdError: number, nbdErrorName: string) {
    super(message);
    this.name = 'NbdError';
    this.nbdError = nbdError;
    this.nbdErrorName = nbdErrorName;
  }
}

export interface NbdUrl {
  host: string;
  port: number;
  exportName: string;
}

/** Parses `nbd://host[:port]/exportname` (port defaults to 10809, the NBD registered port). */
export function parseNbdUrl(url: string): NbdUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid NBD URL "${url}": expected nbd://host:port/exportname`);
  }
  if (parsed.protocol !== 'nbd:') throw new Error(`invalid NBD URL "${url}": scheme must be nbd://`);
  if (parsed.hostname === '') throw new Error(`invalid NBD URL "${url}": host is missing`);
  const port = parsed.port === '' ? 10809 : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid NBD URL "${url}": bad port`);
  const exportName = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (Buffer.byteLength(exportName) > 4096) throw new Error(`invalid NBD URL "${url}": export name longer than 4096 bytes`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, exportName };
}

/** Buffers socket data and hands out exact-length reads in arrival order. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: { length: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.serve();
  }

  fail(error: Error): void {
    if (this.failure === undefined) this.failure = error;
    const w = this.waiter;
    if (w !== undefined && this.buffered < w.length) {
      this.waiter = undefined;
      w.reject(error);
    }
  }

  read(length: number): Promise<Buffer> {
    if (this.waiter !== undefined) return Promise.reject(new Error('NBD client: concurrent socket read'));
    return new Promise((resolve, reject) => {
      this.waiter = { length, resolve, reject };
      this.serve();
      if (this.waiter !== undefined && this.failure !== undefined) this.fail(this.failure);
    });
  }

  private serve(): void {
    const w = this.waiter;
    if (w === undefined || this.buffered < w.length) return;
    this.waiter = undefined;
    w.resolve(this.take(w.length));
  }

  private take(length: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = Buffer.from(all.subarray(0, length));
    const rest = all.subarray(length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}

interface Pending {
  command: number;
  length: number;
  resolve: (data: Buffer) => void;
  reject: (e: Error) => void;
}

export interface NbdConnectOptions {
  /** Give up on the TCP connect plus handshake after this long. */
  timeoutMs?: number;
}

export class NbdClient {
  readonly size: number;
  readonly exportName: string;
  readonly readOnly: boolean;
  readonly canFlush: boolean;
  private readonly socket: net.Socket;
  private readonly reader: ByteReader;
  private readonly pending = new Map<bigint, Pending>();
  private readonly inflight = new Set<Promise<Buffer>>();
  private nextHandle = 1n;
  private closed = false;
  private broken: Error | undefined;

  private constructor(socket: net.Socket, reader: ByteReader, exportName: string, size: number, txFlags: number) {
    this.socket = socket;
    this.reader = reader;
    this.exportName = exportName;
    this.size = size;
    this.readOnly = (txFlags & TX_FLAG_READ_ONLY) !== 0;
    this.canFlush = (txFlags & TX_FLAG_SEND_FLUSH) !== 0;
    void this.replyLoop();
  }

  static async connect(url: string, options: NbdConnectOptions = {}): Promise<NbdClient> {
    const target = parseNbdUrl(url);
    const timeoutMs = options.timeoutMs ?? 15_000;
    const socket = net.connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    const reader = new ByteReader();
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (e) => reader.fail(new Error(`NBD connection to ${target.host}:${target.port} failed: ${e.message}`)));
    socket.on('close', () => reader.fail(new Error(`NBD connection to ${target.host}:${target.port} closed by the server`)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`NBD handshake with ${target.host}:${target.port} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const { size, txFlags } = await Promise.race([handshake(socket, reader, target.exportName), timeout]);
      return new NbdClient(socket, reader, target.exportName, size, txFlags);
    } catch (e) {
      socket.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async pread(length: number, offset: number): Promise<Buffer> {
    this.checkRange(length, offset);
    const parts: Promise<Buffer>[] = [];
    for (let done = 0; done < length; done += MAX_REQUEST_BYTES) {
      const n = Math.min(MAX_REQUEST_BYTES, length - done);
      parts.push(this.request(CMD_READ, offset + done, n));
    }
    const buffers = await Promise.all(parts);
    return buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers, length);
  }

  async pwrite(buf: Buffer, offset: number): Promise<void> {
    this.checkRange(buf.length, offset);
    if (this.readOnly) throw new NbdError(`NBD export "${this.exportName}" is read-only`, 1, 'EPERM');
    const parts: Promise<Buffer>[] = [];
    for (let done = 0; done < buf.length; done += MAX_REQUEST_BYTES) {
      const chunk = buf.subarray(done, Math.min(buf.length, done + MAX_REQUEST_BYTES));
      parts.push(this.request(CMD_WRITE, offset + done, chunk.length, chunk));
    }
    await Promise.all(parts);
  }

  async flush(): Promise<void> {
    if (!this.canFlush) throw new NbdError(`NBD export "${this.exportName}" does not support flush`, 95, 'ENOTSUP');
    await this.request(CMD_FLUSH, 0, 0);
  }

  /** Waits for in-flight requests, sends NBD_CMD_DISC and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled(this.inflight);
    this.closed = true;
    if (this.broken === undefined && !this.socket.destroyed) {
      const header = requestHeader(CMD_DISC, this.nextHandle++, 0n, 0);
      await new Promise<void>((resolve) => {
        this.socket.end(header, () => resolve());
      });
    }
    this.socket.destroy();
  }

  private checkRange(length: number, offset: number): void {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`NBD length must be a non-negative integer, got ${length}`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`NBD offset must be a non-negative integer, got ${offset}`);
    if (offset + length > this.size) {
      throw new RangeError(`NBD request [${offset}, ${offset + length}) lies beyond the end of export "${this.exportName}" (${this.size} bytes)`);
    }
  }

  private request(command: number, offset: number, length: number, payload?: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('NBD client is closed'));
    if (this.broken !== undefined) return Promise.reject(this.broken);
    const handle = this.nextHandle++;
    const reply = new Promise<Buffer>((resolve, reject) => {
      this.pending.set(handle, { command, length: command === CMD_READ ? length : 0, resolve, reject });
      const header = requestHeader(command, handle, BigInt(offset), length);
      this.socket.write(payload === undefined ? header : Buffer.concat([header, payload]));
    });
    this.inflight.add(reply);
    const forget = (): void => { this.inflight.delete(reply); };
    reply.then(forget, forget);
    return reply;
  }

  private async replyLoop(): Promise<void> {
    try {
      for (;;) {
        const head = await this.reader.read(16);
        const magic = head.readUInt32BE(0);
        if (magic === STRUCTURED_REPLY_MAGIC) throw new Error('NBD server sent a structured reply that was not negotiated');
        if (magic !== SIMPLE_REPLY_MAGIC) throw new Error(`NBD server sent a bad reply magic 0x${magic.toString(16)}`);
        const errno = head.readUInt32BE(4);
        const handle = head.readBigUInt64BE(8);
        const p = this.pending.get(handle);
        if (p === undefined) throw new Error(`NBD server replied to unknown handle ${handle}`);
        this.pending.delete(handle);
        if (errno !== 0) {
          // The protocol sends no read payload with an error reply.
          const name = COMMAND_ERRORS[errno] ?? `errno ${errno}`;
          p.reject(new NbdError(`NBD ${commandName(p.command)} on export "${this.exportName}" failed: ${name} (${errno})`, errno, name));
          continue;
        }
        p.resolve(p.length > 0 ? await this.reader.read(p.length) : Buffer.alloc(0));
      }
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.broken = error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      if (!this.closed) this.socket.destroy();
    }
  }
}

function commandName(command: number): string {
  return ['NBD_CMD_READ', 'NBD_CMD_WRITE', 'NBD_CMD_DISC', 'NBD_CMD_FLUSH'][command] ?? `command ${command}`;
}

function requestHeader(command: number, handle: bigint, offset: bigint, length: number): Buffer {
  const h = Buffer.alloc(28);
  h.writeUInt32BE(REQUEST_MAGIC, 0);
  h.writeUInt16BE(0, 4);
  h.writeUInt16BE(command, 6);
  h.writeBigUInt64BE(handle, 8);
  h.writeBigUInt64BE(offset, 16);
  h.writeUInt32BE(length, 24);
  return h;
}

function option(code: number, data: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeBigUInt64BE(IHAVEOPT, 0);
  h.writeUInt32BE(code, 8);
  h.writeUInt32BE(data.length, 12);
  return Buffer.concat([h, data]);
}

async function handshake(socket: net.Socket, reader: ByteReader, exportName: string): Promise<{ size: number; txFlags: number }> {
  const greeting = await reader.read(18);
  if (greeting.readBigUInt64BE(0) !== NBDMAGIC) throw new Error('not an NBD server (bad NBDMAGIC)');
  if (greeting.readBigUInt64BE(8) !== IHAVEOPT) throw new Error('NBD server does not speak the newstyle protocol');
  const serverFlags = greeting.readUInt16BE(16);
  if ((serverFlags & FLAG_FIXED_NEWSTYLE) === 0) throw new Error('NBD server does not support fixed newstyle negotiation');
  const noZeroes = (serverFlags & FLAG_NO_ZEROES) !== 0;
  const clientFlags = Buffer.alloc(4);
  clientFlags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (noZeroes ? FLAG_NO_ZEROES : 0));
  socket.write(clientFlags);

  const name = Buffer.from(exportName, 'utf8');
  const goData = Buffer.alloc(4 + name.length + 2);
  goData.writeUInt32BE(name.length, 0);
  name.copy(goData, 4);
  goData.writeUInt16BE(0, 4 + name.length); // no extra info requests: NBD_INFO_EXPORT always comes
  socket.write(option(OPT_GO, goData));

  let size: number | undefined;
  let txFlags = 0;
  for (;;) {
    const head = await reader.read(20);
    if (head.readBigUInt64BE(0) !== OPT_REPLY_MAGIC) throw new Error('NBD server sent a bad option reply magic');
    const replyType = head.readUInt32BE(12);
    const length = head.readUInt32BE(16);
    const data = length > 0 ? await reader.read(length) : Buffer.alloc(0);
    if (replyType === REP_INFO) {
      if (data.length >= 12 && data.readUInt16BE(0) === INFO_EXPORT) {
        size = Number(data.readBigUInt64BE(2));
        txFlags = data.readUInt16BE(10);
      }
      continue;
    }
    if (replyType === REP_ACK) {
      if (size === undefined) throw new Error(`NBD server accepted export "${exportName}" without reporting its size`);
      return { size, txFlags };
    }
    if (replyType === REP_ERR_UNSUP) return exportNameFallback(socket, reader, name, exportName, noZeroes);
    if ((replyType & 0x80000000) !== 0) {
      const code = OPTION_ERRORS[replyType] ?? `error 0x${replyType.toString(16)}`;
      const text = data.toString('utf8');
      socket.write(option(OPT_ABORT, Buffer.alloc(0)));
      const what = code === 'NBD_REP_ERR_UNKNOWN' ? 'unknown export' : 'export refused';
      throw new NbdError(`NBD ${what} "${exportName}": ${code}${text === '' ? '' : ` (${text})`}`, replyType, code);
    }
    // Any other reply type is informational for an option we did not ask about; ignore it.
  }
}

async function exportNameFallback(
  socket: net.Socket,
  reader: ByteReader,
  name: Buffer,
  exportName: string,
  noZeroes: boolean,
): Promise<{ size: number; txFlags: number }> {
  socket.write(option(OPT_EXPORT_NAME, name));
  let reply: Buffer;
  try {
    reply = await reader.read(10 + (noZeroes ? 0 : 124));
  } catch {
    // With NBD_OPT_EXPORT_NAME the server's only way to refuse is to hang up.
    throw new NbdError(`NBD unknown export "${exportName}": server closed the connection`, 0x80000006, 'NBD_REP_ERR_UNKNOWN');
  }
  return { size: Number(reply.readBigUInt64BE(0)), txFlags: reply.readUInt16BE(8) };
}
