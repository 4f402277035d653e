/**
 * The SSH tunnel manager against a real OpenSSH server, with a small local HTTP server standing
 * in for the VMA API behind it.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { utils as sshUtils } from 'ssh2';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { createTunnelDispatcher, tunnelErrorOf } from '../../main/ssh/tunnel-dispatcher';
import { SshTunnelManager, type SshCredentials, type TunnelStatus } from '../../main/ssh/tunnel-manager';
import { startSshd, type SshdFixture } from '../fixtures/sshd';

const FAST = {
  keepaliveIntervalMs: 500,
  keepaliveCountMax: 2,
  readyTimeoutMs: 5_000,
  backoff: { initialMs: 100, maxMs: 400, jitterRatio: 0.2 },
};

let sshd: SshdFixture;
let api: Server;
let apiPort: number;
let apiHits = 0;
/** TCP connections the API server accepted (one per SSH channel sshd forwards to it). */
let apiConnections = 0;
/** Reads the API server's sockets saw, per request path (how many pieces each request arrived in). */
const readsByPath = new Map<string, number>();
const managers: SshTunnelManager[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  api = createServer((req, res) => {
    apiHits += 1;
    if (req.url?.startsWith('/hang') === true) return; // never answers: the client gives up
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'healthy', path: req.url, host: req.headers.host, body }));
    });
  });
  api.on('connection', (socket) => {
    apiConnections += 1;
    socket.on('data', (chunk: Buffer) => {
      const path = /^[A-Z]+ (\S+) HTTP/.exec(chunk.toString('latin1'))?.[1];
      if (path !== undefined) readsByPath.set(path, (readsByPath.get(path) ?? 0) + 1);
      else for (const [p, n] of readsByPath) if (p.startsWith('/post')) readsByPath.set(p, n + 1);
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiPort = (api.address() as AddressInfo).port;
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => api.close(() => resolve()));
  await sshd?.dispose();
});

interface Harness {
  manager: SshTunnelManager;
  states: TunnelStatus[];
  /** Everything the manager logged, serialised. */
  logText(): string;
  pin(fingerprint: string | null): void;
  authCalls(): number;
  waitFor(predicate: (s: TunnelStatus) => boolean, timeoutMs?: number): Promise<TunnelStatus>;
}

function harness(
  credentials: () => SshCredentials,
  initialPin: string | null = null,
  overrides: Partial<typeof FAST> = {},
): Harness {
  const fixture = sshd;
  let pinned = initialPin;
  let authCalls = 0;
  const states: TunnelStatus[] = [];
  const logLines: string[] = [];
  const listeners = new Set<(s: TunnelStatus) => void>();
  const manager = new SshTunnelManager({
    applianceId: 'vma-test',
    host: fixture.host,
    port: fixture.port,
    username: fixture.username,
    auth: async () => {
      authCalls += 1;
      return credentials();
    },
    pinnedFingerprint: () => pinned,
    onState: (s) => {
      states.push(s);
      for (const listener of listeners) listener(s);
    },
    logger: {
      info: (message, fields) => logLines.push(`info ${message} ${JSON.stringify(fields)}`),
      warn: (message, fields) => logLines.push(`warn ${message} ${JSON.stringify(fields)}`),
    },
    ...FAST,
    ...overrides,
  });
  managers.push(manager);
  return {
    manager,
    states,
    logText: () => logLines.join('\n'),
    pin: (fingerprint) => {
      pinned = fingerprint;
    },
    authCalls: () => authCalls,
    waitFor: (predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        if (predicate(manager.state)) {
          resolve(manager.state);
          return;
        }
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`state not reached within ${timeoutMs} ms; states: ${states.map((s) => s.state).join(' → ')}`));
        }, timeoutMs);
        const listener = (s: TunnelStatus): void => {
          if (!predicate(s)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(s);
        };
        listeners.add(listener);
      }),
  };
}

const keyAuth = (): SshCredentials => ({ privateKey: sshd.clientPrivateKey });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getThroughTunnel(manager: SshTunnelManager, path: string) {
  const dispatcher = createTunnelDispatcher(manager, '127.0.0.1', apiPort);
  try {
    // The URL names the VMA's own loopback API address; the channel decides where bytes go.
    const response = await request(`http://127.0.0.1:8081${path}`, { dispatcher });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  } finally {
    await dispatcher.close();
  }
}

/** A manager with the fixture's host key pinned, started and ready. */
async function readyHarness(overrides: Partial<typeof FAST> = {}): Promise<Harness> {
  const h = harness(keyAuth, sshd.hostKeyFingerprint, overrides);
  h.manager.start();
  await h.manager.waitUntilReady(10_000);
  return h;
}

describe('SSH tunnel manager against real sshd', () => {
  it('stops at an untrusted host key, then connects once the offered key is pinned', async () => {
    const h = harness(keyAuth);
    const connectionsBefore = sshd.connectionCount();
    h.manager.start();
    const failed = await h.waitFor((s) => s.state === 'failed');
    expect(failed.errorCode).toBe('host_key_untrusted');
    expect(failed.offeredFingerprint).toBe(sshd.hostKeyFingerprint);
    expect(failed.reason).toContain(sshd.hostKeyFingerprint);

    // No retry loop: nothing else happens while the operator decides.
    await sleep(800);
    expect(h.states.filter((s) => s.state === 'connecting')).toHaveLength(1);
    expect(sshd.connectionCount() - connectionsBefore).toBe(1);

    h.pin(failed.offeredFingerprint);
    h.manager.start();
    await h.manager.waitUntilReady(10_000);
    expect(h.manager.state).toMatchObject({ state: 'ready', errorCode: null, reason: null });
    expect(h.states.map((s) => s.state)).toEqual(['connecting', 'failed', 'connecting', 'ready']);
  });

  it('carries HTTP to the appliance-side API over forwardOut channels', async () => {
    const h = await readyHarness();
    const hitsBefore = apiHits;
    const response = await getThroughTunnel(h.manager, '/api/v1/health?probe=1');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'healthy', path: '/api/v1/health?probe=1', host: '127.0.0.1:8081' });
    expect(apiHits).toBe(hitsBefore + 1);
  });

  it('reuses keep-alive channels, also after an idle gap that closed them', async () => {
    const h = await readyHarness();
    const dispatcher = createTunnelDispatcher(h.manager, '127.0.0.1', apiPort);
    const get = async (path: string) => {
      const response = await request(`http://127.0.0.1:8081${path}`, { dispatcher });
      return (await response.body.json()) as Record<string, unknown>;
    };
    const sequential = async (prefix: string): Promise<number> => {
      const before = apiConnections;
      for (let i = 0; i < 6; i++) expect(await get(`/${prefix}${i}`)).toMatchObject({ path: `/${prefix}${i}` });
      return apiConnections - before;
    };
    try {
      // undici may open a second connection when the next request comes before the first
      // connection is marked free; what matters is that the count does not grow with requests.
      expect(await sequential('seq/a')).toBeLessThanOrEqual(2);
      // Node's server hints keep-alive 5 s, undici closes idle connections 2 s before that.
      await sleep(3_500);
      expect(await sequential('seq/b')).toBeLessThanOrEqual(2);
      // Bursts of concurrent requests: the channel count stays bounded (the same effect may double
      // it once), it does not grow with the number of bursts.
      const beforeBursts = apiConnections;
      for (let burst = 0; burst < 6; burst++) await Promise.all([0, 1, 2].map((i) => get(`/par/${burst}-${i}`)));
      expect(apiConnections - beforeBursts).toBeLessThanOrEqual(6);
    } finally {
      await dispatcher.close();
    }
  });

  it('sends a request with a body in one piece and closes the channel when undici gives up on it', async () => {
    const h = await readyHarness();
    const dispatcher = createTunnelDispatcher(h.manager, '127.0.0.1', apiPort);
    try {
      const payload = JSON.stringify({ filter: 'vm-1', padding: 'x'.repeat(2_000) });
      const response = await request('http://127.0.0.1:8081/post/one', {
        dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
      });
      expect(await response.body.json()).toMatchObject({ path: '/post/one', body: payload });
      // Head and body went out as one channel write, so they reached the server in one read.
      expect(readsByPath.get('/post/one')).toBe(1);

      // An aborted request destroys its socket: the channel closes, the server sees its connection go.
      const closed = new Promise<void>((resolve) => {
        api.once('request', (req) => req.socket.once('close', () => resolve()));
      });
      const controller = new AbortController();
      const hanging = request('http://127.0.0.1:8081/hang', { dispatcher, signal: controller.signal });
      await sleep(200);
      controller.abort();
      await expect(hanging).rejects.toThrow();
      await closed;
      // The dispatcher goes on serving on fresh channels.
      const again = await request('http://127.0.0.1:8081/after-abort', { dispatcher });
      expect(await again.body.json()).toMatchObject({ path: '/after-abort' });
    } finally {
      await dispatcher.close();
    }
  });

  it('delivers a body the server ends by closing the connection', async () => {
    const h = await readyHarness();
    const body = 'y'.repeat(50_000);
    const raw = createTcpServer((socket) => {
      socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\n${body}`));
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const dispatcher = createTunnelDispatcher(h.manager, '127.0.0.1', (raw.address() as AddressInfo).port);
    try {
      for (let i = 0; i < 3; i++) {
        const response = await request('http://127.0.0.1:8081/close-delimited', { dispatcher });
        expect(await response.body.text()).toBe(body);
      }
    } finally {
      await dispatcher.close();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('fails requests fast with unreachable while the tunnel is not ready', async () => {
    const h = harness(keyAuth, sshd.hostKeyFingerprint);
    const dispatcher = createTunnelDispatcher(h.manager, '127.0.0.1', apiPort);
    try {
      const error = await request('http://127.0.0.1:8081/api/v1/health', { dispatcher }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(tunnelErrorOf(error)).toBeInstanceOf(AppError);
      expect(tunnelErrorOf(error)?.code).toBe('unreachable');
    } finally {
      await dispatcher.close();
    }
    await expect(h.manager.exec('true')).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('runs commands with exec and returns output and exit code', async () => {
    const h = await readyHarness();
    const result = await h.manager.exec('echo "out $((20 + 22))"; echo oops >&2; exit 3');
    expect(result).toEqual({ code: 3, signal: null, stdout: 'out 42\n', stderr: 'oops\n' });
    const ok = await h.manager.exec('id -un');
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(sshd.username);
    await expect(h.manager.exec('sleep 5', { timeoutMs: 200 })).rejects.toMatchObject({ code: 'timeout' });
    await expect(h.manager.exec('head -c 100000 /dev/zero', { maxOutputBytes: 1_000 })).rejects.toMatchObject({ code: 'remote_error' });
    await expect(h.manager.exec('  ')).rejects.toMatchObject({ code: 'validation' });
    // The connection survives both and keeps serving commands.
    expect((await h.manager.exec('printf done')).stdout).toBe('done');
  });

  it('reconnects with backoff after sshd dies and serves requests again once it is back', async () => {
    const h = await readyHarness();
    // One long-lived dispatcher across the outage, as the VMA client holds it.
    const dispatcher = createTunnelDispatcher(h.manager, '127.0.0.1', apiPort);
    const get = async (path: string) => {
      const response = await request(`http://127.0.0.1:8081${path}`, { dispatcher });
      return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
    };
    expect((await get('/before')).status).toBe(200);

    const killedAt = Date.now();
    await sshd.stop();
    const backoff = await h.waitFor((s) => s.state === 'backoff');
    expect(backoff.nextAttemptAt).not.toBeNull();
    const next = Date.parse(backoff.nextAttemptAt as string);
    expect(next).toBeGreaterThanOrEqual(killedAt);
    expect(next - killedAt).toBeLessThanOrEqual(FAST.backoff.maxMs + 2_000);
    await expect(get('/during')).rejects.toSatisfy((e) => tunnelErrorOf(e)?.code === 'unreachable');

    // Let a few attempts fail against the closed port: the delays grow and stay capped.
    await h.waitFor((s) => s.state === 'backoff' && s.attempt >= 3);
    const attempts = h.states.filter((s) => s.state === 'backoff').map((s) => s.attempt);
    expect(attempts.slice(0, 3)).toEqual([1, 2, 3]);

    await sshd.start();
    await h.waitFor((s) => s.state === 'ready');
    expect(h.manager.state.attempt).toBe(0);
    expect((await get('/after')).body).toMatchObject({ path: '/after' });
    // Credentials were asked for at every attempt, not cached.
    expect(h.authCalls()).toBe(h.states.filter((s) => s.state === 'connecting').length);
    await dispatcher.close();
  });

  it('fails hard on a changed host key and makes no further connection attempts', async () => {
    const h = await readyHarness();
    const oldFingerprint = sshd.hostKeyFingerprint;

    await sshd.rotateHostKey();
    const failed = await h.waitFor((s) => s.state === 'failed');
    expect(failed.errorCode).toBe('host_key_mismatch');
    expect(failed.reason).toContain(oldFingerprint);
    expect(failed.reason).toContain(sshd.hostKeyFingerprint);
    expect(failed.offeredFingerprint).toBe(sshd.hostKeyFingerprint);

    const connectionsAtFailure = sshd.connectionCount();
    const connectingAtFailure = h.states.filter((s) => s.state === 'connecting').length;
    await sleep(1_500); // several times the maximum backoff
    expect(sshd.connectionCount()).toBe(connectionsAtFailure);
    expect(h.states.filter((s) => s.state === 'connecting')).toHaveLength(connectingAtFailure);
    await expect(getThroughTunnel(h.manager, '/x')).rejects.toSatisfy((e) => tunnelErrorOf(e)?.code === 'unreachable');

    // The explicit re-trust action: the caller pins the new key and starts again.
    h.pin(sshd.hostKeyFingerprint);
    h.manager.start();
    await h.manager.waitUntilReady(10_000);
  });

  it('fails with auth on a wrong password, does not retry and never logs the password', async () => {
    const password = `wrong-${Math.random().toString(36).slice(2)}`;
    const h = harness(() => ({ password }), sshd.hostKeyFingerprint);
    const connectionsBefore = sshd.connectionCount();
    h.manager.start();
    const failed = await h.waitFor((s) => s.state === 'failed');
    expect(failed.errorCode).toBe('auth');
    expect(failed.offeredFingerprint).toBeNull();
    await sleep(1_000);
    expect(h.authCalls()).toBe(1);
    expect(h.states.map((s) => s.state)).toEqual(['connecting', 'failed']);
    await sshd.waitForLog(/Failed password/);
    expect(sshd.connectionCount() - connectionsBefore).toBe(1);
    await expect(h.manager.waitUntilReady(100)).rejects.toMatchObject({ code: 'auth' });
    expect(h.logText()).toContain('SSH tunnel failed');
    expect(h.logText()).not.toContain(password);
    expect(JSON.stringify(h.states)).not.toContain(password);
    expect(sshd.log()).not.toContain(password);
  });

  it('authenticates with a passphrase-protected key and reports a wrong passphrase as auth', async () => {
    const passphrase = `pp-${Math.random().toString(36).slice(2)}`;
    const keys = sshUtils.generateKeyPairSync('ed25519', { passphrase, cipher: 'aes256-ctr', comment: 'mkc-passphrase' });
    sshd.authorizeKey(keys.public);

    const good = harness(() => ({ privateKey: keys.private, passphrase }), sshd.hostKeyFingerprint);
    good.manager.start();
    await good.manager.waitUntilReady(10_000);

    const bad = harness(() => ({ privateKey: keys.private, passphrase: `${passphrase}x` }), sshd.hostKeyFingerprint);
    bad.manager.start();
    const failed = await bad.waitFor((s) => s.state === 'failed');
    expect(failed.errorCode).toBe('auth');
    expect(failed.reason).not.toContain(passphrase);
  });

  it('detects a dead link through keepalives and times out handshakes with a silent server', async () => {
    const h = await readyHarness({ readyTimeoutMs: 400 });
    sshd.freeze();
    try {
      const backoff = await h.waitFor((s) => s.state === 'backoff', 8_000);
      expect(backoff.reason).toMatch(/keepalive/i);
      expect(backoff.errorCode).toBe('timeout');
      // The frozen listener still completes TCP handshakes in the kernel, but never speaks SSH.
      const handshakeTimeout = await h.waitFor((s) => s.state === 'backoff' && /handshake/i.test(s.reason ?? ''), 8_000);
      expect(handshakeTimeout.errorCode).toBe('timeout');
    } finally {
      sshd.thaw();
    }
    await h.waitFor((s) => s.state === 'ready', 10_000);
  });

  it('stops cleanly: disconnected, no reconnects, requests fail fast', async () => {
    const h = await readyHarness();
    const connections = sshd.connectionCount();
    await h.manager.stop();
    expect(h.manager.state.state).toBe('disconnected');
    await sleep(600);
    expect(h.states.at(-1)?.state).toBe('disconnected');
    expect(sshd.connectionCount()).toBe(connections);
    await expect(h.manager.exec('true')).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('rejects invalid options with a specific message', () => {
    const base = {
      applianceId: 'a',
      host: '127.0.0.1',
      port: 22,
      username: 'u',
      auth: async () => ({}),
      pinnedFingerprint: () => null,
    };
    expect(() => new SshTunnelManager({ ...base, port: 70_000 })).toThrow(/port must be 1\.\.65535/);
    expect(() => new SshTunnelManager({ ...base, host: ' ' })).toThrow(/host is required/);
    expect(() => new SshTunnelManager({ ...base, backoff: { initialMs: -1 } })).toThrow(/initialMs/);
  });
});
