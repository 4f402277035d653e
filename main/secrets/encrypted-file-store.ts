import { DEFAULT_SCRYPT_N, isPowerOfTwoCost, newScryptParams, open, parseScryptParams, scryptKey, seal, type ScryptParams } from './sealed';
import { AppError } from '../../shared/errors';
import type { SecretStore } from './secret-store';
import { assertValidRef, readJsonObject, stringEntries, writeFileAtomic0600 } from './secret-file';

/** Where the key comes from: a passphrase (and where it was found, for messages), or why there is none. */
export type SecretKeySource =
  | { kind: 'passphrase'; passphrase: string; origin: string }
  | { kind: 'missing'; reason: string };

export interface EncryptedFileStoreOptions {
  /** scrypt cost for newly created files (power of two); existing files keep theirs. */
  scryptN?: number;
}

export const ENCRYPTED_SECRETS_FILE_NAME = 'secrets.enc.json';
const FORMAT = 'mkc-encrypted-secrets';
const VERSION = 1;
const KEY_CHECK_PLAINTEXT = 'migratekit-console secret store key check';
const KEY_CHECK_AAD = 'mkc:key-check';
// The ref is authenticated with each value, so ciphertexts cannot be swapped between refs.
const aadFor = (ref: string) => `mkc:secret:${ref}`;

type KdfParams = ScryptParams;

interface FileContent {
  kdf: KdfParams;
  check: string;
  secrets: Map<string, string>;
}

/**
 * The headless store of earlier versions (CLI, dev bridge): AES-256-GCM per value, the key derived
 * with scrypt from the passphrase. Kept so `openSecretStore` can import its secrets into the one store
 * of the data directory (data-key-store.ts) and then remove the file.
 */
export class EncryptedFileSecretStore implements SecretStore {
  private readonly derived = new Map<string, Buffer>();
  private readonly scryptN: number;

  constructor(
    private readonly file: string,
    private readonly keySource: SecretKeySource,
    options: EncryptedFileStoreOptions = {},
  ) {
    this.scryptN = options.scryptN ?? DEFAULT_SCRYPT_N;
    if (!isPowerOfTwoCost(this.scryptN)) {
      throw new AppError('validation', `scryptN must be a power of two greater than 1, got ${this.scryptN}`);
    }
  }

  unavailableReason(): string | null {
    if (this.keySource.kind === 'missing') return this.keySource.reason;
    try {
      const content = this.load();
      if (content) this.verifiedKey(content);
      return null;
    } catch (e) {
      if (e instanceof AppError) return e.message;
      throw e;
    }
  }

  set(ref: string, value: string): void {
    assertValidRef(ref);
    if (typeof value !== 'string') throw new AppError('validation', `The secret for ${ref} must be a string`);
    const passphrase = this.requirePassphrase();
    const content = this.load() ?? this.create(passphrase);
    const key = this.verifiedKey(content);
    content.secrets.set(ref, seal(key, value, aadFor(ref)));
    this.save(content);
  }

  get(ref: string): string | null {
    assertValidRef(ref);
    const content = this.load();
    const sealed = content?.secrets.get(ref);
    if (!content || sealed === undefined) return null;
    this.requirePassphrase();
    const value = open(this.verifiedKey(content), sealed, aadFor(ref));
    if (value === null) {
      throw new AppError('auth', `The stored secret ${ref} in ${this.file} is damaged or was moved from another entry; enter it again`);
    }
    return value;
  }

  /** Every secret, decrypted (for the import into the data-key store); throws when the key is wrong. */
  entries(): Map<string, string> {
    const out = new Map<string, string>();
    const content = this.load();
    if (!content) return out;
    for (const ref of content.secrets.keys()) {
      const value = this.get(ref);
      if (value !== null) out.set(ref, value);
    }
    return out;
  }

  /** Deleting needs no key, so stale entries can be removed even without it. */
  delete(ref: string): void {
    assertValidRef(ref);
    const content = this.load();
    if (!content || !content.secrets.delete(ref)) return;
    this.save(content);
  }

  private requirePassphrase(): string {
    if (this.keySource.kind === 'missing') throw new AppError('secret_store_unavailable', this.keySource.reason);
    return this.keySource.passphrase;
  }

  private deriveKey(passphrase: string, kdf: KdfParams): Buffer {
    const id = `${kdf.salt}:${kdf.N}:${kdf.r}:${kdf.p}`;
    let key = this.derived.get(id);
    if (!key) {
      key = scryptKey(passphrase, kdf);
      this.derived.set(id, key);
    }
    return key;
  }

  private verifiedKey(content: FileContent): Buffer {
    const passphrase = this.requirePassphrase();
    const key = this.deriveKey(passphrase, content.kdf);
    if (open(key, content.check, KEY_CHECK_AAD) !== KEY_CHECK_PLAINTEXT) {
      const origin = this.keySource.kind === 'passphrase' ? this.keySource.origin : 'the environment';
      throw new AppError(
        'auth',
        `the secret key does not decrypt the secret store ${this.file} (key taken from ${origin}); supply the key the store was created with`,
      );
    }
    return key;
  }

  private create(passphrase: string): FileContent {
    const kdf: KdfParams = newScryptParams(this.scryptN);
    const key = this.deriveKey(passphrase, kdf);
    return { kdf, check: seal(key, KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD), secrets: new Map() };
  }

  private load(): FileContent | null {
    const raw = readJsonObject(this.file);
    if (raw === null) return null;
    const damaged = (what: string) =>
      new AppError('secret_store_unavailable', `The secret store ${this.file} is not a MigrateKit encrypted secret store (${what})`);
    if (raw.format !== FORMAT) throw damaged('unknown format');
    if (raw.version !== VERSION) throw damaged(`unsupported version ${JSON.stringify(raw.version)}`);
    const kdf = parseScryptParams(raw.kdf);
    if (!kdf) throw damaged('bad key derivation header');
    if (typeof raw.check !== 'string') throw damaged('no key check');
    return {
      kdf,
      check: raw.check,
      secrets: stringEntries(raw.secrets, this.file),
    };
  }

  private save(content: FileContent): void {
    const doc = {
      format: FORMAT,
      version: VERSION,
      kdf: { name: 'scrypt', ...content.kdf },
      check: content.check,
      secrets: Object.fromEntries(content.secrets),
    };
    writeFileAtomic0600(this.file, JSON.stringify(doc, null, 2) + '\n');
  }
}
