import type { CredentialInput } from '../../shared/contract';
import type { VcenterCredential } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import { newId } from '../base/ids';
import { toPublicCredential, type CredentialRepository } from '../db/repositories/credentials';
import type { SecretStore } from '../secrets/secret-store';

/** vCenter credentials: metadata in the database, the password only in the secret store. */
export class CredentialService {
  constructor(readonly repo: CredentialRepository, private readonly secrets: SecretStore) {}

  list(): VcenterCredential[] {
    return this.repo.list().map(toPublicCredential);
  }

  add(input: CredentialInput): VcenterCredential {
    const reason = this.secrets.unavailableReason();
    if (reason) throw new AppError('secret_store_unavailable', reason);
    if (this.repo.get(input.name)) throw new AppError('conflict', `A credential named ${input.name} already exists`);
    const secretRef = newId('secret-vcenter');
    this.secrets.set(secretRef, input.password);
    try {
      return toPublicCredential(this.repo.add({ ...input, secretRef }));
    } catch (e) {
      this.secrets.delete(secretRef);
      throw e;
    }
  }

  remove(id: string): void {
    const c = this.repo.require(id);
    this.repo.remove(c.id);
    this.secrets.delete(c.secretRef);
  }
}
