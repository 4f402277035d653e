import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, schemaVersion } from './database';
import { MIGRATIONS } from './migrations/index';
import {
  EXECUTION_STATUSES,
  FAILOVER_STATUSES,
  JOB_STATUSES,
  JOB_TYPES,
  LOG_LEVELS,
  OPERATION_STATUSES,
  STEP_STATUSES,
  VM_CONTEXT_STATUSES,
} from '../../shared/domain';
import { AppError } from '../../shared/errors';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-db-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = () => path.join(dir, 'c.sqlite3');
const now = '2026-01-01T00:00:00.000Z';

describe('openDatabase', () => {
  it('creates a fresh database at the latest schema with WAL, foreign keys and busy timeout', () => {
    const { db, migration } = openDatabase(file());
    expect(migration).toEqual({ from: 0, to: MIGRATIONS.at(-1)!.version, applied: MIGRATIONS.map((m) => m.version), backupPath: null });
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type='table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    for (const t of ['vm_contexts', 'replication_jobs', 'vm_disks', 'cloudstack_volumes', 'nbd_exports', 'cbt_history', 'schedules',
      'machine_groups', 'group_memberships', 'schedule_executions', 'failover_jobs', 'log_operations', 'log_steps', 'log_events',
      'appliances', 'cloudstack_configs', 'vcenter_credentials', 'network_mappings', 'polled_jobs', 'job_disks']) {
      expect(tables).toContain(t);
    }
    db.close();
  });

  it('is a no-op on reopen and takes no backup', () => {
    openDatabase(file()).db.close();
    const { db, migration } = openDatabase(file());
    expect(migration.applied).toEqual([]);
    expect(migration.backupPath).toBeNull();
    db.close();
  });

  it('upgrades an older database in one transaction after taking a backup copy', () => {
    const first = openDatabase(file(), { migrations: MIGRATIONS.slice(0, 1) });
    first.db.prepare(`INSERT INTO settings (key, value_json) VALUES ('k', '"v1"')`).run();
    first.db.close();
    const v2 = { version: 2, name: 'test column', sql: `ALTER TABLE settings ADD COLUMN note TEXT; UPDATE settings SET note = 'migrated';` };
    const { db, migration } = openDatabase(file(), { migrations: [...MIGRATIONS.slice(0, 1), v2], now: () => new Date(now) });
    expect(migration.from).toBe(1);
    expect(migration.applied).toEqual([2]);
    expect(migration.backupPath).toMatch(/\.v1\.2026-01-01T00-00-00-000Z\.bak$/);
    expect(db.prepare(`SELECT note FROM settings`).get()).toEqual({ note: 'migrated' });
    db.close();
    // The backup is a working database at the old schema with the old data.
    const { db: backup } = openDatabase(migration.backupPath!, { migrations: MIGRATIONS.slice(0, 1) });
    expect(schemaVersion(backup)).toBe(1);
    expect(backup.prepare(`SELECT value_json FROM settings WHERE key='k'`).get()).toEqual({ value_json: '"v1"' });
    backup.close();
  });

  it('rolls back every pending migration when one fails, leaving the old version', () => {
    openDatabase(file(), { migrations: MIGRATIONS.slice(0, 1) }).db.close();
    const good = { version: 2, name: 'ok', sql: `CREATE TABLE extra (x INTEGER);` };
    const bad = { version: 3, name: 'broken', sql: `CREATE TABLE nope (;` };
    expect(() => openDatabase(file(), { migrations: [...MIGRATIONS.slice(0, 1), good, bad] })).toThrow();
    const { db } = openDatabase(file(), { migrations: MIGRATIONS.slice(0, 1) });
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare(`SELECT COUNT(*) n FROM sqlite_master WHERE name='extra'`).get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a database written by a newer version with a typed error and changes nothing', () => {
    const { db } = openDatabase(file());
    db.pragma('user_version = 99');
    db.close();
    const before = fs.readFileSync(file());
    let error: unknown;
    try {
      openDatabase(file());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('unsupported_database');
    expect((error as AppError).message).toMatch(/newer MigrateKit Console \(schema 99/);
    expect(fs.readFileSync(file()).equals(before)).toBe(true);
  });
});

describe('schema constraints match the TypeScript unions', () => {
  const ctx = (db: ReturnType<typeof openDatabase>['db'], id: string, status = 'discovered') =>
    db
      .prepare(`INSERT INTO vm_contexts (id, vmware_vm_id, vcenter_host, name, path, current_status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)`)
      .run(id, `vm-${id}`, 'vc', id, `/dc/vm/${id}`, status, now, now);

  it('accepts every VM context status and refuses anything else', () => {
    const { db } = openDatabase(file());
    VM_CONTEXT_STATUSES.forEach((s, i) => expect(() => ctx(db, `c${i}`, s)).not.toThrow());
    expect(() => ctx(db, 'bad', 'completed')).toThrow(/CHECK constraint/);
    db.close();
  });

  it('accepts every job status and type; terminal statuses need completed_at', () => {
    const { db } = openDatabase(file());
    const job = db.prepare(
      `INSERT INTO replication_jobs (id, vm_context_id, job_type, status, vm_path, trigger, created_at, updated_at, completed_at) VALUES (?,?,?,?,?,?,?,?,?)`,
    );
    JOB_STATUSES.forEach((s, i) => {
      ctx(db, `j${i}`);
      const terminal = ['completed', 'failed', 'cancelled'].includes(s);
      expect(() => job.run(`job-${i}`, `j${i}`, JOB_TYPES[i % 2], s, '/p', 'ui', now, now, terminal ? now : null)).not.toThrow();
    });
    ctx(db, 'x');
    expect(() => job.run('job-x', 'x', 'initial', 'replicating', '/p', 'ui', now, now, now)).toThrow(/CHECK/);
    expect(() => job.run('job-y', 'x', 'initial', 'completed', '/p', 'ui', now, now, null)).toThrow(/CHECK/);
    expect(() => job.run('job-z', 'x', 'initial', 'done', '/p', 'ui', now, now, null)).toThrow(/CHECK/);
    expect(() => job.run('job-w', 'x', 'full', 'pending', '/p', 'ui', now, now, null)).toThrow(/CHECK/);
    db.close();
  });

  it('allows one active job per VM context at most', () => {
    const { db } = openDatabase(file());
    ctx(db, 'one');
    const job = db.prepare(`INSERT INTO replication_jobs (id, vm_context_id, job_type, status, vm_path, trigger, created_at, updated_at, completed_at) VALUES (?,?,?,?,?,?,?,?,?)`);
    job.run('job-a', 'one', 'initial', 'replicating', '/p', 'ui', now, now, null);
    expect(() => job.run('job-b', 'one', 'initial', 'pending', '/p', 'ui', now, now, null)).toThrow(/UNIQUE/);
    job.run('job-c', 'one', 'initial', 'failed', '/p', 'ui', now, now, now);
    db.close();
  });

  it('checks failover, execution, step, operation and log level statuses', () => {
    const { db } = openDatabase(file());
    ctx(db, 'f');
    FAILOVER_STATUSES.forEach((s, i) =>
      db.prepare(`INSERT INTO failover_jobs (id, vm_context_id, failover_type, status, created_at) VALUES (?,?,?,?,?)`).run(`fo${i}`, 'f', 'test', s, now),
    );
    expect(() => db.prepare(`INSERT INTO failover_jobs (id, vm_context_id, failover_type, status, created_at) VALUES ('x','f','test','done',?)`).run(now)).toThrow(/CHECK/);
    db.prepare(`INSERT INTO schedules (id, name, cron_expression, created_at, updated_at) VALUES ('s','s','0 * * * *',?,?)`).run(now, now);
    EXECUTION_STATUSES.forEach((s, i) =>
      db.prepare(`INSERT INTO schedule_executions (id, schedule_id, status, trigger, scheduled_for, started_at) VALUES (?,?,?,?,?,?)`).run(`e${i}`, 's', s, 'cron', now, now),
    );
    expect(() => db.prepare(`INSERT INTO schedule_executions (id, schedule_id, status, trigger, scheduled_for, started_at) VALUES ('ex','s','done','cron',?,?)`).run(now, now)).toThrow(/CHECK/);
    OPERATION_STATUSES.forEach((s, i) =>
      db.prepare(`INSERT INTO log_operations (id, kind, status, title, started_at) VALUES (?,?,?,?,?)`).run(`op${i}`, 'replication', s, 't', now),
    );
    STEP_STATUSES.forEach((s, i) => db.prepare(`INSERT INTO log_steps (operation_id, seq, name, status) VALUES ('op0',?,?,?)`).run(i, 'n', s));
    LOG_LEVELS.forEach((l) => db.prepare(`INSERT INTO log_events (operation_id, level, message, created_at) VALUES ('op0',?,?,?)`).run(l, 'm', now));
    expect(() => db.prepare(`INSERT INTO log_events (operation_id, level, message, created_at) VALUES ('op0','fatal','m',?)`).run(now)).toThrow(/CHECK/);
    db.close();
  });

  it('keeps disk identity unique per context and VMware disk key, and cascades on context delete', () => {
    const { db } = openDatabase(file());
    ctx(db, 'd');
    const disk = db.prepare(`INSERT INTO vm_disks (vm_context_id, disk_key, capacity_bytes, created_at, updated_at) VALUES (?,?,?,?,?)`);
    disk.run('d', 'disk-2000', 10, now, now);
    expect(() => disk.run('d', 'disk-2000', 10, now, now)).toThrow(/UNIQUE/);
    disk.run('d', 'disk-2001', 10, now, now);
    db.prepare(`DELETE FROM vm_contexts WHERE id = 'd'`).run();
    expect(db.prepare(`SELECT COUNT(*) n FROM vm_disks`).get()).toEqual({ n: 0 });
    db.close();
  });

  it('clears current_job_id when a job row is deleted (ON DELETE SET NULL)', () => {
    const { db } = openDatabase(file());
    ctx(db, 'k');
    db.prepare(`INSERT INTO replication_jobs (id, vm_context_id, job_type, status, vm_path, trigger, created_at, updated_at, completed_at) VALUES ('jk','k','initial','failed','/p','ui',?,?,?)`).run(now, now, now);
    db.prepare(`UPDATE vm_contexts SET current_job_id = 'jk', last_successful_job_id = 'jk' WHERE id = 'k'`).run();
    db.prepare(`DELETE FROM replication_jobs WHERE id = 'jk'`).run();
    expect(db.prepare(`SELECT current_job_id, last_successful_job_id FROM vm_contexts WHERE id='k'`).get()).toEqual({ current_job_id: null, last_successful_job_id: null });
    db.close();
  });
});
