// Benchmark 1 (issue "Appliance connectivity"): small VMA API calls made directly on loopback to
// the VMA simulator and through the real SSH tunnel (OpenSSH sshd → SshTunnelManager →
// createTunnelDispatcher → createVmaClient), in the same run, with the same request count and
// concurrency after a warm-up.
import { performance } from 'node:perf_hooks';
import { createTunnelDispatcher } from '../../main/ssh/tunnel-dispatcher';
import { SshTunnelManager } from '../../main/ssh/tunnel-manager';
import { createVmaClient, type VmaClient } from '../../main/vma/vma-client';
import { startSshd } from '../fixtures/sshd';
import { generateInventory, startVmaSimulator } from '../sim/vma/index';
import { distribution, round } from './stats';
import type { Cleanup } from './cleanup';

export interface TunnelBenchParams {
  requests: number;
  concurrency: number;
  warmupRequests: number;
  inventoryVms: number;
}

const DEFAULTS: TunnelBenchParams = { requests: 2000, concurrency: 8, warmupRequests: 300, inventoryVms: 200 };

type Route = 'direct' | 'tunnel' | 'tunnelWithTcpNoDelay';

interface RunResult {
  requests: number;
  errors: number;
  wallMs: number;
  requestsPerSecond: number;
  latencyMs: ReturnType<typeof distribution>;
}

async function drive(n: number, concurrency: number, call: () => Promise<unknown>): Promise<RunResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
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
  return { requests: n, errors, wallMs: round(wallMs, 1), requestsPerSecond: round((n / wallMs) * 1000, 1), latencyMs: distribution(latencies) };
}

export async function benchTunnelVsDirect(cleanup: Cleanup, override: Partial<TunnelBenchParams> = {}): Promise<Record<string, unknown>> {
  const p = { ...DEFAULTS, ...override };
  const vcenter = 'vcenter.bench.invalid';
  const datacenter = 'BenchDC';
  const login = { username: 'svc-bench@bench.invalid', password: `bench-${Math.random().toString(36).slice(2)}` };
  const inventory = generateInventory({ count: p.inventoryVms, datacenter, seed: 7 });
  const vma = await startVmaSimulator({ vcenterHost: vcenter, datacenters: [datacenter], inventory, credentials: login });
  cleanup.add('VMA simulator (bench 1)', () => vma.close());
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
  const dispatcher = createTunnelDispatcher(manager, '127.0.0.1', vma.port);
  cleanup.add('tunnel dispatcher (bench 1)', () => dispatcher.close());

  // Diagnostic route: the same product tunnel on a second SSH connection whose TCP socket has
  // TCP_NODELAY set (ssh2 leaves Nagle on unless told). If it is much faster for POSTs, the gap is
  // Nagle + delayed ACK on the split header/body writes, not SSH crypto.
  const noDelayManager = new SshTunnelManager({
    applianceId: 'bench-vma-nodelay',
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    auth: async () => ({ privateKey: sshd.clientPrivateKey }),
    pinnedFingerprint: () => sshd.hostKeyFingerprint,
  });
  cleanup.add('SSH tunnel, TCP_NODELAY (bench 1)', () => noDelayManager.stop());
  noDelayManager.start();
  await noDelayManager.waitUntilReady(15_000);
  const sshClient = (noDelayManager as unknown as { client: { setNoDelay?: (on: boolean) => void } | null }).client;
  const noDelaySet = typeof sshClient?.setNoDelay === 'function';
  sshClient?.setNoDelay?.(true);
  const noDelayDispatcher = createTunnelDispatcher(noDelayManager, '127.0.0.1', vma.port);
  cleanup.add('tunnel dispatcher, TCP_NODELAY (bench 1)', () => noDelayDispatcher.close());

  const clients: Record<Route, VmaClient> = {
    direct: createVmaClient({ baseUrl: vma.url }),
    tunnel: createVmaClient({ baseUrl: `http://127.0.0.1:${vma.port}`, dispatcher }),
    tunnelWithTcpNoDelay: createVmaClient({ baseUrl: `http://127.0.0.1:${vma.port}`, dispatcher: noDelayDispatcher }),
  };
  const routes = Object.keys(clients) as Route[];
  const filterName = inventory[Math.floor(inventory.length / 2)]!.name;
  const calls = {
    health: (c: VmaClient) => () => c.health(),
    discoverOneVm: (c: VmaClient) => async () => {
      const d = await c.discover({ vcenter, datacenter, ...login, filter: filterName });
      if (d.vms.length !== 1) throw new Error(`filter ${filterName} matched ${d.vms.length} VMs`);
    },
  };

  // Warm every (call, route) pair first, so the first measured run does not pay for JIT and
  // connection set-up the later ones get for free.
  for (const make of Object.values(calls)) {
    for (const route of routes) await drive(p.warmupRequests, p.concurrency, make(clients[route]));
  }
  const results: Record<string, Record<string, RunResult>> = {};
  for (const [callName, make] of Object.entries(calls)) {
    results[callName] = {};
    for (const route of routes) results[callName][route] = await drive(p.requests, p.concurrency, make(clients[route]));
  }
  const ratios = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        requestsPerSecondTunnelOverDirect: round(r.tunnel!.requestsPerSecond / r.direct!.requestsPerSecond),
        p50LatencyTunnelOverDirect: round(r.tunnel!.latencyMs.p50 / r.direct!.latencyMs.p50),
        p99LatencyTunnelOverDirect: round(r.tunnel!.latencyMs.p99 / r.direct!.latencyMs.p99),
        requestsPerSecondTunnelWithTcpNoDelayOverDirect: round(r.tunnelWithTcpNoDelay!.requestsPerSecond / r.direct!.requestsPerSecond),
      },
    ]),
  );
  return {
    parameters: {
      ...p,
      calls: { health: 'GET /api/v1/health', discoverOneVm: `POST /api/v1/discover with filter "${filterName}" (1 of ${p.inventoryVms} VMs; answer normalised by the client)` },
      tunnel: 'real OpenSSH sshd on 127.0.0.1 → ssh2 SshTunnelManager → forwardOut channels via createTunnelDispatcher (product defaults: 4 pooled channels, keep-alive 10 s)',
      direct: 'undici default dispatcher on loopback to the simulator',
      tunnelWithTcpNoDelay: `diagnostic only, not the product: a second SshTunnelManager whose ssh2 socket got setNoDelay(true) after connecting (${noDelaySet ? 'applied' : 'NOT applied: ssh2 client not reachable'})`,
    },
    units: { requestsPerSecond: 'requests/s', latencyMs: 'ms', wallMs: 'ms', ratios: 'tunnel ÷ direct (dimensionless)' },
    results,
    ratios,
    notes: [
      'tunnelWithTcpNoDelay is a diagnostic: it shows how much of the tunnel gap on POST /discover is Nagle + delayed ACK on the ssh2 socket (undici writes headers and body separately) rather than SSH itself. The product tunnel is the "tunnel" route.',
      'All three routes share the machine with the simulator and sshd; on 2 cores the absolute numbers vary with load (see loadAverage1mAtEnd).',
    ],
  };
}
