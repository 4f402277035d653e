// Test failover in a real Chromium against the embedded lab: map the test networks and the boot disk
// in the VM panel, validate, start, follow the phases to boot evidence, roll back, and find the
// failover with its evidence on the Failover screen.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, startLabApp, type LabApp, type TestBrowser } from '../fixtures/browser';

let browser: TestBrowser;
let lab: LabApp;
let ctxId: string;

beforeAll(async () => {
  [browser, lab] = await Promise.all([
    launchBrowser(),
    startLabApp({ core: { failover: { pollIntervalMs: 25, runningWaitMs: 10_000, retryDelayMs: 100 } } }),
  ]);
  const rig = lab.rig;
  const oma = rig.core.appliances.record(rig.omaAppliance.id).settings;
  rig.core.appliances.setSettings(rig.omaAppliance.id, { ...oma, oma: { ...(oma.oma as object), commandTimeoutMs: 60_000, nbdkitStartTimeoutMs: 60_000 } });
  ctxId = (await rig.manage(['pgtest1'])).pgtest1!;
  const zoneid = [...rig.cloudstack.state.zones.keys()][0]!;
  for (const name of ['mkc-test-a', 'mkc-test-b']) {
    const id = randomUUID();
    rig.cloudstack.state.networks.set(id, { id, name, displaytext: name, zoneid, state: 'Implemented', type: 'Isolated' });
  }
  rig.core.cloudstack.save({
    apiUrl: rig.core.cloudstack.view().apiUrl!,
    templateId: [...rig.cloudstack.state.templates.keys()][0]!,
    serviceOfferingId: [...rig.cloudstack.state.serviceOfferings.values()].find((o) => o.iscustomized)!.id,
  });
  const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
  expect((await rig.core.engine.whenSettled(jobId)).status).toBe('completed');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await lab?.close();
});

describe('test failover from the VM panel', { timeout: 400_000 }, () => {
  it('maps, validates, starts, shows boot evidence, rolls back, and lists the failover', async () => {
    const { page, errors } = await browser.newPage();
    await page.goto(lab.url);
    await page.getByRole('table', { name: 'Virtual machines' }).getByRole('row').filter({ hasText: 'pgtest1' }).click();
    const panel = page.getByTestId('detail-panel');
    const section = panel.getByTestId('failover-section');
    await section.waitFor();

    // Nothing mapped yet: validation names both source networks and blocks.
    await section.getByRole('button', { name: 'Validate test failover' }).click();
    const findings = section.getByTestId('failover-findings');
    await findings.locator('[data-code="nic_unmapped"]').first().waitFor();
    await expect(findings.locator('[data-code="nic_unmapped"]').count()).resolves.toBe(2);
    await expect(section.getByRole('button', { name: 'Start test failover' }).isDisabled()).resolves.toBe(true);
    await screenshot(page, 'failover-blocked');

    await section.getByLabel('Test network for VLAN-100-prod').selectOption({ label: 'mkc-test-a' });
    await section.getByLabel('Test network for DVS-PG-dvportgroup-42').selectOption({ label: 'mkc-test-b' });
    await section.getByLabel('Boot disk').selectOption('disk-2000');
    await section.getByRole('button', { name: 'Validate test failover' }).click();
    await findings.getByText('No findings: ready for a test failover.').waitFor();
    await section.getByRole('button', { name: 'Start test failover' }).click();

    const latest = section.locator('[data-testid="failover-latest"]');
    await section.locator('[data-testid="failover-latest"][data-failover-status="completed"]').waitFor({ timeout: 300_000 });
    await expect(latest.getByTestId('failover-evidence').textContent()).resolves.toMatch(/CloudStack reports Running; IPs 10\.1\.1\.\d+, 10\.1\.1\.\d+/);
    await panel.locator('.panel-head .badge[data-status="failed_over_test"]').waitFor();
    await screenshot(page, 'failover-completed');

    await latest.getByRole('button', { name: 'Roll back' }).click();
    await section.locator('[data-testid="failover-latest"][data-failover-status="rolled_back"]').waitFor({ timeout: 300_000 });
    await panel.locator('.panel-head .badge[data-status="ready_for_failover"]').waitFor();
    await screenshot(page, 'failover-rolled-back');
    const [f] = lab.rig.core.failover.list({ contextId: ctxId });
    expect(lab.rig.cloudstack.state.vms.has(f!.cloudstackVmId!)).toBe(false);

    await page.locator('nav [data-screen="failover"]').click();
    const row = page.getByTestId('failover-list').getByRole('row').filter({ hasText: f!.vmName });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('Running; 10.1.1.');
    await screenshot(page, 'failover-screen');
    expect(errors).toEqual([]);
  });
});
