import type { NormalisedDiscovery } from '../vma/normalise';

// What the engine needs from the outside world, as narrow interfaces. Adapters in main/engine/adapters
// bind them to the real VMA client, CloudStack client and OMA appliance manager; tests use the same
// adapters against the simulators and real nbdkit/sshd.

/** Progress as the VMA reports it (GET /api/v1/progress/{job_id}); every field may be missing. */
export interface VmaProgress {
  status?: string;
  sync_type?: string;
  phase?: string;
  percentage?: number;
  current_operation?: string;
  bytes_transferred?: number;
  total_bytes?: number;
  throughput?: { current_mbps?: number; average_mbps?: number };
  timing?: { eta_seconds?: number };
  errors?: unknown[];
  last_error?: unknown;
  disk_progresses?: { disk_id?: string; bytes_transferred?: number; total_bytes?: number; percent?: number; status?: string }[];
}

export interface VmaJobStatus {
  status?: string;
  progress_percent?: number;
}

export interface VcenterLogin {
  vcenter: string;
  username: string;
  password: string;
  datacenter: string;
}

export interface ReplicateRequest {
  job_id: string;
  vcenter: string;
  username: string;
  password: string;
  vm_paths: string[];
  oma_url: string;
  nbd_targets: { device_path: string; vmware_disk_key: string }[];
}

export interface VmaApi {
  /** Discovery, already through the single normaliser (main/vma/normalise). */
  discover(login: VcenterLogin, filter: string | undefined, timeoutMs: number): Promise<NormalisedDiscovery>;
  replicate(request: ReplicateRequest): Promise<{ status?: string }>;
  progress(jobId: string): Promise<{ found: false } | { found: true; progress: VmaProgress }>;
  status(jobId: string): Promise<{ found: false } | { found: true; status: VmaJobStatus }>;
  cleanup(jobId: string): Promise<void>;
}

export interface CsVolume {
  id: string;
  name: string;
  size: number;
  virtualmachineid?: string | null;
  state?: string;
}

export interface CloudStackApi {
  getVolume(id: string): Promise<CsVolume | null>;
  createVolume(input: { name: string; zoneId: string; diskOfferingId: string; sizeGiB: number }): Promise<CsVolume>;
  attachVolume(volumeId: string, vmId: string): Promise<void>;
  detachVolume(volumeId: string): Promise<void>;
  deleteVolume(volumeId: string): Promise<void>;
}

export interface OmaApi {
  waitForDevice(volumeId: string): Promise<string>;
  ensureNbdkitRunning(): Promise<void>;
  publishExport(volumeId: string, devicePath: string): Promise<string>;
  verifyExport(volumeId: string): Promise<number>;
  withdrawExport(volumeId: string): Promise<void>;
  /**
   * Publishes the volume's export and checks it opens (size in bytes); one round trip to the
   * appliance when nbdkit runs and the device is there, the step-by-step path otherwise.
   */
  publishAndVerify(volumeId: string): Promise<{ devicePath: string; exportName: string; sizeBytes: number }>;
}

/** The CloudStack settings a replication needs, resolved at the moment it is needed. */
export interface TargetSettings {
  zoneId: string;
  diskOfferingId: string;
  omaVmId: string;
  omaApplianceId: string;
  headroomPercent: number;
  /** NBD server as the VMA reaches it. */
  nbdHost: string;
  nbdPort: number;
}

export interface EnginePorts {
  vma(applianceId: string): VmaApi;
  /** Port of the callback API as the VMA reaches it (its remote forward). */
  callbackPort(applianceId: string): number;
  /**
   * Issues this job's random callback token and returns the `oma_url` for its replicate request
   * (`http://127.0.0.1:<port>/<token>`). Throws an AppError naming the port and the likely holder
   * unless this console's own remote forward on that VMA is bound (a forward still being requested
   * after a reconnect is given a few seconds). Called
   * immediately before `replicate` (issue "Replica integrity", part 2).
   */
  callbackUrl(applianceId: string, jobId: string): Promise<string>;
  cloudstack(): CloudStackApi;
  oma(applianceId: string): OmaApi;
  target(): TargetSettings;
  login(credentialId: string): VcenterLogin;
}
