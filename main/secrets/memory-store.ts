import { AppError } from '../../shared/errors';
import type { SecretStore } from './secret-store';
import { assertValidRef } from './secret-file';

/** For tests: same contract as the real stores, nothing persisted. */
export class InMemorySecretStore implements SecretStore {
  private readonly values = new Map<string, string>();

  constructor(private readonly unavailable: string | null = null) {}

  unavailableReason(): string | null {
    return this.unavailable;
  }

  set(ref: string, value: string): void {
    assertValidRef(ref);
    if (this.unavailable !== null) throw new AppError('secret_store_unavailable', this.unavailable);
    this.values.set(ref, value);
  }

  get(ref: string): string | null {
    assertValidRef(ref);
    if (!this.values.has(ref)) return null;
    if (this.unavailable !== null) throw new AppError('secret_store_unavailable', this.unavailable);
    return this.values.get(ref) ?? null;
  }

  delete(ref: string): void {
    assertValidRef(ref);
    this.values.delete(ref);
  }

  /** Test helper: how many secrets are held. */
  size(): number {
    return this.values.size;
  }
}
