import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { trayIconPng } from './tray-icon';

describe('trayIconPng', () => {
  it('is a valid RGBA PNG of the requested size with transparent corners', () => {
    const png = trayIconPng(32);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect(png.toString('ascii', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(32);
    expect(png.readUInt32BE(20)).toBe(32);
    const idatLen = png.readUInt32BE(33);
    expect(png.toString('ascii', 37, 41)).toBe('IDAT');
    const raw = zlib.inflateSync(png.subarray(41, 41 + idatLen));
    expect(raw.length).toBe(32 * (32 * 4 + 1));
    expect(raw[1 + 3]).toBe(0); // top-left pixel alpha
    expect(raw[16 * 129 + 1 + 16 * 4 + 3]).toBe(255); // centre opaque
    // The CRC of IHDR checks out.
    expect(png.readUInt32BE(29)).toBe(zlib.crc32(png.subarray(12, 29)) >>> 0);
    expect(trayIconPng(32, true).equals(png)).toBe(false);
  });
});
