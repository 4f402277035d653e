import { EncryptedFileSecretStore } from './encrypted-file-store';
import { InMemorySecretStore } from './memory-store';
import { SafeStorageSecretStore } from './safe-storage-store';
import type { SecretStore } from './secret-store';

export interface SecretStoreDescription {
  kind: 'os-keychain' | 'encrypted-file' | 'memory' | 'other';
  label: string;
  problem: string | null;
}

/** What Settings → About says about where passwords and keys are kept. */
export function describeSecretStore(store: SecretStore): SecretStoreDescription {
  const problem = store.unavailableReason();
  if (store instanceof SafeStorageSecretStore) return { kind: 'os-keychain', label: 'Operating system keychain (Electron safeStorage)', problem };
  if (store instanceof EncryptedFileSecretStore) return { kind: 'encrypted-file', label: 'Encrypted file (AES-256-GCM, key from MKC_SECRET_KEY)', problem };
  if (store instanceof InMemorySecretStore) return { kind: 'memory', label: 'In memory only (nothing is kept after exit)', problem };
  return { kind: 'other', label: 'Custom secret store', problem };
}
