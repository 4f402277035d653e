// The VMA client against the VMA simulator over real HTTP: discovery semantics, plain-text errors,
// 404 handling, timeouts, power/CBT/cleanup endpoints, and that credentials never leak.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAppError } from '../../shared/errors';
import { normaliseDiscovery } from '../../main/vma/normalise';
import { createVmaClient, type VmaRequestLogEntry } from '../../main/vma/vma-client';
import { VmaHttpError } from '../../main/vma/vma-http-error';
import { generateInventory, startVmaSimulator, type AnsweredRequest, type SimVmSpec, type VmaSimulator } from '../sim/vma';

const vcenter = `vc-${randomUUID().slice(0, 8)}.test`;
const datacenter = `DC-${randomUUID().slice(0, 6)}`;
const username = `user-${randomUUID().slice(0, 6)}`;
const password = `pw-${randomUUID()}`;
const creds = { vcenter, username, password };

const vm = (name: string, extra: Partial<SimVmSpec> = {}): SimVmSpec => ({
  id: randomUUID(),
  name,
  datacenter,
  disks: [{ key: 2000, capacityBytes: 1024 * 1024 }],
  networks: [{ networkName: 'VLAN_10' }],
  ...extra,
});

const inventory: SimVmSpec[] = [
  vm('web1', { numCpu: 4, memoryMb: 8192, guestOs: 'windows', powerState: 'poweredOn' }),
  vm('web10'),
  vm('WEB-proxy'),
  vm('db1', {
    disks: [
      { key: 2001, capacityBytes: 3 * 1024 ** 3, datastore: 'ds-b' },
      { key: 2000, capacityBytes: 1024 ** 3 + 1 },
    ],
    networks: [{ networkName: 'DVS-PG-dvportgroup-77', adapterType: 'e1000e' }, { networkName: '' }],
  }),
  vm('other-dc', { datacenter: 'ElsewhereDC' }),
];

async function expectRejects(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('VMA client against the simulator', () => {
  let sim: VmaSimulator;
  const logLines: VmaRequestLogEntry[] = [];
  let client: ReturnType<typeof createVmaClient>;

  beforeAll(async () => {
    sim = await startVmaSimulator({ vcenterHost: vcenter, credentials: { username, password }, inventory, healthExtra: { version: 'sim-1.2.3' } });
    client = createVmaClient({ baseUrl: sim.url, onRequest: (e) => logLines.push(e) });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('health returns the fields and keeps the raw body for identity', async () => {
    const h = await client.health();
    expect(h.status).toBe('healthy');
    expect(Date.parse(h.timestamp)).not.toBeNaN();
    expect(h.raw['version']).toBe('sim-1.2.3');
  });

  it('discovery filter is a case-insensitive substring list: web1 also returns web10', async () => {
    const r = await client.discover({ ...creds, datacenter, filter: 'web1' });
    expect(r.vms.map((v) => v.name).sort()).toEqual(['web1', 'web10']);
    const r2 = await client.discover({ ...creds, datacenter, filter: 'web, DB' });
    expect(r2.vms.map((v) => v.name).sort()).toEqual(['WEB-proxy', 'db1', 'web1', 'web10']);
    const all = await client.discover({ ...creds, datacenter });
    expect(all.vms).toHaveLength(4); // other-dc lives in another datacenter
    expect(all.vcenterHost).toBe(vcenter);
    expect(all.datacenter).toBe(datacenter);
    const none = await client.discover({ ...creds, datacenter, filter: 'nothing-matches' });
    expect(none.vms).toEqual([]);
  });

  it('the raw discovery carries the empty aliases and the normaliser resolves them', async () => {
    const req = { ...creds, datacenter, filter: 'web1' };
    await client.discover(req);
    const raw = sim.requests.at(-1)!;
    expect(raw.body).toEqual(req); // credentials travel in the body, nowhere else
    expect(raw.query).toEqual({});

    const web1 = (await client.discover(req)).vms.find((v) => v.name === 'web1')!;
    expect(web1).toMatchObject({ cpus: 4, memoryMb: 8192, osType: 'windows', powerState: 'poweredOn', path: `/${datacenter}/vm/web1`, datacenter });
    const db1 = (await client.discover({ ...creds, datacenter, filter: 'db1' })).vms[0]!;
    expect(db1.disks.map((d) => [d.diskKey, d.capacityBytes, d.datastore])).toEqual([
      ['disk-2001', 3 * 1024 ** 3, 'ds-b'],
      ['disk-2000', 1024 ** 3 + 1, 'datastore1'],
    ]);
    expect(db1.networks.map((n) => n.networkName)).toEqual(['DVS-PG-dvportgroup-77', '']);
  });

  it('wrong credentials give a plain-text 500 "Discovery failed" as VmaHttpError without the password', async () => {
    const e = await expectRejects(client.discover({ ...creds, password: `${password}-wrong`, datacenter }));
    expect(e).toBeInstanceOf(VmaHttpError);
    const h = e as VmaHttpError;
    expect(h.status).toBe(500);
    expect(h.code).toBe('remote_error');
    expect(h.text).toMatch(/^Discovery failed: .*incorrect user name or password/);
    expect(h.message).not.toContain(password);
  });

  it('unknown datacenter and unreachable vCenter are 500 Discovery failed', async () => {
    const e = (await expectRejects(client.discover({ ...creds, datacenter: 'NoSuchDC' }))) as VmaHttpError;
    expect(e.text).toMatch(/^Discovery failed: .*NoSuchDC/);
    sim.faults.setVcenterReachable(false);
    try {
      const e2 = (await expectRejects(client.discover({ ...creds, datacenter }))) as VmaHttpError;
      expect(e2.status).toBe(500);
      expect(e2.text).toMatch(/^Discovery failed: failed to connect to vCenter/);
    } finally {
      sim.faults.setVcenterReachable(true);
    }
  });

  it('maps 400 to validation and 404 to not_found, keeping status and text', async () => {
    sim.faults.injectError('discover', { status: 400, text: 'Invalid request body' });
    const e400 = (await expectRejects(client.discover({ ...creds, datacenter }))) as VmaHttpError;
    expect([e400.status, e400.code, e400.text]).toEqual([400, 'validation', 'Invalid request body']);
    sim.faults.injectError('health', { status: 404, text: 'nope' });
    const e404 = (await expectRejects(client.health())) as VmaHttpError;
    expect([e404.status, e404.code]).toEqual([404, 'not_found']);
    sim.faults.injectError('health', { status: 503, text: 'busy' });
    const e503 = (await expectRejects(client.health())) as VmaHttpError;
    expect([e503.status, e503.code, e503.text]).toEqual([503, 'remote_error', 'busy']);
    expect(e503.message).toBe('VMA GET /api/v1/health answered 503: busy');
  });

  it('the simulator really answers bad JSON with plain-text 400', async () => {
    const res = await fetch(`${sim.url}/api/v1/discover`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('Invalid request body\n');
  });

  it('progress and status of an unknown job are {found:false}', async () => {
    expect(await client.progress('job-unknown')).toEqual({ found: false });
    expect(await client.status('job-unknown')).toEqual({ found: false });
  });

  it('a slow VMA gives a timeout error naming the endpoint and the limit', async () => {
    sim.faults.setLatency(400, 'health');
    try {
      const e = await expectRejects(client.health({ timeoutMs: 100 }));
      expect(isAppError(e) && e.code).toBe('timeout');
      expect((e as Error).message).toBe('VMA GET /api/v1/health did not answer within 100 ms');
      // With a generous limit the same request succeeds.
      expect((await client.health({ timeoutMs: 5_000 })).status).toBe('healthy');
    } finally {
      sim.faults.setLatency(0, 'health');
    }
  });

  it('a closed port is unreachable', async () => {
    const dead = createVmaClient({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const e = await expectRejects(dead.health());
    expect(isAppError(e) && e.code).toBe('unreachable');
  });

  it('power-off (graceful still reporting poweredOn), power-state, force and power-on', async () => {
    const target = sim.inventory.get('web10')!;
    sim.faults.setGracefulPowerOff({ returnMs: 20, offLagMs: 300 });
    const off = await client.powerOff(target.id, { ...creds, timeout: 5 });
    expect(off).toMatchObject({ success: true, vm_id: target.id, previous_state: 'poweredOn', new_state: 'poweredOn', shutdown_method: 'graceful' });
    const stateNow = await client.powerState(target.id, creds);
    expect(stateNow.new_state).toBe('poweredOn');
    await new Promise((r) => setTimeout(r, 400));
    expect((await client.powerState(target.id, creds)).new_state).toBe('poweredOff');
    const on = await client.powerOn(target.id, creds);
    expect(on).toMatchObject({ previous_state: 'poweredOff', new_state: 'poweredOn', operation: 'power-on' });
    const forced = await client.powerOff(target.id, { ...creds, force: true });
    expect(forced).toMatchObject({ new_state: 'poweredOff', shutdown_method: 'force' });
    const sent = sim.requests.filter((r) => r.endpoint === 'power-off').at(-1)!;
    expect(sent.body).toMatchObject({ vm_id: target.id, vcenter, username, password, force: true });
  });

  it('power endpoints: unknown VM is not_found, credentials in the query never reach errors or logs', async () => {
    const e = (await expectRejects(client.powerState('no-such-vm', creds))) as VmaHttpError;
    expect([e.status, e.code, e.text]).toEqual([404, 'not_found', 'VM not found: no-such-vm']);
    sim.faults.injectError('power-state', { status: 500, text: `vCenter said no to ${password}` });
    const e500 = (await expectRejects(client.powerState(sim.inventory.get('web1')!.id, creds))) as VmaHttpError;
    expect(e500.message).not.toContain(password);
    expect(e500.text).toBe('vCenter said no to ***');
    expect(e500.message).not.toContain('?');
    // The VMA's own design puts them in the query; it did receive them.
    expect(sim.requests.filter((r) => r.endpoint === 'power-state').at(-1)!.query).toEqual({ vcenter, username, password });
    expect(JSON.stringify(logLines)).not.toContain(password);
    expect(logLines.every((l) => !l.path.includes('?'))).toBe(true);
  });

  it('cbt-status with a url-encoded VM path', async () => {
    const db1 = sim.inventory.get('db1')!;
    sim.inventory.setCbtEnabled('db1', false);
    const s = await client.cbtStatus(db1.path, creds);
    expect(s).toEqual({ enabled: false, vm_name: 'db1', power_state: 'poweredOn', vm_path: db1.path });
    const e = (await expectRejects(client.cbtStatus(`/${datacenter}/vm/ghost`, creds))) as VmaHttpError;
    expect(e.status).toBe(404);
    expect(e.message).not.toContain(password);
  });

  it('cleanup: cleanup_all answers, delete_snapshot is always a 500', async () => {
    expect(await client.cleanup({ job_id: 'job-x', action: 'cleanup_all' })).toMatchObject({ success: true, job_id: 'job-x' });
    const e = (await expectRejects(client.cleanup({ job_id: 'job-x', action: 'delete_snapshot' }))) as VmaHttpError;
    expect(e.status).toBe(500);
  });

  it('rejects invalid input before sending anything', async () => {
    const before = sim.requests.length;
    for (const call of [
      () => client.discover({ ...creds, password: '', datacenter }),
      () => client.discover({ ...creds, datacenter: '' }),
      () => client.progress(''),
      () => client.replicate({ ...creds, job_id: 'j', vm_paths: ['/a', '/b'], oma_url: 'http://127.0.0.1:1', nbd_targets: [{ device_path: 'nbd://h:1/e', vmware_disk_key: '2000' }] }),
      () => client.replicate({ ...creds, job_id: 'j', vm_paths: ['/a'], oma_url: 'http://127.0.0.1:1', nbd_targets: [{ device_path: '/dev/nbd0', vmware_disk_key: '2000' }] }),
      () => client.replicate({ ...creds, job_id: 'j', vm_paths: ['/a'], oma_url: 'http://127.0.0.1:1', nbd_targets: [{ device_path: 'nbd://h:1/e', vmware_disk_key: 'disk-2000' }] }),
    ]) {
      const e = await expectRejects(call());
      expect(isAppError(e) && e.code).toBe('validation');
    }
    expect(sim.requests.length).toBe(before);
    expect(() => createVmaClient({ baseUrl: 'http://127.0.0.1:8081/?token=x' })).toThrow(/query/);
  });

  it('a full 10,000-VM inventory is discovered and normalised (with a longer per-call timeout)', async () => {
    const answered: AnsweredRequest[] = [];
    const big = await startVmaSimulator({
      vcenterHost: vcenter,
      inventory: generateInventory({ count: 10_000, datacenter, seed: 7 }),
      onAnswered: (a) => answered.push(a),
    });
    try {
      const c = createVmaClient({ baseUrl: big.url });
      const r = await c.discover({ ...creds, datacenter }, { timeoutMs: 60_000 });
      // The simulator timed its own answer (what the bench reports as the appliance's share).
      await vi.waitFor(() => expect(answered.length).toBeGreaterThanOrEqual(1));
      expect(answered[0]).toMatchObject({ endpoint: 'discover', status: 200 });
      expect(answered[0]!.produceMs).toBeGreaterThan(0);
      expect(answered[0]!.answerMs).toBeGreaterThanOrEqual(answered[0]!.produceMs);
      expect(r.vms).toHaveLength(10_000);
      expect(r.warnings).toEqual([]);
      // The client parses the list in slices while it arrives: the same as the whole body parsed at once.
      const raw = await request(`${big.url}/api/v1/discover`, { method: 'POST', body: JSON.stringify({ ...creds, datacenter }) });
      expect(r).toEqual(normaliseDiscovery(JSON.parse(await raw.body.text())));
      expect(await createVmaClient({ baseUrl: big.url, discoverInSlices: false }).discover({ ...creds, datacenter }, { timeoutMs: 60_000 })).toEqual(r);
      expect(new Set(r.vms.map((v) => v.vmwareVmId)).size).toBe(10_000);
      expect(r.vms.every((v) => v.disks.length >= 1 && v.disks.every((d) => /^disk-\d+$/.test(d.diskKey) && d.capacityBytes > 0))).toBe(true);
      expect(r.vms.some((v) => v.networks.some((n) => n.networkName.startsWith('DVS-PG-')))).toBe(true);
      const some = await c.discover({ ...creds, datacenter, filter: 'VM-0001' });
      expect(some.vms.map((v) => v.name).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `vm-0001${i}`));
    } finally {
      await big.close();
    }
  });
});
