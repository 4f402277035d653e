import type { SecretUnlockerKind } from '../../shared/domain';
import type { SecretKeySource } from './encrypted-file-store';
import type { SafeStorageLike } from './safe-storage-store';
import { DEFAULT_SCRYPT_N, isPowerOfTwoCost, newScryptParams, open, parseScryptParams, scryptKey, seal } from './sealed';
import { AppError } from '../../shared/errors';

/** What a wrapped data key looks like in the store file: a small JSON object each unlocker defines. */
export type WrappedKey = Record<string, unknown>;

/**
 * One way to unwrap the store's random data key. The store tries the ones this process has; each
 * kind may appear once in the file.
 */
export interface KeyUnlocker {
  readonly kind: SecretUnlockerKind;
  /** Why this process cannot use it at all, or null. */
  unavailableReason(): string | null;
  /** Why it cannot wrap the data key now without asking anyone (to create the store or add itself), or null. */
  cannotWrapReason(): string | null;
  wrap(dataKey: Buffer): WrappedKey;
  /** The data key, or null when this unlocker's secret does not open the wrapping. */
  unwrap(wrapped: WrappedKey): Buffer | null;
  /** Where its secret comes from, for messages and Settings; never the secret. */
  describe(): string;
}

const DATA_KEY_BYTES = 32;

function keyFromBase64(text: string | null): Buffer | null {
  if (text === null) return null;
  const key = Buffer.from(text, 'base64');
  return key.length === DATA_KEY_BYTES ? key : null;
}

/** The OS keychain through Electron's safeStorage (the desktop app). */
export class SafeStorageUnlocker implements KeyUnlocker {
  readonly kind = 'safe-storage' as const;

  constructor(
    private readonly safeStorage: SafeStorageLike,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  unavailableReason(): string | null {
    if (!this.safeStorage.isEncryptionAvailable()) {
      return 'the operating system keychain is not available to the console. ' +
        (this.platform === 'linux'
          ? 'Install and unlock a keyring (GNOME Keyring / libsecret or KWallet) and restart the console'
          : 'Sign in to the desktop session normally and restart the console');
    }
    if (this.platform === 'linux' && this.safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
      // basic_text "encrypts" with a hard-coded key: obfuscation, not protection.
      return 'no desktop keyring was found (Electron fell back to the "basic_text" backend, which only obfuscates). ' +
        'Install and unlock GNOME Keyring (libsecret) or KWallet, or start the console with --password-store=gnome-libsecret ' +
        'or --password-store=kwallet5';
    }
    return null;
  }

  cannotWrapReason(): string | null {
    return this.unavailableReason();
  }

  wrap(dataKey: Buffer): WrappedKey {
    return { data: this.safeStorage.encryptString(dataKey.toString('base64')).toString('base64') };
  }

  unwrap(wrapped: WrappedKey): Buffer | null {
    if (typeof wrapped.data !== 'string') return null;
    try {
      return keyFromBase64(this.safeStorage.decryptString(Buffer.from(wrapped.data, 'base64')));
    } catch {
      return null;
    }
  }

  describe(): string {
    return this.unavailableReason() ?? 'the operating system keychain (Electron safeStorage)';
  }
}

export interface PassphraseOptions {
  /** Asks the operator for the passphrase (a terminal prompt); null when nobody can be asked. */
  prompt?: () => string | null;
  /** scrypt cost when wrapping (power of two); tests lower it. */
  scryptN?: number;
}

const PASSPHRASE_AAD = 'mkc:data-key:passphrase';

/**
 * The headless passphrase (MKC_SECRET_KEY / MKC_SECRET_KEY_FILE): a scrypt-derived key wraps the data
 * key. A prompted passphrase only opens an existing wrapping; creating or adding one needs the
 * configured one, so a typo at a prompt can never lock the store.
 */
export class PassphraseUnlocker implements KeyUnlocker {
  readonly kind = 'passphrase' as const;
  private prompted: string | null | undefined;
  private readonly scryptN: number;
  private readonly derived = new Map<string, Buffer>();

  constructor(private readonly source: SecretKeySource, private readonly options: PassphraseOptions = {}) {
    this.scryptN = options.scryptN ?? DEFAULT_SCRYPT_N;
    if (!isPowerOfTwoCost(this.scryptN)) throw new AppError('validation', `scryptN must be a power of two greater than 1, got ${this.scryptN}`);
  }

  unavailableReason(): string | null {
    if (this.source.kind === 'passphrase' || this.options.prompt) return null;
    return this.source.reason;
  }

  cannotWrapReason(): string | null {
    return this.source.kind === 'passphrase' ? null : this.source.reason;
  }

  wrap(dataKey: Buffer): WrappedKey {
    if (this.source.kind !== 'passphrase') throw new AppError('secret_store_unavailable', this.source.reason);
    const kdf = newScryptParams(this.scryptN);
    return { kdf: { name: 'scrypt', ...kdf }, data: seal(this.derive(this.source.passphrase, kdf), dataKey.toString('base64'), PASSPHRASE_AAD) };
  }

  unwrap(wrapped: WrappedKey): Buffer | null {
    const kdf = parseScryptParams(wrapped.kdf);
    if (!kdf || typeof wrapped.data !== 'string') return null;
    const passphrase = this.passphrase();
    if (passphrase === null) return null;
    return keyFromBase64(open(this.derive(passphrase, kdf), wrapped.data, PASSPHRASE_AAD));
  }

  describe(): string {
    if (this.source.kind === 'passphrase') return `the passphrase from ${this.source.origin}`;
    return this.options.prompt ? 'a passphrase asked for at the terminal' : this.source.reason;
  }

  private passphrase(): string | null {
    if (this.source.kind === 'passphrase') return this.source.passphrase;
    if (this.prompted === undefined) this.prompted = this.options.prompt?.() || null;
    return this.prompted;
  }

  private derive(passphrase: string, kdf: { salt: string; N: number; r: number; p: number }): Buffer {
    const id = `${kdf.salt}:${kdf.N}:${kdf.r}:${kdf.p}`;
    let key = this.derived.get(id);
    if (!key) {
      key = scryptKey(passphrase, kdf);
      this.derived.set(id, key);
    }
    return key;
  }
}
