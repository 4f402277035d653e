import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
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
const DEFAULT_SCRYPT_N = 1 << 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_CHECK_PLAINTEXT = 'migratekit-console secret store key check';
const KEY_CHECK_AAD = 'mkc:key-check';
// The ref is authenticated with each value, so ciphertexts cannot be swapped between refs.
const aadFor = (ref: string) => `mkc:secret:${ref}`;

interface KdfParams {
  salt: string;
  N: number;
  r: number;
  p: number;
}

interface FileContent {
  kdf: KdfParams;
  check: string;
  secrets: Map<string, string>;
}

function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64')).join('.');
}

/** null when the key or the data does not authenticate. */
function open(key: Buffer, sealed: string, aad: string): string | null {
  const parts = sealed.split('.');
  if (parts.length !== 3) return null;
  const [iv, tag, data] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer];
  if (iv.length !== 12 || tag.length !== 16) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/**
 * Secrets for the headless core (CLI, dev bridge): AES-256-GCM per value with a random 12-byte IV,
 * the key derived with scrypt from a passphrase (MKC_SECRET_KEY or a key file) and a random salt kept
 * in the file header. The file is re-read on every call so several processes see each other's writes.
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
    if (!Number.isInteger(this.scryptN) || this.scryptN < 2 || (this.scryptN & (this.scryptN - 1)) !== 0) {
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
      key = scryptSync(passphrase, Buffer.from(kdf.salt, 'base64'), 32, {
        N: kdf.N,
        r: kdf.r,
        p: kdf.p,
        maxmem: 256 * kdf.N * kdf.r + 1024 * 1024,
      });
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
    const kdf: KdfParams = { salt: randomBytes(16).toString('base64'), N: this.scryptN, r: SCRYPT_R, p: SCRYPT_P };
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
    const kdf = raw.kdf as Partial<KdfParams> & { name?: unknown } | undefined;
    if (
      !kdf || kdf.name !== 'scrypt' || typeof kdf.salt !== 'string' ||
      !Number.isInteger(kdf.N) || !Number.isInteger(kdf.r) || !Number.isInteger(kdf.p) ||
      (kdf.N as number) < 2 || (kdf.N as number) > 1 << 20 || (kdf.r as number) < 1 || (kdf.r as number) > 32 ||
      (kdf.p as number) < 1 || (kdf.p as number) > 16
    ) {
      throw damaged('bad key derivation header');
    }
    if (typeof raw.check !== 'string') throw damaged('no key check');
    return {
      kdf: { salt: kdf.salt, N: kdf.N as number, r: kdf.r as number, p: kdf.p as number },
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
