import type { Db } from '../database';
import type { VcenterCredential } from '../../../shared/domain';
import { AppError } from '../../../shared/errors';
import { isoNow, newId } from '../../base/ids';

type Row = Record<string, unknown>;
export interface CredentialRecord extends VcenterCredential {
  secretRef: string;
}
const map = (r: Row): CredentialRecord => ({
  id: String(r.id),
  name: String(r.name),
  vcenterHost: String(r.vcenter_host),
  username: String(r.username),
  datacenter: String(r.datacenter),
  hasSecret: true,
  secretRef: String(r.secret_ref),
  createdAt: String(r.created_at),
  updatedAt: String(r.updated_at),
});
export const toPublicCredential = ({ secretRef: _s, ...c }: CredentialRecord): VcenterCredential => c;

/** vCenter credentials: the row holds a secret reference, the password lives in the secret store. */
export class CredentialRepository {
  constructor(private readonly db: Db) {}

  list(): CredentialRecord[] {
    return (this.db.prepare(`SELECT * FROM vcenter_credentials ORDER BY name`).all() as Row[]).map(map);
  }

  get(id: string): CredentialRecord | null {
    const r = (this.db.prepare(`SELECT * FROM vcenter_credentials WHERE id = ? OR name = ?`).get(id, id) as Row | undefined);
    return r ? map(r) : null;
  }

  require(id: string): CredentialRecord {
    const c = this.get(id);
    if (!c) throw new AppError('not_found', `No vCenter credential with id or name ${id}`, { id });
    return c;
  }

  add(input: { name: string; vcenterHost: string; username: string; datacenter: string; secretRef: string }): CredentialRecord {
    if (this.get(input.name)) throw new AppError('conflict', `A credential named ${input.name} already exists`);
    const id = newId('cred');
    const now = isoNow();
    this.db
      .prepare(`INSERT INTO vcenter_credentials (id, name, vcenter_host, username, datacenter, secret_ref, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)`)
      .run(id, input.name, input.vcenterHost, input.username, input.datacenter, input.secretRef, now, now);
    return this.require(id);
  }

  update(id: string, fields: { name?: string; vcenterHost?: string; username?: string; datacenter?: string }): CredentialRecord {
    const c = this.require(id);
    if (fields.name && fields.name !== c.name && this.get(fields.name)) throw new AppError('conflict', `A credential named ${fields.name} already exists`);
    this.db
      .prepare(`UPDATE vcenter_credentials SET name = ?, vcenter_host = ?, username = ?, datacenter = ?, updated_at = ? WHERE id = ?`)
      .run(fields.name ?? c.name, fields.vcenterHost ?? c.vcenterHost, fields.username ?? c.username, fields.datacenter ?? c.datacenter, isoNow(), c.id);
    return this.require(c.id);
  }

  remove(id: string): void {
    this.db.prepare(`DELETE FROM vcenter_credentials WHERE id = ?`).run(id);
  }
}
