import { randomBytes } from 'node:crypto';
import { SECRET_UNLOCKER_KINDS, type SecretStoreStatus, type SecretUnlockerKind, type SecretUnlockerStatus } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { SecretStore } from './secret-store';
import { assertValidRef, readJsonObject, stringEntries, writeFileAtomic0600 } from './secret-file';
import { SECRET_KEY_ENV, SECRET_KEY_FILE_ENV } from './secret-key-env';
import { open, seal } from './sealed';
import type { KeyUnlocker, WrappedKey } from './unlockers';

export const SECRET_STORE_FILE_NAME = 'secrets.json';
const FORMAT = 'mkc-secret-store';
const VERSION = 1;
const CHECK_PLAINTEXT = 'migratekit-console data key check';
const CHECK_AAD = 'mkc:data-key-check';
// The ref is authenticated with each value, so ciphertexts cannot be swapped between refs.
const aadFor = (ref: string) => `mkc:secret:${ref}`;

const ADD_PASSPHRASE_HINT =
  `To use it from mkc or the dev bridge, start the desktop app once with ${SECRET_KEY_ENV} or ${SECRET_KEY_FILE_ENV} set: ` +
  'it adds that passphrase as a second key of the store.';
const ADD_KEYCHAIN_HINT =
  `Start the console once with ${SECRET_KEY_ENV} or ${SECRET_KEY_FILE_ENV} set to that passphrase: it opens the store and adds the keychain as a second key.`;

interface Doc {
  /** Random per store; a cached data key is only reused for the same store. */
  id: string;
  check: string;
  keys: Map<SecretUnlockerKind, WrappedKey>;
  secrets: Map<string, string>;
}

/** Something that can drop a ref (an earlier store whose secrets were not imported yet). */
export interface SecretDeleter {
  delete(ref: string): void;
}

export interface DataKeyStoreOptions {
  /** Earlier stores: delete() removes the ref there too, so removing an appliance never leaves its secret behind. */
  legacy?: readonly SecretDeleter[];
}

/**
 * The one secret store of a data directory: every secret sealed with AES-256-GCM under a random data
 * key, and the data key wrapped by each unlocker that was available when it was added (the OS keychain
 * of the desktop app, the operator's headless passphrase). Any process holding one of them opens the
 * same file; one that holds none says why and writes nothing. The file is re-read on every call so
 * several processes see each other's writes.
 */
export class DataKeySecretStore implements SecretStore {
  private cached: { id: string; key: Buffer } | null = null;

  constructor(
    readonly file: string,
    private readonly unlockers: readonly KeyUnlocker[],
    private readonly options: DataKeyStoreOptions = {},
  ) {}

  unavailableReason(): string | null {
    try {
      const doc = this.load();
      if (doc) this.dataKey(doc);
      else this.wrappers();
      return null;
    } catch (e) {
      if (e instanceof AppError) return e.message;
      throw e;
    }
  }

  set(ref: string, value: string): void {
    assertValidRef(ref);
    if (typeof value !== 'string') throw new AppError('validation', `The secret for ${ref} must be a string`);
    const doc = this.load() ?? this.create();
    const key = this.unlock(doc);
    doc.secrets.set(ref, seal(key, value, aadFor(ref)));
    this.save(doc);
  }

  get(ref: string): string | null {
    assertValidRef(ref);
    const doc = this.load();
    const sealed = doc?.secrets.get(ref);
    if (!doc || sealed === undefined) return null;
    const enrolledBefore = doc.keys.size;
    const key = this.unlock(doc);
    if (doc.keys.size !== enrolledBefore) this.save(doc);
    const value = open(key, sealed, aadFor(ref));
    if (value === null) {
      throw new AppError('auth', `The stored secret ${ref} in ${this.file} is damaged or was moved from another entry; enter it again`);
    }
    return value;
  }

  /** Deleting needs no key, so a secret is removed even by a process that cannot open the store. */
  delete(ref: string): void {
    assertValidRef(ref);
    const doc = this.load();
    if (doc && doc.secrets.delete(ref)) this.save(doc);
    for (const legacy of this.options.legacy ?? []) {
      try {
        legacy.delete(ref);
      } catch {
        // An old store that cannot even be read holds nothing anyone can recover.
      }
    }
  }

  /**
   * Adds every unlocker this process can wrap with that the existing store lacks (the app started
   * with the passphrase adds it; later mkc opens the store with it). Returns the kinds added; nothing
   * happens when the store does not exist yet or cannot be opened here.
   */
  enrollAvailable(): SecretUnlockerKind[] {
    const doc = this.load();
    if (!doc) return [];
    const before = new Set(doc.keys.keys());
    this.unlock(doc);
    const added = [...doc.keys.keys()].filter((k) => !before.has(k));
    if (added.length > 0) this.save(doc);
    return added;
  }

  /** The refs held, without opening anything. */
  refs(): string[] {
    return [...(this.load()?.secrets.keys() ?? [])];
  }

  /** Adds the entries this store does not have yet in one write; returns how many were added. */
  importMissing(entries: ReadonlyMap<string, string>): number {
    const doc = this.load() ?? this.create();
    const key = this.unlock(doc);
    let added = 0;
    for (const [ref, value] of entries) {
      assertValidRef(ref);
      if (doc.secrets.has(ref)) continue;
      doc.secrets.set(ref, seal(key, value, aadFor(ref)));
      added++;
    }
    this.save(doc);
    return added;
  }

  describe(): SecretStoreStatus {
    let doc: Doc | null = null;
    try {
      doc = this.load();
    } catch {
      // unavailableReason() below says what is wrong with the file.
    }
    const reason = this.unavailableReason();
    const unlockers: SecretUnlockerStatus[] = SECRET_UNLOCKER_KINDS.map((kind) => {
      const u = this.unlockers.find((x) => x.kind === kind);
      return {
        kind,
        available: u ? u.unavailableReason() === null : false,
        enrolled: doc?.keys.has(kind) ?? false,
        detail: u ? u.describe() : kind === 'safe-storage' ? 'only the desktop app can use the operating system keychain' : 'no passphrase is configured in this process',
      };
    });
    return { kind: 'data-key-file', location: this.file, usable: reason === null, reason, unlockers };
  }

  /** The data key, after adding every unlocker this process can wrap with that the file lacks. */
  private unlock(doc: Doc): Buffer {
    const key = this.dataKey(doc);
    for (const u of this.unlockers) {
      if (!doc.keys.has(u.kind) && u.cannotWrapReason() === null) doc.keys.set(u.kind, u.wrap(key));
    }
    return key;
  }

  private dataKey(doc: Doc): Buffer {
    if (this.cached?.id === doc.id) return this.cached.key;
    const problems: string[] = [];
    let wrongSecret = false;
    for (const u of this.unlockers) {
      const wrapped = doc.keys.get(u.kind);
      if (!wrapped) continue;
      const why = u.unavailableReason();
      if (why !== null) {
        problems.push(`it is locked by ${label(u.kind)}, but ${why}`);
        continue;
      }
      const key = u.unwrap(wrapped);
      if (key && open(key, doc.check, CHECK_AAD) === CHECK_PLAINTEXT) {
        this.cached = { id: doc.id, key };
        return key;
      }
      wrongSecret = true;
      problems.push(
        u.kind === 'safe-storage'
          ? 'this user\'s keychain does not open it (the keyring was reset, or the data directory comes from another user or machine)'
          : `${u.describe()} does not open it; supply the one the store was created with`,
      );
    }
    const enrolled = [...doc.keys.keys()];
    const foreign = enrolled.filter((k) => !this.unlockers.some((u) => u.kind === k));
    if (foreign.includes('safe-storage')) problems.push(`it is locked by ${label('safe-storage')}, which only the desktop app can use. ${ADD_PASSPHRASE_HINT}`);
    // The app without the passphrase in its environment, over a store mkc created.
    const keychainHere = this.unlockers.some((u) => u.kind === 'safe-storage' && u.unavailableReason() === null);
    if (keychainHere && !doc.keys.has('safe-storage') && doc.keys.has('passphrase')) problems.push(ADD_KEYCHAIN_HINT);
    if (enrolled.length === 0) problems.push('it holds no wrapped key (damaged); restore it from a backup or remove it and enter the secrets again');
    throw new AppError(
      wrongSecret ? 'auth' : 'secret_store_unavailable',
      `The secret store ${this.file} cannot be opened by this process: ${problems.join('; ')}`,
    );
  }

  /** The unlockers that can wrap a new data key, or why there are none. */
  private wrappers(): KeyUnlocker[] {
    const usable = this.unlockers.filter((u) => u.cannotWrapReason() === null);
    if (usable.length === 0) {
      const reasons = this.unlockers.map((u) => u.cannotWrapReason()).filter((r): r is string => r !== null);
      throw new AppError(
        'secret_store_unavailable',
        `Passwords and keys cannot be stored: ${reasons.length ? reasons.join('; ') : 'this process has no way to protect them'}`,
      );
    }
    return usable;
  }

  private create(): Doc {
    const wrappers = this.wrappers();
    const key = randomBytes(32);
    const doc: Doc = {
      id: randomBytes(12).toString('hex'),
      check: seal(key, CHECK_PLAINTEXT, CHECK_AAD),
      keys: new Map(wrappers.map((u) => [u.kind, u.wrap(key)])),
      secrets: new Map(),
    };
    this.cached = { id: doc.id, key };
    return doc;
  }

  private load(): Doc | null {
    const raw = readJsonObject(this.file);
    if (raw === null) return null;
    const damaged = (what: string) =>
      new AppError('secret_store_unavailable', `The secret store ${this.file} is not a MigrateKit secret store (${what}); restore it from a backup or remove it and enter the secrets again`);
    if (raw.format !== FORMAT) throw damaged('unknown format');
    if (raw.version !== VERSION) throw damaged(`unsupported version ${JSON.stringify(raw.version)}`);
    if (typeof raw.id !== 'string' || typeof raw.check !== 'string') throw damaged('no store id or key check');
    const keys = new Map<SecretUnlockerKind, WrappedKey>();
    const rawKeys = raw.keys;
    if (!rawKeys || typeof rawKeys !== 'object' || Array.isArray(rawKeys)) throw damaged('no wrapped keys');
    for (const kind of SECRET_UNLOCKER_KINDS) {
      const w = (rawKeys as Record<string, unknown>)[kind];
      if (w === undefined) continue;
      if (!w || typeof w !== 'object' || Array.isArray(w)) throw damaged(`bad ${kind} key`);
      keys.set(kind, w as WrappedKey);
    }
    return { id: raw.id, check: raw.check, keys, secrets: stringEntries(raw.secrets, this.file) };
  }

  private save(doc: Doc): void {
    const content = {
      format: FORMAT,
      version: VERSION,
      id: doc.id,
      check: doc.check,
      keys: Object.fromEntries(doc.keys),
      secrets: Object.fromEntries(doc.secrets),
    };
    writeFileAtomic0600(this.file, JSON.stringify(content, null, 2) + '\n');
  }
}

function label(kind: SecretUnlockerKind): string {
  return kind === 'safe-storage' ? 'the desktop keychain (Electron safeStorage)' : `a passphrase (${SECRET_KEY_ENV} / ${SECRET_KEY_FILE_ENV})`;
}
