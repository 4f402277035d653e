import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILOVER_PHASES } from '../../shared/failover';
import { expectTargetsEqualSources } from '../fixtures/disk-compare';
import { startRig, smallInventory, type Rig } from '../lab/rig';

// Live failover against the lab: the source is powered off through the VMA, the final incremental
// sync runs through the canonical path while the VM is failing_over, and only then the VM becomes
// failed_over_live and the CloudStack VM is created with the VM's real name on the live networks.
let rig: Rig;
let ctxId: string;
const liveNet = randomUUID();
const liveNet2 = randomUUID();

beforeAll(async () => {
  rig = await startRig({ inventory: smallInventory(), core: { failover: { pollIntervalMs: 25, runningWaitMs: 10_000, retryDelayMs: 100, powerPollMs: 50 } } });
  const oma = rig.core.appliances.record(rig.omaAppliance.id).settings;
  rig.core.appliances.setSettings(rig.omaAppliance.id, { ...oma, oma: { ...(oma.oma as object), commandTimeoutMs: 60_000, nbdkitStartTimeoutMs: 60_000 } });
  ctxId = (await rig.manage(['pgtest1'])).pgtest1!;
  await rig.core.startBackground();
  const zoneid = [...rig.cloudstack.state.zones.keys()][0]!;
  for (const [id, name] of [[liveNet, 'prod-a'], [liveNet2, 'prod-b']] as const) {
    rig.cloudstack.state.networks.set(id, { id, name, displaytext: name, zoneid, state: 'Implemented', type: 'Shared' });
  }
  rig.core.cloudstack.save({
    apiUrl: rig.core.cloudstack.view().apiUrl!,
    templateId: [...rig.cloudstack.state.templates.keys()][0]!,
    serviceOfferingId: [...rig.cloudstack.state.serviceOfferings.values()].find((o) => o.iscustomized)!.id,
  });
  rig.core.networkMappings.set(ctxId, 'VLAN-100-prod', { liveNetworkId: liveNet });
  rig.core.networkMappings.set(ctxId, 'DVS-PG-dvportgroup-42', { liveNetworkId: liveNet2 });
  const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
  expect((await rig.core.engine.whenSettled(jobId)).status).toBe('completed');
});
afterAll(async () => {
  await rig?.close();
});

describe('live failover', { timeout: 400_000 }, () => {
  it('powers off, runs the final sync, only then goes failed_over_live, and creates the VM with its real name', async () => {
    // Writes after the last sync that only the final sync can carry over.
    await rig.vma.mutateDisk('pgtest1', 2000, { blocks: 3, seed: 501 });
    await rig.vma.mutateDisk('pgtest1', 2001, { blocks: 2, seed: 502 });
    const v = await rig.core.failover.validate(ctxId, 'live');
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);

    const jobsBefore = rig.core.jobs.list({ contextId: ctxId }).length;
    const mark = rig.cloudstack.requests.length;
    await expect(rig.core.failover.start(ctxId, { kind: 'live', confirmName: 'pgtest' })).rejects.toThrow(/typing the VM's name/);
    const started = await rig.core.failover.start(ctxId, { kind: 'live', confirmName: 'pgtest1' });
    expect(started.vmName).toBe('pgtest1');
    const f = await rig.core.failover.whenSettled(started.id);
    expect(f.error).toBeNull();
    expect(f.status).toBe('completed');
    expect(rig.core.contexts.require(ctxId).status).toBe('failed_over_live');

    // Power-off came first, through the VMA; the final sync was an incremental job of trigger failover.
    const vmaCalls = rig.vma.requests.map((r) => r.endpoint);
    const offAt = vmaCalls.indexOf('power-off');
    expect(offAt).toBeGreaterThanOrEqual(0);
    expect(vmaCalls.indexOf('replicate', offAt)).toBeGreaterThan(offAt);
    const jobs = rig.core.jobs.list({ contextId: ctxId });
    expect(jobs).toHaveLength(jobsBefore + 1);
    expect(jobs[0]).toMatchObject({ trigger: 'failover', jobType: 'incremental', status: 'completed' });
    // Snapshots after the final sync; the VM after the snapshots, named as the source, on the live networks.
    const mutations = rig.cloudstack.requests.slice(mark).filter((r) => r.status === 200 && ['createSnapshot', 'deployVirtualMachine', 'attachVolume', 'startVirtualMachine'].includes(r.command));
    // The final sync reuses the volumes already on the OMA appliance: its only mutations here are the failover's.
    expect(mutations.map((r) => r.command).filter((c, i, a) => a.indexOf(c) === i)).toEqual(['createSnapshot', 'deployVirtualMachine', 'attachVolume', 'startVirtualMachine']);
    expect(mutations.filter((r) => r.command === 'attachVolume').every((r) => r.params.virtualmachineid === f.cloudstackVmId)).toBe(true);
    const deploy = mutations.find((r) => r.command === 'deployVirtualMachine')!;
    expect(deploy.params).toMatchObject({ name: 'pgtest1', networkids: `${liveNet},${liveNet2}`, startvm: 'false' });
    const rootAttach = mutations.filter((r) => r.command === 'attachVolume' && r.params.virtualmachineid === f.cloudstackVmId);
    expect(rootAttach[0]!.params.deviceid).toBe('0');
    expect(rig.core.logbook.steps(f.id).map((s) => s.name).slice(0, 3)).toEqual([FAILOVER_PHASES.validate, FAILOVER_PHASES.powerOff, FAILOVER_PHASES.finalSync]);
    // The CloudStack VM boots from exactly the source's last bytes.
    await expectTargetsEqualSources(rig, ctxId, 'pgtest1');
    expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOff');
  });

  it('rollback removes the VM, reattaches the volumes and powers the source back on', async () => {
    const [f] = rig.core.failover.list({ contextId: ctxId });
    await rig.core.failover.rollback(f!.id);
    const done = await rig.core.failover.whenSettled(f!.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('rolled_back');
    expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
    expect(rig.cloudstack.state.vms.has(f!.cloudstackVmId!)).toBe(false);
    expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOn');
    await expectTargetsEqualSources(rig, ctxId, 'pgtest1');
  });
});
