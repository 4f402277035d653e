import type { Db } from '../db/database';
import type { CloudStackConfigInput, CloudStackConfigView } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import { isoNow } from '../base/ids';
import { num, strOrNull } from '../db/repositories/rows';
import type { SecretStore } from '../secrets/secret-store';
import type { AuditLog } from '../logbook/logbook';
import { createCloudStackClient, type CloudStackClient, type CloudStackClientOptions } from '../cloudstack/client';

type Row = Record<string, unknown>;
const ROW_ID = 'default';
const API_KEY_REF = 'cloudstack-api-key';
const SECRET_KEY_REF = 'cloudstack-secret-key';

export type ClientTuning = Omit<CloudStackClientOptions, 'apiUrl' | 'credentials'>;

/**
 * CloudStack configuration: the row holds the URL and the picked ids, the keys live in the secret
 * store. A client is built for each operation and reads the keys on each request (lesson 14).
 */
export class CloudStackSettings {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretStore,
    private readonly tuning: ClientTuning = {},
    private readonly audit: AuditLog | null = null,
  ) {}

  private row(): Row | undefined {
    return this.db.prepare(`SELECT * FROM cloudstack_configs WHERE id = ?`).get(ROW_ID) as Row | undefined;
  }

  view(): CloudStackConfigView {
    const r = this.row();
    return {
      apiUrl: strOrNull(r?.api_url),
      hasKeys: Boolean(r?.api_key_ref && r?.secret_key_ref && this.keyStored(String(r.api_key_ref))),
      zoneId: strOrNull(r?.zone_id),
      diskOfferingId: strOrNull(r?.disk_offering_id),
      serviceOfferingId: strOrNull(r?.service_offering_id),
      templateId: strOrNull(r?.template_id),
      defaultNetworkId: strOrNull(r?.default_network_id),
      omaApplianceId: strOrNull(r?.oma_appliance_id),
      omaVmId: strOrNull(r?.oma_vm_id),
      volumeHeadroomPercent: r ? num(r.volume_headroom_percent) : 5,
    };
  }

  /**
   * Whether the key is in the store. A store this process cannot open still shows the settings (the
   * refs are set); using the keys reports why they cannot be read.
   */
  private keyStored(ref: string): boolean {
    try {
      return this.secrets.get(ref) !== null;
    } catch {
      return true;
    }
  }

  save(input: CloudStackConfigInput): CloudStackConfigView {
    if ((input.apiKey || input.secretKey) && this.secrets.unavailableReason()) {
      throw new AppError('secret_store_unavailable', this.secrets.unavailableReason()!);
    }
    if (Boolean(input.apiKey) !== Boolean(input.secretKey) && !this.row()?.api_key_ref) {
      throw new AppError('validation', 'Give both the API key and the secret key');
    }
    if (input.apiKey) this.secrets.set(API_KEY_REF, input.apiKey);
    if (input.secretKey) this.secrets.set(SECRET_KEY_REF, input.secretKey);
    const now = isoNow();
    const cur = this.view();
    const pick = <K extends keyof CloudStackConfigInput>(k: K, fallback: unknown) => (input[k] === undefined ? fallback : input[k]);
    this.db
      .prepare(
        `INSERT INTO cloudstack_configs (id, api_url, api_key_ref, secret_key_ref, zone_id, disk_offering_id, service_offering_id,
           template_id, default_network_id, oma_appliance_id, oma_vm_id, volume_headroom_percent, created_at, updated_at)
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
         ON CONFLICT(id) DO UPDATE SET api_url = excluded.api_url, api_key_ref = excluded.api_key_ref, secret_key_ref = excluded.secret_key_ref,
           zone_id = excluded.zone_id, disk_offering_id = excluded.disk_offering_id, service_offering_id = excluded.service_offering_id,
           template_id = excluded.template_id, default_network_id = excluded.default_network_id, oma_appliance_id = excluded.oma_appliance_id,
           oma_vm_id = excluded.oma_vm_id, volume_headroom_percent = excluded.volume_headroom_percent, updated_at = excluded.updated_at`,
      )
      .run(
        ROW_ID,
        input.apiUrl,
        input.apiKey || cur.hasKeys ? API_KEY_REF : null,
        input.secretKey || cur.hasKeys ? SECRET_KEY_REF : null,
        pick('zoneId', cur.zoneId),
        pick('diskOfferingId', cur.diskOfferingId),
        pick('serviceOfferingId', cur.serviceOfferingId),
        pick('templateId', cur.templateId),
        pick('defaultNetworkId', cur.defaultNetworkId),
        pick('omaApplianceId', cur.omaApplianceId),
        pick('omaVmId', cur.omaVmId),
        pick('volumeHeadroomPercent', cur.volumeHeadroomPercent),
        now,
        now,
      );
    const next = this.view();
    this.logSave(cur, next, Boolean(input.apiKey || input.secretKey));
    return next;
  }

  /** What changed, field by field; keys are named as replaced, never shown. */
  private logSave(before: CloudStackConfigView, after: CloudStackConfigView, keysReplaced: boolean): void {
    if (!this.audit) return;
    const fields = (Object.keys(after) as (keyof CloudStackConfigView)[]).filter((k) => k !== 'hasKeys' && before[k] !== after[k]);
    const changes = fields.map((k) => `${k} ${before[k] ?? '(none)'} → ${after[k] ?? '(none)'}`);
    if (keysReplaced) changes.push('API keys replaced');
    this.audit.record({
      kind: 'cloudstack',
      title: 'CloudStack configuration saved',
      message: changes.length ? `CloudStack configuration saved: ${changes.join('; ')}` : 'CloudStack configuration saved (no changes)',
    });
  }

  /** A client for one operation; the keys are read from the secret store on every request. */
  client(): CloudStackClient {
    const r = this.row();
    if (!r?.api_url) throw new AppError('validation', 'CloudStack is not configured: set the API URL and keys in Settings (or `mkc cloudstack configure`)');
    return createCloudStackClient({
      ...this.tuning,
      apiUrl: String(r.api_url),
      credentials: () => {
        const apiKey = this.secrets.get(API_KEY_REF);
        const secretKey = this.secrets.get(SECRET_KEY_REF);
        if (!apiKey || !secretKey) throw new AppError('auth', 'CloudStack API keys are missing from the secret store; enter them in Settings');
        return { apiKey, secretKey };
      },
    });
  }
}
