/** Where secrets live. The database only ever holds the reference (`ref`). */
export interface SecretStore {
  /** Why secrets cannot be stored right now, or null when they can. */
  unavailableReason(): string | null;
  set(ref: string, value: string): void;
  get(ref: string): string | null;
  delete(ref: string): void;
}
