// Issue "Replica integrity", part 9: each claim asks, per disk, what that disk's latest finished copy
// reported (an empty change id makes its next sync full, JobRepository.claim); an index keeps that a
// lookup and not a scan of every job's disks.
export const migration011 = `
CREATE INDEX job_disks_vm_disk ON job_disks(vm_disk_id, status);
`;
