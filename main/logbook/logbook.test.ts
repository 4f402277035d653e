import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { Logbook } from './logbook';
import { redact } from '../base/redact';
import { exportLog, writeLogExport } from './log-export';
import { MIGRATIONS } from '../db/migrations/index';
import { OPERATION_KINDS } from '../../shared/domain';

let dir: string;
let db: Db;
let log: Logbook;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-log-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  log = new Logbook(db);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('job log', () => {
  it('records VMA phases once per change as events of the job, read back with their times', () => {
    log.startOperation('job-p', 'replication', 'Initial sync of vm1', null);
    expect(log.recordPhase('job-p', 'Initializing')).toBe(true);
    expect(log.recordPhase('job-p', 'Initializing')).toBe(false);
    log.event('job-p', 'info', 'an unrelated event');
    expect(log.recordPhase('job-p', 'Transfer')).toBe(true);
    // Not a job in the log (an id that was never started): nothing is written.
    expect(log.recordPhase('job-missing', 'Transfer')).toBe(false);
    const events = log.events({ operationId: 'job-p' }).filter((e) => e.details?.vmaPhase);
    expect(events.map((e) => e.message)).toEqual(['VMA phase: Initializing', 'VMA phase: Transfer']);
    expect(log.phases('job-p')).toEqual(events.map((e) => ({ name: e.details!.vmaPhase, at: e.createdAt })));
    expect(log.phases('job-missing')).toEqual([]);
  });

  it('records operation → steps → events with timings and filters by level', () => {
    const seen: string[] = [];
    log.onEvent((e) => seen.push(e.message));
    log.startOperation('job-1', 'replication', 'Initial sync of vm1', null);
    const s = log.startStep('job-1', 'Provision volumes');
    log.event('job-1', 'info', 'created volume', undefined, s.id);
    log.event('job-1', 'warn', 'slow attach');
    const done = log.finishStep(s.id, 'completed');
    expect(done.status).toBe('completed');
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    log.startStep('job-1', 'Attach');
    log.closeOpenSteps('job-1', 'failed', 'attach failed');
    log.finishOperation('job-1', 'failed', 'attach failed');
    expect(log.steps('job-1').map((x) => [x.seq, x.name, x.status])).toEqual([
      [1, 'Provision volumes', 'completed'],
      [2, 'Attach', 'failed'],
    ]);
    expect(log.events({ operationId: 'job-1', level: 'warn' }).map((e) => e.message)).toEqual(['slow attach']);
    expect(seen).toEqual(['created volume', 'slow attach']);
    expect(log.operation('job-1')).toMatchObject({ status: 'failed', error: 'attach failed' });
    const file = exportLog(log, { operationId: 'job-1' });
    expect(file.content).toMatch(/step 2 Attach: failed .*\(attach failed\)/);
    expect(file.content).toMatch(/WARN {2}slow attach/);
  });

  it('never stores secret-looking details', () => {
    log.startOperation('job-2', 'replication', 't', null);
    log.event('job-2', 'info', 'request', { vcenter: 'vc', password: 'hunter2', nested: { apiKey: 'k', secretKey: 's', ok: 1 } });
    const raw = JSON.stringify(db.prepare('SELECT details_json FROM log_events').all());
    expect(raw).not.toContain('hunter2');
    expect(raw).not.toMatch(/"k"|"s"/);
    expect(redact({ privateKey: 'x', passphrase: 'y', token: 'z', host: 'h' })).toEqual({
      privateKey: '[redacted]',
      passphrase: '[redacted]',
      token: '[redacted]',
      host: 'h',
    });
  });

  it('records a one-shot action as one finished operation with one event, failed when it carries an error', () => {
    const seen: string[] = [];
    log.onEvent((e) => seen.push(`${e.level}:${e.message}`));
    const ok = log.record({ kind: 'credential', title: 'vCenter credential lab added' });
    const bad = log.record({ kind: 'appliance', title: 'Connecting to vma-1 failed', error: 'authentication refused' });
    expect(log.operation(ok)).toMatchObject({ kind: 'credential', status: 'completed', error: null });
    expect(log.operation(ok)!.completedAt).not.toBeNull();
    expect(log.operation(bad)).toMatchObject({ kind: 'appliance', status: 'failed', error: 'authentication refused' });
    expect(seen).toEqual(['info:vCenter credential lab added', 'error:Connecting to vma-1 failed: authentication refused']);
  });

  it('searches operations by text in title, id, error or any event message, literally', () => {
    log.startOperation('job-a', 'replication', 'Initial sync of web-01', null);
    log.event('job-a', 'info', 'volume vol-123 attached');
    log.finishOperation('job-a', 'completed');
    log.record({ kind: 'cloudstack', title: 'CloudStack configuration saved', message: 'zoneId z1 → z2' });
    log.record({ kind: 'appliance', title: 'Connecting to vma_2 failed', error: 'host key mismatch' });
    const titles = (text: string) => log.operations({ text }).map((o) => o.title).sort();
    expect(titles('WEB-01')).toEqual(['Initial sync of web-01']);
    expect(titles('vol-123')).toEqual(['Initial sync of web-01']);
    expect(titles('job-a')).toEqual(['Initial sync of web-01']);
    expect(titles('key mismatch')).toEqual(['Connecting to vma_2 failed']);
    expect(titles('z1 → z2')).toEqual(['CloudStack configuration saved']);
    // LIKE wildcards typed by the operator match themselves only.
    expect(titles('vma_2')).toEqual(['Connecting to vma_2 failed']);
    expect(titles('%')).toEqual([]);
    expect(titles('vma%2')).toEqual([]);
    expect(log.operations({ text: '   ' })).toHaveLength(3);
  });

  it('filters operations by a date range on their start, from inclusive and to exclusive', () => {
    const at = (id: string, iso: string) => {
      log.startOperation(id, 'discovery', id, null);
      db.prepare('UPDATE log_operations SET started_at = ? WHERE id = ?').run(iso, id);
    };
    at('d1', '2026-03-01T08:00:00.000Z');
    at('d2', '2026-03-02T08:00:00.000Z');
    at('d3', '2026-03-03T08:00:00.000Z');
    const ids = (f: { from?: string; to?: string; text?: string }) => log.operations(f).map((o) => o.id);
    expect(ids({ from: '2026-03-02T00:00:00.000Z' })).toEqual(['d3', 'd2']);
    expect(ids({ to: '2026-03-02T08:00:00.000Z' })).toEqual(['d1']);
    expect(ids({ from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z' })).toEqual(['d2']);
    expect(ids({ from: '2026-03-01T00:00:00.000Z', text: 'd3' })).toEqual(['d3']);
    // The export takes the same search and writes an owner-only file into the data directory.
    const written = writeLogExport(log, dir, { from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z' });
    expect(written.path).toBe(path.join(dir, 'exports', written.filename));
    const text = fs.readFileSync(written.path, 'utf8');
    expect(text).toBe(written.content);
    expect(text).toContain('== d2 ');
    expect(text).not.toContain('== d1 ');
    expect(text).not.toContain('== d3 ');
    if (process.platform !== 'win32') expect(fs.statSync(written.path).mode & 0o777).toBe(0o600);
  });
});

describe('migration 010', () => {
  it('keeps every operation, step and event of an older log and accepts the new kinds', () => {
    const file = path.join(dir, 'old.sqlite3');
    const old = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version < 10) }).db;
    const oldLog = new Logbook(old);
    oldLog.startOperation('job-old', 'replication', 'Initial sync of old-vm', null);
    const step = oldLog.startStep('job-old', 'Provision volumes');
    oldLog.event('job-old', 'info', 'created volume', { size: 1 }, step.id);
    oldLog.finishStep(step.id, 'completed');
    oldLog.finishOperation('job-old', 'completed');
    expect(() => old.prepare(`INSERT INTO log_operations (id, kind, status, title, started_at) VALUES ('x','inventory','completed','t','2026-01-01')`).run()).toThrow(/CHECK/);
    old.close();
    const { db: next, migration } = openDatabase(file);
    expect(migration.applied).toContain(10);
    const nextLog = new Logbook(next);
    expect(nextLog.operation('job-old')).toMatchObject({ status: 'completed', title: 'Initial sync of old-vm' });
    expect(nextLog.steps('job-old')).toMatchObject([{ id: step.id, name: 'Provision volumes', status: 'completed' }]);
    expect(nextLog.events({ operationId: 'job-old' })).toMatchObject([{ message: 'created volume', stepId: step.id, details: { size: 1 } }]);
    for (const kind of OPERATION_KINDS) expect(nextLog.operation(nextLog.record({ kind, title: kind }))?.kind).toBe(kind);
    // The children still cascade with their operation.
    next.prepare(`DELETE FROM log_operations WHERE id = 'job-old'`).run();
    expect(next.prepare('SELECT COUNT(*) AS n FROM log_steps').get()).toEqual({ n: 0 });
    next.close();
  });
});
