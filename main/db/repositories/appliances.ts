import type { Db } from '../database';
import type { Appliance, ApplianceKind, NbdAccess, SshAuthMethod } from '../../../shared/domain';
import { AppError } from '../../../shared/errors';
import { isoNow, newId } from '../../base/ids';
import { num, parseJson, strOrNull } from './rows';

type Row = Record<string, unknown>;

export interface ApplianceRecord extends Appliance {
  secretRef: string | null;
  settings: Record<string, unknown>;
}

const map = (r: Row): ApplianceRecord => ({
  id: String(r.id),
  kind: r.kind as ApplianceKind,
  name: String(r.name),
  host: String(r.host),
  port: num(r.port),
  username: String(r.username),
  authMethod: r.auth_method as SshAuthMethod,
  hasSecret: r.secret_ref !== null,
  secretRef: strOrNull(r.secret_ref),
  hostKeyFingerprint: strOrNull(r.host_key_fingerprint),
  hostKeyPinnedAt: strOrNull(r.host_key_pinned_at),
  apiPort: num(r.api_port),
  callbackPort: num(r.callback_port),
  nbdHost: strOrNull(r.nbd_host),
  nbdPort: r.nbd_port === null ? null : num(r.nbd_port),
  cloudstackVmId: strOrNull(r.cloudstack_vm_id),
  reportedIdentity: parseJson<Record<string, unknown> | null>(r.reported_identity_json, null),
  identityCheckedAt: strOrNull(r.identity_checked_at),
  settings: parseJson<Record<string, unknown>>(r.settings_json, {}),
  createdAt: String(r.created_at),
  updatedAt: String(r.updated_at),
});

/** The public view: no secret reference, no settings internals. */
export const toPublicAppliance = ({ secretRef: _s, settings, ...a }: ApplianceRecord): Appliance =>
  a.kind === 'oma' ? { ...a, nbdAccess: nbdAccessOf(settings) } : a;

/** Only what an operator must see of the OMA settings: who can reach the replicas over NBD. */
function nbdAccessOf(settings: Record<string, unknown>): NbdAccess {
  const oma = (settings.oma ?? {}) as { nbdListenAddress?: unknown; nbdAllowedClients?: unknown };
  return {
    listenAddress: typeof oma.nbdListenAddress === 'string' ? oma.nbdListenAddress : null,
    allowedClients: Array.isArray(oma.nbdAllowedClients) ? oma.nbdAllowedClients.filter((c): c is string => typeof c === 'string') : [],
  };
}

export interface NewAppliance {
  kind: ApplianceKind;
  name: string;
  host: string;
  port: number;
  username: string;
  authMethod: SshAuthMethod;
  secretRef: string;
  apiPort?: number;
  callbackPort?: number;
  nbdHost?: string | null;
  nbdPort?: number | null;
  cloudstackVmId?: string | null;
  settings?: Record<string, unknown>;
}

export class ApplianceRepository {
  constructor(private readonly db: Db) {}

  list(): ApplianceRecord[] {
    return (this.db.prepare(`SELECT * FROM appliances ORDER BY kind, name`).all() as Row[]).map(map);
  }

  get(id: string): ApplianceRecord | null {
    const r = this.db.prepare(`SELECT * FROM appliances WHERE id = ?`).get(id) as Row | undefined;
    return r ? map(r) : null;
  }

  require(id: string): ApplianceRecord {
    const a = this.get(id) ?? this.findByName(id);
    if (!a) throw new AppError('not_found', `No appliance with id or name ${id}`, { id });
    return a;
  }

  findByName(name: string): ApplianceRecord | null {
    const r = this.db.prepare(`SELECT * FROM appliances WHERE name = ?`).get(name) as Row | undefined;
    return r ? map(r) : null;
  }

  add(input: NewAppliance): ApplianceRecord {
    if (this.findByName(input.name)) throw new AppError('conflict', `An appliance named ${input.name} already exists`);
    const id = newId(input.kind);
    const now = isoNow();
    this.db
      .prepare(
        `INSERT INTO appliances (id, kind, name, host, port, username, auth_method, secret_ref, api_port, callback_port,
           nbd_host, nbd_port, cloudstack_vm_id, settings_json, created_at, updated_at)
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(
        id,
        input.kind,
        input.name,
        input.host,
        input.port,
        input.username,
        input.authMethod,
        input.secretRef,
        input.apiPort ?? 8081,
        input.callbackPort ?? 8082,
        input.nbdHost ?? null,
        input.nbdPort ?? null,
        input.cloudstackVmId ?? null,
        JSON.stringify(input.settings ?? {}),
        now,
        now,
      );
    return this.get(id)!;
  }

  pinHostKey(id: string, fingerprint: string): ApplianceRecord {
    this.db
      .prepare(`UPDATE appliances SET host_key_fingerprint = ?, host_key_pinned_at = ?, updated_at = ? WHERE id = ?`)
      .run(fingerprint, isoNow(), isoNow(), id);
    return this.require(id);
  }

  forgetHostKey(id: string): ApplianceRecord {
    this.db
      .prepare(`UPDATE appliances SET host_key_fingerprint = NULL, host_key_pinned_at = NULL, updated_at = ? WHERE id = ?`)
      .run(isoNow(), id);
    return this.require(id);
  }

  /** Connection fields an operator may correct; host or port moving clears the pinned key (another machine). */
  update(id: string, f: { name?: string; host?: string; port?: number; username?: string }): ApplianceRecord {
    const a = this.require(id);
    const moved = (f.host !== undefined && f.host !== a.host) || (f.port !== undefined && f.port !== a.port);
    this.db
      .prepare(
        `UPDATE appliances SET name = ?, host = ?, port = ?, username = ?, updated_at = ?,
           host_key_fingerprint = CASE WHEN ? THEN NULL ELSE host_key_fingerprint END,
           host_key_pinned_at = CASE WHEN ? THEN NULL ELSE host_key_pinned_at END WHERE id = ?`,
      )
      .run(f.name ?? a.name, f.host ?? a.host, f.port ?? a.port, f.username ?? a.username, isoNow(), moved ? 1 : 0, moved ? 1 : 0, a.id);
    return this.require(a.id);
  }

  recordIdentity(id: string, identity: Record<string, unknown>): void {
    this.db
      .prepare(`UPDATE appliances SET reported_identity_json = ?, identity_checked_at = ?, updated_at = ? WHERE id = ?`)
      .run(JSON.stringify(identity), isoNow(), isoNow(), id);
  }

  setSettings(id: string, settings: Record<string, unknown>): void {
    this.db.prepare(`UPDATE appliances SET settings_json = ?, updated_at = ? WHERE id = ?`).run(JSON.stringify(settings), isoNow(), id);
  }

  remove(id: string): void {
    this.db.prepare(`DELETE FROM appliances WHERE id = ?`).run(id);
  }
}
