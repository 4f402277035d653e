import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../../core/core';
import { InMemorySecretStore } from '../../secrets/memory-store';
import { openSecretStore } from '../../secrets/open-secret-store';
import { fakeKeychain } from '../../testing/fake-keychain';
import { dispatch } from '../dispatch';
import { createHandlers } from './index';

describe('secrets:status', () => {
  let dir: string;
  let core: Core | null = null;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-status-'));
  });
  afterEach(async () => {
    await core?.close();
    core = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tells Settings the store file, whether it is usable and which unlockers are available and enrolled', async () => {
    const dataDir = path.join(dir, 'data');
    const { store } = openSecretStore(dataDir, { safeStorage: fakeKeychain(), platform: 'linux', passphrase: { kind: 'passphrase', passphrase: 'p', origin: 'MKC_SECRET_KEY' }, scryptN: 1 << 10 });
    core = new Core({ dataDir, transport: 'electron', secrets: store });
    core.credentials.add({ name: 'prod', vcenterHost: 'vc.example', username: 'svc', datacenter: 'DC1', password: 'pw' });
    const r = await dispatch(createHandlers(core), 'secrets:status', [{}]);
    expect(r).toEqual({
      ok: true,
      value: {
        kind: 'data-key-file',
        location: path.join(dataDir, 'secrets.json'),
        usable: true,
        reason: null,
        unlockers: [
          { kind: 'safe-storage', available: true, enrolled: true, detail: 'the operating system keychain (Electron safeStorage)' },
          { kind: 'passphrase', available: true, enrolled: true, detail: 'the passphrase from MKC_SECRET_KEY' },
        ],
      },
    });
    expect((await dispatch(createHandlers(core), 'secrets:status', [{ reveal: true }])).ok).toBe(false);
  });

  it('a store without describe() is reported as in-memory with its reason', async () => {
    core = new Core({ dataDir: path.join(dir, 'data'), transport: 'dev-bridge', secrets: new InMemorySecretStore('no keyring') });
    expect(await dispatch(createHandlers(core), 'secrets:status', [{}])).toEqual({
      ok: true,
      value: { kind: 'memory', location: null, usable: false, reason: 'no keyring', unlockers: [] },
    });
  });
});
