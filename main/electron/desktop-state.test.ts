// The shell's ports over a real core (real SQLite): what the tray and close decision see, and what
// resume reconnects.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../core/core';
import { InMemorySecretStore } from '../secrets/memory-store';
import { twoDiskVm } from '../testing/two-disk-vm';
import { coreDesktopState, resumeDepsFor } from './desktop-state';

let dir: string;
let core: Core;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-desktop-state-'));
  core = new Core({ dataDir: dir, transport: 'electron', secrets: new InMemorySecretStore() });
});
afterEach(async () => {
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function runningJobOn(vmaApplianceId: string | null) {
  const ctx = core.contexts.add({ vm: twoDiskVm(), vcenterHost: 'vc.test', credentialId: null, vmaApplianceId });
  const job = core.jobs.claim({ contextId: ctx.id, trigger: 'ui' });
  core.jobs.update(job.id, { status: 'replicating' });
  return { ctx, job };
}

describe('coreDesktopState', () => {
  it('lists running jobs with their VM names and counts no schedules until a scheduler exists', () => {
    const state = coreDesktopState(core);
    expect(state.runningJobs()).toEqual([]);
    const { ctx, job } = runningJobOn(null);
    expect(state.runningJobs()).toEqual([{ jobId: job.id, vmContextId: ctx.id, vmName: 'pgtest1', status: 'replicating', progressPercent: 0 }]);
    expect(state.vmName(ctx.id)).toBe('pgtest1');
    expect(state.enabledScheduleCount()).toBe(0);
    expect(state.nextScheduledRun()).toBeNull();
  });

  it('counts enabled schedules and names the soonest next run, as the scheduler computes it', () => {
    const state = coreDesktopState(core);
    expect(state.enabledScheduleCount()).toBe(0);
    expect(state.nextScheduledRun()).toBeNull();
    const nightly = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '0 2 * * *', timezone: 'UTC' });
    const hourly = core.scheduler.createSchedule({ name: 'hourly', cronExpression: '0 * * * *', timezone: 'UTC' });
    core.scheduler.createSchedule({ name: 'off', cronExpression: '* * * * *', timezone: 'UTC', enabled: false });
    expect(state.enabledScheduleCount()).toBe(2);
    const next = state.nextScheduledRun()!;
    const soonest = [nightly, hourly].map((x) => ({ name: x.name, at: core.scheduler.nextRun(x)! })).sort((a, b) => a.at.getTime() - b.at.getTime())[0]!;
    expect(next).toEqual({ scheduleName: soonest.name, at: soonest.at });
  });
});

describe('resumeDepsFor', () => {
  it('reconnects the VMAs of running jobs (by name) and lists the running jobs', () => {
    const vma = core.appliances.add({ kind: 'vma', name: 'VMA east', host: '192.0.2.10', username: 'ops', authMethod: 'password', password: 'pw' });
    core.appliances.add({ kind: 'oma', name: 'OMA', host: '192.0.2.11', username: 'ops', authMethod: 'password', password: 'pw', nbdHost: '192.0.2.11', nbdPort: 10809 });
    const deps = resumeDepsFor(core);
    expect(deps.appliancesToReconnect()).toEqual([]);
    const { job } = runningJobOn(vma.id);
    expect(deps.appliancesToReconnect()).toEqual([{ id: vma.id, name: 'VMA east' }]);
    expect(deps.activeJobIds()).toEqual([job.id]);
  });

  it('applies no schedule catch-up in a process whose scheduler does not run', async () => {
    await expect(resumeDepsFor(core).catchUp(null, new Date())).resolves.toBeNull();
  });
});
