// Settings in a real Chromium against the embedded lab: vCenter credentials through the form (the
// password never comes back), the CloudStack connection test with the right and a wrong secret key
// and the pickers filled from the simulator, and SSH host-key trust on first use with the real sshd,
// including a rotated host key that nothing connects past until the operator re-trusts it.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { screenshot, type LabApp, type TestBrowser, useLab } from '../fixtures/browser';
import { freePort } from '../fixtures/sshd';

let browser: TestBrowser;
let lab: LabApp;

useLab((s) => ({ browser, lab } = s));

async function openSettings(): Promise<{ page: Page; errors: string[] }> {
  const opened = await browser.newPage();
  await opened.page.goto(lab.url);
  await opened.page.locator('nav [data-screen="settings"]').click();
  await opened.page.getByRole('heading', { name: 'Appliances' }).waitFor();
  return opened;
}

/** The rendered check list as { name: ok } plus the message of each check. */
async function checks(form: Locator): Promise<{ name: string; ok: boolean; text: string }[]> {
  const list = form.getByTestId('cloudstack-checks');
  await list.waitFor({ timeout: 15_000 });
  return list.locator('li').evaluateAll((items) =>
    items.map((li) => ({
      name: li.querySelector('strong')?.textContent ?? '',
      ok: li.classList.contains('ok'),
      text: li.textContent ?? '',
    })),
  );
}

async function testConnection(form: Locator): Promise<{ name: string; ok: boolean; text: string }[]> {
  await form.getByRole('button', { name: 'Test connection' }).click();
  // The list is removed when a test starts and comes back with the new result.
  await form.getByRole('button', { name: 'Test connection' }).waitFor();
  return checks(form);
}

/**
 * A text field or select by its accessible name, which starts with its label (a field error shown
 * inside the label follows it).
 */
const field = (scope: Locator, label: string): Locator => {
  const name = new RegExp(`^${label}(\\s|$)`);
  return scope.getByRole('textbox', { name }).or(scope.getByRole('combobox', { name }));
};

/** Clicks a row action and waits until the row has finished it (a connect waits for ready or failed). */
async function rowAction(page: Page, appliance: string, button: Locator): Promise<void> {
  await button.click();
  await page.locator(`tr[data-appliance="${appliance}"][aria-busy="false"]`).waitFor({ timeout: 20_000 });
}

const optionTexts = (select: Locator) => select.locator('option').allTextContents();

describe('settings against the lab', () => {
  it('adds a vCenter credential through the form without ever showing its password back', async () => {
    const { page, errors } = await openSettings();
    const form = page.getByRole('form', { name: 'Add vCenter credential' });
    const password = `pw-${randomBytes(9).toString('hex')}`;

    // An empty form names every missing field and sends nothing.
    await form.getByRole('button', { name: 'Add credential' }).click();
    await expect(form.locator('.field-error').allTextContents()).resolves.toEqual([
      'Name is required',
      'vCenter host is required',
      'Datacenter is required',
      'Username is required',
      'Password is required',
    ]);
    expect(lab.rig.core.credentials.list()).toHaveLength(1);

    await field(form, 'Name').fill('vc-ui');
    await field(form, 'vCenter host').fill('vcenter-ui.lab.invalid');
    await field(form, 'Datacenter').fill('DC-UI');
    await field(form, 'Username').fill('ui-operator@lab.invalid');
    await field(form, 'Password').fill(password);
    await form.getByRole('button', { name: 'Add credential' }).click();

    const card = page.getByRole('region', { name: 'vCenter credentials' });
    const row = card.getByRole('row').filter({ hasText: 'vc-ui' });
    await row.waitFor();
    await expect(row.locator('td').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['vc-ui', 'vcenter-ui.lab.invalid', 'DC-UI', 'ui-operator@lab.invalid', 'stored in the secret store']),
    );
    // The form was cleared, and the password is nowhere on the page: not in the text, not in any input.
    await expect(field(form, 'Password').inputValue()).resolves.toBe('');
    expect(await page.locator('body').innerText()).not.toContain(password);
    expect(await page.content()).not.toContain(password);
    const inputValues = await page.locator('input, textarea').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    expect(inputValues.join('\n')).not.toContain(password);

    const stored = lab.rig.core.credentials.list().find((c) => c.name === 'vc-ui');
    expect(stored).toMatchObject({ vcenterHost: 'vcenter-ui.lab.invalid', datacenter: 'DC-UI', username: 'ui-operator@lab.invalid', hasSecret: true });
    expect(JSON.stringify(stored)).not.toContain(password);
    await screenshot(page, 'lab-settings-credentials');
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('tests the CloudStack connection, names a wrong secret key, and fills the pickers from CloudStack', async () => {
    const { page, errors } = await openSettings();
    const cs = lab.rig.cloudstack;
    const form = page.getByRole('form', { name: 'CloudStack connection' });
    await expect(field(form, 'API URL').inputValue()).resolves.toBe(cs.url);

    const good = await testConnection(form);
    expect(good.map((c) => c.name)).toEqual(['API endpoint', 'API key and secret', 'Zones', 'Disk offerings', 'Service offerings', 'Templates', 'Networks']);
    expect(good.filter((c) => !c.ok)).toEqual([]);

    // The pickers list what the simulator has, with the saved choices selected.
    const zone = field(form, 'Zone');
    const zones = [...cs.state.zones.values()];
    await expect.poll(() => optionTexts(zone)).toEqual(['— not set —', ...zones.map((z) => `${z.name} (${z.networktype})`)]);
    await expect(zone.inputValue()).resolves.toBe(zones[0]!.id);
    const diskOffering = field(form, 'Disk offering');
    const offeringNames = (await optionTexts(diskOffering)).slice(1).map((t) => t.replace(/ \(.*\)$/, ''));
    expect(offeringNames.sort()).toEqual([...cs.state.diskOfferings.values()].map((o) => o.name).sort());
    await expect(diskOffering.inputValue()).resolves.toBe([...cs.state.diskOfferings.values()].find((o) => o.iscustomized)!.id);
    const omaVm = field(form, 'OMA appliance VM');
    await expect(omaVm.inputValue()).resolves.toBe(cs.omaVmId);
    expect(await omaVm.locator('option:checked').textContent()).toBe(`${cs.state.vms.get(cs.omaVmId)!.name} (Running)`);
    for (const [label, names] of [
      ['Service offering', [...cs.state.serviceOfferings.values()].map((o) => o.name)],
      ['Template', [...cs.state.templates.values()].map((t) => t.name)],
      ['Default network', [...cs.state.networks.values()].map((n) => n.name)],
    ] as const) {
      const texts = (await optionTexts(field(form, label))).slice(1).map((t) => t.replace(/ \(.*\)$/, ''));
      expect(texts.sort(), label).toEqual([...names].sort());
    }
    await screenshot(page, 'lab-settings-cloudstack-ok');

    // A wrong secret key: the key/signature check fails and says what to fix.
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    await field(form, 'Secret key').fill(wrong);
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    // The save is checked at once and says it saved a configuration that cannot work.
    await form.getByTestId('cloudstack-saved-with-problems').filter({ hasText: 'Saved, with problems: API key and secret failed' }).waitFor();
    expect(await form.locator('.success', { hasText: 'Saved.' }).count()).toBe(0);
    await expect(field(form, 'Secret key').inputValue()).resolves.toBe('');
    const bad = await testConnection(form);
    expect(bad.find((c) => c.name === 'API endpoint')?.ok).toBe(true);
    const keyCheck = bad.find((c) => c.name === 'API key and secret');
    expect(keyCheck?.ok).toBe(false);
    expect(keyCheck?.text).toMatch(/refused the API key or the request signature \(HTTP 401\).*secret key/);
    expect(await page.locator('body').innerText()).not.toContain(wrong);
    // The options cannot be loaded with that key: the form says why, and the saved zone still reads as its name.
    await form.getByRole('alert').filter({ hasText: 'HTTP 401' }).waitFor();
    await expect(zone.locator('option:checked').textContent()).resolves.toBe(zones[0]!.name);
    await screenshot(page, 'lab-settings-cloudstack-wrong-key');

    // The right key again: every check passes.
    await field(form, 'Secret key').fill(cs.secretKey);
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await form.locator('.success', { hasText: 'Saved.' }).waitFor();
    const again = await testConnection(form);
    expect(again.filter((c) => !c.ok)).toEqual([]);
    expect(again).toHaveLength(7);
    expect(await page.locator('body').innerText()).not.toContain(cs.secretKey);
    // The pickers still hold the saved choices.
    await expect(zone.inputValue()).resolves.toBe(zones[0]!.id);
    await expect(omaVm.inputValue()).resolves.toBe(cs.omaVmId);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  // Last: rotating the sshd host key also affects lab-vma and lab-oma, which share the sshd.
  it('trusts a new appliance host key on first use, and refuses a rotated key until it is re-trusted', async () => {
    const { page, errors } = await openSettings();
    const { sshd, vma } = lab.rig;
    const callbackPort = await freePort();
    const form = page.getByRole('form', { name: 'Add appliance' });
    await field(form, 'Kind').selectOption('vma');
    await field(form, 'Name').fill('vma-ui');
    await field(form, 'Host').fill('127.0.0.1');
    await field(form, 'SSH port').fill(String(sshd.port));
    await field(form, 'Username').fill(sshd.username);
    await field(form, 'Authentication').selectOption('private_key');
    await field(form, 'Private key').fill(sshd.clientPrivateKey);
    await field(form, 'API port').fill(String(vma.port));
    await field(form, 'Callback port').fill(String(callbackPort));
    await form.getByRole('button', { name: 'Add appliance' }).click();

    const row = page.locator('tr[data-appliance="vma-ui"]');
    await row.waitFor();
    const added = lab.rig.core.appliances.list().find((a) => a.name === 'vma-ui')!;
    expect(added).toMatchObject({ kind: 'vma', port: sshd.port, apiPort: vma.port, callbackPort, authMethod: 'private_key', hostKeyFingerprint: null });
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe('not pinned');
    expect(await page.content()).not.toContain('PRIVATE KEY-----\n');
    await expect(field(form, 'Private key').inputValue()).resolves.toBe('');

    // First connect: the appliance offers its key and the console asks before trusting it.
    await rowAction(page, 'vma-ui', row.getByRole('button', { name: 'Connect', exact: true }));
    const dialog = page.getByRole('dialog', { name: 'Trust host key' });
    await dialog.waitFor({ timeout: 15_000 });
    const firstKey = sshd.hostKeyFingerprint;
    await expect(dialog.locator('.fingerprint').textContent()).resolves.toBe(firstKey);
    expect(lab.rig.core.appliances.state(added.id).state).toBe('failed');
    await screenshot(page, 'lab-settings-trust-dialog');
    await dialog.getByRole('button', { name: 'Trust', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    const tunnel = row.getByTestId('appliance-tunnel');
    await row.locator('[data-testid="appliance-tunnel"][data-state="ready"]').waitFor({ timeout: 15_000 });
    await expect(tunnel.textContent()).resolves.toBe('ready');
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe(firstKey);
    expect(lab.rig.core.appliances.list().find((a) => a.id === added.id)?.hostKeyFingerprint).toBe(firstKey);
    // The header names the new appliance's tunnel too (its list was loaded before the appliance existed).
    await page.getByTestId('tunnel-states').locator('.tunnel', { hasText: 'vma-ui' }).locator('.tunnel-text', { hasText: /^ready$/ }).waitFor();
    await screenshot(page, 'lab-settings-trusted');
    // The OMA row says who can reach its replicas over NBD (the lab's nbdkit listens on loopback, no filter).
    await expect(page.locator('tr[data-appliance="lab-oma"]').getByTestId('appliance-nbd-access').textContent()).resolves.toBe(
      'nbdkit on 127.0.0.1: only the appliance itself and SSH forwards reach the replicas',
    );

    // The appliance's host key changes; the operator reconnects.
    await sshd.rotateHostKey();
    const newKey = sshd.hostKeyFingerprint;
    expect(newKey).not.toBe(firstKey);
    await rowAction(page, 'vma-ui', row.getByRole('button', { name: 'Disconnect', exact: true }));
    await row.locator('[data-testid="appliance-tunnel"][data-state="disconnected"]').waitFor();
    await rowAction(page, 'vma-ui', row.getByRole('button', { name: 'Connect', exact: true }));
    const mismatch = row.getByTestId('host-key-changed');
    await mismatch.waitFor({ timeout: 15_000 });
    await expect(mismatch.getByTestId('expected-fingerprint').textContent()).resolves.toBe(firstKey);
    await expect(mismatch.getByTestId('offered-fingerprint').textContent()).resolves.toBe(newKey);
    await expect(tunnel.getAttribute('data-state')).resolves.toBe('failed');
    await expect(tunnel.textContent()).resolves.toBe('failed: host key changed');
    // No trust prompt for a changed key: only the explicit re-trust.
    await expect(dialog.count()).resolves.toBe(0);
    const retrust = row.getByRole('button', { name: /^Re-trust/ });
    await expect(retrust.isVisible()).resolves.toBe(true);
    await screenshot(page, 'lab-settings-host-key-changed');
    // Nothing connects past a changed key, even when asked again.
    await rowAction(page, 'vma-ui', row.getByRole('button', { name: 'Connect', exact: true }));
    await mismatch.waitFor();
    await expect(tunnel.getAttribute('data-state')).resolves.toBe('failed');
    expect(lab.rig.core.appliances.state(added.id)).toMatchObject({ state: 'failed', errorCode: 'host_key_mismatch' });
    expect(lab.rig.core.appliances.list().find((a) => a.id === added.id)?.hostKeyFingerprint).toBe(firstKey);

    // Re-trust forgets the old key and asks about the new one.
    await rowAction(page, 'vma-ui', retrust);
    await dialog.waitFor({ timeout: 15_000 });
    await expect(dialog.locator('.fingerprint').textContent()).resolves.toBe(newKey);
    await dialog.getByRole('button', { name: 'Trust', exact: true }).click();
    await row.locator('[data-testid="appliance-tunnel"][data-state="ready"]').waitFor({ timeout: 15_000 });
    await expect(mismatch.count()).resolves.toBe(0);
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe(newKey);
    expect(lab.rig.core.appliances.list().find((a) => a.id === added.id)?.hostKeyFingerprint).toBe(newKey);
    await screenshot(page, 'lab-settings-retrusted');
    expect(errors).toEqual([]);
    await page.close();
  }, 45_000);
});
