import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallbackHttpServer, isLoopbackOriginator } from './callback-server';
import type { ChangeIdStore } from './callback-api';

describe('isLoopbackOriginator', () => {
  it.each(['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1'])('accepts %s', (ip) => {
    expect(isLoopbackOriginator(ip)).toBe(true);
  });
  it.each([undefined, '', '10.0.0.5', '192.168.1.127', '::ffff:10.0.0.1', '0.0.0.0', '127.0.0.1.evil', 'fe80::1'])('refuses %s', (ip) => {
    expect(isLoopbackOriginator(ip)).toBe(false);
  });
});

describe('callback HTTP server', () => {
  const recorded: string[] = [];
  const store: ChangeIdStore = {
    lookup: () => null,
    record: (_t, _j, _d, changeId) => {
      recorded.push(changeId);
      return 'recorded';
    },
  };
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('answers 408 and stores nothing when the body does not arrive before the deadline', async () => {
    const server = createCallbackHttpServer(store, undefined, 150);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => server.close();
    const { port } = server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    const body = JSON.stringify({ job_id: 'j', disk_id: 'disk-2000', change_id: '52 1a/1' });
    socket.write(
      `POST /${'t'.repeat(32)}/api/v1/replications/j/changeid HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(recorded).toEqual([]);
  });
});
