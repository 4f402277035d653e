// Test and live failover in a real Chromium against the embedded lab: map the test networks and the
// boot disk in the VM panel (the live ones in bulk on the Failover screen), validate and start in the
// failover dialog, follow the phases to boot evidence, roll back, and find the failover with its
// evidence on the Failover screen.
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
  for (const name of ['mkc-test-a', 'mkc-test-b', 'prod-a', 'prod-b']) {
    const id = randomUUID();
    rig.cloudstack.state.networks.set(id, { id, name, displaytext: name, zoneid, state: 'Implemented', type: name.startsWith('prod') ? 'Shared' : 'Isolated' });
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

    // Nothing mapped yet: the dialog's validation names both source networks and blocks.
    await section.getByRole('button', { name: 'Fail over…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Fail over pgtest1' });
    const findings = dialog.getByTestId('failover-findings');
    await findings.locator('[data-code="nic_unmapped"]').first().waitFor();
    await expect(findings.locator('[data-code="nic_unmapped"]').count()).resolves.toBe(2);
    await expect(dialog.getByRole('button', { name: 'Start test failover' }).isDisabled()).resolves.toBe(true);
    await screenshot(page, 'failover-blocked');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await section.getByLabel('Test network for VLAN-100-prod').selectOption({ label: 'mkc-test-a' });
    await section.getByLabel('Test network for DVS-PG-dvportgroup-42').selectOption({ label: 'mkc-test-b' });
    await section.getByLabel('Boot disk').selectOption('disk-2000');
    await section.getByRole('button', { name: 'Fail over…' }).click();
    await findings.getByText('No findings: ready for a test failover.').waitFor();
    await dialog.getByRole('button', { name: 'Start test failover' }).click();
    await dialog.waitFor({ state: 'detached' });

    const latest = section.locator('[data-testid="failover-latest"]');
    await section.locator('[data-testid="failover-latest"][data-failover-status="completed"]').waitFor({ timeout: 300_000 });
    await expect(latest.getByTestId('failover-evidence').textContent()).resolves.toMatch(/CloudStack reports Running; IPs 10\.1\.1\.\d+, 10\.1\.1\.\d+/);
    await panel.locator('.panel-head .badge[data-status="failed_over_test"]').waitFor();
    await screenshot(page, 'failover-completed');

    await latest.getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('dialog', { name: 'Roll back failover' }).getByRole('button', { name: 'Roll back' }).click();
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

  it('live failover: bulk live mapping on the Failover screen, options and typed-name confirmation in the dialog, phases, rollback that powers the source back on', async () => {
    const { page, errors } = await browser.newPage();
    await page.goto(lab.url);
    // Live networks for every VM on each source network, from the Failover screen.
    await page.locator('nav [data-screen="failover"]').click();
    const bulk = page.getByTestId('bulk-mapping');
    for (const [source, target] of [['VLAN-100-prod', 'prod-a'], ['DVS-PG-dvportgroup-42', 'prod-b']] as const) {
      await bulk.getByLabel(`Live network for every VM on ${source}`).selectOption({ label: target });
      await bulk.getByRole('row').filter({ hasText: source }).getByRole('button', { name: /^Map on \d+ VM/ }).click();
      await bulk.getByText(`${source}: mapped on 1 VM(s)`).waitFor();
    }
    expect(lab.rig.core.networkMappings.forContext(ctxId).map((m) => [m.sourceNetwork, m.liveNetworkId !== null])).toEqual([
      ['DVS-PG-dvportgroup-42', true],
      ['VLAN-100-prod', true],
    ]);
    await screenshot(page, 'failover-bulk-mapping');

    await page.locator('nav [data-screen="vms"]').click();
    await page.getByRole('table', { name: 'Virtual machines' }).getByRole('row').filter({ hasText: 'pgtest1' }).click();
    const panel = page.getByTestId('detail-panel');
    const section = panel.getByTestId('failover-section');
    await section.getByRole('button', { name: 'Fail over…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Fail over pgtest1' });
    await dialog.getByRole('radio', { name: 'Live failover' }).check();
    await dialog.getByTestId('failover-findings').getByText('No findings: ready for a live failover.').waitFor();
    const startLive = dialog.getByRole('button', { name: 'Start live failover' });
    // Final sync off shows its warning; it stays on here.
    await dialog.getByLabel('Final sync').uncheck();
    await dialog.getByTestId('final-sync-warning').waitFor();
    await dialog.getByLabel('Final sync').check();
    await expect(dialog.getByTestId('final-sync-warning').count()).resolves.toBe(0);
    await dialog.getByLabel('Power-off timeout (seconds)').fill('5');
    await dialog.getByLabel('Confirm VM name').fill('pgtest1');
    await expect(startLive.isDisabled()).resolves.toBe(true); // 5 s is below the 10 s floor
    await dialog.getByLabel('Power-off timeout (seconds)').fill('30');
    await dialog.getByLabel('Source on failure').selectOption('keep_off');
    await dialog.getByLabel('Confirm VM name').fill('pgtest');
    await expect(startLive.isDisabled()).resolves.toBe(true);
    await dialog.getByLabel('Confirm VM name').fill('pgtest1');
    await screenshot(page, 'failover-live-dialog');
    await startLive.click();
    await dialog.waitFor({ state: 'detached' });

    const latest = section.locator('[data-testid="failover-latest"]');
    await section.locator('[data-testid="failover-latest"][data-failover-status="completed"]').waitFor({ timeout: 300_000 });
    await panel.locator('.panel-head .badge[data-status="failed_over_live"]').waitFor();
    await expect(latest.getByTestId('failover-phases').locator('li').allTextContents()).resolves.toEqual([
      'Validate', 'Power off the source VM', 'Final incremental sync', 'Snapshot every volume', 'Deploy the VM stopped',
      'Detach and delete the default root volume', 'Move the replicated volumes to the VM', 'Start the VM', 'Collect boot evidence',
    ]);
    await expect(latest.getByTestId('failover-nic').count()).resolves.toBe(2);
    await screenshot(page, 'failover-live-completed');
    const [f] = lab.rig.core.failover.list({ contextId: ctxId });
    expect(f).toMatchObject({ kind: 'live', vmName: 'pgtest1', options: { powerOffTimeoutSeconds: 30, finalSync: true, sourceOnFailure: 'keep_off' } });
    expect(lab.rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOff');

    await latest.getByRole('button', { name: 'Roll back' }).click();
    const rb = page.getByRole('dialog', { name: 'Roll back failover' });
    await expect(rb.getByLabel('Power the source back on').isChecked()).resolves.toBe(true);
    await screenshot(page, 'failover-live-rollback-dialog');
    await rb.getByRole('button', { name: 'Roll back' }).click();
    await section.locator('[data-testid="failover-latest"][data-failover-status="rolled_back"]').waitFor({ timeout: 300_000 });
    await panel.locator('.panel-head .badge[data-status="ready_for_failover"]').waitFor();
    expect(lab.rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOn');

    await page.locator('nav [data-screen="failover"]').click();
    const row = page.getByTestId('failover-list').locator(`tr[data-failover-id="${f!.id}"]`);
    await row.click();
    const details = page.getByTestId('failover-details');
    await expect(details.textContent()).resolves.toMatch(/power-off forced after 30 s · final sync · source left off on failure · rollback powers the source on/);
    await expect(details.getByTestId('failover-evidence').textContent()).resolves.toMatch(/CloudStack reports Running/);
    await screenshot(page, 'failover-screen-live');
    expect(errors).toEqual([]);
  });
});
