import { generateInventory } from '../sim/vma/index';
import { acquireOwnerLock, type OwnerLock } from '../../main/owner/owner-lock';
import { ownerPortOf, type OwnerPort } from '../../main/owner/owner-port';
import { LAB_DATACENTER, smallInventory, startRig, type Rig } from './rig';

const MiB = 1024 * 1024;

/** The lab's inventory: the named test VMs plus generated ones with small disks so syncs are quick. */
export function labInventory(extraVms: number) {
  const generated = generateInventory({ count: extraVms, datacenter: LAB_DATACENTER, seed: 7, namePrefix: 'app' }).map((vm) => ({
    ...vm,
    disks: vm.disks.map((d, i) => ({ ...d, capacityBytes: (8 + 8 * ((i + vm.name.length) % 4)) * MiB })),
  }));
  return [...smallInventory(), ...generated];
}

export interface LabOptions {
  extraVms: number;
  log?: (line: string) => void;
  /**
   * The lab's data directory when the shell chose it (the Electron lab: a temporary userData) together
   * with the owner lock the shell holds on it. Without them the lab owns a data directory inside its
   * own temporary folder: never the operator's.
   */
  shell?: { dataDir: string; owner: OwnerPort };
}

export interface Lab extends Rig {
  /** The owner lock the lab took on its data directory (null when the shell holds it). */
  readonly lock: OwnerLock | null;
}

/** Starts the lab rig, owns its data directory and puts two VMs under management so the console opens on something real. */
export async function startLab(options: LabOptions): Promise<Lab> {
  let lock: OwnerLock | null = null;
  const rig = await startRig({
    inventory: labInventory(options.extraVms),
    vmaSpeed: { firstPushDelayMs: 1500, phaseDelayMs: 700, bytesPerSecond: 4 * MiB },
    asyncJobDelayMs: 400,
    ...(options.shell ? { dataDir: options.shell.dataDir } : {}),
    core: { engine: { poller: { intervalMs: 1000 } }, lab: true, owner: options.shell?.owner ?? ownerPortOf(() => lock) },
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    // Like the app and `mkc serve`, the lab owns its data directory: `mkc --data-dir <it>` is served by it.
    if (!options.shell) lock = acquireOwnerLock(rig.core.dataDir, 'the embedded lab');
    await rig.manage(['pgtest1', 'web1']);
  } catch (e) {
    await rig.close();
    lock?.release();
    throw e;
  }
  const close = rig.close.bind(rig);
  return Object.assign(rig, {
    lock,
    async close() {
      await close();
      lock?.release();
    },
  });
}
