// Benchmark 2b (issue 13: "fetch + parse + normalise under 150 ms, keep it"): the console's side of
// loading a 10,000-VM inventory. The VMA simulator runs in a child process (the same inventory as the
// render benchmark: seed 11, the generator's own disk counts and sizes), so that its JSON encoding does
// not share this process's event loop and the figure is the console's alone, as when the VMA is
// another machine. Timed here: the product's VmaClient.discover end to end (the headline: it reads
// the body into one buffer and parses and normalises the VM list in slices while the body arrives,
// so its parts cannot be timed apart), and as a breakdown with standard tools the same work step by
// step (undici body.text(), JSON.parse, normaliseDiscovery). The simulator times its own share of
// each request (onAnswered: from the request's arrival to the answer's last byte handed to the
// socket), so the report separates what the appliance takes from what the console adds. Direct HTTP
// on loopback, not the SSH tunnel: the tunnel's cost for VMA calls is benchmark 1's subject, and this
// target is about the console's own parse and normalise work.
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { normaliseDiscovery } from '../../main/vma/normalise';
import { createVmaClient } from '../../main/vma/vma-client';
import type { DiscoveredVm } from '../../shared/discovery';
import type { AnsweredRequest } from '../sim/vma/index';
import type { Cleanup } from './cleanup';
import { startSimChild, type SimChild } from './sim-child';
import { cpuMsSince, median, round } from './stats';

export interface InventoryFetchParams {
  vms: number;
  repetitions: number;
}

const DEFAULTS: InventoryFetchParams = { vms: 10_000, repetitions: 8 };
export const FETCH_NORMALISE_TARGET_MS = 150;

export async function benchInventoryFetch(cleanup: Cleanup, override: Partial<InventoryFetchParams> = {}): Promise<Record<string, unknown>> {
  const p = { ...DEFAULTS, ...override };
  const vcenter = 'vcenter.bench.invalid';
  const datacenter = 'BenchDC';
  const login = { username: 'svc-bench@bench.invalid', password: `bench-${Math.random().toString(36).slice(2)}` };
  const sim = await startSimChild(
    { vcenterHost: vcenter, datacenter, vms: p.vms, maxDisksPerVm: 3, blockSize: 64 * 1024, initialDataBlocks: 0, bytesPerSecond: 1024 * 1024, seed: 11 },
    cleanup,
  );
  const body = JSON.stringify({ vcenter, datacenter, ...login });
  await timeDiscoverFetch(sim.url, body, p.vms); // warm-up: JIT on both sides
  await vmaAnswers(sim, 1);
  const cpu0 = process.cpuUsage();
  const runs = [];
  for (let i = 0; i < p.repetitions; i++) runs.push(await timeDiscoverFetch(sim.url, body, p.vms));
  const cpu = cpuMsSince(cpu0);
  const stepVma = await vmaAnswers(sim, p.repetitions);
  const both = await timeProductDiscover(sim, { vcenter, datacenter, ...login }, p.repetitions, p.vms);
  const product = both.sliced;
  const clientMs = product.map((r) => r.ms);
  const productMs = median(clientMs);
  const consolePartMs = median(product.map((r) => r.ms - r.vma.answerMs));
  return {
    parameters: {
      ...p,
      route: 'direct HTTP on loopback to the VMA simulator in a child process (no SSH tunnel; see the file header)',
      headline: 'medianMs.vmaClientDiscoverEndToEnd: the product path (VmaClient.discover); medianMs.total is the step-by-step breakdown with undici body.text()',
    },
    units: { '*Ms': 'ms, median of the repetitions', responseBytes: 'bytes' },
    target: `fetch + parse + normalise of ${p.vms} VMs under ${FETCH_NORMALISE_TARGET_MS} ms (issue 13; 136 ms when filed, simulator in the same process then)`,
    responseBytes: runs[0]!.bytes,
    medianMs: fetchMedians(runs, clientMs),
    withinTarget: productMs < FETCH_NORMALISE_TARGET_MS,
    // What the appliance itself takes (measured in the simulator) and what the console adds to it.
    vmaAnswerMs: {
      note: 'measured in the simulator process: from the request\'s arrival to the answer ready (produce) and to its last byte handed to the socket (answer; for 10 MB that includes waiting for the console to drain the socket)',
      produce: round(median(product.map((r) => r.vma.produceMs)), 1),
      answer: round(median(product.map((r) => r.vma.answerMs)), 1),
      stepByStepRunsAnswer: round(median(stepVma.map((a) => a.answerMs)), 1),
    },
    consolePartMs: round(consolePartMs, 1),
    consolePartNote:
      'VmaClient.discover end to end minus the simulator\'s answer time, per run (median): what the console adds after the appliance handed over its last byte. ' +
      'The console parses while the body arrives, and the appliance\'s send waits while it does, so part of the console\'s work hides in the answer time: ' +
      'consoleAfterAnswerReadyMs (end to end minus the time to produce the answer) is the bound from the other side, transfer included',
    consoleAfterAnswerReadyMs: round(median(product.map((r) => r.ms - r.vma.produceMs)), 1),
    consolePartWithinTarget: consolePartMs < FETCH_NORMALISE_TARGET_MS,
    allRunsTotalMs: runs.map((r) => round(r.totalMs, 1)),
    allRunsVmaClientDiscoverMs: clientMs.map((ms) => round(ms, 1)),
    consoleCpuMsPerFetch: round(cpu.totalMs / p.repetitions, 1),
    consoleCpuMsPerVmaClientDiscover: round(product.reduce((sum, r) => sum + r.cpuMs, 0) / p.repetitions, 1),
    // The same client with discoverInSlices false (the whole body parsed once complete), run
    // alternately with the sliced one so that both see the same machine: the A/B of the slicing.
    wholeBodyClient: {
      medianMs: round(median(both.whole.map((r) => r.ms)), 1),
      consolePartMs: round(median(both.whole.map((r) => r.ms - r.vma.answerMs)), 1),
      consoleAfterAnswerReadyMs: round(median(both.whole.map((r) => r.ms - r.vma.produceMs)), 1),
      consoleCpuMsPerDiscover: round(both.whole.reduce((sum, r) => sum + r.cpuMs, 0) / p.repetitions, 1),
    },
  };
}

/** The simulator's timing of the `count` discovery answers it gave since the last question. */
async function vmaAnswers(sim: SimChild, count: number): Promise<AnsweredRequest[]> {
  let got: AnsweredRequest[] = [];
  // The answer's 'finish' in the child and this question can cross: ask again briefly.
  for (let attempt = 0; attempt < 5; attempt++) {
    got = got.concat((await sim.answered()).filter((a) => a.endpoint === 'discover'));
    if (got.length >= count) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (got.length !== count || got.some((a) => a.status !== 200)) throw new Error(`the simulator timed ${got.length} discovery answers, expected ${count} with status 200`);
  return got;
}

interface ProductRun {
  ms: number;
  cpuMs: number;
  vma: AnsweredRequest;
}

/**
 * The product's VmaClient.discover (after one warm-up call each), sliced and whole-body alternately,
 * each call matched with the simulator's own timing of it.
 */
async function timeProductDiscover(sim: SimChild, login: Parameters<ReturnType<typeof createVmaClient>['discover']>[0], repetitions: number, expectedVms: number): Promise<{ sliced: ProductRun[]; whole: ProductRun[] }> {
  const sliced = createVmaClient({ baseUrl: sim.url });
  const whole = createVmaClient({ baseUrl: sim.url, discoverInSlices: false });
  for (const c of [sliced, whole]) {
    await c.discover(login, { timeoutMs: 120_000 });
    await vmaAnswers(sim, 1);
  }
  const one = async (client: typeof sliced): Promise<ProductRun> => {
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    const d = await client.discover(login, { timeoutMs: 120_000 });
    const ms = performance.now() - t;
    const cpuMs = cpuMsSince(cpu0).totalMs;
    if (d.vms.length !== expectedVms) throw new Error(`VmaClient.discover returned ${d.vms.length} of ${expectedVms} VMs`);
    return { ms, cpuMs, vma: (await vmaAnswers(sim, 1))[0]! };
  };
  const out = { sliced: [] as ProductRun[], whole: [] as ProductRun[] };
  // ABBA order: what one run leaves to the garbage collector falls on either kind equally.
  for (let i = 0; i < repetitions; i++) {
    if (i % 2 === 0) {
      out.sliced.push(await one(sliced));
      out.whole.push(await one(whole));
    } else {
      out.whole.push(await one(whole));
      out.sliced.push(await one(sliced));
    }
  }
  return out;
}

export interface FetchRun {
  bytes: number;
  httpMs: number;
  parseMs: number;
  normaliseMs: number;
  totalMs: number;
  vms: DiscoveredVm[];
}

/** One discovery answer fetched from the VMA at `url`, parsed and normalised, each part timed. */
export async function timeDiscoverFetch(url: string, body: string, expectedVms: number): Promise<FetchRun> {
  const t0 = performance.now();
  const res = await request(`${url}/api/v1/discover`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  const t1 = performance.now();
  const raw: unknown = JSON.parse(text);
  const t2 = performance.now();
  const normalised = normaliseDiscovery(raw);
  const t3 = performance.now();
  if (res.statusCode !== 200 || normalised.vms.length !== expectedVms) throw new Error(`discovery answered ${res.statusCode} with ${normalised.vms.length} of ${expectedVms} VMs`);
  return { bytes: Buffer.byteLength(text), httpMs: t1 - t0, parseMs: t2 - t1, normaliseMs: t3 - t2, totalMs: t3 - t0, vms: normalised.vms };
}

/** The product's VmaClient.discover end to end, `repetitions` times: wall ms of each. */
export async function timeClientDiscover(url: string, login: Parameters<ReturnType<typeof createVmaClient>['discover']>[0], repetitions: number, expectedVms: number): Promise<number[]> {
  const client = createVmaClient({ baseUrl: url });
  const out: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const t = performance.now();
    const d = await client.discover(login, { timeoutMs: 120_000 });
    out.push(performance.now() - t);
    if (d.vms.length !== expectedVms) throw new Error(`VmaClient.discover returned ${d.vms.length} of ${expectedVms} VMs`);
  }
  return out;
}

/** Medians of the timed parts, as both inventory sections report them. */
export function fetchMedians(runs: FetchRun[], clientMs: number[]) {
  return {
    httpRequestAndBody: round(median(runs.map((r) => r.httpMs)), 1),
    jsonParse: round(median(runs.map((r) => r.parseMs)), 1),
    normaliseDiscovery: round(median(runs.map((r) => r.normaliseMs)), 1),
    total: round(median(runs.map((r) => r.totalMs)), 1),
    vmaClientDiscoverEndToEnd: round(median(clientMs), 1),
  };
}

