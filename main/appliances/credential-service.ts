import type { ConnectionTestResult, CredentialInput, CredentialUpdate } from '../../shared/contract';
import { randomBytes } from 'node:crypto';
import type { ApplianceService } from './appliance-service';
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

  update({ id, password, ...fields }: CredentialUpdate): VcenterCredential {
    const c = this.repo.require(id);
    if (password) {
      const reason = this.secrets.unavailableReason();
      if (reason) throw new AppError('secret_store_unavailable', reason);
    }
    const updated = this.repo.update(c.id, fields);
    if (password) this.secrets.set(c.secretRef, password);
    const changed = (Object.keys(fields) as (keyof typeof fields)[]).filter((k) => fields[k] !== undefined && fields[k] !== c[k]);
    const what = [...changed.map((k) => `${k} ${c[k]} → ${fields[k]}`), ...(password ? ['password replaced'] : [])];
    this.audit?.record({ kind: 'credential', title: `vCenter credential ${updated.name} changed`, message: `vCenter credential ${updated.name} changed: ${what.join('; ') || 'nothing'}` });
    return toPublicCredential(updated);
  }

  /**
   * Logs in to vCenter through a VMA with a discovery that matches no VM (a filter no name contains),
   * so nothing is refreshed or added: only the login, the datacenter and the VMA's reach are tried.
   */
  async test(id: string, appliances: ApplianceService, applianceId?: string): Promise<ConnectionTestResult> {
    const c = this.repo.require(id);
    const vma = applianceId ? appliances.record(applianceId) : appliances.repo.list().find((a) => a.kind === 'vma');
    if (!vma) throw new AppError('validation', 'Add a VMA appliance first: vCenter is reached through it');
    const password = this.secrets.get(c.secretRef);
    let check: ConnectionTestResult['checks'][number];
    if (!password) check = { name: 'vCenter login', ok: false, message: `The password of ${c.name} is missing from the secret store; edit the credential to enter it again` };
    else {
      try {
        const client = await appliances.vma(vma.id);
        await client.discover(
          { vcenter: c.vcenterHost, username: c.username, password, datacenter: c.datacenter, filter: `mkc-login-check-${randomBytes(6).toString('hex')}` },
          { timeoutMs: 15_000 },
        );
        check = { name: 'vCenter login', ok: true, message: `${c.vcenterHost} accepted ${c.username} (datacenter ${c.datacenter}) through ${vma.name}` };
      } catch (e) {
        check = { name: 'vCenter login', ok: false, message: e instanceof Error ? e.message : String(e) };
      }
    }
    this.audit?.record({
      kind: 'credential',
      title: `vCenter credential ${c.name} tested`,
      message: `vCenter credential ${c.name} tested through ${vma.name}: ${check.ok ? 'login accepted' : 'failed'}`,
      ...(check.ok ? {} : { error: check.message }),
    });
    return { ok: check.ok, checks: [check] };
  }

  remove(id: string): void {
    const c = this.repo.require(id);
    this.repo.remove(c.id);
    this.secrets.delete(c.secretRef);
    this.audit?.record({ kind: 'credential', title: `vCenter credential ${c.name} removed`, message: `vCenter credential ${c.name} removed; its password was deleted from the secret store` });
  }
}
