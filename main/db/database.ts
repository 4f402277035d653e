import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { MIGRATIONS, type Migration } from './migrations/index';

export type Db = Database.Database;

export interface OpenOptions {
  /** Override the migration list (tests exercise upgrades with it). */
  migrations?: readonly Migration[];
  /** Clock for backup file names. */
  now?: () => Date;
}

export interface MigrationReport {
  from: number;
  to: number;
  applied: number[];
  backupPath: string | null;
}

export const DB_FILE_NAME = 'console.sqlite3';
/** Database, WAL, shared memory and backups: owner-only (they hold hosts, users and job history). */
export const DB_FILE_MODE = 0o600;
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Creates the file empty with mode 0600 before SQLite does, or tightens an existing one. SQLite gives
 * the WAL and shared-memory files the database file's mode, so they follow; ones left by earlier
 * versions are fixed here too.
 */
function ownerOnly(file: string): void {
  if (process.platform === 'win32') return;
  fs.closeSync(fs.openSync(file, 'a', DB_FILE_MODE));
  fs.chmodSync(file, DB_FILE_MODE);
}

export function openDatabase(file: string, options: OpenOptions = {}): { db: Db; migration: MigrationReport } {
  const migrations = options.migrations ?? MIGRATIONS;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  ownerOnly(file);
  for (const suffix of SIDE_FILES) if (fs.existsSync(file + suffix)) ownerOnly(file + suffix);
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    const migration = migrate(db, file, migrations, options.now ?? (() => new Date()));
    reuseStatements(db);
    return { db, migration };
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Makes db.prepare return the same compiled statement for the same SQL text. Repositories prepare
 * their SQL at each call; compiling it again each time was the largest single cost of the progress
 * poller (a quarter of a core for 1,000 running jobs, measured by `npm run bench -- poller`).
 * Statements here are only run to completion (run/get/all, never iterate), so sharing one is safe;
 * SQLite re-prepares a cached statement itself after a schema change. The cache is bounded because
 * some SQL is built per call (UPDATE … SET with the changed columns only).
 */
function reuseStatements(db: Db, max = 512): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(sql, statement);
    }
    return statement;
  }) as Db['prepare'];
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, file: string, migrations: readonly Migration[], now: () => Date): MigrationReport {
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const current = schemaVersion(db);
  if (current > latest) {
    throw new AppError(
      'unsupported_database',
      `The database ${file} was written by a newer MigrateKit Console (schema ${current}; this version understands up to ${latest}). Install the newer version or point --data-dir elsewhere; nothing was changed.`,
      { schemaVersion: current, supported: latest },
    );
  }
  const pending = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  if (pending.length === 0) return { from: current, to: current, applied: [], backupPath: null };

  // A brand-new file has nothing to lose; an existing schema is copied before it is touched.
  let backupPath: string | null = null;
  if (current > 0) {
    const stamp = now().toISOString().replace(/[:.]/g, '-');
    backupPath = `${file}.v${current}.${stamp}.bak`;
    // VACUUM INTO accepts an existing empty file and keeps its mode.
    ownerOnly(backupPath);
    db.prepare('VACUUM INTO ?').run(backupPath);
  }
  const apply = db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  });
  apply();
  const violations = db.pragma('foreign_key_check') as unknown[];
  if (violations.length > 0) {
    throw new AppError('internal', `Migration left ${violations.length} foreign key violation(s)`);
  }
  return { from: current, to: latest, applied: pending.map((m) => m.version), backupPath };
}
