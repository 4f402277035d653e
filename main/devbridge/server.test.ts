import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Core } from '../core/core';
import { InMemorySecretStore } from '../secrets/memory-store';
import { startDevBridge, type DevBridge } from './server';
import { resolveStatic } from './static-files';

let dir: string;
let core: Core;
let bridge: DevBridge;
let origin: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-bridge-'));
  const web = path.join(dir, 'web');
  fs.mkdirSync(web);
  fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside');
  core = new Core({ dataDir: path.join(dir, 'data'), transport: 'dev-bridge', secrets: new InMemorySecretStore() });
  bridge = await startDevBridge({ core, staticDir: web });
  origin = `http://127.0.0.1:${bridge.port}`;
});
afterAll(async () => {
  await bridge.close();
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function socket(o: string = origin): Promise<{ ws: WebSocket; messages: unknown[]; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/bridge`, { origin: o });
    const messages: unknown[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('error', reject);
  });
}
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe('dev bridge', () => {
  it('binds to loopback with a random token in the URL fragment (never sent to the server)', () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{32}$/);
  });

  it('answers invokes through the handler map after a hello with the right token', async () => {
    const { ws, messages } = await socket();
    ws.send(JSON.stringify({ type: 'hello', token: bridge.token }));
    await until(() => messages.length > 0);
    ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'contexts:list', request: {} }));
    ws.send(JSON.stringify({ type: 'invoke', id: 2, channel: 'contexts:get', request: { id: 42 } }));
    await until(() => messages.length >= 3);
    expect(messages[0]).toEqual({ type: 'ready' });
    expect(messages).toContainEqual({ type: 'result', id: 1, result: { ok: true, value: [] } });
    const bad = messages.find((m) => (m as { id?: number }).id === 2) as { result: { ok: boolean; error: { code: string } } };
    expect(bad.result.ok).toBe(false);
    expect(bad.result.error.code).toBe('validation');
    ws.close();
  });

  it('answers requests sent right behind the hello, after its ready, and none behind a wrong hello', async () => {
    const { ws, messages } = await socket();
    ws.send(JSON.stringify({ type: 'hello', token: bridge.token }));
    ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'contexts:page', request: { limit: 10 } }));
    await until(() => messages.length >= 2);
    expect(messages[0]).toEqual({ type: 'ready' });
    expect(messages[1]).toEqual({ type: 'result', id: 1, result: { ok: true, value: { offset: 0, contexts: [], counts: { total: 0, attention: 0, byDisplayStatus: {} } } } });
    ws.close();
    const wrong = await socket();
    wrong.ws.send(JSON.stringify({ type: 'hello', token: 'y'.repeat(32) }));
    wrong.ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'contexts:page', request: { limit: 10 } }));
    expect(await wrong.closed).toBe(4401);
    expect(wrong.messages).toEqual([]);
  });

  it('closes a socket that presents a wrong token or skips the hello', async () => {
    const wrong = await socket();
    wrong.ws.send(JSON.stringify({ type: 'hello', token: 'x'.repeat(32) }));
    expect(await wrong.closed).toBe(4401);
    const skip = await socket();
    skip.ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'contexts:list', request: {} }));
    expect(await skip.closed).toBe(4401);
    expect(skip.messages).toEqual([]);
  });

  it('refuses a WebSocket from another origin (another page in the same browser)', async () => {
    await expect(socket('http://evil.example')).rejects.toThrow(/403/);
  });

  it('refuses requests for another Host (DNS rebinding) and paths outside the renderer', async () => {
    const ok = await fetch(`${origin}/`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${origin}/%2e%2e/secret.txt`)).status).toBe(404);
    expect(resolveStatic(path.join(dir, 'web'), '/../secret.txt')).toBeNull();
    expect(resolveStatic(path.join(dir, 'web'), '/%2e%2e%2fsecret.txt')).toBeNull();
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: bridge.port, path: '/', headers: { host: 'rebound.example' } }, (res) => resolve(res.statusCode ?? 0));
    });
    expect(status).toBe(421);
  });
});
