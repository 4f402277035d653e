import type { CloudStackClient } from '../cloudstack/client';
import type { OmaApi } from '../engine/ports';
import type { RemoteShell } from '../oma/remote-shell';

/** CloudStack settings a failover uses, as configured (null where not set). */
export interface FailoverSettings {
  zoneId: string | null;
  templateId: string | null;
  serviceOfferingId: string | null;
  omaVmId: string | null;
  omaApplianceId: string | null;
}

/** The source VM's power through its VMA (vm id = the BIOS uuid from discovery). */
export interface SourcePower {
  state(): Promise<string>;
  /** Returns the state the VMA reports right after the request (a graceful one often still says poweredOn). */
  off(force: boolean, timeoutSeconds: number): Promise<string>;
  on(): Promise<string>;
}

export interface FinalSyncOutcome {
  jobId: string;
  status: string;
  error: string | null;
}

/** What the failover service needs from the outside, resolved at the time of use. */
export interface FailoverPorts {
  cloudstack(): CloudStackClient;
  settings(): FailoverSettings;
  oma(applianceId: string): OmaApi;
  shell(applianceId: string): Promise<RemoteShell>;
  power(contextId: string): SourcePower;
  /** One incremental sync through the canonical path, waited for; a timeout cancels it. */
  finalSync(contextId: string, timeoutMs: number): Promise<FinalSyncOutcome>;
  /**
   * Cancels the VM's final sync if one still runs (the owner restarted while waiting for it) and
   * resolves with its job id, or null when none runs.
   */
  cancelFinalSync(contextId: string): Promise<string | null>;
}
