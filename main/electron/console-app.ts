// The Electron shell: one hardened window over the shared core. Logic lives in the pure modules
// beside this file (sender-check, security-policy, quit-guard, app-paths) and in main/core.
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, powerMonitor, safeStorage, session, type WebContents } from 'electron';
import { fileLogger, type AppLogger } from '../core/app-log';
import { Core } from '../core/core';
import { createHandlers } from '../ipc/handlers';
import { SAFE_STORAGE_FILE_NAME, SafeStorageSecretStore } from '../secrets/safe-storage-store';
import { electronAppPaths } from './app-paths';
import { forwardBusEvents, registerIpcBridge } from './ipc-bridge';
import { activeJobCounter, QuitGuard, quitConfirmationText } from './quit-guard';
import { withContentSecurityPolicy } from './security-policy';
import type { TrustedRenderer } from './sender-check';

const PRODUCT_NAME = 'MigrateKit Console';

export interface ConsoleAppOptions {
  /** Builds the core; the default opens the operator's data directory with the OS secret store. */
  createCore?: (context: { dataDir: string; logger: AppLogger }) => Promise<Core>;
  /** Runs after the core closed (the embedded lab stops its simulators here). */
  afterClose?: () => Promise<void>;
  title?: string;
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
  let coreClosed = false;

  const quitGuard = new QuitGuard({
    activeJobCount: () => (core ? activeJobCounter(core)() : 0),
    confirm: async (n) => {
      const text = quitConfirmationText(n);
      const options = { type: 'warning' as const, buttons: ['Quit anyway', 'Keep running'], defaultId: 1, cancelId: 1, noLink: true, ...text };
      const { response } = win && !win.isDestroyed() ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
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
      webPreferences: {
        preload: paths.preload,
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
        devTools: !app.isPackaged,
      },
    });
    w.once('ready-to-show', () => w.show());
    w.on('close', (e) => quitGuard.intercept(() => e.preventDefault(), () => app.quit()));
    w.on('closed', () => {
      if (win === w) win = null;
    });
    return w;
  };

  const fatal = (e: unknown): void => {
    const message = e instanceof Error ? e.message : String(e);
    logger?.error('the console failed to start', { error: e instanceof Error ? (e.stack ?? message) : message });
    dialog.showErrorBox(`${PRODUCT_NAME} could not start`, message);
    app.exit(1);
  };

  const boot = async (): Promise<void> => {
    hardenSession();
    const dataDir = app.getPath('userData');
    logger = fileLogger(dataDir);
    if (options.createCore) {
      core = await options.createCore({ dataDir, logger });
    } else {
      const secrets = new SafeStorageSecretStore(path.join(dataDir, SAFE_STORAGE_FILE_NAME), safeStorage);
      const secretsProblem = secrets.unavailableReason();
      if (secretsProblem !== null) logger.warn('secret store unavailable', { reason: secretsProblem });
      core = new Core({ dataDir, transport: 'electron', secrets, logger });
    }
    const activeCore = core;
    registerIpcBridge({ ipcMain, handlers: createHandlers(activeCore), trustedRenderer, logger });
    forwardBusEvents(activeCore.bus, (channel, payload) => {
      if (win && !win.isDestroyed()) win.webContents.send(channel, payload);
    });
    win = createWindow();
    await win.loadFile(paths.rendererIndex);
    // Persisted jobs are reconciled with the VMA and polled for as long as the app runs.
    await activeCore.startBackground();
    // Runs missed while the machine slept follow each schedule's catch-up policy.
    powerMonitor.on('resume', () => activeCore.scheduler.resume());
    logger.info('console started', { dataDir, version: activeCore.version });
  };

  app.on('web-contents-created', (_e, contents) => hardenWebContents(contents));
  app.on('second-instance', () => {
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  });
  // Without a tray there is nothing left to run schedules once the window is gone.
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (e) => quitGuard.intercept(() => e.preventDefault(), () => app.quit()));
  app.on('will-quit', (e) => {
    if (coreClosed || !core) return;
    e.preventDefault();
    const closing = core;
    core = null;
    closing
      .close()
      .catch((err: unknown) => logger?.error('closing the core failed', { error: String(err) }))
      .then(() => options.afterClose?.())
      .catch((err: unknown) => logger?.error('stopping failed', { error: String(err) }))
      .finally(() => {
        coreClosed = true;
        app.exit(0);
      });
  });

  app.whenReady().then(boot).catch(fatal);
}

/** Starts the desktop console (the product, or the embedded lab with its own core factory). */
export function runConsoleApp(options: ConsoleAppOptions = {}): void {
  // Same data directory in development and in packaged builds (electron-builder uses productName).
  app.setName(PRODUCT_NAME);
  app.setPath('userData', path.join(app.getPath('appData'), PRODUCT_NAME));
  app.enableSandbox();
  if (app.requestSingleInstanceLock()) main(options);
  else app.quit();
}
