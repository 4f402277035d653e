import { describe, expect, it } from 'vitest';
import { handleCallbackRequest, type ChangeIdStore } from './callback-api';

/** A small store that follows the ChangeIdStore contract (empty ids never overwrite good ones). */
function memoryStore() {
  const byDisk = new Map<string, string | null>(); // `${vmPath}|${diskKey}` -> change id
  const jobs = new Map<string, { vmPath: string; disks: Set<string> }>();
  const calls: Array<{ jobId: string; diskKey: string; changeId: string; previousChangeId: string | undefined }> = [];
  const store: ChangeIdStore = {
    lookup(token, vmPath, diskKey) {
      if (token !== TOKEN) return null;
      const key = `${vmPath}|${diskKey}`;
      return byDisk.has(key) ? { changeId: byDisk.get(key) ?? null } : null;
    },
    record(token, jobId, diskKey, changeId, previousChangeId) {
      if (token !== TOKEN) return 'unknown_job';
      calls.push({ jobId, diskKey, changeId, previousChangeId });
      const job = jobs.get(jobId);
      if (job === undefined) return 'unknown_job';
      if (!job.disks.has(diskKey)) return 'unknown_disk';
      if (changeId === '') return 'ignored_empty';
      byDisk.set(`${job.vmPath}|${diskKey}`, changeId);
      return 'recorded';
    },
  };
  const addVm = (vmPath: string, jobId: string, disks: Record<string, string | null>) => {
    for (const [disk, id] of Object.entries(disks)) byDisk.set(`${vmPath}|${disk}`, id);
    jobs.set(jobId, { vmPath, disks: new Set(Object.keys(disks)) });
  };
  return { store, calls, addVm };
}

const VM = '/DC1/vm/folder/web 01';
const TOKEN = 'Zm9yLXRlc3RzLW9ubHktbm90LWEtc2VjcmV0';
const ID_2000 = '52 1a d2 3f 9e 8b 77 10-a1 b2 c3 d4 e5 f6 07 db/401';
const ID_2001 = '52 99 00 11 22 33 44 55-66 77 88 99 aa bb cc dd/77';

const get = (vmPath: string | null, diskId: string | null) => {
  const query = new URLSearchParams();
  if (vmPath !== null) query.set('vm_path', vmPath);
  if (diskId !== null) query.set('disk_id', diskId);
  return { method: 'GET', url: `/${TOKEN}/api/v1/replications/changeid?${query.toString()}`, body: '' };
};
const post = (jobId: string, body: unknown) => ({
  method: 'POST',
  url: `/${TOKEN}/api/v1/replications/${encodeURIComponent(jobId)}/changeid`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('GET /api/v1/replications/changeid', () => {
  it('returns the change id of exactly the requested disk', () => {
    const { store, addVm } = memoryStore();
    addVm(VM, 'job-1', { 'disk-2000': ID_2000, 'disk-2001': ID_2001 });
    const first = handleCallbackRequest(store, get(VM, 'disk-2000'));
    const second = handleCallbackRequest(store, get(VM, 'disk-2001'));
    expect(first.status).toBe(200);
    expect(first.contentType).toBe('application/json');
    expect(JSON.parse(first.body)).toMatchObject({ vm_path: VM, disk_id: 'disk-2000', change_id: ID_2000 });
    expect(JSON.parse(second.body)).toMatchObject({ disk_id: 'disk-2001', change_id: ID_2001 });
    expect(typeof JSON.parse(first.body).message).toBe('string');
  });

  it('returns an empty change id (full copy) for a known disk without one', () => {
    const { store, addVm } = memoryStore();
    addVm(VM, 'job-1', { 'disk-2000': null });
    const response = handleCallbackRequest(store, get(VM, 'disk-2000'));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      vm_path: VM,
      disk_id: 'disk-2000',
      change_id: '',
      message: expect.stringContaining('full copy'),
    });
  });

  it('answers 404 plain text for an unknown disk or VM', () => {
    const { store, addVm } = memoryStore();
    addVm(VM, 'job-1', { 'disk-2000': ID_2000 });
    for (const response of [handleCallbackRequest(store, get(VM, 'disk-2001')), handleCallbackRequest(store, get('/DC1/vm/other', 'disk-2000'))]) {
      expect(response.status).toBe(404);
      expect(response.contentType).toMatch(/^text\/plain/);
      expect(response.body.endsWith('\n')).toBe(true);
    }
  });

  it('answers 400 for missing or malformed parameters', () => {
    const { store } = memoryStore();
    expect(handleCallbackRequest(store, get(null, 'disk-2000'))).toMatchObject({ status: 400, body: expect.stringContaining('vm_path') });
    expect(handleCallbackRequest(store, get(VM, null))).toMatchObject({ status: 400, body: expect.stringContaining('disk_id') });
    expect(handleCallbackRequest(store, get(VM, '2000'))).toMatchObject({ status: 400, body: expect.stringContaining('disk-2000') });
  });
});

describe('POST /api/v1/replications/{job_id}/changeid', () => {
  it('records a change id and echoes it', () => {
    const { store, addVm, calls } = memoryStore();
    addVm(VM, 'job-20250101-120000.000-abcdef', { 'disk-2000': null });
    const response = handleCallbackRequest(
      store,
      post('job-20250101-120000.000-abcdef', { change_id: ID_2000, disk_id: 'disk-2000', previous_change_id: '' }),
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ job_id: 'job-20250101-120000.000-abcdef', disk_id: 'disk-2000', change_id: ID_2000 });
    expect(calls).toEqual([{ jobId: 'job-20250101-120000.000-abcdef', diskKey: 'disk-2000', changeId: ID_2000, previousChangeId: '' }]);
    expect(JSON.parse(handleCallbackRequest(store, get(VM, 'disk-2000')).body).change_id).toBe(ID_2000);
  });

  it('passes an empty change id through to the store, which keeps the good one', () => {
    const { store, addVm, calls } = memoryStore();
    addVm(VM, 'job-1', { 'disk-2000': ID_2000 });
    const response = handleCallbackRequest(store, post('job-1', { change_id: '', disk_id: 'disk-2000' }));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).message).toMatch(/ignored/i);
    expect(calls).toEqual([{ jobId: 'job-1', diskKey: 'disk-2000', changeId: '', previousChangeId: undefined }]);
    expect(JSON.parse(handleCallbackRequest(store, get(VM, 'disk-2000')).body).change_id).toBe(ID_2000);
  });

  it('answers 404 plain text for an unknown job or disk', () => {
    const { store, addVm } = memoryStore();
    addVm(VM, 'job-1', { 'disk-2000': null });
    const unknownJob = handleCallbackRequest(store, post('job-2', { change_id: ID_2000, disk_id: 'disk-2000' }));
    const unknownDisk = handleCallbackRequest(store, post('job-1', { change_id: ID_2000, disk_id: 'disk-2001' }));
    expect(unknownJob).toMatchObject({ status: 404, contentType: expect.stringMatching(/^text\/plain/), body: expect.stringContaining('job-2') });
    expect(unknownDisk).toMatchObject({ status: 404, body: expect.stringContaining('disk-2001') });
  });

  it('answers 400 for bad JSON and missing or mistyped fields, without touching the store', () => {
    const { store, addVm, calls } = memoryStore();
    addVm(VM, 'job-1', { 'disk-2000': null });
    const cases: Array<[unknown, RegExp]> = [
      ['{"change_id": ', /not valid JSON/],
      ['[1,2]', /JSON object/],
      [{ disk_id: 'disk-2000' }, /change_id is required/],
      [{ change_id: ID_2000 }, /disk_id is required/],
      [{ change_id: 42, disk_id: 'disk-2000' }, /change_id must be a string/],
      [{ change_id: ID_2000, disk_id: 'scsi0:0' }, /disk_id must be/],
      [{ change_id: ID_2000, disk_id: 'disk-2000', previous_change_id: 7 }, /previous_change_id/],
    ];
    for (const [body, message] of cases) {
      const response = handleCallbackRequest(store, post('job-1', body));
      expect(response.status, String(body)).toBe(400);
      expect(response.body).toMatch(message);
      expect(response.contentType).toMatch(/^text\/plain/);
    }
    expect(calls).toEqual([]);
  });
});

describe('routing', () => {
  it('rejects unknown paths and wrong methods', () => {
    const { store } = memoryStore();
    expect(handleCallbackRequest(store, { method: 'GET', url: '/api/v1/health', body: '' }).status).toBe(404);
    expect(handleCallbackRequest(store, { method: 'POST', url: `/${TOKEN}/api/v1/replications/changeid`, body: '{}' }).status).toBe(405);
    expect(handleCallbackRequest(store, { method: 'GET', url: `/${TOKEN}/api/v1/replications/job-1/changeid`, body: '' }).status).toBe(405);
  });

  it('turns a store failure into a 500 without leaking its message', () => {
    const errors: unknown[] = [];
    const failing: ChangeIdStore = {
      lookup: () => {
        throw new Error('database is locked at /secret/path');
      },
      record: () => 'recorded',
    };
    const response = handleCallbackRequest(failing, get(VM, 'disk-2000'), (e) => errors.push(e));
    expect(response.status).toBe(500);
    expect(response.body).not.toContain('/secret/path');
    expect(errors).toHaveLength(1);
  });
});

describe('the token and the change id format', () => {
  it('answers nothing without the token of a running job, and never echoes the path', () => {
    const { store, addVm, calls } = memoryStore();
    addVm(VM, 'job-1', { 'disk-2000': ID_2000 });
    const query = `vm_path=${encodeURIComponent(VM)}&disk_id=disk-2000`;
    for (const url of [`/api/v1/replications/changeid?${query}`, `/${'x'.repeat(30)}/api/v1/replications/changeid?${query}`]) {
      const r = handleCallbackRequest(store, { method: 'GET', url, body: '' });
      expect(r.status).toBe(404);
      expect(r.body).not.toContain(ID_2000);
    }
    const noToken = handleCallbackRequest(store, { method: 'POST', url: '/api/v1/replications/job-1/changeid', body: JSON.stringify({ change_id: ID_2001, disk_id: 'disk-2000' }) });
    expect(noToken.status).toBe(404);
    expect(noToken.body).not.toContain('api/v1');
    const wrong = handleCallbackRequest(store, {
      method: 'POST',
      url: `/${'y'.repeat(30)}/api/v1/replications/job-1/changeid`,
      body: JSON.stringify({ change_id: ID_2001, disk_id: 'disk-2000' }),
    });
    expect(wrong.status).toBe(404);
    expect(calls).toEqual([]);
  });

  it('refuses a change id that does not look like one, before the store sees it', () => {
    const { store, addVm, calls } = memoryStore();
    addVm(VM, 'job-1', { 'disk-2000': ID_2000 });
    for (const bad of ['forged', 'ab/1', `${ID_2001}; DROP`, `${'aa '.repeat(100)}aa/1`, '52 1a/']) {
      const r = handleCallbackRequest(store, post('job-1', { change_id: bad, disk_id: 'disk-2000' }));
      expect(r.status, bad).toBe(400);
    }
    expect(calls).toEqual([]);
    expect(handleCallbackRequest(store, post('job-1', { change_id: ID_2001, disk_id: 'disk-2000' })).status).toBe(200);
  });
});
