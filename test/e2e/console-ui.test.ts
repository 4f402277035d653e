// The operator console in a real Chromium against a real headless core (issue 12): numbers that stay
// true (ticking ages, unambiguous dates, percent from bytes, one status vocabulary), a VM list for a
// fleet (search, sort, status summary, bulk actions, columns that fit at 1280 px) and the keyboard.
import { describe, expect, it } from 'vitest';
import type { Core } from '../../main/core/core';
import { makeDiscoveredVm, screenshot, useBridgeApps } from '../fixtures/browser';

const { app, open } = useBridgeApps({ viewport: { width: 1440, height: 900 } });

const add = (core: Core, name: string, disks = 1) =>
  core.contexts.add({ vm: makeDiscoveredVm(name, disks), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });

/** A real completed sync that ended `agoMs` ago (claimed and finished through the job repository). */
function syncedAgo(core: Core, contextId: string, agoMs: number): string {
  const end = Date.now() - agoMs;
  const job = core.jobs.claim({ contextId, trigger: 'cli', now: new Date(end - 30_000) });
  core.jobs.finish(job.id, 'completed', null, new Date(end));
  return job.id;
}

const ageSeconds = (text: string): number => {
  const m = /^(?:(\d+)m )?(\d+)s ago$/.exec(text.trim());
  if (!m) throw new Error(`not an age in seconds: "${text}"`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
};

const NUMERIC_DATE = /\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b/;

describe('numbers that stay true', () => {
  it('replica age ticks on its own in the table and the panel, with the absolute time on hover', async () => {
    let agedId = '';
    const a = await app((core) => {
      agedId = add(core, 'aged-vm').id;
      syncedAgo(core, agedId, 165_000);
      add(core, 'never-synced');
    });
    const { page, errors } = await open(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    const row = table.locator(`[data-context-id="${agedId}"]`);
    const age = row.getByTestId('row-age').locator('time');
    await age.waitFor();
    const first = ageSeconds((await age.textContent()) ?? '');
    expect(first).toBeGreaterThanOrEqual(165);
    expect(first).toBeLessThan(200);
    // Nothing is pushed and nothing is clicked: the age must still move.
    await page.waitForFunction(
      ([id, prev]) => {
        const t = document.querySelector(`[data-context-id="${id}"] [data-testid="row-age"] time`)?.textContent ?? '';
        const m = /^(?:(\d+)m )?(\d+)s ago$/.exec(t.trim());
        return m !== null && Number(m[1] ?? 0) * 60 + Number(m[2]) >= Number(prev) + 2;
      },
      [agedId, first] as const,
      { timeout: 6000, polling: 200 },
    );
    // Hover gives the absolute time with the year, a month word and the zone; the last-sync cell is never 03/04/2026.
    const title = (await age.getAttribute('title')) ?? '';
    expect(title).toMatch(/\d{4}/);
    expect(title).toMatch(/[A-Za-z]{3,}/);
    const lastSync = (await row.locator('.col-lastsync').textContent()) ?? '';
    expect(lastSync).not.toMatch(NUMERIC_DATE);
    expect(lastSync).toMatch(/[A-Za-z]{3}/);
    expect(await row.locator('.col-lastsync time').getAttribute('title')).toBe(title);

    // A managed VM without a replica is "Not synced", not Discovery's "Discovered".
    const never = table.getByRole('row').filter({ hasText: 'never-synced' });
    await expect(never.locator('.badge').textContent()).resolves.toBe('Not synced');
    await expect(never.getByTestId('row-age').textContent()).resolves.toBe('no replica');

    // The panel's replica age ticks too.
    await row.click();
    const panelAge = page.getByTestId('panel-age').locator('time');
    await panelAge.waitFor();
    const p1 = ageSeconds((await panelAge.textContent()) ?? '');
    await page.waitForFunction(
      (prev) => {
        const t = document.querySelector('[data-testid="panel-age"] time')?.textContent ?? '';
        const m = /^(?:(\d+)m )?(\d+)s ago$/.exec(t.trim());
        return m !== null && Number(m[1] ?? 0) * 60 + Number(m[2]) >= prev + 2;
      },
      p1,
      { timeout: 6000, polling: 200 },
    );
    await expect(page.getByTestId('detail-panel').locator('.panel-head .badge').textContent()).resolves.toBe('Ready for failover');
    for (const t of await page.getByTestId('job-history').locator('time').allTextContents()) expect(t).not.toMatch(NUMERIC_DATE);
    await screenshot(page, 'ui-age-panel-1440');
    expect(errors).toEqual([]);
  });

  it('shows setup as a step, the percent from the bytes shown, and no peak before a byte moved', async () => {
    let id = '';
    let jobId = '';
    const a = await app((core) => {
      id = add(core, 'moving-vm', 2).id;
      jobId = core.jobs.claim({ contextId: id, trigger: 'cli' }).id;
    });
    const { page, errors } = await open(a.url);
    const row = page.locator(`[data-context-id="${id}"]`);
    await row.waitFor();
    const MiB = 1024 ** 2;
    const frame = (over: Record<string, unknown>) =>
      a.core.bus.emit('jobs:progress', {
        updates: [
          {
            jobId,
            vmContextId: id,
            status: 'replicating',
            phase: 'copying',
            progressPercent: 0,
            bytesTransferred: 0,
            totalBytes: 40 * MiB,
            rateBps: 0,
            etaSeconds: null,
            error: null,
            disks: [],
            ...over,
          },
        ],
      });
    // Setup: the row and the panel name the step; no percent of data is shown.
    frame({ status: 'provisioning', phase: 'creating volume 1 of 2', progressPercent: 3.3 });
    await row.getByText('creating volume 1 of 2…').waitFor();
    await expect(row.getByRole('progressbar').count()).resolves.toBe(0);
    await row.click();
    const job = page.getByTestId('job-section');
    await job.getByTestId('job-setup').waitFor();
    await expect(job.getByTestId('job-setup').textContent()).resolves.toBe('Setting up: creating volume 1 of 2');
    await expect(job.getByTestId('job-percent').count()).resolves.toBe(0);
    await expect(job.locator('.job-head .badge').textContent()).resolves.toBe('Provisioning volumes');
    await screenshot(page, 'ui-job-setup');

    // The copy has started but no byte has moved: the core says 3.3 % yet the bytes say 0 — the page follows the bytes.
    frame({ progressPercent: 3.3 });
    await job.getByTestId('job-percent').waitFor();
    await expect(job.getByTestId('job-percent').textContent()).resolves.toBe('0.0%');
    await expect(job.getByTestId('job-numbers').textContent()).resolves.toMatch(/^0 B of 40\.0 MiB/);
    frame({ progressPercent: 3.3 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="sparkline"]')?.getAttribute('data-samples')) >= 2);
    await expect(job.getByTestId('sparkline').textContent()).resolves.not.toContain('peak');
    await expect(job.getByTestId('sparkline').textContent()).resolves.not.toContain('1 B/s');

    // Bytes move: percent, bar and text agree, and the row says the same percent.
    frame({ progressPercent: 99, bytesTransferred: 10 * MiB, rateBps: 2 * MiB, etaSeconds: 15 });
    await job.getByTestId('job-percent').getByText('25.0%').waitFor();
    await expect(job.getByTestId('job-numbers').textContent()).resolves.toMatch(/^10\.0 MiB of 40\.0 MiB · 2\.0 MiB\/s · ETA 15s/);
    await expect(job.getByRole('progressbar', { name: 'Job progress' }).getAttribute('aria-valuenow')).resolves.toBe('25');
    await job.getByTestId('sparkline-peak').getByText('peak 2.0 MiB/s').waitFor();
    // The panel hides the progress column; close it to read the row.
    await page.keyboard.press('Escape');
    await expect(row.locator('.progress-text').textContent()).resolves.toMatch(/^25\.0% · 2\.0 MiB\/s · ETA 15s$/);
    await expect(row.locator('.badge').textContent()).resolves.toBe('Replicating');
    await screenshot(page, 'ui-job-bytes');

    // No step of the pipeline ever reads as a negative duration.
    await row.click();
    for (const d of await page.getByTestId('step-pipeline').locator('.pipe-duration').allTextContents()) expect(d).not.toContain('-');
    expect(errors).toEqual([]);
  });
});

describe('a VM list for a fleet', () => {
  function seedFleet(core: Core): Record<string, string> {
    const ids: Record<string, string> = {};
    for (let i = 1; i <= 40; i++) {
      const c = add(core, `app-${String(i).padStart(2, '0')}`);
      ids[c.name] = c.id;
      syncedAgo(core, c.id, i * 60_000);
    }
    for (const name of ['db-primary', 'db-replica', 'db-reports']) {
      const c = add(core, name, 2);
      ids[name] = c.id;
      core.jobs.claim({ contextId: c.id, trigger: 'cli' });
    }
    for (const name of ['legacy-box', 'legacy-ftp']) {
      const c = add(core, name);
      ids[name] = c.id;
      core.contexts.transition(c.id, 'failed', 'Volume attach failed: device did not appear');
    }
    const fresh = add(core, 'a-very-long-virtual-machine-name-that-will-not-fit-the-column');
    ids[fresh.name] = fresh.id;
    return ids;
  }

  it('searches, filters by status summary, sorts, and keeps status, last sync and age uncut at 1280 px', async () => {
    const a = await app(seedFleet);
    const { page, errors } = await open(a.url, { width: 1280, height: 720 });
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByText('app-01').waitFor();
    const summary = page.getByTestId('status-summary');
    await expect(summary.textContent()).resolves.toBe('2 failed · 3 replicating · 40 ready · 1 not synced');
    await screenshot(page, 'ui-vms-1280');

    // Search by name, by path and by status word.
    const search = page.getByRole('searchbox', { name: /Search VMs/ });
    await search.fill('db-');
    await page.getByTestId('vm-count').getByText('3 of 46 VMs shown').waitFor();
    await search.fill('/dc-test/vm/legacy');
    await page.getByTestId('vm-count').getByText('2 of 46 VMs shown').waitFor();
    await search.fill('not synced');
    await expect(table.locator('.vbody .cell.name').allTextContents()).resolves.toEqual(['a-very-long-virtual-machine-name-that-will-not-fit-the-column']);
    await search.fill('');

    // The summary filters: "2 failed" shows the two failed VMs; pressed again it clears.
    await summary.getByRole('button', { name: '2 failed' }).click();
    await expect(table.locator('.vbody .cell.name').allTextContents()).resolves.toEqual(['legacy-box', 'legacy-ftp']);
    await expect(summary.getByRole('button', { name: '2 failed' }).getAttribute('aria-pressed')).resolves.toBe('true');
    await summary.getByRole('button', { name: '2 failed' }).click();
    await page.getByTestId('vm-count').getByText('46 VMs under management').waitFor();

    // Sort by replica age: the six VMs without a replica first, then the oldest replica (app-40, synced 40 min ago).
    const ageHeader = table.getByRole('columnheader', { name: /Replica age/ });
    await ageHeader.getByRole('button').click();
    await ageHeader.getByRole('button').click();
    await expect(ageHeader.getAttribute('aria-sort')).resolves.toBe('descending');
    const byAge = await table.locator('.vbody .cell.name').allTextContents();
    expect(byAge.slice(0, 6).sort()).toEqual(
      ['a-very-long-virtual-machine-name-that-will-not-fit-the-column', 'db-primary', 'db-replica', 'db-reports', 'legacy-box', 'legacy-ftp'].sort(),
    );
    expect(byAge.slice(6, 8)).toEqual(['app-40', 'app-39']);
    // Sort by status: failures first.
    await table.getByRole('columnheader', { name: /Status/ }).getByRole('button').click();
    expect((await table.locator('.vbody .cell.name').allTextContents()).slice(0, 2)).toEqual(['legacy-box', 'legacy-ftp']);
    await table.getByRole('columnheader', { name: /Name/ }).getByRole('button').click();

    // The long name is cut with an ellipsis and has a tooltip; the scanned columns are never cut.
    const longRow = table.getByRole('row').filter({ hasText: 'a-very-long' });
    await expect(longRow.locator('.cell.name').getAttribute('title')).resolves.toContain('a-very-long-virtual-machine-name-that-will-not-fit-the-column');
    const uncut = async () =>
      page.evaluate(() =>
        [...document.querySelectorAll('.vm-table .vbody .vrow')].flatMap((r) =>
          ['.col-status', '.col-lastsync', '.col-age'].map((sel) => {
            const cell = r.querySelector<HTMLElement>(sel)!;
            const inner = cell.firstElementChild as HTMLElement | null;
            const visible = cell.offsetWidth > 0;
            const fits = cell.scrollWidth <= cell.clientWidth && (!inner || inner.getBoundingClientRect().right <= cell.getBoundingClientRect().right + 0.5);
            return visible && fits ? null : `${r.querySelector('.name')?.textContent}${sel}: ${cell.textContent} (${cell.scrollWidth}>${cell.clientWidth}, visible ${visible})`;
          }),
        ).filter(Boolean),
      );
    await expect(uncut()).resolves.toEqual([]);
    // With the detail panel open at 1280 px the same three columns still fit.
    await table.getByRole('row').filter({ hasText: 'app-07' }).click();
    await page.getByTestId('detail-panel').getByTestId('panel-age').waitFor();
    await expect(uncut()).resolves.toEqual([]);
    await screenshot(page, 'ui-vms-panel-1280');
    await page.setViewportSize({ width: 1440, height: 900 });
    await expect(uncut()).resolves.toEqual([]);
    await screenshot(page, 'ui-vms-panel-1440');
    await page.keyboard.press('Escape');
    await expect(uncut()).resolves.toEqual([]);
    await screenshot(page, 'ui-vms-1440');
    expect(errors).toEqual([]);
  });

  it('selects several VMs and replicates or cancels them in bulk, naming each refusal', async () => {
    let ids: Record<string, string> = {};
    const a = await app((core) => {
      ids = seedFleet(core);
    });
    const { page, errors } = await open(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByText('app-01').waitFor();
    const bulk = page.getByTestId('bulk-actions');

    // Tick the three running VMs through a search and "select all shown".
    await page.getByRole('searchbox', { name: /Search VMs/ }).fill('db-');
    await page.getByTestId('vm-count').getByText('3 of 46 VMs shown').waitFor();
    await table.getByRole('checkbox', { name: 'Select all shown' }).check();
    await bulk.getByText('3 selected').waitFor();
    await expect(bulk.getByRole('button', { name: /^Replicate/ }).isDisabled()).resolves.toBe(true);
    await bulk.getByRole('button', { name: 'Cancel jobs (3)' }).click();
    await bulk.getByText('Cancel 3 running jobs?').waitFor();
    await screenshot(page, 'ui-bulk-cancel-confirm');
    await bulk.getByRole('button', { name: 'Yes, cancel' }).click();
    await bulk.getByTestId('bulk-outcome').getByText('Cancelled 3 of 3.').waitFor();
    for (const name of ['db-primary', 'db-replica', 'db-reports']) {
      const id = ids[name]!;
      await page.waitForFunction((cid) => !document.querySelector(`[data-context-id="${cid}"] .progress-cell`), id);
      expect(a.core.contexts.require(id).currentJobId).toBeNull();
    }

    // Replicate a failed VM and a ready one: neither has an appliance, so the core refuses each, by name.
    await bulk.getByRole('button', { name: 'Clear selection' }).click();
    // The selection survives a new search, so it can be built up from several searches.
    const search = page.getByRole('searchbox', { name: /Search VMs/ });
    await search.fill('legacy-box');
    await table.getByRole('checkbox', { name: 'Select legacy-box' }).check();
    await search.fill('app-01');
    await table.getByRole('checkbox', { name: 'Select app-01' }).check();
    await bulk.getByText('2 selected').waitFor();
    await search.fill('app-0');
    await bulk.getByText('2 selected (1 not shown)').waitFor();
    await bulk.getByRole('button', { name: 'Replicate (2)' }).click();
    const outcome = bulk.getByTestId('bulk-outcome');
    await outcome.getByText(/^Started 0 of 2\./).waitFor();
    await expect(outcome.locator('.bulk-refused').count()).resolves.toBe(2);
    await expect(outcome.textContent()).resolves.toContain('legacy-box:');
    await expect(outcome.textContent()).resolves.toContain('app-01:');
    await screenshot(page, 'ui-bulk-refused');
    expect(errors).toEqual([]);
  });
});

describe('keyboard', () => {
  it('reaches the rows by Tab, moves with arrows, opens with Enter, ticks with Space and closes with Escape', async () => {
    const a = await app((core) => {
      for (let i = 1; i <= 60; i++) add(core, `kb-${String(i).padStart(2, '0')}`);
    });
    const { page, errors } = await open(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByText('kb-01').waitFor();
    await page.getByRole('searchbox', { name: /Search VMs/ }).focus();
    // Tab walks the toolbar and the column headers, then lands on the first row (one row is in the tab order).
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('role') === 'row');
    }
    expect(reached).toBe(true);
    const focusedName = () => page.evaluate(() => document.activeElement?.querySelector('.name')?.textContent ?? null);
    // Focus lands after the virtual list has scrolled the row into existence: wait for it.
    const focusIs = (name: string) =>
      page.waitForFunction((n) => document.activeElement?.querySelector('.name')?.textContent === n, name, { timeout: 5000 });
    await expect(focusedName()).resolves.toBe('kb-01');
    // The focused row has a visible focus ring.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await focusIs('kb-03');
    await page.keyboard.press('ArrowUp');
    await focusIs('kb-02');
    // End reaches a row that was not rendered yet (the list is virtual) and focuses it.
    await page.keyboard.press('End');
    await focusIs('kb-60');
    await page.keyboard.press('Home');
    await focusIs('kb-01');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space');
    await page.getByTestId('bulk-actions').getByText('1 selected').waitFor();
    await expect(table.getByRole('checkbox', { name: 'Select kb-02' }).isChecked()).resolves.toBe(true);
    await page.keyboard.press('Enter');
    const panel = page.getByTestId('detail-panel');
    await panel.locator('.panel-title', { hasText: 'kb-02' }).waitFor();
    await expect(table.locator('[aria-current="true"] .name').textContent()).resolves.toBe('kb-02');
    await screenshot(page, 'ui-keyboard-panel');
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.activeElement?.querySelector('.name')?.textContent === 'kb-02');
    expect(errors).toEqual([]);
  });
});

describe('colour scheme', () => {
  it('follows a dark system preference', async () => {
    let id = '';
    const a = await app((core) => {
      id = add(core, 'dark-vm').id;
      syncedAgo(core, id, 90_000);
      const bad = add(core, 'dark-failed');
      core.contexts.transition(bad.id, 'failed', 'Volume attach failed: device did not appear');
      add(core, 'dark-new');
    });
    const { page, errors } = await open(a.url);
    await page.emulateMedia({ colorScheme: 'dark' });
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByText('dark-vm').waitFor();
    const bg = await table.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(bg).toBe('rgb(26, 31, 39)');
    await screenshot(page, 'ui-dark-1440');
    await table.getByRole('row').filter({ hasText: 'dark-vm' }).click();
    await page.getByTestId('detail-panel').getByTestId('panel-age').waitFor();
    await page.setViewportSize({ width: 1280, height: 720 });
    await screenshot(page, 'ui-dark-panel-1280');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await table.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(255, 255, 255)');
    expect(errors).toEqual([]);
  });
});

describe('form fields', () => {
  it('links a field error to its input instead of putting it inside the label', async () => {
    const a = await app();
    const { page, errors } = await open(a.url);
    await page.locator('nav [data-screen="settings"]').click();
    const form = page.getByRole('form', { name: 'Add vCenter credential' });
    await form.getByRole('button', { name: 'Add credential' }).click();
    await form.locator('.field-error').first().waitFor();
    // The field's name stays "Name": the message is its description, and the input says it is invalid.
    const name = form.getByRole('textbox', { name: 'Name', exact: true });
    await expect(name.getAttribute('aria-invalid')).resolves.toBe('true');
    const describedBy = (await name.getAttribute('aria-describedby')) ?? '';
    expect(describedBy).not.toBe('');
    await expect(page.locator(`[id="${describedBy}"]`).textContent()).resolves.toBe('Name is required');
    await expect(page.locator(`label:has(.field-error)`).count()).resolves.toBe(0);
    await name.fill('vc-1');
    await expect(form.getByRole('textbox', { name: 'vCenter host', exact: true }).getAttribute('aria-invalid')).resolves.toBe('true');
    await screenshot(page, 'ui-settings-field-errors');
    expect(errors).toEqual([]);
  });
});
