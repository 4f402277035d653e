import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNbdkit, type NbdkitHandle } from '../fixtures/nbdkit';
import { MAX_REQUEST_BYTES, NbdClient, NbdError, parseNbdUrl } from '../sim/nbd/nbd-client';

const MiB = 1024 * 1024;

describe('NbdClient against real nbdkit', () => {
  let dir: string;
  let server: NbdkitHandle;
  const url = (name: string): string => `nbd://${server.host}:${server.port}/${encodeURIComponent(name)}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nbd-client-'));
    await truncate(await createEmpty(path.join(dir, 'disk-a')), 64 * MiB);
    await writeFile(path.join(dir, 'disk-b'), randomBytes(1 * MiB));
    // An export that is a link to a file elsewhere, as the OMA appliance publishes volumes.
    const backing = path.join(dir, '..', `${path.basename(dir)}-backing`);
    await truncate(await createEmpty(backing), 8 * MiB);
    await symlink(backing, path.join(dir, 'linked'));
    server = await startNbdkit({ exportsDir: dir });
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(path.join(dir, '..', `${path.basename(dir)}-backing`), { force: true });
  });

  it('reports the export size', async () => {
    const a = await NbdClient.connect(url('disk-a'));
    const b = await NbdClient.connect(url('disk-b'));
    try {
      expect(a.size).toBe(64 * MiB);
      expect(b.size).toBe(1 * MiB);
      expect(a.readOnly).toBe(false);
      expect(a.canFlush).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('reads the bytes that are on disk', async () => {
    const onDisk = await readFile(path.join(dir, 'disk-b'));
    const c = await NbdClient.connect(url('disk-b'));
    try {
      expect((await c.pread(onDisk.length, 0)).equals(onDisk)).toBe(true);
      expect((await c.pread(1000, 12345)).equals(onDisk.subarray(12345, 13345))).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('writes a 32 MiB unaligned chunk in several requests and the file on disk holds it', async () => {
    const data = randomBytes(32 * MiB + 4097);
    expect(data.length).toBeGreaterThan(MAX_REQUEST_BYTES * 8);
    const offset = 3 * MiB + 511;
    const c = await NbdClient.connect(url('disk-a'));
    try {
      await c.pwrite(data, offset);
      await c.flush();
      expect((await c.pread(data.length, offset)).equals(data)).toBe(true);
    } finally {
      await c.close();
    }
    const file = await readFile(path.join(dir, 'disk-a'));
    expect(file.length).toBe(64 * MiB);
    expect(file.subarray(offset, offset + data.length).equals(data)).toBe(true);
    expect(file.subarray(0, offset).every((x) => x === 0)).toBe(true);
    expect(file.subarray(offset + data.length).every((x) => x === 0)).toBe(true);
  });

  it('writes through an export that is a symlink into the link target', async () => {
    const data = randomBytes(5 * MiB);
    const c = await NbdClient.connect(url('linked'));
    try {
      expect(c.size).toBe(8 * MiB);
      await c.pwrite(data, MiB);
      await c.flush();
    } finally {
      await c.close();
    }
    const file = await readFile(path.join(dir, '..', `${path.basename(dir)}-backing`));
    expect(file.subarray(MiB, MiB + data.length).equals(data)).toBe(true);
  });

  it('serves concurrent callers on one connection', async () => {
    const c = await NbdClient.connect(url('disk-a'));
    const blocks = Array.from({ length: 6 }, () => randomBytes(MiB + 3));
    try {
      await Promise.all(blocks.map((b, i) => c.pwrite(b, 40 * MiB + i * (MiB + 3))));
      const back = await Promise.all(blocks.map((b, i) => c.pread(b.length, 40 * MiB + i * (MiB + 3))));
      back.forEach((b, i) => expect(b.equals(blocks[i]!)).toBe(true));
    } finally {
      await c.close();
    }
  });

  it('rejects an unknown export with a clear NBD error', async () => {
    const failure = await NbdClient.connect(url('no-such-export')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NbdError);
    expect((failure as NbdError).nbdErrorName).toBe('NBD_REP_ERR_UNKNOWN');
    expect((failure as NbdError).message).toContain('no-such-export');
  });

  it('refuses requests beyond the end of the export before sending them', async () => {
    const c = await NbdClient.connect(url('disk-b'));
    try {
      await expect(c.pread(10, MiB - 5)).rejects.toThrow(/beyond the end/);
      await expect(c.pwrite(Buffer.alloc(1), MiB)).rejects.toThrow(/beyond the end/);
      // The connection stays usable after a refused request.
      expect((await c.pread(4, 0)).length).toBe(4);
    } finally {
      await c.close();
    }
  });

  it('turns a server-side I/O error into an NbdError carrying the errno', async () => {
    const shrinking = path.join(dir, 'shrinking');
    await truncate(await createEmpty(shrinking), 2 * MiB);
    const c = await NbdClient.connect(url('shrinking'));
    try {
      await truncate(shrinking, 0); // the backing store loses its data under the open export
      const failure = await c.pread(4096, MiB).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(NbdError);
      expect((failure as NbdError).nbdError).toBeGreaterThan(0);
      expect((failure as NbdError).message).toMatch(/NBD_CMD_READ on export "shrinking" failed/);
    } finally {
      await c.close();
    }
  });

  it('refuses a connection to a port with no server', async () => {
    await server.stop();
    await expect(NbdClient.connect(url('disk-a'), { timeoutMs: 3000 })).rejects.toThrow(/NBD connection .* (failed|closed)/);
    server = await startNbdkit({ exportsDir: dir });
  });
});

describe('parseNbdUrl', () => {
  it('parses host, port and export name', () => {
    expect(parseNbdUrl('nbd://127.0.0.1:10808/migration-vol-abc')).toEqual({ host: '127.0.0.1', port: 10808, exportName: 'migration-vol-abc' });
    expect(parseNbdUrl('nbd://oma.example/x')).toEqual({ host: 'oma.example', port: 10809, exportName: 'x' });
  });
  it('rejects other schemes and garbage', () => {
    expect(() => parseNbdUrl('http://h/x')).toThrow(/scheme/);
    expect(() => parseNbdUrl('not a url')).toThrow(/invalid NBD URL/);
  });
});

async function createEmpty(file: string): Promise<string> {
  await (await open(file, 'w')).close();
  return file;
}
