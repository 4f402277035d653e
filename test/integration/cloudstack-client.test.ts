// Our CloudStack client against the simulator: real HTTP, real signatures, real files for volumes.
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp, readlinkSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCloudStackClient, type CloudStackClientOptions } from '../../main/cloudstack/client';
import { CloudStackError } from '../../main/cloudstack/errors';
import type { CloudStackCredentials } from '../../main/cloudstack/types';
import { AppError } from '../../shared/errors';
import { startCloudStackSimulator, type CloudStackSimulator } from '../sim/cloudstack/simulator';

let sim: CloudStackSimulator;

const clientFor = (overrides: Partial<CloudStackClientOptions> = {}) =>
  createCloudStackClient({
    apiUrl: sim.url,
    credentials: () => ({ apiKey: sim.apiKey, secretKey: sim.secretKey }),
    asyncPollIntervalMs: 50,
    asyncTimeoutMs: 10_000,
    timeoutMs: 5_000,
    readRetryDelaysMs: [20, 40],
    ...overrides,
  });

const ids = () => ({
  zoneid: [...sim.state.zones.keys()][0] as string,
  customOffering: [...sim.state.diskOfferings.values()].find((o) => o.iscustomized)?.id as string,
  serviceOffering: [...sim.state.serviceOfferings.values()].find((o) => !o.iscustomized)?.id as string,
  customServiceOffering: [...sim.state.serviceOfferings.values()].find((o) => o.iscustomized)?.id as string,
  templateid: [...sim.state.templates.keys()][0] as string,
  networkid: [...sim.state.networks.keys()][0] as string,
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  sim = await startCloudStackSimulator({ asyncJobDelayMs: 300 });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.faults.clear();
  sim.faults.asyncJobDelayMs = 300;
  sim.faults.byIdLinkDelayMs = 0;
});

describe('list calls', () => {
  it('returns typed, unwrapped lists and [] where CloudStack omits the array', async () => {
    const cs = clientFor();
    const zones = await cs.listZones();
    expect(zones.map((z) => z.id)).toEqual([...sim.state.zones.keys()]);
    const offerings = await cs.listDiskOfferings();
    expect(offerings.some((o) => o.iscustomized === true)).toBe(true);
    expect((await cs.listServiceOfferings()).length).toBe(sim.state.serviceOfferings.size);
    expect((await cs.listTemplates()).map((t) => t.id)).toEqual([...sim.state.templates.keys()]);
    expect((await cs.listNetworks({ zoneid: zones[0]?.id })).map((n) => n.id)).toEqual([...sim.state.networks.keys()]);
    const vms = await cs.listVirtualMachines();
    expect(vms.find((vm) => vm.id === sim.omaVmId)?.state).toBe('Running');
    const omaVolumes = await cs.listVolumes({ virtualmachineid: sim.omaVmId });
    expect(omaVolumes.map((v) => [v.type, v.deviceid])).toEqual([['ROOT', 0]]);
    expect(await cs.listSnapshots()).toEqual([]);
  });

  it('reports a never-existing id as a validation error (431) like CloudStack', async () => {
    const e = await rejection(clientFor().listVolumes({ id: '00000000-0000-4000-8000-000000000000' }));
    expect(e).toBeInstanceOf(CloudStackError);
    expect((e as CloudStackError).code).toBe('validation');
    expect((e as CloudStackError).httpStatus).toBe(431);
    expect((e as CloudStackError).errortext).toContain('Invalid parameter id');
  });

  it('works with POST and with signatureVersion=3', async () => {
    expect((await clientFor({ method: 'POST' }).listZones()).length).toBe(1);
    expect(sim.requests.at(-1)).toMatchObject({ method: 'POST', status: 200 });
    expect((await clientFor({ signatureExpiresInMs: 60_000 }).listZones()).length).toBe(1);
    expect(sim.requests.at(-1)?.params.signatureVersion).toBe('3');
    const expired = await rejection(clientFor({ signatureExpiresInMs: -60_000 }).listZones());
    expect((expired as CloudStackError).code).toBe('auth');
  });
});

describe('volumes on the OMA appliance', () => {
  it('createVolume + attachVolume return only after their jobs succeeded; detach keeps data for re-attach', async () => {
    const cs = clientFor();
    const { zoneid, customOffering } = ids();
    const jobIds: string[] = [];
    const volume = await cs.createVolume(
      { name: 'disk 2000 of vm "web01"', zoneid, diskofferingid: customOffering, sizeGiB: 1 },
      { onJobSubmitted: (jobId) => jobIds.push(jobId) },
    );
    expect(volume.size).toBe(1024 ** 3);
    expect(volume.state).toBe('Allocated');
    expect(jobIds).toHaveLength(1);
    expect(sim.state.jobs.get(jobIds[0] as string)?.status).toBe(1);

    const attached = await cs.attachVolume(volume.id, sim.omaVmId);
    // The job was pending for 300 ms; the link only exists once it succeeded.
    const link = sim.byIdLink(volume.id);
    expect(link.endsWith(`virtio-${volume.id.replace(/-/g, '').slice(0, 20)}`)).toBe(true);
    expect(existsSync(link)).toBe(true);
    expect(readlinkSync(link)).toBe(sim.volumeFile(volume.id));
    expect(statSync(link).size).toBe(1024 ** 3);
    expect(attached).toMatchObject({ id: volume.id, state: 'Ready', deviceid: 1, virtualmachineid: sim.omaVmId });

    const payload = randomBytes(4096);
    const fh = await fsp.open(link, 'r+');
    await fh.write(payload, 0, payload.length, 1024 * 1024);
    await fh.close();

    const deleteAttached = await rejection(cs.deleteVolume(volume.id));
    expect(deleteAttached).toBeInstanceOf(CloudStackError);
    expect((deleteAttached as CloudStackError).code).toBe('validation');
    expect((deleteAttached as CloudStackError).errortext).toBe('Please specify a volume that is not attached to any VM.');

    const detached = await cs.detachVolume(volume.id);
    expect(detached.virtualmachineid).toBeUndefined();
    expect(existsSync(link)).toBe(false);

    await cs.attachVolume(volume.id, sim.omaVmId);
    const back = Buffer.alloc(payload.length);
    const fh2 = await fsp.open(link, 'r');
    await fh2.read(back, 0, back.length, 1024 * 1024);
    await fh2.close();
    expect(back.equals(payload)).toBe(true);

    await cs.detachVolume(volume.id);
    await cs.deleteVolume(volume.id);
    expect(existsSync(sim.volumeFile(volume.id))).toBe(false);
    // A deleted volume still resolves in CloudStack, so listing it is empty rather than an error.
    expect(await cs.listVolumes({ id: volume.id })).toEqual([]);
  });

  it('assigns the next free device id and skips 3', async () => {
    const cs = clientFor();
    sim.faults.asyncJobDelayMs = 20;
    const { zoneid, customOffering } = ids();
    const made = [];
    for (let i = 0; i < 3; i++) {
      const v = await cs.createVolume({ name: `d${i}`, zoneid, diskofferingid: customOffering, sizeGiB: 1 });
      made.push(await cs.attachVolume(v.id, sim.omaVmId));
    }
    expect(made.map((v) => v.deviceid)).toEqual([1, 2, 4]);
    for (const v of made) {
      await cs.detachVolume(v.id);
      await cs.deleteVolume(v.id);
    }
  });

  it('with a delayed by-id link, attach still succeeds first and the link follows', async () => {
    const cs = clientFor();
    sim.faults.byIdLinkDelayMs = 300;
    const { zoneid, customOffering } = ids();
    const v = await cs.createVolume({ name: 'late link', zoneid, diskofferingid: customOffering, sizeGiB: 1 });
    await cs.attachVolume(v.id, sim.omaVmId);
    expect(existsSync(sim.byIdLink(v.id))).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(sim.byIdLink(v.id))).toBe(true);
    await cs.detachVolume(v.id);
    await cs.deleteVolume(v.id);
  });
});

describe('async jobs', () => {
  it('surfaces an async failure with its errortext and job id', async () => {
    const cs = clientFor();
    const { zoneid, customOffering } = ids();
    const v = await cs.createVolume({ name: 'will fail attach', zoneid, diskofferingid: customOffering, sizeGiB: 1 });
    sim.faults.failAsync('attachVolume', 'Failed to attach volume: no free PCI slot on host', 1);
    const e = await rejection(cs.attachVolume(v.id, sim.omaVmId));
    expect(e).toBeInstanceOf(CloudStackError);
    const err = e as CloudStackError;
    expect(err.errortext).toBe('Failed to attach volume: no free PCI slot on host');
    expect(err.message).toContain('attachVolume');
    expect(err.jobId).toBeDefined();
    expect(sim.state.jobs.get(err.jobId as string)?.status).toBe(2);
    expect(existsSync(sim.byIdLink(v.id))).toBe(false);
    await cs.deleteVolume(v.id);
  });

  it('times out a job that stays pending, naming the command and job id', async () => {
    sim.faults.asyncJobDelayMs = 3_000;
    const cs = clientFor({ asyncTimeoutMs: 400 });
    const { zoneid, customOffering } = ids();
    const e = await rejection(cs.createVolume({ name: 'slow', zoneid, diskofferingid: customOffering, sizeGiB: 1 }));
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('timeout');
    const jobId = (e as AppError).details?.jobId as string;
    expect(sim.state.jobs.get(jobId)?.status).toBe(0);
    expect((e as AppError).message).toContain('createVolume');
    expect((e as AppError).message).toContain(jobId);
  });

  it('deploys a stopped VM, starts, stops and expunges it', async () => {
    sim.faults.asyncJobDelayMs = 50;
    const cs = clientFor();
    const { zoneid, customServiceOffering, templateid, networkid } = ids();
    const vm = await cs.deployVirtualMachine({
      zoneid, serviceofferingid: customServiceOffering, templateid, name: 'web01-migrated', networkids: [networkid],
      details: { cpuNumber: '2', memory: '2048', cpuSpeed: '1000' },
    });
    expect(vm).toMatchObject({ state: 'Stopped', cpunumber: 2, memory: 2048 });
    expect(sim.requests.find((r) => r.command === 'deployVirtualMachine')?.params['details[0].cpuNumber']).toBe('2');
    expect((await cs.startVirtualMachine(vm.id)).state).toBe('Running');
    expect((await cs.stopVirtualMachine(vm.id, true)).state).toBe('Stopped');
    await cs.destroyVirtualMachine(vm.id, true);
    expect(await cs.listVirtualMachines({ id: vm.id })).toEqual([]);
  });

  it('snapshots a volume and reverts its bytes', async () => {
    sim.faults.asyncJobDelayMs = 50;
    const cs = clientFor();
    const { zoneid, customOffering } = ids();
    const v = await cs.createVolume({ name: 'snap me', zoneid, diskofferingid: customOffering, sizeGiB: 1 });
    await cs.attachVolume(v.id, sim.omaVmId);
    const file = sim.volumeFile(v.id);
    await fsp.writeFile(file, 'before', { flag: 'r+' });
    const snap = await cs.createSnapshot(v.id);
    expect(snap.volumeid).toBe(v.id);
    await fsp.writeFile(file, 'AFTER!', { flag: 'r+' });
    // Like SnapshotManagerImpl: no revert while the volume is on a VM that is not stopped.
    const refused = await rejection(cs.revertSnapshot(snap.id));
    expect((refused as CloudStackError).errortext).toMatch(/not in the shape where we can revert/);
    await cs.detachVolume(v.id);
    await cs.revertSnapshot(snap.id);
    const head = Buffer.alloc(6);
    const fh = await fsp.open(file, 'r');
    await fh.read(head, 0, 6, 0);
    await fh.close();
    expect(head.toString()).toBe('before');
    await cs.deleteSnapshot(snap.id);
    expect(await cs.listSnapshots({ volumeid: v.id })).toEqual([]);
    await cs.deleteVolume(v.id);
  });

  it('swaps a stopped VM\'s root volume for a data volume at device 0, and only while it is stopped', async () => {
    sim.faults.asyncJobDelayMs = 20;
    const cs = clientFor();
    const { zoneid, customOffering, customServiceOffering, templateid, networkid } = ids();
    const vm = await cs.deployVirtualMachine({
      zoneid, serviceofferingid: customServiceOffering, templateid, name: `swap-${randomBytes(3).toString('hex')}`, networkids: [networkid],
      details: { cpuNumber: '1', memory: '1024' },
    });
    const [root] = await cs.listVolumes({ virtualmachineid: vm.id });
    expect(root).toMatchObject({ type: 'ROOT', deviceid: 0 });
    const data = await cs.createVolume({ name: 'boot', zoneid, diskofferingid: customOffering, sizeGiB: 1 });
    expect((await rejection(cs.attachVolume(data.id, vm.id, 0)) as CloudStackError).errortext).toBe('Vm already has root volume attached to it');
    await cs.detachVolume(root!.id);
    await cs.deleteVolume(root!.id);
    const attached = await cs.attachVolume(data.id, vm.id, 0);
    expect(attached).toMatchObject({ type: 'ROOT', deviceid: 0, virtualmachineid: vm.id });
    await cs.startVirtualMachine(vm.id);
    expect((await rejection(cs.detachVolume(data.id)) as CloudStackError).errortext).toMatch(/stopped state/);
    await cs.stopVirtualMachine(vm.id);
    expect(await cs.detachVolume(data.id)).toMatchObject({ type: 'DATADISK' });
    await cs.destroyVirtualMachine(vm.id, true);
    expect(await cs.listVolumes({ id: data.id })).toHaveLength(1);
    await cs.deleteVolume(data.id);
  });
});

describe('credentials and errors', () => {
  it('resolves credentials for every call, so an edit takes effect at once', async () => {
    const second: CloudStackCredentials = { apiKey: `k2-${randomBytes(6).toString('hex')}`, secretKey: randomBytes(20).toString('hex') };
    sim.addKeyPair(second.apiKey, second.secretKey);
    let current: CloudStackCredentials = { apiKey: sim.apiKey, secretKey: sim.secretKey };
    const cs = clientFor({ credentials: async () => current });
    await cs.listZones();
    expect(sim.requests.at(-1)?.apiKey).toBe(sim.apiKey);
    current = second;
    await cs.listZones();
    expect(sim.requests.at(-1)).toMatchObject({ apiKey: second.apiKey, status: 200 });
    sim.removeKeyPair(second.apiKey);
    const e = await rejection(cs.listZones());
    expect((e as CloudStackError).code).toBe('auth');
  });

  it('maps a wrong secret to auth without leaking the secret or the signature', async () => {
    const secret = `wrong-${randomBytes(8).toString('hex')}`;
    const cs = clientFor({ credentials: () => ({ apiKey: sim.apiKey, secretKey: secret }) });
    const e = await rejection(cs.listZones());
    expect(e).toBeInstanceOf(CloudStackError);
    const err = e as CloudStackError;
    expect(err).toMatchObject({ code: 'auth', httpStatus: 401, errorcode: 401, command: 'listZones' });
    const text = JSON.stringify({ m: err.message, d: err.details, s: err.stack });
    expect(text).not.toContain(secret);
    expect(text).not.toContain('signature=');
    expect(text).not.toContain(sim.url);
  });

  it('fails loudly when credentials are missing', async () => {
    const e = await rejection(clientFor({ credentials: () => ({ apiKey: '', secretKey: '' }) }).listZones());
    expect((e as AppError).code).toBe('validation');
  });

  it('maps an unknown command to auth (432) and a missing parameter to validation (431)', async () => {
    const cs = clientFor();
    const unknown = await rejection(cs.call('listUnicorns'));
    expect(unknown).toMatchObject({ code: 'auth', httpStatus: 432 });
    const missing = await rejection(cs.call('listTemplates'));
    expect(missing).toMatchObject({ code: 'validation', httpStatus: 431 });
    expect((missing as CloudStackError).errortext).toBe('Unable to execute API command listtemplates due to missing parameter templatefilter');
  });

  it('retries reads on a transient 503 and on a dropped connection', async () => {
    const cs = clientFor();
    const before = sim.requests.length;
    sim.faults.failHttp('listZones', 503, 2);
    expect((await cs.listZones()).length).toBe(1);
    expect(sim.requests.slice(before).map((r) => r.status)).toEqual([503, 503, 200]);

    sim.faults.dropConnection('listNetworks', 1);
    expect((await cs.listNetworks()).length).toBe(1);

    sim.faults.failHttp('listZones', 503, 3);
    const e = await rejection(cs.listZones());
    expect(e).toMatchObject({ code: 'remote_error', httpStatus: 503 });
  });

  it('never retries a mutation', async () => {
    const cs = clientFor();
    const { zoneid, customOffering } = ids();
    sim.faults.failHttp('createVolume', 503, 1);
    const before = sim.requests.length;
    const e = await rejection(cs.createVolume({ name: 'x', zoneid, diskofferingid: customOffering, sizeGiB: 1 }));
    expect(e).toMatchObject({ code: 'remote_error', httpStatus: 503 });
    expect(sim.requests.slice(before).filter((r) => r.command === 'createVolume')).toHaveLength(1);

    sim.faults.dropConnection('deleteVolume', 1);
    const before2 = sim.requests.length;
    const dropped = await rejection(cs.deleteVolume([...sim.state.volumes.keys()][0] as string));
    expect(dropped).toMatchObject({ code: 'unreachable' });
    expect(sim.requests.slice(before2).filter((r) => r.command === 'deleteVolume')).toHaveLength(1);
  });

  it('reports an unreachable endpoint and a URL that is not the API', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const down = await rejection(clientFor({ apiUrl: `http://127.0.0.1:${port}/client/api`, readRetryDelaysMs: [] }).listZones());
    expect(down).toMatchObject({ code: 'unreachable' });
    const wrongPath = await rejection(clientFor({ apiUrl: sim.url.replace('/client/api', '/client') }).listZones());
    expect(wrongPath).toBeInstanceOf(CloudStackError);
    expect((wrongPath as CloudStackError).message).toContain('/client/api');
    expect(() => clientFor({ apiUrl: 'ftp://x/client/api' })).toThrow(AppError);
  });
});
