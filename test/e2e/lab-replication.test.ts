// Replication in a real Chromium against the embedded lab: start from the VM panel, watch the copy
// move through the step pipeline and per-disk bars, finish ready for failover with history and CBT
// rows; then cancel a running sync. The VMA simulator copies slowly enough to see the bar move.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, screenshot, startLabApp, type LabApp, type TestBrowser, jobPercentBetween0And100 } from '../fixtures/browser';

// What the operator should see, in order: the engine's setup steps, then the copy on the VMA.
const SETUP_STEPS = ['Provision volumes', 'Attach volumes to the OMA appliance', 'Publish NBD exports', 'Start the copy on the VMA'];
const COPY_STEP = 'Copy on the VMA';

let browser: TestBrowser;
let lab: LabApp;
let contextIds: Record<string, string>;

beforeAll(async () => {
  [browser, lab] = await Promise.all([
    launchBrowser(),
    // The simulated disks hold a few 64 KiB blocks of data each: at 64 KiB/s a disk takes seconds to copy.
    startLabApp({ vmaSpeed: { firstPushDelayMs: 150, phaseDelayMs: 150, bytesPerSecond: 64 * 1024 } }),
  ]);
  contextIds = await lab.rig.manage(['pgtest1', 'web10']);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await lab?.close();
});

const percentOf = async (l: Locator) => Number.parseFloat((await l.textContent()) ?? 'NaN');

async function openVm(page: Page, name: string): Promise<Locator> {
  await page.goto(lab.url);
  const table = page.getByRole('table', { name: 'Virtual machines' });
  await table.getByRole('row').filter({ hasText: name }).click();
  const panel = page.getByTestId('detail-panel');
  await panel.locator('.panel-title', { hasText: name }).waitFor();
  return panel;
}

describe('replication against the lab', () => {
  it('starts from the VM panel, shows the pipeline and moving progress, and ends ready for failover', async () => {
    const { page, errors } = await browser.newPage();
    const panel = await openVm(page, 'pgtest1');
    await expect(panel.locator('.panel-head .badge').getAttribute('data-status')).resolves.toBe('discovered');
    await panel.getByText('none (next sync is full)').first().waitFor();
    await screenshot(page, 'lab-replication-before');

    await panel.getByRole('button', { name: 'Start replication' }).click();
    const job = panel.getByTestId('job-section');
    await job.waitFor();
    const jobId = (await job.getAttribute('data-job-id'))!;
    expect(jobId).toMatch(/^job-\d{8}-\d{6}\.\d{3}-[0-9a-f]{6}$/);
    await panel.getByText(`Started job ${jobId}`).waitFor();

    // The copy is under way: the bar shows a percent strictly between 0 and 100.
    const percent = job.getByTestId('job-percent');
    await jobPercentBetween0And100(page);
    const midway = await percentOf(percent);
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(100);
    const pipeline = job.getByTestId('step-pipeline');
    // Setup is done and the VMA is copying.
    for (const name of SETUP_STEPS) {
      await expect(pipeline.locator(`[data-step="${name}"]`).getAttribute('data-status')).resolves.toBe('completed');
      expect((await pipeline.locator(`[data-step="${name}"] .pipe-duration`).textContent())?.trim()).toMatch(/\d+ ?(ms|s)/);
    }
    await expect(pipeline.locator(`[data-step="${COPY_STEP}"]`).getAttribute('data-status')).resolves.toBe('running');
    await expect(job.getByTestId('disk-progress').locator('tr').count()).resolves.toBe(2);
    // The table row shows the same job replicating. With the panel open the row keeps the columns an
    // operator scans (status, last sync, replica age); its progress cell, hidden beside the panel, moves too.
    const row = page.getByRole('table', { name: 'Virtual machines' }).getByRole('row').filter({ hasText: 'pgtest1' });
    await expect(row.locator('.badge').getAttribute('data-status')).resolves.toBe('replicating');
    const rowBar = row.getByRole('progressbar', { includeHidden: true });
    await rowBar.waitFor({ state: 'attached' });
    await expect(rowBar.getAttribute('aria-valuenow').then(Number)).resolves.toBeGreaterThan(0);
    await page.waitForTimeout(1200);
    await screenshot(page, 'lab-replication-running');
    // The bar keeps moving (the next frame is further on) and throughput samples accumulate.
    await page.waitForFunction(
      (prev) => Number.parseFloat(document.querySelector('[data-testid="job-percent"]')?.textContent ?? '') > prev,
      midway,
      { timeout: 20_000, polling: 100 },
    );
    await expect(job.getByTestId('sparkline').getAttribute('data-samples').then(Number)).resolves.toBeGreaterThan(1);

    // The job completes and the VM is ready for failover.
    await panel.locator('.panel-head .badge[data-status="ready_for_failover"]').waitFor({ timeout: 45_000 });
    await job.and(page.locator('[data-status="completed"]')).waitFor();
    expect(await percentOf(percent)).toBe(100);
    for (const name of [...SETUP_STEPS, COPY_STEP]) {
      await expect(pipeline.locator(`[data-step="${name}"]`).getAttribute('data-status')).resolves.toBe('completed');
    }
    await expect(row.locator('.badge').getAttribute('data-status')).resolves.toBe('ready_for_failover');
    expect(lab.rig.core.jobs.require(jobId).status).toBe('completed');

    // Job history shows the completed job; CBT history has one row per disk and a bar for the sync.
    const history = panel.getByTestId('job-history');
    await history.locator(`tbody[data-job-id="${jobId}"] .badge[data-status="completed"]`).waitFor();
    const cbtRows = panel.getByTestId('cbt-history').locator('tbody tr');
    await cbtRows.first().waitFor();
    await expect(cbtRows.count()).resolves.toBe(2);
    await expect(panel.getByTestId('bytes-per-sync').locator('rect.bar').count()).resolves.toBe(1);
    // The bar is the sync's bytes: the sum of its per-disk CBT rows (the blocks the VMA actually copied).
    const copied = lab.rig.core.jobs.cbtHistory(contextIds.pgtest1!).filter((h) => h.jobId === jobId).reduce((n, h) => n + h.bytesTransferred, 0);
    expect(copied).toBeGreaterThan(0);
    await expect(panel.getByTestId('bytes-per-sync').locator('rect.bar').getAttribute('data-value').then(Number)).resolves.toBe(copied);
    // Every disk now has a change id, a volume and an export.
    await expect(panel.getByText('none (next sync is full)').count()).resolves.toBe(0);
    const counters = panel.getByTestId('counters');
    await expect(counters.locator('.counter.ok .counter-value').textContent()).resolves.toBe('1');
    await panel.getByTestId('job-history').scrollIntoViewIfNeeded();
    await screenshot(page, 'lab-replication-done');

    // Logs: the job's operation lists the same steps with their durations, and exports as a file.
    await page.locator('nav [data-screen="logs"]').click();
    await page.getByTestId('log-operations').locator('tbody tr', { hasText: 'sync of pgtest1' }).first().click();
    const logSteps = page.getByTestId('log-steps').locator('tbody tr');
    await logSteps.first().waitFor();
    expect((await logSteps.locator('td:nth-child(2)').allTextContents()).slice(0, SETUP_STEPS.length)).toEqual(SETUP_STEPS);
    for (const duration of await logSteps.locator('td:nth-child(5)').allTextContents()) expect(duration).toMatch(/^\d+(\.\d+)? ?(ms|s)$|^\d+m \d+s$/);
    await screenshot(page, 'lab-logs-job');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export operation' }).click()]);
    const { readFile } = await import('node:fs/promises');
    const exported = await readFile(await download.path(), 'utf8');
    expect(exported).toContain('Publish NBD exports');
    expect(exported).toContain('Replication completed');

    // The tunnel to lab-vma is up, in Settings as in the header.
    await page.locator('nav [data-screen="settings"]').click();
    await page.locator('tr[data-appliance="lab-vma"] [data-testid="appliance-tunnel"][data-state="ready"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('tunnel-states').locator('.tunnel-ready', { hasText: 'lab-vma' }).waitFor();
    await screenshot(page, 'lab-settings-tunnels');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('cancels a running sync from the panel', async () => {
    lab.rig.vma.speed.bytesPerSecond = 16 * 1024;
    const { page, errors } = await browser.newPage();
    const panel = await openVm(page, 'web10');
    await panel.getByRole('button', { name: 'Start replication' }).click();
    const job = panel.getByTestId('job-section');
    await job.locator(`[data-step="${COPY_STEP}"][data-status="running"]`).waitFor({ timeout: 30_000 });
    const jobId = (await job.getAttribute('data-job-id'))!;
    await job.getByRole('button', { name: 'Cancel job' }).click();
    await job.getByRole('button', { name: 'Yes, cancel' }).click();
    await job.and(page.locator('[data-status="cancelled"]')).waitFor({ timeout: 20_000 });
    await expect(job.locator(`[data-step="${COPY_STEP}"]`).getAttribute('data-status')).resolves.toBe('cancelled');
    await expect(job.getByRole('button', { name: 'Cancel job' }).count()).resolves.toBe(0);
    expect(lab.rig.core.jobs.require(jobId).status).toBe('cancelled');
    const ctx = lab.rig.core.contexts.require(contextIds.web10!);
    expect(ctx.currentJobId).toBeNull();
    await panel.getByRole('button', { name: 'Start replication' }).and(page.locator(':enabled')).waitFor();
    await screenshot(page, 'lab-replication-cancelled');
    expect(errors).toEqual([]);
    await page.close();
  }, 45_000);
});
