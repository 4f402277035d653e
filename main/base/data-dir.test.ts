import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileLogger } from './app-log';
import { Core } from '../core/core';
import { secureDataDir } from './data-dir';
import { secretStoreFromEnvironment } from '../secrets/secret-store-from-env';

/** Every directory and file under root with its permission bits, relative paths. */
function modes(root: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      out[path.relative(root, full)] = fs.statSync(full).mode & 0o777;
      if (e.isDirectory()) walk(full);
    }
  };
  out['.'] = fs.statSync(root).mode & 0o777;
  walk(root);
  return out;
}

describe.skipIf(process.platform === 'win32')('data directory permissions', () => {
  let tmp: string;
  let saved: number;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-perm-'));
    // What a careless environment gives: without our own modes everything would be world-readable.
    saved = process.umask(0o000);
  });
  afterEach(() => {
    process.umask(saved);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('tightens a directory an earlier version left open: 0700 directories, files without group/other bits', () => {
    const dir = path.join(tmp, 'data');
    fs.mkdirSync(path.join(dir, 'logs'), { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'console.sqlite3'), '', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'console.sqlite3.v1.x.bak'), '', { mode: 0o664 });
    fs.writeFileSync(path.join(dir, 'secrets.safestorage.json'), '{}', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'logs', 'console.log'), '', { mode: 0o644 });
    secureDataDir(dir);
    expect(modes(dir)).toEqual({
      '.': 0o700,
      logs: 0o700,
      'logs/console.log': 0o600,
      'console.sqlite3': 0o600,
      'console.sqlite3.v1.x.bak': 0o600,
      'secrets.safestorage.json': 0o600,
    });
  });

  it('a core over a new data directory leaves only owner-only directories and 0600 files (database, WAL, secrets, log)', async () => {
    const dataDir = path.join(tmp, 'new', 'data');
    const logger = fileLogger(dataDir);
    const core = new Core({ dataDir, transport: 'cli', secrets: secretStoreFromEnvironment(dataDir, { MKC_SECRET_KEY: 'k' }, { scryptN: 1 << 10 }), logger });
    try {
      core.credentials.add({ name: 'prod', vcenterHost: 'vc.example', username: 'svc', datacenter: 'DC1', password: 'pw' });
      logger.info('written');
      const found = modes(dataDir);
      expect(Object.keys(found).sort()).toEqual(
        ['.', 'console.sqlite3', 'console.sqlite3-shm', 'console.sqlite3-wal', 'logs', 'logs/console.log', 'secrets.json'].sort(),
      );
      for (const [name, mode] of Object.entries(found)) {
        expect({ name, mode: mode.toString(8) }).toEqual({ name, mode: name === '.' || name === 'logs' ? '700' : '600' });
      }
    } finally {
      await core.close();
    }
  });
});
