import fs from 'node:fs';
import path from 'node:path';
import { DataKeySecretStore, SECRET_STORE_FILE_NAME } from './data-key-store';
import { EncryptedFileSecretStore, ENCRYPTED_SECRETS_FILE_NAME, type SecretKeySource } from './encrypted-file-store';
import { SAFE_STORAGE_FILE_NAME, SafeStorageSecretStore, type SafeStorageLike } from './safe-storage-store';
import { PassphraseUnlocker, SafeStorageUnlocker, type KeyUnlocker } from './unlockers';

export interface OpenSecretStoreOptions {
  /** Electron's safeStorage in the desktop app; absent in headless processes. */
  safeStorage?: SafeStorageLike;
  platform?: NodeJS.Platform;
  /** The operator's headless passphrase (see secret-store-from-env.ts), or why there is none. */
  passphrase: SecretKeySource;
  /** Asks for the passphrase at a terminal when none is configured (mkc). */
  prompt?: () => string | null;
  /** scrypt cost for new passphrase wrappings; tests lower it. */
  scryptN?: number;
}

export interface OpenedSecretStore {
  store: DataKeySecretStore;
  /** What happened to the stores of earlier versions (for the log); empty when there were none. */
  notes: string[];
}

// A stand-in keychain for a process without one: the earlier app store can still drop refs.
const NO_KEYCHAIN: SafeStorageLike = {
  isEncryptionAvailable: () => false,
  encryptString: () => {
    throw new Error('no keychain in this process');
  },
  decryptString: () => {
    throw new Error('no keychain in this process');
  },
};

/**
 * The secret store of a data directory, `<dataDir>/secrets.json`, opened with every unlocker this
 * process has. Secrets left in the stores of earlier versions (the app's safeStorage file, the CLI's
 * passphrase file) are imported once this process can read them and the new store can be written;
 * the old file is then removed. Until then they stay where they are and delete() clears them there too.
 */
export function openSecretStore(dataDir: string, options: OpenSecretStoreOptions): OpenedSecretStore {
  const unlockers: KeyUnlocker[] = [];
  if (options.safeStorage) unlockers.push(new SafeStorageUnlocker(options.safeStorage, options.platform));
  unlockers.push(new PassphraseUnlocker(options.passphrase, { ...(options.prompt ? { prompt: options.prompt } : {}), ...(options.scryptN ? { scryptN: options.scryptN } : {}) }));

  const legacyApp = new SafeStorageSecretStore(path.join(dataDir, SAFE_STORAGE_FILE_NAME), options.safeStorage ?? NO_KEYCHAIN, options.platform);
  const legacyCli = new EncryptedFileSecretStore(path.join(dataDir, ENCRYPTED_SECRETS_FILE_NAME), options.passphrase);
  const store = new DataKeySecretStore(path.join(dataDir, SECRET_STORE_FILE_NAME), unlockers, { legacy: [legacyApp, legacyCli] });

  const notes: string[] = [];
  // Only the process that holds an old store's key tries it (the app its keychain file, a process
  // with the passphrase the CLI's file), so others are not told about files they could never read.
  const candidates = [
    [SAFE_STORAGE_FILE_NAME, legacyApp, Boolean(options.safeStorage)],
    [ENCRYPTED_SECRETS_FILE_NAME, legacyCli, options.passphrase.kind === 'passphrase'],
  ] as const;
  for (const [file, legacy, canRead] of candidates) {
    const full = path.join(dataDir, file);
    if (!canRead || !fs.existsSync(full)) continue;
    try {
      const entries = legacy.entries();
      const added = entries.size > 0 ? store.importMissing(entries) : 0;
      fs.rmSync(full, { force: true });
      notes.push(`imported ${added} secret(s) from ${full} into ${store.file} and removed the old file`);
    } catch (e) {
      notes.push(`secrets in ${full} were not imported yet: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  try {
    for (const kind of store.enrollAvailable()) {
      notes.push(`added ${kind === 'safe-storage' ? 'the operating system keychain' : 'the passphrase'} as a key of ${store.file}`);
    }
  } catch {
    // Not openable here: unavailableReason() says why whenever a secret is needed.
  }
  return { store, notes };
}
