// testConnection and fetchOptions against the simulator: each misconfiguration names its own cause.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudStackClient, type CloudStackClientOptions } from '../../main/cloudstack/client';
import { testConnection } from '../../main/cloudstack/connection-test';
import { fetchOptions } from '../../main/cloudstack/options';
import { startCloudStackSimulator, type CloudStackSimulator } from '../sim/cloudstack/simulator';

let sim: CloudStackSimulator;

const clientFor = (overrides: Partial<CloudStackClientOptions> = {}) =>
  createCloudStackClient({
    apiUrl: sim.url,
    credentials: () => ({ apiKey: sim.apiKey, secretKey: sim.secretKey }),
    timeoutMs: 3_000,
    readRetryDelaysMs: [],
    ...overrides,
  });

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

beforeAll(async () => {
  sim = await startCloudStackSimulator();
});
afterAll(async () => {
  await sim?.close();
});

describe('testConnection', () => {
  it('passes every check against a healthy CloudStack', async () => {
    const result = await testConnection(clientFor());
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['API endpoint', true],
      ['API key and secret', true],
      ['Zones', true],
      ['Disk offerings', true],
      ['Service offerings', true],
      ['Templates', true],
      ['Networks', true],
    ]);
    expect(result.ok).toBe(true);
  });

  it('says the URL is unreachable', async () => {
    const result = await testConnection(clientFor({ apiUrl: `http://127.0.0.1:${await freePort()}/client/api` }));
    expect(result.ok).toBe(false);
    expect(result.checks).toHaveLength(1);
    expect(result.checks[0]).toMatchObject({ name: 'API endpoint', ok: false });
    expect(result.checks[0]?.message).toMatch(/unreachable/);
  });

  it('says the URL answers but is not the API', async () => {
    const result = await testConnection(clientFor({ apiUrl: sim.url.replace('/client/api', '/') }));
    expect(result.checks).toEqual([expect.objectContaining({ name: 'API endpoint', ok: false })]);
    expect(result.checks[0]?.message).toContain('/client/api');
  });

  it('says the key or signature is wrong (401)', async () => {
    const result = await testConnection(clientFor({ credentials: () => ({ apiKey: sim.apiKey, secretKey: 'not-the-secret' }) }));
    expect(result.ok).toBe(false);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['API endpoint', true],
      ['API key and secret', false],
    ]);
    expect(result.checks[1]?.message).toContain('401');
  });

  it('names the missing inventory when a list is empty', async () => {
    const saved = new Map(sim.state.diskOfferings);
    for (const [id, o] of saved) if (o.iscustomized) sim.state.diskOfferings.delete(id);
    const savedNetworks = new Map(sim.state.networks);
    sim.state.networks.clear();
    try {
      const result = await testConnection(clientFor());
      expect(result.ok).toBe(false);
      const failed = result.checks.filter((c) => !c.ok).map((c) => c.name);
      expect(failed).toEqual(['Disk offerings', 'Networks']);
      expect(result.checks.find((c) => c.name === 'Disk offerings')?.message).toContain('custom size');
    } finally {
      for (const [id, o] of saved) sim.state.diskOfferings.set(id, o);
      for (const [id, n] of savedNetworks) sim.state.networks.set(id, n);
    }
  });
});

describe('fetchOptions', () => {
  it('lists what the settings pickers offer, from the live API', async () => {
    const options = await fetchOptions(clientFor());
    expect(options.zones.map((z) => z.id)).toEqual([...sim.state.zones.keys()]);
    expect(options.diskOfferings.find((o) => o.detail === 'custom size')?.id).toBe(
      [...sim.state.diskOfferings.values()].find((o) => o.iscustomized)?.id,
    );
    expect(options.serviceOfferings.map((o) => o.id).sort()).toEqual([...sim.state.serviceOfferings.keys()].sort());
    expect(options.templates.map((t) => t.id)).toEqual([...sim.state.templates.keys()]);
    expect(options.networks.map((n) => n.id)).toEqual([...sim.state.networks.keys()]);
    expect(options.virtualMachines).toContainEqual({ id: sim.omaVmId, name: 'oma-appliance', detail: 'Running' });
  });
});
