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

/** What the failover service needs from the outside, resolved at the time of use. */
export interface FailoverPorts {
  cloudstack(): CloudStackClient;
  settings(): FailoverSettings;
  oma(applianceId: string): OmaApi;
  shell(applianceId: string): Promise<RemoteShell>;
}
