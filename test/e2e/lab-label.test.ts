// The embedded lab is labelled wherever it is active (header badge on every screen, window title,
// About) and Settings/About names the owner of its data directory (program, pid, since) from the
// owner lock the lab holds, handed to the core through its owner port.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, startLabApp, type LabApp, type TestBrowser } from '../fixtures/browser';
import { acquireOwnerLock, type OwnerLock } from '../../main/owner/owner-lock';
import { ownerPortOf } from '../../main/owner/owner-port';

let browser: TestBrowser;
let lab: LabApp;
let lock: OwnerLock;
let root: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-lab-label-'));
  const dataDir = path.join(root, 'console');
  lock = acquireOwnerLock(dataDir, 'the embedded lab');
  [browser, lab] = await Promise.all([launchBrowser(), startLabApp({ dataDir, core: { lab: true, owner: ownerPortOf(lock) } })]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await lab?.close();
  lock?.release();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the lab is labelled', () => {
  it('shows the lab badge on every screen, in the title and About, and names the owner', async () => {
    const { page, errors } = await browser.newPage();
    await page.goto(lab.url);
    for (const screen of ['vms', 'schedules', 'settings']) {
      await page.locator(`nav [data-screen="${screen}"]`).click();
      await expect(page.getByTestId('lab-badge').textContent()).resolves.toBe('EMBEDDED LAB');
    }
    await expect.poll(() => page.title()).toBe('EMBEDDED LAB — MigrateKit Console');
    const about = page.getByTestId('about');
    await about.waitFor();
    const text = (await about.textContent()) ?? '';
    expect(text).toContain(`Engine ownerthe embedded lab (pid ${process.pid}, since `);
    expect(text).toContain('Environmentembedded lab');
    await about.scrollIntoViewIfNeeded();
    await screenshot(page, 'lab-label-settings-about');
    expect(errors).toEqual([]);
    await page.close();
  });
});
