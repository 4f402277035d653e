// The overview (issue 12) in a real Chromium against the embedded lab: VMs by state, a failure that
// needs attention, the oldest replicas, data replicated today and per sync, running jobs and next
// runs, all from one read model; sidebar counts; a toast for a job that ends while on another screen.
import { describe, expect, it } from 'vitest';
import { screenshot, type LabApp, type TestBrowser, useLab } from '../fixtures/browser';

let browser: TestBrowser;
let lab: LabApp;

useLab((s) => ({ browser, lab } = s));

describe('overview against the lab', () => {
  it('shows the fleet at a glance, counts in the sidebar and toasts job outcomes on other screens', async () => {
    const { rig } = lab;
    const ids = await rig.manage(['pgtest1', 'web10']);
    const s = rig.core.scheduler.createSchedule({ name: 'nightly', cronExpression: '0 2 * * *', timezone: 'UTC' });
    const g = rig.core.groups.create({ name: 'web', description: '', scheduleId: s.id, maxConcurrentVms: 1, priority: 1, enabled: true, replicaAgeTargetSeconds: 3600 });
    rig.core.groups.addMembers(g.id, [ids.web10!, ids.pgtest1!]);

    const { page, errors } = await browser.newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(lab.url);
    await page.locator('nav [data-screen="overview"]').click();
    const ov = page.getByTestId('overview');
    await ov.waitFor();
    await expect(page.getByTestId('nav-count-vms').textContent()).resolves.toBe('2');
    await expect(ov.getByTestId('ov-states').innerText()).resolves.toMatch(/VMs by state \(2\)/i);
    await expect(ov.getByTestId('ov-next').innerText()).resolves.toMatch(/nightly[\s\S]*2 VMs/);
    await expect(ov.getByTestId('ov-oldest').locator('tbody tr').count()).resolves.toBe(2);
    expect(await ov.getByTestId('ov-oldest').locator('tr[data-over-target]').count()).toBe(2);

    // A sync runs: the overview lists it while it runs. The copy is held until the overview has shown
    // it, so a loaded machine cannot end the job before the screen's next reload.
    rig.vma.faults.hold();
    const { jobId } = await rig.core.engine.start(ids.web10!, { trigger: 'cli' });
    await ov.getByTestId('ov-running').locator('li', { hasText: 'web10' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'overview-running');

    // It ends while the operator is on Logs: a toast says so, with a way to open the VM.
    await page.locator('nav [data-screen="logs"]').click();
    rig.vma.faults.release();
    const toast = page.getByTestId('toasts').locator('.toast', { hasText: 'Sync of web10 completed' });
    await toast.waitFor({ timeout: 60_000 });
    expect(await toast.getAttribute('data-tone')).toBe('ok');
    await screenshot(page, 'overview-toast-on-logs');
    expect((await rig.core.engine.whenSettled(jobId)).status).toBe('completed');

    // A sync whose copy cannot start fails: it needs attention, in the overview and the sidebar badge.
    rig.vma.faults.injectError('replicate', { status: 500, text: 'copier could not start', times: 5 });
    const failed = await rig.core.engine.start(ids.pgtest1!, { trigger: 'cli' });
    expect((await rig.core.engine.whenSettled(failed.jobId)).status).toBe('failed');
    await page.getByTestId('toasts').locator('.toast[data-tone="error"]', { hasText: 'Sync of pgtest1 failed' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('nav-count-overview').filter({ hasText: '1' }).waitFor({ timeout: 10_000 });

    await page.locator('nav [data-screen="overview"]').click();
    await ov.getByTestId('ov-attention').locator('li', { hasText: 'pgtest1' }).waitFor({ timeout: 10_000 });
    const today = ov.getByTestId('ov-today');
    await expect(today.innerText()).resolves.toMatch(/in 1 sync\b/);
    expect(await ov.getByTestId('ov-bytes-today').textContent()).not.toBe('0 B');
    await expect(ov.getByTestId('ov-recent').locator('tbody tr').first().innerText()).resolves.toMatch(/web10\s+(initial|full)/);
    // web10 synced just now: within its one-hour target; pgtest1 never did, so it leads and is over.
    const oldest = ov.getByTestId('ov-oldest').locator('tbody tr');
    await expect(oldest.first().innerText()).resolves.toMatch(/pgtest1\s+never synced/);
    expect(await oldest.nth(1).getAttribute('data-over-target')).toBeNull();
    await expect(ov.getByTestId('ov-running').innerText()).resolves.toMatch(/No job is running/);
    await screenshot(page, 'overview-after');

    // Open from the attention list goes to the VM's panel.
    await ov.getByTestId('ov-attention').getByRole('button', { name: 'pgtest1' }).click();
    await expect(page.locator('main.content').getAttribute('data-screen')).resolves.toBe('vms');
    expect(errors).toEqual([]);
    await page.close();
  }, 150_000);
});
