import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';
import { ALL_COMMANDS } from './commands';
import { Core } from '../core/core';
import { noSecrets, useCliHarness } from './cli-test-harness';

const h = useCliHarness('mkc-cli-sched-', { dataDirArg: false });

describe('mkc schedules', () => {
  it('lists, runs (one execution, skips recorded) and shows history', async () => {
    const core = new Core({ dataDir: h.dir, transport: 'cli', secrets: noSecrets });
    const ctx = core.contexts.add({
      vm: { vmwareVmId: 'id-1', name: 'web01', path: '/DC/vm/web01', datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
      vcenterHost: 'vc', credentialId: null, vmaApplianceId: null,
    });
    core.contexts.setEnabled(ctx.id, false);
    const s = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '30 2 * * *', timezone: 'Europe/Berlin' });
    const g = core.groups.create({ name: 'web', description: '', scheduleId: s.id, maxConcurrentVms: 2, priority: 1, enabled: true, replicaAgeTargetSeconds: 3600 });
    core.groups.addMembers(g.id, [ctx.id]);
    await core.close();

    expect(await runCli(['schedules', 'list', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(0);
    expect(h.out.join('\n')).toMatch(/nightly\s+30 2 \* \* \*\s+Europe\/Berlin\s+yes\s+\S+T\S+Z\s+never\s+1\s+1/);
    expect(h.out.join('\n')).toContain('Schedules run only while');
    h.out.length = 0;
    expect(await runCli(['schedules', 'run', 'nightly', '--data-dir', h.dir, '--json'], ALL_COMMANDS, h.io)).toBe(0);
    const e = JSON.parse(h.out.join('')) as { status: string; skipped: Record<string, string[]>; trigger: string };
    expect(e).toMatchObject({ status: 'skipped', trigger: 'manual', skipped: { vm_disabled: [ctx.id] } });
    h.out.length = 0;
    expect(await runCli(['schedules', 'history', 'nightly', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(0);
    expect(h.out.join('\n')).toMatch(/manual\s+skipped: 0 started, 0 completed, 0 failed, 1 skipped\s+1/);
    expect(await runCli(['schedules', 'run', 'nope', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(1);
    expect(h.err.join('\n')).toMatch(/No schedule named nope/);
  });
});
