// Benchmark 2: a 10,000-VM discovery answer from the VMA simulator fetched and normalised
// (main/vma/normalise.ts), then the same 10,000 VMs as contexts rendered by the real renderer
// (dist/renderer behind the in-process dev bridge) in Debian's Chromium: time until the VM table
// shows rows, and frame times while the virtualised table scrolls.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Core } from '../../main/core/core';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DiscoveredVm } from '../../shared/discovery';
import type { RenderCoreChildConfig, RenderCoreChildMessage } from './render-core-child';
import { InMemorySecretStore } from '../../main/secrets/memory-store';
import { generateInventory, startVmaSimulator } from '../sim/vma/index';
import type { Cleanup } from './cleanup';
import { fetchMedians, timeClientDiscover, timeDiscoverFetch } from './inventory-fetch';
import { closeChildOnCleanup } from './sim-child';
import { collectFrames, navigateUntilRows, openBrowser, ROW_SELECTORS, type RowsShown } from './frames';
import { distribution, median, round } from './stats';
import { FIRST_PAGE_ROWS } from '../../renderer/src/store/live-sync';

/**
 * The core and dev bridge the browser talks to, in a child process (render-core-child.ts, bundled
 * beside the suite): the core's synchronous work after the first page (full list, schedule plans)
 * would otherwise hold up the playwright driver here and inflate the wall time to the first row.
 */
async function startRenderCoreChild(vms: DiscoveredVm[], vcenterHost: string, staticDir: string, dir: string, cleanup: Cleanup): Promise<{ url: string }> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'render-core-child.mjs');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run the suite through npm run bench (it bundles the child)`);
  const vmsFile = path.join(dir, 'vms.json');
  fs.writeFileSync(vmsFile, JSON.stringify(vms));
  const config: RenderCoreChildConfig = { vmsFile, vcenterHost, staticDir };
  const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, MKC_RENDER_CHILD_CONFIG: JSON.stringify(config) } });
  closeChildOnCleanup(proc, 'core child process (bench 2)', cleanup);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the core child did not start within 120 s')), 120_000);
    proc.on('message', (m: RenderCoreChildMessage) => {
      clearTimeout(timer);
      if (m.type === 'ready' && m.contexts === vms.length) resolve({ url: m.url });
      else reject(new Error(m.type === 'error' ? `the core child failed: ${m.message}` : `the core child seeded ${m.contexts} of ${vms.length} contexts`));
    });
    proc.once('exit', (code) => reject(new Error(`the core child exited (${code}) before it was ready`)));
  });
}

export interface RenderBenchParams {
  vms: number;
  fetchRepetitions: number;
  navigations: number;
  scrollSeconds: number;
  scrollPxPerFrame: number;
  idleFrameSeconds: number;
}

const DEFAULTS: RenderBenchParams = { vms: 10_000, fetchRepetitions: 5, navigations: 3, scrollSeconds: 6, scrollPxPerFrame: 120, idleFrameSeconds: 2 };

export async function benchInventoryRender(cleanup: Cleanup, override: Partial<RenderBenchParams> = {}): Promise<Record<string, unknown>> {
  // MKC_BENCH_RENDER_NAVIGATIONS: more page loads for a steadier first-row figure on a busy machine.
  const navigationsWanted = Number(process.env.MKC_BENCH_RENDER_NAVIGATIONS);
  const p = { ...DEFAULTS, ...(Number.isInteger(navigationsWanted) && navigationsWanted > 0 ? { navigations: navigationsWanted } : {}), ...override };
  const root = process.env.MKC_BENCH_ROOT ?? process.cwd();
  const vcenter = 'vcenter.bench.invalid';
  const datacenter = 'BenchDC';
  const login = { username: 'svc-bench@bench.invalid', password: `bench-${Math.random().toString(36).slice(2)}` };
  const vma = await startVmaSimulator({ vcenterHost: vcenter, datacenters: [datacenter], inventory: generateInventory({ count: p.vms, datacenter, seed: 11 }), credentials: login });
  cleanup.add('VMA simulator (bench 2)', () => vma.close());

  // --- fetch + normalise ---------------------------------------------------------------------
  const body = JSON.stringify({ vcenter, datacenter, ...login });
  await timeDiscoverFetch(vma.url, body, p.vms); // warm-up (JIT, simulator caches nothing)
  const runs = [];
  for (let i = 0; i < p.fetchRepetitions; i++) runs.push(await timeDiscoverFetch(vma.url, body, p.vms));
  const clientRuns = await timeClientDiscover(vma.url, { vcenter, datacenter, ...login }, p.fetchRepetitions, p.vms);
  const vms = runs.at(-1)!.vms;
  const fetchNormalise = {
    responseBytes: runs[0]!.bytes,
    repetitions: p.fetchRepetitions,
    medianMs: fetchMedians(runs, clientRuns),
    normaliseMsPerVm: round(median(runs.map((r) => r.normaliseMs)) / p.vms, 5),
    allRunsTotalMs: runs.map((r) => round(r.totalMs, 1)),
  };
  await vma.close();

  // --- seed 10,000 contexts, serve the renderer ------------------------------------------------
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-bench-render-'));
  cleanup.add('render data dir', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const core = new Core({ dataDir, transport: 'dev-bridge', secrets: new InMemorySecretStore() });
  cleanup.add('core (bench 2)', () => core.close());
  const seedStart = performance.now();
  core.db.transaction(() => {
    for (const vm of vms) core.contexts.add({ vm, vcenterHost: vcenter, credentialId: null, vmaApplianceId: null });
  })();
  const seedMs = performance.now() - seedStart;
  // What the bridge's contexts:list handler does for every page load, timed on its own.
  const listMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const n = core.contexts.list().length;
    listMs.push(performance.now() - t);
    if (n !== p.vms) throw new Error(`contexts.list() returned ${n} contexts, expected ${p.vms}`);
  }
  // The bridge sends that list as JSON: its size and serialisation time are part of the first row.
  const listed = core.contexts.list();
  const js0 = performance.now();
  const listJson = JSON.stringify(listed);
  const contextsListJson = { bytes: Buffer.byteLength(listJson), stringifyMs: round(performance.now() - js0, 1) };
  // The first page the renderer asks for before the full list (renderer/src/store/live-sync.ts).
  const pageMs: number[] = [];
  let firstPage = core.contexts.page(0, FIRST_PAGE_ROWS);
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    firstPage = core.contexts.page(0, FIRST_PAGE_ROWS);
    pageMs.push(performance.now() - t);
  }
  if (firstPage.counts.total !== p.vms || firstPage.contexts.length !== Math.min(FIRST_PAGE_ROWS, p.vms)) {
    throw new Error(`contexts.page() answered ${firstPage.contexts.length} rows of ${firstPage.counts.total}, expected ${FIRST_PAGE_ROWS} of ${p.vms}`);
  }
  const contextsPage = { rows: FIRST_PAGE_ROWS, coreMs: distribution(pageMs), jsonBytes: Buffer.byteLength(JSON.stringify(firstPage)) };
  const bridge = await startRenderCoreChild(vms, vcenter, path.join(root, 'dist', 'renderer'), dataDir, cleanup);
  const browser = await openBrowser(cleanup);

  const navigations: RowsShown[] = [];
  let scroll: Awaited<ReturnType<typeof collectFrames>> | null = null;
  let idle: Awaited<ReturnType<typeof collectFrames>> | null = null;
  const pageErrors: string[] = [];
  for (let i = 0; i < p.navigations; i++) {
    const { page, errors } = await browser.newPage();
    navigations.push(await navigateUntilRows(page, bridge.url, p.vms));
    if (i === p.navigations - 1) {
      await page.waitForTimeout(500);
      idle = await collectFrames(page, p.idleFrameSeconds * 1000);
      scroll = await collectFrames(page, p.scrollSeconds * 1000, p.scrollPxPerFrame);
    }
    pageErrors.push(...errors);
    await page.close();
  }
  const firstRow = navigations.map((n) => n.navigationToFirstRowMs);
  const allRows = navigations.map((n) => n.navigationToAllRowsKnownMs).filter((x): x is number => x !== null);
  const fullList = navigations.map((n) => n.navigationToFullListMs).filter((x): x is number => x !== null);
  const inDom = navigations.map((n) => n.pageTimeline.firstRowInDom).filter((x): x is number => typeof x === 'number');
  const painted = navigations.map((n) => n.pageTimeline.firstRowPainted).filter((x): x is number => typeof x === 'number');
  const gotoInDom = navigations.map((n) => n.gotoToFirstRowInDomMs).filter((x): x is number => x !== null);
  return {
    parameters: {
      ...p,
      inventory: 'generateInventory (1–3 disks, 0–2 NICs per VM), simulator answers the full datacenter (no filter)',
      fetch: 'undici request on loopback to the in-process VMA simulator; JSON.parse and normaliseDiscovery timed separately',
      renderer: 'dist/renderer from `node main/build/build.mjs all`, core + dev bridge in a child process (test/bench/render-core-child.ts) seeded with the same contexts, headless Debian Chromium 1440×900 via playwright-core',
      rowSelectorsTried: ROW_SELECTORS,
    },
    units: { '*Ms': 'ms', responseBytes: 'bytes', framesPerSecond: 'frames/s', frameMs: 'ms between consecutive requestAnimationFrame callbacks', scrolledPx: 'px' },
    fetchAndNormalise: fetchNormalise,
    seedingMs: round(seedMs, 1),
    coreContextsListMs: distribution(listMs),
    contextsListJson,
    contextsFirstPage: contextsPage,
    render: {
      navigations,
      navigationToFirstRowMs: distribution(firstRow),
      navigationToAllRowsKnownMs: allRows.length ? distribution(allRows) : null,
      navigationToFullListMs: fullList.length ? distribution(fullList) : null,
      // The page's own clock: navigation start → first row in the DOM (a MutationObserver set before navigation).
      pageClockFirstRowInDomMs: inDom.length ? distribution(inDom) : null,
      // The same clock at the first paint after that row was in the DOM: the row on screen.
      pageClockFirstRowPaintedMs: painted.length ? distribution(painted) : null,
      // goto() → first row in the DOM on the wall clock, read in Node before goto and in the page at the row.
      gotoToFirstRowInDomMs: gotoInDom.length ? distribution(gotoInDom) : null,
      rowSelectorMissing: navigations.some((n) => n.matchedSelector === null),
      idleFrames: idle,
      scrollFrames: scroll,
      pageErrors,
    },
    notes: [
      'navigationToFirstRowMs covers HTML+JS load, the WebSocket hello, contexts:page (the first rows of the table order, with the counts of all VMs; sent by the entry script right behind the hello, while the boot chunk with React DOM loads) over the dev bridge and the first table render. pageTimeline marks: entry (entry script ran, requests queued), boot (React DOM and the app evaluated), contexts-page / contexts-list (answers in).',
      'navigationToFullListMs adds contexts:list (every context as JSON, asked for once the first page is in) until the table stops being aria-busy; navigationToAllRowsKnownMs is when the table first reports the full row count (from the first page on).',
      'gotoToFirstRowInDomMs and pageClockFirstRowInDomMs are times the page took itself (a MutationObserver installed before navigation); navigationToFirstRowMs is when Node heard of it (a binding the page calls). The driver asks nothing of the page before that row is painted: a locator or evaluate first compiles Playwright\'s injected script on the page\'s main thread, 15–60 ms while the page loads (a Chromium trace). Runs before this change waited with waitForSelector, which did that and added its polling: their figures are 10–20 ms higher in the page\'s clock and 50–150 ms higher as seen by the driver.',
      'mainThreadMsPerFrame: the main-thread counters of Chromium (CDP Performance.getMetrics TaskDuration, ScriptDuration, LayoutDuration, RecalcStyleDuration) over the run divided by its frames.',
      'Frame deltas come from requestAnimationFrame in headless Chromium with --disable-gpu (software compositing); scrolling sets scrollTop of the table body by scrollPxPerFrame each frame, bouncing at the ends.',
    ],
  };
}
