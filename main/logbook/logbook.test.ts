import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { Logbook } from './logbook';
import { redact } from '../base/redact';
import { exportLog } from './log-export';

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
});
