import type { SecretStoreStatus } from '../../shared/domain';

/** Where secrets live. The database only ever holds the reference (`ref`). */
export interface SecretStore {
  /** Why secrets cannot be stored right now, or null when they can. */
  unavailableReason(): string | null;
  set(ref: string, value: string): void;
  get(ref: string): string | null;
  delete(ref: string): void;
  /** Which store this is and what can open it (Settings); stores for tests may leave it out. */
  describe?(): SecretStoreStatus;
}

/** The status of any store; one without describe() is reported as an in-memory store. */
export function secretStoreStatus(store: SecretStore): SecretStoreStatus {
  if (store.describe) return store.describe();
  const reason = store.unavailableReason();
  return { kind: 'memory', location: null, usable: reason === null, reason, unlockers: [] };
}
