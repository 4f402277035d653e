import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { FAILOVER_PHASES } from '../../shared/failover';
import { expectTargetsEqualSources, sha256Prefix } from '../fixtures/disk-compare';
import { replicasOnOma, startFailoverRig } from '../lab/failover-rig';
import type { Rig } from '../lab/rig';

// Test failover end to end against the lab: a replicated two-disk, two-NIC VM becomes a CloudStack
// VM (simulated CloudStack, real sshd for the OMA appliance, real nbdkit), boots, shows evidence,
// and is rolled back so the next incremental sync is bit-identical.
let rig: Rig;
let ctxId: string;
let listener: net.Server;
let listenPort: number;
const testNet = randomUUID();
const testNet2 = randomUUID();

const onOma = () => replicasOnOma(rig, ctxId);

const sync = async () => {
  const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
  const job = await rig.core.engine.whenSettled(jobId);
  expect(job.error).toBeNull();
  expect(job.status).toBe('completed');
  return job;
};

beforeAll(async () => {
  listener = net.createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  listenPort = (listener.address() as net.AddressInfo).port;
  // Isolated test networks, as an administrator would have created them for test failovers.
  ({ rig, ctxId } = await startFailoverRig({
    failover: { pollIntervalMs: 25, runningWaitMs: 10_000, portWaitMs: 3_000, portIntervalMs: 200, retryDelayMs: 100 },
    networks: [
      { id: testNet, name: 'mkc-test-a', type: 'Isolated' },
      { id: testNet2, name: 'mkc-test-b', type: 'Isolated' },
    ],
  }));
});

afterAll(async () => {
  await rig?.close();
  await new Promise<void>((r) => (listener ? listener.close(() => r()) : r()));
});

// SSH commands to the OMA appliance dominate; on a shared, loaded machine each can take seconds.
describe('test failover and rollback', { timeout: 300_000 }, () => {
  it('blocks while NICs are unmapped, naming each, and starts nothing', async () => {
    const v = await rig.core.failover.validate(ctxId, 'test');
    expect(v.blocked).toBe(true);
    const unmapped = v.findings.filter((f) => f.code === 'nic_unmapped');
    expect(unmapped.map((f) => f.subject).sort()).toEqual(['DVS-PG-dvportgroup-42', 'VLAN-100-prod']);
    const before = rig.cloudstack.requests.length;
    const e = await rig.core.failover.start(ctxId, { kind: 'test' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('validation');
    expect(rig.core.failover.list({ contextId: ctxId })).toEqual([]);
    expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
    expect(rig.cloudstack.requests.slice(before).filter((r) => !r.command.startsWith('list'))).toEqual([]);
  });

  it('deploys stopped, swaps the root for the chosen boot disk at device 0, attaches data disks in order, starts, and records boot evidence', async () => {
    rig.core.networkMappings.set(ctxId, 'VLAN-100-prod', { testNetworkId: testNet });
    rig.core.networkMappings.set(ctxId, 'DVS-PG-dvportgroup-42', { testNetworkId: testNet2 });
    // The boot disk is whatever the operator says, not disk-2000.
    rig.core.networkMappings.setBootDisk(ctxId, 'disk-2001');
    const v = await rig.core.failover.validate(ctxId, 'test');
    expect(v.findings).toEqual([]);
    const disks = rig.core.contexts.disks(ctxId);
    const bootVol = disks.find((d) => d.diskKey === 'disk-2001')!.cloudstackVolumeId!;
    const dataVol = disks.find((d) => d.diskKey === 'disk-2000')!.cloudstackVolumeId!;

    rig.cloudstack.faults.guestIp = () => '127.0.0.1';
    const mark = rig.cloudstack.requests.length;
    const started = await rig.core.failover.start(ctxId, { kind: 'test', ports: [listenPort] });
    expect(started.vmName).toMatch(/^pgtest1-test-\d{14}$/);
    const f = await rig.core.failover.whenSettled(started.id);
    expect(f.error).toBeNull();
    expect(f.status).toBe('completed');
    expect(rig.core.contexts.require(ctxId).status).toBe('failed_over_test');

    // The exact call sequence of the mutations.
    const calls = rig.cloudstack.requests
      .slice(mark)
      .filter((r) => r.status === 200 && !r.command.startsWith('list') && r.command !== 'queryAsyncJobResult')
      .map((r) => [r.command, r.params.volumeid ?? r.params.id ?? r.params.name, r.params.deviceid ?? r.params.startvm ?? ''] as const);
    const vmId = f.cloudstackVmId!;
    const defaultRoot = calls.find((c) => c[0] === 'deleteVolume')![1];
    expect(calls).toEqual([
      ['createSnapshot', dataVol, ''],
      ['createSnapshot', bootVol, ''],
      ['deployVirtualMachine', f.vmName, 'false'],
      ['detachVolume', defaultRoot, ''],
      ['deleteVolume', defaultRoot, ''],
      ['detachVolume', bootVol, ''],
      ['attachVolume', bootVol, '0'],
      ['detachVolume', dataVol, ''],
      ['attachVolume', dataVol, ''],
      ['startVirtualMachine', vmId, ''],
    ]);
    const deploy = rig.cloudstack.requests.slice(mark).find((r) => r.command === 'deployVirtualMachine')!;
    // NIC order kept; the custom offering gets the VM's CPU and memory.
    expect(deploy.params.networkids).toBe(`${testNet},${testNet2}`);
    expect(deploy.params['details[0].cpuNumber']).toBe('2');
    expect(deploy.params['details[0].memory']).toBe('4096');
    const vols = [...rig.cloudstack.state.volumes.values()].filter((x) => x.virtualmachineid === vmId);
    expect(vols.map((x) => [x.id, x.type, x.deviceid]).sort((a, b) => Number(a[2]) - Number(b[2]))).toEqual([
      [bootVol, 'ROOT', 0],
      [dataVol, 'DATADISK', 1],
    ]);
    expect(f.snapshots.map((s) => [s.diskKey, s.moved, Boolean(s.snapshotId)])).toEqual([
      ['disk-2000', true, true],
      ['disk-2001', true, true],
    ]);
    // Boot evidence: Running, both NICs' addresses, the listed port checked from the OMA over SSH.
    expect(f.evidence).toMatchObject({ state: 'Running', ips: ['127.0.0.1', '127.0.0.1'], portChecksSkipped: null });
    expect(f.evidence!.portChecks).toEqual([expect.objectContaining({ ip: '127.0.0.1', port: listenPort, open: true })]);
    // The exports of the moved volumes are withdrawn while the volumes belong to the test VM.
    expect(fs.readdirSync(rig.exportsDir).filter((n) => n.startsWith('migration-vol-'))).toEqual([]);
    expect(rig.core.logbook.steps(f.id).map((s) => [s.name, s.status])).toEqual([
      [FAILOVER_PHASES.validate, 'completed'],
      [FAILOVER_PHASES.snapshot, 'completed'],
      [FAILOVER_PHASES.deploy, 'completed'],
      [FAILOVER_PHASES.replaceRoot, 'completed'],
      [FAILOVER_PHASES.moveVolumes, 'completed'],
      [FAILOVER_PHASES.start, 'completed'],
      [FAILOVER_PHASES.evidence, 'completed'],
    ]);
    // No replication while the volumes belong to the test VM.
    await expect(rig.core.engine.start(ctxId, { trigger: 'cli' })).rejects.toThrow();
  });

  it('rollback removes the test VM, reverts what it wrote, reattaches and republishes; the next incremental sync is bit-identical', async () => {
    const [f] = rig.core.failover.list({ contextId: ctxId });
    const bootVol = rig.core.contexts.disks(ctxId).find((d) => d.diskKey === 'disk-2001')!;
    const file = rig.cloudstack.volumeFile(bootVol.cloudstackVolumeId!);
    const beforeBoot = sha256Prefix(file, bootVol.capacityBytes);
    // The test VM writes to its root disk while it runs.
    const fh = fs.openSync(file, 'r+');
    fs.writeSync(fh, Buffer.alloc(64 * 1024, 0x5a), 0, 64 * 1024, 4096);
    fs.closeSync(fh);
    expect(sha256Prefix(file, bootVol.capacityBytes)).not.toBe(beforeBoot);

    await rig.core.failover.rollback(f!.id);
    const done = await rig.core.failover.whenSettled(f!.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('rolled_back');
    expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
    expect(rig.cloudstack.state.vms.has(f!.cloudstackVmId!)).toBe(false);
    expect(rig.cloudstack.state.snapshots.size).toBe(0);
    expect(onOma()).toEqual([true, true]);
    expect(sha256Prefix(file, bootVol.capacityBytes)).toBe(beforeBoot);
    const exported = fs.readdirSync(rig.exportsDir).filter((n) => n.startsWith('migration-vol-')).sort();
    expect(exported).toEqual(rig.core.contexts.disks(ctxId).map((d) => `migration-vol-${d.cloudstackVolumeId}`).sort());
    expect(rig.core.logbook.steps(`${f!.id}-rollback`).map((s) => s.status)).toEqual(Array(5).fill('completed'));

    await rig.vma.mutateDisk('pgtest1', 2000, { blocks: 4, seed: 77 });
    await rig.vma.mutateDisk('pgtest1', 2001, { blocks: 3, seed: 78 });
    const job = await sync();
    expect(job.jobType).toBe('incremental');
    await expectTargetsEqualSources(rig, ctxId, 'pgtest1');
  });

  it('a failure while starting the VM runs the compensations and ends failed with the phase and reason', async () => {
    rig.cloudstack.faults.failAsync('startVirtualMachine', 'Unable to start: insufficient capacity', 1);
    const started = await rig.core.failover.start(ctxId, { kind: 'test' });
    const f = await rig.core.failover.whenSettled(started.id);
    expect(f.status).toBe('failed');
    expect(f.error).toContain(FAILOVER_PHASES.start);
    expect(f.error).toContain('insufficient capacity');
    expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
    expect(rig.cloudstack.state.vms.has(f.cloudstackVmId!)).toBe(false);
    expect(rig.cloudstack.state.snapshots.size).toBe(0);
    expect(onOma()).toEqual([true, true]);
    const steps = rig.core.logbook.steps(f.id);
    expect(steps.find((s) => s.name === FAILOVER_PHASES.start)?.status).toBe('failed');
    expect(steps.slice(-5).map((s) => [s.name, s.status])).toEqual([
      [FAILOVER_PHASES.removeVm, 'completed'],
      [FAILOVER_PHASES.revert, 'completed'],
      [FAILOVER_PHASES.deleteSnapshots, 'completed'],
      [FAILOVER_PHASES.reattach, 'completed'],
      [FAILOVER_PHASES.republish, 'completed'],
    ]);
    await expectTargetsEqualSources(rig, ctxId, 'pgtest1');
  });

  it('an override lets a blocked failover through and is recorded with who and which findings', async () => {
    rig.core.networkMappings.set(ctxId, 'DVS-PG-dvportgroup-42', { testNetworkId: null });
    const v = await rig.core.failover.validate(ctxId, 'test');
    expect(v.blocked).toBe(true);
    // Still blocked: the override must name the finding.
    await expect(rig.core.failover.start(ctxId, { kind: 'test', override: { by: 'alice', findings: ['offering_too_small'] } })).rejects.toThrow(/blocked/);
    // Deploy will then fail on the unmapped NIC; what matters here is the recorded override.
    const started = await rig.core.failover.start(ctxId, { kind: 'test', override: { by: 'alice', findings: ['nic_unmapped:DVS-PG-dvportgroup-42'] } });
    expect(started.override).toMatchObject({ by: 'alice', findings: ['nic_unmapped:DVS-PG-dvportgroup-42'] });
    const f = await rig.core.failover.whenSettled(started.id);
    expect(f.status).toBe('failed');
    expect(f.error).toContain(FAILOVER_PHASES.deploy);
    expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
    expect(onOma()).toEqual([true, true]);
    rig.core.networkMappings.set(ctxId, 'DVS-PG-dvportgroup-42', { testNetworkId: testNet2 });
  });

  it('an owner restart in the middle of moving the volumes is compensated by the next owner', async () => {
    const started = await rig.core.failover.start(ctxId, { kind: 'test' });
    const deadline = Date.now() + 120_000;
    while (rig.core.failover.get(started.id).phase !== FAILOVER_PHASES.moveVolumes) {
      if (Date.now() > deadline) throw new Error('the failover never reached the volume move');
      await new Promise((r) => setTimeout(r, 20));
    }
    await rig.restartCore();
    const left = rig.core.failover.get(started.id);
    // The old owner stopped without pretending: still working, nothing settled.
    expect(left.status).toBe('creating_vm');
    expect(left.cloudstackVmId).toBeTruthy();
    expect(rig.core.contexts.require(ctxId).status).toBe('failing_over');
    await rig.core.startBackground();
    const f = await rig.core.failover.whenSettled(started.id);
    expect(f.status).toBe('failed');
    expect(f.error).toContain('restarted');
    expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
    expect(rig.cloudstack.state.vms.has(left.cloudstackVmId!)).toBe(false);
    expect(rig.cloudstack.state.snapshots.size).toBe(0);
    expect(onOma()).toEqual([true, true]);
    const exported = fs.readdirSync(rig.exportsDir).filter((n) => n.startsWith('migration-vol-')).sort();
    expect(exported).toEqual(rig.core.contexts.disks(ctxId).map((d) => `migration-vol-${d.cloudstackVolumeId}`).sort());
    await expectTargetsEqualSources(rig, ctxId, 'pgtest1');
  });
});
