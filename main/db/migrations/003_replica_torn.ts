// Issue "Replica integrity": a sync that may have written blocks and did not complete leaves the
// replica torn (part of a newer sync over an older one). The context remembers the job that tore it
// until a sync completes. Deliberately no foreign key: deleting that job's record must not make a
// torn replica look consistent again.
// A job records when the replicate request was sent: from then on the copier may write the volumes,
// so a failure or cancel after that point tears the replica; before it, the previous replica is intact.
// Job and disk byte totals mean "bytes this sync must move, as the VMA reports them" (0 until it says);
// the capacity the job covers is kept apart so a total never switches meaning mid-job.
export const migration003 = `
ALTER TABLE vm_contexts ADD COLUMN replica_torn_job_id TEXT;
ALTER TABLE replication_jobs ADD COLUMN copy_requested_at TEXT;
ALTER TABLE replication_jobs ADD COLUMN capacity_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE replication_jobs SET capacity_bytes = (
  SELECT COALESCE(SUM(d.capacity_bytes), 0) FROM job_disks jd JOIN vm_disks d ON d.id = jd.vm_disk_id
  WHERE jd.job_id = replication_jobs.id);
`;
