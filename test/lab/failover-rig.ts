// The lab as every failover test starts it: pgtest1 (two disks, two NICs) managed, replicated once,
// CloudStack configured with a template and the custom service offering, and the networks a test
// names created in the simulated zone.
import { randomUUID } from 'node:crypto';
import type { FailoverOptions } from '../../main/failover/failover-service';
import { smallInventory, startRig, type Rig } from './rig';

export const FAILOVER_VM = 'pgtest1';

export interface LabNetwork {
  id: string;
  name: string;
  type: 'Isolated' | 'Shared';
}

export async function startFailoverRig(options: { failover: Partial<FailoverOptions>; networks: LabNetwork[] }): Promise<{ rig: Rig; ctxId: string }> {
  const rig = await startRig({ inventory: smallInventory(), core: { failover: options.failover } });
  try {
    // SSH commands to the OMA fixture share this machine's cores with other tests: give them room.
    const oma = rig.core.appliances.record(rig.omaAppliance.id).settings;
    rig.core.appliances.setSettings(rig.omaAppliance.id, { ...oma, oma: { ...(oma.oma as object), commandTimeoutMs: 60_000, nbdkitStartTimeoutMs: 60_000 } });
    const ctxId = (await rig.manage([FAILOVER_VM]))[FAILOVER_VM]!;
    await rig.core.startBackground();
    const zoneid = [...rig.cloudstack.state.zones.keys()][0]!;
    for (const n of options.networks) {
      rig.cloudstack.state.networks.set(n.id, { id: n.id, name: n.name, displaytext: n.name, zoneid, state: 'Implemented', type: n.type });
    }
    rig.core.cloudstack.save({
      apiUrl: rig.core.cloudstack.view().apiUrl!,
      templateId: [...rig.cloudstack.state.templates.keys()][0]!,
      serviceOfferingId: [...rig.cloudstack.state.serviceOfferings.values()].find((o) => o.iscustomized)!.id,
    });
    const { jobId } = await rig.core.engine.start(ctxId, { trigger: 'cli' });
    const job = await rig.core.engine.whenSettled(jobId);
    if (job.status !== 'completed') throw new Error(`the first sync of ${FAILOVER_VM} ended ${job.status}: ${job.error}`);
    return { rig, ctxId };
  } catch (e) {
    await rig.close();
    throw e;
  }
}

/**
 * The rig of the live failover suites: two shared networks, prod-a and prod-b, the live networks of
 * pgtest1's two NICs in VMware order (their ids in `liveNets`, same order).
 */
export async function startLiveFailoverRig(failover: Partial<FailoverOptions>): Promise<{ rig: Rig; ctxId: string; liveNets: [string, string] }> {
  const liveNets: [string, string] = [randomUUID(), randomUUID()];
  const { rig, ctxId } = await startFailoverRig({
    failover,
    networks: [
      { id: liveNets[0], name: 'prod-a', type: 'Shared' },
      { id: liveNets[1], name: 'prod-b', type: 'Shared' },
    ],
  });
  rig.core.networkMappings.set(ctxId, 'VLAN-100-prod', { liveNetworkId: liveNets[0] });
  rig.core.networkMappings.set(ctxId, 'DVS-PG-dvportgroup-42', { liveNetworkId: liveNets[1] });
  return { rig, ctxId, liveNets };
}

/** For each disk of the VM, whether its replica volume is attached to the OMA appliance again. */
export function replicasOnOma(rig: Rig, ctxId: string): boolean[] {
  const byVolume = new Map([...rig.cloudstack.state.volumes.values()].map((v) => [v.id, v]));
  return rig.core.contexts.disks(ctxId).map((d) => byVolume.get(d.cloudstackVolumeId!)?.virtualmachineid === rig.cloudstack.omaVmId);
}
