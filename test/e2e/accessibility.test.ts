// axe-core on every screen of the console (issue 12, "Keyboard and accessibility"), in a real Chromium
// against a real headless core behind the dev bridge, in the light and the dark colour scheme: no
// serious or critical violation. Screens are taken from the sidebar, so a screen added later is
// checked too. Also: the focus ring is at 3:1 against what surrounds it, and the VM panel opens
// with Enter, closes with Escape and gives focus back to its row.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Core } from '../../main/core/core';
import { createGroup } from '../../main/scheduler/schedule-views';
import { launchBrowser, makeDiscoveredVm, screenshot, startBridgeApp, type BridgeApp, type TestBrowser } from '../fixtures/browser';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser: TestBrowser;
let app: BridgeApp;
const pages: Page[] = [];

function seed(core: Core): void {
  const add = (name: string) => core.contexts.add({ vm: makeDiscoveredVm(name, 2), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId: null });
  const synced = (id: string, agoMs: number) => {
    const end = Date.now() - agoMs;
    const job = core.jobs.claim({ contextId: id, trigger: 'cli', now: new Date(end - 30_000) });
    core.jobs.finish(job.id, 'completed', null, new Date(end));
  };
  const schedule = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '0 2 * * *', timezone: 'UTC' });
  const group = createGroup(core.groups, { name: 'web tier', scheduleId: schedule.id, replicaAgeTargetSeconds: 3600 });
  const a = add('web-01');
  synced(a.id, 10 * 60_000);
  const b = add('web-02');
  synced(b.id, 3 * 3600_000);
  const c = add('db-01');
  core.contexts.transition(c.id, 'failed', 'Volume attach failed: device did not appear');
  const d = add('app-new');
  core.jobs.claim({ contextId: add('batch-01').id, trigger: 'cli' });
  core.contexts.setEnabled(d.id, false);
  core.groups.addMembers(group.id, [a.id, b.id, c.id]);
  core.logbook.startOperation('op-a11y-1', 'discovery', 'Discovery on lab VMA', null);
  core.logbook.event('op-a11y-1', 'warn', 'One VM could not be read');
  core.logbook.finishOperation('op-a11y-1', 'completed');
}

beforeAll(async () => {
  browser = await launchBrowser();
  app = await startBridgeApp(seed);
});
afterEach(async () => {
  for (const p of pages.splice(0)) await p.close();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

interface Finding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe on the whole document; serious and critical findings only, each with the nodes it names. */
async function axe(page: Page): Promise<Finding[]> {
  // The console's Content-Security-Policy refuses inline scripts; an expression evaluated through the
  // DevTools protocol is not subject to it, so axe is injected without loosening the page's policy.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 6).map((n) => n.target.map(String).join(' ')) }));
  });
}

async function open(scheme: 'light' | 'dark', viewport = { width: 1440, height: 900 }) {
  const p = await browser.newPage();
  pages.push(p.page);
  await p.page.setViewportSize(viewport);
  await p.page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
  await p.page.goto(app.url);
  await p.page.getByRole('table', { name: 'Virtual machines' }).getByText('web-01').waitFor();
  return p;
}

/** Waits until a screen has loaded what it shows (no "Loading…" left in the content). */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => !/Loading/.test(document.querySelector('main.content')?.textContent ?? 'Loading'), null, { timeout: 10_000 });
  await page.waitForTimeout(150);
}

describe.each(['light', 'dark'] as const)('axe-core, %s scheme', (scheme) => {
  it('finds no serious or critical violation on any screen', async () => {
    const { page, errors } = await open(scheme);
    const screens = await page.locator('nav [data-screen]').evaluateAll((els) => els.map((e) => e.getAttribute('data-screen')!));
    expect(screens).toEqual(expect.arrayContaining(['vms', 'discovery', 'schedules', 'groups', 'failover', 'logs', 'settings']));
    const found: Record<string, Finding[]> = {};
    for (const s of screens) {
      await page.locator(`nav [data-screen="${s}"]`).click();
      await page.locator(`main.content[data-screen="${s}"]`).waitFor();
      await settled(page);
      found[s] = await axe(page);
      await screenshot(page, `a11y-${scheme}-${s}`);
    }
    // The VM screen's overlays: the detail panel, the column chooser and the remove dialog.
    await page.locator('nav [data-screen="vms"]').click();
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByRole('row').filter({ hasText: 'web-02' }).click();
    await page.getByTestId('detail-panel').getByTestId('panel-age').waitFor();
    await settled(page);
    found['vms+panel'] = await axe(page);
    await page.keyboard.press('Escape');
    await page.getByTestId('detail-panel').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Columns' }).click();
    found['vms+columns'] = await axe(page);
    await page.keyboard.press('Escape');
    await table.getByRole('checkbox', { name: 'Select web-02' }).check();
    await page.getByTestId('bulk-actions').getByRole('button', { name: /^Remove…/ }).click();
    await page.getByTestId('removal-plan').waitFor();
    found['vms+remove'] = await axe(page);
    await screenshot(page, `a11y-${scheme}-remove-dialog`);
    await page.keyboard.press('Escape');
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
    expect(errors).toEqual([]);
  });
});

/** WCAG relative luminance contrast of two CSS colours (rgb/rgba, alpha over white or the given base). */
async function focusRingContrast(page: Page): Promise<{ ring: string; against: string; ratio: number }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    // The ring is drawn inside the row (negative offset): it sits on the row's own background.
    let bgEl: HTMLElement | null = el;
    let bg = 'rgba(0, 0, 0, 0)';
    while (bgEl) {
      bg = getComputedStyle(bgEl).backgroundColor;
      if (parse(bg)[3] !== 0) break;
      bgEl = bgEl.parentElement;
    }
    const ring = getComputedStyle(el).outlineColor;
    const [l1, l2] = [lum(parse(ring)), lum(parse(bg))];
    return { ring, against: bg, ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05) };
  });
}

describe.each(['light', 'dark'] as const)('keyboard, %s scheme', (scheme) => {
  it('opens the panel with Enter, closes it with Escape back to the row, with a focus ring at 3:1 or better', async () => {
    const { page, errors } = await open(scheme);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByRole('row').filter({ hasText: 'web-02' }).waitFor();
    const first = table.locator('.vbody [role="row"][tabindex="0"]');
    await first.focus();
    await page.keyboard.press('ArrowDown');
    const name = await page.evaluate(() => document.activeElement?.querySelector('.name')?.textContent);
    const ring = await focusRingContrast(page);
    expect(ring.ratio, `focus ring ${ring.ring} on ${ring.against}`).toBeGreaterThanOrEqual(3);
    await page.keyboard.press('Enter');
    const panel = page.getByTestId('detail-panel');
    await panel.waitFor();
    await expect(panel.locator('.panel-title').textContent()).resolves.toBe(name);
    // Every control in the panel is reachable with Tab from the row; Escape comes back to the row.
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    await page.waitForFunction((n) => document.activeElement?.getAttribute('role') === 'row' && document.activeElement.querySelector('.name')?.textContent === n, name);
    // A focused button's ring too.
    await page.getByRole('button', { name: 'Columns' }).focus();
    const buttonRing = await focusRingContrast(page);
    expect(buttonRing.ratio, `focus ring ${buttonRing.ring} on ${buttonRing.against}`).toBeGreaterThanOrEqual(3);
    expect(errors).toEqual([]);
  });
});
