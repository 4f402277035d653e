// The simulated vCenter inventory behind the VMA simulator, and its rendering as the real VMA's
// discovery JSON (shared/reference/vma-api.md), quirks included: `cpus: 0` and `os_type: ""` are
// declared aliases the real appliance leaves empty, NICs carry `"name": ""` and `"type": ""`.

export interface SimDiskSpec {
  /** VMware device key, e.g. 2000 (discovery shows it as `disk-2000`). */
  key: number;
  capacityBytes: number;
  label?: string;
  datastore?: string;
  /** Datastore path of the vmdk; derived from the VM name when omitted. */
  vmdkPath?: string;
  provisioning?: 'thin' | 'thick' | 'unknown';
  unitNumber?: number;
}

export interface SimNicSpec {
  label?: string;
  /** May be a placeholder such as `DVS-PG-dvportgroup-42` or empty, as the real VMA reports. */
  networkName: string;
  adapterType?: 'vmxnet3' | 'e1000' | 'e1000e' | 'unknown';
  macAddress?: string;
  connected?: boolean;
}

export interface SimVmSpec {
  /** VMware BIOS uuid. */
  id: string;
  name: string;
  datacenter: string;
  /** `/DC/vm/folder/name`; derived from datacenter, folder and name when omitted. */
  path?: string;
  folder?: string;
  powerState?: 'poweredOn' | 'poweredOff' | 'suspended' | 'unknown';
  guestOs?: 'windows' | 'linux' | 'unknown';
  memoryMb?: number;
  numCpu?: number;
  vmxVersion?: string;
  annotation?: string;
  cbtEnabled?: boolean;
  toolsStatus?: string;
  disks: SimDiskSpec[];
  networks: SimNicSpec[];
}

/** A VM as the simulator holds it: every optional field resolved. */
export interface SimVm {
  id: string;
  name: string;
  datacenter: string;
  path: string;
  folder: string;
  powerState: 'poweredOn' | 'poweredOff' | 'suspended' | 'unknown';
  guestOs: 'windows' | 'linux' | 'unknown';
  memoryMb: number;
  numCpu: number;
  vmxVersion: string;
  annotation: string;
  cbtEnabled: boolean;
  toolsStatus: string;
  disks: Required<SimDiskSpec>[];
  networks: Required<SimNicSpec>[];
}

export function resolveVm(spec: SimVmSpec): SimVm {
  if (spec.id.trim() === '' || spec.name.trim() === '') throw new Error('a simulated VM needs an id and a name');
  const keys = new Set<number>();
  for (const d of spec.disks) {
    if (!Number.isInteger(d.key) || d.key <= 0) throw new Error(`VM ${spec.name}: disk key ${d.key} must be a positive integer`);
    if (keys.has(d.key)) throw new Error(`VM ${spec.name}: duplicate disk key ${d.key}`);
    if (!Number.isInteger(d.capacityBytes) || d.capacityBytes <= 0) throw new Error(`VM ${spec.name}: disk ${d.key} needs a positive capacity`);
    keys.add(d.key);
  }
  const folder = spec.folder ?? '';
  const path = spec.path ?? `/${spec.datacenter}/vm/${folder === '' ? '' : `${folder}/`}${spec.name}`;
  return {
    id: spec.id,
    name: spec.name,
    datacenter: spec.datacenter,
    path,
    folder,
    powerState: spec.powerState ?? 'poweredOn',
    guestOs: spec.guestOs ?? 'linux',
    memoryMb: spec.memoryMb ?? 2048,
    numCpu: spec.numCpu ?? 2,
    vmxVersion: spec.vmxVersion ?? 'vmx-19',
    annotation: spec.annotation ?? '',
    cbtEnabled: spec.cbtEnabled ?? true,
    toolsStatus: spec.toolsStatus ?? 'toolsOk',
    disks: spec.disks.map((d, i) => ({
      key: d.key,
      capacityBytes: d.capacityBytes,
      label: d.label ?? `Hard disk ${i + 1}`,
      datastore: d.datastore ?? 'datastore1',
      vmdkPath: d.vmdkPath ?? `[${d.datastore ?? 'datastore1'}] ${spec.name}/${spec.name}${i === 0 ? '' : `_${i}`}.vmdk`,
      provisioning: d.provisioning ?? 'thin',
      unitNumber: d.unitNumber ?? i,
    })),
    networks: spec.networks.map((n, i) => ({
      label: n.label ?? `Network adapter ${i + 1}`,
      networkName: n.networkName,
      adapterType: n.adapterType ?? 'vmxnet3',
      macAddress: n.macAddress ?? macFor(spec.id, i),
      connected: n.connected ?? true,
    })),
  };
}

function macFor(id: string, index: number): string {
  const h = hash32(`${id}/${index}`);
  const b = [(h >>> 16) & 0x3f, (h >>> 8) & 0xff, h & 0xff];
  return ['00', '50', '56', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** FNV-1a, for deterministic generated data. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small seeded PRNG so generated inventories and disk data are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidFrom(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface GenerateInventoryOptions {
  count: number;
  datacenter: string;
  seed?: number;
  namePrefix?: string;
  /** Capacity of each generated disk (backing files are sparse and created lazily). */
  diskCapacityBytes?: number;
  maxDisksPerVm?: number;
  maxNicsPerVm?: number;
}

/** A reproducible inventory (e.g. 10,000 VMs) with multi-disk, multi-NIC VMs and placeholder networks. */
export function generateInventory(o: GenerateInventoryOptions): SimVmSpec[] {
  const rand = seededRandom(o.seed ?? 1);
  const prefix = o.namePrefix ?? 'vm';
  const width = String(o.count).length;
  const maxDisks = o.maxDisksPerVm ?? 3;
  const maxNics = o.maxNicsPerVm ?? 2;
  const folders = ['', 'prod', 'test', 'infra/db'];
  const out: SimVmSpec[] = [];
  for (let i = 1; i <= o.count; i++) {
    const diskCount = 1 + Math.floor(rand() * maxDisks);
    const nicCount = Math.floor(rand() * (maxNics + 1));
    const nicKind = rand();
    out.push({
      id: uuidFrom(rand),
      name: `${prefix}-${String(i).padStart(width, '0')}`,
      datacenter: o.datacenter,
      folder: folders[Math.floor(rand() * folders.length)]!,
      powerState: rand() < 0.8 ? 'poweredOn' : 'poweredOff',
      guestOs: rand() < 0.5 ? 'linux' : 'windows',
      memoryMb: 1024 * (1 + Math.floor(rand() * 16)),
      numCpu: 1 + Math.floor(rand() * 8),
      disks: Array.from({ length: diskCount }, (_, d) => ({
        key: 2000 + d,
        capacityBytes: o.diskCapacityBytes ?? (1 + Math.floor(rand() * 100)) * 1024 ** 3,
        provisioning: rand() < 0.7 ? ('thin' as const) : ('thick' as const),
      })),
      networks: Array.from({ length: nicCount }, (_, n) => ({
        networkName: nicKind < 0.1 ? `DVS-PG-dvportgroup-${100 + n}` : nicKind < 0.15 ? `STD-REF-network-${10 + n}` : `VLAN_${100 + n}`,
        adapterType: n === 0 ? ('vmxnet3' as const) : ('e1000e' as const),
      })),
    });
  }
  return out;
}

/** The VM as the real VMA's discovery JSON shows it. */
export function toDiscoveryJson(vm: SimVm): Record<string, unknown> {
  return {
    id: vm.id,
    name: vm.name,
    path: vm.path,
    datacenter: vm.datacenter,
    power_state: vm.powerState,
    guest_os: vm.guestOs,
    memory_mb: vm.memoryMb,
    num_cpu: vm.numCpu,
    cpus: 0,
    os_type: '',
    vmx_version: vm.vmxVersion,
    display_name: vm.name,
    annotation: vm.annotation,
    folder_path: vm.folder,
    vmware_tools_status: '',
    vmware_tools_version: '',
    disks: vm.disks.map((d) => ({
      id: `disk-${d.key}`,
      label: d.label,
      path: d.vmdkPath,
      vmdk_path: d.vmdkPath,
      size_gb: Math.ceil(d.capacityBytes / 1024 ** 3),
      capacity_bytes: d.capacityBytes,
      datastore: d.datastore,
      provisioning_type: d.provisioning,
      unit_number: d.unitNumber,
    })),
    networks: vm.networks.map((n) => ({
      name: '',
      type: '',
      label: n.label,
      network_name: n.networkName,
      adapter_type: n.adapterType,
      mac_address: n.macAddress,
      connected: n.connected,
    })),
  };
}

/** The VMA's filter: comma-separated substrings, case-insensitive; empty = everything. */
export function matchesFilter(name: string, filter: string | undefined): boolean {
  const terms = (filter ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  if (terms.length === 0) return true;
  const n = name.toLowerCase();
  return terms.some((t) => n.includes(t));
}
