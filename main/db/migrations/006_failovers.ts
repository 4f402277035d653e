// Issue "Failover": one row per failover with its phase, what it created (VM, snapshots), the boot
// evidence, the validation findings and the operator's override; per-VM network mappings (source
// network → live and test CloudStack network; the global table of 001 has no VM) and the operator's boot-disk choice. The unused
// failover_jobs table of 001 stays: a shipped migration is never edited.
export const migration006 = `
CREATE TABLE failovers (
  id TEXT PRIMARY KEY,
  vm_context_id TEXT NOT NULL REFERENCES vm_contexts(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('test','live')),
  status TEXT NOT NULL CHECK (status IN (
    'pending','validating','snapshotting','powering_off','final_sync','creating_vm','starting_vm',
    'completed','failed','rolling_back','rolled_back','cleanup_required')),
  phase TEXT,
  cloudstack_vm_id TEXT,
  vm_name TEXT NOT NULL,
  snapshots_json TEXT NOT NULL DEFAULT '[]',
  evidence_json TEXT,
  findings_json TEXT NOT NULL DEFAULT '[]',
  override_by TEXT,
  override_at TEXT,
  override_findings_json TEXT,
  ports_json TEXT NOT NULL DEFAULT '[]',
  error TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  CHECK ((override_by IS NULL) = (override_at IS NULL))
);
CREATE INDEX failovers_context ON failovers(vm_context_id, started_at);
-- At most one failover owns a VM at a time, whatever races happen above the database.
CREATE UNIQUE INDEX failovers_one_open ON failovers(vm_context_id)
  WHERE status NOT IN ('failed','rolled_back');

CREATE TABLE vm_network_mappings (
  vm_context_id TEXT NOT NULL REFERENCES vm_contexts(id) ON DELETE CASCADE,
  source_network TEXT NOT NULL,
  live_network_id TEXT,
  test_network_id TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (vm_context_id, source_network)
);

CREATE TABLE boot_disk_choices (
  vm_context_id TEXT PRIMARY KEY REFERENCES vm_contexts(id) ON DELETE CASCADE,
  disk_key TEXT NOT NULL,
  chosen_at TEXT NOT NULL
);
`;
