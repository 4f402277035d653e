// Discovery results for a larger inventory in a real Chromium against the embedded lab: the loaded
// inventory is filtered locally ("9 of 43"), sorted by any column, and a ticked VM that another window
// adds to management leaves this window's selection.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, type LabApp, type TestBrowser, useLab } from '../fixtures/browser';
import { LAB_DATACENTER } from '../lab/rig';
import type { SimVmSpec } from '../sim/vma/index';

const MiB = 1024 * 1024;
function fleet(): SimVmSpec[] {
  const vm = (i: number, name: string, cpus: number): SimVmSpec => ({
    id: `4205aaaa-0000-0000-0000-${String(i).padStart(12, '0')}`,
    name,
    datacenter: LAB_DATACENTER,
    guestOs: i % 2 ? 'linux' : 'windows',
    numCpu: cpus,
    memoryMb: 2048,
    disks: [{ key: 2000, capacityBytes: MiB, unitNumber: 0 }],
    networks: [{ networkName: 'VLAN-200-web' }],
  });
  return [
    ...Array.from({ length: 9 }, (_, i) => vm(i, `web-${String(i + 1).padStart(2, '0')}`, 2)),
    ...Array.from({ length: 34 }, (_, i) => vm(100 + i, `app-${String(i + 1).padStart(2, '0')}`, i === 33 ? 16 : 4)),
  ];
}

let browser: TestBrowser;
let lab: LabApp;

useLab((s) => ({ browser, lab } = s), { inventory: fleet() });

async function discoverAll(page: Page): Promise<void> {
  await page.locator('nav [data-screen="discovery"]').click();
  const form = page.locator('form.toolbar');
  await form.getByLabel('VMA appliance').selectOption({ label: 'lab-vma (127.0.0.1)' });
  await form.getByLabel('vCenter credential').selectOption({ label: `lab-vcenter (${lab.rig.vcenterHost})` });
  await form.getByRole('button', { name: 'Discover' }).click();
  await page.getByRole('table', { name: 'Discovered VMs' }).waitFor({ timeout: 20_000 });
}

const names = (page: Page) => page.getByRole('table', { name: 'Discovered VMs' }).locator('.vbody .cell.name').allTextContents();

describe('discovery results for a larger inventory', () => {
  it('filters locally, sorts, and drops a selection that became managed elsewhere', async () => {
    const first = await browser.newPage();
    const second = await browser.newPage();
    await first.page.setViewportSize({ width: 1280, height: 720 });
    await first.page.goto(lab.url);
    await second.page.goto(lab.url);
    await discoverAll(first.page);
    const count = first.page.getByTestId('discovery-count');
    await count.getByText(/^43 VMs in /).waitFor();
    const discoveries = () => lab.rig.vma.requests.filter((r) => r.endpoint === 'discover').length;
    const callsBefore = discoveries();

    // The filter works on the loaded inventory: "9 of 43", no new discovery.
    await first.page.getByRole('searchbox', { name: /Filter discovered VMs/ }).fill('web');
    await count.getByText(/^9 of 43 VMs in /).waitFor();
    expect(await names(first.page)).toEqual(['web-01', 'web-02', 'web-03', 'web-04', 'web-05', 'web-06', 'web-07', 'web-08', 'web-09']);
    expect(discoveries()).toBe(callsBefore);

    // Sortable: name descending, then CPU descending brings the 16-vCPU VM to the top of the full list.
    const table = first.page.getByRole('table', { name: 'Discovered VMs' });
    // Already by name ascending: one click turns it round.
    await table.getByRole('columnheader', { name: /Name/ }).getByRole('button').click();
    await expect(table.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).resolves.toBe('descending');
    expect((await names(first.page))[0]).toBe('web-09');
    await screenshot(first.page, 'ui-discovery-filtered-1280');
    await first.page.getByRole('searchbox', { name: /Filter discovered VMs/ }).fill('');
    await count.getByText(/^43 VMs in /).waitFor();
    await table.getByRole('columnheader', { name: /CPU/ }).getByRole('button').click();
    await table.getByRole('columnheader', { name: /CPU/ }).getByRole('button').click();
    expect((await names(first.page))[0]).toBe('app-34');

    // Tick two VMs here; another window adds one of them: it leaves this selection.
    await first.page.getByRole('searchbox', { name: /Filter discovered VMs/ }).fill('web-0');
    await first.page.getByLabel('Select web-03', { exact: true }).check();
    await first.page.getByLabel('Select web-04', { exact: true }).check();
    await first.page.getByRole('button', { name: 'Add to management (2)' }).waitFor();
    await discoverAll(second.page);
    await second.page.getByRole('searchbox', { name: /Filter discovered VMs/ }).fill('web-03');
    await second.page.getByLabel('Select web-03', { exact: true }).check();
    await second.page.getByRole('button', { name: 'Add to management (1)' }).click();
    await second.page.getByTestId('add-success').waitFor();
    await first.page.getByRole('button', { name: 'Add to management (1)' }).waitFor({ timeout: 10_000 });
    await expect(first.page.getByLabel('Select web-03', { exact: true }).isDisabled()).resolves.toBe(true);
    await expect(first.page.getByLabel('Select web-04', { exact: true }).isChecked()).resolves.toBe(true);
    await screenshot(first.page, 'ui-discovery-pruned-1280');
    await first.page.setViewportSize({ width: 1440, height: 900 });
    await screenshot(first.page, 'ui-discovery-pruned-1440');
    expect(first.errors).toEqual([]);
    expect(second.errors).toEqual([]);
    await first.page.close();
    await second.page.close();
  }, 180_000);
});
