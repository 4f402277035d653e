import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesce-writes';

// A real loopback TCP pair: what the SSH client's socket is.
let server: net.Server | null = null;
let client: net.Socket | null = null;

async function pair(): Promise<{ client: net.Socket; received: () => string }> {
  let data = '';
  server = net.createServer((s) => s.setEncoding('utf8').on('data', (d: string) => (data += d)));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  client = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => client!.once('connect', () => r()));
  return { client, received: () => data };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

afterEach(async () => {
  client?.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
  client = null;
});

describe('coalesceWrites', () => {
  it('holds the writes of one turn back until the next check phase and then sends them all, in order', async () => {
    const { client: sock, received } = await pair();
    coalesceWrites(sock);
    sock.write('a');
    sock.write('b');
    sock.write('c');
    expect(sock.writableCorked).toBe(1);
    expect(sock.writableLength).toBe(3);
    await new Promise((r) => setImmediate(r));
    expect(sock.writableCorked).toBe(0);
    await until(() => received() === 'abc');
    expect(received()).toBe('abc');
  });

  it('a lone write goes out without any further write, and installing twice changes nothing', async () => {
    const { client: sock, received } = await pair();
    coalesceWrites(sock);
    coalesceWrites(sock);
    sock.write('x');
    await until(() => received() === 'x');
    expect(received()).toBe('x');
    expect(sock.writableCorked).toBe(0);
    sock.write('y');
    await until(() => received() === 'xy');
    expect(received()).toBe('xy');
  });
});
