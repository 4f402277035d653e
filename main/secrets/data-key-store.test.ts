import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { fakeKeychain, type FakeKeychain } from '../testing/fake-keychain';
import { DataKeySecretStore, SECRET_STORE_FILE_NAME } from './data-key-store';
import type { SecretKeySource } from './encrypted-file-store';
import { PassphraseUnlocker, SafeStorageUnlocker } from './unlockers';

// A low scrypt cost keeps the suite fast; the cost is recorded in the file, so any cost opens it.
const FAST = 1 << 10;
const pass = (passphrase: string): SecretKeySource => ({ kind: 'passphrase', passphrase, origin: 'MKC_SECRET_KEY' });
const noPass: SecretKeySource = { kind: 'missing', reason: 'No secret key is configured. Set MKC_SECRET_KEY or MKC_SECRET_KEY_FILE.' };

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('DataKeySecretStore', () => {
  let dir: string;
  let file: string;
  /** The desktop app: its keychain, and the operator's passphrase when one is set in its environment. */
  const app = (keychain: FakeKeychain, passphrase: SecretKeySource = noPass) =>
    new DataKeySecretStore(file, [new SafeStorageUnlocker(keychain, 'linux'), new PassphraseUnlocker(passphrase, { scryptN: FAST })]);
  /** mkc / the dev bridge: the passphrase only (and maybe a prompt). */
  const headless = (passphrase: SecretKeySource, prompt?: () => string | null) =>
    new DataKeySecretStore(file, [new PassphraseUnlocker(passphrase, { scryptN: FAST, ...(prompt ? { prompt } : {}) })]);
  const doc = () => JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: Record<string, unknown>; secrets: Record<string, string> };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-dks-'));
    file = path.join(dir, SECRET_STORE_FILE_NAME);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the app (keychain + passphrase) and a headless process (passphrase) open the same store, each reading what the other wrote', () => {
    const keychain = fakeKeychain();
    const secret = `pw-${randomBytes(8).toString('hex')}`;
    app(keychain, pass('operator passphrase')).set('appliance:a1:ssh', secret);
    expect(Object.keys(doc().keys).sort()).toEqual(['passphrase', 'safe-storage']);

    const cli = headless(pass('operator passphrase'));
    expect(cli.unavailableReason()).toBeNull();
    expect(cli.get('appliance:a1:ssh')).toBe(secret);
    cli.set('credential:c1', 'from-the-cli');

    // The app later runs without the passphrase in its environment: the keychain alone opens it.
    const appAlone = app(keychain);
    expect(appAlone.get('credential:c1')).toBe('from-the-cli');
    expect(appAlone.get('appliance:a1:ssh')).toBe(secret);
  });

  it('a store created headless is opened by the app once it is started with the passphrase, which adds the keychain', () => {
    const keychain = fakeKeychain();
    headless(pass('p1')).set('cloudstack-api-key', 'AK');
    expect(Object.keys(doc().keys)).toEqual(['passphrase']);

    const appNoPass = app(keychain);
    const reason = appNoPass.unavailableReason();
    expect(reason).toMatch(/locked by a passphrase \(MKC_SECRET_KEY \/ MKC_SECRET_KEY_FILE\), but No secret key is configured/);
    expect(reason).toMatch(/Start the console once with MKC_SECRET_KEY/);
    const before = fs.readFileSync(file, 'utf8');
    expect(caught(() => appNoPass.set('x', 'y')).code).toBe('secret_store_unavailable');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);

    expect(app(keychain, pass('p1')).get('cloudstack-api-key')).toBe('AK');
    expect(Object.keys(doc().keys).sort()).toEqual(['passphrase', 'safe-storage']);
    expect(app(keychain).get('cloudstack-api-key')).toBe('AK');
  });

  it('a store the app created with its keychain only: a headless process says how to add a passphrase and writes nothing anywhere', () => {
    const keychain = fakeKeychain();
    app(keychain).set('a', 'secret-a');
    expect(Object.keys(doc().keys)).toEqual(['safe-storage']);
    const before = fs.readFileSync(file, 'utf8');

    const cli = headless(pass('some passphrase'));
    const reason = cli.unavailableReason();
    expect(reason).toContain(file);
    expect(reason).toMatch(/locked by the desktop keychain \(Electron safeStorage\), which only the desktop app can use/);
    expect(reason).toMatch(/start the desktop app once with MKC_SECRET_KEY or MKC_SECRET_KEY_FILE set/);
    const e = caught(() => cli.set('b', 'value-b'));
    expect(e.code).toBe('secret_store_unavailable');
    expect(e.message).toBe(reason);
    expect(caught(() => cli.get('a')).code).toBe('secret_store_unavailable');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(fs.readdirSync(dir)).toEqual([SECRET_STORE_FILE_NAME]);

    // The operator follows the hint: the app started with the passphrase adds it.
    expect(app(keychain, pass('some passphrase')).get('a')).toBe('secret-a');
    expect(headless(pass('some passphrase')).get('a')).toBe('secret-a');
  });

  it('a process with no unlocker at all refuses set with the reason and creates no file', () => {
    const cli = headless(noPass);
    expect(cli.unavailableReason()).toMatch(/Passwords and keys cannot be stored: No secret key is configured/);
    expect(caught(() => cli.set('a', 'x')).code).toBe('secret_store_unavailable');
    expect(cli.get('a')).toBeNull();
    const locked = app(fakeKeychain({ available: false }));
    expect(locked.unavailableReason()).toMatch(/keychain is not available.*No secret key is configured/s);
    expect(caught(() => locked.set('a', 'x')).code).toBe('secret_store_unavailable');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses the obfuscating basic_text backend as a keychain', () => {
    const store = app(fakeKeychain({ backend: 'basic_text' }));
    expect(store.unavailableReason()).toMatch(/basic_text/);
    expect(caught(() => store.set('a', 'x')).code).toBe('secret_store_unavailable');
  });

  it('a wrong passphrase is an auth error that names its origin, never its value, and changes nothing', () => {
    headless(pass('right')).set('a', 'x');
    const before = fs.readFileSync(file, 'utf8');
    const wrong = headless(pass('wrong-unique-7f3a'));
    const e = caught(() => wrong.get('a'));
    expect(e.code).toBe('auth');
    expect(e.message).toMatch(/the passphrase from MKC_SECRET_KEY does not open it/);
    expect(e.message).not.toContain('wrong-unique-7f3a');
    expect(caught(() => wrong.set('b', 'y')).code).toBe('auth');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('a reset keychain (new key) cannot open it, but the passphrase still does and the keychain is not replaced silently', () => {
    app(fakeKeychain(), pass('p')).set('a', 'x');
    const resetKeychain = fakeKeychain();
    const e = caught(() => app(resetKeychain).get('a'));
    expect(e.code).toBe('auth');
    expect(e.message).toMatch(/keychain does not open it \(the keyring was reset/);
    expect(app(resetKeychain, pass('p')).get('a')).toBe('x');
  });

  it('a prompted passphrase opens an existing store once, but never creates one', () => {
    let asked = 0;
    const prompt = () => {
      asked++;
      return 'typed';
    };
    const creating = headless(noPass, prompt);
    expect(caught(() => creating.set('a', 'x')).code).toBe('secret_store_unavailable');
    expect(asked).toBe(0);
    headless(pass('typed')).set('a', 'x');
    const prompted = headless(noPass, prompt);
    expect(prompted.get('a')).toBe('x');
    prompted.set('b', 'y');
    expect(prompted.get('b')).toBe('y');
    expect(asked).toBe(1);
    expect(caught(() => headless(noPass, () => 'mistyped').get('a')).code).toBe('auth');
  });

  it('keeps no plaintext (secret, passphrase or data key) in the file, one IV per value, mode 0600, no temp files', () => {
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const passphrase = `pass-${randomBytes(8).toString('hex')}`;
    const store = app(fakeKeychain(), pass(passphrase));
    store.set('a', secret);
    store.set('b', secret);
    const text = fs.readFileSync(file, 'utf8');
    for (const needle of [secret, passphrase, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) {
      expect(text).not.toContain(needle);
    }
    const d = doc();
    expect(d.secrets.a).not.toBe(d.secrets.b);
    expect(d.secrets.a!.split('.')[0]).not.toBe(d.secrets.b!.split('.')[0]);
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual([SECRET_STORE_FILE_NAME]);
  });

  it('detects a ciphertext moved to another ref', () => {
    const store = headless(pass('k'));
    store.set('a', 'for-a');
    store.set('b', 'for-b');
    const d = JSON.parse(fs.readFileSync(file, 'utf8'));
    d.secrets.b = d.secrets.a;
    fs.writeFileSync(file, JSON.stringify(d));
    expect(caught(() => store.get('b')).code).toBe('auth');
    expect(store.get('a')).toBe('for-a');
  });

  it('a wrapped key from another store (same passphrase) is refused by the key check', () => {
    headless(pass('same')).set('a', 'x');
    const other = path.join(dir, 'other.json');
    new DataKeySecretStore(other, [new PassphraseUnlocker(pass('same'), { scryptN: FAST })]).set('z', 'z');
    const d = JSON.parse(fs.readFileSync(file, 'utf8'));
    d.keys.passphrase = JSON.parse(fs.readFileSync(other, 'utf8')).keys.passphrase;
    fs.writeFileSync(file, JSON.stringify(d));
    expect(caught(() => headless(pass('same')).get('a')).code).toBe('auth');
  });

  it('deletes without any key and keeps the others', () => {
    const store = headless(pass('k'));
    store.set('a', '1');
    store.set('b', '2');
    headless(noPass).delete('a');
    expect(store.refs()).toEqual(['b']);
    expect(store.get('b')).toBe('2');
    store.delete('absent');
    expect(Object.keys(doc().secrets)).toEqual(['b']);
  });

  it('importMissing adds only what is not there, in one write', () => {
    const store = headless(pass('k'));
    store.set('a', 'new-a');
    expect(store.importMissing(new Map([['a', 'old-a'], ['c', 'old-c']]))).toBe(1);
    expect(store.get('a')).toBe('new-a');
    expect(store.get('c')).toBe('old-c');
  });

  it('refuses a file that is not a secret store', () => {
    fs.writeFileSync(file, JSON.stringify({ a: 'plain' }));
    const e = caught(() => headless(pass('k')).get('a'));
    expect(e.code).toBe('secret_store_unavailable');
    expect(e.message).toMatch(/not a MigrateKit secret store/);
    expect(caught(() => headless(pass('k')).set('a', 'x')).code).toBe('secret_store_unavailable');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ a: 'plain' });
  });

  it('describe() tells Settings which store, which unlockers are available and which are enrolled', () => {
    const keychain = fakeKeychain();
    app(keychain).set('a', 'x');
    expect(app(keychain).describe()).toEqual({
      kind: 'data-key-file',
      location: file,
      usable: true,
      reason: null,
      unlockers: [
        { kind: 'safe-storage', available: true, enrolled: true, detail: 'the operating system keychain (Electron safeStorage)' },
        { kind: 'passphrase', available: false, enrolled: false, detail: noPass.reason },
      ],
    });
    const cli = headless(pass('k')).describe();
    expect(cli.usable).toBe(false);
    expect(cli.reason).toMatch(/only the desktop app can use/);
    expect(cli.unlockers).toEqual([
      { kind: 'safe-storage', available: false, enrolled: true, detail: 'only the desktop app can use the operating system keychain' },
      { kind: 'passphrase', available: true, enrolled: false, detail: 'the passphrase from MKC_SECRET_KEY' },
    ]);
  });
});
