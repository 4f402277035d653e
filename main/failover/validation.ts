// Failover validation as a pure function over facts gathered beforehand: the findings are data, and
// errors block unless an override covers each of them (lesson 17: validation that cannot fail is a
// defect). Gathering the facts (database, CloudStack) lives in the failover service.
import type { FailoverType, VmContextStatus, VmNetwork } from '../../shared/domain';
import { findingRef, type Finding, type FailoverValidation, type NetworkMapping } from '../../shared/failover';
import { resolveBootDisk } from './boot-disk';

export interface DiskFacts {
  diskKey: string;
  unitNumber: number | null;
  lastChangeId: string | null;
  volumeId: string | null;
}

export interface VolumeFacts {
  id: string;
  virtualmachineid?: string;
  state?: string;
}

export interface OfferingFacts {
  name: string;
  iscustomized?: boolean;
  cpunumber?: number;
  /** MiB */
  memory?: number;
}

export interface ValidationFacts {
  kind: FailoverType;
  vm: {
    name: string;
    status: VmContextStatus;
    lastSuccessfulJobId: string | null;
    cpus: number;
    memoryMb: number;
    networks: VmNetwork[];
  };
  disks: DiskFacts[];
  bootDiskChoice: string | null;
  /** The VM's running replication job, if any. */
  activeJobId: string | null;
  /** Settings the failover needs that are not configured (names for the message). */
  missingConfig: string[];
  omaVmId: string | null;
  /** CloudStack's view of the replica volumes; null when CloudStack could not be asked. */
  volumes: VolumeFacts[] | null;
  cloudstackError?: string;
  mappings: NetworkMapping[];
  /** Network ids CloudStack lists; null when unknown. */
  networkIds: string[] | null;
  offering: OfferingFacts | null;
  /** Live only: the source's power state as the VMA reads it, null when it could not be read. */
  sourcePower?: string | null;
  sourcePowerError?: string;
}

export function validateFailover(f: ValidationFacts): Finding[] {
  const out: Finding[] = [];
  const err = (code: Finding['code'], message: string, subject?: string) =>
    out.push({ code, severity: 'error', message, ...(subject !== undefined ? { subject } : {}) });
  const warn = (code: Finding['code'], message: string, subject?: string) =>
    out.push({ code, severity: 'warning', message, ...(subject !== undefined ? { subject } : {}) });

  if (f.kind === 'live' && !f.sourcePower) {
    err('source_unreachable', `The VMA cannot read ${f.vm.name}'s power state${f.sourcePowerError ? `: ${f.sourcePowerError}` : ''}`);
  }
  if (f.missingConfig.length > 0) err('config_missing', `CloudStack settings missing for failover: ${f.missingConfig.join(', ')}`);

  // The replica: a completed sync, every disk with its change id. A torn replica is not
  // ready_for_failover (issue "Replica integrity" owns that rule; the status is what counts here).
  if (!f.vm.lastSuccessfulJobId) err('no_completed_sync', `${f.vm.name} has no completed sync`);
  for (const d of f.disks) {
    if (!d.lastChangeId) err('missing_change_id', `${d.diskKey} has no change id from a completed sync`, d.diskKey);
  }
  if (f.vm.status !== 'ready_for_failover') {
    err('not_ready', `${f.vm.name} is ${f.vm.status.replace(/_/g, ' ')}, not ready for failover`);
  }
  if (f.activeJobId) err('job_running', `Replication job ${f.activeJobId} is running`, f.activeJobId);

  // The volumes: each disk's replica exists in CloudStack and sits on the OMA appliance.
  // Any CloudStack question that went unanswered blocks: the volumes may have been listed before the
  // networks or the offering failed, and an unchecked mapping must not pass as a checked one.
  if (f.volumes === null || f.cloudstackError !== undefined) {
    err('cloudstack_unreachable', `CloudStack could not be asked about the volumes, networks and offering${f.cloudstackError ? `: ${f.cloudstackError}` : ''}`);
  }
  if (f.volumes !== null) {
    for (const d of f.disks) {
      const v = d.volumeId ? f.volumes.find((x) => x.id === d.volumeId) : undefined;
      if (!d.volumeId || !v) {
        err('volume_missing', `${d.diskKey} has no replica volume in CloudStack${d.volumeId ? ` (${d.volumeId} not found)` : ''}`, d.diskKey);
      } else if (!f.omaVmId || v.virtualmachineid !== f.omaVmId) {
        err('volume_not_on_oma', `${d.diskKey}'s volume ${v.id} is not attached to the OMA appliance`, d.diskKey);
      }
    }
  }

  // Boot disk.
  const boot = resolveBootDisk(f.disks, f.bootDiskChoice);
  if (boot.diskKey === null) err('boot_disk_unknown', `Pick the boot disk: ${boot.reason}`);
  else if (boot.how === 'unit_0') warn('boot_disk_assumed', `${boot.diskKey} (unit 0) is taken as the boot disk; pick another if that is wrong`, boot.diskKey);

  // Networks: every NIC's source network maps to a CloudStack network for this kind.
  if (f.vm.networks.length === 0) err('nic_unmapped', `${f.vm.name} has no network adapters to map`);
  const seen = new Set<string>();
  for (const nic of f.vm.networks) {
    if (seen.has(nic.networkName)) continue;
    seen.add(nic.networkName);
    const m = f.mappings.find((x) => x.sourceNetwork === nic.networkName);
    const target = f.kind === 'test' ? m?.testNetworkId : m?.liveNetworkId;
    if (!target) err('nic_unmapped', `Source network ${nic.networkName} has no ${f.kind} network mapped`, nic.networkName);
    else if (f.networkIds !== null && !f.networkIds.includes(target)) {
      err('network_unknown', `Source network ${nic.networkName} maps to ${target}, which CloudStack does not list`, nic.networkName);
    }
  }

  // Offering: a fixed offering must fit the VM's CPU and memory; a custom one gets them.
  if (f.offering && !f.offering.iscustomized) {
    const cpu = f.offering.cpunumber ?? 0;
    const mem = f.offering.memory ?? 0;
    if (cpu < f.vm.cpus || mem < f.vm.memoryMb) {
      err(
        'offering_too_small',
        `Service offering ${f.offering.name} (${cpu} CPU, ${mem} MiB) is smaller than the VM (${f.vm.cpus} CPU, ${f.vm.memoryMb} MiB)`,
      );
    }
  }
  return out;
}

/** Error findings an override does not name. */
export function uncovered(findings: readonly Finding[], overridden: readonly string[]): Finding[] {
  return findings.filter((f) => f.severity === 'error' && !overridden.includes(findingRef(f)) && !overridden.includes(f.code));
}

export function summarise(kind: FailoverType, findings: Finding[]): FailoverValidation {
  return { kind, findings, blocked: findings.some((f) => f.severity === 'error') };
}
