import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from './run-cli';
import { ALL_COMMANDS } from './commands';
import type { SecretStore } from '../secrets/secret-store';
import { Core } from '../core/core';

const noSecrets: SecretStore = { unavailableReason: () => 'none in this test', set() { throw new Error('no'); }, get: () => null, delete() {} };

let dir: string;
let out: string[];
let err: string[];
let io: CliIo;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-cli-sched-'));
  out = [];
  err = [];
  io = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, secrets: () => noSecrets };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('mkc schedules', () => {
  it('lists, runs (one execution, skips recorded) and shows history', async () => {
    const core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
    const ctx = core.contexts.add({
      vm: { vmwareVmId: 'id-1', name: 'web01', path: '/DC/vm/web01', datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
      vcenterHost: 'vc', credentialId: null, vmaApplianceId: null,
    });
    core.contexts.setEnabled(ctx.id, false);
    const s = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '30 2 * * *', timezone: 'Europe/Berlin' });
    const g = core.groups.create({ name: 'web', description: '', scheduleId: s.id, maxConcurrentVms: 2, priority: 1, enabled: true, replicaAgeTargetSeconds: 3600 });
    core.groups.addMembers(g.id, [ctx.id]);
    await core.close();

    expect(await runCli(['schedules', 'list', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toMatch(/nightly\s+30 2 \* \* \*\s+Europe\/Berlin\s+yes\s+\S+T\S+Z\s+never\s+1\s+1/);
    expect(out.join('\n')).toContain('Schedules run only while');
    out.length = 0;
    expect(await runCli(['schedules', 'run', 'nightly', '--data-dir', dir, '--json'], ALL_COMMANDS, io)).toBe(0);
    const e = JSON.parse(out.join('')) as { status: string; skipped: Record<string, string[]>; trigger: string };
    expect(e).toMatchObject({ status: 'skipped', trigger: 'manual', skipped: { vm_disabled: [ctx.id] } });
    out.length = 0;
    expect(await runCli(['schedules', 'history', 'nightly', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toMatch(/manual\s+skipped: 0 started, 0 completed, 0 failed, 1 skipped\s+1/);
    expect(await runCli(['schedules', 'run', 'nope', '--data-dir', dir], ALL_COMMANDS, io)).toBe(1);
    expect(err.join('\n')).toMatch(/No schedule named nope/);
  });
});
