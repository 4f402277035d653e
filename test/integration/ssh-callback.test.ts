/**
 * The change-ID callback API through a real SSH remote forward: the test plays the VMA's copier
 * by calling 127.0.0.1:<forwarded port>, where sshd (standing in for the VMA) listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeIdStore } from '../../main/ssh/callback-api';
import { serveCallbackApi, type CallbackService } from '../../main/ssh/callback-server';
import { SshTunnelManager, type TunnelStatus } from '../../main/ssh/tunnel-manager';
import type { RemoteForwardStatus } from '../../main/ssh/tunnel-manager';
import { listeningSocketsOfThisProcess } from '../fixtures/listening-sockets';
import { freePort, startSshd, type SshdFixture } from '../fixtures/sshd';

let sshd: SshdFixture;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  sshd = await startSshd();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await sshd?.dispose();
});

const VM = '/DC1/vm/apps/db 01';
const GOOD_ID = '52 1a d2 3f 9e 8b 77 10-a1 b2 c3 d4 e5 f6 07 db/401';
const TOKEN = 'dGhlLWpvYi10b2tlbi1mb3ItdGhpcy10ZXN0';

function recordingStore() {
  const changeIds = new Map<string, string | null>([
    ['disk-2000', GOOD_ID],
    ['disk-2001', null],
  ]);
  const records: Array<[string, string, string, string | undefined]> = [];
  const store: ChangeIdStore = {
    lookup: (token, vmPath, diskKey) => (token === TOKEN && vmPath === VM && changeIds.has(diskKey) ? { changeId: changeIds.get(diskKey) ?? null } : null),
    record: (token, jobId, diskKey, changeId, previous) => {
      records.push([jobId, diskKey, changeId, previous]);
      if (token !== TOKEN || jobId !== 'job-known') return 'unknown_job';
      if (!changeIds.has(diskKey)) return 'unknown_disk';
      if (changeId === '') return 'ignored_empty';
      changeIds.set(diskKey, changeId);
      return 'recorded';
    },
  };
  return { store, records, changeIds };
}

async function connect(fixture: SshdFixture, store: ChangeIdStore, port: number) {
  const states: TunnelStatus[] = [];
  const forwardStatuses: RemoteForwardStatus[] = [];
  const manager = new SshTunnelManager({
    applianceId: 'vma-callback-test',
    host: fixture.host,
    port: fixture.port,
    username: fixture.username,
    auth: async () => ({ privateKey: fixture.clientPrivateKey }),
    pinnedFingerprint: () => fixture.hostKeyFingerprint,
    onState: (s) => states.push(s),
    keepaliveIntervalMs: 500,
    keepaliveCountMax: 2,
    readyTimeoutMs: 5_000,
    backoff: { initialMs: 100, maxMs: 400 },
    forwardRetryMs: 200,
  });
  const service: CallbackService = serveCallbackApi(manager, store, {
    port,
    onForwardStatus: (s) => forwardStatuses.push(s),
  });
  cleanups.push(async () => {
    await service.close();
    await manager.stop();
  });
  manager.start();
  await manager.waitUntilReady(10_000);
  return { manager, service, states, forwardStatuses };
}

async function waitForForward(service: CallbackService, state: RemoteForwardStatus['state'], timeoutMs = 5_000): Promise<RemoteForwardStatus> {
  const deadline = Date.now() + timeoutMs;
  while (service.forward.status().state !== state) {
    if (Date.now() > deadline) throw new Error(`forward not ${state} within ${timeoutMs} ms: ${JSON.stringify(service.forward.status())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return service.forward.status();
}

/** What the VMA's copier does: plain HTTP to its own 127.0.0.1:<port>. */
async function vmaCall(port: number, method: 'GET' | 'POST', path: string, body?: unknown) {
  const init: Parameters<typeof request>[1] = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await request(`http://127.0.0.1:${port}${path}`, init);
  return { status: response.statusCode, contentType: String(response.headers['content-type']), text: await response.body.text() };
}

describe('callback API over an SSH remote forward', () => {
  it('serves GET and POST change-id calls from the appliance side without opening a local port', async () => {
    const { store, records, changeIds } = recordingStore();
    const port = await freePort();

    // The helper must be able to see a listening socket of ours, or the comparison proves nothing.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const probePort = (probe.address() as AddressInfo).port;
    expect(listeningSocketsOfThisProcess().map((s) => s.port)).toContain(probePort);
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const before = listeningSocketsOfThisProcess().map((s) => s.inode).sort();
    const { service } = await connect(sshd, store, port);
    const active = await waitForForward(service, 'active');
    expect(active.boundPort).toBe(port);

    const lookup = await vmaCall(port, 'GET', `/${TOKEN}/api/v1/replications/changeid?vm_path=${encodeURIComponent(VM)}&disk_id=disk-2000`);
    expect(lookup.status).toBe(200);
    expect(lookup.contentType).toBe('application/json');
    expect(JSON.parse(lookup.text)).toMatchObject({ vm_path: VM, disk_id: 'disk-2000', change_id: GOOD_ID });

    const fresh = await vmaCall(port, 'GET', `/${TOKEN}/api/v1/replications/changeid?vm_path=${encodeURIComponent(VM)}&disk_id=disk-2001`);
    expect(JSON.parse(fresh.text)).toMatchObject({ disk_id: 'disk-2001', change_id: '' });

    const newId = '52 1a d2 3f 9e 8b 77 10-a1 b2 c3 d4 e5 f6 07 db/977';
    const recorded = await vmaCall(port, 'POST', `/${TOKEN}/api/v1/replications/job-known/changeid`, {
      change_id: newId,
      disk_id: 'disk-2000',
      previous_change_id: GOOD_ID,
    });
    expect(recorded.status).toBe(200);
    expect(JSON.parse(recorded.text)).toMatchObject({ job_id: 'job-known', disk_id: 'disk-2000', change_id: newId });
    expect(records).toContainEqual(['job-known', 'disk-2000', newId, GOOD_ID]);
    expect(changeIds.get('disk-2000')).toBe(newId);

    const empty = await vmaCall(port, 'POST', `/${TOKEN}/api/v1/replications/job-known/changeid`, { change_id: '', disk_id: 'disk-2000' });
    expect(empty.status).toBe(200);
    expect(records.at(-1)).toEqual(['job-known', 'disk-2000', '', undefined]);
    expect(changeIds.get('disk-2000')).toBe(newId);

    const unknownJob = await vmaCall(port, 'POST', `/${TOKEN}/api/v1/replications/job-other/changeid`, { change_id: newId, disk_id: 'disk-2000' });
    expect(unknownJob.status).toBe(404);
    expect(unknownJob.contentType).toMatch(/^text\/plain/);
    const badJson = await vmaCall(port, 'POST', `/${TOKEN}/api/v1/replications/job-known/changeid`, '{"change_id":');
    expect(badJson.status).toBe(400);
    const oversized = await vmaCall(port, 'POST', `/${TOKEN}/api/v1/replications/job-known/changeid`, {
      change_id: 'x'.repeat(70_000),
      disk_id: 'disk-2000',
    });
    expect(oversized.status).toBe(413);
    expect(changeIds.get('disk-2000')).toBe(newId);

    const after = listeningSocketsOfThisProcess().map((s) => s.inode).sort();
    expect(after).toEqual(before);
  });

  it('re-requests the forward after a reconnect', async () => {
    const { store, records } = recordingStore();
    const port = await freePort();
    const { service, states } = await connect(sshd, store, port);
    await waitForForward(service, 'active');

    await sshd.stop();
    await sshd.start();
    const deadline = Date.now() + 10_000;
    while (!(states.at(-1)?.state === 'ready' && service.forward.status().state === 'active')) {
      if (Date.now() > deadline) throw new Error(`not back: ${states.map((s) => s.state).join(' → ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(states.some((s) => s.state === 'backoff')).toBe(true);

    const response = await vmaCall(port, 'POST', `/${TOKEN}/api/v1/replications/job-known/changeid`, { change_id: '52 aa/1', disk_id: 'disk-2001' });
    expect(response.status).toBe(200);
    expect(records).toContainEqual(['job-known', 'disk-2001', '52 aa/1', undefined]);
  });

  it('reports a refused forward while the tunnel itself stays usable', async () => {
    const noForwarding = await startSshd({ allowTcpForwarding: false });
    cleanups.push(() => noForwarding.dispose());
    const { store } = recordingStore();
    const { manager, service } = await connect(noForwarding, store, await freePort());
    const failed = await waitForForward(service, 'failed');
    expect(failed.error).toMatch(/refused to forward/);
    expect(manager.state.state).toBe('ready');
    expect((await manager.exec('echo still-here')).stdout).toBe('still-here\n');
  });
});
