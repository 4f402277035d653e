// Shapes of the CloudStack API responses the console reads. Only the fields it uses are typed;
// CloudStack returns more and may omit optional ones.

export interface CloudStackCredentials {
  apiKey: string;
  secretKey: string;
}

export interface CsZone {
  id: string;
  name: string;
  allocationstate?: string;
  networktype?: string;
}

export interface CsDiskOffering {
  id: string;
  name: string;
  displaytext?: string;
  /** GiB; 0 for customized offerings. */
  disksize?: number;
  iscustomized?: boolean;
  storagetype?: string;
}

export interface CsServiceOffering {
  id: string;
  name: string;
  displaytext?: string;
  cpunumber?: number;
  cpuspeed?: number;
  /** MiB */
  memory?: number;
  iscustomized?: boolean;
}

export interface CsNetwork {
  id: string;
  name: string;
  displaytext?: string;
  zoneid?: string;
  state?: string;
  type?: string;
}

export interface CsTemplate {
  id: string;
  name: string;
  displaytext?: string;
  zoneid?: string;
  isready?: boolean;
  ostypename?: string;
}

export interface CsNic {
  id: string;
  networkid: string;
  ipaddress?: string;
  macaddress?: string;
  isdefault?: boolean;
}

export interface CsVirtualMachine {
  id: string;
  name: string;
  displayname?: string;
  state: string;
  zoneid?: string;
  templateid?: string;
  serviceofferingid?: string;
  cpunumber?: number;
  memory?: number;
  nic?: CsNic[];
}

export type CsVolumeType = 'ROOT' | 'DATADISK';

export interface CsVolume {
  id: string;
  name: string;
  /** bytes */
  size: number;
  state: string;
  type: CsVolumeType;
  deviceid?: number;
  virtualmachineid?: string;
  zoneid?: string;
  diskofferingid?: string;
}

export interface CsSnapshot {
  id: string;
  name?: string;
  volumeid: string;
  state: string;
  created?: string;
}

export const JOB_PENDING = 0;
export const JOB_SUCCEEDED = 1;
export const JOB_FAILED = 2;

export interface CsAsyncJob {
  jobid: string;
  jobstatus: number;
  jobresultcode?: number;
  jobresulttype?: string;
  jobresult?: Record<string, unknown>;
  cmd?: string;
}

export interface DeployVirtualMachineInput {
  zoneid: string;
  serviceofferingid: string;
  templateid: string;
  name: string;
  displayname?: string;
  networkids: string[];
  /** Sent as details[0].<key>=<value>, e.g. cpuNumber, memory, cpuSpeed for custom offerings. */
  details?: Record<string, string>;
  /** Defaults to false: the console attaches the replicated volumes before starting. */
  startvm?: boolean;
}
