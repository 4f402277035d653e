// Issue "Replica integrity", part 1: each job's change-ID callbacks carry a random token. Only its
// SHA-256 is stored: the database never holds a credential in plaintext.
export const migration002 = `
CREATE TABLE callback_tokens (
  job_id TEXT PRIMARY KEY REFERENCES replication_jobs(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  vma_appliance_id TEXT NOT NULL,
  created_at TEXT NOT NULL
);
`;
