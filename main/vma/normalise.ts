// The single place where raw VMA discovery JSON becomes DiscoveredVm. Every other module works on
// the normalised shape, so field aliases (`num_cpu`/`cpus`, `guest_os`/`os_type`, `path`/`vmdk_path`)
// are resolved exactly once (lessons 9 and 23). Input is untrusted: nothing here throws on an odd
// VM; it is skipped or defaulted and the reason is returned as a warning.
import type { DiscoveredDisk, DiscoveredVm } from '../../shared/discovery';
import { POWER_STATES, type PowerState, type VmNetwork } from '../../shared/domain';
import { AppError } from '../../shared/errors';

export const DEFAULT_CPUS = 2;
export const DEFAULT_MEMORY_MB = 4096;
export const DEFAULT_OS_TYPE = 'otherGuest';
export const DEFAULT_POWER_STATE: PowerState = 'poweredOn';
const GIB = 1024 ** 3;

export interface DiscoveryWarning {
  /** Name (or id) of the VM the warning is about; null for response-level warnings. */
  vm: string | null;
  message: string;
}

export interface NormalisedVmResult {
  /** null when the VM had to be skipped (see warnings). */
  vm: DiscoveredVm | null;
  warnings: DiscoveryWarning[];
}

export interface NormalisedDiscovery {
  vcenterHost: string;
  datacenter: string;
  vms: DiscoveredVm[];
  /**
   * VMs that share a VMware id with an earlier entry (clones can share the BIOS uuid). Listings show
   * one VM per id; the pre-sync pick must see every one of them to refuse an ambiguous match.
   */
  sharedIdVms: DiscoveredVm[];
  warnings: DiscoveryWarning[];
}

type Raw = Record<string, unknown>;

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A trimmed non-empty string, or undefined. Numbers are accepted as their decimal text. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? undefined : t;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A finite number from a number or a numeric string, or undefined. */
function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

const positiveInt = (v: unknown): number | undefined => {
  const n = num(v);
  return n !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
};

const positive = (v: unknown): number | undefined => {
  const n = num(v);
  return n !== undefined && n > 0 ? n : undefined;
};

function bool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.trim().toLowerCase() === 'true';
  return false;
}

const isPowerState = (v: unknown): v is PowerState => typeof v === 'string' && (POWER_STATES as readonly string[]).includes(v);

/**
 * The VMware device key as `disk-NNNN`. The VMA sends `disk-2000`; a bare key (2000 or "2000")
 * is accepted and prefixed so every layer sees one spelling.
 */
export function normaliseDiskKey(v: unknown): string | undefined {
  const t = text(v);
  if (t === undefined) return undefined;
  if (/^\d+$/.test(t)) return `disk-${t}`;
  return t;
}

function normaliseDisk(raw: unknown, index: number, vmLabel: string, warnings: DiscoveryWarning[]): DiscoveredDisk | null {
  if (!isRecord(raw)) {
    warnings.push({ vm: vmLabel, message: `disk #${index + 1} is not an object and was skipped` });
    return null;
  }
  const diskKey = normaliseDiskKey(raw['id']);
  const label = text(raw['label']) ?? '';
  if (diskKey === undefined) {
    warnings.push({
      vm: vmLabel,
      message: `disk #${index + 1}${label === '' ? '' : ` (${label})`} has no device key (id) and was skipped`,
    });
    return null;
  }
  const capacityBytes = positiveInt(raw['capacity_bytes']) ?? sizeGbToBytes(raw['size_gb']);
  if (capacityBytes === undefined) {
    warnings.push({ vm: vmLabel, message: `disk ${diskKey} reports no capacity (capacity_bytes or size_gb)` });
  }
  const unit = num(raw['unit_number']);
  return {
    diskKey,
    label,
    vmdkPath: text(raw['path']) ?? text(raw['vmdk_path']) ?? '',
    datastore: text(raw['datastore']) ?? '',
    capacityBytes: capacityBytes ?? 0,
    provisioningType: text(raw['provisioning_type']) ?? 'unknown',
    unitNumber: unit !== undefined && Number.isInteger(unit) && unit >= 0 ? unit : null,
  };
}

function sizeGbToBytes(v: unknown): number | undefined {
  const gb = positive(v);
  return gb === undefined ? undefined : Math.round(gb * GIB);
}

function normaliseNetwork(raw: unknown, index: number, vmLabel: string, warnings: DiscoveryWarning[]): VmNetwork | null {
  if (!isRecord(raw)) {
    warnings.push({ vm: vmLabel, message: `network adapter #${index + 1} is not an object and was skipped` });
    return null;
  }
  return {
    label: text(raw['label']) ?? `Network adapter ${index + 1}`,
    // The seeds show `"name": ""` next to a filled `network_name`: the latter is authoritative.
    networkName: text(raw['network_name']) ?? text(raw['name']) ?? '',
    adapterType: text(raw['adapter_type']) ?? 'unknown',
    macAddress: (text(raw['mac_address']) ?? text(raw['mac']) ?? '').toLowerCase(),
    connected: bool(raw['connected']),
  };
}

const NO_ENTRIES: readonly unknown[] = [];

function list(v: unknown, what: string, vmLabel: string, warnings: DiscoveryWarning[]): readonly unknown[] {
  if (Array.isArray(v)) return v;
  // Go marshals a nil slice as null: that is "none", not an error.
  if (v !== undefined && v !== null) warnings.push({ vm: vmLabel, message: `${what} is not a list and was ignored` });
  return NO_ENTRIES;
}

/** Below this many disks a linear look-up over the kept ones beats building a Set per VM. */
const DISK_SET_FROM = 16;

function hasDiskKey(disks: readonly DiscoveredDisk[], key: string): boolean {
  for (let i = 0; i < disks.length; i++) if (disks[i]!.diskKey === key) return true;
  return false;
}

/**
 * One raw VM into `warnings` (appended in the order the checks run) and the VM, or null when it is
 * skipped. Shared by the single-VM and the whole-answer paths so that a 10,000-VM answer builds no
 * per-VM result or warning list. `fallbackDatacenter` null: the caller fills it in later (see
 * DiscoveryAccumulator) and is told through `lacksDatacenter`.
 */
function normaliseVmInto(raw: unknown, fallbackDatacenter: string | null, warnings: DiscoveryWarning[], lacksDatacenter: DiscoveredVm[] | null): DiscoveredVm | null {
  if (!isRecord(raw)) {
    warnings.push({ vm: null, message: 'a VM entry is not an object and was skipped' });
    return null;
  }
  const id = text(raw['id']);
  const name = text(raw['name']);
  if (id === undefined || name === undefined) {
    const which = id === undefined && name === undefined ? 'id and name' : id === undefined ? 'id' : 'name';
    warnings.push({ vm: name ?? id ?? null, message: `VM without ${which} was skipped` });
    return null;
  }
  const vmLabel = name;

  const path = text(raw['path']) ?? '';
  if (path === '') warnings.push({ vm: vmLabel, message: 'VM has no inventory path; it cannot be replicated until discovery reports one' });

  const rawPower = raw['power_state'];
  if (rawPower !== undefined && rawPower !== null && rawPower !== '' && !isPowerState(rawPower)) {
    warnings.push({ vm: vmLabel, message: `unknown power state ${JSON.stringify(rawPower)}; assumed ${DEFAULT_POWER_STATE}` });
  }

  const disks: DiscoveredDisk[] = [];
  const rawDisks = list(raw['disks'], 'disks', vmLabel, warnings);
  const seen = rawDisks.length >= DISK_SET_FROM ? new Set<string>() : null;
  for (let i = 0; i < rawDisks.length; i++) {
    const disk = normaliseDisk(rawDisks[i], i, vmLabel, warnings);
    if (disk === null) continue;
    if (seen === null ? hasDiskKey(disks, disk.diskKey) : seen.has(disk.diskKey)) {
      warnings.push({ vm: vmLabel, message: `duplicate disk key ${disk.diskKey}; the second entry was skipped` });
      continue;
    }
    seen?.add(disk.diskKey);
    disks.push(disk);
  }

  const networks: VmNetwork[] = [];
  const rawNetworks = list(raw['networks'], 'networks', vmLabel, warnings);
  for (let i = 0; i < rawNetworks.length; i++) {
    const nic = normaliseNetwork(rawNetworks[i], i, vmLabel, warnings);
    if (nic !== null) networks.push(nic);
  }

  const memory = positive(raw['memory_mb']);
  const ownDatacenter = text(raw['datacenter']);
  const vm: DiscoveredVm = {
    vmwareVmId: id,
    name,
    path,
    datacenter: ownDatacenter ?? fallbackDatacenter ?? '',
    cpus: positiveInt(raw['num_cpu']) ?? positiveInt(raw['cpus']) ?? DEFAULT_CPUS,
    memoryMb: memory === undefined ? DEFAULT_MEMORY_MB : Math.round(memory),
    osType: text(raw['guest_os']) ?? text(raw['os_type']) ?? DEFAULT_OS_TYPE,
    powerState: isPowerState(rawPower) ? rawPower : DEFAULT_POWER_STATE,
    vmxVersion: text(raw['vmx_version']) ?? '',
    disks,
    networks,
  };
  if (ownDatacenter === undefined && fallbackDatacenter === null) lacksDatacenter?.push(vm);
  return vm;
}

/** Normalises one raw VM. `fallbackDatacenter` is used when the VM does not carry its own. */
export function normaliseDiscoveredVm(raw: unknown, fallbackDatacenter = ''): NormalisedVmResult {
  const warnings: DiscoveryWarning[] = [];
  const vm = normaliseVmInto(raw, fallbackDatacenter, warnings, null);
  return { vm, warnings };
}

/** The checked top level of a discovery answer: what `normaliseDiscovery` throws on is thrown here. */
export interface DiscoveryEnvelope {
  vcenterHost: string;
  datacenter: string;
  rawVms: readonly unknown[];
  warnings: DiscoveryWarning[];
}

function readEnvelope(body: unknown): DiscoveryEnvelope {
  if (!isRecord(body)) {
    throw new AppError('remote_error', 'VMA discovery answer is not a JSON object');
  }
  if (!('vms' in body)) {
    throw new AppError('remote_error', 'VMA discovery answer has no "vms" field');
  }
  const warnings: DiscoveryWarning[] = [];
  const rawVms = body['vms'];
  if (rawVms !== null && !Array.isArray(rawVms)) {
    throw new AppError('remote_error', 'VMA discovery answer has a "vms" field that is not a list');
  }
  const vc = isRecord(body['vcenter']) ? body['vcenter'] : {};
  const vcenterHost = text(vc['host']) ?? '';
  const datacenter = text(vc['datacenter']) ?? '';
  if (vcenterHost === '') warnings.push({ vm: null, message: 'VMA discovery answer does not name the vCenter host' });
  return { vcenterHost, datacenter, rawVms: rawVms ?? NO_ENTRIES, warnings };
}

/**
 * Normalises the VM list of a discovery answer piece by piece, in order, before the rest of the
 * answer is known (the client feeds it slices of the list while the body still arrives). The result
 * is the same as `normaliseDiscovery` on the whole answer: VMs in the same order, the same warnings
 * in the same order (the answer-level ones first), the top-level datacenter filled in at the end
 * for VMs that carry none.
 */
export class DiscoveryAccumulator {
  private readonly vms: DiscoveredVm[] = [];
  private readonly sharedIdVms: DiscoveredVm[] = [];
  private readonly vmWarnings: DiscoveryWarning[] = [];
  private readonly seenIds = new Set<string>();
  private readonly lacksDatacenter: DiscoveredVm[] = [];

  /** `fallbackDatacenter` null when the top level is not known yet (filled in by `finish`). */
  add(rawVms: readonly unknown[], fallbackDatacenter: string | null = null): void {
    const warnings = this.vmWarnings;
    for (let i = 0; i < rawVms.length; i++) {
      const vm = normaliseVmInto(rawVms[i], fallbackDatacenter, warnings, this.lacksDatacenter);
      if (vm === null) continue;
      if (this.seenIds.has(vm.vmwareVmId)) {
        warnings.push({ vm: vm.name, message: `duplicate VMware id ${vm.vmwareVmId} (a clone?); only the first entry is listed` });
        this.sharedIdVms.push(vm);
        continue;
      }
      this.seenIds.add(vm.vmwareVmId);
      this.vms.push(vm);
    }
  }

  /**
   * `body` is the answer's top level with its VM list already given to `add` (the list itself may be
   * empty here); it is checked exactly as `normaliseDiscovery` checks a whole answer.
   */
  finish(body: unknown): NormalisedDiscovery {
    return this.finishWith(readEnvelope(body));
  }

  /** `finish` with the top level already checked (normaliseDiscovery reads it before the list). */
  finishWith(envelope: DiscoveryEnvelope): NormalisedDiscovery {
    for (const vm of this.lacksDatacenter) vm.datacenter = envelope.datacenter;
    const warnings = envelope.warnings;
    for (const w of this.vmWarnings) warnings.push(w);
    return { vcenterHost: envelope.vcenterHost, datacenter: envelope.datacenter, vms: this.vms, sharedIdVms: this.sharedIdVms, warnings };
  }
}

/**
 * Normalises a whole `POST /api/v1/discover` body. A body that is not a discovery answer at all
 * is a remote error (thrown); anything wrong inside single VMs becomes a warning.
 */
export function normaliseDiscovery(body: unknown): NormalisedDiscovery {
  const envelope = readEnvelope(body);
  const acc = new DiscoveryAccumulator();
  acc.add(envelope.rawVms, envelope.datacenter);
  return acc.finishWith(envelope);
}

/** What the pre-sync discovery found for a managed VM. */
export type VmPick =
  | { kind: 'found'; vm: DiscoveredVm; renamedFrom: string | null }
  | { kind: 'missing' }
  | { kind: 'conflict'; reason: string };

/**
 * Picks the managed VM from a discovery answer (listed and id-sharing entries alike). The VMA's filter
 * is a case-insensitive substring match (`web1` also returns `web10`) and clones can share a VMware id,
 * so a match needs the exact name AND the id. A VM found only by id under another name is a rename
 * only when it is the only one with that id and no VM with the old name exists in the answer;
 * anything else is a conflict: one VM's disks must never be written into another's replica.
 */
export function pickManagedVm(answer: Pick<NormalisedDiscovery, 'vms' | 'sharedIdVms'>, want: { name: string; vmwareVmId: string }): VmPick {
  const all = [...answer.vms, ...(answer.sharedIdVms ?? [])];
  const exact = all.filter((v) => v.name === want.name && v.vmwareVmId === want.vmwareVmId);
  if (exact.length === 1) return { kind: 'found', vm: exact[0]!, renamedFrom: null };
  if (exact.length > 1) {
    return { kind: 'conflict', reason: `vCenter has ${exact.length} VMs named ${want.name} with VMware id ${want.vmwareVmId} (${exact.map((v) => v.path).join(', ')}); the console cannot tell which one it manages` };
  }
  const namesakes = all.filter((v) => v.name === want.name);
  const byId = all.filter((v) => v.vmwareVmId === want.vmwareVmId);
  if (namesakes.length > 0 && byId.length > 0) {
    return {
      kind: 'conflict',
      reason: `${want.name} now has VMware id ${namesakes.map((v) => v.vmwareVmId).join(', ')} while id ${want.vmwareVmId} belongs to ${byId.map((v) => v.name).join(', ')} (a clone or a re-created VM); resolve it in vCenter or add the VM again from Discovery`,
    };
  }
  if (namesakes.length > 0) {
    return { kind: 'conflict', reason: `${want.name} in vCenter has VMware id ${namesakes.map((v) => v.vmwareVmId).join(', ')}, not ${want.vmwareVmId}: it is another VM with the same name (re-created?); add it again from Discovery` };
  }
  if (byId.length === 1) return { kind: 'found', vm: byId[0]!, renamedFrom: want.name };
  if (byId.length > 1) {
    return { kind: 'conflict', reason: `${want.name} is gone and VMware id ${want.vmwareVmId} is shared by ${byId.map((v) => v.name).join(', ')} (clones); the console cannot tell which one it manages` };
  }
  return { kind: 'missing' };
}
