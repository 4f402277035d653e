// A discovered VM for unit tests: two disks of different sizes in unit order, like the seeds' pgtest VMs.
import type { DiscoveredVm } from '../../shared/discovery';

const MiB = 1024 * 1024;

export function twoDiskVm(overrides: Partial<DiscoveredVm> = {}): DiscoveredVm {
  return {
    vmwareVmId: '4205784a-098a-40f1-1f1e-a5cd2597fd59',
    name: 'pgtest1',
    path: '/DC/vm/pgtest1',
    datacenter: 'DC',
    cpus: 2,
    memoryMb: 4096,
    osType: 'linux',
    powerState: 'poweredOn',
    vmxVersion: 'vmx-19',
    disks: [
      { diskKey: 'disk-2000', label: 'Hard disk 1', vmdkPath: '[ds] a.vmdk', datastore: 'ds', capacityBytes: 24 * MiB, provisioningType: 'thin', unitNumber: 0 },
      { diskKey: 'disk-2001', label: 'Hard disk 2', vmdkPath: '[ds] b.vmdk', datastore: 'ds', capacityBytes: 16 * MiB, provisioningType: 'thin', unitNumber: 1 },
    ],
    networks: [],
    ...overrides,
  };
}
