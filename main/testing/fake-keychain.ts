import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SafeStorageLike } from '../secrets/safe-storage-store';

export type FakeKeychain = SafeStorageLike & { available: boolean; backend: string };

/**
 * Stands in for Electron's safeStorage: real AES-256-GCM under a per-instance key, so a "keyring
 * reset" (a new instance) genuinely cannot decrypt what the old one wrote, and a "locked keyring"
 * (available = false) can be simulated.
 */
export function fakeKeychain(opts: { available?: boolean; backend?: string } = {}): FakeKeychain {
  const key = randomBytes(32);
  const k: FakeKeychain = {
    available: opts.available ?? true,
    backend: opts.backend ?? 'gnome_libsecret',
    isEncryptionAvailable: () => k.available,
    getSelectedStorageBackend: () => k.backend,
    encryptString(s: string): Buffer {
      if (!k.available) throw new Error('Encryption is not available');
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([c.update(s, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), data]);
    },
    decryptString(b: Buffer): string {
      if (!k.available) throw new Error('Decryption is not available');
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
      d.setAuthTag(b.subarray(12, 28));
      return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
    },
  };
  return k;
}
