import type { Dispatcher } from 'undici';
import type { Appliance, CallbackForwardState, TunnelState } from '../../shared/domain';
import type { ApplianceInput, ApplianceUpdate } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import type { AppLogger } from '../base/app-log';
import { newId } from '../base/ids';
import { type ApplianceRepository, toPublicAppliance, type ApplianceRecord } from '../db/repositories/appliances';
import type { EventBus } from '../ipc/event-bus';
import type { AuditLog } from '../logbook/logbook';
import type { SecretStore } from '../secrets/secret-store';
import { SshTunnelManager, type RemoteForwardStatus, type SshTunnelOptions, type TunnelStatus } from '../ssh/tunnel-manager';
import { createTunnelDispatcher } from '../ssh/tunnel-dispatcher';
import { serveCallbackApi, type CallbackService } from '../ssh/callback-server';
import type { ChangeIdStore } from '../ssh/callback-api';
import { isSha256Fingerprint } from '../ssh/fingerprint';
import { createVmaClient, type VmaClient } from '../vma/vma-client';
import type { RemoteShell } from '../oma/remote-shell';
import { resolveOmaConfig } from '../oma/oma-config';

interface Link {
  manager: SshTunnelManager;
  dispatcher: Dispatcher | null;
  vma: VmaClient | null;
  callback: CallbackService | null;
  identityRecorded: boolean;
}

export interface ApplianceServiceOptions {
  /** Tunnel tuning (tests shorten keepalive and backoff). */
  tunnel?: Partial<Pick<SshTunnelOptions, 'keepaliveIntervalMs' | 'keepaliveCountMax' | 'readyTimeoutMs' | 'backoff' | 'forwardRetryMs'>>;
  /** How long an operation waits for a tunnel that is (re)connecting. */
  readyWaitMs?: number;
}

const SECRET_KEYS = ['password', 'privateKey', 'passphrase'] as const;

/**
 * Appliances (VMA, OMA) and the one SSH link each: host-key trust, tunnel state pushed to the UI,
 * the VMA API over forwardOut, the change-ID callback API over a remote forward, exec for the OMA.
 */
export class ApplianceService {
  readonly repo: ApplianceRepository;
  private readonly links = new Map<string, Link>();
  private readonly states = new Map<string, TunnelState>();
  private changeIds: ((vmaApplianceId: string) => ChangeIdStore) | null = null;
  /** The last link outcome written to the log per appliance: a reconnect loop with the same reason is one entry. */
  private readonly loggedLink = new Map<string, string>();

  constructor(
    repo: ApplianceRepository,
    private readonly secrets: SecretStore,
    private readonly bus: EventBus,
    private readonly logger: AppLogger,
    private readonly options: ApplianceServiceOptions = {},
    private readonly audit: AuditLog | null = null,
  ) {
    this.repo = repo;
  }

  /** The change-ID channel's store for each VMA, served on that VMA's tunnel once connected. */
  setChangeIdStore(storeFor: (vmaApplianceId: string) => ChangeIdStore): void {
    this.changeIds = storeFor;
  }

  /** This console's callback forward on a VMA right now (null when no link was opened). */
  callbackForward(id: string): RemoteForwardStatus | null {
    return this.links.get(id)?.callback?.forward.status() ?? null;
  }

  list(): Appliance[] {
    return this.repo.list().map(toPublicAppliance);
  }

  add(input: ApplianceInput): Appliance {
    const reason = this.secrets.unavailableReason();
    if (reason) throw new AppError('secret_store_unavailable', reason);
    if (input.kind === 'oma' && (!input.nbdHost || !input.nbdPort)) {
      throw new AppError('validation', 'An OMA appliance needs nbdHost and nbdPort: the NBD server address as the VMA reaches it');
    }
    // Settings that could never start nbdkit (or would serve replicas to anyone) are refused now, not at the first sync.
    if (input.omaSettings) resolveOmaConfig(input.omaSettings);
    const secretRef = newId('secret-appliance');
    const bundle: Record<string, string> = {};
    for (const k of SECRET_KEYS) if (input[k]) bundle[k] = input[k]!;
    this.secrets.set(secretRef, JSON.stringify(bundle));
    try {
      const record = this.repo.add({
        kind: input.kind,
        name: input.name,
        host: input.host,
        port: input.port ?? 22,
        username: input.username,
        authMethod: input.authMethod,
        secretRef,
        ...(input.apiPort !== undefined ? { apiPort: input.apiPort } : {}),
        ...(input.callbackPort !== undefined ? { callbackPort: input.callbackPort } : {}),
        nbdHost: input.nbdHost ?? null,
        nbdPort: input.nbdPort ?? null,
        cloudstackVmId: input.cloudstackVmId ?? null,
        ...(input.omaSettings ? { settings: { oma: input.omaSettings } } : {}),
      });
      this.log(`${kindName(record.kind)} ${record.name} added`, `${kindName(record.kind)} ${record.name} added (${record.username}@${record.host}:${record.port}, ${record.authMethod})`);
      return toPublicAppliance(record);
    } catch (e) {
      this.secrets.delete(secretRef);
      throw e;
    }
  }

  /**
   * Corrects the address or login. The link is closed so the next connect uses the new values; a new
   * host or port unpins the host key (the operator trusts the new machine's key again).
   */
  async update({ id, password, privateKey, ...fields }: ApplianceUpdate): Promise<Appliance> {
    const a = this.repo.require(id);
    if ((password || privateKey) && this.secrets.unavailableReason()) throw new AppError('secret_store_unavailable', this.secrets.unavailableReason()!);
    if (fields.name && fields.name !== a.name && this.repo.findByName(fields.name)) throw new AppError('conflict', `An appliance named ${fields.name} already exists`);
    await this.disconnect(a.id);
    const updated = this.repo.update(a.id, fields);
    if ((password || privateKey) && a.secretRef) {
      const bundle = { ...this.credentials(a.id), ...(password ? { password } : {}), ...(privateKey ? { privateKey } : {}) };
      this.secrets.set(a.secretRef, JSON.stringify(bundle));
    }
    const changed = (Object.keys(fields) as (keyof typeof fields)[]).filter((k) => fields[k] !== undefined && fields[k] !== a[k]);
    const what = [...changed.map((k) => `${k} ${a[k]} → ${fields[k]}`), ...(password || privateKey ? ['SSH secret replaced'] : [])];
    if (a.hostKeyFingerprint && !updated.hostKeyFingerprint) what.push('host key unpinned (new address)');
    this.log(`${kindName(a.kind)} ${updated.name} changed`, `${kindName(a.kind)} ${updated.name} changed: ${what.join('; ') || 'nothing'}`);
    return toPublicAppliance(updated);
  }

  /** Settings that are not secrets (paths and commands on the OMA appliance). */
  setSettings(id: string, settings: Record<string, unknown>): void {
    this.repo.setSettings(this.repo.require(id).id, settings);
  }

  async remove(id: string): Promise<void> {
    const a = this.repo.require(id);
    await this.disconnect(a.id);
    this.repo.remove(a.id);
    if (a.secretRef) this.secrets.delete(a.secretRef);
    this.states.delete(a.id);
    this.bus.emit('tunnels:state', { states: [], removedIds: [a.id] });
    this.loggedLink.delete(a.id);
    this.log(`${kindName(a.kind)} ${a.name} removed`, `${kindName(a.kind)} ${a.name} removed; its SSH secret was deleted from the secret store`);
  }

  tunnelStates(): TunnelState[] {
    return this.repo.list().map((a) => this.states.get(a.id) ?? idle(a.id));
  }

  state(id: string): TunnelState {
    return this.states.get(id) ?? idle(id);
  }

  /** Starts (or keeps) the link; resolves with the state once it is ready or has failed. */
  async connect(id: string, waitMs = this.options.readyWaitMs ?? 20_000): Promise<TunnelState> {
    const a = this.repo.require(id);
    const link = this.linkFor(a);
    link.manager.start();
    try {
      await link.manager.waitUntilReady(waitMs);
    } catch {
      // The state says why (untrusted key, mismatch, auth, backoff); the caller shows it.
    }
    return this.state(a.id);
  }

  async disconnect(id: string): Promise<TunnelState> {
    const a = this.repo.require(id);
    const link = this.links.get(a.id);
    if (link) {
      this.links.delete(a.id);
      await link.callback?.close().catch(() => {});
      await link.dispatcher?.close().catch(() => {});
      await link.manager.stop();
      this.loggedLink.delete(a.id);
      this.log(`Disconnected from ${a.name}`);
    }
    this.setState(idle(a.id));
    return this.state(a.id);
  }

  /**
   * Pins the host key the operator has seen. The fingerprint must be the one the appliance offered
   * (from the UI) or given up front (CLI --trust-host-key), and only when nothing is pinned: a
   * changed key needs forgetHostKey first, an explicit re-trust.
   */
  async trustHostKey(id: string, fingerprint: string): Promise<Appliance> {
    if (!isSha256Fingerprint(fingerprint)) throw new AppError('validation', `"${fingerprint}" is not an OpenSSH SHA256 fingerprint`);
    const a = this.repo.require(id);
    if (a.hostKeyFingerprint && a.hostKeyFingerprint !== fingerprint) {
      throw new AppError('host_key_mismatch', `${a.name} already trusts ${a.hostKeyFingerprint}; forget it first to trust a different key`, {
        expected: a.hostKeyFingerprint,
        offered: fingerprint,
      });
    }
    const offered = this.state(a.id).offeredFingerprint;
    if (offered && offered !== fingerprint) {
      throw new AppError('validation', `${a.name} offered ${offered}, not ${fingerprint}; nothing was trusted`);
    }
    const updated = this.repo.pinHostKey(a.id, fingerprint);
    this.log(`Host key of ${a.name} trusted`, `Host key of ${a.name} trusted: ${fingerprint}`);
    if (this.links.has(a.id)) {
      await this.disconnect(a.id);
      void this.connect(a.id);
    }
    return toPublicAppliance(updated);
  }

  async forgetHostKey(id: string): Promise<Appliance> {
    const a = this.repo.require(id);
    await this.disconnect(a.id);
    const updated = toPublicAppliance(this.repo.forgetHostKey(a.id));
    this.log(`Host key of ${a.name} forgotten`, `Host key of ${a.name} forgotten${a.hostKeyFingerprint ? ` (was ${a.hostKeyFingerprint})` : ''}; the next connect asks for trust again`);
    return updated;
  }

  /** The VMA API client over this appliance's tunnel; connects (and waits) as needed. */
  async vma(id: string): Promise<VmaClient> {
    // A ready link that already has its client was built from the current record: every change to
    // the address, port or login closes the link first (update, remove, trustHostKey). Skipping the
    // record read here matters to the progress poller, which asks for the client once per job poll.
    const live = this.links.get(id);
    if (live?.vma && live.manager.state.state === 'ready') return live.vma;
    const a = this.requireKind(id, 'vma');
    const link = await this.ready(a);
    if (!link.vma) {
      link.dispatcher = createTunnelDispatcher(link.manager, '127.0.0.1', a.apiPort);
      link.vma = createVmaClient({ baseUrl: `http://127.0.0.1:${a.apiPort}`, dispatcher: link.dispatcher });
    }
    return link.vma;
  }

  /** Commands on the OMA appliance over its tunnel. */
  async shell(id: string): Promise<RemoteShell> {
    const a = this.requireKind(id, 'oma');
    const link = await this.ready(a);
    return { exec: (command, options) => link.manager.exec(command, options) };
  }

  record(id: string): ApplianceRecord {
    return this.repo.require(id);
  }

  async stopAll(): Promise<void> {
    for (const id of [...this.links.keys()]) await this.disconnect(id);
  }

  private requireKind(id: string, kind: 'vma' | 'oma'): ApplianceRecord {
    const a = this.repo.require(id);
    if (a.kind !== kind) throw new AppError('validation', `${a.name} is a ${a.kind.toUpperCase()} appliance, not a ${kind.toUpperCase()}`);
    return a;
  }

  private async ready(a: ApplianceRecord): Promise<Link> {
    const link = this.linkFor(a);
    if (link.manager.state.state !== 'ready') {
      link.manager.start();
      try {
        await link.manager.waitUntilReady(this.options.readyWaitMs ?? 20_000);
      } catch {
        const s = link.manager.state;
        throw new AppError(s.errorCode ?? 'unreachable', `${a.name} is not connected: ${s.reason ?? s.state}`, { state: s.state });
      }
    }
    return link;
  }

  private linkFor(a: ApplianceRecord): Link {
    const existing = this.links.get(a.id);
    if (existing) return existing;
    const manager = new SshTunnelManager({
      applianceId: a.id,
      host: a.host,
      port: a.port,
      username: a.username,
      auth: async () => this.credentials(a.id),
      pinnedFingerprint: () => this.repo.get(a.id)?.hostKeyFingerprint ?? null,
      onState: (s) => this.onState(a.id, s),
      logger: { info: (m, f) => this.logger.info(`${a.name}: ${m}`, f), warn: (m, f) => this.logger.warn(`${a.name}: ${m}`, f) },
      ...this.options.tunnel,
    });
    const link: Link = { manager, dispatcher: null, vma: null, callback: null, identityRecorded: false };
    if (a.kind === 'vma' && this.changeIds) {
      link.callback = serveCallbackApi(manager, this.changeIds(a.id), {
        port: a.callbackPort,
        onForwardStatus: (f) => this.onForward(a.id, a.name, a.callbackPort, f),
        logger: { info: (m, f) => this.logger.info(m, f), warn: (m, f) => this.logger.warn(m, f) },
      });
    }
    this.links.set(a.id, link);
    return link;
  }

  private credentials(id: string): { password?: string; privateKey?: string; passphrase?: string } {
    const a = this.repo.require(id);
    if (!a.secretRef) throw new AppError('auth', `${a.name} has no stored SSH secret`);
    const raw = this.secrets.get(a.secretRef);
    if (!raw) throw new AppError('auth', `The SSH secret of ${a.name} is missing from the secret store`);
    return JSON.parse(raw) as { password?: string; privateKey?: string; passphrase?: string };
  }

  /** The forward's state joins the tunnel state; a refusal is logged once per change, not every retry. */
  private onForward(id: string, name: string, port: number, f: RemoteForwardStatus): void {
    const view: CallbackForwardState =
      f.state === 'active'
        ? { state: 'bound', port, reason: null }
        : f.state === 'failed'
          ? { state: 'refused', port, reason: f.error }
          : { state: 'requested', port, reason: null };
    const current = this.states.get(id) ?? idle(id);
    const before = current.callbackForward;
    if (before?.state === view.state && before.reason === view.reason) return;
    if (view.state === 'refused') this.logger.warn(`${name}: callback forward 127.0.0.1:${port} refused: ${view.reason ?? 'no reason given'}`);
    if (view.state === 'bound' && before?.state === 'refused') this.logger.info(`${name}: callback forward 127.0.0.1:${port} bound`);
    this.setState({ ...current, callbackForward: view });
  }

  private onState(id: string, s: TunnelStatus): void {
    const forward = this.states.get(id)?.callbackForward;
    // A forward lives only while the link is up; a new link requests it again.
    this.setState({ ...s, callbackForward: s.state === 'ready' ? (forward ?? null) : null });
    const link = this.links.get(id);
    if (s.state === 'ready' && link && !link.identityRecorded) {
      link.identityRecorded = true;
      void this.recordIdentity(id);
    }
    if (s.state !== 'ready' && link) link.identityRecorded = false;
    this.logLink(id, s);
  }

  /** Link outcomes go to the log when they change: connected, or failed/backing off with a new reason. */
  private logLink(id: string, s: TunnelStatus): void {
    if (s.state !== 'ready' && s.state !== 'failed' && s.state !== 'backoff') return;
    const key = s.state === 'ready' ? 'ready' : `down|${s.reason ?? ''}`;
    if (this.loggedLink.get(id) === key) return;
    this.loggedLink.set(id, key);
    const a = this.repo.get(id);
    if (!a) return;
    if (s.state === 'ready') this.log(`Connected to ${a.name}`, `Connected to ${a.name} (${a.host}:${a.port})`);
    else this.log(`Connecting to ${a.name} failed`, undefined, s.reason ?? s.state);
  }

  private log(title: string, message?: string, error?: string): void {
    this.audit?.record({ kind: 'appliance', title, ...(message ? { message } : {}), ...(error ? { error } : {}) });
  }

  /** Lesson 25: record what the appliance says it is on every connect. */
  private async recordIdentity(id: string): Promise<void> {
    const a = this.repo.get(id);
    if (!a) return;
    try {
      if (a.kind === 'vma') {
        const health = await (await this.vma(id)).health();
        // Everything the VMA answered, whatever fields this build adds (the real one sends no version).
        this.repo.recordIdentity(id, { ...health.raw, checkedVia: 'GET /api/v1/health' });
      } else {
        const r = await (await this.shell(id)).exec('uname -nrm; (nbdkit --version 2>/dev/null || echo "nbdkit: not installed") | head -1', { timeoutMs: 10_000 });
        const [system, nbdkit] = r.stdout.trim().split('\n');
        this.repo.recordIdentity(id, { system: system ?? '', nbdkit: nbdkit ?? '' });
      }
    } catch (e) {
      this.logger.warn(`${a.name}: could not record the appliance identity`, { error: e instanceof Error ? e.message : String(e) });
    }
  }

  private setState(s: TunnelState): void {
    this.states.set(s.applianceId, s);
    this.bus.emit('tunnels:state', { states: [s] });
  }
}

const kindName = (kind: 'vma' | 'oma'): string => kind.toUpperCase();

const idle = (applianceId: string): TunnelState => ({
  applianceId,
  state: 'disconnected',
  nextAttemptAt: null,
  attempt: 0,
  reason: null,
  offeredFingerprint: null,
  errorCode: null,
});
