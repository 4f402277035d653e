// The whole lab workflow as a new user goes through it (issue 11, "The lab for every workflow"), in a
// real Chromium against one embedded lab: discover and add VMs, replicate them (initial), schedule a
// group and run it now (incremental), configure the failover target, test-fail over and roll back,
// then live-fail over. Every screen is visited and screenshotted on the way, with what it must show.
//
// Along the way a second window of the console is opened while the first copy runs (issue 12): once
// the job ends both windows show the same VMA phase history, with the same times as the job's log,
// because the owner of the engine records the phases and every window reads that record.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, screenshot, startLabApp, type LabApp, type TestBrowser, jobPercentBetween0And100 } from '../fixtures/browser';
import { acquireOwnerLock, type OwnerLock } from '../../main/owner/owner-lock';
import { ownerPortOf } from '../../main/owner/owner-port';
import { REPLICATION_STEP, SETUP_STEPS } from '../../shared/steps';

const MiB = 1024 * 1024;
const SHOT = (name: string) => `lab-workflow-${name}`;

let browser: TestBrowser;
let lab: LabApp;
let lock: OwnerLock;
let root: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-lab-workflow-'));
  const dataDir = path.join(root, 'console');
  lock = acquireOwnerLock(dataDir, 'the embedded lab');
  [browser, lab] = await Promise.all([
    launchBrowser(),
    startLabApp({
      dataDir,
      // The first copy is slow enough to open a second window in the middle of it, and its VMA phases
      // last long enough for the poller to see each of them.
      vmaSpeed: { firstPushDelayMs: 300, phaseDelayMs: 400, bytesPerSecond: 64 * 1024 },
      core: { lab: true, owner: ownerPortOf(lock), failover: { pollIntervalMs: 25, runningWaitMs: 10_000, retryDelayMs: 100 } },
    }),
  ]);
  // A loaded machine can be slow to start nbdkit over SSH: more room than the default, same behaviour.
  const oma = lab.rig.core.appliances.record(lab.rig.omaAppliance.id).settings;
  lab.rig.core.appliances.setSettings(lab.rig.omaAppliance.id, { ...oma, oma: { ...(oma.oma as object), commandTimeoutMs: 60_000, nbdkitStartTimeoutMs: 60_000 } });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await lab?.close();
  lock?.release();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const nav = (page: Page, screen: string) => page.locator(`nav [data-screen="${screen}"]`).click();

/** The lab is labelled on every screen. */
async function expectLabBadge(page: Page): Promise<void> {
  await expect(page.getByTestId('lab-badge').textContent()).resolves.toBe('EMBEDDED LAB');
}

async function openVm(page: Page, name: string): Promise<Locator> {
  await nav(page, 'vms');
  await page.getByRole('table', { name: 'Virtual machines' }).getByRole('row').filter({ hasText: name }).click();
  const panel = page.getByTestId('detail-panel');
  await panel.locator('.panel-title', { hasText: name }).waitFor();
  return panel;
}

/** The VMA phases a job section shows: name, recorded start and the tooltip time, in order. */
async function shownPhases(job: Locator): Promise<{ name: string; at: string; title: string; text: string }[]> {
  return job.locator('[data-testid="vma-phases"] .phase-chip').evaluateAll((chips) =>
    chips.map((c) => ({
      name: c.getAttribute('data-phase') ?? '',
      at: c.getAttribute('data-at') ?? '',
      title: c.getAttribute('title') ?? '',
      text: c.textContent ?? '',
    })),
  );
}

/** Every per-disk status badge lies inside the job card (none is cut off at the panel's right edge). */
async function expectBadgesInside(job: Locator): Promise<void> {
  const card = (await job.boundingBox())!;
  const badges = job.locator('[data-testid="disk-progress"] .badge');
  expect(await badges.count()).toBeGreaterThan(0);
  for (const badge of await badges.all()) {
    const b = (await badge.boundingBox())!;
    expect(b.x + b.width, `${await badge.textContent()} ends inside the card`).toBeLessThanOrEqual(card.x + card.width);
  }
}

/** Selects the option whose text begins with `name` (CloudStack options read "name (detail)"). */
async function pick(select: Locator, name: string): Promise<void> {
  const option = select.locator('option').filter({ hasText: new RegExp(`^${name}( \\(|$)`) });
  await option.first().waitFor({ state: 'attached' });
  await select.selectOption((await option.first().getAttribute('value'))!);
}

async function startReplication(page: Page, name: string): Promise<{ panel: Locator; job: Locator; jobId: string }> {
  const panel = await openVm(page, name);
  await panel.getByRole('button', { name: 'Start replication' }).click();
  const job = panel.getByTestId('job-section');
  await job.waitFor();
  const jobId = (await job.getAttribute('data-job-id'))!;
  return { panel, job, jobId };
}

describe('the lab for every workflow', () => {
  it('discovers, replicates, schedules, test-fails over, rolls back and live-fails over, screen by screen', async () => {
    const { rig } = lab;
    const { page, errors } = await browser.newPage();
    await page.goto(lab.url);
    await expect.poll(() => page.title()).toBe('EMBEDDED LAB — MigrateKit Console');

    // ---- Overview: nothing managed yet.
    await nav(page, 'overview');
    const ov = page.getByTestId('overview');
    await ov.waitFor();
    await expectLabBadge(page);
    await expect(ov.getByTestId('ov-states').innerText()).resolves.toMatch(/VMs by state \(0\)/i);
    await screenshot(page, SHOT('01-overview-empty'));

    // ---- Virtual Machines: empty, pointing to Discovery.
    await nav(page, 'vms');
    await page.getByTestId('vms-empty').waitFor();
    await expectLabBadge(page);
    await screenshot(page, SHOT('02-vms-empty'));

    // ---- Discovery, opened from the empty list (the lab's appliances are there already): add pgtest1 and web1.
    await page.getByTestId('vms-empty').getByRole('button', { name: 'Open Discovery' }).click();
    await expect(page.locator('main.content').getAttribute('data-screen')).resolves.toBe('discovery');
    await expectLabBadge(page);
    const form = page.locator('form.toolbar');
    await form.getByLabel('VMA appliance').selectOption({ label: 'lab-vma (127.0.0.1)' });
    await form.getByLabel('vCenter credential').selectOption({ label: `lab-vcenter (${rig.vcenterHost})` });
    await form.getByRole('button', { name: 'Discover' }).click();
    const discovered = page.getByRole('table', { name: 'Discovered VMs' });
    await discovered.waitFor({ timeout: 20_000 });
    expect((await discovered.locator('.vbody .cell.name').allTextContents()).sort()).toEqual(['pgtest1', 'web1', 'web10']);
    await page.getByLabel('Select pgtest1', { exact: true }).check();
    await page.getByLabel('Select web1', { exact: true }).check();
    await page.getByRole('button', { name: 'Add to management (2)' }).click();
    await expect(page.getByTestId('add-success').textContent()).resolves.toBe('Added 2 to management: pgtest1, web1');
    await discovered.getByRole('row').filter({ hasText: 'pgtest1' }).locator('.badge-managed').waitFor();
    await screenshot(page, SHOT('03-discovery-added'));

    // ---- Virtual Machines: both managed, never synced.
    await nav(page, 'vms');
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.locator('.vbody .cell.name', { hasText: 'web1' }).waitFor();
    expect(await table.locator('.vbody .cell.name').allTextContents()).toEqual(['pgtest1', 'web1']);
    for (const name of ['pgtest1', 'web1']) {
      const badge = table.getByRole('row').filter({ hasText: name }).locator('.badge');
      await expect(badge.getAttribute('data-status')).resolves.toBe('discovered');
      // Under management, a VM that never synced is not "Discovered" (Discovery's word).
      await expect(badge.textContent()).resolves.toBe('Not synced');
    }
    await screenshot(page, SHOT('04-vms-managed'));

    // ---- Initial replication of pgtest1, followed in its panel; a second window opens mid-copy.
    const first = await startReplication(page, 'pgtest1');
    const copy = first.job.locator(`[data-step="${REPLICATION_STEP.copy}"]`);
    await jobPercentBetween0And100(page);
    await expect(copy.getAttribute('data-status')).resolves.toBe('running');
    await first.job.locator('[data-testid="disk-progress"] .badge[data-status="transferring"]').waitFor();
    await expectBadgesInside(first.job);
    // Nothing to fail over yet, and the section says why instead of standing empty.
    await expect(first.panel.getByTestId('failover-unavailable').textContent()).resolves.toMatch(/once pgtest1 is ready for failover .* it is replicating now/);
    await screenshot(page, SHOT('05-replication-running'));
    // The second window: the same console at 1280×720, opened while the VMA is already transferring.
    const second = await browser.newPage();
    await second.page.setViewportSize({ width: 1280, height: 720 });
    await second.page.goto(lab.url);
    const secondPanel = await openVm(second.page, 'pgtest1');
    const secondJob = secondPanel.getByTestId('job-section');
    await expect(secondJob.getAttribute('data-job-id')).resolves.toBe(first.jobId);
    if ((await secondJob.getAttribute('data-status')) === 'replicating') {
      await secondJob.scrollIntoViewIfNeeded();
      await screenshot(second.page, SHOT('05b-second-window-1280-running'));
    }
    // It shows the phases that ended before it was opened: they come from the record, not its own frames.
    await secondJob.locator('[data-testid="vma-phases"] .phase-chip[data-phase="Initializing"]').waitFor();

    await first.panel.locator('.panel-head .badge[data-status="ready_for_failover"]').waitFor({ timeout: 60_000 });
    await first.job.and(page.locator('[data-status="completed"]')).waitFor();
    await secondJob.and(second.page.locator('[data-status="completed"]')).waitFor({ timeout: 10_000 });
    for (const name of [...SETUP_STEPS, REPLICATION_STEP.copy]) {
      await expect(first.job.locator(`[data-step="${name}"]`).getAttribute('data-status')).resolves.toBe('completed');
    }
    expect(rig.core.jobs.require(first.jobId)).toMatchObject({ status: 'completed', jobType: 'initial' });

    // Both windows show one phase history, the one recorded in the job log, with the same times.
    const recorded = rig.core.logbook.phases(first.jobId);
    expect(recorded.map((p) => p.name)).toEqual(expect.arrayContaining(['Initializing', 'Transfer']));
    expect(recorded.length).toBeGreaterThanOrEqual(3);
    const inFirst = await shownPhases(first.job);
    const inSecond = await shownPhases(secondJob);
    expect(inFirst.map(({ name, at }) => ({ name, at }))).toEqual(recorded);
    expect(inSecond).toEqual(inFirst);
    await expectBadgesInside(first.job);
    await expectBadgesInside(secondJob);
    // The steps, the copy among them, read the same in both windows.
    const stepRows = (job: Locator) =>
      job.locator('[data-testid="step-pipeline"] > li').evaluateAll((lis) =>
        lis.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-status'), li.querySelector('.pipe-duration')?.textContent ?? '']),
      );
    const panelSteps = await stepRows(first.job);
    expect(await stepRows(secondJob)).toEqual(panelSteps);
    await screenshot(page, SHOT('06-replication-done'));
    await screenshot(second.page, SHOT('06b-second-window-1280-done'));
    expect(second.errors).toEqual([]);
    await second.page.close();

    // The Logs entry of that job lists the same phases at the same times (the same formatter, the same record).
    await nav(page, 'logs');
    await page.getByTestId('log-operations').locator(`tr[data-operation="${first.jobId}"]`).click();
    const events = page.getByTestId('log-events').locator('li');
    await events.filter({ hasText: 'Replication completed' }).waitFor();
    const logged = await events.evaluateAll((lis) =>
      lis
        .map((li) => ({ msg: li.querySelector('.event-msg')?.textContent ?? '', time: li.querySelector('.event-time')?.textContent ?? '' }))
        .filter((e) => e.msg.startsWith('VMA phase: ')),
    );
    expect(logged.map((e) => `${e.msg.slice('VMA phase: '.length)} since ${e.time}`)).toEqual(inFirst.map((p) => p.title));
    // The job's steps in the Logs are the panel's: the copy on the VMA is one of them, with the same duration.
    const logSteps = await page
      .getByTestId('log-steps')
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.querySelector('td:nth-child(2)')?.textContent ?? '', tr.querySelector('td:nth-child(5)')?.textContent ?? '']));
    expect(logSteps).toEqual(panelSteps.map(([name, , duration]) => [name, duration]));
    await events.filter({ hasText: /^.*Copy on the VMA: \d+\.\d MiB of \d+\.\d MiB moved in/ }).waitFor();
    await expectLabBadge(page);
    await screenshot(page, SHOT('07-logs-initial-sync'));

    // ---- Initial replication of web1, faster from here on.
    Object.assign(rig.vma.speed, { firstPushDelayMs: 100, phaseDelayMs: 30, bytesPerSecond: 16 * MiB });
    const web1 = await startReplication(page, 'web1');
    await web1.panel.locator('.panel-head .badge[data-status="ready_for_failover"]').waitFor({ timeout: 60_000 });
    expect(rig.core.jobs.require(web1.jobId)).toMatchObject({ status: 'completed', jobType: 'initial' });

    // ---- Schedules: a nightly schedule.
    await nav(page, 'schedules');
    await expectLabBadge(page);
    const sform = page.getByRole('form', { name: 'New schedule' });
    await sform.getByLabel('Name').fill('nightly');
    await sform.getByLabel('Cron expression').fill('30 2 * * *');
    await sform.getByLabel('Time zone').fill('UTC');
    await page.getByTestId('cron-preview').locator('li').nth(4).waitFor();
    // A loaded machine can time a lab command out; a failed VM is retried within the same execution.
    await sform.getByLabel('Retry attempts').fill('2');
    await sform.getByLabel('Retry delay (s)').fill('1');
    await sform.getByRole('button', { name: 'Create schedule' }).click();
    const srow = page.locator('tr[data-schedule="nightly"]');
    await srow.waitFor();
    await expect(srow.getByTestId('next-run').textContent()).resolves.toMatch(/2:30|02:30/);
    await screenshot(page, SHOT('08-schedules-created'));

    // ---- Machine groups: both VMs on that schedule.
    await nav(page, 'groups');
    await expectLabBadge(page);
    const gform = page.getByRole('form', { name: 'New group' });
    await gform.getByLabel('Name').fill('lab-group');
    await gform.getByLabel('Schedule').selectOption({ label: 'nightly' });
    await gform.getByRole('button', { name: 'Create group' }).click();
    const members = page.locator('[data-testid="group-members"][data-group="lab-group"]');
    await members.waitFor();
    for (const name of ['pgtest1', 'web1']) {
      await members.getByLabel('Add VM to lab-group').selectOption({ label: name });
      await members.getByRole('button', { name: 'Add' }).click();
      await members.locator(`tr[data-member="${name}"]`).waitFor();
    }
    await screenshot(page, SHOT('09-groups-members'));

    // ---- Run now: one execution, an incremental sync of each VM.
    await nav(page, 'schedules');
    await srow.getByRole('button', { name: 'Run now' }).click();
    const history = page.getByTestId('execution-history');
    await history.locator('tbody[data-status="completed"]').waitFor({ timeout: 90_000 });
    const [execution] = rig.core.executions.list({});
    expect(execution).toMatchObject({ trigger: 'manual', status: 'completed', eligible: 2, completed: 2 });
    const runJobs = rig.core.jobs.list({}).filter((j) => j.scheduleExecutionId === execution!.id && j.status === 'completed');
    expect(runJobs.map((j) => j.jobType)).toEqual(['incremental', 'incremental']);
    await history.locator(`tbody[data-execution-id="${execution!.id}"] tr`).first().click();
    const vms = page.getByTestId('execution-vms');
    for (const j of runJobs) await vms.locator(`li[data-job-id="${j.id}"] .badge[data-status="completed"]`).waitFor();
    await expect(srow.getByTestId('last-run').textContent()).resolves.toContain('2 completed');
    await screenshot(page, SHOT('10-schedules-run-done'));

    // ---- Settings: the failover target (template and a compute offering that takes the VM's size).
    await nav(page, 'settings');
    await expectLabBadge(page);
    const cs = page.getByRole('form', { name: 'CloudStack connection' });
    await pick(cs.getByLabel('Template'), 'Blank KVM');
    await pick(cs.getByLabel('Service offering'), 'Custom');
    await cs.getByRole('button', { name: 'Save' }).click();
    await cs.getByText('Saved.').waitFor({ timeout: 20_000 });
    const about = page.getByTestId('about');
    await expect(about.textContent()).resolves.toContain(`Engine ownerthe embedded lab (pid ${process.pid}, since `);
    await expect(about.textContent()).resolves.toContain('Environmentembedded lab');
    await screenshot(page, SHOT('11-settings-cloudstack-saved'));
    await about.scrollIntoViewIfNeeded();
    await screenshot(page, SHOT('12-settings-about'));

    // ---- Test failover of pgtest1 from its panel, then roll back.
    let panel = await openVm(page, 'pgtest1');
    let section = panel.getByTestId('failover-section');
    for (const source of ['VLAN-100-prod', 'DVS-PG-dvportgroup-42']) {
      await section.getByLabel(`Test network for ${source}`).selectOption({ label: 'sim-network-1' });
    }
    await section.getByLabel('Boot disk').selectOption('disk-2000');
    await section.getByRole('button', { name: 'Fail over…' }).click();
    let dialog = page.getByRole('dialog', { name: 'Fail over pgtest1' });
    await dialog.getByTestId('failover-findings').getByText('No findings: ready for a test failover.').waitFor({ timeout: 20_000 });
    await screenshot(page, SHOT('13-failover-test-dialog'));
    await dialog.getByRole('button', { name: 'Start test failover' }).click();
    await dialog.waitFor({ state: 'detached' });
    const latest = section.getByTestId('failover-latest');
    await section.locator('[data-testid="failover-latest"][data-failover-status="completed"]').waitFor({ timeout: 120_000 });
    await expect(latest.getByTestId('failover-evidence').textContent()).resolves.toMatch(/CloudStack reports Running/);
    await panel.locator('.panel-head .badge[data-status="failed_over_test"]').waitFor();
    await screenshot(page, SHOT('14-failover-test-completed'));
    await latest.getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('dialog', { name: 'Roll back failover' }).getByRole('button', { name: 'Roll back' }).click();
    await section.locator('[data-testid="failover-latest"][data-failover-status="rolled_back"]').waitFor({ timeout: 120_000 });
    await panel.locator('.panel-head .badge[data-status="ready_for_failover"]').waitFor();
    await screenshot(page, SHOT('15-failover-test-rolled-back'));

    // ---- Failover screen: the test failover listed; live networks mapped in bulk.
    await nav(page, 'failover');
    await expectLabBadge(page);
    const [testFailover] = rig.core.failover.list({});
    await page.getByTestId('failover-list').locator(`tr[data-failover-id="${testFailover!.id}"]`).waitFor();
    const bulk = page.getByTestId('bulk-mapping');
    for (const source of ['VLAN-100-prod', 'DVS-PG-dvportgroup-42']) {
      await bulk.getByLabel(`Live network for every VM on ${source}`).selectOption({ label: 'sim-network-1' });
      await bulk.getByRole('row').filter({ hasText: source }).getByRole('button', { name: /^Map on \d+ VM/ }).click();
      await bulk.getByText(`${source}: mapped on 1 VM(s)`).waitFor();
    }
    await screenshot(page, SHOT('16-failover-screen'));

    // ---- Live failover of pgtest1: typed-name confirmation, final sync, completed.
    panel = await openVm(page, 'pgtest1');
    section = panel.getByTestId('failover-section');
    await section.getByRole('button', { name: 'Fail over…' }).click();
    dialog = page.getByRole('dialog', { name: 'Fail over pgtest1' });
    await dialog.getByRole('radio', { name: 'Live failover' }).check();
    await dialog.getByTestId('failover-findings').getByText('No findings: ready for a live failover.').waitFor({ timeout: 20_000 });
    await dialog.getByLabel('Confirm VM name').fill('pgtest1');
    await screenshot(page, SHOT('17-failover-live-dialog'));
    await dialog.getByRole('button', { name: 'Start live failover' }).click();
    await dialog.waitFor({ state: 'detached' });
    await section.locator('[data-testid="failover-latest"][data-failover-status="completed"]').waitFor({ timeout: 120_000 });
    await panel.locator('.panel-head .badge[data-status="failed_over_live"]').waitFor();
    expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOff');
    await screenshot(page, SHOT('18-failover-live-completed'));

    // ---- Overview: the fleet after it all.
    await nav(page, 'overview');
    await expect(ov.getByTestId('ov-states').innerText()).resolves.toMatch(/VMs by state \(2\)/i);
    await expect(ov.getByTestId('ov-running').innerText()).resolves.toMatch(/No job is running/);
    await expect(ov.getByTestId('ov-recent').locator('tbody tr').count()).resolves.toBeGreaterThanOrEqual(4);
    // The latest syncs fit their card (today's end times read as a time of day).
    const card = (await ov.getByTestId('ov-today').boundingBox())!;
    const recent = (await ov.getByTestId('ov-recent').boundingBox())!;
    expect(recent.x + recent.width).toBeLessThanOrEqual(card.x + card.width);
    await screenshot(page, SHOT('19-overview-after'));

    // ---- Logs: one entry per operation, each completed.
    await nav(page, 'logs');
    const ops = page.getByTestId('log-operations');
    await ops.locator('tbody tr', { hasText: 'Live failover of pgtest1' }).waitFor({ timeout: 10_000 });
    const rows = await ops.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ title: tr.querySelector('td:nth-child(3)')?.textContent ?? '', status: tr.querySelector('.badge')?.getAttribute('data-status') ?? '' })),
    );
    const statusOf = (title: string) => rows.filter((r) => r.title === title).map((r) => r.status);
    expect(statusOf(`Discovery on ${rig.vcenterHost} through lab-vma`)).toEqual(['completed']);
    for (const name of ['pgtest1', 'web1']) {
      expect(statusOf(`${name} added to management`)).toEqual(['completed']);
      expect(statusOf(`Initial sync of ${name}`)).toEqual(['completed']);
    }
    // The group run's incremental of each VM, and the live failover's final sync of pgtest1.
    expect(statusOf('Incremental sync of pgtest1')).toEqual(['completed', 'completed']);
    expect(statusOf('Incremental sync of web1')).toEqual(['completed']);
    expect(statusOf('Schedule nightly created')).toEqual(['completed']);
    expect(statusOf('Manual run of schedule nightly')).toEqual(['completed']);
    expect(statusOf('CloudStack configuration saved')).toContain('completed');
    expect(statusOf('Test failover of pgtest1')).toEqual(['completed']);
    expect(statusOf('Rollback of test failover of pgtest1')).toEqual(['completed']);
    expect(statusOf('Live failover of pgtest1')).toEqual(['completed']);
    await ops.locator('tbody tr', { hasText: 'Live failover of pgtest1' }).click();
    await page.getByTestId('log-steps').locator('tbody tr').first().waitFor();
    await screenshot(page, SHOT('20-logs-all'));

    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
