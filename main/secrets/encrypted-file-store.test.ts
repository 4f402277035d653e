import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { EncryptedFileSecretStore, type SecretKeySource } from './encrypted-file-store';

const key = (passphrase: string): SecretKeySource => ({ kind: 'passphrase', passphrase, origin: 'MKC_SECRET_KEY' });
const missing: SecretKeySource = { kind: 'missing', reason: 'No secret key is configured. Set MKC_SECRET_KEY.' };
// A low scrypt cost keeps the suite fast; one test below uses the default cost.
const fast = { scryptN: 1 << 10 };

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('EncryptedFileSecretStore', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-enc-'));
    file = path.join(dir, 'secrets.enc.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips with the default scrypt cost and a fresh instance', () => {
    const pass = randomBytes(12).toString('hex');
    const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
    const store = new EncryptedFileSecretStore(file, key(pass));
    expect(store.unavailableReason()).toBeNull();
    store.set('credential:c1:password', secret);
    expect(new EncryptedFileSecretStore(file, key(pass)).get('credential:c1:password')).toBe(secret);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.kdf).toMatchObject({ name: 'scrypt', N: 1 << 15, r: 8, p: 1 });
    expect(Buffer.from(doc.kdf.salt, 'base64')).toHaveLength(16);
  });

  it('keeps no plaintext (secret or passphrase) in the file, and uses a fresh IV per value', () => {
    const pass = `pass-${randomBytes(8).toString('hex')}`;
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const store = new EncryptedFileSecretStore(file, key(pass), fast);
    store.set('a', secret);
    store.set('b', secret);
    const text = fs.readFileSync(file, 'utf8');
    for (const needle of [secret, pass, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) {
      expect(text).not.toContain(needle);
    }
    const doc = JSON.parse(text);
    const [ivA] = doc.secrets.a.split('.');
    const [ivB] = doc.secrets.b.split('.');
    expect(Buffer.from(ivA, 'base64')).toHaveLength(12);
    expect(ivA).not.toBe(ivB);
    expect(doc.secrets.a).not.toBe(doc.secrets.b);
  });

  it('writes mode 0600 atomically', () => {
    const store = new EncryptedFileSecretStore(file, key('k'), fast);
    store.set('a', 'x');
    store.set('b', 'y');
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['secrets.enc.json']);
  });

  it('reports a wrong key as auth on get, set and unavailableReason, and leaves the file untouched', () => {
    new EncryptedFileSecretStore(file, key('right'), fast).set('a', 'x');
    const before = fs.readFileSync(file, 'utf8');
    const wrong = new EncryptedFileSecretStore(file, key('wrong'), fast);
    const e = caught(() => wrong.get('a'));
    expect(e.code).toBe('auth');
    expect(e.message).toMatch(/the secret key does not decrypt the secret store/);
    expect(e.message).not.toContain('wrong');
    expect(caught(() => wrong.set('b', 'y')).code).toBe('auth');
    expect(wrong.unavailableReason()).toMatch(/does not decrypt/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('detects a ciphertext moved to another ref', () => {
    const store = new EncryptedFileSecretStore(file, key('k'), fast);
    store.set('a', 'for-a');
    store.set('b', 'for-b');
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    doc.secrets.b = doc.secrets.a;
    fs.writeFileSync(file, JSON.stringify(doc));
    expect(caught(() => store.get('b')).code).toBe('auth');
    expect(store.get('a')).toBe('for-a');
  });

  it('without a key: explains how to supply one, refuses set and reading existing secrets', () => {
    const none = new EncryptedFileSecretStore(file, missing, fast);
    expect(none.unavailableReason()).toMatch(/MKC_SECRET_KEY/);
    expect(caught(() => none.set('a', 'x')).code).toBe('secret_store_unavailable');
    expect(fs.existsSync(file)).toBe(false);
    expect(none.get('a')).toBeNull();
    new EncryptedFileSecretStore(file, key('k'), fast).set('a', 'x');
    expect(caught(() => none.get('a')).code).toBe('secret_store_unavailable');
  });

  it('deletes (also without the key) and keeps the others', () => {
    const store = new EncryptedFileSecretStore(file, key('k'), fast);
    store.set('a', '1');
    store.set('b', '2');
    new EncryptedFileSecretStore(file, missing).delete('a');
    expect(store.get('a')).toBeNull();
    expect(store.get('b')).toBe('2');
    store.delete('absent');
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).secrets)).toEqual(['b']);
  });

  it('refuses a file that is not an encrypted secret store', () => {
    fs.writeFileSync(file, JSON.stringify({ a: 'plain' }));
    const e = caught(() => new EncryptedFileSecretStore(file, key('k'), fast).get('a'));
    expect(e.code).toBe('secret_store_unavailable');
    expect(e.message).toMatch(/not a MigrateKit encrypted secret store/);
  });

  it('rejects a bad scrypt cost', () => {
    expect(caught(() => new EncryptedFileSecretStore(file, key('k'), { scryptN: 1000 })).code).toBe('validation');
  });
});
