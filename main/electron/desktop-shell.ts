// The thin Electron adapter for tray, notifications, the app-suspension blocker, sleep/resume and the
// login item. Every decision is made by the pure modules beside it; this file only wires them to
// Electron and to the core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Menu, Notification, nativeImage, powerMonitor, powerSaveBlocker, Tray, type MenuItemConstructorOptions } from 'electron';
import type { AppLogger } from '../base/app-log';
import type { Core } from '../core/core';
import type { DesktopSettings } from '../../shared/contract';
import { trayLikelyAvailable, trayMenuModel, type TrayMenuItem } from './close-policy';
import { resumeDepsFor, type DesktopStatePort } from './desktop-state';
import { FailoverActivity, runningFailovers, type FailoverEnded } from './failover-activity';
import { JobActivity, SuspensionBlocker } from './job-activity';
import { loginItemPlan } from './login-item';
import { failoverNotificationFor, notificationFor } from './notifications';
import { handleResume } from './resume';
import { trayIconPng } from './tray-icon';

export interface OpenTarget {
  vmContextId: string;
  jobId: string | null;
}

export interface DesktopShellDeps {
  core: Core;
  state: DesktopStatePort;
  logger: AppLogger;
  /** Shows (creating if needed) the main window. */
  showWindow: () => Promise<void>;
  quit: () => void;
  /** The About panel with the version (Electron's, set up by the app). */
  showAbout: () => void;
  /** Applies the login item; only a packaged app registers itself (never the development binary). */
  isPackaged: boolean;
  setLoginItemSettings: (s: { openAtLogin: boolean; args: string[] }) => void;
}

/** How often the tray menu is rebuilt while jobs run (progress percentages). */
const TRAY_REFRESH_MS = 5_000;

export class DesktopShell {
  readonly trayAvailable: boolean;
  private tray: Tray | null = null;
  private readonly activity: JobActivity;
  private readonly failovers: FailoverActivity;
  private readonly blocker = new SuspensionBlocker(powerSaveBlocker);
  /** Electron drops click handlers of notifications that were garbage collected: keep them. */
  private readonly shown = new Set<Notification>();
  private readonly offs: (() => void)[] = [];
  private quittingText: string | null = null;
  private suspendedAt: Date | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: DesktopShellDeps) {
    this.trayAvailable = trayLikelyAvailable(process.platform, process.env);
    this.activity = new JobActivity(deps.state.runningJobs().map((j) => j.jobId));
    this.failovers = new FailoverActivity(deps.state.failovers());
  }

  /** Replication jobs and failovers (or their rollbacks) both keep the computer awake. */
  private get busyCount(): number {
    return this.activity.activeCount + this.failovers.activeCount;
  }

  start(): void {
    const { core } = this.deps;
    this.blocker.update(this.busyCount);
    this.offs.push(
      core.bus.subscribe((channel) => {
        if (channel === 'contexts:changed') {
          // A failover's start and end (and its rollback's) each change its VM's status.
          const change = this.failovers.apply(this.deps.state.failovers());
          this.blocker.update(this.busyCount);
          for (const ended of change.ended) this.notifyFailoverEnded(ended);
          if (change.started.length || change.ended.length) this.refreshTray();
        }
      }),
      core.events.on('job-started', (e) => {
        if (!this.activity.started(e)) return;
        this.blocker.update(this.busyCount);
        this.refreshTray();
      }),
      core.events.on('job-ended', (e) => {
        const ended = this.activity.endedWith(e);
        this.blocker.update(this.busyCount);
        if (!ended) return;
        this.notifyEnded(ended);
        this.refreshTray();
      }),
    );
    if (this.trayAvailable) this.createTray();
    const onSuspend = () => {
      this.suspendedAt = new Date();
      core.logger.info('the computer is going to sleep', { activeJobs: this.activity.activeCount });
    };
    const onResume = () => {
      const from = this.suspendedAt;
      this.suspendedAt = null;
      void handleResume(resumeDepsFor(core), from, new Date()).catch((e: unknown) => core.logger.error('handling resume failed', { error: String(e) }));
    };
    powerMonitor.on('suspend', onSuspend);
    powerMonitor.on('resume', onResume);
    this.offs.push(() => {
      powerMonitor.off('suspend', onSuspend);
      powerMonitor.off('resume', onResume);
    });
    this.applyLoginItem(core.desktop.get());
    this.offs.push(core.desktop.onChange((s) => this.applyLoginItem(s)));
  }

  /** A passing message (the one-time "still running in the tray" notice). */
  notify(title: string, body: string): void {
    if (!Notification.isSupported()) return;
    const n = new Notification({ title, body });
    this.keep(n);
    n.on('click', () => void this.deps.showWindow());
    n.show();
  }

  /** Shows what a quit is waiting for in the tray (and its tooltip). */
  setQuitting(text: string): void {
    this.quittingText = text;
    this.refreshTray();
  }

  dispose(): void {
    for (const off of this.offs.splice(0)) off();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.blocker.release();
    this.tray?.destroy();
    this.tray = null;
  }

  private keep(n: Notification): void {
    this.shown.add(n);
    n.on('close', () => this.shown.delete(n));
    n.on('click', () => this.shown.delete(n));
  }

  private notifyEnded(ended: Parameters<typeof notificationFor>[0]): void {
    const notice = notificationFor(ended, this.deps.core.desktop.get().notifications, this.deps.state.vmName(ended.vmContextId));
    if (!notice || !Notification.isSupported()) return;
    const n = new Notification({ title: notice.title, body: notice.body });
    this.keep(n);
    n.on('click', () => this.open(notice.open));
    n.show();
  }

  private notifyFailoverEnded(ended: FailoverEnded): void {
    const notice = failoverNotificationFor(ended, this.deps.core.desktop.get().notifications, this.deps.state.vmName(ended.vmContextId));
    if (!notice || !Notification.isSupported()) return;
    const n = new Notification({ title: notice.title, body: notice.body });
    this.keep(n);
    n.on('click', () => this.open(notice.open));
    n.show();
  }

  /** Brings the window up and asks the renderer to show that VM and job. */
  open(target: OpenTarget): void {
    void this.deps.showWindow().then(() => this.deps.core.bus.emit('app:open', target));
  }

  private createTray(): void {
    try {
      this.tray = new Tray(nativeImage.createFromBuffer(trayIconPng(32)));
    } catch (e) {
      this.deps.logger.warn('no tray icon could be created', { error: String(e) });
      return;
    }
    this.tray.on('click', () => void this.deps.showWindow());
    this.refreshTray();
    this.refreshTimer = setInterval(() => this.refreshTray(), TRAY_REFRESH_MS);
    this.refreshTimer.unref();
  }

  private refreshTray(): void {
    if (!this.tray || this.tray.isDestroyed()) return;
    const model = trayMenuModel({
      runningJobs: this.deps.state.runningJobs(),
      runningFailovers: runningFailovers(this.deps.state.failovers(), (id) => this.deps.state.vmName(id)),
      nextRun: this.deps.state.nextScheduledRun(), now: new Date(), quitting: this.quittingText,
    });
    this.tray.setToolTip(model.tooltip);
    this.tray.setImage(nativeImage.createFromBuffer(trayIconPng(32, this.busyCount > 0)));
    this.tray.setContextMenu(Menu.buildFromTemplate(model.items.map((i) => this.menuItem(i))));
  }

  private menuItem(item: TrayMenuItem): MenuItemConstructorOptions {
    switch (item.kind) {
      case 'label':
        return { label: item.text, enabled: false };
      case 'separator':
        return { type: 'separator' };
      case 'open-job':
        return { label: item.label, click: () => this.open({ vmContextId: item.vmContextId, jobId: item.jobId }) };
      case 'open-failover':
        return { label: item.label, click: () => this.open({ vmContextId: item.vmContextId, jobId: null }) };
      case 'open':
        return { label: item.label, click: () => void this.deps.showWindow() };
      case 'about':
        return { label: item.label, click: () => this.deps.showAbout() };
      case 'quit':
        return { label: item.label, click: () => this.deps.quit() };
    }
  }

  private applyLoginItem(s: DesktopSettings): void {
    if (!this.deps.isPackaged) {
      if (s.openAtLogin) this.deps.logger.info('start at login is only registered by the installed app');
      return;
    }
    const plan = loginItemPlan(s.openAtLogin, { platform: process.platform, env: process.env, homeDir: os.homedir(), execPath: process.execPath });
    try {
      if (plan.kind === 'electron') this.deps.setLoginItemSettings(plan.settings);
      else if (plan.content === null) fs.rmSync(plan.file, { force: true });
      else {
        fs.mkdirSync(path.dirname(plan.file), { recursive: true });
        fs.writeFileSync(plan.file, plan.content, { mode: 0o644 });
      }
    } catch (e) {
      this.deps.logger.warn('could not register start at login', { error: String(e) });
    }
  }
}
