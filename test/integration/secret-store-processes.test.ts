import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../../main/core/core';
import { openSecretStore } from '../../main/secrets/open-secret-store';
import type { SecretKeySource } from '../../main/secrets/encrypted-file-store';
import { fakeKeychain, type FakeKeychain } from '../../main/testing/fake-keychain';
import { requireBuiltMkc, runMkc } from '../fixtures/mkc-process';

// The desktop app (in this process, with a keychain that really encrypts) and `mkc` (the built
// bundle in its own process, with the operator's passphrase) over one data directory.
const passphrase = `op-pass-${process.pid}-${Date.now()}`;
const pass: SecretKeySource = { kind: 'passphrase', passphrase, origin: 'MKC_SECRET_KEY' };
const noPass: SecretKeySource = { kind: 'missing', reason: 'No secret key is configured.' };

let dataDir: string;
let keychain: FakeKeychain;

function appCore(withPassphrase: boolean): Core {
  const { store } = openSecretStore(dataDir, { safeStorage: keychain, platform: 'linux', passphrase: withPassphrase ? pass : noPass });
  return new Core({ dataDir, transport: 'electron', secrets: store });
}

const mkc = (args: string[], options: { key?: string; input?: string } = {}) =>
  runMkc([...args, '--data-dir', dataDir], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(options.key ? { MKC_SECRET_KEY: options.key } : {}) },
    ...(options.input !== undefined ? { input: options.input } : {}),
    timeoutMs: 60_000,
  });

const addCredential = (name: string, key?: string) =>
  mkc(['credentials', 'add', '--name', name, '--vcenter', 'vc.example', '--username', 'svc', '--datacenter', 'DC1', '--password-stdin'], {
    input: `pw-${name}`,
    ...(key ? { key } : {}),
  });

beforeAll(() => {
  requireBuiltMkc();
});
beforeEach(() => {
  dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-shared-secrets-')), 'data');
  keychain = fakeKeychain();
});
afterEach(() => fs.rmSync(path.dirname(dataDir), { recursive: true, force: true }));

describe('one secret store for the app and mkc', () => {
  it('what the app adds (started once with the passphrase) mkc can use, and what mkc adds the app reads with its keychain alone', async () => {
    const app = appCore(true);
    app.credentials.add({ name: 'from-app', vcenterHost: 'vc.example', username: 'svc', datacenter: 'DC1', password: 'pw-from-app' });
    await app.close();

    const added = await addCredential('from-cli', passphrase);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);

    const later = appCore(false);
    try {
      for (const name of ['from-app', 'from-cli']) {
        expect(later.secrets.get(later.credentials.repo.require(name).secretRef)).toBe(`pw-${name}`);
      }
      // Removed through the app: gone from the one store.
      const ref = later.credentials.repo.require('from-cli').secretRef;
      later.credentials.remove('from-cli');
      expect(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')).not.toContain(ref);
    } finally {
      await later.close();
    }
    if (process.platform !== 'win32') {
      for (const f of fs.readdirSync(dataDir)) {
        const st = fs.statSync(path.join(dataDir, f));
        expect({ f, mode: (st.mode & 0o777).toString(8) }).toEqual({ f, mode: st.isDirectory() ? '700' : '600' });
      }
      expect((fs.statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
    }
  });

  it('a store only the keychain opens: mkc, with or without a passphrase, says why and writes nothing anywhere', async () => {
    const app = appCore(false);
    app.credentials.add({ name: 'from-app', vcenterHost: 'vc.example', username: 'svc', datacenter: 'DC1', password: 'pw-from-app' });
    await app.close();
    const before = fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8');
    const files = fs.readdirSync(dataDir).sort();

    const withKey = await addCredential('from-cli', passphrase);
    expect(withKey.code).toBe(1);
    expect(withKey.stderr).toMatch(/cannot be opened by this process: it is locked by the desktop keychain \(Electron safeStorage\), which only the desktop app can use/);
    expect(withKey.stderr).toMatch(/start the desktop app once with MKC_SECRET_KEY or MKC_SECRET_KEY_FILE set/);

    const withoutKey = await addCredential('from-cli');
    expect(withoutKey.code).toBe(1);
    expect(withoutKey.stderr).toMatch(/only the desktop app can use/);

    expect(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')).toBe(before);
    expect(fs.readdirSync(dataDir).sort()).toEqual(files);
    const app2 = appCore(false);
    try {
      expect(app2.credentials.list().map((c) => c.name)).toEqual(['from-app']);
    } finally {
      await app2.close();
    }
  });

  it('mkc with no passphrase on a new data directory refuses to store and creates no secret file', async () => {
    const r = await addCredential('first');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Passwords and keys cannot be stored: No secret key is configured.*MKC_SECRET_KEY/);
    expect(fs.readdirSync(dataDir).filter((f) => f.startsWith('secrets'))).toEqual([]);
  });
});
