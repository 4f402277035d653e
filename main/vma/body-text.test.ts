import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodyTooLargeError, declaredLength, decodeBody, readBody, type ReadBodyOptions } from './body-text';

/** The body as the VMA client decodes it: readBody, then decodeBody. */
const readBodyText = async (body: Readable, opts: ReadBodyOptions = {}): Promise<string> => decodeBody(await readBody(body, opts));

const bytes = (...parts: (string | number[])[]): Buffer[] => parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)));

/** A stream of the given chunks that records how far it was read and whether it was destroyed. */
function source(chunks: Buffer[]) {
  const seen = { pulled: 0, destroyed: false };
  let i = 0;
  const stream = new Readable({
    read() {
      if (i < chunks.length) {
        seen.pulled++;
        this.push(chunks[i++]);
      } else this.push(null);
    },
  });
  stream.on('close', () => {
    seen.destroyed = stream.destroyed;
  });
  return { stream, seen };
}

const rejection = async (p: Promise<unknown>): Promise<unknown> => p.then(() => new Error('resolved'), (e: unknown) => e);

describe('readBody', () => {
  it('joins the chunks of an ASCII body in order into one buffer', async () => {
    const chunks = bytes('{"vms":[', '{"id":"a"},', '{"id":"b"}', ']}');
    const out = await readBody(source(chunks).stream);
    expect(out.toString('latin1')).toBe('{"vms":[{"id":"a"},{"id":"b"}]}');
    expect(await readBodyText(source(chunks).stream)).toBe('{"vms":[{"id":"a"},{"id":"b"}]}');
  });

  it('without a sink, a body in one chunk is that chunk, uncopied; more chunks are joined into a new buffer, the first left as it was', async () => {
    const [one] = bytes('{"state":"copying"}');
    const single = await readBody(source([one!]).stream);
    expect(single).toBe(one);
    expect(single.toString()).toBe('{"state":"copying"}');

    const [a, b] = bytes('{"state":', '"done"}');
    const joined = await readBody(source([a!, b!]).stream);
    expect(joined.toString()).toBe('{"state":"done"}');
    expect(joined).not.toBe(a);
    expect(a!.toString()).toBe('{"state":');
  });

  it('decodes a multibyte character split across chunks', async () => {
    // "é" is C3 A9 and "€" is E2 82 AC: each arrives cut in two.
    const chunks = bytes('{"name":"caf', [0xc3], [0xa9, 0x20, 0xe2, 0x82], [0xac, 0x22, 0x7d]);
    expect(await readBodyText(source(chunks).stream)).toBe('{"name":"café €"}');
  });

  it('grows past the first buffer and tells the sink every length, with the buffer in use', async () => {
    const big = 'x'.repeat(50_000);
    const chunks = bytes(big, big, big);
    const lengths: number[] = [];
    let sameContent = true;
    const out = await readBody(source(chunks).stream, {
      onData: (b, n) => {
        lengths.push(n);
        sameContent &&= b.subarray(0, n).every((c) => c === 0x78);
      },
    });
    expect(out.length).toBe(150_000);
    expect(lengths).toEqual([50_000, 100_000, 150_000]);
    expect(sameContent).toBe(true);
  });

  it('refuses a body over the limit as soon as the limit is passed, and destroys the stream', async () => {
    const { stream, seen } = source(Array.from({ length: 40 }, () => Buffer.alloc(8192, 0x61)));
    const e = await rejection(readBody(stream, { maxBytes: 20_000 }));
    expect(e).toBeInstanceOf(BodyTooLargeError);
    expect((e as BodyTooLargeError).declaredBytes).toBeNull();
    // The third chunk passes the limit; the stream's own read-ahead (16 KiB) may have pulled a few more.
    expect(seen.pulled).toBeLessThan(8);
    await new Promise((r) => setImmediate(r));
    expect(stream.destroyed).toBe(true);
  });

  it('a body of exactly the limit is read', async () => {
    expect((await readBody(source(bytes('a'.repeat(10), 'b'.repeat(15))).stream, { maxBytes: 25 })).length).toBe(25);
  });

  it('refuses a content-length over the limit without reading anything', async () => {
    const { stream, seen } = source(bytes('{}'));
    const e = await rejection(readBody(stream, { maxBytes: 1000, contentLength: '1001' }));
    expect(e).toBeInstanceOf(BodyTooLargeError);
    expect((e as BodyTooLargeError).declaredBytes).toBe(1001);
    expect(seen.pulled).toBe(0);
    expect(stream.destroyed).toBe(true);
  });

  it('a content-length that lies low or high changes nothing but the first allocation', async () => {
    const body = '{"vms":[{"id":"a"}],"vcenter":{"host":"h"}}';
    // Announces 4, sends the whole body: the buffer grows.
    expect(await readBodyText(source(bytes(body.slice(0, 10), body.slice(10))).stream, { contentLength: '4' })).toBe(body);
    // Announces 1 MiB, sends 43 bytes: exactly those 43 bytes, nothing of the unfilled buffer.
    const short = await readBody(source(bytes(body)).stream, { contentLength: String(1024 * 1024) });
    expect(short.length).toBe(body.length);
    expect(short.toString('latin1')).toBe(body);
    // Announces less than the limit, sends more: the limit still holds.
    expect(await rejection(readBody(source(bytes('a'.repeat(30))).stream, { contentLength: '5', maxBytes: 20 }))).toBeInstanceOf(BodyTooLargeError);
  });

  it('an unusable content-length is ignored', async () => {
    for (const header of ['12abc', '-5', '', ' 7', '1e3', '99999999999999999999', ['10', '10'], undefined, 42]) {
      expect(declaredLength(header)).toBeNull();
      expect(await readBodyText(source(bytes('{"a":1}')).stream, { contentLength: header, maxBytes: 100 })).toBe('{"a":1}');
    }
    expect(declaredLength('0')).toBe(0);
    expect(await readBodyText(source(bytes('{"a":1}')).stream, { contentLength: '0' })).toBe('{"a":1}');
  });

  it('an empty body is empty', async () => {
    expect(await readBodyText(source([]).stream)).toBe('');
  });

  it('passes on a stream error', async () => {
    const stream = new Readable({ read() {} });
    const p = readBody(stream);
    stream.push(Buffer.from('{"a":'));
    stream.destroy(new Error('socket hang up'));
    expect(((await rejection(p)) as Error).message).toBe('socket hang up');
  });
});

describe('readBody endings', () => {
  it('a body destroyed without an error and without its end is incomplete', async () => {
    const stream = new Readable({ read() {} });
    const p = readBody(stream);
    stream.push(Buffer.from('{"a":'));
    await new Promise((r) => setImmediate(r));
    stream.destroy();
    expect(((await rejection(p)) as Error).message).toMatch(/closed before its end/);
  });

  it('a sink that throws ends the read with its error', async () => {
    const { stream } = source(bytes('{"a":', '1}'));
    const e = await rejection(
      readBody(stream, {
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
