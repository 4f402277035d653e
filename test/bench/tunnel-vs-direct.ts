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

  const clients: Record<'direct' | 'tunnel', VmaClient> = {
    direct: createVmaClient({ baseUrl: vma.url }),
    tunnel: createVmaClient({ baseUrl: `http://127.0.0.1:${vma.port}`, dispatcher }),
  };
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
    for (const route of ['direct', 'tunnel'] as const) await drive(p.warmupRequests, p.concurrency, make(clients[route]));
  }
  const results: Record<string, Record<string, RunResult>> = {};
  for (const [callName, make] of Object.entries(calls)) {
    results[callName] = {};
    for (const route of ['direct', 'tunnel'] as const) results[callName][route] = await drive(p.requests, p.concurrency, make(clients[route]));
  }
  const ratios = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        requestsPerSecondTunnelOverDirect: round(r.tunnel!.requestsPerSecond / r.direct!.requestsPerSecond),
        p50LatencyTunnelOverDirect: round(r.tunnel!.latencyMs.p50 / r.direct!.latencyMs.p50),
        p99LatencyTunnelOverDirect: round(r.tunnel!.latencyMs.p99 / r.direct!.latencyMs.p99),
      },
    ]),
  );
  return {
    parameters: {
      ...p,
      calls: { health: 'GET /api/v1/health', discoverOneVm: `POST /api/v1/discover with filter "${filterName}" (1 of ${p.inventoryVms} VMs; answer normalised by the client)` },
      tunnel: 'real OpenSSH sshd on 127.0.0.1 → ssh2 SshTunnelManager → forwardOut channels via createTunnelDispatcher (product defaults: 4 pooled channels, keep-alive 10 s)',
      direct: 'undici default dispatcher on loopback to the simulator',
    },
    units: { requestsPerSecond: 'requests/s', latencyMs: 'ms', wallMs: 'ms', ratios: 'tunnel ÷ direct (dimensionless)' },
    results,
    ratios,
  };
}
