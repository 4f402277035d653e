// Issue "Scheduled syncs": the scheduler model as it behaves. Migration 1 created these tables before
// any code wrote them; they are reshaped here, not re-created, so a database that holds rows keeps
// them. Renames keep the foreign keys of replication_jobs pointing at the renamed tables (SQLite
// rewrites references on RENAME). schedule_executions is rebuilt: its trigger and status CHECKs
// change, and no shipped version wrote an execution.
export const migration004 = `
DROP TABLE schedule_executions;

ALTER TABLE machine_groups RENAME TO vm_groups;
ALTER TABLE vm_groups ADD COLUMN replica_age_target_seconds INTEGER
  CHECK (replica_age_target_seconds IS NULL OR replica_age_target_seconds > 0);
ALTER TABLE group_memberships RENAME TO vm_group_members;
CREATE INDEX vm_group_members_context ON vm_group_members(vm_context_id);

ALTER TABLE schedules ADD COLUMN sync_type TEXT NOT NULL DEFAULT 'auto' CHECK (sync_type IN ('auto','full'));
ALTER TABLE schedules ADD COLUMN retry_delay_seconds INTEGER NOT NULL DEFAULT 300 CHECK (retry_delay_seconds >= 0);
UPDATE schedules SET retry_delay_seconds = retry_delay_minutes * 60;
ALTER TABLE schedules ADD COLUMN catch_up TEXT NOT NULL DEFAULT 'run_once' CHECK (catch_up IN ('skip','run_once'));
UPDATE schedules SET catch_up = CASE catch_up_policy WHEN 'skip' THEN 'skip' ELSE 'run_once' END;
-- The latest cron slot already accounted for (run, or passed over by the catch-up policy): missed-run
-- detection starts after it. next_run_at is dropped: the next run is computed from the expression.
ALTER TABLE schedules ADD COLUMN last_slot_at TEXT;
ALTER TABLE schedules DROP COLUMN retry_delay_minutes;
ALTER TABLE schedules DROP COLUMN catch_up_policy;
ALTER TABLE schedules DROP COLUMN next_run_at;

CREATE TABLE schedule_executions (
  id TEXT PRIMARY KEY,
  schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  trigger TEXT NOT NULL CHECK (trigger IN ('scheduled','manual','catch_up')),
  status TEXT NOT NULL CHECK (status IN ('running','completed','partial','failed','skipped')),
  scheduled_for TEXT NOT NULL,
  eligible INTEGER NOT NULL DEFAULT 0 CHECK (eligible >= 0),
  started INTEGER NOT NULL DEFAULT 0 CHECK (started >= 0),
  skipped_json TEXT NOT NULL DEFAULT '{}',
  completed INTEGER NOT NULL DEFAULT 0 CHECK (completed >= 0),
  failed INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
  retried INTEGER NOT NULL DEFAULT 0 CHECK (retried >= 0),
  start_failures_json TEXT NOT NULL DEFAULT '[]',
  note TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  CHECK ((status = 'running') = (ended_at IS NULL))
);
CREATE INDEX schedule_executions_schedule ON schedule_executions(schedule_id, started_at);
-- One running execution per schedule, whichever process tries: runs of a schedule never overlap.
CREATE UNIQUE INDEX schedule_executions_one_running ON schedule_executions(schedule_id) WHERE status = 'running';
CREATE INDEX replication_jobs_execution ON replication_jobs(schedule_execution_id);
`;
