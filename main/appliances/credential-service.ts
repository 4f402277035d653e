import type { CredentialInput } from '../../shared/contract';
import type { VcenterCredential } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import { newId } from '../base/ids';
import { toPublicCredential, type CredentialRepository } from '../db/repositories/credentials';
import type { SecretStore } from '../secrets/secret-store';
import type { AuditLog } from '../logbook/logbook';

/** vCenter credentials: metadata in the database, the password only in the secret store. */
export class CredentialService {
  constructor(
    readonly repo: CredentialRepository,
    private readonly secrets: SecretStore,
    private readonly audit: AuditLog | null = null,
  ) {}

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
      const added = toPublicCredential(this.repo.add({ ...input, secretRef }));
      this.audit?.record({ kind: 'credential', title: `vCenter credential ${added.name} added`, message: `vCenter credential ${added.name} added (${added.username} on ${added.vcenterHost})` });
      return added;
    } catch (e) {
      this.secrets.delete(secretRef);
      throw e;
    }
  }

  remove(id: string): void {
    const c = this.repo.require(id);
    this.repo.remove(c.id);
    this.secrets.delete(c.secretRef);
    this.audit?.record({ kind: 'credential', title: `vCenter credential ${c.name} removed`, message: `vCenter credential ${c.name} removed; its password was deleted from the secret store` });
  }
}
