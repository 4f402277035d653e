import { AppError } from '../../shared/errors';
import type { SecretStore } from './secret-store';
import { assertValidRef, readJsonObject, stringEntries, writeFileAtomic0600 } from './secret-file';

/** The part of Electron's `safeStorage` this store needs; passed in so the store runs without Electron. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only, and only meaningful after the app is ready. */
  getSelectedStorageBackend?(): string;
}

export const SAFE_STORAGE_FILE_NAME = 'secrets.safestorage.json';

/**
 * The desktop app's store of earlier versions: each secret encrypted by the operating system's
 * keychain through Electron's safeStorage, `{ref: base64 ciphertext}` in a 0600 file. Kept so
 * `openSecretStore` can import its secrets into the one store of the data directory.
 */
export class SafeStorageSecretStore implements SecretStore {
  constructor(
    private readonly file: string,
    private readonly safeStorage: SafeStorageLike,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  unavailableReason(): string | null {
    if (!this.safeStorage.isEncryptionAvailable()) {
      return 'The operating system secret storage is not available, so passwords and keys cannot be stored safely. ' +
        (this.platform === 'linux'
          ? 'Install and unlock a keyring (GNOME Keyring / libsecret or KWallet) and restart the console.'
          : 'Sign in to the desktop session normally and restart the console.');
    }
    if (this.platform === 'linux' && this.safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
      // basic_text "encrypts" with a hard-coded key: obfuscation, not protection.
      return 'No desktop keyring was found (Electron fell back to the "basic_text" backend, which only obfuscates). ' +
        'Install and unlock GNOME Keyring (libsecret) or KWallet, or start the console with --password-store=gnome-libsecret ' +
        'or --password-store=kwallet5, then restart it.';
    }
    return null;
  }

  set(ref: string, value: string): void {
    assertValidRef(ref);
    if (typeof value !== 'string') throw new AppError('validation', `The secret for ${ref} must be a string`);
    this.requireAvailable();
    const entries = this.load();
    entries.set(ref, this.safeStorage.encryptString(value).toString('base64'));
    this.save(entries);
  }

  get(ref: string): string | null {
    assertValidRef(ref);
    const stored = this.load().get(ref);
    if (stored === undefined) return null;
    this.requireAvailable();
    try {
      return this.safeStorage.decryptString(Buffer.from(stored, 'base64'));
    } catch {
      throw new AppError(
        'auth',
        `The operating system keyring cannot decrypt the secret ${ref} (the keyring was reset or the data directory was copied from another user or machine); enter it again`,
      );
    }
  }

  /** Every secret, decrypted (for the import into the data-key store); throws when one cannot be. */
  entries(): Map<string, string> {
    const out = new Map<string, string>();
    for (const ref of this.load().keys()) {
      const value = this.get(ref);
      if (value !== null) out.set(ref, value);
    }
    return out;
  }

  /** Deleting needs no key, so it works even while the keyring is unavailable. */
  delete(ref: string): void {
    assertValidRef(ref);
    const entries = this.load();
    if (!entries.delete(ref)) return;
    this.save(entries);
  }

  private requireAvailable(): void {
    const reason = this.unavailableReason();
    if (reason !== null) throw new AppError('secret_store_unavailable', reason);
  }

  private load(): Map<string, string> {
    return stringEntries(readJsonObject(this.file), this.file);
  }

  private save(entries: Map<string, string>): void {
    writeFileAtomic0600(this.file, JSON.stringify(Object.fromEntries(entries), null, 2) + '\n');
  }
}
