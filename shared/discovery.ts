import type { PowerState, VmNetwork } from './domain';

/** A disk as discovery reports it, normalised. `diskKey` is the VMware device key (`disk-2000`). */
export interface DiscoveredDisk {
  diskKey: string;
  label: string;
  vmdkPath: string;
  datastore: string;
  capacityBytes: number;
  provisioningType: string;
  unitNumber: number | null;
}

/** One VM from a VMA discovery, after the single normaliser. */
export interface DiscoveredVm {
  vmwareVmId: string;
  name: string;
  path: string;
  datacenter: string;
  cpus: number;
  memoryMb: number;
  osType: string;
  powerState: PowerState;
  vmxVersion: string;
  disks: DiscoveredDisk[];
  networks: VmNetwork[];
}

export interface DiscoveryRow extends DiscoveredVm {
  /** Id of the VM context when this VM is already managed. */
  managedContextId: string | null;
}

export interface DiscoveryResult {
  discoveryId: string;
  vcenterHost: string;
  datacenter: string;
  vms: DiscoveryRow[];
  durationMs: number;
}

export interface AddContextsResult {
  added: { contextId: string; name: string }[];
  conflicts: { vmwareVmId: string; name: string; message: string }[];
}
