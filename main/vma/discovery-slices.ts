// Parses and normalises a discovery answer's VM list in slices while the body still arrives, so that
// for a large vCenter (10,000 VMs ≈ 10 MB) most of the JSON.parse and normalise work overlaps the
// transfer instead of following it. The result is exactly what `normaliseDiscovery(JSON.parse(body))`
// gives, errors included: every slice and the rest of the answer still go through JSON.parse and the
// single normaliser, and whenever the answer is not of the expected shape, or a slice does not parse,
// the whole body is parsed at the end as before.
//
// Why slicing is safe without a full tokenizer (scanning all 10 MB byte by byte would cost as much as
// it saves): the list `[e1,e2,…,en]` is cut only at commas, into pieces P1,…,Pk, and each piece must
// parse on its own as `[Pi]` with at least one element. A piece that starts where a list element may
// start and parses as a list ends right before a list separator; by induction all pieces are whole
// elements, and `[P1,…,Pk]` parses to their concatenation. So a cut point only has to be a good guess:
// a wrong one (inside a string, inside a disk) makes its piece fail to parse, and the next guess is
// tried. Guesses are found with one native indexOf per slice, searching for the bytes seen around the
// first element boundary (located exactly), e.g. `]},{"id":` for the VMA's answer.
//
// Exact scanning is used only where it is cheap: the head up to the list's `[` (the `"vms"` key of
// the top-level object), the first element (to learn the boundary), and the last slice (to find the
// list's closing `]`). Everything outside the list (the envelope) is parsed as one small JSON text with
// the list replaced by `[]`; it must contain no escapes and name "vms" once, so that the list sliced
// is the one JSON.parse would have kept.
import { decodeBody, type IncrementalBodyParser } from './body-text';
import { DiscoveryAccumulator, normaliseDiscovery, type NormalisedDiscovery } from './normalise';

/**
 * Slice size. Each slice becomes one string for JSON.parse, and V8 puts strings over 128 KiB in its
 * large-object space, one page each: decoding 10 MB in 256 KB pieces measured 10 ms against 1.6 ms in
 * 64 KB pieces, and parse plus normalise of the whole answer took less CPU in 64 KB slices than in one
 * piece, more in 256 KB ones. A slice ends at the first boundary past this size (≈1 KB further).
 */
export const DISCOVERY_SLICE_BYTES = 64 * 1024;
/** The `[` of the VM list must come within this many bytes (the VMA sends `vcenter` first, a few hundred bytes). */
const HEAD_LIMIT_BYTES = 64 * 1024;
/** Wrong cut guesses tolerated in a row before the rest of the list is left to the end. */
const MAX_MISSES = 3;
/** How far after the first boundary comma the learned pattern may reach for the element's first key. */
const SIGNATURE_AFTER_MAX = 48;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Lexer state between chunks: nesting depth relative to the scan's start, and string state. */
interface Lex {
  depth: number;
  inString: boolean;
  escaped: boolean;
}

/**
 * Scans [from, to) and returns the index of the first `,` or `]` at depth 0 outside strings (the
 * list level when the scan started at an element), or -1 with `lex` ready to resume at `to`.
 */
function findListLevel(bytes: Buffer, from: number, to: number, lex: Lex): number {
  let { depth, inString, escaped } = lex;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) {
        lex.depth = depth;
        lex.inString = inString;
        lex.escaped = escaped;
        return c === CLOSE_BRACKET ? i : -2;
      }
      depth--;
    } else if (c === COMMA && depth === 0) {
      lex.depth = depth;
      lex.inString = inString;
      lex.escaped = escaped;
      return i;
    }
  }
  lex.depth = depth;
  lex.inString = inString;
  lex.escaped = escaped;
  return -1;
}

/** Head lexer: finds the `[` that opens the value of the top-level key "vms". */
interface HeadLex extends Lex {
  pos: number;
  stringStart: number;
  /** Set when a depth-1 string just closed: [start, end) of its content. */
  keyStart: number;
  keyEnd: number;
  afterColon: boolean;
}

const VMS = Buffer.from('vms', 'latin1');

/** Index of the list's `[`, -1 when not seen yet, -2 when the head is not of the expected shape. */
function scanHead(bytes: Buffer, to: number, h: HeadLex): number {
  let { depth, inString, escaped } = h;
  const end = Math.min(to, HEAD_LIMIT_BYTES);
  let i = h.pos;
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) {
        inString = false;
        if (depth === 1) {
          h.keyStart = h.stringStart;
          h.keyEnd = i;
        }
      }
      continue;
    }
    if (isSpace(c)) continue;
    if (depth === 1) {
      if (c === COLON && h.keyEnd > 0) {
        h.afterColon = true;
        continue;
      }
      if (c === OPEN_BRACKET && h.afterColon && bytes.subarray(h.keyStart, h.keyEnd).equals(VMS)) {
        h.pos = i + 1;
        return i;
      }
      h.keyEnd = 0;
      h.afterColon = false;
    }
    if (c === QUOTE) {
      inString = true;
      h.stringStart = i + 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth <= 0) return -2;
    }
  }
  h.pos = i;
  h.depth = depth;
  h.inString = inString;
  h.escaped = escaped;
  return i >= HEAD_LIMIT_BYTES ? -2 : -1;
}

type Mode =
  | 'head' // looking for the list's `[`
  | 'first' // scanning the first element exactly, to learn what a boundary looks like
  | 'slices' // cutting the list at guessed boundaries
  | 'rest' // no more cutting: the rest of the list is parsed at the end
  | 'off'; // not the expected shape: the whole body is parsed at the end

/** Parses one piece of the list as `[piece]`; null when it does not parse or is empty. */
function parsePiece(bytes: Buffer, start: number, end: number): unknown[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(`[${decodeBody(bytes, start, end)}]`);
  } catch {
    return null;
  }
  return Array.isArray(parsed) && parsed.length > 0 ? parsed : null;
}

/** Whether [start, end) holds nothing but JSON whitespace. */
function blank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isSpace(bytes[i]!)) return false;
  return true;
}

export interface DiscoveryParser extends IncrementalBodyParser<NormalisedDiscovery> {
  /** After `finish`: slices parsed while the body arrived, and whether the result came from them (not a whole-body parse). */
  readonly stats: { slicesWhileArriving: number; streamed: boolean };
}

export function createDiscoveryParser(sliceBytes = DISCOVERY_SLICE_BYTES): DiscoveryParser {
  const acc = new DiscoveryAccumulator();
  let mode: Mode = 'head';
  const head: HeadLex = { depth: 0, inString: false, escaped: false, pos: 0, stringStart: 0, keyStart: 0, keyEnd: 0, afterColon: false };
  /** Index of the list's `[`. */
  let open = -1;
  /** Where the next piece starts (after `[` or after the comma that ended the last piece). */
  let pieceStart = -1;
  let pieces = 0;
  // The first element's exact scan, then the learned boundary pattern.
  const lex: Lex = { depth: 0, inString: false, escaped: false };
  let scanPos = -1;
  let firstComma = -1;
  let signature: Buffer | null = null;
  let signatureBefore = 0;
  let searchFrom = 0;
  let misses = 0;

  function learn(bytes: Buffer, length: number): void {
    if (firstComma < 0) {
      const at = findListLevel(bytes, scanPos, length, lex);
      if (at === -1) {
        scanPos = length;
        return;
      }
      if (at < 0 || bytes[at] !== COMMA) {
        // A list of one element, or not a list at all: nothing to cut.
        mode = 'rest';
        return;
      }
      firstComma = at;
    }
    const reach = Math.min(length, firstComma + 1 + SIGNATURE_AFTER_MAX);
    const colon = bytes.subarray(firstComma + 1, reach).indexOf(COLON);
    if (colon < 0) {
      if (reach === firstComma + 1 + SIGNATURE_AFTER_MAX) mode = 'rest';
      return;
    }
    signatureBefore = Math.min(2, firstComma - pieceStart);
    signature = Buffer.from(bytes.subarray(firstComma - signatureBefore, firstComma + 1 + colon + 1));
    searchFrom = pieceStart + sliceBytes - signatureBefore;
    mode = 'slices';
  }

  function cut(bytes: Buffer, length: number): void {
    const sig = signature!;
    const filled = bytes.subarray(0, length);
    while (mode === 'slices' && length - pieceStart >= sliceBytes) {
      const at = filled.indexOf(sig, Math.max(searchFrom, pieceStart + sliceBytes - signatureBefore));
      if (at < 0) {
        // Resume where a pattern could still start once more bytes arrive.
        searchFrom = Math.max(searchFrom, length - sig.length + 1);
        return;
      }
      const comma = at + signatureBefore;
      const vms = parsePiece(bytes, pieceStart, comma);
      if (vms === null) {
        searchFrom = at + 1;
        if (++misses > MAX_MISSES) mode = 'rest';
        continue;
      }
      acc.add(vms);
      pieces++;
      misses = 0;
      pieceStart = comma + 1;
      searchFrom = pieceStart + sliceBytes - signatureBefore;
    }
  }

  function onData(bytes: Buffer, length: number): void {
    try {
      if (mode === 'head') {
        const at = scanHead(bytes, length, head);
        if (at === -2) mode = 'off';
        if (at < 0) return;
        open = at;
        pieceStart = at + 1;
        scanPos = pieceStart;
        mode = 'first';
      }
      if (mode === 'first') learn(bytes, length);
      if (mode === 'slices') cut(bytes, length);
    } catch {
      // Never let a guess break the read: the end parses the whole body.
      mode = 'off';
    }
  }

  /** The streamed result, or null when the whole body must be parsed instead. */
  function complete(bytes: Buffer): NormalisedDiscovery | null {
    if (mode === 'head' || mode === 'off' || open < 0) return null;
    // The list's closing `]`: an exact scan of what is left (the last slice).
    const tail: Lex = { depth: 0, inString: false, escaped: false };
    let close = -1;
    for (let from = pieceStart; ; ) {
      const at = findListLevel(bytes, from, bytes.length, tail);
      if (at < 0) return null;
      if (bytes[at] === CLOSE_BRACKET) {
        close = at;
        break;
      }
      from = at + 1;
    }
    if (blank(bytes, pieceStart, close)) {
      // `[]` is an empty list; `[…,]` is not JSON (left to the whole-body parse to say so).
      if (pieces > 0) return null;
    } else {
      const vms = parsePiece(bytes, pieceStart, close);
      if (vms === null) return null;
      acc.add(vms);
    }
    // The envelope: everything but the list. No escapes and a single "vms" key, so that the list
    // sliced is the one a whole-body JSON.parse would have kept.
    if (bytes.subarray(0, open).includes(BACKSLASH) || bytes.subarray(close + 1).includes(BACKSLASH)) return null;
    const envelopeText = `${decodeBody(bytes, 0, open)}[]${decodeBody(bytes, close + 1, bytes.length)}`;
    if (envelopeText.indexOf('"vms"') !== envelopeText.lastIndexOf('"vms"')) return null;
    let envelope: unknown;
    try {
      envelope = JSON.parse(envelopeText);
    } catch {
      return null;
    }
    const vms = typeof envelope === 'object' && envelope !== null ? (envelope as Record<string, unknown>)['vms'] : undefined;
    if (!Array.isArray(vms) || vms.length !== 0) return null;
    return acc.finish(envelope);
  }

  const stats = { slicesWhileArriving: 0, streamed: false };
  return {
    onData,
    finish(bytes) {
      stats.slicesWhileArriving = pieces;
      const streamed = complete(bytes);
      stats.streamed = streamed !== null;
      return streamed ?? normaliseDiscovery(JSON.parse(decodeBody(bytes)));
    },
    stats,
  };
}
