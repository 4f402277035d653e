// What can be checked of the installers where the Electron binary cannot be downloaded: the builder
// configuration passes electron-builder's own validation and says what the product needs, its file
// rules (applied with electron-builder's own matcher) ship the built app and the native module and
// nothing from test/, and the built Electron main bundle runs under plain Node with Electron
// substituted far enough to open its window with the secure options and to quit cleanly.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS } from '../../shared/contract';
import { createElectronSubstitute, loadWithElectron, type ElectronRecord } from '../fixtures/electron-substitute';
import { makeDiscoveredVm } from '../fixtures/browser';
import { Core } from '../../main/core/core';
import { InMemorySecretStore } from '../../main/secrets/memory-store';

const root = path.resolve(__dirname, '..', '..');
const req = createRequire(path.join(root, 'package.json'));
const yaml = req('js-yaml') as { load: (s: string) => unknown };
const { validateConfiguration } = req('app-builder-lib/out/util/config/config') as {
  validateConfiguration: (config: unknown, debugLogger: { isEnabled: boolean; add: () => void }) => Promise<void>;
};
type Matcher = { createFilter: () => (file: string, stat: fs.Stats) => boolean };
const fileMatcher = req('app-builder-lib/out/fileMatcher') as {
  getMainFileMatchers: (appDir: string, dest: string, expand: (s: string) => string, platformOptions: object, packager: object, outDir: string, electronCompile: boolean) => Matcher[];
  getNodeModuleFileMatcher: (appDir: string, dest: string, expand: (s: string) => string, platformOptions: object, info: object) => Matcher;
  getFileMatchers: (config: object, name: string, dest: string, options: object) => Matcher[] | null;
};

type BuilderConfig = Record<string, unknown> & {
  files: string[];
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[] };
  deb: { depends: string[] };
  win: { target: string[] };
  mac: { target: string[] };
  directories: { output: string };
  extraMetadata: { main: string };
};
const config = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const quietLogger = { isEnabled: false, add: () => {} };

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'main/build/build.mjs'), 'all'], { cwd: root, stdio: 'inherit' });
}, 300_000);

describe('electron-builder configuration', () => {
  it('passes electron-builder v26 validation, and a wrong value would not', async () => {
    await expect(validateConfiguration(structuredClone(config), quietLogger)).resolves.toBeUndefined();
    const broken = structuredClone(config);
    broken.electronFuses = { ...broken.electronFuses, runAsNode: 'no' as unknown as boolean };
    await expect(validateConfiguration(broken, quietLogger)).rejects.toThrow(/runAsNode/);
  });

  it('builds AppImage and deb (depending on libsecret), NSIS, dmg and zip with the hardening fuses', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.deb.depends).toContain('libsecret-1-0');
    expect(config.win.target).toContain('nsis');
    expect(config.mac.target).toEqual(expect.arrayContaining(['dmg', 'zip']));
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
    });
    expect(config.extraMetadata.main).toBe(pkg.main);
    expect(pkg.dependencies['better-sqlite3']).toBeDefined();
    // Native modules are rebuilt for Electron only while packaging, and for Node again afterwards.
    expect(config.npmRebuild).toBe(true);
    expect(pkg.scripts.package).toBe('node main/build/package.mjs');
    expect(fs.readFileSync(path.join(root, 'main/build/package.mjs'), 'utf8')).toMatch(/'rebuild', 'better-sqlite3'/);
    expect(pkg.devDependencies.electron).toBeDefined();
  });
});

function walk(dir: string, filter: (file: string, stat: fs.Stats) => boolean, out: string[] = []): string[] {
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const stat = fs.statSync(file);
    if (!filter(file, stat)) continue;
    if (stat.isDirectory()) walk(file, filter, out);
    else out.push(path.relative(root, file).split(path.sep).join('/'));
  }
  return out;
}

describe('packaged file list', () => {
  const expand = (s: string) => s;
  const outDir = path.join(root, config.directories.output);
  const info = { projectDir: root, buildResourcesDir: 'build', isPrepackedAppAsar: false, config, debugLogger: quietLogger };

  it('holds the built main, preload and renderer and nothing from test/ or the sources', () => {
    const matchers = fileMatcher.getMainFileMatchers(root, '/app', expand, config.linux, { info }, outDir, false);
    const main = matchers[0]!.createFilter();
    // node_modules is copied separately (production dependencies only), so it is not walked here.
    const files = walk(root, (file, stat) => !file.startsWith(path.join(root, 'node_modules')) && !file.startsWith(path.join(root, '.git')) && main(file, stat));
    expect(files).toEqual(expect.arrayContaining(['dist/electron/main.cjs', 'dist/electron/preload.cjs', 'dist/renderer/index.html', 'package.json']));
    expect(files.some((f) => /^dist\/renderer\/assets\/.+\.js$/.test(f))).toBe(true);
    expect(files.filter((f) => f.startsWith('test/'))).toEqual([]);
    expect(files.filter((f) => !f.startsWith('dist/') && f !== 'package.json')).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('dist/lab/') || f.startsWith('dist/core/devbridge'))).toEqual([]);
  });

  it('keeps the better-sqlite3 addon, unpacked from the asar', () => {
    const addon = path.join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    expect(fs.existsSync(addon)).toBe(true);
    const stat = fs.statSync(addon);
    const modules = fileMatcher.getNodeModuleFileMatcher(root, '/app', expand, config.linux, info).createFilter();
    expect(modules(addon, stat)).toBe(true);
    const unpack = fileMatcher.getFileMatchers(config, 'asarUnpack', '/app', { macroExpander: expand, customBuildOptions: config.linux, globalOutDir: outDir, defaultSrc: root });
    expect(unpack).not.toBeNull();
    expect(unpack![0]!.createFilter()(addon, stat)).toBe(true);
    // Something ordinary stays inside the archive.
    expect(unpack![0]!.createFilter()(path.join(root, 'dist/electron/main.cjs'), fs.statSync(path.join(root, 'dist/electron/main.cjs')))).toBe(false);
  });
});

describe('the Electron main bundle under plain Node', () => {
  let dir: string;
  let dataDir: string;
  let record: ElectronRecord;
  let unhook: () => void;
  const savedTray = process.env.MKC_TRAY;
  const waitFor = async (what: () => boolean) => {
    for (let i = 0; i < 400 && !what(); i++) await new Promise((r) => setTimeout(r, 25));
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-electron-bundle-'));
    dataDir = path.join(dir, 'MigrateKit Console');
    // A job left running by an earlier session: the app must keep it alive (blocker, tray, quit question).
    const seed = new Core({ dataDir, transport: 'cli', secrets: new InMemorySecretStore() });
    const ctx = seed.contexts.add({ vm: makeDiscoveredVm('web-01'), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
    seed.jobs.update(seed.jobs.claim({ contextId: ctx.id, trigger: 'ui' }).id, { status: 'replicating' });
    await seed.close();
    process.env.MKC_TRAY = '1';
    const sub = createElectronSubstitute(dir);
    record = sub.record;
    unhook = loadWithElectron(path.join(root, 'dist/electron/main.cjs'), sub.module);
    // Boot runs after whenReady: wait until startup is logged.
    const log = path.join(dataDir, 'logs', 'console.log');
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('console started'));
  });
  afterAll(() => {
    unhook();
    if (savedTray === undefined) delete process.env.MKC_TRAY;
    else process.env.MKC_TRAY = savedTray;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens one window with the secure options, its preload and the built renderer', () => {
    expect(record.windows).toHaveLength(1);
    const w = record.windows[0]!;
    expect(w.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webviewTag: false, webSecurity: true });
    const preload = (w.options.webPreferences as { preload: string }).preload;
    expect(preload).toBe(path.join(root, 'dist/electron/preload.cjs'));
    expect(fs.existsSync(preload)).toBe(true);
    expect(w.loaded).toEqual([path.join(root, 'dist/renderer/index.html')]);
    expect(w.shown).toBe(true);
  });

  it('serves every contract channel over IPC, puts the running job in the tray and holds off suspension', () => {
    expect([...record.ipcChannels].sort()).toEqual([...INVOKE_CHANNELS].sort());
    expect(record.trays).toBe(1);
    expect(record.trayMenu.map((i) => i.label)).toContain('1 job running');
    expect(record.blockers).toEqual(['prevent-app-suspension']);
  });

  it('hides to the tray on close while the job runs, with the notice once', () => {
    const w = record.windows[0]!;
    const close = () => {
      const e = { defaultPrevented: false, preventDefault: () => void (e.defaultPrevented = true) };
      w.instance.emit('close', e);
      return e.defaultPrevented;
    };
    expect(close()).toBe(true);
    expect(w.shown).toBe(false);
    expect(close()).toBe(true);
    expect(record.notifications.map((n) => n.title)).toEqual(['MigrateKit Console is still running']);
    expect(record.notifications[0]!.body).toMatch(/^1 replication job is running/);
  });

  it('asks before quitting with the job running; a confirmed quit finishes within the bound and checkpoints the database', async () => {
    const app = record.app as unknown as { quit: () => void };
    app.quit();
    await waitFor(() => record.dialogs.length === 1);
    expect(record.dialogs).toEqual(['1 replication job is still running. Quit anyway?']);
    await new Promise((r) => setTimeout(r, 50));
    expect(record.exitCodes).toEqual([]);
    record.dialogResponse = 0;
    app.quit();
    await waitFor(() => record.exitCodes.length > 0);
    expect(record.exitCodes).toEqual([0]);
    expect(record.blockersStopped).toHaveLength(1);
    const log = fs.readFileSync(path.join(dataDir, 'logs', 'console.log'), 'utf8');
    expect(log).toMatch(/"message":"Quit finished cleanly"/);
    // wal_checkpoint(TRUNCATE) leaves the write-ahead log empty (closing may also remove it).
    const wal = path.join(dataDir, 'console.sqlite3-wal');
    expect(fs.existsSync(wal) ? fs.statSync(wal).size : 0).toBe(0);
  });
});
