// Which replicated disk becomes the root volume. Never "disk-2000" by assumption (lesson 23): the
// operator's stored choice wins, a single disk is unambiguous, and otherwise the one disk at unit
// number 0 (where VMware's BIOS boots from by default) is taken with a warning to check it.
export interface BootDiskCandidate {
  diskKey: string;
  unitNumber: number | null;
}

export type BootDiskResolution =
  | { diskKey: string; how: 'chosen' | 'only_disk' | 'unit_0' }
  | { diskKey: null; how: 'unknown'; reason: string };

export function resolveBootDisk(disks: readonly BootDiskCandidate[], choice: string | null): BootDiskResolution {
  if (choice !== null) {
    if (disks.some((d) => d.diskKey === choice)) return { diskKey: choice, how: 'chosen' };
    return { diskKey: null, how: 'unknown', reason: `the chosen boot disk ${choice} is no longer one of the VM's disks` };
  }
  if (disks.length === 1) return { diskKey: disks[0]!.diskKey, how: 'only_disk' };
  if (disks.length === 0) return { diskKey: null, how: 'unknown', reason: 'the VM has no disks' };
  const unit0 = disks.filter((d) => d.unitNumber === 0);
  if (unit0.length === 1) return { diskKey: unit0[0]!.diskKey, how: 'unit_0' };
  return { diskKey: null, how: 'unknown', reason: `${disks.length} disks and discovery cannot tell which one boots` };
}

/** The VM's disks in attach order: the boot disk first (root, device 0), then the rest in VMware disk order. */
export function attachOrder<T extends BootDiskCandidate>(disks: readonly T[], bootDiskKey: string): { root: T; data: T[] } {
  const root = disks.find((d) => d.diskKey === bootDiskKey);
  if (!root) throw new Error(`boot disk ${bootDiskKey} is not among the disks`);
  const data = disks
    .filter((d) => d !== root)
    .sort((a, b) => (a.unitNumber ?? Number.MAX_SAFE_INTEGER) - (b.unitNumber ?? Number.MAX_SAFE_INTEGER) || a.diskKey.localeCompare(b.diskKey));
  return { root, data };
}
