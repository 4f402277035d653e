import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeKeychain } from '../testing/fake-keychain';
import { SECRET_STORE_FILE_NAME } from './data-key-store';
import { ENCRYPTED_SECRETS_FILE_NAME, EncryptedFileSecretStore, type SecretKeySource } from './encrypted-file-store';
import { openSecretStore } from './open-secret-store';
import { SAFE_STORAGE_FILE_NAME, SafeStorageSecretStore } from './safe-storage-store';

const FAST = 1 << 10;
const pass = (passphrase: string): SecretKeySource => ({ kind: 'passphrase', passphrase, origin: 'MKC_SECRET_KEY' });
const noPass: SecretKeySource = { kind: 'missing', reason: 'No secret key is configured. Set MKC_SECRET_KEY.' };

describe('openSecretStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-open-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds the passphrase when the app opens its store with one set, before any secret is read', () => {
    const keychain = fakeKeychain();
    openSecretStore(dir, { safeStorage: keychain, platform: 'linux', passphrase: noPass }).store.set('a', 'x');
    expect(openSecretStore(dir, { passphrase: pass('p') }).store.unavailableReason()).toMatch(/only the desktop app can use/);
    const { notes } = openSecretStore(dir, { safeStorage: keychain, platform: 'linux', passphrase: pass('p'), scryptN: FAST });
    expect(notes).toEqual([`added the passphrase as a key of ${path.join(dir, SECRET_STORE_FILE_NAME)}`]);
    expect(openSecretStore(dir, { passphrase: pass('p') }).store.get('a')).toBe('x');
    expect(openSecretStore(dir, { safeStorage: keychain, platform: 'linux', passphrase: pass('p') }).notes).toEqual([]);
  });

  it('imports both old stores into one (app with keychain + passphrase), removes them, and mkc then reads everything', () => {
    const keychain = fakeKeychain();
    new SafeStorageSecretStore(path.join(dir, SAFE_STORAGE_FILE_NAME), keychain, 'linux').set('appliance:a1', 'from-the-app');
    new EncryptedFileSecretStore(path.join(dir, ENCRYPTED_SECRETS_FILE_NAME), pass('p'), { scryptN: FAST }).set('credential:c1', 'from-mkc');

    const { store, notes } = openSecretStore(dir, { safeStorage: keychain, platform: 'linux', passphrase: pass('p'), scryptN: FAST });
    expect(notes).toEqual([
      `imported 1 secret(s) from ${path.join(dir, SAFE_STORAGE_FILE_NAME)} into ${store.file} and removed the old file`,
      `imported 1 secret(s) from ${path.join(dir, ENCRYPTED_SECRETS_FILE_NAME)} into ${store.file} and removed the old file`,
    ]);
    expect(fs.readdirSync(dir)).toEqual([SECRET_STORE_FILE_NAME]);
    expect(store.get('appliance:a1')).toBe('from-the-app');

    const cli = openSecretStore(dir, { passphrase: pass('p') });
    expect(cli.notes).toEqual([]);
    expect(cli.store.get('appliance:a1')).toBe('from-the-app');
    expect(cli.store.get('credential:c1')).toBe('from-mkc');
  });

  it('mkc alone imports its old file; the app keychain file stays for the app, unmentioned, and delete() clears a ref there too', () => {
    const keychain = fakeKeychain();
    const appFile = path.join(dir, SAFE_STORAGE_FILE_NAME);
    new SafeStorageSecretStore(appFile, keychain, 'linux').set('appliance:gone', 'x');
    new SafeStorageSecretStore(appFile, keychain, 'linux').set('appliance:kept', 'y');
    new EncryptedFileSecretStore(path.join(dir, ENCRYPTED_SECRETS_FILE_NAME), pass('p'), { scryptN: FAST }).set('credential:c1', 'from-mkc');

    const { store, notes } = openSecretStore(dir, { passphrase: pass('p'), scryptN: FAST });
    expect(notes).toHaveLength(1);
    expect(store.get('credential:c1')).toBe('from-mkc');
    expect(fs.existsSync(appFile)).toBe(true);

    store.delete('appliance:gone');
    expect(Object.keys(JSON.parse(fs.readFileSync(appFile, 'utf8')))).toEqual(['appliance:kept']);

    // The app, started with the passphrase, imports the rest into the same store.
    const app = openSecretStore(dir, { safeStorage: keychain, platform: 'linux', passphrase: pass('p'), scryptN: FAST });
    expect(app.store.get('appliance:kept')).toBe('y');
    expect(app.store.get('appliance:gone')).toBeNull();
    expect(fs.existsSync(appFile)).toBe(false);
  });

  it('an old store that cannot be imported yet stays in place and the note says why', () => {
    const keychain = fakeKeychain();
    new EncryptedFileSecretStore(path.join(dir, ENCRYPTED_SECRETS_FILE_NAME), pass('right'), { scryptN: FAST }).set('c', 'v');
    const { notes } = openSecretStore(dir, { safeStorage: keychain, platform: 'linux', passphrase: pass('wrong'), scryptN: FAST });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/were not imported yet: the secret key does not decrypt/);
    expect(fs.existsSync(path.join(dir, ENCRYPTED_SECRETS_FILE_NAME))).toBe(true);
    expect(fs.existsSync(path.join(dir, SECRET_STORE_FILE_NAME))).toBe(false);
  });

  it('without any unlocker nothing is created and old files are not touched', () => {
    new EncryptedFileSecretStore(path.join(dir, ENCRYPTED_SECRETS_FILE_NAME), pass('p'), { scryptN: FAST }).set('c', 'v');
    const before = fs.readFileSync(path.join(dir, ENCRYPTED_SECRETS_FILE_NAME), 'utf8');
    const { store, notes } = openSecretStore(dir, { passphrase: noPass });
    expect(notes).toEqual([]);
    expect(store.unavailableReason()).toMatch(/No secret key is configured/);
    expect(fs.readdirSync(dir)).toEqual([ENCRYPTED_SECRETS_FILE_NAME]);
    expect(fs.readFileSync(path.join(dir, ENCRYPTED_SECRETS_FILE_NAME), 'utf8')).toBe(before);
  });
});
