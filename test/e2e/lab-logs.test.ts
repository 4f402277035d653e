// Logs see everything, live (issue 12): in a real Chromium against the embedded lab, the rig's own
// setup (appliances added and trusted, the vCenter credential, the CloudStack configuration) is in the
// log; a discovery and a VM added while the Logs screen is open appear without a reload; the text
// search and the date range are answered by the core; an export says where the file was written.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { screenshot, type LabApp, type TestBrowser, useLab } from '../fixtures/browser';

let browser: TestBrowser;
let lab: LabApp;

useLab((s) => ({ browser, lab } = s));

/** A date input's value (yyyy-mm-dd) for a local day `days` from today. */
const localDay = (days: number): string => {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

describe('Logs against the lab', () => {
  it('shows every recorded action, follows new ones live, searches in the core and confirms an export', async () => {
    const { page, errors } = await browser.newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(lab.url);
    await page.locator('nav [data-screen="logs"]').click();
    const table = page.getByTestId('log-operations');
    const titles = () => table.locator('tbody tr td:nth-child(3)').allTextContents();
    await table.waitFor();
    // The rig's setup, done through the same services the screens use.
    expect(await titles()).toEqual(
      expect.arrayContaining([
        'VMA lab-vma added',
        'OMA lab-oma added',
        'Host key of lab-vma trusted',
        'vCenter credential lab-vcenter added',
        'CloudStack configuration saved',
      ]),
    );

    // Discovery and adding a VM happen elsewhere (another window, mkc): the open list follows.
    await lab.rig.manage(['web10']);
    await table.locator('tbody tr', { hasText: 'web10 added to management' }).waitFor({ timeout: 10_000 });
    await table.locator('tbody tr', { hasText: `Discovery on ${lab.rig.vcenterHost} through lab-vma` }).first().waitFor();
    await screenshot(page, 'logs-live');

    // Text search runs in the core: it matches event messages too, not only titles.
    await page.getByTestId('log-search').fill('web10');
    await expect.poll(titles, { timeout: 5_000 }).toEqual(['web10 added to management', `Discovery on ${lab.rig.vcenterHost} through lab-vma (filter "web10")`]);
    await page.getByTestId('log-search').fill('already managed');
    // The discovery's event says how many found VMs were already managed.
    await expect.poll(titles, { timeout: 5_000 }).toEqual([`Discovery on ${lab.rig.vcenterHost} through lab-vma (filter "web10")`]);
    await page.getByTestId('log-search').fill('');

    // A date range: from tomorrow nothing matches; today only matches everything.
    await page.getByTestId('log-from').fill(localDay(1));
    await page.getByText('No operations match these filters.').waitFor();
    await page.getByTestId('log-from').fill(localDay(0));
    await page.getByTestId('log-to').fill(localDay(0));
    await expect.poll(async () => (await titles()).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(8);

    // A "to" before "from" is refused by the core's schema, with what is wrong.
    await page.getByTestId('log-from').fill(localDay(1));
    await page.locator('.error-box', { hasText: 'from must be before to' }).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await table.waitFor();

    // Export writes a file and says where.
    await page.getByTestId('log-search').fill('lab-vma');
    await expect.poll(titles, { timeout: 5_000 }).toContain('VMA lab-vma added');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export matching' }).click()]);
    const done = page.getByTestId('export-done');
    await done.waitFor();
    const written = (await done.locator('code').textContent())!;
    expect(written.startsWith(lab.rig.core.dataDir)).toBe(true);
    const text = fs.readFileSync(written, 'utf8');
    expect(text).toContain('VMA lab-vma added');
    expect(text).not.toContain('vCenter credential lab-vcenter added');
    expect(fs.readFileSync(await download.path(), 'utf8')).toBe(text);
    await screenshot(page, 'logs-export-done');
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('edits a vCenter credential and tests it through the VMA, both recorded in the log', async () => {
    const { page, errors } = await browser.newPage();
    await page.goto(lab.url);
    await page.locator('nav [data-screen="settings"]').click();
    const row = page.locator('tr[data-credential="lab-vcenter"]');
    await row.waitFor();
    const test = async () => {
      await row.getByRole('button', { name: 'Test', exact: true }).click();
      const check = row.getByTestId('credential-test').locator('.check');
      await check.waitFor({ timeout: 20_000 });
      return { ok: (await check.getAttribute('data-ok')) === 'true', text: await check.innerText() };
    };
    await expect(test()).resolves.toEqual({ ok: true, text: expect.stringContaining(`${lab.rig.vcenterHost} accepted svc-migrate@lab.invalid`) });

    // A wrong password saved through Edit: the test says the login failed; the stored password is never shown.
    const edit = async (password: string) => {
      await row.getByRole('button', { name: 'Edit' }).click();
      const form = page.getByRole('form', { name: 'Edit vCenter credential lab-vcenter' });
      await expect(form.getByRole('textbox', { name: /^vCenter host/ }).inputValue()).resolves.toBe(lab.rig.vcenterHost);
      await form.getByLabel('New password').fill(password);
      await form.getByRole('button', { name: 'Save changes' }).click();
      await form.waitFor({ state: 'detached' });
    };
    await edit('not-the-password');
    const bad = await test();
    expect(bad.ok).toBe(false);
    await screenshot(page, 'settings-credential-test-failed');
    await edit(lab.rig.vcenterPassword);
    await expect(test()).resolves.toMatchObject({ ok: true });
    expect(await page.locator('body').innerText()).not.toContain(lab.rig.vcenterPassword);

    const ops = lab.rig.core.logbook.operations({ kind: 'credential', text: 'lab-vcenter' }).map((o) => [o.title, o.status]);
    expect(ops.slice(0, 5)).toEqual([
      ['vCenter credential lab-vcenter tested', 'completed'],
      ['vCenter credential lab-vcenter changed', 'completed'],
      ['vCenter credential lab-vcenter tested', 'failed'],
      ['vCenter credential lab-vcenter changed', 'completed'],
      ['vCenter credential lab-vcenter tested', 'completed'],
    ]);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
