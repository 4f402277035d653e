// The tray icon drawn in code (a rounded square with two arrows' worth of bars), so the packaged app
// needs no image files beside the bundle. Returns a PNG.
import zlib from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** `busy` draws the accent in amber so a glance at the tray tells whether jobs run. */
export function trayIconPng(size: number = 32, busy: boolean = false): Buffer {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  const r = size / 6;
  const accent = busy ? [245, 158, 11] : [37, 99, 235];
  for (let y = 0; y < size; y++) {
    const row = y * (size * 4 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const dx = Math.max(r - x, 0, x - (size - 1 - r));
      const dy = Math.max(r - y, 0, y - (size - 1 - r));
      const inside = dx * dx + dy * dy <= r * r;
      const bar = (y > size * 0.28 && y < size * 0.42 && x > size * 0.2 && x < size * 0.8) || (y > size * 0.58 && y < size * 0.72 && x > size * 0.2 && x < size * 0.8);
      const [cr, cg, cb] = bar ? [255, 255, 255] : accent;
      raw.set([cr!, cg!, cb!, inside ? 255 : 0], row + 1 + x * 4);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
