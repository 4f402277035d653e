// Failover vocabulary shared by the core, the contract and the renderer: phases (the names of the
// recorded steps), finding codes and the shapes a failover is reported in.
import type { FailoverStatus, FailoverType } from './domain';

/** Phases of a test failover and of its rollback, in order; each is one recorded step of the job log. */
export const FAILOVER_PHASES = {
  validate: 'Validate',
  powerOff: 'Power off the source VM',
  finalSync: 'Final incremental sync',
  snapshot: 'Snapshot every volume',
  deploy: 'Deploy the VM stopped',
  replaceRoot: 'Detach and delete the default root volume',
  moveVolumes: 'Move the replicated volumes to the VM',
  start: 'Start the VM',
  evidence: 'Collect boot evidence',
  removeVm: 'Stop and remove the CloudStack VM',
  revert: 'Revert each volume to its snapshot',
  deleteSnapshots: 'Delete the snapshots',
  reattach: 'Reattach the volumes to the OMA appliance',
  republish: 'Republish the NBD exports',
  powerOn: 'Power the source VM back on',
} as const;
export type FailoverPhaseKey = keyof typeof FAILOVER_PHASES;
export type FailoverPhase = (typeof FAILOVER_PHASES)[FailoverPhaseKey];

/** Failover statuses in which the failover is still working (a restart must compensate these). */
export const FAILOVER_WORKING_STATUSES: readonly FailoverStatus[] = [
  'pending',
  'validating',
  'snapshotting',
  'powering_off',
  'final_sync',
  'creating_vm',
  'starting_vm',
  'rolling_back',
];

export const FINDING_SEVERITIES = ['error', 'warning'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

export const FINDING_CODES = [
  'no_completed_sync',
  'missing_change_id',
  'not_ready',
  'job_running',
  'volume_missing',
  'volume_not_on_oma',
  'nic_unmapped',
  'network_unknown',
  'offering_too_small',
  'config_missing',
  'boot_disk_unknown',
  'boot_disk_assumed',
  'cloudstack_unreachable',
  'source_unreachable',
  'final_sync_skipped',
  'mac_not_kept',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export interface Finding {
  code: FindingCode;
  severity: FindingSeverity;
  message: string;
  /** What the finding is about (a disk key, a source network, a volume id), when it is about one thing. */
  subject?: string;
}

/** An operator's decision to fail over despite error findings. */
export interface FailoverOverride {
  by: string;
  at: string;
  /** The error findings the operator accepted, as `code` or `code:subject`. */
  findings: string[];
}

export interface FailoverSnapshot {
  diskKey: string;
  volumeId: string;
  snapshotId: string | null;
  /** True once the volume left the OMA appliance: rollback must revert it before it goes back. */
  moved: boolean;
}

export interface PortCheck {
  ip: string;
  port: number;
  open: boolean;
  detail: string;
}

export interface BootEvidence {
  state: string;
  ips: string[];
  portChecks: PortCheck[];
  /** Why port checks were not run, when they were not. */
  portChecksSkipped: string | null;
  /** The VM's NICs in the source's order (older failovers recorded none). */
  nics?: NicEvidence[];
  observedAt: string;
}

/** What the source VM gets when a live failover fails after powering it off. */
export const SOURCE_ON_FAILURE = ['power_on', 'keep_off'] as const;
export type SourceOnFailure = (typeof SOURCE_ON_FAILURE)[number];

/** The operator's choices for one failover (and its rollback), kept with it so a restart honours them. */
export interface FailoverRunOptions {
  /** Live: graceful shutdown time before the power-off is forced (the console's default when absent). */
  powerOffTimeoutSeconds?: number;
  /** Live: false skips the final incremental sync (writes since the last sync are lost). Default true. */
  finalSync?: boolean;
  /** Live: power the source back on when the failover fails (default), or leave it off. */
  sourceOnFailure?: SourceOnFailure;
  /** Ask CloudStack to give each NIC the source NIC's MAC address. */
  keepMacAddresses?: boolean;
  /** Live rollback: power the source back on and wait until it is on (default true). */
  rollbackPowerOn?: boolean;
}

/** One NIC of the created VM beside the source NIC it stands for, in the source's order. */
export interface NicEvidence {
  sourceNetwork: string;
  sourceMac: string;
  networkId: string;
  mac: string | null;
  ip: string | null;
}

export interface Failover {
  id: string;
  vmContextId: string;
  kind: FailoverType;
  status: FailoverStatus;
  phase: string | null;
  cloudstackVmId: string | null;
  vmName: string;
  snapshots: FailoverSnapshot[];
  evidence: BootEvidence | null;
  findings: Finding[];
  override: FailoverOverride | null;
  ports: number[];
  options: FailoverRunOptions;
  error: string | null;
  startedAt: string;
  endedAt: string | null;
}

export interface NetworkMapping {
  vmContextId: string;
  sourceNetwork: string;
  liveNetworkId: string | null;
  testNetworkId: string | null;
}

export interface FailoverValidation {
  kind: FailoverType;
  findings: Finding[];
  /** True when error findings stop a failover unless overridden. */
  blocked: boolean;
}

/** How a finding is named in an override: its code, and its subject when it has one. */
export const findingRef = (f: Pick<Finding, 'code' | 'subject'>): string => (f.subject ? `${f.code}:${f.subject}` : f.code);
