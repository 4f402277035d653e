// The simulated VMA copier end to end over real HTTP and a real nbdkit: progress sequence and its
// quirks, change-id callbacks per disk, full then incremental copies compared byte for byte, and
// the faults the console must survive (frozen copier, restart, unopenable target).
import { randomUUID } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNbdkit, type NbdkitHandle } from '../fixtures/nbdkit';
import { createVmaClient, type VmaClient } from '../../main/vma/vma-client';
import { VmaHttpError } from '../../main/vma/vma-http-error';
import type { VmaProgress } from '../../main/vma/vma-types';
import { startChangeIdCallbackServer, type ChangeIdCallbackServer } from '../sim/vma/change-id-callback-server';
import { startVmaSimulator, type SimVmSpec, type VmaSimulator } from '../sim/vma';

const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;
const vcenter = `vc-${randomUUID().slice(0, 8)}.test`;
const datacenter = `DC-${randomUUID().slice(0, 6)}`;
const creds = { vcenter, username: `u-${randomUUID().slice(0, 6)}`, password: `p-${randomUUID()}` };
const CHANGE_ID = /^([0-9a-f]{2} ){7}[0-9a-f]{2}-([0-9a-f]{2} ){7}[0-9a-f]{2}\/(\d+)$/;

const vmSpec = (name: string, disks: { key: number; capacityBytes: number }[]): SimVmSpec => ({
  id: randomUUID(),
  name,
  datacenter,
  disks,
  networks: [{ networkName: 'VLAN_1' }, { networkName: 'VLAN_2' }],
});

const jobId = (): string => `job-${randomUUID().slice(0, 8)}`;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

describe('simulated VMA copier with real NBD targets', () => {
  let sim: VmaSimulator;
  let nbd: NbdkitHandle;
  let cb: ChangeIdCallbackServer;
  let client: VmaClient;
  let exportsDir: string;

  /** Creates one sparse target volume per disk and returns the replicate targets. */
  async function targetsFor(vmName: string): Promise<{ targets: { device_path: string; vmware_disk_key: string }[]; files: Map<number, string> }> {
    const vm = sim.inventory.get(vmName)!;
    const files = new Map<number, string>();
    const targets = [];
    for (const d of vm.disks) {
      const name = `migration-vol-${randomUUID()}`;
      const file = path.join(exportsDir, name);
      const fh = await open(file, 'w');
      await fh.truncate(d.capacityBytes);
      await fh.close();
      files.set(d.key, file);
      targets.push({ device_path: `nbd://127.0.0.1:${nbd.port}/${name}`, vmware_disk_key: String(d.key) });
    }
    return { targets, files };
  }

  async function replicate(vmName: string, targets: { device_path: string; vmware_disk_key: string }[], id = jobId()): Promise<string> {
    const vm = sim.inventory.get(vmName);
    const vmPath = vm?.path ?? `/${datacenter}/vm/${vmName}`;
    cb.registerJob(id, vmPath);
    const r = await client.replicate({ ...creds, job_id: id, vm_paths: [vmPath], oma_url: cb.url, nbd_targets: targets });
    expect(r).toMatchObject({ job_id: id, status: 'started', vm_count: 1 });
    return id;
  }

  async function expectTargetsEqualSource(vmName: string, files: Map<number, string>): Promise<void> {
    for (const [key, file] of files) {
      const source = await sim.readDisk(vmName, key);
      const target = await readFile(file);
      expect(target.length).toBe(source.length);
      expect(target.equals(source), `disk-${key} bytes differ`).toBe(true);
    }
  }

  beforeAll(async () => {
    exportsDir = await mkdtemp(path.join(os.tmpdir(), 'vma-repl-exports-'));
    nbd = await startNbdkit({ exportsDir });
    cb = await startChangeIdCallbackServer();
    sim = await startVmaSimulator({
      vcenterHost: vcenter,
      credentials: { username: creds.username, password: creds.password },
      blockSize: BLOCK,
      speed: { firstPushDelayMs: 300, phaseDelayMs: 10 },
      inventory: [
        vmSpec('app1', [
          { key: 2000, capacityBytes: 4 * MiB },
          { key: 2001, capacityBytes: 2 * MiB + 12_345 },
        ]),
        vmSpec('app2', [{ key: 2000, capacityBytes: 4 * MiB }]),
        vmSpec('app3', [{ key: 2000, capacityBytes: 4 * MiB }]),
        vmSpec('app4', [
          { key: 2000, capacityBytes: 1 * MiB },
          { key: 2001, capacityBytes: 1 * MiB },
        ]),
      ],
    });
    client = createVmaClient({ baseUrl: sim.url });
  });

  afterAll(async () => {
    await sim?.close();
    await cb?.close();
    await nbd?.stop();
    if (exportsDir !== undefined) await rm(exportsDir, { recursive: true, force: true });
  });

  it('full sync then incremental sync: phases, percent resets, change ids per disk, identical bytes', async () => {
    const { targets, files } = await targetsFor('app1');
    const vmPath = sim.inventory.get('app1')!.path;
    await sim.mutateDisk('app1', 2001, { blocks: 6, seed: 1 });

    const first = await replicate('app1', targets);
    // Nothing pushed yet: 404 is normal right after replicate.
    expect(await client.progress(first)).toEqual({ found: false });
    expect((await client.status(first)) as unknown).toMatchObject({ found: true, value: { status: 'running', vm_path: vmPath } });
    await sim.jobs.settled(first);

    // The real VMA's status endpoint says `running` for the life of the job record, even after the copy ended.
    const st = await client.status(first);
    expect(st.found && st.value.status).toBe('running');
    const h = sim.jobs.get(first)!.history;
    const setup = h.filter((s) => s.phase !== 'Transfer').map((s) => `${s.phase} ${s.percentage} ${s.status}`);
    expect(setup).toEqual([
      'Initializing 5 in_progress',
      'Creating Snapshot 10 in_progress',
      'Creating Snapshot 15 in_progress',
      'Setting up NBD 20 in_progress',
      'Preparing Migration 30 in_progress',
    ]);
    const transfer = h.filter((s) => s.phase === 'Transfer');
    const d0 = transfer.filter((s) => s.diskId === 'disk-2000');
    const d1 = transfer.filter((s) => s.diskId === 'disk-2001');
    expect(d0[0]).toMatchObject({ percentage: 0, status: 'in_progress', syncType: 'full', bytesTransferred: 0 });
    expect(d0.at(-1)).toMatchObject({ percentage: 100, status: 'completed' });
    // Percent goes backwards when the second disk starts.
    expect(d1[0]).toMatchObject({ percentage: 0, status: 'in_progress', syncType: 'full' });
    expect(transfer.indexOf(d1[0]!)).toBe(transfer.indexOf(d0.at(-1)!) + 1);
    expect(d1.at(-1)).toMatchObject({ percentage: 100, status: 'completed' });
    expect(d1.at(-1)!.totalBytes).toBeGreaterThanOrEqual(6 * BLOCK);

    const final = await client.progress(first);
    expect(final.found).toBe(true);
    const p = (final as { value: VmaProgress }).value;
    expect(p).toMatchObject({ job_id: first, status: 'completed', percentage: 100, sync_type: 'full', errors: [], last_error: null });
    expect(p.disk_progresses).toBeUndefined();

    await expectTargetsEqualSource('app1', files);
    const reports1 = cb.reports.filter((r) => r.jobId === first);
    expect(reports1.map((r) => r.diskId)).toEqual(['disk-2000', 'disk-2001']);
    for (const r of reports1) {
      expect(r.changeId).toMatch(CHANGE_ID);
      // The public copier's POST carries change_id and disk_id only.
      expect(r.previousChangeId).toBeNull();
    }
    expect(reports1[0]!.changeId.split('/')[0]).not.toBe(reports1[1]!.changeId.split('/')[0]);

    // Incremental: only the changed blocks of disk-2001 travel.
    const changed = await sim.mutateDisk('app1', 2001, { blocks: 5, seed: 99 });
    const second = await replicate('app1', targets);
    await sim.jobs.settled(second);
    const lookups = cb.lookups.slice(-2);
    expect(lookups.map((l) => [l.diskId, l.answered])).toEqual([
      ['disk-2000', reports1[0]!.changeId],
      ['disk-2001', reports1[1]!.changeId],
    ]);
    const t2 = sim.jobs.get(second)!.history.filter((s) => s.phase === 'Transfer');
    const last0 = t2.filter((s) => s.diskId === 'disk-2000').at(-1)!;
    const last1 = t2.filter((s) => s.diskId === 'disk-2001').at(-1)!;
    expect(last0).toMatchObject({ syncType: 'incremental', totalBytes: 0, status: 'completed' });
    const expectedBytes = changed.reduce((n, b) => n + Math.min(BLOCK, 2 * MiB + 12_345 - b * BLOCK), 0);
    expect(last1).toMatchObject({ syncType: 'incremental', totalBytes: expectedBytes, status: 'completed' });
    await expectTargetsEqualSource('app1', files);
    const reports2 = cb.reports.filter((r) => r.jobId === second);
    expect(reports2.map((r) => r.previousChangeId)).toEqual([null, null]);
    for (const [i, r] of reports2.entries()) {
      const before = Number(CHANGE_ID.exec(reports1[i]!.changeId)![3]);
      expect(Number(CHANGE_ID.exec(r.changeId)![3])).toBe(before + 1);
    }
    expect(cb.changeId(vmPath, 'disk-2001')).toBe(reports2[1]!.changeId);
  });

  it('a refused change id (CBT reset) or another disk\'s id silently forces a full copy of that disk', async () => {
    const { targets, files } = await targetsFor('app4');
    const vmPath = sim.inventory.get('app4')!.path;
    const first = await replicate('app4', targets);
    await sim.jobs.settled(first);
    const ids = cb.reports.filter((r) => r.jobId === first);
    // The console bug from lesson 7: disk-2001 is asked with disk-2000's id.
    cb.setChangeId(vmPath, 'disk-2001', ids[0]!.changeId);
    await sim.resetCbt('app4', 2000);
    await sim.mutateDisk('app4', 2000, { blocks: 2, seed: 5 });
    const second = await replicate('app4', targets);
    await sim.jobs.settled(second);
    const t = sim.jobs.get(second)!.history.filter((s) => s.phase === 'Transfer' && s.status === 'completed');
    expect(t.map((s) => [s.diskId, s.syncType])).toEqual([
      ['disk-2000', 'full'],
      ['disk-2001', 'full'],
    ]);
    expect(sim.logs.filter((l) => l.includes(second) && l.includes('refused'))).toHaveLength(2);
    await expectTargetsEqualSource('app4', files);
  });

  it('over HTTP: a two-disk job reports "completed" after its first disk while the VMA status still says running', async () => {
    const { targets } = await targetsFor('app1');
    await sim.mutateDisk('app1', 2001, { blocks: 10, seed: 8 });
    sim.speed.phaseDelayMs = 400;
    sim.speed.bytesPerSecond = 512 * 1024;
    try {
      const id = await replicate('app1', targets);
      const seen = await waitFor('first disk completed', async () => {
        const p = await client.progress(id);
        return p.found && p.value.status === 'completed' ? p.value : undefined;
      });
      expect(seen).toMatchObject({ phase: 'Transfer', percentage: 100 });
      const st = await client.status(id);
      expect(st.found && st.value.status).toBe('running');
      const next = await waitFor('second disk transfer', async () => {
        const p = await client.progress(id);
        return p.found && p.value.status === 'in_progress' && p.value.current_operation.includes('disk-2001') ? p.value : undefined;
      });
      expect(next.percentage).toBeLessThan(100);
      expect(next.percentage).toBeLessThan(seen.percentage);
      await sim.jobs.settled(id);
    } finally {
      sim.speed.phaseDelayMs = 10;
      sim.speed.bytesPerSecond = 0;
    }
  });

  it('a crashed copier freezes its last in_progress state forever; cleanup_all stops it', async () => {
    const { targets } = await targetsFor('app2');
    await sim.mutateDisk('app2', 2000, { blocks: 30, seed: 3 });
    sim.speed.bytesPerSecond = 256 * 1024;
    try {
      const id = await replicate('app2', targets);
      const during = await waitFor('transfer under way', async () => {
        const p = await client.progress(id);
        return p.found && p.value.phase === 'Transfer' && p.value.bytes_transferred > 0 ? p.value : undefined;
      });
      sim.faults.crash(id);
      await new Promise((r) => setTimeout(r, 300));
      const frozen = await client.progress(id);
      await new Promise((r) => setTimeout(r, 500));
      const later = await client.progress(id);
      expect(frozen.found && later.found).toBe(true);
      const a = (frozen as { value: VmaProgress }).value;
      const b = (later as { value: VmaProgress }).value;
      expect(b.status).toBe('in_progress');
      expect(b.percentage).toBe(a.percentage);
      expect(b.bytes_transferred).toBe(a.bytes_transferred);
      expect(b.timing.last_update).toBe(a.timing.last_update);
      expect(b.bytes_transferred).toBeGreaterThanOrEqual(during.bytes_transferred);
      expect(b.percentage).toBeLessThan(100);
      expect(b.errors).toEqual([]);
      const st = await client.status(id);
      expect(st.found && st.value.status).toBe('running');

      await client.cleanup({ job_id: id, action: 'cleanup_all' });
      await sim.jobs.settled(id);
      expect(sim.jobs.get(id)!.state).toBe('failed');
      // Cleaned up: the status endpoint no longer knows the job (it never says `failed`).
      expect(await client.status(id)).toEqual({ found: false });
    } finally {
      sim.speed.bytesPerSecond = 0;
    }
  });

  it('a global crash freezes new copies before their first push; recover lets the next one run', async () => {
    const { targets } = await targetsFor('app3');
    sim.faults.crash();
    try {
      const stuck = await replicate('app3', targets);
      await new Promise((r) => setTimeout(r, sim.speed.firstPushDelayMs + 300));
      expect(await client.progress(stuck)).toEqual({ found: false });
      const st = await client.status(stuck);
      expect(st.found && st.value.status).toBe('running');
    } finally {
      sim.faults.recover();
    }
    const next = await replicate('app3', targets);
    await sim.jobs.settled(next);
    expect(sim.jobs.get(next)!.state).toBe('completed');
  });

  it('a VMA restart forgets every job: progress and status answer 404', async () => {
    const { targets } = await targetsFor('app3');
    const done = await replicate('app3', targets);
    await sim.jobs.settled(done);
    expect((await client.progress(done)).found).toBe(true);
    sim.speed.bytesPerSecond = 64 * 1024;
    try {
      await sim.mutateDisk('app3', 2000, { blocks: 20, seed: 4 });
      const running = await replicate('app3', targets);
      await waitFor('running job visible', async () => ((await client.progress(running)).found ? true : undefined));
      sim.faults.restart();
      expect(await client.progress(done)).toEqual({ found: false });
      expect(await client.progress(running)).toEqual({ found: false });
      expect(await client.status(running)).toEqual({ found: false });
      await sim.jobs.settled(running);
    } finally {
      sim.speed.bytesPerSecond = 0;
    }
  });

  it('an NBD target that cannot be opened is only logged: progress freezes at NBD setup', async () => {
    const bad = [{ device_path: `nbd://127.0.0.1:${nbd.port}/migration-vol-${randomUUID()}`, vmware_disk_key: '2000' }];
    const id = await replicate('app3', bad);
    await sim.jobs.settled(id);
    const p = await client.progress(id);
    expect(p.found && [p.value.phase, p.value.percentage, p.value.status]).toEqual(['Setting up NBD', 20, 'in_progress']);
    expect(sim.logs.some((l) => l.includes(id) && l.includes('cannot open NBD target'))).toBe(true);
    expect(sim.logs.join('\n')).not.toContain(creds.password);
  });

  it('a copy that cannot start still answers "started" and progress stays 404', async () => {
    const id = await replicate('ghost-vm', [{ device_path: `nbd://127.0.0.1:${nbd.port}/x`, vmware_disk_key: '2000' }]);
    await new Promise((r) => setTimeout(r, sim.speed.firstPushDelayMs + 200));
    expect(await client.progress(id)).toEqual({ found: false });
    expect(sim.logs.some((l) => l.includes(id) && l.includes('not found'))).toBe(true);

    const { targets } = await targetsFor('app3');
    const wrongLogin = jobId();
    cb.registerJob(wrongLogin, sim.inventory.get('app3')!.path);
    const r = await client.replicate({ ...creds, password: 'wrong', job_id: wrongLogin, vm_paths: [sim.inventory.get('app3')!.path], oma_url: cb.url, nbd_targets: targets });
    expect(r.status).toBe('started');
    await new Promise((res) => setTimeout(res, sim.speed.firstPushDelayMs + 200));
    expect(await client.progress(wrongLogin)).toEqual({ found: false });
  });

  it('replicate answers 500 text when vCenter is unreachable', async () => {
    sim.faults.setVcenterReachable(false);
    try {
      const e = await client.replicate({ ...creds, job_id: jobId(), vm_paths: [sim.inventory.get('app3')!.path], oma_url: cb.url, nbd_targets: [{ device_path: 'nbd://127.0.0.1:1/x', vmware_disk_key: '2000' }] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(VmaHttpError);
      expect((e as VmaHttpError).status).toBe(500);
      expect((e as VmaHttpError).text).toMatch(/^Failed to connect to vCenter/);
    } finally {
      sim.faults.setVcenterReachable(true);
    }
  });

  describe('quirks (each off by default)', () => {
    it('status: `running` after the copy ended, 404 once cleaned up; only the statusReportsEnd quirk says `completed`', async () => {
      const { targets } = await targetsFor('app3');
      const done = await replicate('app3', targets);
      await sim.jobs.settled(done);
      expect(sim.jobs.get(done)!.state).toBe('completed');
      const st = await client.status(done);
      expect(st.found && st.value.status).toBe('running');
      await client.cleanup({ job_id: done, action: 'cleanup_all' });
      expect(await client.status(done)).toEqual({ found: false });
      // Progress is what the copier last pushed; cleanup does not rewrite it.
      const p = await client.progress(done);
      expect(p.found && p.value.status).toBe('completed');

      sim.quirks.statusReportsEnd = true;
      try {
        const old = await replicate('app3', targets);
        await sim.jobs.settled(old);
        const end = await client.status(old);
        expect(end.found && end.value.status).toBe('completed');
      } finally {
        sim.quirks.statusReportsEnd = false;
      }
    });

    it('oma_url is the API base by plain concatenation: a trailing slash reaches the console as a double slash', async () => {
      const { targets } = await targetsFor('app3');
      const id = jobId();
      const vmPath = sim.inventory.get('app3')!.path;
      cb.registerJob(id, vmPath);
      const before = cb.paths.length;
      await client.replicate({ ...creds, job_id: id, vm_paths: [vmPath], oma_url: `${cb.url}/tok-123/`, nbd_targets: targets });
      await sim.jobs.settled(id);
      const seen = cb.paths.slice(before);
      expect(seen).toEqual([
        `/tok-123//api/v1/replications/changeid?vm_path=${encodeURIComponent(vmPath)}&disk_id=disk-2000`,
        `/tok-123//api/v1/replications/${id}/changeid`,
      ]);
      // Nothing matched the console's paths, so nothing was stored.
      expect(cb.reports.some((r) => r.jobId === id)).toBe(false);
    });

    it('sendPreviousChangeId: the POST carries the base the copier looked up (absent without the quirk)', async () => {
      const { targets } = await targetsFor('app4');
      const first = await replicate('app4', targets);
      await sim.jobs.settled(first);
      const base = cb.reports.filter((r) => r.jobId === first);
      expect(base.map((r) => r.previousChangeId)).toEqual([null, null]);
      sim.quirks.sendPreviousChangeId = true;
      try {
        await sim.mutateDisk('app4', 2001, { blocks: 1, seed: 12 });
        const second = await replicate('app4', targets);
        await sim.jobs.settled(second);
        expect(cb.reports.filter((r) => r.jobId === second).map((r) => r.previousChangeId)).toEqual(base.map((r) => r.changeId));
      } finally {
        sim.quirks.sendPreviousChangeId = false;
      }
    });

    it('emptyChangeId: the chosen disk reports "" (its copy still complete), the others their new id', async () => {
      const { targets, files } = await targetsFor('app4');
      const vmPath = sim.inventory.get('app4')!.path;
      // Fresh target volumes: forget the earlier tests' change ids so both disks are copied in full.
      for (const d of ['disk-2000', 'disk-2001']) cb.setChangeId(vmPath, d, '');
      await sim.mutateDisk('app4', 2000, { blocks: 3, seed: 21 });
      sim.quirks.emptyChangeId = (d) => d.diskId === 'disk-2000';
      try {
        const id = await replicate('app4', targets);
        await sim.jobs.settled(id);
        const reports = cb.reports.filter((r) => r.jobId === id);
        expect(reports.map((r) => [r.diskId, r.changeId === '' ? '' : 'id'])).toEqual([
          ['disk-2000', ''],
          ['disk-2001', 'id'],
        ]);
        expect(reports[1]!.changeId).toMatch(CHANGE_ID);
        expect(sim.jobs.get(id)!.state).toBe('completed');
        await expectTargetsEqualSource('app4', files);
        expect(cb.changeId(vmPath, 'disk-2001')).toBe(reports[1]!.changeId);
      } finally {
        sim.quirks.emptyChangeId = null;
      }
    });
  });
});
