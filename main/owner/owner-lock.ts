// The exclusive owner lock of a data directory: exactly one process (the desktop app, `mkc serve`, or
// an `mkc` command working in-process while nobody else owns the directory) runs the engine, the
// poller, the tunnels and the change-ID callback forwards. A second process that would do the same
// asks the owner over the control channel instead, or refuses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../shared/errors';

export const OWNER_LOCK_FILE_NAME = 'owner.lock';
const TAKEOVER_SUFFIX = '.takeover';

export interface OwnerInfo {
  pid: number;
  /** ISO time the owner took the lock. */
  since: string;
  /** Who owns it, in words an operator recognises: "desktop app", "mkc serve", "mkc replicate". */
  transport: string;
  hostname: string;
}

export interface OwnerLock {
  readonly info: OwnerInfo;
  readonly path: string;
  /** Removes the lock file if it is still ours (idempotent). */
  release(): void;
}

export type AcquireResult = { ok: true; lock: OwnerLock } | { ok: false; owner: OwnerInfo };

export function ownerLockPath(dataDir: string): string {
  return path.join(dataDir, OWNER_LOCK_FILE_NAME);
}

/** True while a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseInfo(text: string): OwnerInfo | null {
  try {
    const v = JSON.parse(text) as Partial<OwnerInfo>;
    if (typeof v.pid === 'number' && typeof v.since === 'string' && typeof v.transport === 'string' && typeof v.hostname === 'string') {
      return { pid: v.pid, since: v.since, transport: v.transport, hostname: v.hostname };
    }
  } catch {
    // fall through: an unreadable lock is treated as stale below
  }
  return null;
}

/** The current owner as the lock file names it, or null when there is no lock file. */
export function readOwner(dataDir: string): OwnerInfo | null {
  try {
    return parseInfo(fs.readFileSync(ownerLockPath(dataDir), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** A lock whose process is gone. A lock from another host cannot be checked, so it is never stale. */
function isStale(info: OwnerInfo | null): boolean {
  if (!info) return true;
  if (info.hostname !== os.hostname()) return false;
  return !pidAlive(info.pid);
}

/**
 * Creates `file` with `content` atomically: the content is written to a private temporary file and
 * hard-linked into place, so the link either fails with EEXIST or makes a complete file visible (a
 * reader never sees a half-written lock).
 */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function sameOwner(a: OwnerInfo | null, b: OwnerInfo | null): boolean {
  return Boolean(a && b && a.pid === b.pid && a.since === b.since && a.hostname === b.hostname);
}

/**
 * Takes the lock of `dataDir` or names who holds it. A lock left by a process that died (SIGKILL,
 * power loss) is taken over; two processes racing for a stale lock are serialised by a short-lived
 * takeover file so exactly one of them wins.
 */
export function tryAcquireOwnerLock(dataDir: string, transport: string): AcquireResult {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = ownerLockPath(dataDir);
  const info: OwnerInfo = { pid: process.pid, since: new Date().toISOString(), transport, hostname: os.hostname() };
  const content = `${JSON.stringify(info)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(file, content)) return { ok: true, lock: makeLock(file, info) };
    const holder = readOwner(dataDir);
    if (!isStale(holder)) return { ok: false, owner: holder! };
    // Stale: take it over under the takeover file, re-checking that it is still the same stale lock.
    const takeover = `${file}${TAKEOVER_SUFFIX}`;
    if (!createExclusive(takeover, content)) {
      const other = parseInfo(safeRead(takeover));
      if (isStale(other)) fs.rmSync(takeover, { force: true });
      continue;
    }
    try {
      const again = readOwner(dataDir);
      if ((again === null && holder === null) || sameOwner(again, holder)) fs.rmSync(file, { force: true });
      if (createExclusive(file, content)) return { ok: true, lock: makeLock(file, info) };
    } finally {
      fs.rmSync(takeover, { force: true });
    }
  }
  const holder = readOwner(dataDir);
  if (holder) return { ok: false, owner: holder };
  throw new AppError('conflict', `Could not take the owner lock ${file}; try again`);
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const exitReleasers = new Set<() => void>();
let exitHookInstalled = false;

function makeLock(file: string, info: OwnerInfo): OwnerLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    exitReleasers.delete(release);
    // Only our own lock is removed: after a takeover by someone else the file is theirs.
    if (sameOwner(parseInfo(safeRead(file)), info)) fs.rmSync(file, { force: true });
  };
  exitReleasers.add(release);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A normal exit (also process.exit) releases the lock; only a hard kill leaves it for takeover.
    process.once('exit', () => {
      for (const r of [...exitReleasers]) r();
    });
  }
  return { info, path: file, release };
}

export function describeOwner(dataDir: string, owner: OwnerInfo): string {
  const where = owner.hostname === os.hostname() ? '' : ` on host ${owner.hostname}`;
  return `${dataDir} is owned by ${owner.transport} (pid ${owner.pid}${where}, since ${owner.since})`;
}

/** Takes the lock or throws a conflict naming the owner. */
export function acquireOwnerLock(dataDir: string, transport: string): OwnerLock {
  const r = tryAcquireOwnerLock(dataDir, transport);
  if (r.ok) return r.lock;
  throw new AppError('conflict', `${describeOwner(dataDir, r.owner)}; only one process may own a data directory. Stop it first, or use \`mkc\` commands, which it serves.`, {
    owner: r.owner,
  });
}
