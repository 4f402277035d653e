// CloudStack API simulator: verifies signatures like ApiServer.verifyRequest, answers the commands
// the console uses with the real response shapes, runs async jobs that stay pending for a while,
// and maps volumes attached to the OMA VM to sparse files plus /dev/disk/by-id style links.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GiB, nowIso, seedState, type SimState, type SimVm, type SimVolume } from './state';
import { verifySignedRequest } from './verify-signature';

export interface CloudStackSimulatorOptions {
  apiKey?: string;
  secretKey?: string;
  omaVmId?: string;
  /** Where attached volumes' backing files live (temporary directory when omitted). */
  volumesDir?: string;
  /** Stands in for /dev/disk/by-id on the OMA appliance (temporary directory when omitted). */
  byIdDir?: string;
  /** How long each async job reports jobstatus 0 before it runs. */
  asyncJobDelayMs?: number;
  /** The real by-id link appears a little after the attach job succeeded. */
  byIdLinkDelayMs?: number;
}

export interface SimRequestRecord {
  command: string;
  apiKey: string | undefined;
  method: string;
  status: number;
  params: Record<string, string>;
  /** Why the signature check refused the request (401 only). */
  reason?: string;
}

/** Picks the requests a fault applies to, by their parameters (signature excluded). */
export type ParamMatch = (params: Record<string, string>) => boolean;

export interface SimFaults {
  asyncJobDelayMs: number;
  byIdLinkDelayMs: number;
  /**
   * The next `times` jobs of this command (only requests whose parameters `match`, when given) end
   * with jobstatus 2 and this errortext; the command's effect does not happen.
   */
  failAsync(command: string, errortext: string, times?: number, match?: ParamMatch): void;
  /** The next `times` requests for this command (whose parameters `match`) get this HTTP status before any processing. */
  failHttp(command: string, status: number, times?: number, match?: ParamMatch): void;
  /** The next `times` requests for this command have their connection destroyed. */
  dropConnection(command: string, times?: number): void;
  /** Address CloudStack gives a deployed VM's NIC (default 10.1.1.x); lets a test point boot checks at a real listener. */
  guestIp: ((vmCount: number, nicIndex: number) => string) | null;
  clear(): void;
}

export interface CloudStackSimulator {
  url: string;
  apiKey: string;
  secretKey: string;
  omaVmId: string;
  volumesDir: string;
  byIdDir: string;
  state: SimState;
  faults: SimFaults;
  requests: SimRequestRecord[];
  addKeyPair(apiKey: string, secretKey: string): void;
  removeKeyPair(apiKey: string): void;
  volumeFile(volumeId: string): string;
  byIdLink(volumeId: string): string;
  close(): Promise<void>;
}

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly errortext: string,
    readonly cserrorcode = 9999,
  ) {
    super(errortext);
  }
}

const COMMAND_CLASSES: Record<string, string> = {
  createVolume: 'org.apache.cloudstack.api.command.user.volume.CreateVolumeCmd',
  attachVolume: 'org.apache.cloudstack.api.command.user.volume.AttachVolumeCmd',
  detachVolume: 'org.apache.cloudstack.api.command.user.volume.DetachVolumeCmd',
  deployVirtualMachine: 'org.apache.cloudstack.api.command.user.vm.DeployVMCmd',
  startVirtualMachine: 'org.apache.cloudstack.api.command.user.vm.StartVMCmd',
  stopVirtualMachine: 'org.apache.cloudstack.api.command.user.vm.StopVMCmd',
  destroyVirtualMachine: 'org.apache.cloudstack.api.command.user.vm.DestroyVMCmd',
  createSnapshot: 'org.apache.cloudstack.api.command.user.snapshot.CreateSnapshotCmd',
  revertSnapshot: 'org.apache.cloudstack.api.command.user.snapshot.RevertSnapshotCmd',
  deleteSnapshot: 'org.apache.cloudstack.api.command.user.snapshot.DeleteSnapshotCmd',
};

const uuid20 = (id: string) => id.replace(/-/g, '').slice(0, 20);

export async function startCloudStackSimulator(options: CloudStackSimulatorOptions = {}): Promise<CloudStackSimulator> {
  const apiKey = options.apiKey ?? randomBytes(24).toString('base64url');
  const secretKey = options.secretKey ?? randomBytes(32).toString('base64url');
  const omaVmId = options.omaVmId ?? randomUUID();
  const ownedDirs: string[] = [];
  const makeDir = async (given: string | undefined, prefix: string) => {
    if (given) {
      await fsp.mkdir(given, { recursive: true });
      return given;
    }
    const dir = await fsp.mkdtemp(join(tmpdir(), prefix));
    ownedDirs.push(dir);
    return dir;
  };
  const volumesDir = await makeDir(options.volumesDir, 'cs-sim-volumes-');
  const byIdDir = await makeDir(options.byIdDir, 'cs-sim-byid-');
  const snapshotsDir = join(volumesDir, '.snapshots');
  await fsp.mkdir(snapshotsDir, { recursive: true });

  const keys = new Map<string, string>([[apiKey, secretKey]]);
  const state = seedState(omaVmId);
  const requests: SimRequestRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const pendingLinks = new Map<string, NodeJS.Timeout>();
  const asyncFailures = new Map<string, { errortext: string; times: number; match?: ParamMatch }>();
  const httpFailures = new Map<string, { status: number; times: number; match?: ParamMatch }>();
  /** Jobs chosen to fail when they were submitted (by jobid). */
  const failingJobs = new Map<string, string>();
  const drops = new Map<string, number>();

  const faults: SimFaults = {
    asyncJobDelayMs: options.asyncJobDelayMs ?? 100,
    byIdLinkDelayMs: options.byIdLinkDelayMs ?? 0,
    failAsync: (command, errortext, times = Infinity, match) => void asyncFailures.set(command, { errortext, times, ...(match ? { match } : {}) }),
    failHttp: (command, status, times = 1, match) => void httpFailures.set(command, { status, times, ...(match ? { match } : {}) }),
    dropConnection: (command, times = 1) => void drops.set(command, times),
    guestIp: null,
    clear: () => {
      asyncFailures.clear();
      httpFailures.clear();
      failingJobs.clear();
      drops.clear();
    },
  };

  const volumeFile = (id: string) => join(volumesDir, `${id}.img`);
  const byIdLink = (id: string) => join(byIdDir, `virtio-${uuid20(id)}`);
  const later = (ms: number, fn: () => void | Promise<void>) => {
    const t = setTimeout(() => {
      timers.delete(t);
      void fn();
    }, ms);
    timers.add(t);
    return t;
  };

  // ---- views in the shapes CloudStack returns ----
  const zoneName = (id: string) => state.zones.get(id)?.name;
  const volumeView = (v: SimVolume) => {
    const vm = v.virtualmachineid ? state.vms.get(v.virtualmachineid) : undefined;
    const off = v.diskofferingid ? state.diskOfferings.get(v.diskofferingid) : undefined;
    return {
      id: v.id, name: v.name, zoneid: v.zoneid, zonename: zoneName(v.zoneid), type: v.type,
      ...(v.deviceid !== undefined ? { deviceid: v.deviceid } : {}),
      ...(vm ? { virtualmachineid: vm.id, vmname: vm.name, vmdisplayname: vm.displayname, vmstate: vm.state } : {}),
      provisioningtype: 'thin', size: v.size, created: v.created, state: v.state, account: 'admin', domainid: 'ROOT', domain: 'ROOT',
      storagetype: 'shared', hypervisor: 'KVM',
      ...(off ? { diskofferingid: off.id, diskofferingname: off.name, diskofferingdisplaytext: off.displaytext } : {}),
      destroyed: false, isextractable: true, tags: [],
    };
  };
  const vmView = (vm: SimVm) => ({
    id: vm.id, name: vm.name, displayname: vm.displayname, account: 'admin', domainid: 'ROOT', domain: 'ROOT', created: vm.created,
    state: vm.state, haenable: false, zoneid: vm.zoneid, zonename: zoneName(vm.zoneid), templateid: vm.templateid,
    templatename: state.templates.get(vm.templateid)?.name, serviceofferingid: vm.serviceofferingid,
    serviceofferingname: state.serviceOfferings.get(vm.serviceofferingid)?.name, cpunumber: vm.cpunumber, memory: vm.memory,
    hypervisor: 'KVM', nic: vm.nic, details: vm.details, tags: [],
  });
  const snapshotView = (id: string) => {
    const s = state.snapshots.get(id);
    if (!s) return undefined;
    const vol = state.volumes.get(s.volumeid);
    return {
      ...s, volumename: vol?.name, volumetype: vol?.type, snapshottype: 'MANUAL', intervaltype: 'MANUAL', account: 'admin',
      domainid: 'ROOT', zoneid: vol?.zoneid, revertable: true, locationtype: 'PRIMARY', tags: [],
    };
  };
  const list = (key: string, items: unknown[]) => (items.length === 0 ? {} : { count: items.length, [key]: items });

  // ---- parameter handling the way ParamProcessWorker reports problems ----
  const required = (lc: string, p: Map<string, string>, name: string): string => {
    const v = p.get(name);
    if (v === undefined || v === '') throw new ApiFailure(431, `Unable to execute API command ${lc} due to missing parameter ${name}`);
    return v;
  };
  const invalidValue = (lc: string, name: string, value: string) =>
    new ApiFailure(
      431,
      `Unable to execute API command ${lc} due to invalid value. Invalid parameter ${name} value=${value} due to incorrect long value format, or entity does not exist or due to incorrect parameter annotation for the field in api cmd class.`,
    );
  function entity<T>(lc: string, name: string, value: string, map: Map<string, T>): T | undefined {
    const found = map.get(value);
    if (found) return found;
    if (state.removed.has(value)) return undefined;
    throw invalidValue(lc, name, value);
  }
  function live<T>(lc: string, name: string, value: string, map: Map<string, T>, what: string): T {
    const found = entity(lc, name, value, map);
    if (!found) throw new ApiFailure(431, `Unable to find ${what} with specified id`, 4350);
    return found;
  }
  const invalidParam = (text: string) => new ApiFailure(431, text, 4350);

  // ---- volume files and links ----
  // Volumes are sparse files of their full size; a plain copy would write every zero.
  const sparseCopy = (from: string, to: string) =>
    new Promise<void>((resolve, reject) =>
      execFile('cp', ['--sparse=always', '--reflink=auto', from, to], (e) => (e ? reject(e) : resolve())),
    );
  async function ensureBackingFile(v: SimVolume) {
    const fh = await fsp.open(volumeFile(v.id), 'a');
    try {
      const { size } = await fh.stat();
      if (size < v.size) await fh.truncate(v.size);
    } finally {
      await fh.close();
    }
  }
  async function createLink(v: SimVolume) {
    await fsp.rm(byIdLink(v.id), { force: true });
    await fsp.symlink(volumeFile(v.id), byIdLink(v.id));
  }
  async function removeLink(id: string) {
    const pending = pendingLinks.get(id);
    if (pending) {
      clearTimeout(pending);
      timers.delete(pending);
      pendingLinks.delete(id);
    }
    await fsp.rm(byIdLink(id), { force: true });
  }

  // ---- async jobs ----
  type JobRun = () => Promise<Record<string, unknown>>;
  function submitJob(command: string, run: JobRun, onFailure?: () => Promise<void> | void): string {
    const jobid = randomUUID();
    state.jobs.set(jobid, { jobid, command, status: 0, resultcode: 0, created: nowIso() });
    later(faults.asyncJobDelayMs, async () => {
      const job = state.jobs.get(jobid);
      if (!job) return;
      const injected = failingJobs.get(jobid);
      failingJobs.delete(jobid);
      try {
        if (injected !== undefined) throw new ApiFailure(530, injected, 4250);
        job.result = await run();
        job.status = 1;
      } catch (e) {
        const f = e instanceof ApiFailure ? e : new ApiFailure(530, e instanceof Error ? e.message : String(e), 4250);
        await onFailure?.();
        job.status = 2;
        job.resultcode = f.status;
        job.result = { errorcode: f.status, errortext: f.errortext };
      }
      job.completed = nowIso();
    });
    return jobid;
  }

  const jobView = (jobid: string) => {
    const job = state.jobs.get(jobid);
    if (!job) return undefined;
    return {
      accountid: 'sim-account', userid: 'sim-user', cmd: COMMAND_CLASSES[job.command] ?? job.command, jobstatus: job.status,
      jobprocstatus: 0, jobresultcode: job.resultcode, jobresulttype: 'object',
      ...(job.status !== 0 && job.result ? { jobresult: job.result } : {}),
      created: job.created, ...(job.completed ? { completed: job.completed } : {}), jobid,
    };
  };

  function nextDeviceId(vmId: string): number {
    const used = new Set([...state.volumes.values()].filter((v) => v.virtualmachineid === vmId).map((v) => v.deviceid));
    // Device id 3 is kept for the CD-ROM on KVM, so CloudStack never hands it out.
    for (let d = 1; ; d++) if (d !== 3 && !used.has(d)) return d;
  }

  // ---- commands ----
  type Handler = (p: Map<string, string>, lc: string) => Promise<Record<string, unknown>> | Record<string, unknown>;
  const commands: Record<string, Handler> = {
    listZones: (p) => list('zone', [...state.zones.values()].filter((z) => !p.get('id') || z.id === p.get('id'))),
    listDiskOfferings: (p) => list('diskoffering', [...state.diskOfferings.values()].filter((o) => !p.get('id') || o.id === p.get('id'))),
    listServiceOfferings: (p) =>
      list('serviceoffering', [...state.serviceOfferings.values()].filter((o) => !p.get('id') || o.id === p.get('id'))),
    listNetworks: (p, lc) => {
      const zoneid = p.get('zoneid');
      if (zoneid) entity(lc, 'zoneid', zoneid, state.zones);
      return list('network', [...state.networks.values()].filter((n) => !zoneid || n.zoneid === zoneid));
    },
    listTemplates: (p, lc) => {
      required(lc, p, 'templatefilter');
      return list('template', [...state.templates.values()].filter((t) => !p.get('id') || t.id === p.get('id')));
    },
    listVirtualMachines: (p, lc) => {
      const id = p.get('id');
      if (id) entity(lc, 'id', id, state.vms);
      return list(
        'virtualmachine',
        [...state.vms.values()].filter((vm) => (id ? vm.id === id : vm.state !== 'Destroyed')).map(vmView),
      );
    },
    listVolumes: (p, lc) => {
      const id = p.get('id');
      const vmid = p.get('virtualmachineid');
      if (id) entity(lc, 'id', id, state.volumes);
      if (vmid) entity(lc, 'virtualmachineid', vmid, state.vms);
      return list(
        'volume',
        [...state.volumes.values()].filter((v) => (!id || v.id === id) && (!vmid || v.virtualmachineid === vmid)).map(volumeView),
      );
    },
    listSnapshots: (p, lc) => {
      const id = p.get('id');
      const volumeid = p.get('volumeid');
      if (id) entity(lc, 'id', id, state.snapshots);
      if (volumeid) entity(lc, 'volumeid', volumeid, state.volumes);
      return list(
        'snapshot',
        [...state.snapshots.values()].filter((s) => (!id || s.id === id) && (!volumeid || s.volumeid === volumeid)).map((s) => snapshotView(s.id)),
      );
    },
    queryAsyncJobResult: (p, lc) => {
      const jobid = required(lc, p, 'jobid');
      const view = jobView(jobid);
      if (!view) throw invalidValue(lc, 'jobid', jobid);
      return view;
    },

    createVolume: (p, lc) => {
      const zoneid = required(lc, p, 'zoneid');
      const diskofferingid = required(lc, p, 'diskofferingid');
      const zone = live(lc, 'zoneid', zoneid, state.zones, 'zone');
      const offering = live(lc, 'diskofferingid', diskofferingid, state.diskOfferings, 'disk offering');
      const sizeParam = p.get('size');
      let sizeGiB: number;
      if (offering.iscustomized) {
        if (sizeParam === undefined) throw invalidParam('This disk offering requires a custom size specified');
        sizeGiB = Number(sizeParam);
        if (!Number.isInteger(sizeGiB) || sizeGiB <= 0) throw invalidValue(lc, 'size', sizeParam);
      } else {
        if (sizeParam !== undefined) throw invalidParam('This disk offering does not allow custom size');
        sizeGiB = offering.disksize;
      }
      const volume: SimVolume = {
        id: randomUUID(), name: p.get('name') || `DATA-${Math.floor(Math.random() * 100000)}`, zoneid: zone.id, type: 'DATADISK',
        size: sizeGiB * GiB, state: 'Allocated', diskofferingid: offering.id, created: nowIso(),
      };
      state.volumes.set(volume.id, volume);
      const jobid = submitJob(
        'createVolume',
        async () => ({ volume: volumeView(volume) }),
        () => void state.volumes.delete(volume.id),
      );
      return { id: volume.id, jobid };
    },
    attachVolume: (p, lc) => {
      const volume = live(lc, 'id', required(lc, p, 'id'), state.volumes, 'volume');
      const vm = live(lc, 'virtualmachineid', required(lc, p, 'virtualmachineid'), state.vms, 'virtual machine');
      const deviceParam = p.get('deviceid');
      const jobid = submitJob('attachVolume', async () => {
        if (volume.virtualmachineid) throw invalidParam('Please specify a volume that is not attached to any VM.');
        if (vm.state === 'Destroyed') throw invalidParam('Please specify a VM that is either running or stopped.');
        let deviceid: number;
        if (deviceParam !== undefined) {
          deviceid = Number(deviceParam);
          // VolumeApiServiceImpl: device 0 is the root disk; attaching one needs a stopped VM without a root.
          if (deviceid === 0) {
            if (vm.state !== 'Stopped') throw invalidParam('Root volume detach can only be done if VM is in stopped state');
            if ([...state.volumes.values()].some((v) => v.virtualmachineid === vm.id && v.deviceid === 0)) {
              throw invalidParam('Vm already has root volume attached to it');
            }
          }
          const taken = [...state.volumes.values()].some((v) => v.virtualmachineid === vm.id && v.deviceid === deviceid);
          if (taken) throw invalidParam(`deviceId ${deviceid} is used by vm ${vm.name}`);
        } else {
          deviceid = nextDeviceId(vm.id);
        }
        await ensureBackingFile(volume);
        volume.state = 'Ready';
        volume.virtualmachineid = vm.id;
        volume.deviceid = deviceid;
        // VolumeDaoImpl.attachVolume: a volume attached at device 0 becomes the VM's ROOT volume.
        if (deviceid === 0) volume.type = 'ROOT';
        if (vm.id === state.omaVmId) {
          if (faults.byIdLinkDelayMs <= 0) await createLink(volume);
          else {
            const t = later(faults.byIdLinkDelayMs, async () => {
              pendingLinks.delete(volume.id);
              if (volume.virtualmachineid === state.omaVmId) await createLink(volume);
            });
            pendingLinks.set(volume.id, t);
          }
        }
        return { volume: volumeView(volume) };
      });
      return { jobid };
    },
    detachVolume: (p, lc) => {
      const volume = live(lc, 'id', required(lc, p, 'id'), state.volumes, 'volume');
      const jobid = submitJob('detachVolume', async () => {
        if (!volume.virtualmachineid) throw invalidParam('Please specify a volume that is attached to a VM.');
        const owner = state.vms.get(volume.virtualmachineid);
        // KVM allows a root volume to be detached only from a stopped VM; it becomes a data disk again.
        if (volume.type === 'ROOT' && owner?.state !== 'Stopped') {
          throw invalidParam('Root volume detach can only be done if VM is in stopped state');
        }
        const fromOma = volume.virtualmachineid === state.omaVmId;
        const view = volumeView(volume);
        volume.virtualmachineid = undefined;
        volume.deviceid = undefined;
        volume.type = 'DATADISK';
        if (fromOma) await removeLink(volume.id);
        return { volume: { ...view, type: volume.type, virtualmachineid: undefined, deviceid: undefined, vmname: undefined, vmstate: undefined } };
      });
      return { jobid };
    },
    deleteVolume: async (p, lc) => {
      const volume = live(lc, 'id', required(lc, p, 'id'), state.volumes, 'volume');
      if (volume.virtualmachineid) throw invalidParam('Please specify a volume that is not attached to any VM.');
      await removeLink(volume.id);
      await fsp.rm(volumeFile(volume.id), { force: true });
      state.volumes.delete(volume.id);
      state.removed.add(volume.id);
      return { success: true };
    },
    deployVirtualMachine: (p, lc) => {
      const zone = live(lc, 'zoneid', required(lc, p, 'zoneid'), state.zones, 'zone');
      const offering = live(lc, 'serviceofferingid', required(lc, p, 'serviceofferingid'), state.serviceOfferings, 'service offering');
      const template = live(lc, 'templateid', required(lc, p, 'templateid'), state.templates, 'template');
      const networkIds = (p.get('networkids') ?? '').split(',').filter(Boolean);
      const networks = networkIds.map((id) => live(lc, 'networkids', id, state.networks, 'network'));
      const details: Record<string, string> = {};
      for (const [k, v] of p) {
        const m = /^details\[0\]\.(.+)$/.exec(k);
        if (m?.[1]) details[m[1]] = v;
      }
      let cpunumber = offering.cpunumber ?? 0;
      let memory = offering.memory ?? 0;
      if (offering.iscustomized) {
        if (!details.cpuNumber || !details.memory) {
          throw invalidParam('Need to specify custom parameter values cpu, cpu speed and memory when using custom offering');
        }
        cpunumber = Number(details.cpuNumber);
        memory = Number(details.memory);
      }
      const name = p.get('name') ?? `VM-${randomUUID()}`;
      if ([...state.vms.values()].some((vm) => vm.name === name && vm.state !== 'Destroyed')) {
        throw invalidParam(`The vm with hostName ${name} already exists in the network domain`);
      }
      const vm: SimVm = {
        id: randomUUID(), name, displayname: p.get('displayname') ?? name, state: 'Stopped', zoneid: zone.id, templateid: template.id,
        serviceofferingid: offering.id, cpunumber, memory, details, created: nowIso(),
        nic: networks.map((n, i) => ({
          id: randomUUID(), networkid: n.id, networkname: n.name, ipaddress: faults.guestIp?.(state.vms.size, i) ?? `10.1.1.${100 + state.vms.size + i}`,
          macaddress: `02:00:00:00:${String(state.vms.size).padStart(2, '0')}:${String(i).padStart(2, '0')}`, isdefault: i === 0,
        })),
      };
      state.vms.set(vm.id, vm);
      const startvm = p.get('startvm') !== 'false';
      const jobid = submitJob(
        'deployVirtualMachine',
        async () => {
          const root: SimVolume = {
            id: randomUUID(), name: `ROOT-${vm.name}`, zoneid: zone.id, type: 'ROOT', size: template.size, state: 'Ready',
            virtualmachineid: vm.id, deviceid: 0, created: nowIso(),
          };
          state.volumes.set(root.id, root);
          await ensureBackingFile(root);
          if (startvm) vm.state = 'Running';
          return { virtualmachine: vmView(vm) };
        },
        () => void state.vms.delete(vm.id),
      );
      return { id: vm.id, jobid };
    },
    startVirtualMachine: (p, lc) => {
      const vm = live(lc, 'id', required(lc, p, 'id'), state.vms, 'virtual machine');
      const jobid = submitJob('startVirtualMachine', async () => {
        if (vm.state === 'Destroyed') throw invalidParam(`Unable to start VM instance ${vm.name}: it is destroyed`);
        vm.state = 'Running';
        return { virtualmachine: vmView(vm) };
      });
      return { jobid };
    },
    stopVirtualMachine: (p, lc) => {
      const vm = live(lc, 'id', required(lc, p, 'id'), state.vms, 'virtual machine');
      const jobid = submitJob('stopVirtualMachine', async () => {
        if (vm.state === 'Destroyed') throw invalidParam(`Unable to stop VM instance ${vm.name}: it is destroyed`);
        vm.state = 'Stopped';
        return { virtualmachine: vmView(vm) };
      });
      return { jobid };
    },
    destroyVirtualMachine: (p, lc) => {
      const vm = live(lc, 'id', required(lc, p, 'id'), state.vms, 'virtual machine');
      const expunge = p.get('expunge') === 'true';
      const jobid = submitJob('destroyVirtualMachine', async () => {
        vm.state = 'Destroyed';
        const view = vmView(vm);
        if (expunge) {
          for (const v of [...state.volumes.values()].filter((x) => x.virtualmachineid === vm.id)) {
            if (v.type === 'ROOT') {
              await fsp.rm(volumeFile(v.id), { force: true });
              state.volumes.delete(v.id);
              state.removed.add(v.id);
            } else {
              v.virtualmachineid = undefined;
              v.deviceid = undefined;
            }
          }
          state.vms.delete(vm.id);
          state.removed.add(vm.id);
        }
        return { virtualmachine: view };
      });
      return { jobid };
    },
    createSnapshot: (p, lc) => {
      const volume = live(lc, 'volumeid', required(lc, p, 'volumeid'), state.volumes, 'volume');
      const id = randomUUID();
      const jobid = submitJob('createSnapshot', async () => {
        if (volume.state !== 'Ready') {
          throw invalidParam(`VolumeId: ${volume.id} is not in Ready state but ${volume.state}. Cannot take snapshot.`);
        }
        await sparseCopy(volumeFile(volume.id), join(snapshotsDir, `${id}.img`));
        state.snapshots.set(id, { id, name: `${volume.name}_${Date.now()}`, volumeid: volume.id, state: 'BackedUp', created: nowIso() });
        return { snapshot: snapshotView(id) ?? {} };
      });
      return { id, jobid };
    },
    revertSnapshot: (p, lc) => {
      const snap = live(lc, 'id', required(lc, p, 'id'), state.snapshots, 'snapshot');
      const jobid = submitJob('revertSnapshot', async () => {
        const volume = state.volumes.get(snap.volumeid);
        if (!volume) throw invalidParam('The volume of this snapshot no longer exists');
        // SnapshotManagerImpl.revertSnapshot: the volume must be detached or its VM stopped.
        const owner = volume.virtualmachineid ? state.vms.get(volume.virtualmachineid) : undefined;
        if (owner && owner.state !== 'Stopped') {
          throw invalidParam('The VM the specified disk is attached to is not in the shape where we can revert the volume');
        }
        await sparseCopy(join(snapshotsDir, `${snap.id}.img`), volumeFile(snap.volumeid));
        return { snapshot: snapshotView(snap.id) ?? {} };
      });
      return { jobid };
    },
    deleteSnapshot: (p, lc) => {
      const snap = live(lc, 'id', required(lc, p, 'id'), state.snapshots, 'snapshot');
      const jobid = submitJob('deleteSnapshot', async () => {
        await fsp.rm(join(snapshotsDir, `${snap.id}.img`), { force: true });
        state.snapshots.delete(snap.id);
        state.removed.add(snap.id);
        return { success: true };
      });
      return { jobid };
    },
  };

  // ---- HTTP ----
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const errorBody = (key: string, status: number, errortext: string, cserrorcode?: number) => ({
    [key]: { uuidList: [], errorcode: status, ...(cserrorcode !== undefined ? { cserrorcode } : {}), errortext },
  });

  async function readParams(req: IncomingMessage): Promise<Map<string, string>> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const params = new Map<string, string>();
    const add = (sp: URLSearchParams) => {
      for (const [k, v] of sp) if (!params.has(k)) params.set(k, v);
    };
    add(url.searchParams);
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      add(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    }
    return params;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (path !== '/client/api' || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body><h1>HTTP Status 404 – Not Found</h1></body></html>');
      return;
    }
    const params = await readParams(req);
    const command = params.get('command') ?? '';
    const sentKey = [...params].find(([k]) => k.toLowerCase() === 'apikey')?.[1];
    const recorded: Record<string, string> = {};
    for (const [k, v] of params) if (k !== 'signature') recorded[k] = v;
    const record = (status: number, reason?: string) =>
      requests.push({ command, apiKey: sentKey, method: req.method ?? '', status, params: recorded, ...(reason ? { reason } : {}) });

    const drop = drops.get(command);
    if (drop && drop > 0) {
      drops.set(command, drop - 1);
      record(0);
      req.socket.destroy();
      return;
    }
    const lc = command.toLowerCase();
    const key = commands[command] ? `${lc}response` : 'errorresponse';
    const injected = httpFailures.get(command);
    if (injected && injected.times > 0 && (!injected.match || injected.match(recorded))) {
      injected.times -= 1;
      record(injected.status);
      send(res, injected.status, errorBody(key, injected.status, 'Service temporarily unavailable (injected)', 9999));
      return;
    }

    const verdict = verifySignedRequest(params, (k) => keys.get(k));
    if (!verdict.ok) {
      record(401, verdict.reason);
      send(res, 401, errorBody(key, 401, 'unable to verify user credentials and/or request signature'));
      return;
    }
    const handler = commands[command];
    if (!handler) {
      record(432);
      send(res, 432, errorBody(key, 432, `The given command '${command}' either does not exist or is not available for user.`, 9999));
      return;
    }
    try {
      const failing = asyncFailures.get(command);
      const fail = failing && failing.times > 0 && (!failing.match || failing.match(recorded)) ? failing : undefined;
      const body = await handler(params, lc);
      // The job runs on a timer, after this: it finds its injected failure by id.
      const jobid = (body as { jobid?: unknown }).jobid;
      if (fail && typeof jobid === 'string') {
        fail.times -= 1;
        failingJobs.set(jobid, fail.errortext);
      }
      record(200);
      send(res, 200, { [key]: body });
    } catch (e) {
      const f = e instanceof ApiFailure ? e : new ApiFailure(530, e instanceof Error ? e.message : String(e), 4250);
      record(f.status);
      send(res, f.status, errorBody(key, f.status, f.errortext, f.cserrorcode));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 530, errorBody('errorresponse', 530, String(e)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/client/api`,
    apiKey,
    secretKey,
    omaVmId,
    volumesDir,
    byIdDir,
    state,
    faults,
    requests,
    addKeyPair: (k, s) => void keys.set(k, s),
    removeKeyPair: (k) => void keys.delete(k),
    volumeFile,
    byIdLink,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const dir of ownedDirs) await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}
