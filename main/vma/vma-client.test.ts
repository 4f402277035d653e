import http from 'node:http';
import net from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors';
import { createVmaClient, parseJobStatus, parseProgress } from './vma-client';
import { codeForVmaStatus, VmaHttpError } from './vma-http-error';

// A tiny real HTTP server whose answers each test sets, for transport edge cases the simulator
// does not produce (non-JSON 200, a body that stalls).
let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end('{}');
const server = http.createServer((req, res) => handler(req, res));
let port = 0;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const rejection = async (p: Promise<unknown>): Promise<unknown> => p.then(() => new Error('resolved'), (e: unknown) => e);

describe('VMA client transport', () => {
  it('a 200 that is not JSON is a remote_error', async () => {
    handler = (_req, res) => res.end('<html>proxy page</html>');
    const e = await rejection(createVmaClient({ baseUrl: `http://127.0.0.1:${port}` }).health());
    expect(isAppError(e) && e.code).toBe('remote_error');
    expect((e as Error).message).toMatch(/not JSON/);
  });

  it('a body that stalls after the headers times out', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    };
    const e = await rejection(createVmaClient({ baseUrl: `http://127.0.0.1:${port}` }).status('job-1', { timeoutMs: 150 }));
    expect(isAppError(e) && e.code).toBe('timeout');
    expect((e as Error).message).toBe('VMA GET /api/v1/status/job-1 did not answer within 150 ms');
  });

  it('sends requests through the given dispatcher (how the product rides an SSH channel)', async () => {
    let seenPath = '';
    handler = (req, res) => {
      seenPath = req.url ?? '';
      res.end('{"status":"healthy","timestamp":"t","uptime":"u"}');
    };
    // The base URL names a port nothing listens on; the dispatcher decides where bytes go.
    const agent = new Agent({ connect: (_opts, cb) => { const s = net.connect(port, '127.0.0.1'); s.once('connect', () => cb(null, s)); s.once('error', (err) => cb(err, null)); } });
    try {
      const c = createVmaClient({ baseUrl: 'http://127.0.0.1:1', dispatcher: agent });
      expect((await c.health()).status).toBe('healthy');
      expect(seenPath).toBe('/api/v1/health');
    } finally {
      await agent.close();
    }
  });

  it('job ids are path-encoded', async () => {
    let seenPath = '';
    handler = (req, res) => {
      seenPath = req.url ?? '';
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('job not found\n');
    };
    expect(await createVmaClient({ baseUrl: `http://127.0.0.1:${port}` }).progress('job/../x?y')).toEqual({ found: false });
    expect(seenPath).toBe('/api/v1/progress/job%2F..%2Fx%3Fy');
  });

  it('an answer over the body size limit is a remote_error, announced or not', async () => {
    const answer = JSON.stringify({ status: 'healthy', timestamp: 't', uptime: 'x'.repeat(2000) });
    const client = createVmaClient({ baseUrl: `http://127.0.0.1:${port}`, maxBodyBytes: 1000 });
    handler = (_req, res) => res.end(answer); // content-length set by Node
    const announced = await rejection(client.health());
    expect(isAppError(announced) && announced.code).toBe('remote_error');
    expect((announced as Error).message).toBe('VMA GET /api/v1/health answered 200 with a body over the limit of 1000 bytes');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length announced
      res.write(answer.slice(0, 600));
      setTimeout(() => res.end(answer.slice(600)), 20);
    };
    const streamed = await rejection(client.health());
    expect((streamed as Error).message).toMatch(/over the limit of 1000 bytes/);
    expect(() => createVmaClient({ baseUrl: 'http://h:1', maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
  });

  it('decodes answers as before: UTF-8 split across writes, a leading byte order mark', async () => {
    const answer = Buffer.from(JSON.stringify({ status: 'gesund ✓', timestamp: 'Zürich', uptime: '1s' }), 'utf8');
    const cut = answer.indexOf(Buffer.from('✓')) + 1;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(answer.subarray(0, cut));
      setTimeout(() => res.end(answer.subarray(cut)), 20);
    };
    const client = createVmaClient({ baseUrl: `http://127.0.0.1:${port}` });
    expect(await client.health()).toMatchObject({ status: 'gesund ✓', timestamp: 'Zürich' });
    handler = (_req, res) => res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), answer]));
    expect((await client.health()).status).toBe('gesund ✓');
  });

  it('a content-length that promises more than is sent is a lost connection, not a short answer', async () => {
    const raw = net.createServer((socket) => {
      socket.once('data', () => {
        socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\nconnection: close\r\n\r\n{"status":"healthy"}');
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    try {
      const e = await rejection(createVmaClient({ baseUrl: `http://127.0.0.1:${(raw.address() as net.AddressInfo).port}` }).health());
      expect(isAppError(e) && e.code).toBe('unreachable');
      expect((e as Error).message).toMatch(/^VMA connection lost while reading GET \/api\/v1\/health/);
    } finally {
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });

  it('a dispatcher that refuses the request is unreachable; a request still waiting for a connection times out', async () => {
    const closed = new Agent();
    await closed.close();
    const refused = await rejection(createVmaClient({ baseUrl: `http://127.0.0.1:${port}`, dispatcher: closed }).health());
    expect(isAppError(refused) && refused.code).toBe('unreachable');
    expect((refused as Error).message).toMatch(/^VMA unreachable \(GET \/api\/v1\/health\)/);

    // One connection, held by an answer that never ends: the second request waits for it and its
    // own time runs out while it waits.
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    };
    const one = new Agent({ connections: 1 });
    try {
      const client = createVmaClient({ baseUrl: `http://127.0.0.1:${port}`, dispatcher: one });
      const first = rejection(client.status('job-1', { timeoutMs: 300 }));
      const second = await rejection(client.status('job-2', { timeoutMs: 100 }));
      expect(isAppError(second) && second.code).toBe('timeout');
      expect((second as Error).message).toBe('VMA GET /api/v1/status/job-2 did not answer within 100 ms');
      expect(isAppError(await first) && ((await first) as { code: string }).code).toBe('timeout');
    } finally {
      await one.destroy();
    }
  });

  it('rejects bad base URLs and timeouts', () => {
    expect(() => createVmaClient({ baseUrl: 'not a url' })).toThrow(/not a URL/);
    expect(() => createVmaClient({ baseUrl: 'ftp://h:1' })).toThrow(/http/);
    expect(() => createVmaClient({ baseUrl: 'http://user:pw@h:1' })).toThrow(/user info/);
    expect(() => createVmaClient({ baseUrl: 'http://h:1', timeoutsMs: { discover: 0 } })).toThrow(/discover/);
  });
});

describe('VmaHttpError', () => {
  it('maps statuses to contract codes', () => {
    expect([400, 404, 500, 502, 409].map(codeForVmaStatus)).toEqual(['validation', 'not_found', 'remote_error', 'remote_error', 'remote_error']);
    const e = new VmaHttpError(500, 'Discovery failed: x', 'POST', '/api/v1/discover');
    expect(e.toShape()).toEqual({ code: 'remote_error', message: 'VMA POST /api/v1/discover answered 500: Discovery failed: x', details: { status: 500, text: 'Discovery failed: x', path: '/api/v1/discover' } });
  });
});

describe('parseProgress / parseJobStatus', () => {
  it('fills every promised field from a sparse body', () => {
    const p = parseProgress({ job_id: 'j', status: 'in_progress', percentage: 42.5, sync_type: 'weird', throughput: null });
    expect(p).toMatchObject({ job_id: 'j', status: 'in_progress', percentage: 42.5, sync_type: '', bytes_transferred: 0, errors: [], last_error: null, phases: [] });
    expect(p.throughput).toEqual({ current_mbps: 0, average_mbps: 0, peak_mbps: 0, last_update: '' });
    expect(p.disk_progresses).toBeUndefined();
  });

  it('keeps errors and disk_progresses when present', () => {
    const p = parseProgress({ errors: ['boom'], last_error: { message: 'boom' }, disk_progresses: [{ disk_id: 'disk-2000', percent: 100, status: 'completed' }, 'junk'] });
    expect(p.errors).toEqual(['boom']);
    expect(p.last_error).toEqual({ message: 'boom' });
    expect(p.disk_progresses).toEqual([{ disk_id: 'disk-2000', label: '', bytes_transferred: 0, total_bytes: 0, percent: 100, throughput_mbps: 0, status: 'completed' }]);
  });

  it('parses status with optional vm_path', () => {
    expect(parseJobStatus({ job_id: 'j', status: 'running', progress_percent: 30 })).toEqual({
      job_id: 'j',
      status: 'running',
      progress_percent: 30,
      current_operation: '',
      start_time: '',
      last_update: '',
    });
    expect(parseJobStatus({ vm_path: '/DC/vm/a' }).vm_path).toBe('/DC/vm/a');
  });
});
