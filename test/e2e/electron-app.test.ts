// The real desktop app under Playwright's Electron support, wherever the Electron binary exists.
// Where it could not be downloaded (the binary is missing) the tests are skipped and say why;
// test/integration/packaging.test.ts covers the main bundle under plain Node there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron, type ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../fixtures/browser';

function electronBinary(): { path: string | null; reason: string } {
  const pkgDir = path.join(ROOT, 'node_modules', 'electron');
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!fs.existsSync(pathFile)) return { path: null, reason: `the Electron binary was not downloaded (${pathFile} is missing)` };
  const bin = path.join(pkgDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  if (!fs.existsSync(bin)) return { path: null, reason: `the Electron binary ${bin} is missing` };
  return { path: bin, reason: '' };
}

const binary = electronBinary();
if (!binary.path) console.log(`Skipping the Electron app tests: ${binary.reason}`);

describe.skipIf(!binary.path)('desktop app (real Electron)', () => {
  let dataDir: string;
  let app: ElectronApplication;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-electron-e2e-'));
    app = await _electron.launch({ executablePath: binary.path!, args: [ROOT], env: { ...process.env, MKC_DATA_DIR: dataDir, MKC_TRAY: '0' } as Record<string, string> });
  });
  afterAll(async () => {
    await app?.close().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens the console with a sandboxed, isolated renderer', async () => {
    const page = await app.firstWindow();
    await page.waitForSelector('.app');
    // No Node in the page: no require, no process (sandbox + context isolation + no node integration).
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await app.evaluate(({ app: a }) => a.getPath('userData'))).toBe(dataDir);
  });

  it('quits when the idle window is closed (no tray here), leaving the database checkpointed', async () => {
    const exited = new Promise<void>((resolve) => app.process().once('exit', () => resolve()));
    // Close like the window's close button does, so the close decision runs.
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
    await exited;
    expect(fs.existsSync(path.join(dataDir, 'console.sqlite3'))).toBe(true);
    const wal = path.join(dataDir, 'console.sqlite3-wal');
    expect(fs.existsSync(wal) ? fs.statSync(wal).size : 0).toBe(0);
  });
});
