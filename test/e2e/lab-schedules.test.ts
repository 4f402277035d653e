// Schedules in a real Chromium against the embedded lab: create a schedule (with the live preview and
// a refused expression), create a group on it and add a VM, run now, and watch the execution end with
// a completed job that went through the canonical path (same engine, fresh discovery, VMA replicate).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, startLabApp, type LabApp, type TestBrowser } from '../fixtures/browser';

let browser: TestBrowser;
let lab: LabApp;
let contextIds: Record<string, string>;

beforeAll(async () => {
  [browser, lab] = await Promise.all([launchBrowser(), startLabApp()]);
  contextIds = await lab.rig.manage(['pgtest1', 'web10']);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await lab?.close();
});

describe('schedules against the lab', () => {
  it('creates a schedule and a group, runs now, and shows the execution with its completed jobs', async () => {
    const { page, errors } = await browser.newPage();
    // Every request the page sends over the bridge, to see that a run is followed from pushes, not polled.
    const sent: { channel: string; at: number }[] = [];
    const pushes: number[] = [];
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => {
        const m = JSON.parse(String(f.payload)) as { type: string; channel?: string };
        if (m.type === 'invoke' && m.channel) sent.push({ channel: m.channel, at: Date.now() });
      });
      ws.on('framereceived', (f) => {
        if (String(f.payload).includes('"executions:changed"')) pushes.push(Date.now());
      });
    });
    await page.goto(lab.url);
    await page.locator('nav [data-screen="schedules"]').click();
    await expect(page.getByTestId('schedules-note').textContent()).resolves.toContain('Schedules run only while the console');

    // The form: a wrong expression is refused with the cron module's reason, a right one previews five runs.
    const form = page.getByRole('form', { name: 'New schedule' });
    await form.getByLabel('Name').fill('nightly-db');
    await form.getByLabel('Cron expression').fill('0 2 * *');
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByTestId('cron-error').filter({ hasText: 'has 4' }).waitFor();
    await form.getByLabel('Cron expression').fill('30 2 * * *');
    await page.getByTestId('cron-preview').locator('li').nth(4).waitFor();
    await expect(page.getByTestId('cron-preview').locator('li').count()).resolves.toBe(5);
    await form.getByLabel('Max concurrent jobs').fill('1');
    // A loaded machine can time a lab command out; a failed VM is retried within the same execution.
    await form.getByLabel('Retry attempts').fill('2');
    await form.getByLabel('Retry delay (s)').fill('1');
    await screenshot(page, 'schedules-form-preview');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    const row = page.locator('tr[data-schedule="nightly-db"]');
    await row.waitFor();
    await expect(row.getByTestId('next-run').textContent()).resolves.toMatch(/2:30|02:30/);
    const schedule = lab.rig.core.schedules.list().find((s) => s.name === 'nightly-db')!;
    expect(schedule).toMatchObject({ cronExpression: '30 2 * * *', timezone: 'Europe/Berlin', maxConcurrentJobs: 1, retryAttempts: 2, retryDelaySeconds: 1 });

    // A group on that schedule with both VMs.
    await page.locator('nav [data-screen="groups"]').click();
    const gform = page.getByRole('form', { name: 'New group' });
    await gform.getByLabel('Name').fill('databases');
    await gform.getByLabel('Schedule').selectOption({ label: 'nightly-db' });
    await gform.getByRole('button', { name: 'Create group' }).click();
    const members = page.locator('[data-testid="group-members"][data-group="databases"]');
    await members.waitFor();
    for (const name of ['pgtest1', 'web10']) {
      await members.getByLabel('Add VM to databases').selectOption({ label: name });
      await members.getByRole('button', { name: 'Add' }).click();
      await members.locator(`tr[data-member="${name}"]`).waitFor();
    }
    await screenshot(page, 'groups-members');

    // Run now: one execution, its jobs go through the engine one at a time (limit 1) and complete.
    await page.locator('nav [data-screen="schedules"]').click();
    // A copy of known pace keeps the run going for seconds however fast or loaded the machine (the
    // check below needs a window in which a poll would have fired): each of the two jobs (one at a
    // time) waits 1.5 s on the VMA before its first progress, then copies at a known speed.
    lab.rig.vma.speed.firstPushDelayMs = 1_500;
    lab.rig.vma.speed.bytesPerSecond = 16 * 1024 * 1024;
    const runClicked = Date.now();
    await row.getByRole('button', { name: 'Run now' }).click();
    const history = page.getByTestId('execution-history');
    await history.locator('tbody[data-status="running"]').first().waitFor();
    // The history is loaded (on selection and after the click); from here on it moves only by pushes.
    const historyShown = Date.now();
    await screenshot(page, 'schedules-running');
    await history.locator('tbody[data-status="completed"]').waitFor({ timeout: 100_000 }).catch((err: unknown) => {
      // Say where the run stands: a lab step that timed out on a loaded machine reads differently from a stuck run.
      const states = lab.rig.core.jobs.list({}).map((j) => `${j.id} ${j.status}${j.error ? ` (${j.error})` : ''}`);
      throw new Error(`${String(err)}\nexecutions: ${JSON.stringify(lab.rig.core.executions.list({}))}\njobs: ${states.join('; ')}`);
    });
    const runEnded = Date.now();
    // The history moved from pushed executions: it was loaded once after "Run now" and never polled
    // (a 1.5 s poll would have sent one executions:list per tick); the list was read once per pushed batch.
    const during = sent.filter((r) => r.at >= runClicked && r.at <= runEnded);
    // Long enough for a 1.5 s poll to have fired after the first 500 ms.
    expect(runEnded - historyShown).toBeGreaterThan(2_000);
    expect(pushes.filter((t) => t >= runClicked).length).toBeGreaterThan(1);
    expect(sent.filter((r) => r.at > historyShown + 500 && r.at <= runEnded && r.channel === 'executions:list')).toEqual([]);
    expect(during.filter((r) => r.channel === 'schedules:list').length).toBeLessThanOrEqual(pushes.filter((t) => t >= runClicked).length + 1);
    const executions = lab.rig.core.executions.list({ scheduleId: schedule.id });
    expect(executions).toHaveLength(1);
    const e = executions[0]!;
    // Counters are the jobs' real outcomes: every attempt is a job of this execution.
    expect(e).toMatchObject({ trigger: 'manual', status: 'completed', eligible: 2, completed: 2, skippedCount: 0 });
    expect(e.started).toBe(2 + e.retried);
    expect(e.failed).toBe(e.retried);
    await expect(row.getByTestId('last-run').textContent()).resolves.toContain('2 completed');

    // Per-VM outcomes link to the jobs; the jobs carry the scheduler metadata and went to the VMA.
    await history.locator(`tbody[data-execution-id="${e.id}"] tr`).first().click();
    const vms = page.getByTestId('execution-vms');
    await vms.locator('li').nth(1).waitFor();
    const jobs = lab.rig.core.jobs.list({}).filter((j) => j.scheduleExecutionId === e.id);
    expect(jobs).toHaveLength(e.started);
    const completed = jobs.filter((j) => j.status === 'completed');
    expect(completed.map((j) => j.vmContextId).sort()).toEqual([contextIds.pgtest1, contextIds.web10].sort());
    for (const j of jobs) expect(j).toMatchObject({ trigger: 'scheduler', scheduledBy: 'manual:nightly-db' });
    for (const j of completed) await vms.locator(`li[data-job-id="${j.id}"] .badge[data-status="completed"]`).waitFor();
    // Limit 1: each job was created only after the one before it had ended.
    const ordered = [...jobs].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (let i = 1; i < ordered.length; i++) expect(Date.parse(ordered[i]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(ordered[i - 1]!.completedAt!));
    await screenshot(page, 'schedules-execution-done');
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
