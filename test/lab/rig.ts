// The embedded lab: a simulated VMA (vCenter inventory with real source disk files) and a simulated
// CloudStack, plus a REAL OMA side — OpenSSH sshd for both appliances' SSH, nbdkit started by the
// console's own OMA manager over that SSH, and by-id links to sparse volume files. Used by the
// integration tests, the benchmarks and `npm run lab`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Core, type CoreOptions } from '../../main/core/core';
import { InMemorySecretStore } from '../../main/secrets/memory-store';
import type { SecretStore } from '../../main/secrets/secret-store';
import type { Appliance } from '../../shared/domain';
import { startSshd, freePort, type SshdFixture } from '../fixtures/sshd';
import { startVmaSimulator, type VmaSimulator, type SimVmSpec } from '../sim/vma/index';
import { startCloudStackSimulator, type CloudStackSimulator } from '../sim/cloudstack/simulator';

export interface RigOptions {
  inventory: SimVmSpec[];
  /** Extra Core options (poller timings etc.). */
  core?: Partial<CoreOptions>;
  secrets?: SecretStore;
  dataDir?: string;
  vmaSpeed?: Partial<VmaSimulator['speed']>;
  asyncJobDelayMs?: number;
  log?: (line: string) => void;
}

export interface Rig {
  root: string;
  core: Core;
  sshd: SshdFixture;
  vma: VmaSimulator;
  cloudstack: CloudStackSimulator;
  vmaAppliance: Appliance;
  omaAppliance: Appliance;
  credentialId: string;
  nbdPort: number;
  exportsDir: string;
  byIdDir: string;
  vcenterHost: string;
  /** The simulated vCenter's password (tests check it never leaks). */
  vcenterPassword: string;
  /** Puts the named VMs under management through the real discovery path. */
  manage(names: string[]): Promise<Record<string, string>>;
  /** Opens a second Core on the same data directory (a console restart). */
  restartCore(extra?: Partial<CoreOptions>): Promise<Core>;
  close(): Promise<void>;
}

export const LAB_VCENTER = 'vcenter.lab.invalid';
export const LAB_DATACENTER = 'LabDC';

export async function startRig(options: RigOptions): Promise<Rig> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-rig-'));
  const dataDir = options.dataDir ?? path.join(root, 'console');
  const byIdDir = path.join(root, 'oma', 'by-id');
  const exportsDir = path.join(root, 'oma', 'exports');
  const volumesDir = path.join(root, 'cloudstack-volumes');
  for (const d of [byIdDir, exportsDir, volumesDir, path.join(root, 'vma-disks')]) fs.mkdirSync(d, { recursive: true });
  const vcenterPassword = `lab-${Math.random().toString(36).slice(2)}`;
  const secrets = options.secrets ?? new InMemorySecretStore();

  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const sshd = await startSshd();
    cleanups.push(() => sshd.dispose());
    const vma = await startVmaSimulator({
      vcenterHost: LAB_VCENTER,
      datacenters: [LAB_DATACENTER],
      inventory: options.inventory,
      credentials: { username: 'svc-migrate@lab.invalid', password: vcenterPassword },
      dataDir: path.join(root, 'vma-disks'),
      speed: { firstPushDelayMs: 150, phaseDelayMs: 10, bytesPerSecond: 0, ...options.vmaSpeed },
      ...(options.log ? { log: options.log } : {}),
    });
    cleanups.push(() => vma.close());
    const cloudstack = await startCloudStackSimulator({ volumesDir, byIdDir, asyncJobDelayMs: options.asyncJobDelayMs ?? 30, byIdLinkDelayMs: 100 });
    cleanups.push(() => cloudstack.close());
    const nbdPort = await freePort();
    const callbackPort = await freePort();
    const pidFile = path.join(root, 'oma', 'nbdkit.pid');
    cleanups.push(() => {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
      } catch {
        // not started or already gone
      }
    });

    // Option groups merge one level deeper so a test can change one poller timing and keep the rest.
    const merged = (extra: Partial<CoreOptions>): Partial<CoreOptions> => {
      const base: Partial<CoreOptions> = {
        appliances: { tunnel: { keepaliveIntervalMs: 2_000, backoff: { initialMs: 200, maxMs: 2_000 } }, readyWaitMs: 15_000 },
        engine: { poller: { intervalMs: 250, notFoundGraceMs: 5_000, stallMs: 60_000, unreachableFailMs: 60_000 } },
        cloudstack: { asyncPollIntervalMs: 25, readRetryDelaysMs: [50, 100] },
      };
      const out: Partial<CoreOptions> = { ...base };
      for (const layer of [options.core ?? {}, extra]) {
        for (const [k, v] of Object.entries(layer) as [keyof CoreOptions, unknown][]) {
          const prev = out[k];
          const both = prev && v && typeof prev === 'object' && typeof v === 'object' && !Array.isArray(v);
          (out as Record<string, unknown>)[k] = both
            ? k === 'engine'
              ? { ...prev, ...v, poller: { ...(prev as { poller?: object }).poller, ...(v as { poller?: object }).poller } }
              : { ...prev, ...v }
            : v;
        }
      }
      return out;
    };
    const makeCore = (extra: Partial<CoreOptions> = {}) => new Core({ dataDir, transport: 'cli', secrets, ...merged(extra) });
    let core = makeCore();
    const vmaAppliance = core.appliances.add({
      kind: 'vma',
      name: 'lab-vma',
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.username,
      authMethod: 'private_key',
      privateKey: sshd.clientPrivateKey,
      apiPort: vma.port,
      callbackPort,
    });
    const omaAppliance = core.appliances.add({
      kind: 'oma',
      name: 'lab-oma',
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.username,
      authMethod: 'private_key',
      privateKey: sshd.clientPrivateKey,
      nbdHost: '127.0.0.1',
      nbdPort,
      cloudstackVmId: cloudstack.omaVmId,
    });
    core.appliances.setSettings(omaAppliance.id, {
      oma: { byIdDir, exportsDir, nbdListenAddress: '127.0.0.1', nbdPort, pidFile },
    });
    // The operator compares the fingerprint with the appliance console and trusts it.
    await core.appliances.trustHostKey(vmaAppliance.id, sshd.hostKeyFingerprint);
    await core.appliances.trustHostKey(omaAppliance.id, sshd.hostKeyFingerprint);
    const cred = core.credentials.add({ name: 'lab-vcenter', vcenterHost: LAB_VCENTER, username: 'svc-migrate@lab.invalid', datacenter: LAB_DATACENTER, password: vcenterPassword });
    const zone = [...cloudstack.state.zones.values()][0]!;
    const diskOffering = [...cloudstack.state.diskOfferings.values()].find((o) => o.iscustomized)!;
    core.cloudstack.save({
      apiUrl: cloudstack.url,
      apiKey: cloudstack.apiKey,
      secretKey: cloudstack.secretKey,
      zoneId: zone.id,
      diskOfferingId: diskOffering.id,
      omaApplianceId: omaAppliance.id,
      omaVmId: cloudstack.omaVmId,
      volumeHeadroomPercent: 0,
    });

    const rig: Rig = {
      root,
      get core() {
        return core;
      },
      sshd,
      vma,
      cloudstack,
      vmaAppliance,
      omaAppliance,
      credentialId: cred.id,
      nbdPort,
      exportsDir,
      byIdDir,
      vcenterHost: LAB_VCENTER,
      vcenterPassword,
      async manage(names) {
        const d = await core.discovery.run(vmaAppliance.id, cred.id, names.join(','));
        const ids = d.vms.filter((v) => names.includes(v.name)).map((v) => v.vmwareVmId);
        const r = core.discovery.addFromDiscovery(d.discoveryId, ids);
        return Object.fromEntries(r.added.map((a) => [a.name, a.contextId]));
      },
      async restartCore(extra) {
        await core.close();
        core = makeCore(extra);
        return core;
      },
      async close() {
        await core.close().catch(() => {});
        for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
        try {
          execFileSync('pkill', ['-f', `dir=${exportsDir}`], { stdio: 'ignore' });
        } catch {
          // no stray nbdkit
        }
        fs.rmSync(root, { recursive: true, force: true });
      },
    };
    return rig;
  } catch (e) {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** A two-CPU Linux VM on one lab network, with disks of the given sizes in MiB (keys 2000, 2001, … in unit order). */
export function labVm(name: string, id: string, diskMiB: readonly number[]): SimVmSpec {
  return {
    id,
    name,
    datacenter: LAB_DATACENTER,
    guestOs: 'linux',
    numCpu: 2,
    memoryMb: 2048,
    disks: diskMiB.map((m, i) => ({ key: 2000 + i, capacityBytes: m * 1024 * 1024, unitNumber: i })),
    networks: [{ networkName: 'VLAN-100-prod' }],
  };
}

/** A small inventory for tests and the lab: disks of a few MiB so syncs take moments. */
export function smallInventory(): SimVmSpec[] {
  const MiB = 1024 * 1024;
  return [
    {
      id: '4205784a-098a-40f1-1f1e-a5cd2597fd59',
      name: 'pgtest1',
      datacenter: LAB_DATACENTER,
      guestOs: 'linux',
      numCpu: 2,
      memoryMb: 4096,
      disks: [
        { key: 2000, capacityBytes: 24 * MiB, unitNumber: 0 },
        { key: 2001, capacityBytes: 16 * MiB, unitNumber: 1 },
      ],
      networks: [
        { networkName: 'VLAN-100-prod', macAddress: '00:50:56:85:bf:a2' },
        { networkName: 'DVS-PG-dvportgroup-42', macAddress: '00:50:56:85:bf:a3' },
      ],
    },
    {
      id: '42057b9c-1111-2222-3333-a5cd2597aa01',
      name: 'web10',
      datacenter: LAB_DATACENTER,
      guestOs: 'windows',
      numCpu: 4,
      memoryMb: 8192,
      disks: [{ key: 2000, capacityBytes: 8 * MiB, unitNumber: 0 }],
      networks: [{ networkName: 'VLAN-200-web' }],
    },
    {
      id: '42057b9c-1111-2222-3333-a5cd2597aa02',
      name: 'web1',
      datacenter: LAB_DATACENTER,
      guestOs: 'windows',
      numCpu: 2,
      memoryMb: 4096,
      disks: [{ key: 2000, capacityBytes: 8 * MiB, unitNumber: 0 }],
      networks: [{ networkName: 'VLAN-200-web' }],
    },
  ];
}
