// The Electron shell: one hardened window over the shared core. Logic lives in the pure modules
// beside this file (sender-check, security-policy, quit-guard, app-paths) and in main/core.
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, powerMonitor, safeStorage, session, type BrowserWindowConstructorOptions, type WebContents } from 'electron';
import { fileLogger, type AppLogger } from '../base/app-log';
import { Core } from '../core/core';
import { createHandlers } from '../ipc/handlers';
import { controlSocketPath } from '../owner/control-protocol';
import { startControlServer, type ControlServer } from '../owner/control-server';
import { acquireOwnerLock, type OwnerLock } from '../owner/owner-lock';
import { ownerPortOf, type OwnerPort } from '../owner/owner-port';
import { openSecretStore } from '../secrets/open-secret-store';
import { secretKeySourceFromEnvironment } from '../secrets/secret-store-from-env';
import { electronAppPaths } from './app-paths';
import { forwardBusEvents, registerIpcBridge } from './ipc-bridge';
import { activeJobCounter, QuitGuard, quitConfirmationText } from './quit-guard';
import { runningFailovers } from './failover-activity';
import { withContentSecurityPolicy } from './security-policy';
import type { TrustedRenderer } from './sender-check';
import { decideWindowClose } from './close-policy';
import { coreDesktopState, type DesktopStatePort } from './desktop-state';
import { DesktopShell } from './desktop-shell';
import { startedHidden } from './login-item';
import { describeShutdownReport, runShutdown, type ShutdownStep } from './shutdown';

const PRODUCT_NAME = 'MigrateKit Console';
/** A confirmed quit gives up waiting after this long and exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;
/** A quit still busy after this long tells the operator what it is waiting for. */
const SLOW_QUIT_NOTICE_MS = 3_000;

/** The window's security options; exported so the packaging test can check the built bundle uses them. */
export function secureWebPreferences(preload: string, devTools: boolean): NonNullable<BrowserWindowConstructorOptions['webPreferences']> {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    nodeIntegrationInWorker: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    devTools,
  };
}

/** Quit steps in order: nothing new starts, the WAL is folded into the database, the tunnels close. */
function shutdownSteps(core: Core, afterClose?: () => Promise<void>, control?: ControlServer | null): ShutdownStep[] {
  return [
    // `mkc` clients are told first: the owner is going away (they take over or stop following).
    ...(control ? [{ name: 'control socket', run: () => control.close() }] : []),
    { name: 'scheduler', run: () => core.scheduler.stop() },
    {
      name: 'poller',
      run: async () => {
        core.engine.poller.stop();
        await core.engine.drain();
      },
    },
    // TRUNCATE leaves an empty -wal file, so a copy of the data directory taken after quitting is whole.
    { name: 'database checkpoint', run: () => void core.db.pragma('wal_checkpoint(TRUNCATE)') },
    { name: 'tunnels', run: () => core.appliances.stopAll() },
    { name: 'core', run: () => core.close() },
    ...(afterClose ? [{ name: 'lab', run: afterClose }] : []),
  ];
}

export interface ConsoleAppOptions {
  /** Builds the core; the default opens the operator's data directory with the OS secret store. */
  createCore?: (context: { dataDir: string; logger: AppLogger; owner: OwnerPort }) => Promise<Core>;
  /** Runs after the core closed (the embedded lab stops its simulators here). */
  afterClose?: () => Promise<void>;
  title?: string;
  /** Names this process in the owner lock (default "the desktop app"). */
  ownerName?: string;
}

function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-frame-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

function hardenSession(): void {
  const s = session.defaultSession;
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
  s.setDevicePermissionHandler(() => false);
  s.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
  });
}

function main(options: ConsoleAppOptions): void {
  const paths = electronAppPaths(__dirname);
  let win: BrowserWindow | null = null;
  let core: Core | null = null;
  let logger: AppLogger | null = null;
  let ownerLock: OwnerLock | null = null;
  let control: ControlServer | null = null;
  let shell: DesktopShell | null = null;
  let state: DesktopStatePort | null = null;
  let coreClosed = false;
  /** Set once a quit got past the quit checks: windows then close instead of hiding. */
  let quitting = false;
  // Read after 'ready' (createWindow): login item settings are not available before it on macOS.
  let firstWindow = true;
  const startHidden = (): boolean => startedHidden(process.argv, process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAsHidden);

  const quitGuard = new QuitGuard({
    activity: () => ({
      jobs: core ? activeJobCounter(core)() : 0,
      failovers: state ? runningFailovers(state.failovers(), (id) => state?.vmName(id) ?? null) : [],
    }),
    confirm: async (activity) => {
      const text = quitConfirmationText(activity);
      const options = { type: 'warning' as const, buttons: ['Quit anyway', 'Keep running'], defaultId: 1, cancelId: 1, noLink: true, ...text };
      // A window hidden in the tray cannot carry the question (a macOS sheet would be invisible).
      const { response } = win && !win.isDestroyed() && win.isVisible() ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
      return response === 0;
    },
  });

  const trustedRenderer = (): TrustedRenderer | null => {
    if (!win || win.isDestroyed()) return null;
    const frame = win.webContents.mainFrame;
    return {
      webContentsId: win.webContents.id,
      mainFrame: { processId: frame.processId, routingId: frame.routingId },
      rendererUrl: paths.rendererUrl,
    };
  };

  const createWindow = (): BrowserWindow => {
    const w = new BrowserWindow({
      title: options.title ?? PRODUCT_NAME,
      width: 1440,
      height: 900,
      minWidth: 1024,
      minHeight: 640,
      show: false,
      webPreferences: secureWebPreferences(paths.preload, !app.isPackaged),
    });
    // Started at login: stay in the tray (where there is one) until the operator opens the window.
    const hidden = firstWindow && startHidden();
    firstWindow = false;
    w.once('ready-to-show', () => {
      if (!(hidden && shell?.trayAvailable)) w.show();
    });
    w.on('close', (e) => {
      const decision = decideWindowClose({
        quitting,
        trayAvailable: shell?.trayAvailable ?? false,
        activeJobs: state?.runningJobs().length ?? 0,
        activeFailovers: state ? runningFailovers(state.failovers(), () => null).length : 0,
        enabledSchedules: state?.enabledScheduleCount() ?? 0,
        noticeShown: core?.desktop.trayNoticeShown() ?? true,
      });
      if (decision.action === 'close') return;
      if (decision.action === 'hide') {
        e.preventDefault();
        w.hide();
        if (decision.notice) {
          shell?.notify(decision.notice.title, decision.notice.body);
          core?.desktop.markTrayNoticeShown();
        }
        return;
      }
      quitGuard.intercept(() => e.preventDefault(), () => app.quit());
    });
    w.on('closed', () => {
      if (win === w) win = null;
    });
    return w;
  };

  let loading: Promise<void> | null = null;
  /** Shows the window, re-creating it if it was closed, once its page has loaded. */
  const showWindow = async (): Promise<void> => {
    if (!win || win.isDestroyed()) {
      win = createWindow();
      loading = win.loadFile(paths.rendererIndex);
    }
    const w = win;
    await loading?.catch(() => {});
    if (w.isDestroyed()) return;
    if (w.isMinimized()) w.restore();
    w.show();
    w.focus();
  };

  const fatal = (e: unknown): void => {
    const message = e instanceof Error ? e.message : String(e);
    logger?.error('the console failed to start', { error: e instanceof Error ? (e.stack ?? message) : message });
    dialog.showErrorBox(`${PRODUCT_NAME} could not start`, message);
    ownerLock?.release();
    app.exit(1);
  };

  const boot = async (): Promise<void> => {
    hardenSession();
    const dataDir = app.getPath('userData');
    logger = fileLogger(dataDir);
    // One owner per data directory: a running `mkc serve` (or mkc working in-process) keeps it.
    ownerLock = acquireOwnerLock(dataDir, options.ownerName ?? 'the desktop app');
    const owner = ownerPortOf(ownerLock);
    if (options.createCore) {
      core = await options.createCore({ dataDir, logger, owner });
    } else {
      // The keychain, and the operator's passphrase when one is set: a store opened here with both
      // is also open to mkc and the dev bridge.
      const { store: secrets, notes } = openSecretStore(dataDir, { safeStorage, passphrase: secretKeySourceFromEnvironment() });
      for (const note of notes) logger.info(note);
      const secretsProblem = secrets.unavailableReason();
      if (secretsProblem !== null) logger.warn('secret store unavailable', { reason: secretsProblem });
      core = new Core({ dataDir, transport: 'electron', secrets, logger, owner });
    }
    const activeCore = core;
    registerIpcBridge({ ipcMain, handlers: createHandlers(activeCore), trustedRenderer, logger });
    // `mkc` on this machine is served by the app: same handler map and schemas, over the control socket.
    control = await startControlServer({
      socketPath: controlSocketPath(activeCore.dataDir),
      handlers: createHandlers(activeCore, { trigger: 'cli' }),
      bus: activeCore.bus,
      hello: { pid: ownerLock.info.pid, since: ownerLock.info.since, transport: ownerLock.info.transport, dataDir: activeCore.dataDir },
      logger,
    });
    forwardBusEvents(activeCore.bus, (channel, payload) => {
      if (win && !win.isDestroyed()) win.webContents.send(channel, payload);
    });
    app.setAboutPanelOptions({ applicationName: PRODUCT_NAME, applicationVersion: activeCore.version, version: `schema v${activeCore.schemaVersion()}` });
    state = coreDesktopState(activeCore);
    shell = new DesktopShell({
      core: activeCore,
      state,
      logger,
      showWindow,
      quit: () => app.quit(),
      showAbout: () => app.showAboutPanel(),
      isPackaged: app.isPackaged,
      setLoginItemSettings: (s) => app.setLoginItemSettings(s),
    });
    shell.start();
    win = createWindow();
    loading = win.loadFile(paths.rendererIndex);
    await loading;
    // Persisted jobs are reconciled with the VMA and polled for as long as the app runs.
    await activeCore.startBackground();
    // Runs missed while the machine slept follow each schedule's catch-up policy.
    powerMonitor.on('resume', () => activeCore.scheduler.resume());
    logger.info('console started', { dataDir, version: activeCore.version });
  };

  app.on('web-contents-created', (_e, contents) => hardenWebContents(contents));
  app.on('second-instance', () => {
    if (core) void showWindow();
  });
  app.on('activate', () => {
    if (core) void showWindow();
  });
  // The window only closes (rather than hides) when nothing needs the app or there is no tray.
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (e) => {
    let prevented = false;
    quitGuard.intercept(
      () => {
        prevented = true;
        e.preventDefault();
      },
      () => app.quit(),
    );
    if (!prevented) quitting = true;
  });
  app.on('will-quit', (e) => {
    if (coreClosed || !core) return;
    e.preventDefault();
    const closing = core;
    core = null;
    const started = Date.now();
    let waitingText = 'Quitting';
    // A quick quit shows nothing; a slow one says what it waits for even with no window or tray left.
    const slow = setTimeout(() => shell?.notify('MigrateKit Console is quitting', `${waitingText} (gives up after ${SHUTDOWN_TIMEOUT_MS / 1000} s)`), SLOW_QUIT_NOTICE_MS);
    const closingControl = control;
    control = null;
    void runShutdown(shutdownSteps(closing, options.afterClose, closingControl), {
      timeoutMs: SHUTDOWN_TIMEOUT_MS,
      onWaiting: (waitingFor) => {
        waitingText = `Quitting: waiting for ${waitingFor[0]}`;
        shell?.setQuitting(waitingText);
        if (win && !win.isDestroyed()) win.setTitle(waitingText);
      },
    })
      .then((report) => {
        const log = report.failed.length || report.timedOutWaitingFor.length ? logger?.error : logger?.info;
        log?.(describeShutdownReport(report), { ...report, ms: Date.now() - started });
      })
      .catch((err: unknown) => logger?.error('quitting failed', { error: String(err) }))
      .finally(() => {
        clearTimeout(slow);
        shell?.dispose();
        coreClosed = true;
        ownerLock?.release();
        app.exit(0);
      });
  });

  app.whenReady().then(boot).catch(fatal);
}

/** Starts the desktop console (the product, or the embedded lab with its own core factory). */
export function runConsoleApp(options: ConsoleAppOptions = {}): void {
  // Same data directory in development and in packaged builds (electron-builder uses productName).
  app.setName(PRODUCT_NAME);
  // MKC_DATA_DIR points the app at another data directory, as it does for the CLI (tests, second setups).
  app.setPath('userData', process.env.MKC_DATA_DIR ? path.resolve(process.env.MKC_DATA_DIR) : path.join(app.getPath('appData'), PRODUCT_NAME));
  app.enableSandbox();
  if (app.requestSingleInstanceLock()) main(options);
  else app.quit();
}
