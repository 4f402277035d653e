import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILOVER_PHASES } from '../../shared/failover';
import { expectTargetsEqualSources } from '../fixtures/disk-compare';
import { startLiveFailoverRig } from '../lab/failover-rig';
import type { Rig } from '../lab/rig';

// Live failover against the lab: the source is powered off through the VMA, the final incremental
// sync runs through the canonical path while the VM is failing_over, and only then the VM becomes
// failed_over_live and the CloudStack VM is created with the VM's real name on the live networks.
let rig: Rig;
let ctxId: string;
let liveNet: string;
let liveNet2: string;

beforeAll(async () => {
  ({ rig, ctxId, liveNets: [liveNet, liveNet2] } = await startLiveFailoverRig({ pollIntervalMs: 25, runningWaitMs: 10_000, retryDelayMs: 100, powerPollMs: 50 }));
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

  it('options: the chosen power-off timeout forces a slow shutdown, final sync off skips it with a warning, MACs asked for are reported per NIC; rollback can leave the source off', async () => {
    // The guest takes a minute to shut down: only the 10 s timeout chosen here forces it in time.
    rig.vma.faults.setGracefulPowerOff({ offLagMs: 60_000 });
    const jobsBefore = rig.core.jobs.list({ contextId: ctxId }).length;
    const vmaMark = rig.vma.requests.length;
    const mark = rig.cloudstack.requests.length;
    const started = await rig.core.failover.start(ctxId, { kind: 'live', confirmName: 'pgtest1', powerOffTimeoutSeconds: 10, finalSync: false, keepMacAddresses: true });
    expect(started.options).toEqual({ powerOffTimeoutSeconds: 10, finalSync: false, sourceOnFailure: 'power_on', keepMacAddresses: true });
    const f = await rig.core.failover.whenSettled(started.id);
    rig.vma.faults.setGracefulPowerOff({ offLagMs: 0 });
    expect(f.error).toBeNull();
    expect(f.status).toBe('completed');
    expect(rig.core.contexts.require(ctxId).status).toBe('failed_over_live');

    const offs = rig.vma.requests.slice(vmaMark).filter((r) => r.endpoint === 'power-off').map((r) => r.body as { force: boolean; timeout: number });
    expect(offs.map((b) => [b.force, b.timeout])).toEqual([[false, 10], [true, 60]]);
    // No final sync: no replicate request and no new job; the skip is a recorded warning.
    expect(rig.vma.requests.slice(vmaMark).map((r) => r.endpoint)).not.toContain('replicate');
    expect(rig.core.jobs.list({ contextId: ctxId })).toHaveLength(jobsBefore);
    expect(f.findings.filter((x) => x.code === 'final_sync_skipped').map((x) => x.severity)).toEqual(['warning']);
    const finalStep = rig.core.logbook.steps(f.id).find((x) => x.name === FAILOVER_PHASES.finalSync)!;
    expect(finalStep.status).toBe('completed');

    // MACs: the reference CloudStack API takes none at deploy, so each NIC is a warning naming its MAC,
    // the deploy carries only the documented parameters, and the evidence pairs each NIC in order.
    expect(f.findings.filter((x) => x.code === 'mac_not_kept').map((x) => [x.subject, x.message.includes(x.subject === 'nic0' ? '00:50:56:85:bf:a2' : '00:50:56:85:bf:a3')])).toEqual([
      ['nic0', true],
      ['nic1', true],
    ]);
    const deploy = rig.cloudstack.requests.slice(mark).find((r) => r.command === 'deployVirtualMachine' && r.status === 200)!;
    expect(Object.keys(deploy.params).filter((k) => /mac|nicnetworklist|iptonetworklist/i.test(k))).toEqual([]);
    const csNics = rig.cloudstack.state.vms.get(f.cloudstackVmId!)!.nic;
    expect(f.evidence!.nics).toEqual([
      { sourceNetwork: 'VLAN-100-prod', sourceMac: '00:50:56:85:bf:a2', networkId: liveNet, mac: csNics[0]!.macaddress, ip: csNics[0]!.ipaddress },
      { sourceNetwork: 'DVS-PG-dvportgroup-42', sourceMac: '00:50:56:85:bf:a3', networkId: liveNet2, mac: csNics[1]!.macaddress, ip: csNics[1]!.ipaddress },
    ]);

    // Rollback without powering the source on: it stays off and no power-on is sent.
    const rbMark = rig.vma.requests.length;
    await rig.core.failover.rollback(f.id, { powerOnSource: false });
    const done = await rig.core.failover.whenSettled(f.id);
    expect(done.status).toBe('rolled_back');
    expect(done.options.rollbackPowerOn).toBe(false);
    expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
    expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOff');
    expect(rig.vma.requests.slice(rbMark).map((r) => r.endpoint)).not.toContain('power-on');
    expect(rig.core.logbook.steps(`${f.id}-rollback`).map((x) => x.name)).not.toContain(FAILOVER_PHASES.powerOn);
    rig.vma.inventory.setPowerState('pgtest1', 'poweredOn');
  });

  it('keep the source off on failure: a failed live failover compensates but sends no power-on; the default powers it on', async () => {
    rig.cloudstack.faults.failAsync('deployVirtualMachine', 'no host with capacity', 1);
    const vmaMark = rig.vma.requests.length;
    const started = await rig.core.failover.start(ctxId, { kind: 'live', confirmName: 'pgtest1', sourceOnFailure: 'keep_off' });
    const f = await rig.core.failover.whenSettled(started.id);
    expect(f.status).toBe('failed');
    expect(f.error).toContain('no host with capacity');
    expect(rig.core.contexts.require(ctxId).status).toBe('ready_for_failover');
    expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOff');
    expect(rig.vma.requests.slice(vmaMark).map((r) => r.endpoint)).not.toContain('power-on');
    expect(rig.core.logbook.events({ operationId: f.id }).some((e) => /left as it is \(powered off\)/.test(e.message))).toBe(true);
    expect(rig.cloudstack.state.snapshots.size).toBe(0);

    // A failed final sync with keep_off says so in its reason (the next action is the operator's).
    rig.vma.faults.injectError('replicate', { status: 500, text: 'failed to open the disk', times: Infinity });
    const again = await rig.core.failover.whenSettled((await rig.core.failover.start(ctxId, { kind: 'live', confirmName: 'pgtest1', sourceOnFailure: 'keep_off' })).id);
    rig.vma.faults.clearErrors();
    expect(again.status).toBe('failed');
    expect(again.error).toContain('the source stays powered off as chosen');
    expect(rig.vma.inventory.get('pgtest1')!.powerState).toBe('poweredOff');
    rig.vma.inventory.setPowerState('pgtest1', 'poweredOn');
  });
});
