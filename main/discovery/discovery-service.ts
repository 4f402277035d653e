import type { AddContextsResult, DiscoveredVm, DiscoveryResult } from '../../shared/discovery';
import { AppError } from '../../shared/errors';
import type { ApplianceService } from '../appliances/appliance-service';
import { newId } from '../base/ids';
import type { CredentialRepository } from '../db/repositories/credentials';
import type { VmContextRepository } from '../db/repositories/vm-contexts';
import type { EventBus } from '../ipc/event-bus';
import type { AuditLog } from '../logbook/logbook';
import type { SecretStore } from '../secrets/secret-store';

interface CachedDiscovery {
  applianceId: string;
  credentialId: string;
  vcenterHost: string;
  vms: Map<string, DiscoveredVm>;
  at: number;
}

export interface DiscoveryOptions {
  /** A filtered discovery is one VM or a few; a full inventory may take the VMA up to 60 s. */
  filteredTimeoutMs: number;
  fullTimeoutMs: number;
  cacheTtlMs: number;
  maxCached: number;
}

const DEFAULTS: DiscoveryOptions = { filteredTimeoutMs: 15_000, fullTimeoutMs: 90_000, cacheTtlMs: 30 * 60_000, maxCached: 8 };

/**
 * Runs discovery through a VMA, marks which VMs are already managed, refreshes the stored specs of
 * those, and turns a selection of the result into VM contexts.
 */
export class DiscoveryService {
  private readonly cache = new Map<string, CachedDiscovery>();
  private readonly opts: DiscoveryOptions;

  constructor(
    private readonly appliances: ApplianceService,
    private readonly credentials: CredentialRepository,
    private readonly secrets: SecretStore,
    private readonly contexts: VmContextRepository,
    private readonly bus: EventBus,
    options: Partial<DiscoveryOptions> = {},
    private readonly audit: AuditLog | null = null,
  ) {
    this.opts = { ...DEFAULTS, ...options };
  }

  /** Every run is logged, with what it found or why it failed. */
  async run(applianceId: string, credentialId: string, filter?: string): Promise<DiscoveryResult> {
    const appliance = this.appliances.record(applianceId);
    const cred = this.credentials.require(credentialId);
    const trimmed = filter?.trim() || undefined;
    const title = `Discovery on ${cred.vcenterHost} through ${appliance.name}${trimmed ? ` (filter "${trimmed}")` : ''}`;
    try {
      const r = await this.discover(appliance, cred, trimmed);
      const managed = r.vms.filter((v) => v.managedContextId).length;
      this.audit?.record({
        kind: 'discovery',
        title,
        message: `${r.vms.length} VM(s) found in ${(r.durationMs / 1000).toFixed(1)} s (${managed} already managed, specs refreshed)`,
        details: { discoveryId: r.discoveryId, datacenter: r.datacenter },
      });
      return r;
    } catch (e) {
      this.audit?.record({ kind: 'discovery', title, error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  private async discover(
    appliance: ReturnType<ApplianceService['record']>,
    cred: ReturnType<CredentialRepository['require']>,
    trimmed: string | undefined,
  ): Promise<DiscoveryResult> {
    const password = this.secrets.get(cred.secretRef);
    if (!password) throw new AppError('auth', `The password of vCenter credential ${cred.name} is missing from the secret store`);
    const started = Date.now();
    const vma = await this.appliances.vma(appliance.id);
    const result = await vma.discover(
      { vcenter: cred.vcenterHost, username: cred.username, password, datacenter: cred.datacenter, ...(trimmed ? { filter: trimmed } : {}) },
      { timeoutMs: trimmed ? this.opts.filteredTimeoutMs : this.opts.fullTimeoutMs },
    );
    const vcenterHost = result.vcenterHost || cred.vcenterHost;
    const managedIds = this.contexts.idsByVmwareId(vcenterHost);
    const refresh: { id: string; vm: DiscoveredVm }[] = [];
    const rows = result.vms.map((vm) => {
      const managedId = managedIds.get(vm.vmwareVmId);
      if (managedId !== undefined) refresh.push({ id: managedId, vm });
      return { ...vm, managedContextId: managedId ?? null };
    });
    const changed = refresh.length ? this.contexts.refreshSpecsOfMany(refresh) : [];
    if (changed.length) this.bus.emit('contexts:changed', { contexts: changed, removedIds: [] });
    const discoveryId = newId('disc');
    this.remember(discoveryId, { applianceId: appliance.id, credentialId: cred.id, vcenterHost, vms: new Map(result.vms.map((v) => [v.vmwareVmId, v])), at: Date.now() });
    return { discoveryId, vcenterHost, datacenter: result.datacenter || cred.datacenter, vms: rows, durationMs: Date.now() - started };
  }

  /** Adds the selected VMs of one discovery; an already managed VM is a conflict, the others still get added. */
  addFromDiscovery(discoveryId: string, vmwareVmIds: readonly string[]): AddContextsResult {
    const d = this.cache.get(discoveryId);
    if (!d || Date.now() - d.at > this.opts.cacheTtlMs) {
      throw new AppError('not_found', 'That discovery result has expired; run discovery again');
    }
    const result: AddContextsResult = { added: [], conflicts: [] };
    const added = [];
    for (const id of new Set(vmwareVmIds)) {
      const vm = d.vms.get(id);
      if (!vm) {
        result.conflicts.push({ vmwareVmId: id, name: id, message: `VM ${id} is not in this discovery result` });
        continue;
      }
      try {
        const ctx = this.contexts.add({ vm, vcenterHost: d.vcenterHost, credentialId: d.credentialId, vmaApplianceId: d.applianceId });
        result.added.push({ contextId: ctx.id, name: ctx.name });
        added.push(ctx);
        this.audit?.record({
          kind: 'inventory',
          title: `${ctx.name} added to management`,
          vmContextId: ctx.id,
          message: `${ctx.name} added to management from ${d.vcenterHost} (${vm.disks.length} disk(s), ${vm.path})`,
        });
      } catch (e) {
        if (e instanceof AppError && e.code === 'conflict') result.conflicts.push({ vmwareVmId: id, name: vm.name, message: e.message });
        else throw e;
      }
    }
    if (added.length) this.bus.emit('contexts:changed', { contexts: added, removedIds: [] });
    return result;
  }

  private remember(id: string, d: CachedDiscovery): void {
    this.cache.set(id, d);
    while (this.cache.size > this.opts.maxCached) this.cache.delete(this.cache.keys().next().value!);
  }
}
