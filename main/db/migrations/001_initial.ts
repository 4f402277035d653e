// Migration 1: the whole domain schema. Status CHECK lists must match the unions in shared/domain.ts
// (database.test.ts proves every union value is accepted and anything else is refused).
export const migration001 = `
CREATE TABLE appliances (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('vma','oma')),
  name TEXT NOT NULL UNIQUE,
  host TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
  username TEXT NOT NULL,
  auth_method TEXT NOT NULL CHECK (auth_method IN ('password','private_key')),
  secret_ref TEXT,
  host_key_fingerprint TEXT,
  host_key_pinned_at TEXT,
  api_port INTEGER NOT NULL DEFAULT 8081 CHECK (api_port BETWEEN 1 AND 65535),
  callback_port INTEGER NOT NULL DEFAULT 8082 CHECK (callback_port BETWEEN 1 AND 65535),
  nbd_host TEXT,
  nbd_port INTEGER CHECK (nbd_port IS NULL OR nbd_port BETWEEN 1 AND 65535),
  cloudstack_vm_id TEXT,
  settings_json TEXT NOT NULL DEFAULT '{}',
  reported_identity_json TEXT,
  identity_checked_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE vcenter_credentials (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  vcenter_host TEXT NOT NULL,
  username TEXT NOT NULL,
  datacenter TEXT NOT NULL,
  secret_ref TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE cloudstack_configs (
  id TEXT PRIMARY KEY,
  api_url TEXT NOT NULL,
  api_key_ref TEXT,
  secret_key_ref TEXT,
  zone_id TEXT,
  disk_offering_id TEXT,
  service_offering_id TEXT,
  template_id TEXT,
  default_network_id TEXT,
  oma_appliance_id TEXT REFERENCES appliances(id) ON DELETE SET NULL,
  oma_vm_id TEXT,
  volume_headroom_percent REAL NOT NULL DEFAULT 5 CHECK (volume_headroom_percent BETWEEN 0 AND 100),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE network_mappings (
  id TEXT PRIMARY KEY,
  source_network_name TEXT NOT NULL,
  target_network_id TEXT NOT NULL,
  is_test INTEGER NOT NULL DEFAULT 0 CHECK (is_test IN (0,1)),
  created_at TEXT NOT NULL,
  UNIQUE (source_network_name, is_test)
);

CREATE TABLE vm_contexts (
  id TEXT PRIMARY KEY,
  vmware_vm_id TEXT NOT NULL,
  vcenter_host TEXT NOT NULL,
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  datacenter TEXT NOT NULL DEFAULT '',
  cpus INTEGER NOT NULL DEFAULT 2 CHECK (cpus > 0),
  memory_mb INTEGER NOT NULL DEFAULT 4096 CHECK (memory_mb > 0),
  os_type TEXT NOT NULL DEFAULT 'otherGuest',
  power_state TEXT NOT NULL DEFAULT 'poweredOn' CHECK (power_state IN ('poweredOn','poweredOff','suspended','unknown')),
  vmx_version TEXT NOT NULL DEFAULT '',
  networks_json TEXT NOT NULL DEFAULT '[]',
  current_status TEXT NOT NULL DEFAULT 'discovered' CHECK (current_status IN (
    'discovered','replicating','ready_for_failover','failing_over','failed_over_test',
    'failed_over_live','rolling_back','failed','cleanup_required')),
  current_job_id TEXT REFERENCES replication_jobs(id) ON DELETE SET NULL,
  total_jobs INTEGER NOT NULL DEFAULT 0 CHECK (total_jobs >= 0),
  successful_jobs INTEGER NOT NULL DEFAULT 0 CHECK (successful_jobs >= 0),
  failed_jobs INTEGER NOT NULL DEFAULT 0 CHECK (failed_jobs >= 0),
  last_successful_job_id TEXT REFERENCES replication_jobs(id) ON DELETE SET NULL,
  last_error TEXT,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),
  credential_id TEXT REFERENCES vcenter_credentials(id) ON DELETE SET NULL,
  vma_appliance_id TEXT REFERENCES appliances(id) ON DELETE SET NULL,
  last_discovered_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (vmware_vm_id, vcenter_host)
);
CREATE INDEX vm_contexts_name ON vm_contexts(name);

CREATE TABLE machine_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  schedule_id TEXT REFERENCES schedules(id) ON DELETE SET NULL,
  max_concurrent_vms INTEGER NOT NULL DEFAULT 5 CHECK (max_concurrent_vms > 0),
  priority INTEGER NOT NULL DEFAULT 100,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  cron_expression TEXT NOT NULL,
  timezone TEXT NOT NULL DEFAULT 'UTC',
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),
  catch_up_policy TEXT NOT NULL DEFAULT 'run_once' CHECK (catch_up_policy IN ('skip','run_once','run_all')),
  max_concurrent_jobs INTEGER NOT NULL DEFAULT 10 CHECK (max_concurrent_jobs > 0),
  retry_attempts INTEGER NOT NULL DEFAULT 0 CHECK (retry_attempts >= 0),
  retry_delay_minutes INTEGER NOT NULL DEFAULT 5 CHECK (retry_delay_minutes >= 0),
  skip_if_running INTEGER NOT NULL DEFAULT 1 CHECK (skip_if_running IN (0,1)),
  last_run_at TEXT,
  next_run_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE group_memberships (
  group_id TEXT NOT NULL REFERENCES machine_groups(id) ON DELETE CASCADE,
  vm_context_id TEXT NOT NULL REFERENCES vm_contexts(id) ON DELETE CASCADE,
  priority INTEGER NOT NULL DEFAULT 100,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),
  added_at TEXT NOT NULL,
  PRIMARY KEY (group_id, vm_context_id)
);

CREATE TABLE schedule_executions (
  id TEXT PRIMARY KEY,
  schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  group_id TEXT REFERENCES machine_groups(id) ON DELETE SET NULL,
  status TEXT NOT NULL CHECK (status IN ('running','completed','partial','failed','skipped','cancelled')),
  trigger TEXT NOT NULL CHECK (trigger IN ('cron','manual','catch_up','retry')),
  scheduled_for TEXT NOT NULL,
  started_at TEXT NOT NULL,
  completed_at TEXT,
  vms_eligible INTEGER NOT NULL DEFAULT 0,
  jobs_created INTEGER NOT NULL DEFAULT 0,
  jobs_completed INTEGER NOT NULL DEFAULT 0,
  jobs_failed INTEGER NOT NULL DEFAULT 0,
  jobs_skipped INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  details_json TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE replication_jobs (
  id TEXT PRIMARY KEY,
  vm_context_id TEXT NOT NULL REFERENCES vm_contexts(id) ON DELETE CASCADE,
  job_type TEXT NOT NULL CHECK (job_type IN ('initial','incremental')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN (
    'pending','provisioning','attaching','exporting','starting','replicating','completed','failed','cancelled')),
  phase TEXT NOT NULL DEFAULT '',
  progress_percent REAL NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
  bytes_transferred INTEGER NOT NULL DEFAULT 0,
  total_bytes INTEGER NOT NULL DEFAULT 0,
  rate_bps REAL NOT NULL DEFAULT 0,
  eta_seconds INTEGER,
  error TEXT,
  vm_path TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('ui','cli','scheduler','failover')),
  schedule_execution_id TEXT REFERENCES schedule_executions(id) ON DELETE SET NULL,
  vm_group_id TEXT REFERENCES machine_groups(id) ON DELETE SET NULL,
  scheduled_by TEXT,
  vma_appliance_id TEXT REFERENCES appliances(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  updated_at TEXT NOT NULL,
  completed_at TEXT,
  CHECK ((status IN ('completed','failed','cancelled')) = (completed_at IS NOT NULL))
);
CREATE INDEX replication_jobs_context ON replication_jobs(vm_context_id, created_at);
CREATE INDEX replication_jobs_status ON replication_jobs(status);
-- At most one active job per VM context, whatever races happen above the database.
CREATE UNIQUE INDEX replication_jobs_one_active ON replication_jobs(vm_context_id)
  WHERE status NOT IN ('completed','failed','cancelled');

CREATE TABLE vm_disks (
  id INTEGER PRIMARY KEY,
  vm_context_id TEXT NOT NULL REFERENCES vm_contexts(id) ON DELETE CASCADE,
  disk_key TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  vmdk_path TEXT NOT NULL DEFAULT '',
  datastore TEXT NOT NULL DEFAULT '',
  capacity_bytes INTEGER NOT NULL CHECK (capacity_bytes >= 0),
  provisioning_type TEXT NOT NULL DEFAULT 'unknown',
  unit_number INTEGER,
  present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0,1)),
  last_change_id TEXT,
  last_change_id_at TEXT,
  last_change_id_job_id TEXT REFERENCES replication_jobs(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (vm_context_id, disk_key)
);

CREATE TABLE cloudstack_volumes (
  id TEXT PRIMARY KEY,
  vm_disk_id INTEGER UNIQUE REFERENCES vm_disks(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
  zone_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('creating','detached','attached','deleted','error')),
  attached_vm_id TEXT,
  device_path TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE nbd_exports (
  id INTEGER PRIMARY KEY,
  export_name TEXT NOT NULL UNIQUE,
  volume_id TEXT NOT NULL UNIQUE REFERENCES cloudstack_volumes(id) ON DELETE CASCADE,
  appliance_id TEXT REFERENCES appliances(id) ON DELETE SET NULL,
  device_path TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','active','removed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE job_disks (
  job_id TEXT NOT NULL REFERENCES replication_jobs(id) ON DELETE CASCADE,
  vm_disk_id INTEGER NOT NULL REFERENCES vm_disks(id) ON DELETE CASCADE,
  disk_key TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','transferring','completed','failed')),
  sync_type TEXT NOT NULL CHECK (sync_type IN ('initial','incremental')),
  previous_change_id TEXT,
  change_id TEXT,
  bytes_transferred INTEGER NOT NULL DEFAULT 0,
  total_bytes INTEGER NOT NULL DEFAULT 0,
  percent REAL NOT NULL DEFAULT 0 CHECK (percent BETWEEN 0 AND 100),
  volume_id TEXT REFERENCES cloudstack_volumes(id) ON DELETE SET NULL,
  export_name TEXT,
  PRIMARY KEY (job_id, vm_disk_id),
  UNIQUE (job_id, disk_key)
);

CREATE TABLE cbt_history (
  id INTEGER PRIMARY KEY,
  vm_context_id TEXT NOT NULL REFERENCES vm_contexts(id) ON DELETE CASCADE,
  vm_disk_id INTEGER NOT NULL REFERENCES vm_disks(id) ON DELETE CASCADE,
  job_id TEXT REFERENCES replication_jobs(id) ON DELETE SET NULL,
  disk_key TEXT NOT NULL,
  sync_type TEXT NOT NULL CHECK (sync_type IN ('initial','incremental')),
  previous_change_id TEXT,
  change_id TEXT,
  bytes_transferred INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX cbt_history_context ON cbt_history(vm_context_id, created_at);

-- Jobs the progress poller owns; persisted so a restart resumes and reconciles them.
CREATE TABLE polled_jobs (
  job_id TEXT PRIMARY KEY REFERENCES replication_jobs(id) ON DELETE CASCADE,
  appliance_id TEXT REFERENCES appliances(id) ON DELETE SET NULL,
  started_polling_at TEXT NOT NULL,
  last_poll_at TEXT,
  last_change_at TEXT NOT NULL,
  first_seen_at TEXT,
  unreachable_since TEXT,
  not_found_since TEXT,
  next_poll_at TEXT,
  consecutive_errors INTEGER NOT NULL DEFAULT 0,
  last_fingerprint TEXT
);

CREATE TABLE failover_jobs (
  id TEXT PRIMARY KEY,
  vm_context_id TEXT NOT NULL REFERENCES vm_contexts(id) ON DELETE CASCADE,
  failover_type TEXT NOT NULL CHECK (failover_type IN ('test','live')),
  status TEXT NOT NULL CHECK (status IN (
    'pending','validating','snapshotting','powering_off','final_sync','creating_vm','starting_vm',
    'completed','failed','rolling_back','rolled_back','cleanup_required')),
  validation_json TEXT,
  validation_overridden INTEGER NOT NULL DEFAULT 0 CHECK (validation_overridden IN (0,1)),
  override_reason TEXT,
  cloudstack_vm_id TEXT,
  snapshot_ids_json TEXT NOT NULL DEFAULT '[]',
  final_sync_job_id TEXT REFERENCES replication_jobs(id) ON DELETE SET NULL,
  error TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  completed_at TEXT
);

CREATE TABLE log_operations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('replication','failover','rollback','discovery','schedule','cleanup','appliance')),
  vm_context_id TEXT REFERENCES vm_contexts(id) ON DELETE SET NULL,
  status TEXT NOT NULL CHECK (status IN ('running','completed','failed','cancelled')),
  title TEXT NOT NULL,
  started_at TEXT NOT NULL,
  completed_at TEXT,
  error TEXT
);
CREATE INDEX log_operations_context ON log_operations(vm_context_id, started_at);

CREATE TABLE log_steps (
  id INTEGER PRIMARY KEY,
  operation_id TEXT NOT NULL REFERENCES log_operations(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','running','completed','failed','skipped','cancelled')),
  started_at TEXT,
  completed_at TEXT,
  duration_ms INTEGER,
  error TEXT,
  UNIQUE (operation_id, seq)
);

CREATE TABLE log_events (
  id INTEGER PRIMARY KEY,
  operation_id TEXT NOT NULL REFERENCES log_operations(id) ON DELETE CASCADE,
  step_id INTEGER REFERENCES log_steps(id) ON DELETE SET NULL,
  level TEXT NOT NULL CHECK (level IN ('debug','info','warn','error')),
  message TEXT NOT NULL,
  details_json TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX log_events_operation ON log_events(operation_id, id);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value_json TEXT NOT NULL
);
`;
