import { describe, expect, it } from 'vitest';
import { handleResume, type ResumeDeps } from './resume';

function deps(over: Partial<ResumeDeps> = {}) {
  const jobLog: { jobId: string; level: string; message: string }[] = [];
  const appLog: string[] = [];
  const order: string[] = [];
  const d: ResumeDeps = {
    activeJobIds: () => ['job-1', 'job-2'],
    appliancesToReconnect: () => [{ id: 'vma-1', name: 'VMA east' }],
    reconnect: async (id) => {
      order.push(`reconnect:${id}`);
      return { ok: true, detail: 'ready' };
    },
    reconcile: async () => {
      order.push('reconcile');
      return { resumed: 2, failed: 0 };
    },
    catchUp: async () => {
      order.push('catch-up');
      return null;
    },
    logJob: (jobId, level, message) => jobLog.push({ jobId, level, message }),
    logApp: (m) => appLog.push(m),
    ...over,
  };
  return { d, jobLog, appLog, order };
}

const from = new Date('2026-12-01T22:00:00Z');
const to = new Date('2026-12-01T23:12:00Z');

describe('handleResume', () => {
  it('reconnects tunnels before reconciling, then records the sleep and the actions in every running job log', async () => {
    const h = deps();
    const r = await handleResume(h.d, from, to);
    expect(h.order).toEqual(['reconnect:vma-1', 'reconcile', 'catch-up']);
    expect(h.jobLog.map((e) => e.jobId)).toEqual(['job-1', 'job-2']);
    expect(h.jobLog[0]).toMatchObject({ level: 'info' });
    expect(h.jobLog[0]!.message).toBe(
      'The computer slept for 72 min (2026-12-01T22:00:00.000Z to 2026-12-01T23:12:00.000Z); on resume tunnels: VMA east reconnected; ' +
        'jobs reconciled with the VMA: 2 polled again, 0 failed.',
    );
    expect(r.reconciled).toEqual({ resumed: 2, failed: 0 });
    expect(h.appLog).toEqual(['resumed from sleep']);
  });

  it('records a tunnel that did not come back and a failed reconcile as warnings, and still finishes', async () => {
    const h = deps({
      reconnect: async () => {
        throw new Error('host unreachable');
      },
      reconcile: async () => {
        throw new Error('database locked');
      },
      catchUp: async () => 'schedules: 1 missed run started (run_once)',
    });
    const r = await handleResume(h.d, null, to);
    expect(r.tunnels).toEqual([{ id: 'vma-1', name: 'VMA east', ok: false, detail: 'host unreachable' }]);
    expect(h.jobLog[0]!.level).toBe('warn');
    expect(h.jobLog[0]!.message).toMatch(/^The computer woke from sleep at 2026-12-01T23:12:00.000Z; on resume tunnels: VMA east not reconnected \(host unreachable\); reconciling with the VMA failed: database locked; schedules: 1 missed run started \(run_once\)\.$/);
  });

  it('logs nothing per job when none runs', async () => {
    const h = deps({ activeJobIds: () => [], appliancesToReconnect: () => [] });
    const r = await handleResume(h.d, from, to);
    expect(h.jobLog).toEqual([]);
    expect(r.summary).toMatch(/no tunnels to reconnect/);
  });
});
