import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { VmContextRepository } from '../db/repositories/vm-contexts';
import { handleCallbackRequest } from '../ssh/callback-api';
import { twoDiskVm } from '../testing/two-disk-vm';
import { ChangeIdChannel } from './change-id-channel';
import { JobRepository } from './job-repository';

// The channel over a real database: what a forged or stale callback can and cannot do.
const BASE = '52 1a d2 3f 9e 8b 77 10-a1 b2 c3 d4 e5 f6 07 db/401';
const NEXT = '52 1a d2 3f 9e 8b 77 10-a1 b2 c3 d4 e5 f6 07 db/402';
const FORGED = '52 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00/999';

let dir: string;
let db: Db;
let contexts: VmContextRepository;
let jobs: JobRepository;
let channel: ChangeIdChannel;
let refused: string[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-channel-'));
  db = openDatabase(path.join(dir, 'db.sqlite3')).db;
  contexts = new VmContextRepository(db);
  jobs = new JobRepository(db);
  refused = [];
  channel = new ChangeIdChannel(db, jobs, { accepted: () => {}, refused: (_a, reason) => void refused.push(reason) });
  const now = new Date().toISOString();
  for (const id of ['vma-a', 'vma-b']) {
    db.prepare(`INSERT INTO appliances (id, kind, name, host, username, auth_method, created_at, updated_at) VALUES (?,'vma',?,'127.0.0.1','u','password',?,?)`).run(id, id, now, now);
  }
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A managed VM with a base change id on disk-2000, and a running job on `vma`. */
function runningJob(vma: string, vcenter: string): { jobId: string; token: string; path: string } {
  const ctx = contexts.add({ vm: twoDiskVm(), vcenterHost: vcenter, credentialId: null, vmaApplianceId: vma });
  db.prepare(`UPDATE vm_disks SET last_change_id = ? WHERE vm_context_id = ? AND disk_key = 'disk-2000'`).run(`${BASE.slice(0, -3)}${vcenter.length}01`, ctx.id);
  const job = jobs.claim({ contextId: ctx.id, trigger: 'ui' });
  jobs.update(job.id, { status: 'replicating' });
  return { jobId: job.id, token: channel.issue(job.id, vma), path: ctx.path };
}

const get = (token: string, vmPath: string, disk: string) => ({
  method: 'GET',
  url: `/${token}/api/v1/replications/changeid?vm_path=${encodeURIComponent(vmPath)}&disk_id=${disk}`,
  body: '',
});
const post = (token: string, jobId: string, body: Record<string, string>) => ({
  method: 'POST',
  url: `/${token}/api/v1/replications/${jobId}/changeid`,
  body: JSON.stringify(body),
});
const lastChangeId = (jobId: string, disk: string) => jobs.jobDisks(jobId).find((d) => d.diskKey === disk)!.changeId;

describe('ChangeIdChannel', () => {
  it('issues a URL-safe token of at least 128 bits and stores only its hash', () => {
    const { jobId, token } = runningJob('vma-a', 'vc1.test.invalid');
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const row = db.prepare(`SELECT * FROM callback_tokens WHERE job_id = ?`).get(jobId) as Record<string, string>;
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it('refuses forged reports: wrong token, another VMA, another job, another disk, a wrong previous id, a finished job', () => {
    const a = runningJob('vma-a', 'vc1.test.invalid');
    const b = runningJob('vma-b', 'vc2.test.invalid');
    const storeA = channel.storeFor('vma-a');
    const storeB = channel.storeFor('vma-b');
    const report = { change_id: FORGED, disk_id: 'disk-2000' };
    expect(handleCallbackRequest(storeA, post('x'.repeat(32), a.jobId, report)).status).toBe(404);
    // The right token through another VMA's tunnel.
    expect(handleCallbackRequest(storeB, post(a.token, a.jobId, report)).status).toBe(404);
    // One job's token for another job.
    expect(handleCallbackRequest(storeB, post(b.token, a.jobId, report)).status).toBe(404);
    expect(handleCallbackRequest(storeA, post(a.token, a.jobId, { change_id: FORGED, disk_id: 'disk-9999' })).status).toBe(404);
    expect(handleCallbackRequest(storeA, post(a.token, a.jobId, { ...report, previous_change_id: BASE })).status).toBe(409);
    expect(lastChangeId(a.jobId, 'disk-2000')).toBeNull();
    expect(refused.length).toBe(5);

    // The real report is accepted; after the job ends, a late one is refused and changes nothing.
    const base = jobs.jobDisks(a.jobId).find((d) => d.diskKey === 'disk-2000')!.previousChangeId!;
    expect(handleCallbackRequest(storeA, post(a.token, a.jobId, { change_id: NEXT, disk_id: 'disk-2000', previous_change_id: base })).status).toBe(200);
    expect(lastChangeId(a.jobId, 'disk-2000')).toBe(NEXT);
    jobs.finish(a.jobId, 'failed', 'test');
    expect(handleCallbackRequest(storeA, post(a.token, a.jobId, report)).status).toBe(404);
    expect(lastChangeId(a.jobId, 'disk-2000')).toBe(NEXT);
  });

  it('logs a malformed report (to the job when it carries that job\'s token) and stores nothing', () => {
    const a = runningJob('vma-a', 'vc1.test.invalid');
    const jobLog: Array<string | undefined> = [];
    const logged = new ChangeIdChannel(db, jobs, { accepted: () => {}, refused: (_a, reason, jobId) => void (refused.push(reason), jobLog.push(jobId)) });
    const store = logged.storeFor('vma-a');
    expect(handleCallbackRequest(store, post(a.token, a.jobId, { change_id: 'not-a-change-id', disk_id: 'disk-2000' })).status).toBe(400);
    expect(handleCallbackRequest(store, post('y'.repeat(32), a.jobId, { change_id: 'x'.repeat(300), disk_id: 'disk-2000' })).status).toBe(400);
    expect(refused).toEqual([
      'malformed change-ID report refused: change_id is not a VMware change id.',
      `malformed change-ID report for job ${JSON.stringify(a.jobId)} refused: change_id is not a VMware change id.`,
    ]);
    expect(jobLog).toEqual([a.jobId, undefined]);
    expect(lastChangeId(a.jobId, 'disk-2000')).toBeNull();
  });

  it('answers a lookup only with the token of that VM’s running job: two VMs with one path behind two VMAs keep their own ids', () => {
    const a = runningJob('vma-a', 'vc1.test.invalid');
    const b = runningJob('vma-b', 'vc22.test.invalid');
    expect(a.path).toBe(b.path);
    const answer = (store: ReturnType<ChangeIdChannel['storeFor']>, token: string) => {
      const r = handleCallbackRequest(store, get(token, a.path, 'disk-2000'));
      return r.status === 200 ? (JSON.parse(r.body) as { change_id: string }).change_id : r.status;
    };
    const baseA = jobs.jobDisks(a.jobId).find((d) => d.diskKey === 'disk-2000')!.previousChangeId;
    const baseB = jobs.jobDisks(b.jobId).find((d) => d.diskKey === 'disk-2000')!.previousChangeId;
    expect(baseA).not.toBe(baseB);
    expect(answer(channel.storeFor('vma-a'), a.token)).toBe(baseA);
    expect(answer(channel.storeFor('vma-b'), b.token)).toBe(baseB);
    expect(answer(channel.storeFor('vma-a'), b.token)).toBe(404);
    expect(answer(channel.storeFor('vma-a'), 'z'.repeat(32))).toBe(404);
    // A disk without a base is copied in full.
    expect(handleCallbackRequest(channel.storeFor('vma-a'), get(a.token, a.path, 'disk-2001')).body).toContain('"change_id":""');
  });
});
