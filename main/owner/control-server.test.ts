import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import { EventBus } from '../ipc/event-bus';
import type { HandlerMap } from '../ipc/handler-types';
import { connectControl } from './control-client';
import { controlSocketPath } from './control-protocol';
import { startControlServer, type ControlServer } from './control-server';

let dir: string;
let bus: EventBus;
let server: ControlServer;
let calls: [string, unknown][];

const handlers = () =>
  Object.fromEntries(
    INVOKE_CHANNELS.map((c) => [
      c,
      (req: unknown) => {
        calls.push([c, req]);
        if (c === 'contexts:get') throw new AppError('not_found', 'No VM context with id nope');
        return { echoed: req };
      },
    ]),
  ) as unknown as HandlerMap;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-ctl-'));
  calls = [];
  // Flushed by hand: the test decides when events leave the bus.
  bus = new EventBus({ setTimer: () => null });
  server = await startControlServer({ socketPath: controlSocketPath(dir), handlers: handlers(), bus, hello: { pid: process.pid, since: 'now', transport: 'test owner', dataDir: dir } });
});
afterEach(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Raw line-level access, as a client that does not use our client module would talk. */
function rawClient(): Promise<{ send(line: string): void; next(): Promise<Record<string, unknown>>; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(controlSocketPath(dir), () => {
      const lines: string[] = [];
      const waiters: ((l: string) => void)[] = [];
      let buf = '';
      socket.on('data', (d) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) !== -1) {
          const l = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const w = waiters.shift();
          if (w) w(l);
          else lines.push(l);
        }
      });
      resolve({
        socket,
        send: (line) => socket.write(`${line}\n`),
        next: () => new Promise((res) => {
          const l = lines.shift();
          if (l !== undefined) res(JSON.parse(l));
          else waiters.push((x) => res(JSON.parse(x)));
        }),
      });
    });
    socket.once('error', reject);
  });
}

describe('control channel', () => {
  it('is a Unix socket in the data directory that only its user can open (0600)', () => {
    const st = fs.statSync(path.join(dir, 'control.sock'));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('answers the owner identity and serves requests through dispatch', async () => {
    const client = (await connectControl(controlSocketPath(dir)))!;
    expect(client.owner).toEqual({ pid: process.pid, since: 'now', transport: 'test owner', dataDir: dir });
    expect(await client.invoke('replication:start', { contextId: 'ctx-1' })).toEqual({ ok: true, value: { echoed: { contextId: 'ctx-1' } } });
    expect(await client.invoke('contexts:get', { id: 'nope' })).toEqual({ ok: false, error: { code: 'not_found', message: 'No VM context with id nope' } });
    client.close();
  });

  it.each([
    ['an unknown channel', 'fs:readFile', { path: '/etc/passwd' }, /Unknown channel/],
    ['a request failing its schema', 'jobs:list', { limit: -5 }, /Invalid request for jobs:list: limit/],
    ['an extra field', 'contexts:list', { all: true }, /Invalid request for contexts:list/],
  ])('refuses %s with the same validation as IPC and never calls a handler', async (_n, channel, request, message) => {
    const client = (await connectControl(controlSocketPath(dir)))!;
    const r = await client.invoke(channel, request);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('validation');
      expect(r.error.message).toMatch(message);
    }
    expect(calls).toEqual([]);
    client.close();
  });

  it('answers malformed lines with an error and keeps the connection usable', async () => {
    const c = await rawClient();
    c.send('not json');
    expect(await c.next()).toMatchObject({ id: null, result: { ok: false, error: { code: 'validation', message: 'Control request is not JSON' } } });
    c.send(JSON.stringify({ id: 1, invoke: 'contexts:list', request: {}, extra: 1 }));
    expect(await c.next()).toMatchObject({ id: null, result: { ok: false, error: { message: 'Malformed control request' } } });
    c.send(JSON.stringify({ id: 2, invoke: 'contexts:list', request: {} }));
    expect(await c.next()).toEqual({ id: 2, result: { ok: true, value: { echoed: {} } } });
    c.socket.destroy();
  });

  it('pushes bus events only to clients that subscribed to their channel', async () => {
    const a = (await connectControl(controlSocketPath(dir)))!;
    const b = (await connectControl(controlSocketPath(dir)))!;
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    await a.subscribe(['jobs:progress'], (channel, payload) => gotA.push([channel, payload]));
    await b.subscribe(['tunnels:state'], (channel, payload) => gotB.push([channel, payload]));
    const update = { jobId: 'job-1', vmContextId: 'ctx-1', status: 'completed' as const, phase: 'done', progressPercent: 100, bytesTransferred: 1, totalBytes: 1, rateBps: 0, etaSeconds: null, error: null, disks: [] };
    bus.emit('jobs:progress', { updates: [update] });
    bus.flush();
    // A round trip on each connection: events written before the answer arrive before it.
    await a.invoke('contexts:list', {});
    await b.invoke('contexts:list', {});
    expect(gotA).toEqual([['jobs:progress', { updates: [update] }]]);
    expect(gotB).toEqual([]);
    a.close();
    b.close();
  });

  it('refuses subscribing to an unknown event channel', async () => {
    const c = (await connectControl(controlSocketPath(dir)))!;
    await expect(c.subscribe(['secrets:dump' as never], () => {})).rejects.toThrow(/Unknown event channel secrets:dump/);
    c.close();
  });

  it('tells clients when the owner stops and removes its socket', async () => {
    const client = (await connectControl(controlSocketPath(dir)))!;
    const lost = new Promise<void>((resolve) => client.onClose(resolve));
    await server.close();
    await lost;
    expect(fs.existsSync(controlSocketPath(dir))).toBe(false);
    expect(await client.invoke('contexts:list', {})).toMatchObject({ ok: false, error: { code: 'unreachable' } });
  });

  it('finds nobody behind a socket left by a killed owner, and a new owner replaces it', async () => {
    await server.close();
    const socketPath = controlSocketPath(dir);
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    expect(fs.existsSync(socketPath)).toBe(true);
    expect(await connectControl(socketPath)).toBeNull();
    server = await startControlServer({ socketPath, handlers: handlers(), bus, hello: { pid: process.pid, since: 'later', transport: 'new owner', dataDir: dir } });
    const client = (await connectControl(socketPath))!;
    expect(client.owner.transport).toBe('new owner');
    client.close();
  });

  it('finds nobody when there is no socket at all', async () => {
    expect(await connectControl(path.join(dir, 'missing.sock'))).toBeNull();
  });
});
