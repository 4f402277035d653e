// Chromium helpers for the renderer benchmarks: open the built renderer behind the dev bridge,
// wait for the VM table's rows and collect requestAnimationFrame deltas (optionally while
// scrolling the virtualised table).
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../fixtures/browser';
import type { Cleanup } from './cleanup';
import { distribution, round } from './stats';

/**
 * Rows of the VM table, most specific first. The renderer is still changing; a comma list matches
 * whichever exists, and the report names the one that did.
 */
export const ROW_SELECTORS = [
  '[role="table"][aria-label="Virtual machines"] [role="row"][data-context-id]',
  '[data-testid="vm-row"]',
  '[data-context-id]',
  '[role="table"][aria-label="Virtual machines"] [role="row"]:not(.vhead)',
];
const ANY_ROW = ROW_SELECTORS.join(', ');

export async function openBrowser(cleanup: Cleanup): Promise<TestBrowser> {
  const browser = await launchBrowser();
  cleanup.add('Chromium', () => browser.close());
  return browser;
}

export interface RowsShown {
  /**
   * Wall time from page.goto() until Node heard that the first row was in the DOM: the page calls an
   * exposed binding from the MutationObserver that saw the row, so this adds one message to the
   * page's own time. (It was the driver's waitForSelector, which added its polling and round trips,
   * 150–250 ms here, and compiled Playwright's injected script on the page's main thread while the
   * page loaded.)
   */
  navigationToFirstRowMs: number;
  /**
   * Wall time from page.goto() until the first row was in the DOM, as the page saw it: the system clock
   * (Date.now()) read in Node just before goto and by a MutationObserver in the page when the row came.
   */
  gotoToFirstRowInDomMs: number | null;
  /** The same point in the page's own clock (performance.now(), 0 = navigation start). */
  pageClockFirstRowMs: number;
  /** Until the table reports every row (aria-rowcount) or the footer shows the count; null if not seen. */
  navigationToAllRowsKnownMs: number | null;
  /**
   * Until every VM is in the page (the table no longer aria-busy: the renderer paints a first page,
   * then loads the full list behind it); null if not seen.
   */
  navigationToFullListMs: number | null;
  matchedSelector: string | null;
  renderedRowElements: number;
  /** Where the time to the first row went, in the page's clock (ms after navigation start). */
  pageTimeline: Record<string, number | null>;
}

export async function navigateUntilRows(page: Page, url: string, expectedRows: number, timeoutMs = 90_000): Promise<RowsShown> {
  // The page says when its first row is in the DOM and when it is painted, through a binding: the
  // driver sends nothing to the page until then. Its waitForSelector (and every other locator or
  // evaluate) first compiles Playwright's injected script on the page's main thread, which took
  // 15–60 ms right while the page loaded its own scripts (a Chromium trace of this bench).
  let firstRowInDom: () => void = () => undefined;
  let firstRowPainted: () => void = () => undefined;
  const inDom = new Promise<number>((resolve) => (firstRowInDom = () => resolve(Date.now())));
  const painted = new Promise<void>((resolve) => (firstRowPainted = resolve));
  await page.exposeBinding('__mkcFirstRow', (_source, what: string) => (what === 'painted' ? firstRowPainted() : firstRowInDom()));
  await page.addInitScript((selector: string) => {
    const w = window as unknown as { __mkcFirstRowAt?: number; __mkcFirstRowWallAt?: number; __mkcFirstRowPaintedAt?: number; __mkcFirstRow?: (what: string) => void };
    const seen = () => {
      if (w.__mkcFirstRowAt === undefined && document.querySelector(selector)) {
        w.__mkcFirstRowAt = performance.now();
        w.__mkcFirstRowWallAt = Date.now();
        w.__mkcFirstRow?.('dom');
        // In the DOM is not on screen: the next frame's paint follows the rAF callback, and a task
        // posted from there runs after that paint.
        requestAnimationFrame(() => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => {
            w.__mkcFirstRowPaintedAt = performance.now();
            w.__mkcFirstRow?.('painted');
          };
          ch.port2.postMessage(null);
        });
      }
      return w.__mkcFirstRowAt !== undefined;
    };
    new MutationObserver((_, observer) => {
      if (seen()) observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  }, ANY_ROW);
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no VM table row appeared within ${timeoutMs} ms (selectors tried: ${ROW_SELECTORS.join(' | ')})`)), timeoutMs);
  });
  let navigationToFirstRowMs: number;
  try {
    navigationToFirstRowMs = (await Promise.race([inDom, timedOut])) - t0;
    // Nothing is asked of the page before that frame is painted (see above).
    await Promise.race([painted, timedOut]);
  } finally {
    clearTimeout(timer);
  }
  const pageClockFirstRowMs = await page.evaluate(() => performance.now());
  const firstRowWallAt = await page.evaluate(() => (window as unknown as { __mkcFirstRowWallAt?: number }).__mkcFirstRowWallAt ?? null);
  const gotoToFirstRowInDomMs = firstRowWallAt === null ? null : firstRowWallAt - t0;
  let navigationToAllRowsKnownMs: number | null = null;
  try {
    await page.waitForFunction(
      (n: number) => {
        const table = document.querySelector('[role="table"][aria-label="Virtual machines"]');
        const count = Number(table?.getAttribute('aria-rowcount') ?? NaN);
        if (count >= n) return true;
        const footer = document.querySelector('.table-footer')?.textContent ?? '';
        return footer.replace(/[,\s]/g, '').includes(String(n));
      },
      expectedRows,
      { timeout: timeoutMs, polling: 'raf' },
    );
    navigationToAllRowsKnownMs = Date.now() - t0;
  } catch {
    // reported as null: the page never announced the full count
  }
  let navigationToFullListMs: number | null = null;
  try {
    await page.waitForFunction(
      () => {
        const table = document.querySelector('[role="table"][aria-label="Virtual machines"]');
        return table !== null && table.getAttribute('aria-busy') !== 'true';
      },
      undefined,
      { timeout: timeoutMs, polling: 'raf' },
    );
    navigationToFullListMs = Date.now() - t0;
  } catch {
    // reported as null: the table stayed busy
  }
  const pageTimeline = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    // The scripts the page asked for while loading (the entry and the chunks it preloads), not the
    // screens fetched later on an idle moment.
    const loadEnd = nav?.domContentLoadedEventEnd ?? Infinity;
    const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.endsWith('.js') && r.startTime <= loadEnd);
    const fcp = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
    const r1 = (x: number | undefined) => (x === undefined ? null : Math.round(x * 10) / 10);
    return {
      htmlResponseEnd: r1(nav?.responseEnd),
      scriptResponseEnd: r1(Math.max(0, ...scripts.map((s) => s.responseEnd))),
      domContentLoaded: r1(nav?.domContentLoadedEventEnd),
      firstContentfulPaint: r1(fcp?.startTime),
      firstRowInDom: r1((window as unknown as { __mkcFirstRowAt?: number }).__mkcFirstRowAt),
      // The first frame painted with that row (a task posted from the next requestAnimationFrame).
      firstRowPainted: r1((window as unknown as { __mkcFirstRowPaintedAt?: number }).__mkcFirstRowPaintedAt),
      // Marks the renderer sets (renderer/src/store/live-sync.ts): connected and asking, first page in, full list in.
      ...Object.fromEntries(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('mkc:')).map((m) => [m.name.slice(4), r1(m.startTime)])),
    };
  });
  const { matched, rendered } = await page.evaluate((selectors: string[]) => {
    const matched = selectors.find((s) => document.querySelector(s) !== null) ?? null;
    return { matched, rendered: matched ? document.querySelectorAll(matched).length : 0 };
  }, ROW_SELECTORS);
  return { navigationToFirstRowMs, gotoToFirstRowInDomMs, pageClockFirstRowMs: round(pageClockFirstRowMs, 1), navigationToAllRowsKnownMs, navigationToFullListMs, pageTimeline, matchedSelector: matched, renderedRowElements: rendered };
}

export interface FrameStats {
  durationMs: number;
  frames: number;
  framesPerSecond: number;
  frameMs: ReturnType<typeof distribution>;
  framesOver20Ms: number;
  framesOver33Ms: number;
  framesOver50Ms: number;
  scrolledPx?: number;
  scrollContainerFound?: boolean;
  /**
   * The renderer's main-thread time over the run from Chromium's own counters (CDP Performance
   * metrics: TaskDuration and its script, layout and style parts), per frame: what each frame cost,
   * which the rAF deltas above hide whenever it fits in the frame.
   */
  mainThreadMsPerFrame?: { task: number; script: number; layout: number; style: number };
}

/**
 * rAF deltas for `durationMs`. With `scrollPxPerFrame`, the scroll container of the first table row
 * is scrolled that far every frame, bouncing between top and bottom.
 */
export async function collectFrames(page: Page, durationMs: number, scrollPxPerFrame = 0): Promise<FrameStats> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const before = await metrics();
  const r = await page.evaluate(
    async ({ durationMs, px, rowSelector }: { durationMs: number; px: number; rowSelector: string }) => {
      let scroller: HTMLElement | null = null;
      if (px > 0) {
        let el = document.querySelector(rowSelector)?.parentElement ?? null;
        while (el !== null) {
          const oy = getComputedStyle(el).overflowY;
          if ((oy === 'auto' || oy === 'scroll') && el.scrollHeight > el.clientHeight) break;
          el = el.parentElement;
        }
        scroller = el;
      }
      const deltas: number[] = [];
      let scrolled = 0;
      let dir = 1;
      await new Promise<void>((resolve) => {
        requestAnimationFrame((start) => {
          let last = start;
          const end = start + durationMs;
          const tick = (t: number) => {
            deltas.push(t - last);
            last = t;
            if (scroller !== null) {
              if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1) dir = -1;
              else if (scroller.scrollTop <= 0) dir = 1;
              scroller.scrollTop += dir * px;
              scrolled += px;
            }
            if (t < end) requestAnimationFrame(tick);
            else resolve();
          };
          requestAnimationFrame(tick);
        });
      });
      return { deltas, scrolled, found: scroller !== null };
    },
    { durationMs, px: scrollPxPerFrame, rowSelector: ANY_ROW },
  );
  const after = await metrics();
  await cdp.detach();
  // The counters are seconds; over the frames collected, in ms per frame.
  const perFrame = (name: string) => round((((after[name] ?? 0) - (before[name] ?? 0)) * 1000) / Math.max(1, r.deltas.length), 3);
  const total = r.deltas.reduce((s, d) => s + d, 0);
  return {
    durationMs: round(total, 1),
    frames: r.deltas.length,
    framesPerSecond: round((r.deltas.length / total) * 1000, 1),
    frameMs: distribution(r.deltas),
    framesOver20Ms: r.deltas.filter((d) => d > 20).length,
    framesOver33Ms: r.deltas.filter((d) => d > 33.4).length,
    framesOver50Ms: r.deltas.filter((d) => d > 50).length,
    ...(scrollPxPerFrame > 0 ? { scrolledPx: r.scrolled, scrollContainerFound: r.found } : {}),
    mainThreadMsPerFrame: { task: perFrame('TaskDuration'), script: perFrame('ScriptDuration'), layout: perFrame('LayoutDuration'), style: perFrame('RecalcStyleDuration') },
  };
}
