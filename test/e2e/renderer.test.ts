// The renderer in a real Chromium against a real headless core behind the dev bridge.
import { describe, expect, it } from 'vitest';
import { makeDiscoveredVm, screenshot, type BridgeApp, useBridgeApps } from '../fixtures/browser';

const SCREENS: [string, string][] = [
  ['overview', 'Overview'],
  ['vms', 'Virtual Machines'],
  ['discovery', 'Discovery'],
  ['schedules', 'Schedules'],
  ['groups', 'Machine Groups'],
  ['failover', 'Failover'],
  ['logs', 'Logs'],
  ['settings', 'Settings'],
];

const { app, open, newPage } = useBridgeApps();

describe('renderer over the dev bridge', () => {
  it('loads without console errors and every screen is reachable', async () => {
    const a = await app((core) => {
      core.contexts.add({ vm: makeDiscoveredVm('web-01'), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
    });
    const { page, errors } = await open(a.url);
    await page.getByTestId('connection-status').getByText('connected').waitFor();
    await expect(page.getByTestId('connection-status').textContent()).resolves.toContain('Dev bridge');
    for (const [id, label] of SCREENS) {
      await page.locator(`nav [data-screen="${id}"]`).click();
      await page.locator('header h1', { hasText: label }).waitFor();
      await expect(page.locator('main.content').getAttribute('data-screen')).resolves.toBe(id);
      // Each screen settles into content, not a perpetual spinner.
      await page.waitForFunction(() => !document.querySelector('main.content')?.textContent?.includes('Loading'), null, { timeout: 10_000 });
      await screenshot(page, `screen-${id}`);
    }
    expect(errors).toEqual([]);
  });

  it('Settings names the secret store in use (secrets:status)', async () => {
    const a = await app();
    const { page, errors } = await open(a.url);
    await page.locator('nav [data-screen="settings"]').click();
    const card = page.getByRole('region', { name: 'Secret store' });
    await card.getByText('In memory only').waitFor();
    expect(errors).toEqual([]);
  });

  it('renders seeded contexts with their status badges and opens the detail panel with disks', async () => {
    const a = await app((core) => {
      core.contexts.add({ vm: makeDiscoveredVm('db-primary', 3), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
      const rep = core.contexts.add({ vm: makeDiscoveredVm('app-server', 1), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
      core.contexts.transition(rep.id, 'replicating');
      const bad = core.contexts.add({ vm: makeDiscoveredVm('legacy-box', 2), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
      core.contexts.transition(bad.id, 'failed', 'Volume attach failed: device did not appear');
    });
    const { page, errors } = await open(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByRole('row').filter({ hasText: 'db-primary' }).waitFor();
    const statusOf = async (name: string) =>
      table.getByRole('row').filter({ hasText: name }).locator('.badge').getAttribute('data-status');
    await expect(statusOf('db-primary')).resolves.toBe('discovered');
    await expect(statusOf('app-server')).resolves.toBe('replicating');
    await expect(statusOf('legacy-box')).resolves.toBe('failed');
    // Sorted by name.
    const names = await table.locator('.vbody .cell.name').allTextContents();
    expect(names).toEqual(['app-server', 'db-primary', 'legacy-box']);
    await screenshot(page, 'vms-table');

    await table.getByRole('row').filter({ hasText: 'db-primary' }).click();
    const panel = page.getByTestId('detail-panel');
    await panel.getByTestId('detail-disks').waitFor();
    const diskRows = panel.getByTestId('detail-disks').locator('tbody tr');
    await expect(diskRows.count()).resolves.toBe(3);
    await expect(diskRows.nth(0).textContent()).resolves.toContain('disk-2000');
    await expect(diskRows.nth(2).textContent()).resolves.toContain('disk-2002');
    await expect(diskRows.nth(0).textContent()).resolves.toContain('20.0 GiB');
    await screenshot(page, 'vms-detail');

    // This VM has no VMA appliance or credential: the core refuses, and the page shows its message verbatim.
    await panel.getByRole('button', { name: 'Start replication' }).click();
    const refusal = panel.locator('.action-block [role="alert"], .action-block [data-testid="not-available"]');
    await refusal.waitFor();
    expect(((await refusal.textContent()) ?? '').trim().length).toBeGreaterThan(10);
    await expect(panel.getByText(/Started job/).count()).resolves.toBe(0);
    await table.getByRole('row').filter({ hasText: 'legacy-box' }).click();
    await panel.getByText('Volume attach failed: device did not appear').waitFor();
    expect(errors).toEqual([]);
  });

  it('shows a torn replica in the detail panel: not ready for failover, naming the job that tore it', async () => {
    let tornJobId = '';
    const a = await app((core) => {
      const ctx = core.contexts.add({ vm: makeDiscoveredVm('torn-vm', 2), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
      const ok = core.jobs.claim({ contextId: ctx.id, trigger: 'ui' });
      core.jobs.finish(ok.id, 'completed', null);
      const torn = core.jobs.claim({ contextId: ctx.id, trigger: 'ui' });
      core.jobs.update(torn.id, { status: 'starting' });
      core.jobs.markCopyRequested(torn.id);
      core.jobs.finish(torn.id, 'failed', 'stalled: no progress for 10 min');
      tornJobId = torn.id;
    });
    const { page, errors } = await open(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    const row = table.getByRole('row').filter({ hasText: 'torn-vm' });
    await row.waitFor();
    await expect(row.locator('.badge').getAttribute('data-status')).resolves.toBe('failed');
    await row.click();
    const torn = page.getByTestId('detail-panel').getByTestId('replica-torn');
    await torn.waitFor();
    await expect(torn.textContent()).resolves.toContain(`Replica torn by ${tornJobId}`);
    await expect(torn.textContent()).resolves.toContain('not ready for failover until a sync completes');
    await screenshot(page, 'vms-detail-torn');
    expect(errors).toEqual([]);
  });

  it('applies pushed contexts:changed and jobs:progress batches to the affected row', async () => {
    let id = '';
    const a = await app((core) => {
      id = core.contexts.add({ vm: makeDiscoveredVm('live-vm'), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null }).id;
      core.contexts.add({ vm: makeDiscoveredVm('other-vm'), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
    });
    const { page } = await open(a.url);
    const row = page.locator(`[data-context-id="${id}"]`);
    await row.waitFor();
    const jobId = 'job-20250101-120000.000-abcdef';
    const changed = { ...a.core.contexts.transition(id, 'replicating'), currentJobId: jobId };
    a.core.bus.emit('contexts:changed', { contexts: [changed], removedIds: [] });
    a.core.bus.emit('jobs:progress', {
      updates: [
        {
          jobId,
          vmContextId: id,
          status: 'replicating',
          phase: 'copying',
          progressPercent: 42.5,
          // The row's percent is computed from these bytes (17 of 40 GiB), so it agrees with them.
          bytesTransferred: 17 * 1024 ** 3,
          totalBytes: 40 * 1024 ** 3,
          rateBps: 100 * 1024 ** 2,
          etaSeconds: 300,
          error: null,
          disks: [],
        },
      ],
    });
    await row.locator('.badge[data-status="replicating"]').waitFor();
    await row.getByRole('progressbar').waitFor();
    await expect(row.textContent()).resolves.toMatch(/42\.5%.*100 MiB\/s.*ETA 5m 0s/);
    await screenshot(page, 'vms-progress');
    // The detail panel refuses to start a second job and says why.
    await row.click();
    await expect(page.getByRole('button', { name: 'Start replication' }).isDisabled()).resolves.toBe(true);
    await expect(page.getByTestId('start-blocked').textContent()).resolves.toContain(jobId);
  });

  it('shows the empty state with an empty database', async () => {
    const a = await app();
    const { page, errors } = await open(a.url);
    await page.getByTestId('vms-empty').waitFor();
    await expect(page.getByTestId('vms-empty').textContent()).resolves.toContain(
      'No VMs under management yet.Add an appliance and credentials in Settings, then use Discovery to add VMs.',
    );
    await screenshot(page, 'vms-empty');
    expect(errors).toEqual([]);
  });

  it('refuses a wrong token with a clear not-authorised state', async () => {
    const a = await app((core) => {
      core.contexts.add({ vm: makeDiscoveredVm('secret-vm'), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
    });
    const { page } = await open(a.url.replace(/#token=.*/, '#token=wrong-token'));
    await page.getByTestId('not-authorised').waitFor();
    await expect(page.getByTestId('not-authorised').textContent()).resolves.toContain('token is wrong');
    await expect(page.getByTestId('connection-status').textContent()).resolves.toContain('not authorised');
    await expect(page.getByText('secret-vm').count()).resolves.toBe(0);
    await screenshot(page, 'not-authorised');

    const missing = await open(a.url.replace(/#token=.*/, ''));
    await missing.page.getByTestId('not-authorised').waitFor();
    await expect(missing.page.getByTestId('not-authorised').textContent()).resolves.toContain('without an access token');
  });

  it('lists operations, shows steps and events with a level filter', async () => {
    const a = await app((core) => {
      const ctx = core.contexts.add({ vm: makeDiscoveredVm('log-vm'), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
      core.logbook.startOperation('op-e2e-1', 'replication', 'Replicate log-vm', ctx.id);
      const s1 = core.logbook.startStep('op-e2e-1', 'discover');
      core.logbook.event('op-e2e-1', 'info', 'Discovered log-vm with 2 disks', undefined, s1.id);
      core.logbook.finishStep(s1.id, 'completed');
      const s2 = core.logbook.startStep('op-e2e-1', 'attach volumes');
      core.logbook.event('op-e2e-1', 'error', 'Volume did not appear under /dev/disk/by-id', { volume: 'vol-1' }, s2.id);
      core.logbook.finishStep(s2.id, 'failed', 'device missing');
      core.logbook.finishOperation('op-e2e-1', 'failed', 'device missing');
    });
    const { page, errors } = await open(a.url);
    await page.locator('nav [data-screen="logs"]').click();
    const ops = page.getByTestId('log-operations');
    await ops.getByText('Replicate log-vm').click();
    const steps = page.getByTestId('log-steps').locator('tbody tr');
    await steps.first().waitFor();
    await expect(steps.count()).resolves.toBe(2);
    await expect(steps.nth(1).textContent()).resolves.toContain('attach volumes');
    await expect(steps.nth(1).locator('.badge').getAttribute('data-status')).resolves.toBe('failed');
    const events = page.getByTestId('log-events').locator('li');
    await expect(events.count()).resolves.toBe(2);
    await page.locator('.log-detail select').selectOption('error');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-events"] li').length === 1);
    await expect(events.first().textContent()).resolves.toContain('Volume did not appear under /dev/disk/by-id');
    await screenshot(page, 'logs-operation');
    // Export downloads what the core returns as a file.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export/ }).click()]);
    expect(download.suggestedFilename().length).toBeGreaterThan(0);
    const file = await download.path();
    const { readFile } = await import('node:fs/promises');
    await expect(readFile(file, 'utf8')).resolves.toContain('Volume did not appear under /dev/disk/by-id');
    expect(errors).toEqual([]);
  });

  it('keeps a 10,000-row table virtualised', async () => {
    let template: ReturnType<BridgeApp['core']['contexts']['require']> | undefined;
    const a = await app((core) => {
      template = core.contexts.add({ vm: makeDiscoveredVm('bulk-00000', 1), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
    });
    const { page, errors } = await open(a.url);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByText('bulk-00000').waitFor();
    // The other 9,999 arrive as one pushed batch, as they would from a large discovery import.
    const base = template!;
    const contexts = Array.from({ length: 9_999 }, (_, k) => ({
      ...base,
      id: `ctx-bulk-${k + 1}`,
      vmwareVmId: `vm-bulk-${k + 1}`,
      name: `bulk-${String(k + 1).padStart(5, '0')}`,
    }));
    a.core.bus.emit('contexts:changed', { contexts, removedIds: [] });
    await page.locator('.table-footer', { hasText: '10,000' }).waitFor();
    const rendered = await table.locator('.vbody [role="row"]').count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(100);
    await table.locator('.vbody').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await table.getByText('bulk-09999').waitFor();
    expect(await table.locator('.vbody [role="row"]').count()).toBeLessThan(100);
    await screenshot(page, 'vms-10k-bottom');
    expect(errors).toEqual([]);
  });

  it('reconnects after the bridge connection drops and reloads what it missed', async () => {
    const a = await app();
    const { page } = await newPage();
    // Keep a handle on the page's sockets so the test can drop the connection as a network fault would.
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      const sockets: WebSocket[] = [];
      (window as unknown as { __sockets: WebSocket[] }).__sockets = sockets;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      };
    });
    await page.goto(a.url);
    const status = page.getByTestId('connection-status');
    await status.getByText('connected').waitFor();
    await page.getByTestId('vms-empty').waitFor();
    // While the page is cut off, a VM is added: the page must pick it up after reconnecting.
    await page.evaluate(() => {
      for (const ws of (window as unknown as { __sockets: WebSocket[] }).__sockets) ws.close(4000, 'test drop');
    });
    // Added at once: the first reconnect comes 500 ms later, and a slow screenshot must not let it win the race.
    a.core.contexts.add({ vm: makeDiscoveredVm('added-while-away'), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
    await status.getByText(/reconnecting/).waitFor();
    await screenshot(page, 'reconnecting');
    await status.getByText('connected').waitFor({ timeout: 10_000 });
    await page.getByRole('table', { name: 'Virtual machines' }).getByText('added-while-away').waitFor();
  });
});
