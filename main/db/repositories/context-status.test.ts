import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../database';
import { VmContextRepository } from './vm-contexts';
import { writeContextStatus } from './context-status';
import { twoDiskVm } from '../../testing/two-disk-vm';
import { AppError } from '../../../shared/errors';

let dir: string;
let db: Db;
let contextId: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-ctx-status-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  contextId = new VmContextRepository(db).add({ vm: twoDiskVm(), vcenterHost: 'vc.test.invalid', credentialId: null, vmaApplianceId: null }).id;
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const stored = () => (db.prepare(`SELECT current_status, updated_at FROM vm_contexts WHERE id = ?`).get(contextId) as { current_status: string; updated_at: string });

describe('writeContextStatus: the one writer of a VM context status', () => {
  it('moves along allowed transitions and says what changed', () => {
    expect(writeContextStatus(db, contextId, 'replicating')).toEqual({ from: 'discovered', to: 'replicating', changed: true });
    expect(writeContextStatus(db, contextId, 'ready_for_failover')).toEqual({ from: 'replicating', to: 'ready_for_failover', changed: true });
    expect(stored().current_status).toBe('ready_for_failover');
    // Staying put is allowed and writes nothing.
    const before = stored().updated_at;
    expect(writeContextStatus(db, contextId, 'ready_for_failover')).toEqual({ from: 'ready_for_failover', to: 'ready_for_failover', changed: false });
    expect(stored().updated_at).toBe(before);
  });

  it('refuses an illegal move with a conflict naming the VM, both states and the allowed ones; nothing is written', () => {
    const err = (() => {
      try {
        writeContextStatus(db, contextId, 'failed_over_live');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('conflict');
    expect((err as AppError).message).toBe(`${twoDiskVm().name} cannot go from discovered to failed_over_live (from discovered it can go to: replicating, failed, cleanup_required)`);
    expect(stored().current_status).toBe('discovered');
  });

  it('an unknown context is not_found', () => {
    expect(() => writeContextStatus(db, 'ctx-missing', 'replicating')).toThrow(expect.objectContaining({ code: 'not_found' }));
  });
});

// The column has one writer: no other module may contain an UPDATE of vm_contexts that sets
// current_status (the failover, engine and scheduler code included).
const ROOT = path.resolve(__dirname, '../../..');
const UPDATE_SETTING_STATUS = /UPDATE\s+vm_contexts\s+SET\s+((?:(?!\bWHERE\b)[^`])*)/gi;

function sourceFiles(dirPath: string): string[] {
  return fs.readdirSync(dirPath, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dirPath, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

function statusWriters(text: string): number {
  return [...text.matchAll(UPDATE_SETTING_STATUS)].filter((m) => /\bcurrent_status\s*=/.test(m[1]!)).length;
}

describe('no other writer of vm_contexts.current_status', () => {
  it('the pattern finds the writer itself (so the check below can fail)', () => {
    expect(statusWriters(fs.readFileSync(path.join(__dirname, 'context-status.ts'), 'utf8'))).toBe(1);
    expect(statusWriters('db.prepare(`UPDATE vm_contexts SET current_job_id = NULL, current_status = ?, updated_at = ? WHERE id = ?`)')).toBe(1);
    expect(statusWriters('db.prepare(`UPDATE vm_contexts SET last_error = ? WHERE current_status = ?`)')).toBe(0);
  });

  it('only main/db/repositories/context-status.ts writes the column', () => {
    const writers = ['main', 'shared'].flatMap((d) => sourceFiles(path.join(ROOT, d))).filter((f) => statusWriters(fs.readFileSync(f, 'utf8')) > 0);
    expect(writers.map((f) => path.relative(ROOT, f))).toEqual(['main/db/repositories/context-status.ts']);
  });
});
