// The OMA appliance manager over a real SSH hop (real sshd, ssh2 exec, pinned host key), with real
// nbdkit started through that SSH session, and bytes written over NBD compared on disk.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OmaAppliance } from '../../main/oma/oma-appliance';
import type { ExecResult, RemoteShell } from '../../main/oma/remote-shell';
import { deviceIdFor } from '../../main/oma/volume-naming';
import { freePort } from '../fixtures/sshd';
import { startSshd, type SshdFixture } from '../fixtures/sshd';
import { NbdClient } from '../sim/nbd/nbd-client';

const MiB = 1024 * 1024;

/** A RemoteShell over one ssh2 connection; the host key must match the pinned fingerprint. */
async function connectSshShell(sshd: SshdFixture): Promise<RemoteShell & { end(): void }> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: sshd.clientPrivateKey,
      hostVerifier: (key: Buffer) => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}` === sshd.hostKeyFingerprint,
      readyTimeout: 10_000,
    });
  });
  return {
    end: () => client.end(),
    exec(command: string, options: { timeoutMs?: number } = {}): Promise<ExecResult> {
      const timeoutMs = options.timeoutMs ?? 30_000;
      return new Promise((resolve, reject) => {
        client.exec(command, (error, stream) => {
          if (error) {
            reject(error);
            return;
          }
          let stdout = '';
          let stderr = '';
          let code: number | null = null;
          let signal: string | null = null;
          const timer = setTimeout(() => {
            stream.close();
            reject(new Error(`ssh exec timed out after ${timeoutMs} ms`));
          }, timeoutMs);
          stream.setEncoding('utf8');
          stream.stderr.setEncoding('utf8');
          stream.on('data', (d: string) => { stdout += d; });
          stream.stderr.on('data', (d: string) => { stderr += d; });
          stream.on('exit', (c: number | null, s?: string) => {
            code = c;
            signal = s ?? null;
          });
          stream.on('close', () => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr });
          });
        });
      });
    },
  };
}

function nbdkitsServing(exportsDir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').includes(`dir=${exportsDir}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('OmaAppliance through real sshd', () => {
  let sshd: SshdFixture;
  let shell: RemoteShell & { end(): void };
  let root: string;
  let oma: OmaAppliance;

  beforeAll(async () => {
    sshd = await startSshd();
    shell = await connectSshShell(sshd);
    root = await mkdtemp(path.join(tmpdir(), 'oma-ssh-'));
    await mkdir(path.join(root, 'by-id'));
    await mkdir(path.join(root, 'devices'));
    oma = new OmaAppliance(shell, {
      byIdDir: path.join(root, 'by-id'),
      exportsDir: path.join(root, 'nbd-exports'),
      pidFile: path.join(root, 'run', 'nbdkit.pid'),
      nbdListenAddress: '127.0.0.1',
      nbdPort: await freePort(),
    });
  });

  afterAll(async () => {
    shell?.end();
    for (const pid of nbdkitsServing(path.join(root, 'nbd-exports'))) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sshd?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('finds the device, starts nbdkit once, publishes, verifies and serves writes; withdraw leaves others serving', async () => {
    const uuids = [randomUUID(), randomUUID()];
    const files: string[] = [];
    for (const uuid of uuids) {
      const file = path.join(root, 'devices', `${uuid}.img`);
      const fh = await open(file, 'w');
      await fh.truncate(8 * MiB);
      await fh.close();
      files.push(file);
    }
    const [a, b] = uuids as [string, string];
    setTimeout(() => void symlink(files[0]!, path.join(root, 'by-id', deviceIdFor(a))), 300);
    await symlink(files[1]!, path.join(root, 'by-id', deviceIdFor(b)));

    const devA = await oma.waitForDevice(a, { timeoutMs: 5000, intervalMs: 100 });
    const devB = await oma.waitForDevice(b, { timeoutMs: 5000, intervalMs: 100 });

    const first = await oma.ensureNbdkitRunning();
    expect(first.started).toBe(true);
    expect(await oma.ensureNbdkitRunning()).toEqual({ pid: first.pid, started: false });

    await oma.publishExport(a, devA);
    await oma.publishExport(b, devB);
    expect((await oma.verifyExport(a)).sizeBytes).toBe(8 * MiB);
    expect((await oma.verifyExport(b)).sizeBytes).toBe(8 * MiB);

    const data = randomBytes(3 * MiB);
    const client = await NbdClient.connect(oma.localExportUrl(b));
    await client.pwrite(data, MiB);
    await client.flush();
    await client.close();
    expect((await readFile(files[1]!)).subarray(MiB, 4 * MiB).equals(data)).toBe(true);

    await oma.withdrawExport(a);
    const served = await oma.listServedExports();
    expect(served).toEqual([`migration-vol-${b}`]);
    expect((await oma.listExports()).map((e) => e.volumeUuid)).toEqual([b]);
    expect(await oma.nbdkitPid()).toBe(first.pid);
    expect(nbdkitsServing(oma.config.exportsDir)).toEqual([first.pid]);

    await expect(oma.waitForDevice(randomUUID(), { timeoutMs: 300, intervalMs: 100 })).rejects.toMatchObject({ code: 'timeout' });
  });
});
