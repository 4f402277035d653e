// The OMA appliance manager against real commands (local /bin/sh as the RemoteShell), real
// nbdkit and a real NBD client. Sparse files behind by-id links stand in for attached volumes.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OmaAppliance } from '../../main/oma/oma-appliance';
import type { OmaApplianceConfig } from '../../main/oma/oma-config';
import { deviceIdFor } from '../../main/oma/volume-naming';
import { AppError } from '../../shared/errors';
import { createLocalShell } from '../fixtures/local-shell';
import { freePort } from '../fixtures/sshd';
import { NbdClient } from '../sim/nbd/nbd-client';

const MiB = 1024 * 1024;

/** Pids of live processes whose argv contains `dir=<exportsDir>` (i.e. nbdkits serving it). */
function nbdkitsServing(exportsDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(`dir=${exportsDir}`)) pids.push(Number(entry));
    } catch {
      // gone while scanning
    }
  }
  return pids;
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 30));
  }
}

interface Rig {
  root: string;
  byIdDir: string;
  exportsDir: string;
  devicesDir: string;
  pidFile: string;
  port: number;
  oma: OmaAppliance;
}

async function makeRig(name: string, extra: Partial<OmaApplianceConfig> = {}): Promise<Rig> {
  const root = await mkdtemp(path.join(tmpdir(), `oma-${name}-`));
  const byIdDir = path.join(root, 'by-id');
  const exportsDir = path.join(root, 'nbd-exports');
  const devicesDir = path.join(root, 'devices');
  await mkdir(byIdDir);
  await mkdir(devicesDir);
  const pidFile = path.join(root, 'run', 'nbdkit.pid');
  const port = await freePort();
  const oma = new OmaAppliance(createLocalShell(), { byIdDir, exportsDir, pidFile, nbdPort: port, nbdListenAddress: '127.0.0.1', ...extra });
  return { root, byIdDir, exportsDir, devicesDir, pidFile, port, oma };
}

/** Whether this machine's nbdkit ip filter accepts an address rule (it ends at once with --run). */
function ipFilterParsesAddresses(): boolean {
  return spawnSync('nbdkit', ['--filter=ip', 'null', 'allow=127.0.0.1', 'deny=all', '--run', 'true'], { timeout: 10_000 }).status === 0;
}

/** The first bytes an NBD server sends to a client connecting from `localAddress` (empty when it hangs up). */
function nbdGreeting(port: number, localAddress: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no greeting and no hang-up from 127.0.0.1:${port} for ${localAddress}`));
    }, 10_000);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (Buffer.concat(chunks).length >= 8) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Makes a sparse "disk" and its by-id link, as KVM does when CloudStack attaches a volume. */
async function attachVolume(rig: Rig, volumeUuid: string, sizeBytes: number): Promise<string> {
  const file = path.join(rig.devicesDir, `${volumeUuid}.img`);
  const fh = await open(file, 'w');
  await fh.truncate(sizeBytes);
  await fh.close();
  await symlink(file, path.join(rig.byIdDir, deviceIdFor(volumeUuid)));
  return file;
}

describe('OmaAppliance with a local shell, real nbdkit and an NBD client', () => {
  let rig: Rig;
  const started = new Set<number>();

  beforeAll(async () => {
    rig = await makeRig('main');
  });

  afterAll(async () => {
    for (const pid of [...started, ...nbdkitsServing(rig.exportsDir)]) await killAndWait(pid);
    await rm(rig.root, { recursive: true, force: true });
  });

  it('waits for a by-id link that appears 300 ms later and returns exactly that path', async () => {
    const uuid = randomUUID();
    const file = path.join(rig.devicesDir, 'late.img');
    await writeFile(file, Buffer.alloc(4096));
    const expected = path.join(rig.byIdDir, deviceIdFor(uuid));
    const appear = new Promise<number>((resolve) => setTimeout(() => void symlink(file, expected).then(() => resolve(Date.now())), 300));
    const found = await rig.oma.waitForDevice(uuid, { timeoutMs: 5000, intervalMs: 50 });
    const appearedAt = await appear;
    expect(found).toBe(expected);
    expect(Date.now()).toBeGreaterThanOrEqual(appearedAt);
  });

  it('times out for a volume that never appears, naming the volume and path, without guessing another device', async () => {
    await attachVolume(rig, randomUUID(), MiB); // another device is present and must not be taken
    const uuid = randomUUID();
    const failure = await rig.oma.waitForDevice(uuid, { timeoutMs: 400, intervalMs: 50 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AppError);
    const e = failure as AppError;
    expect(e.code).toBe('timeout');
    expect(e.message).toContain(uuid);
    expect(e.message).toContain(path.join(rig.byIdDir, deviceIdFor(uuid)));
    expect(e.details?.['presentVirtioDevices']).toEqual(expect.arrayContaining([expect.stringMatching(/^virtio-/)]));
  });

  it('does not accept a dangling by-id link as the device', async () => {
    const uuid = randomUUID();
    await symlink(path.join(rig.devicesDir, 'never-created.img'), path.join(rig.byIdDir, deviceIdFor(uuid)));
    await expect(rig.oma.waitForDevice(uuid, { timeoutMs: 200, intervalMs: 50 })).rejects.toMatchObject({ code: 'timeout' });
  });

  it('starts nbdkit when absent and leaves the running one alone afterwards', async () => {
    expect(nbdkitsServing(rig.exportsDir)).toEqual([]);
    expect(await rig.oma.nbdkitPid()).toBeNull();
    const first = await rig.oma.ensureNbdkitRunning();
    started.add(first.pid);
    expect(first.started).toBe(true);
    expect(nbdkitsServing(rig.exportsDir)).toEqual([first.pid]);

    const [again, concurrent] = await Promise.all([rig.oma.ensureNbdkitRunning(), rig.oma.ensureNbdkitRunning()]);
    expect(again).toEqual({ pid: first.pid, started: false });
    expect(concurrent).toEqual({ pid: first.pid, started: false });
    // A fresh manager (e.g. after a console restart) finds the same nbdkit through the pid file.
    const other = new OmaAppliance(createLocalShell(), { ...rig.oma.config });
    expect(await other.ensureNbdkitRunning()).toEqual({ pid: first.pid, started: false });
    expect(nbdkitsServing(rig.exportsDir)).toEqual([first.pid]);
  });

  it('two managers starting nbdkit at once (two first syncs on one appliance) both end with the one nbdkit that won the port', async () => {
    const running = await rig.oma.nbdkitPid();
    if (running !== null) await killAndWait(running);
    expect(nbdkitsServing(rig.exportsDir)).toEqual([]);
    const managers = [0, 1, 2].map(() => new OmaAppliance(createLocalShell(), { ...rig.oma.config }));
    const results = await Promise.all(managers.map((m) => m.ensureNbdkitRunning()));
    const pids = new Set(results.map((r) => r.pid));
    expect(pids.size).toBe(1);
    const [pid] = [...pids];
    started.add(pid!);
    expect(results.filter((r) => r.started).length).toBeLessThanOrEqual(1);
    expect(nbdkitsServing(rig.exportsDir)).toEqual([pid]);
  });

  it('publishes and verifies an export whose NBD writes land in the backing device', async () => {
    const uuid = randomUUID();
    const file = await attachVolume(rig, uuid, 16 * MiB);
    const device = await rig.oma.waitForDevice(uuid, { timeoutMs: 2000 });
    await rig.oma.ensureNbdkitRunning();

    const published = await rig.oma.publishExport(uuid, device);
    expect(published).toEqual({ exportName: `migration-vol-${uuid}`, volumeUuid: uuid, target: device });
    expect(await readlink(path.join(rig.exportsDir, `migration-vol-${uuid}`))).toBe(device);
    // Publishing again is harmless and leaves no temporary links behind.
    await rig.oma.publishExport(uuid, device);
    expect(readdirSync(rig.exportsDir).filter((n) => n.includes(uuid))).toEqual([`migration-vol-${uuid}`]);

    const verified = await rig.oma.verifyExport(uuid);
    expect(verified.sizeBytes).toBe(16 * MiB);
    expect(verified.localUrl).toBe(`nbd://127.0.0.1:${rig.port}/migration-vol-${uuid}`);

    const data = randomBytes(5 * MiB + 17);
    const client = await NbdClient.connect(verified.localUrl);
    try {
      expect(client.size).toBe(16 * MiB);
      await client.pwrite(data, 7 * MiB + 3);
      await client.flush();
    } finally {
      await client.close();
    }
    const onDisk = await readFile(file);
    expect(onDisk.subarray(7 * MiB + 3, 7 * MiB + 3 + data.length).equals(data)).toBe(true);
    expect(onDisk.subarray(0, 7 * MiB + 3).every((b) => b === 0)).toBe(true);
  });

  it('publishes and withdraws several exports without restarting nbdkit; other exports keep serving', async () => {
    const before = await rig.oma.ensureNbdkitRunning();
    const uuids = [randomUUID(), randomUUID(), randomUUID()];
    const files: string[] = [];
    for (const [i, uuid] of uuids.entries()) {
      files.push(await attachVolume(rig, uuid, (4 + i) * MiB));
      await rig.oma.publishExport(uuid, await rig.oma.waitForDevice(uuid, { timeoutMs: 2000 }));
      expect((await rig.oma.verifyExport(uuid)).sizeBytes).toBe((4 + i) * MiB);
    }
    const [a, b, c] = uuids as [string, string, string];
    const served = await rig.oma.listServedExports();
    for (const uuid of uuids) expect(served).toContain(`migration-vol-${uuid}`);

    // A copy is running into B while A is withdrawn and C is re-published.
    const copyB = await NbdClient.connect(rig.oma.localExportUrl(b));
    try {
      const first = randomBytes(MiB);
      await copyB.pwrite(first, 0);
      await rig.oma.withdrawExport(a);
      await rig.oma.withdrawExport(a); // idempotent
      await rig.oma.publishExport(c, rig.oma.devicePathFor(c));
      const second = randomBytes(MiB);
      await copyB.pwrite(second, 2 * MiB);
      await copyB.flush();
      const onDisk = await readFile(files[1]!);
      expect(onDisk.subarray(0, MiB).equals(first)).toBe(true);
      expect(onDisk.subarray(2 * MiB, 3 * MiB).equals(second)).toBe(true);
    } finally {
      await copyB.close();
    }

    const after = await rig.oma.listServedExports();
    expect(after).not.toContain(`migration-vol-${a}`);
    expect(after).toContain(`migration-vol-${b}`);
    expect(after).toContain(`migration-vol-${c}`);
    await expect(NbdClient.connect(rig.oma.localExportUrl(a))).rejects.toThrow(/unknown export/);
    await expect(rig.oma.verifyExport(a)).rejects.toMatchObject({ code: 'not_found' });
    // New connections to a surviving export still work.
    const fresh = await NbdClient.connect(rig.oma.localExportUrl(c));
    expect(fresh.size).toBe(6 * MiB);
    await fresh.close();

    const links = await rig.oma.listExports();
    expect(links.map((l) => l.volumeUuid)).toEqual(expect.arrayContaining([b, c]));
    expect(links.map((l) => l.volumeUuid)).not.toContain(a);
    expect(links.find((l) => l.volumeUuid === b)?.target).toBe(rig.oma.devicePathFor(b));

    const end = await rig.oma.ensureNbdkitRunning();
    expect(end).toEqual({ pid: before.pid, started: false });
    expect(nbdkitsServing(rig.exportsDir)).toEqual([before.pid]);
  });

  it('fails verification clearly when the link points at a device that has gone', async () => {
    const uuid = randomUUID();
    const file = await attachVolume(rig, uuid, 2 * MiB);
    await rig.oma.publishExport(uuid, rig.oma.devicePathFor(uuid));
    expect((await rig.oma.verifyExport(uuid)).sizeBytes).toBe(2 * MiB);
    await unlink(file); // the volume was detached: its by-id link now dangles
    const failure = await rig.oma.verifyExport(uuid).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'not_found' });
    expect((failure as AppError).message).toContain(`migration-vol-${uuid}`);
    expect((failure as AppError).message).toContain(rig.oma.devicePathFor(uuid));
    expect((failure as AppError).message).toMatch(/does not exist/);
  });

  it('refuses to publish a missing device or another volume\'s device', async () => {
    const missing = randomUUID();
    await expect(rig.oma.publishExport(missing, rig.oma.devicePathFor(missing))).rejects.toMatchObject({ code: 'not_found' });
    expect(existsSync(path.join(rig.exportsDir, `migration-vol-${missing}`))).toBe(false);

    const [x, y] = [randomUUID(), randomUUID()];
    await attachVolume(rig, x, MiB);
    await attachVolume(rig, y, MiB);
    await expect(rig.oma.publishExport(x, rig.oma.devicePathFor(y))).rejects.toMatchObject({ code: 'validation' });
    await expect(rig.oma.publishExport('not-a-uuid', '/dev/vdb')).rejects.toMatchObject({ code: 'validation' });
  });

  it('reports a link that points at another volume\'s device as a conflict', async () => {
    const [x, y] = [randomUUID(), randomUUID()];
    await attachVolume(rig, x, MiB);
    await attachVolume(rig, y, MiB);
    await symlink(rig.oma.devicePathFor(y), path.join(rig.exportsDir, `migration-vol-${x}`));
    await expect(rig.oma.verifyExport(x)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('sends every value quoted: a hostile exports directory is used literally', async () => {
    const hostile = await makeRig('quote');
    const dir = path.join(hostile.root, "ex $(touch pwned) 'q' ;x");
    const oma = new OmaAppliance(createLocalShell(), { ...hostile.oma.config, exportsDir: dir });
    const uuid = randomUUID();
    await attachVolume(hostile, uuid, MiB);
    await oma.publishExport(uuid, oma.devicePathFor(uuid));
    expect(await readlink(path.join(dir, `migration-vol-${uuid}`))).toBe(oma.devicePathFor(uuid));
    expect((await oma.listExports()).map((l) => l.volumeUuid)).toEqual([uuid]);
    expect(existsSync('pwned')).toBe(false);
    expect(existsSync(path.join(hostile.root, 'pwned'))).toBe(false);
    await rm(hostile.root, { recursive: true, force: true });
  });
});

describe('OmaAppliance nbdkit start edge cases', () => {
  it('ignores a stale pid file naming another process and starts nbdkit', async () => {
    const rig = await makeRig('stale');
    try {
      await mkdir(path.dirname(rig.pidFile), { recursive: true });
      await writeFile(rig.pidFile, `${process.pid}\n`);
      const status = await rig.oma.ensureNbdkitRunning();
      expect(status.started).toBe(true);
      expect(status.pid).not.toBe(process.pid);
      expect(nbdkitsServing(rig.exportsDir)).toEqual([status.pid]);
    } finally {
      for (const pid of nbdkitsServing(rig.exportsDir)) await killAndWait(pid);
      await rm(rig.root, { recursive: true, force: true });
    }
  });

  it('fails with a clear error when the NBD port is taken by something else', async () => {
    const rig = await makeRig('busy');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(rig.port, '127.0.0.1', () => r()));
    try {
      const failure = await rig.oma.ensureNbdkitRunning().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AppError);
      expect((failure as AppError).code).toBe('remote_error');
      expect((failure as AppError).message).toContain(`127.0.0.1:${rig.port}`);
      expect(nbdkitsServing(rig.exportsDir)).toEqual([]);
    } finally {
      await new Promise((r) => blocker.close(r));
      for (const pid of nbdkitsServing(rig.exportsDir)) await killAndWait(pid);
      await rm(rig.root, { recursive: true, force: true });
    }
  });

  it("with allowed clients nbdkit runs its ip filter: the VMA's address gets the NBD greeting, another loopback address is refused", async () => {
    const rig = await makeRig('ipfilter', { nbdAllowedClients: ['127.0.0.2'] });
    try {
      if (ipFilterParsesAddresses()) {
        // The appliance's own probe (from 127.0.0.1) still answers: ensureNbdkitRunning waits for it.
        const status = await rig.oma.ensureNbdkitRunning();
        expect(status.started).toBe(true);
        expect((await nbdGreeting(rig.port, '127.0.0.2')).toString('latin1')).toMatch(/^NBDMAGIC/);
        expect((await nbdGreeting(rig.port, '127.0.0.3')).length).toBe(0);
      } else {
        // Debian's nbdkit 1.32 ip filter rejects every address rule: the start must fail saying so,
        // and nothing may serve the replicas unfiltered instead.
        const failure = await rig.oma.ensureNbdkitRunning().catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(AppError);
        expect((failure as AppError).message).toMatch(/Starting nbdkit on the OMA appliance .* failed: .*rule: allow=127\.0\.0\.1/);
        expect(nbdkitsServing(rig.exportsDir)).toEqual([]);
      }
    } finally {
      for (const pid of nbdkitsServing(rig.exportsDir)) await killAndWait(pid);
      await rm(rig.root, { recursive: true, force: true });
    }
  });

  it('reports nbdkit that is not running when verifying', async () => {
    const rig = await makeRig('down');
    try {
      const uuid = randomUUID();
      await attachVolume(rig, uuid, MiB);
      await rig.oma.publishExport(uuid, rig.oma.devicePathFor(uuid));
      await expect(rig.oma.verifyExport(uuid)).rejects.toMatchObject({ code: 'remote_error', message: expect.stringMatching(/does not answer/) });
    } finally {
      await rm(rig.root, { recursive: true, force: true });
    }
  });
});

describe('OmaAppliance.publishAndVerify: one command per disk when nothing changes', () => {
  let rig: Rig;
  let shell: ReturnType<typeof createLocalShell>;
  let oma: OmaAppliance;

  beforeAll(async () => {
    rig = await makeRig('onetrip');
    shell = createLocalShell();
    oma = new OmaAppliance(shell, { ...rig.oma.config });
  });
  afterAll(async () => {
    for (const pid of nbdkitsServing(rig.exportsDir)) await killAndWait(pid);
    await rm(rig.root, { recursive: true, force: true });
  });

  it('starts nbdkit and waits for a late device on the first publish, then needs exactly one command per disk', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    expect(nbdkitsServing(rig.exportsDir)).toEqual([]);
    setTimeout(() => void attachVolume(rig, a, 3 * MiB), 300);
    await attachVolume(rig, b, 5 * MiB);
    const first = await Promise.all([oma.publishAndVerify(a, { timeoutMs: 5000, intervalMs: 50 }), oma.publishAndVerify(b, { timeoutMs: 5000 })]);
    expect(first.map((v) => [v.exportName, v.sizeBytes, v.linked])).toEqual([
      [`migration-vol-${a}`, 3 * MiB, true],
      [`migration-vol-${b}`, 5 * MiB, true],
    ]);
    const pids = nbdkitsServing(rig.exportsDir);
    expect(pids).toHaveLength(1);
    for (const u of [a, b]) expect(await readlink(path.join(rig.exportsDir, `migration-vol-${u}`))).toBe(oma.devicePathFor(u));
    // More than one command per disk the first time: nbdkit had to start and one device was late.
    expect(shell.commands.length).toBeGreaterThan(2);

    // The incremental case: nbdkit runs, devices and links exist → one command per disk, no relink.
    const before = shell.commands.length;
    const again = await Promise.all([oma.publishAndVerify(a), oma.publishAndVerify(b)]);
    expect(shell.commands.length - before).toBe(2);
    expect(again.map((v) => [v.devicePath, v.sizeBytes, v.linked])).toEqual([
      [oma.devicePathFor(a), 3 * MiB, false],
      [oma.devicePathFor(b), 5 * MiB, false],
    ]);
    expect(again[0]!.localUrl).toBe(`nbd://127.0.0.1:${rig.port}/migration-vol-${a}`);
    expect(nbdkitsServing(rig.exportsDir)).toEqual(pids);
    // The export really serves the device: a write over NBD lands in the backing file.
    const data = randomBytes(4096);
    const client = await NbdClient.connect(again[1]!.localUrl);
    try {
      await client.pwrite(data, MiB);
      await client.flush();
    } finally {
      await client.close();
    }
    expect((await readFile(path.join(rig.devicesDir, `${b}.img`))).subarray(MiB, MiB + 4096).equals(data)).toBe(true);
  });

  it("replaces a link that points at another volume's device in the same single command", async () => {
    const [x, y] = [randomUUID(), randomUUID()];
    await attachVolume(rig, x, 2 * MiB);
    await attachVolume(rig, y, MiB);
    await symlink(oma.devicePathFor(y), path.join(rig.exportsDir, `migration-vol-${x}`));
    const before = shell.commands.length;
    const v = await oma.publishAndVerify(x);
    expect(shell.commands.length - before).toBe(1);
    expect(v).toMatchObject({ linked: true, sizeBytes: 2 * MiB, devicePath: oma.devicePathFor(x) });
    expect(await readlink(path.join(rig.exportsDir, `migration-vol-${x}`))).toBe(oma.devicePathFor(x));
    expect(readdirSync(rig.exportsDir).filter((n) => n.includes(x))).toEqual([`migration-vol-${x}`]);
  });

  it('fails like the step-by-step path when the device never appears, naming the volume', async () => {
    const uuid = randomUUID();
    const failure = await oma.publishAndVerify(uuid, { timeoutMs: 300, intervalMs: 50 }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'timeout' });
    expect((failure as AppError).message).toContain(uuid);
    expect(existsSync(path.join(rig.exportsDir, `migration-vol-${uuid}`))).toBe(false);
  });

  it('says why an export whose device exists does not open (a directory in place of the device)', async () => {
    const uuid = randomUUID();
    const dir = path.join(rig.devicesDir, `${uuid}.dir`);
    await mkdir(dir);
    await symlink(dir, path.join(rig.byIdDir, deviceIdFor(uuid)));
    const failure = await oma.publishAndVerify(uuid).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe('remote_error');
    expect((failure as AppError).message).toContain(`migration-vol-${uuid}`);
  });
});
