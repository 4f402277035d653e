// Benchmark 1 (issue "Appliance connectivity", issue 13): small VMA API calls made directly on
// loopback to the VMA simulator, through the product's SSH tunnel (OpenSSH sshd → SshTunnelManager
// → createTunnelDispatcher → createVmaClient, as ApplianceService builds it), and through OpenSSH's
// own `ssh -L` to the same sshd (the anchor: what a standard tool gets over the same hop), all in
// one run with the same request count and concurrency. The simulator runs in a child process, as
// the VMA is another machine in the product: this process's CPU is the client side alone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTunnelDispatcher } from '../../main/ssh/tunnel-dispatcher';
import { SshTunnelManager } from '../../main/ssh/tunnel-manager';
import { createVmaClient, type VmaClient } from '../../main/vma/vma-client';
import { freePort, startSshd } from '../fixtures/sshd';
import type { Cleanup } from './cleanup';
import { startSimChild } from './sim-child';
import { distribution, median, processCpuMs, round, sleep } from './stats';

export interface TunnelBenchParams {
  requests: number;
  concurrency: number;
  warmupRequests: number;
  inventoryVms: number;
  /**
   * Each (call, route) pair is measured this many times, routes interleaved; the median run is
   * reported, and each ratio is the median of the per-round ratios (both routes of one round share
   * the machine's load of that moment).
   */
  rounds: number;
}

const DEFAULTS: TunnelBenchParams = { requests: 1500, concurrency: 8, warmupRequests: 300, inventoryVms: 200, rounds: 5 };

type Route = 'direct' | 'tunnel' | 'opensshL';

interface RunResult {
  requests: number;
  errors: number;
  wallMs: number;
  requestsPerSecond: number;
  latencyMs: ReturnType<typeof distribution>;
  /** CPU (user+system) of this process per request, plus the `ssh -L` client's for that route. */
  clientCpuUsPerRequest: number;
  /** CPU of every sshd process (listener and sessions) per request: 0 on the direct route. */
  sshdCpuUsPerRequest: number;
  /** CPU of the simulator child per request (the appliance side's own work). */
  simulatorCpuUsPerRequest: number;
  /** client + sshd + simulator: what one request costs the machine on this route. */
  totalCpuUsPerRequest: number;
  /**
   * read-like and write-like system calls of all sshd processes per request (/proc/<pid>/io syscr,
   * syscw), and how often sshd went to sleep waiting for work (voluntary context switches): what
   * the tunnel costs the appliance's sshd, counted rather than timed, so a loaded machine does not
   * move it. 0 on the direct route.
   */
  sshdReadCallsPerRequest: number;
  sshdWriteCallsPerRequest: number;
  sshdWakeupsPerRequest: number;
  /** CPU of client + sshd + simulator ÷ wall time: how many of the machine's cores the route kept busy. */
  busyCores: number;
}

/** Pids of `rootPid` and all its live descendants, from /proc (sshd forks a process tree per session). */
function processTree(rootPid: number | null): number[] {
  if (rootPid === null) return [];
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited while scanning
    }
  }
  const out = [rootPid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

/**
 * CPU time of a process in ms at nanosecond resolution (the sum of its threads' schedstat run
 * times), falling back to the clock-tick counters of /proc/<pid>/stat; 0 once it is gone.
 */
function preciseCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // no schedstat (or the process exited): the coarser counters below
  }
  return processCpuMs(pid);
}

interface IoCounts {
  readCalls: number;
  writeCalls: number;
  wakeups: number;
}

/** System-call and sleep counters of one process from /proc; zeros once it is gone. */
function ioCounts(pid: number): IoCounts {
  try {
    const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { readCalls: field(io, 'syscr'), writeCalls: field(io, 'syscw'), wakeups: field(status, 'voluntary_ctxt_switches') };
  } catch {
    return { readCalls: 0, writeCalls: 0, wakeups: 0 };
  }
}

/** CPU counters read around each run: the appliance side's processes, read from /proc. */
interface SideCpu {
  sshdMs(): number;
  sshdIo(): IoCounts;
  simulatorMs(): number;
}

async function drive(n: number, concurrency: number, call: () => Promise<unknown>, extraCpuMs: () => number, side: SideCpu): Promise<RunResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const extra0 = extraCpuMs();
  const sshd0 = side.sshdMs();
  const sim0 = side.simulatorMs();
  const io0 = side.sshdIo();
  const start = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      const t = performance.now();
      try {
        await call();
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 + (extraCpuMs() - extra0);
  const sshdMs = side.sshdMs() - sshd0;
  const simMs = side.simulatorMs() - sim0;
  const io1 = side.sshdIo();
  return {
    requests: n,
    errors,
    wallMs: round(wallMs, 1),
    requestsPerSecond: round((n / wallMs) * 1000, 1),
    latencyMs: distribution(latencies),
    clientCpuUsPerRequest: round((cpuMs * 1000) / n, 0),
    sshdCpuUsPerRequest: round((sshdMs * 1000) / n, 0),
    simulatorCpuUsPerRequest: round((simMs * 1000) / n, 0),
    totalCpuUsPerRequest: round(((cpuMs + sshdMs + simMs) * 1000) / n, 0),
    sshdReadCallsPerRequest: round((io1.readCalls - io0.readCalls) / n, 2),
    sshdWriteCallsPerRequest: round((io1.writeCalls - io0.writeCalls) / n, 2),
    sshdWakeupsPerRequest: round((io1.wakeups - io0.wakeups) / n, 2),
    busyCores: round((cpuMs + sshdMs + simMs) / wallMs, 2),
  };
}

async function waitForPort(port: number, timeoutMs: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`ssh -L exited (${proc.exitCode}) before its forward listened`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`ssh -L forward on 127.0.0.1:${port} not listening within ${timeoutMs} ms`);
}

export async function benchTunnelVsDirect(cleanup: Cleanup, override: Partial<TunnelBenchParams> = {}): Promise<Record<string, unknown>> {
  const p = { ...DEFAULTS, ...override };
  const vcenter = 'vcenter.bench.invalid';
  const datacenter = 'BenchDC';
  const login = { username: 'svc-bench@bench.invalid', password: `bench-${Math.random().toString(36).slice(2)}` };
  const sim = await startSimChild(
    { vcenterHost: vcenter, datacenter, vms: p.inventoryVms, diskCapacityBytes: 1024 * 1024, blockSize: 64 * 1024, initialDataBlocks: 1, bytesPerSecond: 0, seed: 7 },
    cleanup,
  );
  const sshd = await startSshd();
  cleanup.add('sshd (bench 1)', () => sshd.dispose());
  const manager = new SshTunnelManager({
    applianceId: 'bench-vma',
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    auth: async () => ({ privateKey: sshd.clientPrivateKey }),
    pinnedFingerprint: () => sshd.hostKeyFingerprint,
  });
  cleanup.add('SSH tunnel (bench 1)', () => manager.stop());
  manager.start();
  await manager.waitUntilReady(15_000);
  // The same dispatcher settings ApplianceService uses in the product (its defaults).
  const dispatcher = createTunnelDispatcher(manager, '127.0.0.1', sim.port);
  cleanup.add('tunnel dispatcher (bench 1)', () => dispatcher.close());

  // The anchor: OpenSSH's client forwarding a local port to the simulator over the same sshd, host
  // key pinned from the fixture, default ciphers. Requests to it use undici's default dispatcher,
  // exactly like the direct route.
  const keyDir = fs.mkdtempSync(path.join(sshd.dir, 'client-'));
  const keyPath = path.join(keyDir, 'id_ed25519');
  fs.writeFileSync(keyPath, sshd.clientPrivateKey, { mode: 0o600 });
  const knownHosts = path.join(keyDir, 'known_hosts');
  const hostPub = fs.readFileSync(path.join(sshd.dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${hostPub}\n`);
  const localPort = await freePort();
  const ssh = spawn(
    'ssh',
    [
      '-N',
      '-L',
      `127.0.0.1:${localPort}:127.0.0.1:${sim.port}`,
      '-i',
      keyPath,
      '-p',
      String(sshd.port),
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'ExitOnForwardFailure=yes',
      '-F',
      '/dev/null',
      `${sshd.username}@127.0.0.1`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let sshStderr = '';
  ssh.stderr?.setEncoding('utf8').on('data', (d: string) => (sshStderr += d));
  cleanup.add('ssh -L (bench 1)', async () => {
    if (ssh.exitCode !== null || ssh.signalCode !== null) return;
    const exited = new Promise<void>((r) => ssh.once('exit', () => r()));
    ssh.kill('SIGTERM');
    await exited;
  });
  try {
    await waitForPort(localPort, 15_000, ssh);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}: ${sshStderr.trim()}`);
  }
  const sshVersion = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim();

  const clients: Record<Route, VmaClient> = {
    direct: createVmaClient({ baseUrl: sim.url }),
    tunnel: createVmaClient({ baseUrl: `http://127.0.0.1:${sim.port}`, dispatcher }),
    opensshL: createVmaClient({ baseUrl: `http://127.0.0.1:${localPort}` }),
  };
  const extraCpu: Record<Route, () => number> = { direct: () => 0, tunnel: () => 0, opensshL: () => preciseCpuMs(ssh.pid) };
  const routes = Object.keys(clients) as Route[];
  const all = await clients.direct.discover({ vcenter, datacenter, ...login }, { timeoutMs: 60_000 });
  const filterName = all.vms[Math.floor(all.vms.length / 2)]!.name;
  const calls = {
    health: (c: VmaClient) => () => c.health(),
    discoverOneVm: (c: VmaClient) => async () => {
      const d = await c.discover({ vcenter, datacenter, ...login, filter: filterName });
      if (d.vms.length !== 1) throw new Error(`filter ${filterName} matched ${d.vms.length} VMs`);
    },
  };

  // sshd's whole tree (listener, per-connection monitor and session processes), read around each run;
  // only the route being measured sends traffic through it meanwhile.
  const side: SideCpu = {
    sshdMs: () => processTree(sshd.pid).reduce((sum, pid) => sum + preciseCpuMs(pid), 0),
    sshdIo: () =>
      processTree(sshd.pid)
        .map(ioCounts)
        .reduce((a, b) => ({ readCalls: a.readCalls + b.readCalls, writeCalls: a.writeCalls + b.writeCalls, wakeups: a.wakeups + b.wakeups }), {
          readCalls: 0,
          writeCalls: 0,
          wakeups: 0,
        }),
    simulatorMs: () => preciseCpuMs(sim.proc.pid),
  };

  // Warm every (call, route) pair first, so the first measured run does not pay for JIT and
  // connection set-up the later ones get for free.
  for (const make of Object.values(calls)) {
    for (const route of routes) await drive(p.warmupRequests, p.concurrency, make(clients[route]), extraCpu[route], side);
  }
  // Routes interleaved round by round, so drifting load on the shared machine hits all of them alike.
  const runs: Record<string, Record<Route, RunResult[]>> = {};
  for (let round_ = 0; round_ < p.rounds; round_++) {
    for (const [callName, make] of Object.entries(calls)) {
      runs[callName] ??= { direct: [], tunnel: [], opensshL: [] };
      for (const route of routes) runs[callName][route].push(await drive(p.requests, p.concurrency, make(clients[route]), extraCpu[route], side));
    }
  }
  const medianRun = (rs: RunResult[]): RunResult => {
    const m = median(rs.map((r) => r.requestsPerSecond));
    return rs.find((r) => r.requestsPerSecond === m)!;
  };
  const results: Record<string, Record<Route, RunResult & { allRoundsRequestsPerSecond: number[] }>> = {};
  for (const [name, r] of Object.entries(runs)) {
    const at = (route: Route) => ({ ...medianRun(r[route]), allRoundsRequestsPerSecond: r[route].map((x) => x.requestsPerSecond) });
    results[name] = { direct: at('direct'), tunnel: at('tunnel'), opensshL: at('opensshL') };
  }
  // Ratios within each round (the two routes ran back to back under the same load), then their median.
  const perRound = (r: Record<Route, RunResult[]>, over: (i: number) => number): number[] => r.direct.map((_, i) => round(over(i)));
  const ratios = Object.fromEntries(
    Object.entries(runs).map(([name, r]) => {
      const tunnelOverDirect = perRound(r, (i) => r.tunnel[i]!.requestsPerSecond / r.direct[i]!.requestsPerSecond);
      const opensshLOverDirect = perRound(r, (i) => r.opensshL[i]!.requestsPerSecond / r.direct[i]!.requestsPerSecond);
      const tunnelOverOpensshL = perRound(r, (i) => r.tunnel[i]!.requestsPerSecond / r.opensshL[i]!.requestsPerSecond);
      return [
        name,
        {
          requestsPerSecondTunnelOverDirect: median(tunnelOverDirect),
          requestsPerSecondOpensshLOverDirect: median(opensshLOverDirect),
          requestsPerSecondTunnelOverOpensshL: median(tunnelOverOpensshL),
          allRoundsTunnelOverDirect: tunnelOverDirect,
          allRoundsOpensshLOverDirect: opensshLOverDirect,
          // What the ratio would be if the machine's CPU alone bounded both routes (it does not on a
          // loaded machine: the tunnel's extra process hops then wait for a core, see notes).
          cpuBoundEstimateTunnelOverDirect: median(perRound(r, (i) => r.direct[i]!.totalCpuUsPerRequest / r.tunnel[i]!.totalCpuUsPerRequest)),
          // sshd's CPU per request with our client beside OpenSSH's own client on the same sshd: the
          // appliance-side cost the product's tunnel adds, against what a standard tool makes sshd do.
          sshdCpuTunnelOverOpensshL: median(perRound(r, (i) => r.tunnel[i]!.sshdCpuUsPerRequest / r.opensshL[i]!.sshdCpuUsPerRequest)),
          p50LatencyTunnelOverDirect: median(perRound(r, (i) => r.tunnel[i]!.latencyMs.p50 / r.direct[i]!.latencyMs.p50)),
          p99LatencyTunnelOverDirect: median(perRound(r, (i) => r.tunnel[i]!.latencyMs.p99 / r.direct[i]!.latencyMs.p99)),
        },
      ];
    }),
  );
  return {
    parameters: {
      ...p,
      calls: { health: 'GET /api/v1/health', discoverOneVm: `POST /api/v1/discover with filter "${filterName}" (1 of ${p.inventoryVms} VMs; answer normalised by the client)` },
      simulator: 'test/sim/vma in a child process (test/bench/vma-sim-child.ts), so that this process does only the client side',
      tunnel: 'real OpenSSH sshd on 127.0.0.1 → ssh2 SshTunnelManager → forwardOut channels via createTunnelDispatcher with the product defaults (as ApplianceService)',
      direct: 'undici default dispatcher on loopback to the simulator',
      opensshL: `${sshVersion} \`ssh -N -L\` to the same sshd (host key pinned, default ciphers), undici default dispatcher to its local port; its CPU is added to the client CPU`,
    },
    units: {
      requestsPerSecond: 'requests/s',
      latencyMs: 'ms',
      wallMs: 'ms',
      clientCpuUsPerRequest: 'µs of CPU (user+system) per request on the client side',
      sshdCpuUsPerRequest: 'µs of CPU (user+system) per request in all sshd processes (from /proc/<pid>/task/*/schedstat, ns resolution)',
      simulatorCpuUsPerRequest: 'µs of CPU (user+system) per request in the simulator child (from /proc/<pid>/task/*/schedstat, ns resolution)',
      sshdReadCallsPerRequest: 'read-like system calls per request in all sshd processes (/proc/<pid>/io syscr)',
      sshdWriteCallsPerRequest: 'write-like system calls per request in all sshd processes (/proc/<pid>/io syscw)',
      sshdWakeupsPerRequest: 'voluntary context switches per request in all sshd processes (/proc/<pid>/status)',
      busyCores: 'CPU time of client + sshd + simulator ÷ wall time (cores)',
      ratios: 'dimensionless',
    },
    target: 'tunnel ≥ 0.8 × direct requests/s (issue 13), anchor: OpenSSH ssh -L ÷ direct in the same run',
    results,
    ratios,
    notes: [
      'Each figure is the median of `rounds` runs; routes alternate within each round. allRoundsRequestsPerSecond shows the spread.',
      'Each ratio is the median of the per-round ratios (allRoundsTunnelOverDirect), not a ratio of medians: both routes of one round ran back to back under the same load.',
      'On 2 cores the tunnel adds sshd to the client and the simulator on the same cores, so sshdCpuUsPerRequest bounds the achievable ratio. busyCores shows how much of the machine a route used: with 8 requests in flight the processes mostly take turns (a batch of requests, then a batch of answers), so a route rarely keeps both cores busy and its rate follows the sum of its per-request CPU.',
      'sshdCpuTunnelOverOpensshL compares the sshd CPU per request caused by the product\'s ssh2 client with that caused by OpenSSH\'s own client on the same sshd, round by round: near 1 means the tunnel asks no more of the appliance than the standard tool does. sshdRead/WriteCallsPerRequest and sshdWakeupsPerRequest are counts, not times, and do not drift with the machine\'s load.',
      'cpuBoundEstimateTunnelOverDirect = direct ÷ tunnel totalCpuUsPerRequest: the ratio if CPU alone decided. A request through the tunnel also crosses two more processes (sshd, both ways); when other work keeps the cores busy each of those wake-ups waits for a core, so the measured ratio falls below the estimate as the load average rises.',
      'sshd, the simulator child and (for opensshL) the ssh client are separate processes sharing the machine; on 2 cores the absolute numbers vary with load (see machine.loadAverage1m and loadAverage1mAtEnd).',
    ],
  };
}
