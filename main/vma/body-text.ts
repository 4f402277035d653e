// Collects an HTTP response body as undici hands over its chunks, and decodes it. A discovery answer
// of a large vCenter is megabytes of JSON (10,000 VMs ≈ 10 MB): copies the console does not need
// cost, and an appliance that never stops sending must not be able to fill the console's memory.
// So: a hard size limit checked against content-length and against every chunk; chunks kept as they
// came and joined once at the end (a one-chunk answer, the poller's usual one, is not copied), or one
// buffer grown by doubling when an incremental parser watches the body; an ASCII fast path for the
// decode (discovery JSON is ASCII unless a name carries other characters, and then the UTF-8 decoder
// runs as before).
import { isAscii } from 'node:buffer';

/** Far above any real discovery answer (10,000 VMs ≈ 10 MB) and well below V8's string limit. */
export const DEFAULT_MAX_BODY_BYTES = 128 * 1024 * 1024;

/** The smallest buffer allocated once a body comes in more than one chunk. */
const FIRST_BUFFER_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** The body is (or says it will be) larger than the limit; nothing more is read. */
export class BodyTooLargeError extends Error {
  constructor(
    readonly maxBytes: number,
    /** What content-length announced, when that alone broke the limit. */
    readonly declaredBytes: number | null,
  ) {
    super(declaredBytes === null ? `body exceeds ${maxBytes} bytes` : `body announces ${declaredBytes} bytes, over the limit of ${maxBytes}`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Sees the body while it arrives. `bytes` holds the first `length` bytes received so far; it is
 * replaced when the buffer grows, so a sink keeps offsets, never the buffer. A sink must not throw.
 */
export type BodyProgress = (bytes: Buffer, length: number) => void;

export interface BodyCollectorOptions {
  /** The content-length header as received (undici gives string | string[] | undefined). */
  contentLength?: unknown;
  maxBytes?: number;
  onData?: BodyProgress;
}

/**
 * The declared length when it is one plain decimal number, else null (absent, repeated, garbage):
 * only a preallocation hint and an early refusal, never trusted for where the body ends.
 */
export function declaredLength(header: unknown): number | null {
  if (typeof header !== 'string' || !/^\d{1,16}$/.test(header)) return null;
  const n = Number(header);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Gathers a body's chunks as they arrive from undici's dispatch handler (main/vma/vma-client.ts),
 * with the size limit and the optional sink.
 * `add` throws BodyTooLargeError as soon as the body is known to exceed the limit; the caller stops
 * reading. A sink that throws makes `add` throw what it threw.
 */
export class BodyCollector {
  private readonly maxBytes: number;
  private readonly sink: BodyProgress | undefined;
  // Without a sink the chunks are kept as they came and joined once at the end (one chunk, the
  // poller's usual answer, is not copied at all): measured cheaper than growing one buffer, whose
  // large reallocations cost collections. Holding chunks is safe: undici hands out chunks it never
  // reuses (its own body.text() keeps them too).
  private readonly chunks: Buffer[] | null;
  private buf: Buffer;
  private owned: boolean;
  private length = 0;

  /** Throws BodyTooLargeError at once when the declared length alone breaks the limit. */
  constructor(opts: BodyCollectorOptions = {}) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
    const declared = declaredLength(opts.contentLength);
    if (declared !== null && declared > this.maxBytes) throw new BodyTooLargeError(this.maxBytes, declared);
    this.sink = opts.onData;
    this.chunks = this.sink === undefined ? [] : null;
    // A sink needs one growing buffer (it keeps offsets into it). A declared length is a size hint
    // only: a server that sends more gets the buffer grown (and the limit still applied); one that
    // sends less gets a view of what it sent. allocUnsafe is safe here because only the filled part
    // ever leaves this class. Without a declared length the first chunk is kept as it came, and a
    // buffer is allocated only when a second one arrives.
    this.buf = this.sink !== undefined && declared !== null && declared > 0 ? Buffer.allocUnsafe(declared) : EMPTY;
    this.owned = this.buf !== EMPTY;
  }

  add(chunk: Uint8Array): void {
    const next = this.length + chunk.length;
    if (next > this.maxBytes) throw new BodyTooLargeError(this.maxBytes, null);
    const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.chunks !== null) {
      this.chunks.push(piece);
      this.length = next;
      return;
    }
    if (this.length === 0 && !this.owned) {
      this.buf = piece;
    } else {
      if (!this.owned || next > this.buf.length) {
        const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(next, this.buf.length * 2, FIRST_BUFFER_BYTES)));
        this.buf.copy(grown, 0, 0, this.length);
        this.buf = grown;
        this.owned = true;
      }
      this.buf.set(chunk, this.length);
    }
    this.length = next;
    this.sink?.(this.buf, this.length);
  }

  /** The whole body as one Buffer (a view of exactly the bytes received). */
  finish(): Buffer {
    const chunks = this.chunks;
    if (chunks === null) return this.buf.subarray(0, this.length);
    if (chunks.length === 1) return chunks[0]!;
    return chunks.length === 0 ? EMPTY : Buffer.concat(chunks, this.length);
  }
}

const hasBom = (b: Buffer): boolean => b.length > 2 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/**
 * Bytes [start, end) as text, the way undici's `body.text()` decodes (a UTF-8 byte order mark at the
 * very start of the body is dropped). ASCII (every byte < 0x80, the usual discovery answer) of up to
 * LATIN1_MAX_BYTES is decoded as latin1, a plain copy into a one-byte string; anything else goes
 * through the UTF-8 decoder, which turns malformed sequences into U+FFFD as before. A range must not cut a UTF-8
 * sequence: callers cut only at ASCII bytes.
 */
export function decodeBody(bytes: Buffer, start = 0, end = bytes.length): string {
  const from = start === 0 && hasBom(bytes) ? 3 : start;
  if (from >= end) return '';
  const view = from === 0 && end === bytes.length ? bytes : bytes.subarray(from, end);
  return view.length <= LATIN1_MAX_BYTES && isAscii(view) ? view.toString('latin1') : view.toString('utf8');
}

/**
 * Above about 1 MB Node hands latin1 text to V8 as an external string, and JSON.parse of a 10 MB
 * answer decoded that way measured more CPU (external memory accounting, collections) than of the
 * same bytes decoded as UTF-8 into the heap. The fast path is for the sizes of the discovery slices.
 */
const LATIN1_MAX_BYTES = 512 * 1024;

/**
 * Parses a 2xx body while it arrives (vma-client's CallSpec.parse): `onData` sees every chunk,
 * `finish` gets the whole body and returns the parsed answer. `finish` throws a SyntaxError when the
 * body is not JSON (the client reports that as it reports any non-JSON answer).
 */
export interface IncrementalBodyParser<T> {
  onData: BodyProgress;
  finish(bytes: Buffer): T;
}
