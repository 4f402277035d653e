// Issue 12 "Logs that see everything": the log also records VM additions and removals ('inventory'),
// vCenter credential changes ('credential') and CloudStack configuration changes ('cloudstack').
// SQLite cannot alter a CHECK constraint, so log_operations is rebuilt. Its children are copied aside
// first and recreated after: dropping the parent while they exist would cascade-delete their rows
// (foreign keys stay on inside the migration transaction). Events are searched by time (date range).
export const migration010 = `
CREATE TEMP TABLE keep_log_steps AS SELECT * FROM log_steps;
CREATE TEMP TABLE keep_log_events AS SELECT * FROM log_events;
DROP TABLE log_events;
DROP TABLE log_steps;
CREATE TABLE log_operations_next (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('replication','failover','rollback','discovery','schedule','cleanup','appliance','inventory','credential','cloudstack')),
  vm_context_id TEXT REFERENCES vm_contexts(id) ON DELETE SET NULL,
  status TEXT NOT NULL CHECK (status IN ('running','completed','failed','cancelled')),
  title TEXT NOT NULL,
  started_at TEXT NOT NULL,
  completed_at TEXT,
  error TEXT
);
INSERT INTO log_operations_next SELECT id, kind, vm_context_id, status, title, started_at, completed_at, error FROM log_operations;
DROP TABLE log_operations;
ALTER TABLE log_operations_next RENAME TO log_operations;
CREATE INDEX log_operations_context ON log_operations(vm_context_id, started_at);
CREATE INDEX log_operations_started ON log_operations(started_at);

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
INSERT INTO log_steps SELECT id, operation_id, seq, name, status, started_at, completed_at, duration_ms, error FROM keep_log_steps;

CREATE TABLE log_events (
  id INTEGER PRIMARY KEY,
  operation_id TEXT NOT NULL REFERENCES log_operations(id) ON DELETE CASCADE,
  step_id INTEGER REFERENCES log_steps(id) ON DELETE SET NULL,
  level TEXT NOT NULL CHECK (level IN ('debug','info','warn','error')),
  message TEXT NOT NULL,
  details_json TEXT,
  created_at TEXT NOT NULL
);
INSERT INTO log_events SELECT id, operation_id, step_id, level, message, details_json, created_at FROM keep_log_events;
CREATE INDEX log_events_operation ON log_events(operation_id, id);
CREATE INDEX log_events_created ON log_events(created_at);
DROP TABLE keep_log_steps;
DROP TABLE keep_log_events;
`;
