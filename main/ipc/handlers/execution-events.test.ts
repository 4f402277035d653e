// Schedule executions are pushed on the event bus as they move (executions:changed), so the Schedules
// screen and the control channel follow a run without polling.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../../core/core';
import { InMemorySecretStore } from '../../secrets/memory-store';
import { EventBus } from '../event-bus';
import { dispatch } from '../dispatch';
import { createHandlers } from './index';
import { EVENT_CHANNELS, type EventMap } from '../../../shared/contract';
import type { ScheduleExecution } from '../../../shared/domain';

let dir: string;
let core: Core;
let bus: EventBus;
// Flushed by hand: the test decides when a batch goes out.
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-exe-events-'));
  bus = new EventBus({ setTimer: () => null });
  core = new Core({ dataDir: dir, transport: 'cli', secrets: new InMemorySecretStore(), bus });
});
afterEach(async () => {
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function addVm(name: string): string {
  return core.contexts.add({
    vm: { vmwareVmId: `id-${name}`, name, path: `/DC/vm/${name}`, datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
    vcenterHost: 'vc',
    credentialId: null,
    vmaApplianceId: null,
  }).id;
}

describe('executions:changed', () => {
  it('is an allowed event channel', () => {
    expect(EVENT_CHANNELS).toContain('executions:changed');
  });

  it('pushes a run from its opening to its final state, the last push equal to what is stored', async () => {
    const batches: EventMap['executions:changed'][] = [];
    bus.subscribe((channel, payload) => {
      if (channel === 'executions:changed') batches.push(payload as EventMap['executions:changed']);
    });
    const a = addVm('web1');
    const b = addVm('web2');
    core.contexts.setEnabled(a, false);
    core.contexts.setEnabled(b, false);
    const s = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '30 2 * * *', timezone: 'UTC' });
    const g = core.groups.create({ name: 'web', description: '', scheduleId: s.id, maxConcurrentVms: 2, priority: 1, enabled: true, replicaAgeTargetSeconds: null });
    core.groups.addMembers(g.id, [a, b]);

    const started = await dispatch(createHandlers(core), 'schedules:run-now', [{ id: s.id }]);
    expect(started.ok).toBe(true);
    const id = (started as { value: ScheduleExecution }).value.id;
    bus.flush();
    expect(batches.flatMap((p) => p.executions).find((e) => e.id === id)).toBeDefined();

    for (let i = 0; i < 100 && core.executions.require(id).status === 'running'; i++) await new Promise((r) => setTimeout(r, 20));
    bus.flush();
    const pushed = batches.flatMap((p) => p.executions).filter((e) => e.id === id);
    const stored = core.executions.require(id);
    expect(stored).toMatchObject({ status: 'skipped', skippedCount: 2 });
    expect(pushed.at(-1)).toEqual(stored);
    // The skips were pushed as they were recorded, not only at the end: one batch per flush, latest state per execution.
    expect(batches.every((p) => new Set(p.executions.map((e) => e.id)).size === p.executions.length)).toBe(true);
  });

  it('merges a burst into the latest state of each execution', () => {
    const seen: EventMap['executions:changed'][] = [];
    bus.subscribe((c, p) => c === 'executions:changed' && seen.push(p as EventMap['executions:changed']));
    const s = core.scheduler.createSchedule({ name: 'n', cronExpression: '0 1 * * *' });
    const e = core.executions.open({ scheduleId: s.id, trigger: 'manual', scheduledFor: new Date().toISOString(), now: new Date().toISOString() });
    core.executions.setEligible(e.id, 3);
    core.executions.addRetry(e.id);
    core.executions.finish(e.id, 'completed', new Date().toISOString());
    bus.flush();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.executions).toEqual([core.executions.require(e.id)]);
    expect(seen[0]!.executions[0]).toMatchObject({ eligible: 3, retried: 1, status: 'completed' });
  });
});
