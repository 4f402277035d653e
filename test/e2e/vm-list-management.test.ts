// The VM list for a fleet, part two (issues 12 and 9) in a real Chromium against a real headless core:
// a column chooser kept across reloads, power, next sync and group columns from the scheduler's read
// model, replica age against the group's target in words, and bulk add to group, disable/enable and
// remove from management (with what happens to the replica volumes), all from the keyboard too.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Core } from '../../main/core/core';
import { createGroup } from '../../main/scheduler/schedule-views';
import { makeDiscoveredVm, screenshot, useBridgeApps } from '../fixtures/browser';

const { app, open, newPage } = useBridgeApps({ viewport: { width: 1440, height: 900 } });

const add = (core: Core, name: string, overrides = {}) =>
  core.contexts.add({ vm: makeDiscoveredVm(name, 1, overrides), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });

function syncedAgo(core: Core, contextId: string, agoMs: number): void {
  const end = Date.now() - agoMs;
  const job = core.jobs.claim({ contextId, trigger: 'cli', now: new Date(end - 30_000) });
  core.jobs.finish(job.id, 'completed', null, new Date(end));
}

interface Seeded {
  ids: Record<string, string>;
  groupIds: Record<string, string>;
}

/** Two groups with targets on an hourly schedule, VMs within, near and over target, one never synced, one off. */
function seed(core: Core, out: Seeded): void {
  const hourly = core.scheduler.createSchedule({ name: 'hourly', cronExpression: '15 * * * *', timezone: 'UTC' });
  const web = createGroup(core.groups, { name: 'web', scheduleId: hourly.id, replicaAgeTargetSeconds: 3600 });
  const db = createGroup(core.groups, { name: 'db', scheduleId: null, replicaAgeTargetSeconds: 86400 });
  out.groupIds = { web: web.id, db: db.id };
  const vm = (name: string, agoMs: number | null, overrides = {}) => {
    const c = add(core, name, overrides);
    out.ids[name] = c.id;
    if (agoMs !== null) syncedAgo(core, c.id, agoMs);
    return c.id;
  };
  const fresh = vm('web-fresh', 10 * 60_000);
  const near = vm('web-near', 50 * 60_000);
  const stale = vm('web-stale', 3 * 3600_000, { powerState: 'poweredOff' });
  const never = vm('web-never', null);
  const both = vm('db-main', 2 * 3600_000);
  vm('loose-vm', 5 * 60_000);
  const off = vm('off-vm', 20 * 60_000);
  core.groups.addMembers(web.id, [fresh, near, stale, never, both]);
  core.groups.addMembers(db.id, [both]);
  core.contexts.setEnabled(off, false);
}

const rowOf = (page: Page, id: string) => page.getByRole('table', { name: 'Virtual machines' }).locator(`[data-context-id="${id}"]`);

describe('columns', () => {
  it('shows power, next sync, groups and replica age against the target; the chooser is kept across reloads', async () => {
    const s: Seeded = { ids: {}, groupIds: {} };
    const a = await app((core) => seed(core, s));
    const { page, errors } = await open(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await rowOf(page, s.ids['web-fresh']!).getByTestId('row-next-sync').locator('time').waitFor();

    // Replica age against the group's 1h target, in words: within, near (≥ 80 %), over; never synced is over.
    const age = (name: string) => rowOf(page, s.ids[name]!).getByTestId('row-age');
    await expect(age('web-fresh').locator('[data-standing]').getAttribute('data-standing')).resolves.toBe('within');
    await expect(age('web-near').textContent()).resolves.toMatch(/^50m \d+s agonear 1h$/);
    await expect(age('web-stale').textContent()).resolves.toMatch(/^3h 0m agoover 1h$/);
    await expect(age('web-never').textContent()).resolves.toBe('no replicaover 1h');
    // The tightest target of its groups applies: db-main is in web (1h) and db (1d), synced 2h ago.
    await expect(age('db-main').textContent()).resolves.toMatch(/over 1h$/);
    await expect(age('db-main').locator('.age[title]').getAttribute('title')).resolves.toMatch(/group target 1h: over target/);
    await expect(age('loose-vm').locator('[data-standing]').getAttribute('data-standing')).resolves.toBe('none');

    // Next sync: the hourly schedule at :15 for members, a reason for the others.
    const next = (name: string) => rowOf(page, s.ids[name]!).getByTestId('row-next-sync');
    const nextIso = await next('web-fresh').locator('time').getAttribute('dateTime');
    expect(new Date(nextIso!).getUTCMinutes()).toBe(15);
    expect(Date.parse(nextIso!) - Date.now()).toBeLessThanOrEqual(3600_000);
    await expect(next('loose-vm').textContent()).resolves.toBe('not scheduled');
    await expect(next('off-vm').textContent()).resolves.toBe('VM disabled');
    await expect(rowOf(page, s.ids['db-main']!).getByTestId('row-groups').textContent()).resolves.toBe('db, web');
    await expect(rowOf(page, s.ids['web-stale']!).locator('.col-power').textContent()).resolves.toBe('Off');
    await screenshot(page, 'ui-vms-columns-1440');

    // Next sync and groups sort like the other columns: planned/grouped rows first, in order; the rest after.
    const column = (testId: string) =>
      page.evaluate((id) => [...document.querySelectorAll(`.vm-table .vbody .vrow [data-testid="${id}"]`)].map((c) => c.querySelector('time')?.getAttribute('dateTime') ?? (c.textContent === '—' ? '' : c.textContent ?? '')), testId);
    await table.locator('[data-sort="nextSync"]').click();
    await expect(table.getByRole('columnheader', { name: /Next sync/ }).getAttribute('aria-sort')).resolves.toBe('ascending');
    const times = (await column('row-next-sync')).map((v) => (/^\d{4}-/.test(v) ? Date.parse(v) : Infinity));
    expect(times.filter((t) => t !== Infinity).length).toBeGreaterThan(0);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(times.at(-1)).toBe(Infinity);
    await screenshot(page, 'ui-vms-sorted-next-sync');
    await table.locator('[data-sort="groups"]').click();
    const groups = await column('row-groups');
    const grouped = groups.filter(Boolean);
    expect(grouped.length).toBeGreaterThan(0);
    expect(groups.slice(0, grouped.length)).toEqual([...grouped].sort((x, y) => x.localeCompare(y, undefined, { numeric: true, sensitivity: 'base' })));
    expect(groups.at(-1)).toBe('');
    await table.locator('[data-sort="name"]').click();

    // At 1280 px the scan columns stay and are not cut; the optional ones that do not fit are left out.
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.waitForFunction(() => !(document.querySelector('.vm-table')?.getAttribute('data-columns') ?? '').includes('power'));
    const shown1280 = (await table.getAttribute('data-columns'))!.split(' ');
    expect(shown1280).toEqual(['status', 'progress', 'lastSync', 'age', 'nextSync', 'groups']);
    const cut = (selectors: string[]) =>
      page.evaluate((sels) =>
        [...document.querySelectorAll('.vm-table .vbody .vrow')].flatMap((r) =>
          sels.map((sel) => {
            const cell = r.querySelector<HTMLElement>(sel)!;
            const inner = cell.firstElementChild as HTMLElement | null;
            const fits = cell.offsetWidth > 0 && cell.scrollWidth <= cell.clientWidth && (!inner || inner.getBoundingClientRect().right <= cell.getBoundingClientRect().right + 0.5);
            return fits ? null : `${r.querySelector('.name')?.textContent}${sel}: ${cell.textContent} (${cell.scrollWidth}>${cell.clientWidth})`;
          }),
        ).filter(Boolean),
      selectors);
    await expect(cut(['.col-status', '.col-lastsync', '.col-age', '.col-nextsync'])).resolves.toEqual([]);
    await screenshot(page, 'ui-vms-columns-1280');
    // Beside the open panel the scan columns (status, last sync, replica age with its target) still fit.
    await rowOf(page, s.ids['web-stale']!).click();
    await page.getByTestId('detail-panel').waitFor();
    // The panel says the same: over the 1h target, in words.
    await expect(page.getByTestId('panel-age-target').textContent()).resolves.toBe('over target 1h');
    await expect(cut(['.col-status', '.col-lastsync', '.col-age'])).resolves.toEqual([]);
    await screenshot(page, 'ui-vms-columns-panel-1280');
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1440, height: 900 });

    // The chooser, by keyboard: open, untick Groups, Escape closes it and gives focus back to its button.
    const chooserButton = page.getByRole('button', { name: 'Columns' });
    await chooserButton.focus();
    await page.keyboard.press('Enter');
    const chooser = page.getByTestId('column-chooser');
    await chooser.waitFor();
    await screenshot(page, 'ui-vms-column-chooser');
    await chooser.getByRole('checkbox', { name: 'Groups' }).focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Escape');
    await chooser.waitFor({ state: 'detached' });
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Columns');
    await expect(table.getByRole('columnheader', { name: 'Groups' }).count()).resolves.toBe(0);
    await page.reload();
    await rowOf(page, s.ids['web-fresh']!).waitFor();
    await expect(table.getByRole('columnheader', { name: 'Groups' }).count()).resolves.toBe(0);
    await expect(table.getByRole('columnheader', { name: /Next sync/ }).count()).resolves.toBe(1);
    expect(errors).toEqual([]);
  });
});

describe('bulk management', () => {
  it('adds to a group, disables and enables, and removes with the fate of the volumes said first', async () => {
    const s: Seeded = { ids: {}, groupIds: {} };
    const a = await app((core) => seed(core, s));
    const { page, errors } = await open(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await rowOf(page, s.ids['loose-vm']!).getByTestId('row-next-sync').waitFor();
    const bulk = page.getByTestId('bulk-actions');

    // Add loose-vm to "web": its row then shows the group and the hourly next sync.
    await table.getByRole('checkbox', { name: 'Select loose-vm' }).check();
    await bulk.getByTestId('bulk-group').selectOption({ label: 'web' });
    await bulk.getByRole('button', { name: 'Add to group' }).click();
    await bulk.getByTestId('bulk-outcome').getByText('Added to web 1 of 1.').waitFor();
    await rowOf(page, s.ids['loose-vm']!).getByTestId('row-groups').getByText('web').waitFor();
    await rowOf(page, s.ids['loose-vm']!).getByTestId('row-next-sync').locator('time').waitFor();
    expect(a.core.groups.members(s.groupIds.web!).map((m) => m.vmName)).toContain('loose-vm');

    // Disable it: the core stores it, the row says so beside the name, next sync says why.
    await bulk.getByRole('button', { name: 'Disable (1)' }).click();
    await bulk.getByTestId('bulk-outcome').getByText('Disabled 1 of 1.').waitFor();
    await rowOf(page, s.ids['loose-vm']!).getByTestId('row-disabled').waitFor();
    await rowOf(page, s.ids['loose-vm']!).getByTestId('row-next-sync').getByText('VM disabled').waitFor();
    expect(a.core.contexts.require(s.ids['loose-vm']!).enabled).toBe(false);
    await bulk.getByRole('button', { name: 'Enable (1)' }).click();
    await bulk.getByTestId('bulk-outcome').getByText('Enabled 1 of 1.').waitFor();
    expect(a.core.contexts.require(s.ids['loose-vm']!).enabled).toBe(true);
    await bulk.getByRole('button', { name: 'Clear selection' }).click();

    // A running job refuses removal of that VM only; the dialog says so before anything is done.
    a.core.jobs.claim({ contextId: s.ids['web-never']!, trigger: 'cli' });
    const disk = a.core.contexts.disks(s.ids['web-stale']!)[0]!;
    // web-stale's replica volume lives on after a live failover (the CloudStack VM owns it), so
    // removing touches neither CloudStack nor the OMA here.
    a.core.volumes.recordCreated({ id: 'vol-e2e-1', vmDiskId: disk.id, name: 'web-stale-disk-2000', sizeBytes: 1 << 30, zoneId: 'z1' });
    for (const st of ['replicating', 'ready_for_failover', 'failing_over', 'failed_over_live'] as const) a.core.contexts.transition(s.ids['web-stale']!, st);
    a.core.bus.emit('contexts:changed', { contexts: [a.core.contexts.require(s.ids['web-stale']!), a.core.contexts.require(s.ids['web-never']!)], removedIds: [] });
    for (const name of ['web-never', 'web-stale', 'off-vm']) await table.getByRole('checkbox', { name: `Select ${name}` }).check();
    const removeButton = bulk.getByRole('button', { name: 'Remove… (3)' });
    await removeButton.click();
    const dialog = page.getByRole('dialog', { name: /Remove 3 VMs from management/ });
    const plan = dialog.getByTestId('removal-plan');
    await plan.locator('li', { hasText: 'web-never' }).waitFor();
    await expect(plan.locator('li', { hasText: 'web-never' }).textContent()).resolves.toMatch(/will be refused: web-never has an active replication job/);
    await expect(plan.locator('li', { hasText: 'web-stale' }).textContent()).resolves.toBe('web-stale: 1 volume(s) stay with the failed-over CloudStack VM');
    await expect(plan.locator('li', { hasText: 'off-vm' }).textContent()).resolves.toBe('off-vm: no replica volumes');
    // Choosing "delete" says a live failover's volumes are never deleted from here.
    await dialog.getByRole('radio', { name: /Delete them/ }).check();
    await expect(plan.locator('li', { hasText: 'web-stale' }).textContent()).resolves.toMatch(/will be refused: web-stale was failed over live/);
    await screenshot(page, 'ui-vms-remove-dialog');
    // Escape closes the dialog without removing anything and gives focus back to the Remove button.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Focus moves back in the frame after the dialog is gone, so the check waits for it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent), { timeout: 2_000 }).toBe('Remove… (3)');
    await removeButton.click();
    await plan.locator('li', { hasText: 'web-never' }).waitFor();
    await dialog.getByRole('button', { name: 'Remove 2 of 3' }).click();
    const outcome = bulk.getByTestId('bulk-outcome');
    await outcome.getByText(/^Removed 2 of 3\./).waitFor();
    await expect(outcome.textContent()).resolves.toContain('web-never: Cannot remove: web-never has an active replication job');
    await rowOf(page, s.ids['off-vm']!).waitFor({ state: 'detached' });
    await rowOf(page, s.ids['web-stale']!).waitFor({ state: 'detached' });
    expect(a.core.contexts.get(s.ids['off-vm']!)).toBeNull();
    expect(a.core.contexts.get(s.ids['web-never']!)).not.toBeNull();
    expect(a.core.volumes.get('vol-e2e-1')?.state).toBe('detached');
    await page.getByTestId('vm-count').getByText('5 VMs under management').waitFor();
    expect(errors).toEqual([]);
  });
});

describe('a large fleet', () => {
  // Unpadded names: the database's case-insensitive order (vm-1, vm-10, vm-100, …) is not the table's
  // natural order (vm-1, vm-2, vm-3, …), so a first page cut in the wrong order would show and then jump.
  const FLEET = 3000;
  const FAILED = [2990, 2995, 2996, 2997, 2998];

  it('paints the first rows from a first page with the whole fleet counted, and they stay put when the full list arrives', async () => {
    const a = await app((core) => {
      core.db.transaction(() => {
        for (let i = 1; i <= FLEET; i++) {
          const c = core.contexts.add({ vm: makeDiscoveredVm(`vm-${i}`, 1), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
          if (FAILED.includes(i)) core.contexts.transition(c.id, 'failed', 'Volume attach failed');
        }
      })();
    });
    const { page, errors } = await newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    // The full list is held back on its way to the core until released, so the page-only state is seen for sure.
    const held: (() => void)[] = [];
    let holding = true;
    await page.routeWebSocket(
      () => true,
      (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => {
          const msg = JSON.parse(String(m)) as { type?: string; channel?: string };
          if (holding && msg.type === 'invoke' && msg.channel === 'contexts:list') held.push(() => server.send(m));
          else server.send(m);
        });
        server.onMessage((m) => ws.send(m));
      },
    );
    await page.goto(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    const names = () => table.locator('.vbody .vrow[data-context-id] .cell.name').allTextContents();
    await table.getByText('vm-1', { exact: true }).waitFor();
    await expect.poll(() => held.length).toBe(1);
    await page.getByTestId('vm-count').getByText('First 100 of 3,000 VMs loaded; loading the rest…').waitFor();
    await expect(table.getAttribute('aria-busy')).resolves.toBe('true');
    await expect(table.getAttribute('aria-rowcount')).resolves.toBe(String(FLEET + 1));
    // Counts of the whole fleet, not of the 100 rows in: the five failed VMs are all past the first page.
    const summary = page.getByTestId('status-summary');
    await expect(summary.textContent()).resolves.toBe('5 failed · 2995 not synced (counts of all 3,000 VMs; list still loading)');
    await expect(page.getByTestId('nav-count-vms').textContent()).resolves.toBe('3000');
    const firstShown = await names();
    expect(firstShown.slice(0, 12)).toEqual(Array.from({ length: 12 }, (_, i) => `vm-${i + 1}`));
    // The note on the counts is in the footer's line, not the toolbar: the toolbar keeps its height
    // when the list arrives and the note goes, so the table does not move down under the pointer.
    await expect(page.getByTestId('vm-count').textContent()).resolves.toContain('Status counts above: all 3,000 VMs.');
    // Measured at 1440 px and at 1600 px, where the toolbar of the loaded list fits on one line.
    const tableTops = async () => {
      const tops: (number | undefined)[] = [];
      for (const width of [1440, 1600]) {
        await page.setViewportSize({ width, height: 900 });
        tops.push((await table.boundingBox())?.y);
      }
      await page.setViewportSize({ width: 1440, height: 900 });
      return tops;
    };
    const topsWhileLoading = await tableTops();
    await screenshot(page, 'ui-vms-large-first-page');
    // Past the first page the table already has the fleet's height: rows not in yet keep their place as pending rows.
    const body = table.locator('.vbody');
    await body.evaluate((el) => {
      el.scrollTop = 95 * 34;
    });
    await table.locator('.vrow-pending').first().waitFor();
    await table.getByText('vm-100', { exact: true }).waitFor();
    await screenshot(page, 'ui-vms-large-pending');
    await body.evaluate((el) => {
      el.scrollTop = 0;
    });
    await table.getByText('vm-1', { exact: true }).waitFor();

    holding = false;
    for (const release of held) release();
    await page.getByTestId('vm-count').getByText('3,000 VMs under management').waitFor();
    await expect(table.getAttribute('aria-busy')).resolves.toBeNull();
    await expect(summary.textContent()).resolves.toBe('5 failed · 2995 not synced');
    // Nothing moved: the rows on screen are the same rows in the same places, and the table too.
    expect(await names()).toEqual(firstShown);
    expect(await tableTops()).toEqual(topsWhileLoading);
    // The end of the list is reachable and in natural order.
    await body.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await table.getByText('vm-3000', { exact: true }).waitFor();
    expect((await names()).slice(-3)).toEqual(['vm-2998', 'vm-2999', 'vm-3000']);
    await summary.getByRole('button', { name: '5 failed' }).click();
    await expect(names()).resolves.toEqual(FAILED.map((i) => `vm-${i}`));
    await screenshot(page, 'ui-vms-large-loaded');
    expect(errors).toEqual([]);
  });
});
