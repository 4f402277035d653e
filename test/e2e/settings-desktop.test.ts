// Settings → Desktop and About in a real Chromium over the dev bridge and a real core.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, startBridgeApp, type BridgeApp, type TestBrowser } from '../fixtures/browser';

let browser: TestBrowser;
let app: BridgeApp;

beforeAll(async () => {
  browser = await launchBrowser();
  app = await startBridgeApp();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('Settings: desktop and about', () => {
  it('shows where things are and keeps the notification and login choices', async () => {
    const { page, errors } = await browser.newPage();
    await page.goto(app.url);
    await page.locator('nav [data-screen="settings"]').click();
    const about = page.getByTestId('about');
    await about.getByText(app.dataDir, { exact: true }).waitFor();
    await expect(about.textContent()).resolves.toContain(`MigrateKit Console ${app.core.version}`);
    await expect(about.textContent()).resolves.toContain('Custom secret store');
    await expect(about.textContent()).resolves.toMatch(/Engine owner\s*unknown/);

    await page.getByLabel('Notifications').selectOption('failures');
    await page.getByLabel('Start at login, hidden in the tray').check();
    await expect.poll(() => app.core.desktop.get()).toEqual({ notifications: 'failures', openAtLogin: true });
    await page.reload();
    await page.locator('nav [data-screen="settings"]').click();
    await expect.poll(() => page.getByLabel('Notifications').inputValue()).toBe('failures');
    await expect(page.getByLabel('Start at login, hidden in the tray').isChecked()).resolves.toBe(true);
    await about.scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-desktop-about');
    expect(errors).toEqual([]);
    await page.close();
  });
});
