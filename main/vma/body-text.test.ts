import { describe, expect, it } from 'vitest';
import { BodyCollector, BodyTooLargeError, declaredLength, decodeBody, type BodyCollectorOptions } from './body-text';

const bytes = (...parts: (string | number[])[]): Buffer[] => parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)));

/**
 * What the VMA client does with an answer's chunks (main/vma/vma-client.ts, AnswerHandler): one
 * collector, every chunk added as it comes, the whole body at the end. `seen.added` counts the chunks
 * taken before the collector refused.
 */
function collect(chunks: Buffer[], opts: BodyCollectorOptions = {}, seen = { added: 0 }): Buffer {
  const c = new BodyCollector(opts);
  for (const chunk of chunks) {
    c.add(chunk);
    seen.added++;
  }
  return c.finish();
}

/** The body as the VMA client decodes it. */
const collectText = (chunks: Buffer[], opts: BodyCollectorOptions = {}): string => decodeBody(collect(chunks, opts));

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (e) {
    return e;
  }
  return new Error('did not throw');
};

describe('BodyCollector', () => {
  it('joins the chunks of an ASCII body in order into one buffer', () => {
    const chunks = bytes('{"vms":[', '{"id":"a"},', '{"id":"b"}', ']}');
    expect(collect(chunks).toString('latin1')).toBe('{"vms":[{"id":"a"},{"id":"b"}]}');
    expect(collectText(chunks)).toBe('{"vms":[{"id":"a"},{"id":"b"}]}');
  });

  it('without a sink, a body in one chunk is that chunk, uncopied; more chunks are joined into a new buffer, the first left as it was', () => {
    const [one] = bytes('{"state":"copying"}');
    const single = collect([one!]);
    expect(single).toBe(one);
    expect(single.toString()).toBe('{"state":"copying"}');

    const [a, b] = bytes('{"state":', '"done"}');
    const joined = collect([a!, b!]);
    expect(joined.toString()).toBe('{"state":"done"}');
    expect(joined).not.toBe(a);
    expect(a!.toString()).toBe('{"state":');
  });

  it('decodes a multibyte character split across chunks', () => {
    // "é" is C3 A9 and "€" is E2 82 AC: each arrives cut in two.
    const chunks = bytes('{"name":"caf', [0xc3], [0xa9, 0x20, 0xe2, 0x82], [0xac, 0x22, 0x7d]);
    expect(collectText(chunks)).toBe('{"name":"café €"}');
  });

  it('grows past the first buffer and tells the sink every length, with the buffer in use', () => {
    const big = 'x'.repeat(50_000);
    const lengths: number[] = [];
    let sameContent = true;
    const out = collect(bytes(big, big, big), {
      onData: (b, n) => {
        lengths.push(n);
        sameContent &&= b.subarray(0, n).every((c) => c === 0x78);
      },
    });
    expect(out.length).toBe(150_000);
    expect(lengths).toEqual([50_000, 100_000, 150_000]);
    expect(sameContent).toBe(true);
  });

  it('refuses a body over the limit at the chunk that passes it', () => {
    const seen = { added: 0 };
    const e = thrown(() => collect(Array.from({ length: 40 }, () => Buffer.alloc(8192, 0x61)), { maxBytes: 20_000 }, seen));
    expect(e).toBeInstanceOf(BodyTooLargeError);
    expect((e as BodyTooLargeError).declaredBytes).toBeNull();
    // 2 × 8192 fit; the third chunk passes the limit.
    expect(seen.added).toBe(2);
  });

  it('a body of exactly the limit is read', () => {
    expect(collect(bytes('a'.repeat(10), 'b'.repeat(15)), { maxBytes: 25 }).length).toBe(25);
  });

  it('refuses a content-length over the limit before any chunk', () => {
    const seen = { added: 0 };
    const e = thrown(() => collect(bytes('{}'), { maxBytes: 1000, contentLength: '1001' }, seen));
    expect(e).toBeInstanceOf(BodyTooLargeError);
    expect((e as BodyTooLargeError).declaredBytes).toBe(1001);
    expect(seen.added).toBe(0);
  });

  it('a content-length that lies low or high changes nothing but the first allocation', () => {
    const body = '{"vms":[{"id":"a"}],"vcenter":{"host":"h"}}';
    const sink = { onData: () => {} };
    for (const opts of [{}, sink]) {
      // Announces 4, sends the whole body: the buffer grows.
      expect(collectText(bytes(body.slice(0, 10), body.slice(10)), { ...opts, contentLength: '4' })).toBe(body);
      // Announces 1 MiB, sends 43 bytes: exactly those 43 bytes, nothing of the unfilled buffer.
      const short = collect(bytes(body), { ...opts, contentLength: String(1024 * 1024) });
      expect(short.length).toBe(body.length);
      expect(short.toString('latin1')).toBe(body);
      // Announces less than the limit, sends more: the limit still holds.
      expect(thrown(() => collect(bytes('a'.repeat(30)), { ...opts, contentLength: '5', maxBytes: 20 }))).toBeInstanceOf(BodyTooLargeError);
    }
  });

  it('an unusable content-length is ignored', () => {
    for (const header of ['12abc', '-5', '', ' 7', '1e3', '99999999999999999999', ['10', '10'], undefined, 42]) {
      expect(declaredLength(header)).toBeNull();
      expect(collectText(bytes('{"a":1}'), { contentLength: header, maxBytes: 100 })).toBe('{"a":1}');
    }
    expect(declaredLength('0')).toBe(0);
    expect(collectText(bytes('{"a":1}'), { contentLength: '0' })).toBe('{"a":1}');
  });

  it('an empty body is empty', () => {
    expect(collectText([])).toBe('');
    expect(decodeBody(collect([], { onData: () => {} }))).toBe('');
  });

  it('a sink that throws makes add throw its error', () => {
    const e = thrown(() =>
      collect(bytes('{"a":', '1}'), {
        onData: () => {
          throw new Error('sink broke');
        },
      }),
    );
    expect((e as Error).message).toBe('sink broke');
  });
});

describe('decodeBody', () => {
  it('decodes like undici body.text(): a leading UTF-8 BOM dropped, malformed UTF-8 as U+FFFD', () => {
    expect(decodeBody(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('{}');
    expect(decodeBody(Buffer.from([0xef, 0xbb, 0xbf]))).toBe('');
    expect(decodeBody(Buffer.from([0x22, 0xff, 0x22]))).toBe('"\ufffd"');
    expect(decodeBody(Buffer.from('"naïve"', 'utf8'))).toBe('"naïve"');
  });

  it('decodes a range, ASCII or not, and drops a BOM only at the start of the body', () => {
    const b = Buffer.from('\ufeff[1,"é",3]', 'utf8');
    expect(decodeBody(b, 0, 6)).toBe('[1,');
    expect(decodeBody(b, 6, b.length)).toBe('"é",3]');
    expect(decodeBody(Buffer.from('ab\ufeffcd', 'utf8'), 2, 7)).toBe('\ufeffcd');
    expect(decodeBody(b, 4, 4)).toBe('');
  });

  it('decodes large ASCII and non-ASCII bodies alike (above the latin1 size the UTF-8 decoder runs)', () => {
    const ascii = `{"a":"${'x'.repeat(700_000)}"}`;
    expect(decodeBody(Buffer.from(ascii, 'latin1'))).toBe(ascii);
    const mixed = `{"a":"${'é'.repeat(400_000)}"}`;
    expect(decodeBody(Buffer.from(mixed, 'utf8'))).toBe(mixed);
  });
});
