import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { acquireOwnerLock, ownerLockPath, pidAlive, readOwner, tryAcquireOwnerLock } from './owner-lock';

// Other processes take the lock with the real module: it is bundled once for plain Node.
let bundleDir: string;
let lockModule: string;
beforeAll(async () => {
  bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-lock-bundle-'));
  lockModule = path.join(bundleDir, 'owner-lock.mjs');
  await build({ entryPoints: [path.resolve('main/owner/owner-lock.ts')], bundle: true, platform: 'node', format: 'esm', outfile: lockModule, logLevel: 'silent' });
});
afterAll(() => fs.rmSync(bundleDir, { recursive: true, force: true }));

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-lock-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A process that tries to take the lock, prints the outcome as one JSON line, and holds it until stdin closes. */
function contender(transport: string): { child: ChildProcess; outcome: Promise<{ ok: boolean; pid?: number; owner?: { pid: number } }> } {
  const script = `
    const { tryAcquireOwnerLock } = await import(${JSON.stringify(lockModule)});
    const r = tryAcquireOwnerLock(${JSON.stringify(dir)}, ${JSON.stringify(transport)});
    process.stdout.write(JSON.stringify(r.ok ? { ok: true, pid: process.pid } : { ok: false, owner: r.owner }) + '\\n');
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const outcome = new Promise<{ ok: boolean; pid?: number; owner?: { pid: number } }>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0]!));
    });
    child.once('exit', (code) => reject(new Error(`contender exited ${code} before answering`)));
  });
  return { child, outcome };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** The pid of a process that has exited: a lock naming it is stale. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '']);
  await exited(c);
  expect(pidAlive(c.pid!)).toBe(false);
  return c.pid!;
}

describe('owner lock', () => {
  it('writes who owns the directory into a 0600 lock file and removes it on release', () => {
    const lock = acquireOwnerLock(dir, 'mkc serve');
    const info = JSON.parse(fs.readFileSync(ownerLockPath(dir), 'utf8'));
    expect(info).toEqual({ pid: process.pid, since: lock.info.since, transport: 'mkc serve', hostname: os.hostname() });
    expect(fs.statSync(ownerLockPath(dir)).mode & 0o777).toBe(0o600);
    lock.release();
    expect(fs.existsSync(ownerLockPath(dir))).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a second owner in the same process and names the first', () => {
    const lock = acquireOwnerLock(dir, 'desktop app');
    try {
      let error: unknown;
      try {
        acquireOwnerLock(dir, 'mkc serve');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('conflict');
      expect((error as AppError).message).toContain(`owned by desktop app (pid ${process.pid}, since ${lock.info.since})`);
    } finally {
      lock.release();
    }
  });

  it('refuses while another process holds it and takes it over once that process was killed', async () => {
    const holder = contender('mkc serve');
    const held = await holder.outcome;
    expect(held.ok).toBe(true);
    expect(tryAcquireOwnerLock(dir, 'desktop app')).toEqual({ ok: false, owner: expect.objectContaining({ pid: held.pid, transport: 'mkc serve' }) });
    holder.child.kill('SIGKILL');
    await exited(holder.child);
    // The lock file is still there (nobody released it), but its process is gone.
    expect(readOwner(dir)?.pid).toBe(held.pid);
    const r = tryAcquireOwnerLock(dir, 'desktop app');
    expect(r.ok).toBe(true);
    expect(readOwner(dir)).toMatchObject({ pid: process.pid, transport: 'desktop app' });
    if (r.ok) r.lock.release();
  });

  it('lets exactly one of several processes racing for a stale lock win', async () => {
    fs.writeFileSync(ownerLockPath(dir), JSON.stringify({ pid: await deadPid(), since: '2026-01-01T00:00:00.000Z', transport: 'mkc serve', hostname: os.hostname() }));
    const racers = Array.from({ length: 4 }, (_, i) => contender(`racer ${i}`));
    const outcomes = await Promise.all(racers.map((r) => r.outcome));
    const winners = outcomes.filter((o) => o.ok);
    expect(winners).toHaveLength(1);
    for (const o of outcomes.filter((x) => !x.ok)) expect(o.owner?.pid).toBe(winners[0]!.pid);
    expect(readOwner(dir)?.pid).toBe(winners[0]!.pid);
  });

  it('releases the lock when the owning process exits normally', async () => {
    const holder = contender('mkc replicate');
    expect((await holder.outcome).ok).toBe(true);
    holder.child.stdin!.end();
    await exited(holder.child);
    expect(fs.existsSync(ownerLockPath(dir))).toBe(false);
  });

  it('takes over an unreadable lock file', () => {
    fs.writeFileSync(ownerLockPath(dir), 'garbage');
    const r = tryAcquireOwnerLock(dir, 'mkc serve');
    expect(r.ok).toBe(true);
    if (r.ok) r.lock.release();
  });

  it('never takes over a lock from another host, whose process it cannot check', async () => {
    fs.writeFileSync(ownerLockPath(dir), JSON.stringify({ pid: await deadPid(), since: '2026-01-01T00:00:00.000Z', transport: 'desktop app', hostname: 'other-host.invalid' }));
    expect(() => acquireOwnerLock(dir, 'mkc serve')).toThrow(/owned by desktop app \(pid \d+ on host other-host\.invalid, since 2026-01-01T00:00:00\.000Z\)/);
  });

  it('does not remove a lock another process took over after ours went stale', () => {
    const lock = acquireOwnerLock(dir, 'mkc serve');
    const theirs = { pid: 1, since: '2026-02-02T00:00:00.000Z', transport: 'desktop app', hostname: os.hostname() };
    fs.writeFileSync(ownerLockPath(dir), JSON.stringify(theirs));
    lock.release();
    expect(readOwner(dir)).toEqual(theirs);
  });
});
