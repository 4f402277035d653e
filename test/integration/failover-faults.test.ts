import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { FAILOVER_PHASES, type Failover, type FailoverPhase } from '../../shared/failover';
import type { FailoverType } from '../../shared/domain';
import { expectTargetsEqualSources } from '../fixtures/disk-compare';
import { startFailoverRig } from '../lab/failover-rig';
import type { Rig } from '../lab/rig';

// A failure injected at each phase of test and live failover, and at each phase of their rollback,
// ends in one truthful state: `failed` with the phase and reason after the compensations ran, or
// `cleanup_required` whose cleanup (the one-click rollback) then puts everything back. Asserted against
// the CloudStack simulator's recorded calls and state, the VMA simulator's power state and the DB.
let rig: Rig;
let ctxId: string;
let baselineVolumes: string[];
const testNet = randomUUID();
const liveNet = randomUUID();
const liveNet2 = randomUUID();

const UNDO: FailoverPhase[] = [FAILOVER_PHASES.removeVm, FAILOVER_PHASES.revert, FAILOVER_PHASES.deleteSnapshots, FAILOVER_PHASES.reattach, FAILOVER_PHASES.republish];

const volumeIds = () => rig.core.contexts.disks(ctxId).map((d) => d.cloudstackVolumeId!);
const isOurVm = (p: Record<string, string>) => p.virtualmachineid !== undefined && p.virtualmachineid !== rig.cloudstack.omaVmId;
const mutations = (from: number) =>
  rig.cloudstack.requests.slice(from).filter((r) => r.status === 200 && !r.command.startsWith('list') && r.command !== 'queryAsyncJobResult').map((r) => r.command);

/** Everything is where a failover found it: no CloudStack VM or snapshot or stray volume, replicas on the OMA appliance and exported. */
async function expectPutBack(): Promise<void> {
  expect([...rig.cloudstack.state.vms.keys()]).toEqual([rig.cloudstack.omaVmId]);
  expect(rig.cloudstack.state.snapshots.size).toBe(0);
  expect([...rig.cloudstack.state.volumes.keys()].sort()).toEqual(baselineVolumes);
  for (const v of volumeIds()) expect(rig.cloudstack.state.volumes.get(v)?.virtualmachineid, `volume ${v} on the OMA appliance`).toBe(rig.cloudstack.omaVmId);
  const exported = fs.readdirSync(rig.exportsDir).filter((n) => n.startsWith('migration-vol-')).sort();
  expect(exported).toEqual(volumeIds().map((v) => `migration-vol-${v}`).sort());
  expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
  expect(rig.core.contexts.require(ctxId).currentJobId).toBeNull();
  await expectTargetsEqualSources(rig, ctxId, 'pgtest1');
}

const start = (kind: FailoverType, extra: Record<string, unknown> = {}) =>
  rig.core.failover.start(ctxId, kind === 'live' ? { kind, confirmName: 'pgtest1', ...extra } : { kind, ...extra });

const setOmaPrefix = (prefix: string[]) => {
  const s = rig.core.appliances.record(rig.omaAppliance.id).settings;
  rig.core.appliances.setSettings(rig.omaAppliance.id, { ...s, oma: { ...(s.oma as object), privilegePrefix: prefix } });
};

beforeAll(async () => {
  ({ rig, ctxId } = await startFailoverRig({
    failover: { pollIntervalMs: 25, runningWaitMs: 10_000, portWaitMs: 2_000, portIntervalMs: 200, retryDelayMs: 50, powerPollMs: 50 },
    networks: [
      { id: testNet, name: 'mkc-test', type: 'Isolated' },
      { id: liveNet, name: 'prod-a', type: 'Shared' },
      { id: liveNet2, name: 'prod-b', type: 'Shared' },
    ],
  }));
  rig.core.networkMappings.set(ctxId, 'VLAN-100-prod', { testNetworkId: testNet, liveNetworkId: liveNet });
  rig.core.networkMappings.set(ctxId, 'DVS-PG-dvportgroup-42', { testNetworkId: testNet, liveNetworkId: liveNet2 });
  baselineVolumes = [...rig.cloudstack.state.volumes.keys()].sort();
});
afterEach(async () => {
  // A row that went wrong must not leave its failover running into the next one.
  await rig.core.failover.drain();
  rig.cloudstack.faults.clear();
  rig.vma.faults.clearErrors();
  rig.vma.inventory.setPowerState('pgtest1', 'poweredOn');
});
afterAll(async () => {
  await rig?.close();
});

interface ForwardRow {
  kind: FailoverType;
  phase: FailoverPhase;
  /** What the injected failure says (found again in the recorded reason). */
  reason: string;
  arm: () => void;
  /** Compensating mutations CloudStack must have seen (beside the failover's own). */
  compensations: string[];
}

const FORWARD: ForwardRow[] = [
  {
    kind: 'test',
    phase: FAILOVER_PHASES.snapshot,
    reason: 'snapshot storage is full',
    // The second volume's snapshot fails: the first one must be deleted again.
    arm: () => rig.cloudstack.faults.failAsync('createSnapshot', 'snapshot storage is full', 1, (p) => p.volumeid === volumeIds()[1]),
    compensations: ['deleteSnapshot'],
  },
  {
    kind: 'test',
    phase: FAILOVER_PHASES.deploy,
    reason: 'no host with capacity',
    arm: () => rig.cloudstack.faults.failAsync('deployVirtualMachine', 'no host with capacity', 1),
    compensations: ['deleteSnapshot', 'deleteSnapshot'],
  },
  {
    kind: 'test',
    phase: FAILOVER_PHASES.replaceRoot,
    reason: 'Service temporarily unavailable',
    arm: () => rig.cloudstack.faults.failHttp('deleteVolume', 530, 1),
    // The default root goes back on the VM (device 0) so expunging the VM deletes it.
    compensations: ['attachVolume', 'destroyVirtualMachine', 'deleteSnapshot', 'deleteSnapshot'],
  },
  {
    kind: 'test',
    phase: FAILOVER_PHASES.moveVolumes,
    reason: 'data disk attach refused',
    // The data disk's attach to the new VM (no device id): the root is already on the VM by then.
    arm: () => rig.cloudstack.faults.failAsync('attachVolume', 'data disk attach refused', 1, (p) => isOurVm(p) && p.deviceid === undefined),
    compensations: ['detachVolume', 'destroyVirtualMachine', 'revertSnapshot', 'revertSnapshot', 'deleteSnapshot', 'deleteSnapshot', 'attachVolume', 'attachVolume'],
  },
  {
    kind: 'test',
    phase: FAILOVER_PHASES.start,
    reason: 'insufficient capacity',
    arm: () => rig.cloudstack.faults.failAsync('startVirtualMachine', 'insufficient capacity', 1),
    compensations: ['detachVolume', 'detachVolume', 'destroyVirtualMachine', 'revertSnapshot', 'revertSnapshot', 'attachVolume', 'attachVolume'],
  },
  {
    kind: 'test',
    phase: FAILOVER_PHASES.evidence,
    reason: 'refused listVirtualMachines',
    arm: () => rig.cloudstack.faults.failHttp('listVirtualMachines', 431, 1, (p) => p.id !== undefined && p.id !== rig.cloudstack.omaVmId),
    compensations: ['stopVirtualMachine', 'destroyVirtualMachine', 'revertSnapshot', 'revertSnapshot', 'attachVolume', 'attachVolume'],
  },
  {
    kind: 'live',
    phase: FAILOVER_PHASES.powerOff,
    reason: 'power-off refused by vCenter',
    arm: () => rig.vma.faults.injectError('power-off', { status: 500, text: 'power-off refused by vCenter' }),
    compensations: [],
  },
  {
    kind: 'live',
    phase: FAILOVER_PHASES.finalSync,
    // The recorded reason says what happened to the source and what to do next.
    reason: 'the source is powered back on and the replica is as of the previous sync',
    arm: () => rig.vma.faults.injectError('replicate', { status: 500, text: 'failed to open the disk: snapshot busy', times: Infinity }),
    compensations: [],
  },
  {
    kind: 'live',
    phase: FAILOVER_PHASES.deploy,
    reason: 'no host with capacity',
    arm: () => rig.cloudstack.faults.failAsync('deployVirtualMachine', 'no host with capacity', 1),
    compensations: ['deleteSnapshot', 'deleteSnapshot'],
  },
  {
    kind: 'live',
    phase: FAILOVER_PHASES.moveVolumes,
    reason: 'data disk attach refused',
    arm: () => rig.cloudstack.faults.failAsync('attachVolume', 'data disk attach refused', 1, (p) => isOurVm(p) && p.deviceid === undefined),
    compensations: ['detachVolume', 'destroyVirtualMachine', 'revertSnapshot', 'revertSnapshot', 'deleteSnapshot', 'deleteSnapshot', 'attachVolume', 'attachVolume'],
  },
  {
    kind: 'live',
    phase: FAILOVER_PHASES.start,
    reason: 'insufficient capacity',
    arm: () => rig.cloudstack.faults.failAsync('startVirtualMachine', 'insufficient capacity', 1),
    compensations: ['destroyVirtualMachine', 'revertSnapshot', 'revertSnapshot', 'attachVolume', 'attachVolume'],
  },
];

/** `a` holds every element of `b` (with repeats) in the same relative order. */
const containsInOrder = (a: string[], b: string[]) => {
  let i = 0;
  for (const x of a) if (x === b[i]) i++;
  return i === b.length;
};

// SSH commands to the OMA appliance dominate; on a shared, loaded machine each can take seconds.
describe('a failure at each phase ends truthfully, with its compensations run', { timeout: 600_000 }, () => {
  it('validate: CloudStack unreachable blocks the failover before anything is created or recorded', async () => {
    rig.cloudstack.faults.failHttp('listNetworks', 431, Infinity);
    const mark = rig.cloudstack.requests.length;
    const e = await start('test').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).message).toMatch(/blocked/);
    expect(((e as AppError).details as { blocking: string[] }).blocking).toContain('cloudstack_unreachable');
    expect(rig.core.failover.list({ contextId: ctxId })).toEqual([]);
    expect(mutations(mark)).toEqual([]);
    expect(rig.cloudstack.requests.slice(mark).some((r) => r.command === 'listNetworks' && r.status === 431)).toBe(true);
    await expectPutBack();
  });

  it.each(FORWARD)('$kind failover, $phase: failed with the phase and reason, compensated', async (row) => {
    const before = rig.core.failover.list({ contextId: ctxId }).length;
    const vmaMark = rig.vma.requests.length;
    row.arm();
    const mark = rig.cloudstack.requests.length;
    const started = await start(row.kind);
    const f: Failover = await rig.core.failover.whenSettled(started.id);
    expect(rig.core.failover.list({ contextId: ctxId })).toHaveLength(before + 1);
    expect(f.status).toBe('failed');
    expect(f.error).toContain(row.phase);
    expect(f.error).toContain(row.reason);
    expect(f.endedAt).not.toBeNull();
    const steps = rig.core.logbook.steps(f.id);
    expect(steps.filter((s) => s.status === 'failed').map((s) => s.name)).toEqual([row.phase]);
    // The compensations ran, each recorded and completed, after the failed phase.
    const undo = steps.slice(steps.findIndex((s) => s.name === row.phase) + 1);
    expect(undo.map((s) => [s.name, s.status])).toEqual([...UNDO, ...(row.kind === 'live' ? [FAILOVER_PHASES.powerOn] : [])].map((n) => [n, 'completed']));
    const calls = mutations(mark);
    expect(containsInOrder(calls, row.compensations), `${calls.join(' ')} should include ${row.compensations.join(' ')}`).toBe(true);
    if (row.phase === FAILOVER_PHASES.powerOff || row.phase === FAILOVER_PHASES.finalSync) expect(calls).toEqual([]);
    if (row.kind === 'live') {
      // The source is powered back on (the default) and is on.
      expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOn');
      const vmaCalls = rig.vma.requests.slice(vmaMark).map((r) => r.endpoint);
      if (row.phase !== FAILOVER_PHASES.powerOff) expect(vmaCalls).toContain('power-on');
    }
    await expectPutBack();
  });

  interface RollbackRow {
    kind: FailoverType;
    phase: FailoverPhase;
    arm: () => void;
  }
  const ROLLBACK: RollbackRow[] = [
    { kind: 'test', phase: FAILOVER_PHASES.removeVm, arm: () => rig.cloudstack.faults.failAsync('destroyVirtualMachine', 'host in maintenance') },
    { kind: 'test', phase: FAILOVER_PHASES.revert, arm: () => rig.cloudstack.faults.failAsync('revertSnapshot', 'revert not possible on this storage') },
    { kind: 'test', phase: FAILOVER_PHASES.deleteSnapshots, arm: () => rig.cloudstack.faults.failAsync('deleteSnapshot', 'secondary storage offline') },
    { kind: 'test', phase: FAILOVER_PHASES.reattach, arm: () => rig.cloudstack.faults.failAsync('attachVolume', 'OMA appliance has too many volumes', Infinity, (p) => p.virtualmachineid === rig.cloudstack.omaVmId) },
    { kind: 'test', phase: FAILOVER_PHASES.republish, arm: () => setOmaPrefix(['false']) },
    { kind: 'live', phase: FAILOVER_PHASES.powerOn, arm: () => rig.vma.faults.injectError('power-on', { status: 500, text: 'power-on refused by vCenter', times: Infinity }) },
  ];

  it.each(ROLLBACK)('rollback of a $kind failover, $phase: cleanup_required, and the cleanup puts everything back', async (row) => {
    const started = await start(row.kind);
    const done = await rig.core.failover.whenSettled(started.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');
    row.arm();
    await rig.core.failover.rollback(done.id);
    const stuck = await rig.core.failover.whenSettled(done.id);
    expect(stuck.status).toBe('cleanup_required');
    expect(stuck.error).toContain(`rollback failed at ${row.phase}`);
    expect(rig.core.contexts.require(ctxId).status).toBe('cleanup_required');
    const steps = rig.core.logbook.steps(`${done.id}-rollback`);
    expect(steps.at(-1)).toMatchObject({ name: row.phase, status: 'failed' });
    // No replication and no new failover while it needs cleanup.
    await expect(start('test')).rejects.toThrow();

    rig.cloudstack.faults.clear();
    rig.vma.faults.clearErrors();
    if (row.phase === FAILOVER_PHASES.republish) setOmaPrefix([]);
    await rig.core.failover.rollback(done.id);
    const clean = await rig.core.failover.whenSettled(done.id);
    expect(clean.error).toContain('rollback failed'); // the first attempt's reason stays on record
    expect(clean.status).toBe('rolled_back');
    if (row.kind === 'live') expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOn');
    await expectPutBack();
  });
});
