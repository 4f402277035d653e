// Benchmark 5 (issue 13): an idle owner. The real `mkc serve` (dist/core/mkc.mjs) owns a fresh data
// directory with no appliances and no jobs; its CPU (utime+stime from /proc) is measured over a
// window after it has settled. Everything it runs when idle (poller passes over zero jobs, the
// scheduler, the control socket, the owner lock) is in that figure.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Cleanup } from './cleanup';
import { processCpuMs, round, sleep } from './stats';

export interface IdleOwnerParams {
  settleSeconds: number;
  windowSeconds: number;
}

const DEFAULTS: IdleOwnerParams = { settleSeconds: 3, windowSeconds: 30 };

export async function benchIdleOwner(cleanup: Cleanup, override: Partial<IdleOwnerParams> = {}): Promise<Record<string, unknown>> {
  const p = { ...DEFAULTS, ...override };
  const root = process.env.MKC_BENCH_ROOT ?? process.cwd();
  const bin = path.join(root, 'dist', 'core', 'mkc.mjs');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run the suite through npm run bench (it builds the core)`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-bench-idle-'));
  cleanup.add('idle owner data dir', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [bin, 'serve', '--data-dir', dataDir], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MKC_SECRET_KEY: randomBytes(24).toString('hex') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.add('mkc serve (idle owner)', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGINT');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const t0 = performance.now();
  while (!/Serving .* as its owner/.test(out)) {
    if (child.exitCode !== null) throw new Error(`mkc serve exited (${child.exitCode}): ${out.trim().slice(0, 500)}`);
    if (performance.now() - t0 > 60_000) throw new Error(`mkc serve did not start within 60 s: ${out.trim().slice(0, 500)}`);
    await sleep(50);
  }
  const startMs = performance.now() - t0;
  await sleep(p.settleSeconds * 1000);
  const cpu0 = processCpuMs(child.pid);
  const w0 = performance.now();
  await sleep(p.windowSeconds * 1000);
  const wallMs = performance.now() - w0;
  const cpuMs = processCpuMs(child.pid) - cpu0;
  if (child.exitCode !== null) throw new Error(`mkc serve exited during the window (${child.exitCode}): ${out.trim().slice(0, 500)}`);
  return {
    parameters: { ...p, owner: '`mkc serve --data-dir <fresh dir>` (dist/core/mkc.mjs), no appliances, no jobs, secret key from MKC_SECRET_KEY' },
    units: { '*Ms': 'ms', cpuSharePercent: '% of one core over the window' },
    target: 'an idle owner with no jobs under 1 % of one core (issue 13)',
    startToServingMs: round(startMs, 0),
    window: { wallMs: round(wallMs, 0), cpuMs: round(cpuMs, 0), cpuSharePercent: round((cpuMs / wallMs) * 100, 2) },
    notes: ['CPU from /proc/<pid>/stat (utime+stime) at clock-tick resolution (usually 10 ms): over 30 s that is ±0.03 % of a core.'],
  };
}
