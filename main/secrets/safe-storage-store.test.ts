import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { SafeStorageSecretStore, type SafeStorageLike } from './safe-storage-store';

// Stands in for the OS keychain: real encryption under a per-instance key, so a "keyring reset"
// (a new instance) genuinely cannot decrypt what the old one wrote.
function fakeKeychain(opts: { available?: boolean; backend?: string } = {}): SafeStorageLike & { encryptCalls: number } {
  const key = randomBytes(32);
  const k = {
    encryptCalls: 0,
    isEncryptionAvailable: () => opts.available ?? true,
    getSelectedStorageBackend: () => opts.backend ?? 'gnome_libsecret',
    encryptString(s: string): Buffer {
      k.encryptCalls++;
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([c.update(s, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), data]);
    },
    decryptString(b: Buffer): string {
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
      d.setAuthTag(b.subarray(12, 28));
      return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
    },
  };
  return k;
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof AppError ? e.code : `non-AppError: ${String(e)}`;
  }
  return undefined;
};

describe('SafeStorageSecretStore', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-safe-'));
    file = path.join(dir, 'sub', 'secrets.safestorage.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips secrets across instances and keeps no plaintext in the file', () => {
    const keychain = fakeKeychain();
    const secret = `pw-${randomBytes(8).toString('hex')}`;
    new SafeStorageSecretStore(file, keychain, 'linux').set('appliance:a1:password', secret);
    const reopened = new SafeStorageSecretStore(file, keychain, 'linux');
    expect(reopened.get('appliance:a1:password')).toBe(secret);
    expect(reopened.get('appliance:other')).toBeNull();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret).toString('base64'));
    const json = JSON.parse(text) as Record<string, string>;
    expect(Object.keys(json)).toEqual(['appliance:a1:password']);
    expect(keychain.decryptString(Buffer.from(json['appliance:a1:password']!, 'base64'))).toBe(secret);
  });

  it('writes the file with mode 0600 and leaves no temp files', () => {
    const store = new SafeStorageSecretStore(file, fakeKeychain(), 'linux');
    store.set('a', 'one');
    store.set('b', 'two');
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['secrets.safestorage.json']);
  });

  it('deletes one secret and keeps the others', () => {
    const store = new SafeStorageSecretStore(file, fakeKeychain(), 'darwin');
    store.set('a', 'one');
    store.set('b', 'two');
    store.delete('a');
    store.delete('never-existed');
    expect(store.get('a')).toBeNull();
    expect(store.get('b')).toBe('two');
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')))).toEqual(['b']);
  });

  it('refuses when OS encryption is unavailable', () => {
    const keychain = fakeKeychain({ available: false });
    const store = new SafeStorageSecretStore(file, keychain, 'win32');
    expect(store.unavailableReason()).toMatch(/secret storage is not available/);
    expect(codeOf(() => store.set('a', 'x'))).toBe('secret_store_unavailable');
    expect(keychain.encryptCalls).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses the Linux basic_text backend (obfuscation only)', () => {
    const keychain = fakeKeychain({ backend: 'basic_text' });
    const store = new SafeStorageSecretStore(file, keychain, 'linux');
    expect(store.unavailableReason()).toMatch(/basic_text/);
    expect(codeOf(() => store.set('a', 'x'))).toBe('secret_store_unavailable');
    expect(keychain.encryptCalls).toBe(0);
    // The backend name only matters on Linux.
    expect(new SafeStorageSecretStore(file, keychain, 'darwin').unavailableReason()).toBeNull();
  });

  it('refuses to read an existing secret while unavailable, and reports a keyring reset as auth', () => {
    new SafeStorageSecretStore(file, fakeKeychain(), 'linux').set('a', 'x');
    expect(codeOf(() => new SafeStorageSecretStore(file, fakeKeychain({ backend: 'basic_text' }), 'linux').get('a'))).toBe(
      'secret_store_unavailable',
    );
    expect(codeOf(() => new SafeStorageSecretStore(file, fakeKeychain(), 'linux').get('a'))).toBe('auth');
  });

  it('rejects invalid refs and a damaged file with specific errors', () => {
    const store = new SafeStorageSecretStore(file, fakeKeychain(), 'linux');
    expect(codeOf(() => store.set('', 'x'))).toBe('validation');
    expect(codeOf(() => store.set('has space', 'x'))).toBe('validation');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{not json');
    expect(codeOf(() => store.get('a'))).toBe('secret_store_unavailable');
  });

  it('keeps a ref named __proto__ as data', () => {
    const store = new SafeStorageSecretStore(file, fakeKeychain(), 'linux');
    // The ref alphabet allows it, so it must be stored as a plain key, not change a prototype.
    store.set('__proto__', 'p');
    expect(store.get('__proto__')).toBe('p');
    expect(new SafeStorageSecretStore(file, fakeKeychain(), 'linux').get('other')).toBeNull();
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')))).toEqual(['__proto__']);
  });
});
