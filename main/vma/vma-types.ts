// Wire types of the VMA API (port 8081), spelled as the appliance spells them (snake_case), so the
// client and the simulator share one contract. See shared/reference/vma-api.md.

/** vCenter credentials; travel in request bodies (and, for two GETs, in the VMA's own query design). */
export interface VmaVcenterCredentials {
  vcenter: string;
  username: string;
  password: string;
}

export interface VmaHealthResponse {
  status: string;
  timestamp: string;
  uptime: string;
  /** The whole body as received, so the console can record whatever identity the VMA reports. */
  raw: Record<string, unknown>;
}

export interface VmaDiscoverRequest extends VmaVcenterCredentials {
  datacenter: string;
  /** Comma-separated, case-insensitive substrings of VM names. */
  filter?: string;
}

export interface VmaNbdTarget {
  /** `nbd://<host>:<port>/<export>` */
  device_path: string;
  /** VMware device key without the `disk-` prefix, e.g. `2000`. */
  vmware_disk_key: string;
}

export interface VmaReplicateRequest extends VmaVcenterCredentials {
  job_id: string;
  /** The console always sends exactly one path. */
  vm_paths: string[];
  /** Where the VMA reaches the change-ID callback API, e.g. http://localhost:8082. */
  oma_url: string;
  nbd_targets: VmaNbdTarget[];
}

export interface VmaReplicateResponse {
  job_id: string;
  /** Always "started" on the real VMA, even when the copy could not start. */
  status: string;
  vm_count: number;
  started_at: string;
}

export interface VmaThroughput {
  current_mbps: number;
  average_mbps: number;
  peak_mbps: number;
  last_update: string;
}

export interface VmaTiming {
  start_time: string;
  last_update: string;
  elapsed_ms: number;
  phase_start: string;
  phase_elapsed_ms: number;
  eta_seconds: number;
}

export interface VmaDiskProgress {
  disk_id: string;
  label: string;
  bytes_transferred: number;
  total_bytes: number;
  percent: number;
  throughput_mbps: number;
  status: string;
}

export interface VmaProgress {
  job_id: string;
  /** `in_progress`, `completed` (after EACH disk), in theory `failed`. */
  status: string;
  sync_type: 'full' | 'incremental' | '';
  phase: string;
  percentage: number;
  current_operation: string;
  bytes_transferred: number;
  total_bytes: number;
  throughput: VmaThroughput;
  timing: VmaTiming;
  vm_info: Record<string, unknown>;
  phases: unknown[];
  errors: unknown[];
  last_error: unknown;
  /** Usually absent on the real VMA. */
  disk_progresses?: VmaDiskProgress[];
}

export interface VmaJobStatus {
  job_id: string;
  /** `running` for the life of the copy process, then `completed` (or `failed`). */
  status: string;
  progress_percent: number;
  current_operation: string;
  start_time: string;
  last_update: string;
  vm_path?: string;
}

export type VmaLookup<T> = { found: true; value: T } | { found: false };

export interface VmaPowerRequest extends VmaVcenterCredentials {
  force?: boolean;
  /** Seconds the VMA waits for a graceful shutdown (VMA default 300). */
  timeout?: number;
}

export interface VmaPowerResponse {
  success: boolean;
  vm_id: string;
  previous_state: string;
  new_state: string;
  operation: string;
  shutdown_method?: string;
  tools_status?: string;
  duration_seconds: number;
  timestamp: string;
  message?: string;
}

export interface VmaCbtStatus {
  enabled: boolean;
  vm_name: string;
  power_state: string;
  vm_path: string;
}

export type VmaCleanupAction = 'cleanup_all' | 'delete_snapshot';

export interface VmaCleanupRequest {
  job_id: string;
  action: VmaCleanupAction;
}

// The callback API the console serves to the VMA (through the SSH remote forward).

export interface ChangeIdLookupResponse {
  vm_path: string;
  disk_id: string;
  /** Empty = no usable change id: full copy of that disk. */
  change_id: string;
  message: string;
}

export interface ChangeIdReport {
  change_id: string;
  disk_id: string;
  previous_change_id?: string;
}

export interface ChangeIdReportResponse {
  job_id: string;
  disk_id: string;
  change_id: string;
  message: string;
}
