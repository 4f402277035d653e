// Discovery in a real Chromium against the embedded lab: the VMA's substring filter, adding a VM to
// management, a second operator's add clearing the first one's selection, and the tunnel indicator.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, type LabApp, type TestBrowser, useLab } from '../fixtures/browser';

let browser: TestBrowser;
let lab: LabApp;

useLab((s) => ({ browser, lab } = s));

async function discover(page: Page, filter: string): Promise<void> {
  await page.locator('nav [data-screen="discovery"]').click();
  const form = page.locator('form.toolbar');
  await form.getByLabel('VMA appliance').selectOption({ label: 'lab-vma (127.0.0.1)' });
  await form.getByLabel('vCenter credential').selectOption({ label: `lab-vcenter (${lab.rig.vcenterHost})` });
  await form.getByLabel('Name filter').fill(filter);
  await form.getByRole('button', { name: 'Discover' }).click();
  await page.getByRole('table', { name: 'Discovered VMs' }).waitFor({ timeout: 20_000 });
}

const discoveredNames = (page: Page) =>
  page.getByRole('table', { name: 'Discovered VMs' }).locator('.vbody .cell.name').allTextContents();

describe('discovery against the lab', () => {
  it('filters, adds a VM, drops it from another window\'s selection once managed, and shows it under management', async () => {
    const first = await browser.newPage();
    const second = await browser.newPage();
    await first.page.goto(lab.url);
    await second.page.goto(lab.url);

    // Operator 1 discovers "web1": the VMA filters by substring, so web10 is listed too.
    await discover(first.page, 'web1');
    expect((await discoveredNames(first.page)).sort()).toEqual(['web1', 'web10']);
    await expect(first.page.locator('.toolbar.secondary').textContent()).resolves.toContain(`2 VMs in LabDC on ${lab.rig.vcenterHost}`);
    await screenshot(first.page, 'lab-discovery-results');

    // The discovery opened the SSH tunnel to lab-vma: the header says it is ready.
    const vmaTunnel = first.page.getByTestId('tunnel-states').locator('.tunnel', { hasText: 'lab-vma' });
    await vmaTunnel.locator('.tunnel-text', { hasText: /^ready$/ }).waitFor({ timeout: 15_000 });
    expect(await vmaTunnel.getAttribute('class')).toContain('tunnel-ready');

    // Operator 1 ticks web1; meanwhile operator 2 discovers too and adds it.
    await first.page.getByLabel('Select web1', { exact: true }).check();
    await first.page.getByRole('button', { name: 'Add to management (1)' }).waitFor();
    await discover(second.page, 'web1');
    await second.page.getByLabel('Select web1', { exact: true }).check();
    await second.page.getByRole('button', { name: 'Add to management (1)' }).click();
    await expect(second.page.getByTestId('add-success').textContent()).resolves.toBe('Added 1 to management: web1');
    await screenshot(second.page, 'lab-discovery-added');

    // Operator 1's result follows the live contexts: web1 turns managed, leaves the selection (so no
    // conflicting add can be sent from here; the core's refusal of a racing add is an integration test)
    // and cannot be ticked again.
    await first.page.getByRole('button', { name: 'Add to management (0)' }).waitFor({ timeout: 10_000 });
    await expect(first.page.getByRole('button', { name: 'Add to management (0)' }).isDisabled()).resolves.toBe(true);
    const web1Stale = first.page.getByRole('table', { name: 'Discovered VMs' }).getByRole('row').filter({ hasText: /web1(?!0)/ });
    await web1Stale.locator('.badge-managed').waitFor();
    await expect(first.page.getByLabel('Select web1', { exact: true }).isDisabled()).resolves.toBe(true);
    await screenshot(first.page, 'lab-discovery-conflict');

    // Running discovery again shows web1 as managed, and it can no longer be selected.
    await discover(first.page, 'web1');
    const web1Row = first.page.getByRole('table', { name: 'Discovered VMs' }).getByRole('row').filter({ hasText: /web1(?!0)/ });
    await web1Row.locator('.badge-managed').waitFor();
    await expect(first.page.getByLabel('Select web1', { exact: true }).isDisabled()).resolves.toBe(true);
    await expect(first.page.getByLabel('Select web10', { exact: true }).isDisabled()).resolves.toBe(false);

    // The VM is under management, once, in the Virtual Machines table.
    await first.page.locator('nav [data-screen="vms"]').click();
    const table = first.page.getByRole('table', { name: 'Virtual machines' });
    await table.locator('.vbody .cell.name', { hasText: 'web1' }).waitFor();
    expect(await table.locator('.vbody .cell.name').allTextContents()).toEqual(['web1']);
    await expect(table.getByRole('row').filter({ hasText: 'web1' }).locator('.badge').getAttribute('data-status')).resolves.toBe('discovered');
    expect(lab.rig.core.contexts.list().map((c) => c.name)).toEqual(['web1']);
    await screenshot(first.page, 'lab-discovery-vms');

    expect(first.errors).toEqual([]);
    expect(second.errors).toEqual([]);
    await first.page.close();
    await second.page.close();
  }, 60_000);
});
