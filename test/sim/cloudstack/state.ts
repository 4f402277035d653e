// In-memory CloudStack inventory the simulator serves. Field names follow the real API responses.
import { randomUUID } from 'node:crypto';

export const GiB = 1024 ** 3;

export interface SimZone { id: string; name: string; allocationstate: string; networktype: string }
export interface SimDiskOffering { id: string; name: string; displaytext: string; disksize: number; iscustomized: boolean; storagetype: string }
export interface SimServiceOffering {
  id: string; name: string; displaytext: string; cpunumber?: number; cpuspeed?: number; memory?: number; iscustomized: boolean;
}
export interface SimTemplate { id: string; name: string; displaytext: string; zoneid: string; isready: boolean; ostypename: string; size: number }
export interface SimNetwork { id: string; name: string; displaytext: string; zoneid: string; state: string; type: string }
export interface SimNic { id: string; networkid: string; networkname: string; ipaddress: string; macaddress: string; isdefault: boolean }
export interface SimVm {
  id: string; name: string; displayname: string; state: 'Stopped' | 'Starting' | 'Running' | 'Stopping' | 'Destroyed';
  zoneid: string; templateid: string; serviceofferingid: string; cpunumber: number; memory: number; nic: SimNic[];
  details: Record<string, string>; created: string;
}
export interface SimVolume {
  id: string; name: string; zoneid: string; type: 'ROOT' | 'DATADISK'; size: number; state: 'Allocated' | 'Ready';
  diskofferingid?: string; virtualmachineid?: string; deviceid?: number; created: string;
}
export interface SimSnapshot { id: string; name: string; volumeid: string; state: string; created: string }
export interface SimJob {
  jobid: string; command: string; status: 0 | 1 | 2; result?: Record<string, unknown>; resultcode: number;
  created: string; completed?: string;
}

export interface SimState {
  zones: Map<string, SimZone>;
  diskOfferings: Map<string, SimDiskOffering>;
  serviceOfferings: Map<string, SimServiceOffering>;
  templates: Map<string, SimTemplate>;
  networks: Map<string, SimNetwork>;
  vms: Map<string, SimVm>;
  volumes: Map<string, SimVolume>;
  snapshots: Map<string, SimSnapshot>;
  jobs: Map<string, SimJob>;
  /** uuids of removed entities: CloudStack still resolves them (findByUuidIncludingRemoved). */
  removed: Set<string>;
  omaVmId: string;
}

export const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, '+0000');

export function seedState(omaVmId: string): SimState {
  const zone: SimZone = { id: randomUUID(), name: 'sim-zone-1', allocationstate: 'Enabled', networktype: 'Advanced' };
  const custom: SimDiskOffering = {
    id: randomUUID(), name: 'Custom', displaytext: 'Custom size disk', disksize: 0, iscustomized: true, storagetype: 'shared',
  };
  const small: SimDiskOffering = {
    id: randomUUID(), name: 'Small', displaytext: 'Small Disk, 5 GB', disksize: 5, iscustomized: false, storagetype: 'shared',
  };
  const smallSo: SimServiceOffering = {
    id: randomUUID(), name: 'Small Instance', displaytext: 'Small Instance', cpunumber: 1, cpuspeed: 500, memory: 512, iscustomized: false,
  };
  const customSo: SimServiceOffering = { id: randomUUID(), name: 'Custom', displaytext: 'Custom compute offering', iscustomized: true };
  const template: SimTemplate = {
    id: randomUUID(), name: 'Blank KVM', displaytext: 'Blank template for migrated VMs', zoneid: zone.id, isready: true,
    ostypename: 'Other Linux (64-bit)', size: 1 * GiB,
  };
  const network: SimNetwork = { id: randomUUID(), name: 'sim-network-1', displaytext: 'Guest network', zoneid: zone.id, state: 'Implemented', type: 'Isolated' };
  const created = nowIso();
  const oma: SimVm = {
    id: omaVmId, name: 'oma-appliance', displayname: 'OMA appliance', state: 'Running', zoneid: zone.id, templateid: template.id,
    serviceofferingid: smallSo.id, cpunumber: 1, memory: 512, details: {}, created,
    nic: [{ id: randomUUID(), networkid: network.id, networkname: network.name, ipaddress: '10.1.1.10', macaddress: '02:00:00:00:00:01', isdefault: true }],
  };
  const omaRoot: SimVolume = {
    id: randomUUID(), name: 'ROOT-oma', zoneid: zone.id, type: 'ROOT', size: template.size, state: 'Ready', virtualmachineid: oma.id, deviceid: 0, created,
  };
  return {
    zones: new Map([[zone.id, zone]]),
    diskOfferings: new Map([[custom.id, custom], [small.id, small]]),
    serviceOfferings: new Map([[smallSo.id, smallSo], [customSo.id, customSo]]),
    templates: new Map([[template.id, template]]),
    networks: new Map([[network.id, network]]),
    vms: new Map([[oma.id, oma]]),
    volumes: new Map([[omaRoot.id, omaRoot]]),
    snapshots: new Map(),
    jobs: new Map(),
    removed: new Set(),
    omaVmId,
  };
}
