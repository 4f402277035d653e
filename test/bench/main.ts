// `npm run bench`: runs the benchmark sections in order, each with its own teardown, prints one
// JSON object on stdout, writes it to bench-results/latest.json and a short summary on stderr.
// Select sections with `npm run bench -- tunnel inventory render engine poller idle scheduler` (default: all).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cleanup } from './cleanup';
import { benchTunnelVsDirect } from './tunnel-vs-direct';
import { benchInventoryRender } from './inventory-render';
import { benchInventoryFetch } from './inventory-fetch';
import { benchEngineOverhead } from './engine-overhead';
import { benchPoller500 } from './poller-500';
import { benchIdleOwner } from './idle-owner';
import { benchSchedulerRun } from './scheduler-run';
import { summarise } from './summary';

type Section = (cleanup: Cleanup) => Promise<Record<string, unknown>>;

const SECTIONS: Record<string, { key: string; title: string; run: Section }> = {
  tunnel: { key: 'vmaApiTunnelVsDirect', title: 'VMA API through the SSH tunnel vs direct', run: (c) => benchTunnelVsDirect(c) },
  inventory: { key: 'inventory10kFetchNormalise', title: 'Fetch, parse and normalise a 10,000-VM inventory (simulator in a child process)', run: (c) => benchInventoryFetch(c) },
  render: { key: 'inventory10kNormaliseAndRender', title: 'Normalise and render a 10,000-VM inventory', run: (c) => benchInventoryRender(c) },
  engine: { key: 'engineOverheadPerJob', title: 'Replication engine overhead per job', run: (c) => benchEngineOverhead(c) },
  poller: { key: 'pollerRunningJobs', title: '1,000 running jobs polled every 2 s', run: (c) => benchPoller500(c) },
  idle: { key: 'idleOwner', title: 'An idle owner (mkc serve, no jobs)', run: (c) => benchIdleOwner(c) },
  scheduler: { key: 'schedulerRun1000', title: 'A schedule run over 1,000 VMs, concurrency 50', run: (c) => benchSchedulerRun(c) },
};

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpuCount: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 1024 / 1024),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage1m: os.loadavg()[0],
  };
}

let current: Cleanup | null = null;
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[bench] ${sig}: tearing down the running section\n`);
    void (current?.run(5_000) ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const root = process.env.MKC_BENCH_ROOT ?? process.cwd();
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !(w in SECTIONS));
  if (unknown.length > 0) throw new Error(`unknown benchmark section(s): ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  const names = wanted.length > 0 ? wanted : Object.keys(SECTIONS);
  const report: Record<string, unknown> = { startedAt: new Date().toISOString(), machine: machine(), sections: names };
  const started = Date.now();
  let failed = false;
  for (const name of names) {
    const s = SECTIONS[name]!;
    process.stderr.write(`[bench] ${s.title} …\n`);
    const cleanup = new Cleanup();
    current = cleanup;
    const t = Date.now();
    try {
      report[s.key] = { title: s.title, ...(await s.run(cleanup)) };
    } catch (e) {
      failed = true;
      report[s.key] = { title: s.title, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    } finally {
      await cleanup.run();
      const section = report[s.key] as Record<string, unknown>;
      section.sectionWallSeconds = Math.round((Date.now() - t) / 100) / 10;
      // Other work on the machine skews every number; the 1-minute load average says how much.
      section.loadAverage1mAtEnd = os.loadavg()[0];
      if (cleanup.failures.length > 0) section.cleanupFailures = cleanup.failures;
    }
    process.stderr.write(`[bench] ${s.title}: ${(report[s.key] as Record<string, unknown>).error ? 'FAILED' : 'done'} in ${Math.round((Date.now() - t) / 1000)} s\n`);
  }
  report.totalWallSeconds = Math.round((Date.now() - started) / 100) / 10;
  const json = JSON.stringify(report, null, 2);
  const outDir = path.join(root, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.json'), `${json}\n`);
  process.stdout.write(`${json}\n`);
  process.stderr.write(`${summarise(report)}\n[bench] written to ${path.join(outDir, 'latest.json')}\n`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`[bench] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
