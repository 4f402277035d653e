// Errors and risky actions (issue 12) in a real Chromium against a headless core behind the real dev
// bridge: Remove asks first and says what it does; a connect that cannot succeed never locks
// Disconnect or Remove; a removed appliance leaves the header at once; errors read "what happened,
// what to do" without internal channel names; when the core goes away a banner says so, the data is
// marked stale and every action is disabled with the reason.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../../main/core/core';
import { startDevBridge } from '../../main/devbridge/server';
import { MemorySecretStore, RENDERER_DIST, ensureRendererBuilt, launchBrowser, makeDiscoveredVm, screenshot, type TestBrowser } from '../fixtures/browser';
import { freePort } from '../fixtures/sshd';

let browser: TestBrowser;
let core: Core;
let dataDir: string;
let bridge: Awaited<ReturnType<typeof startDevBridge>>;

beforeAll(async () => {
  ensureRendererBuilt();
  dataDir = await mkdtemp(path.join(tmpdir(), 'mkc-e2e-errors-'));
  // A short ready wait: the connect below fails against a closed port; the row must not wait on it.
  core = new Core({ dataDir, transport: 'dev-bridge', secrets: new MemorySecretStore(), appliances: { readyWaitMs: 8_000 } });
  const closedPort = await freePort();
  const vma = core.appliances.add({ kind: 'vma', name: 'far-vma', host: '127.0.0.1', port: closedPort, username: 'root', authMethod: 'password', password: 'pw' });
  core.appliances.add({ kind: 'vma', name: 'spare-vma', host: '127.0.0.1', port: closedPort, username: 'root', authMethod: 'password', password: 'pw' });
  const cred = core.credentials.add({ name: 'lab-vc', vcenterHost: 'vc.test', username: 'u', datacenter: 'DC', password: 'pw' });
  core.contexts.add({ vm: makeDiscoveredVm('uses-both'), vcenterHost: 'vc.test', credentialId: cred.id, vmaApplianceId: vma.id });
  bridge = await startDevBridge({ core, staticDir: RENDERER_DIST, host: '127.0.0.1', port: 0 });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await bridge?.close().catch(() => {});
  await core?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('errors and risky actions', () => {
  it('asks before removing, never locks Disconnect/Remove behind a connect, and drops a removed appliance from the header', async () => {
    const { page, errors } = await browser.newPage();
    await page.goto(bridge.url);
    await page.locator('nav [data-screen="settings"]').click();
    const row = page.locator('tr[data-appliance="far-vma"]');
    await row.waitFor();

    // A connect to a closed port keeps trying; meanwhile Disconnect and Remove stay usable.
    await row.getByRole('button', { name: 'Connect', exact: true }).click();
    await row.getByRole('button', { name: 'Connecting…' }).waitFor();
    expect(await row.getByRole('button', { name: 'Disconnect' }).isEnabled()).toBe(true);
    expect(await row.getByRole('button', { name: 'Remove', exact: true }).isEnabled()).toBe(true);
    await page.getByTestId('tunnel-states').locator('.tunnel', { hasText: 'far-vma' }).waitFor();
    await row.getByRole('button', { name: 'Disconnect' }).click();
    await row.getByRole('button', { name: 'Connect', exact: true }).waitFor({ timeout: 10_000 });

    // Remove asks, saying what it does; Cancel keeps everything.
    await row.getByRole('button', { name: 'Remove', exact: true }).click();
    const ask = row.getByRole('alertdialog', { name: 'Remove far-vma' });
    await expect(ask.innerText()).resolves.toMatch(/SSH secret is deleted.*1 managed VM uses it and cannot be discovered or replicated/s);
    await screenshot(page, 'settings-remove-appliance-confirm');
    await ask.getByRole('button', { name: 'Cancel' }).click();
    expect(await row.count()).toBe(1);
    expect(core.appliances.list().map((a) => a.name)).toContain('far-vma');

    await row.getByRole('button', { name: 'Remove', exact: true }).click();
    await row.getByRole('button', { name: 'Remove far-vma' }).click();
    await row.waitFor({ state: 'detached' });
    // The header forgets it at once (no reload, no stale dot).
    await expect
      .poll(async () => page.locator('header .tunnel-name').allTextContents(), { timeout: 3_000 })
      .not.toContain('far-vma');

    // An appliance's address can be corrected in place; the change is saved and recorded.
    const spare = page.locator('tr[data-appliance="spare-vma"]');
    await spare.getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit appliance spare-vma' });
    await form.getByRole('textbox', { name: /^Host/ }).fill('127.0.0.9');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.waitFor({ state: 'detached' });
    await spare.getByText(/root@127\.0\.0\.9:/).waitFor();
    expect(core.logbook.operations({ kind: 'appliance', text: 'spare-vma changed' })).toHaveLength(1);

    // Credentials: the same question with the credential's consequence.
    const credRow = page.locator('tr', { hasText: 'lab-vc' });
    await credRow.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(credRow.getByRole('alertdialog').innerText()).resolves.toMatch(/password is deleted from the secret store.*1 managed VM uses it/s);
    await credRow.getByRole('button', { name: 'Cancel' }).click();
    expect(core.credentials.list()).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows errors as what happened and what to do, never an internal channel name', async () => {
    const { page } = await browser.newPage();
    await page.goto(bridge.url);
    await page.locator('nav [data-screen="logs"]').click();
    await page.getByTestId('log-to').fill('2026-01-01');
    await page.getByTestId('log-from').fill('2026-02-01');
    const box = page.locator('.error-box');
    await box.waitFor();
    const text = await box.innerText();
    expect(text).toMatch(/^Invalid input: to: from must be before to/);
    expect(text).toMatch(/Correct the value named above and try again; nothing was changed\./);
    expect(text).not.toMatch(/logs:operations|Invalid request for/);
    await page.close();
  }, 30_000);

  it('says so when the core is unreachable, marks the data stale and disables actions with the reason', async () => {
    const { page } = await browser.newPage();
    await page.goto(bridge.url);
    await page.locator('nav [data-screen="settings"]').click();
    const spare = page.locator('tr[data-appliance="spare-vma"]');
    await spare.waitFor();
    expect(await page.getByTestId('core-unreachable').count()).toBe(0);
    await bridge.close();
    const banner = page.getByTestId('core-unreachable');
    await banner.waitFor({ timeout: 10_000 });
    await expect(banner.innerText()).resolves.toMatch(/The console core is unreachable\..*out of date, and actions are disabled until it is back/s);
    expect(await page.locator('main.content').getAttribute('data-stale')).toBe('true');
    expect(await spare.getByRole('button', { name: 'Connect', exact: true }).isDisabled()).toBe(true);
    expect(await spare.getByRole('button', { name: 'Remove', exact: true }).isDisabled()).toBe(true);
    expect(await page.locator('main fieldset').getAttribute('title')).toMatch(/unreachable; actions are disabled/);
    await screenshot(page, 'core-unreachable');
    await page.close();
  }, 30_000);
});
