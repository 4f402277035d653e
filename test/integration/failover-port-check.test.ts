import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalShell } from '../fixtures/local-shell';
import { checkPort, connectCommand } from '../../main/failover/port-check';

// Real sockets through a real shell, as the OMA appliance would run the check.
let server: net.Server;
let openPort: number;
let closedPort: number;

beforeAll(async () => {
  server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  openPort = (server.address() as net.AddressInfo).port;
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('port checks from the OMA appliance', () => {
  it('reports an open port as open', async () => {
    const r = await checkPort(createLocalShell(), '127.0.0.1', openPort, { waitMs: 2_000, intervalMs: 50 });
    expect(r).toMatchObject({ ip: '127.0.0.1', port: openPort, open: true });
  });

  it('reports a closed port as closed after retrying within the bound', async () => {
    const shell = createLocalShell();
    const r = await checkPort(shell, '127.0.0.1', closedPort, { waitMs: 300, intervalMs: 100 });
    expect(r.open).toBe(false);
    expect(shell.commands.length).toBeGreaterThan(1);
    expect(r.detail).toMatch(/tries/);
  });

  it('passes the address as arguments, so a hostile value cannot run commands', async () => {
    const shell = createLocalShell();
    const r = await checkPort(shell, '127.0.0.1; touch /tmp/should-not-exist-$$', openPort, { waitMs: 100, intervalMs: 50 });
    expect(r.open).toBe(false);
    expect(connectCommand('a b', 1, 2)).toBe(`'timeout' '2' 'bash' '--norc' '-c' 'exec 3<>"/dev/tcp/$0/$1"' 'a b' '1'`);
  });
});
