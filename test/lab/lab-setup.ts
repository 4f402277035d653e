import { generateInventory } from '../sim/vma/index';
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

/** Starts the lab rig and puts two VMs under management so the console opens on something real. */
export async function startLab(extraVms: number, log?: (line: string) => void): Promise<Rig> {
  const rig = await startRig({
    inventory: labInventory(extraVms),
    vmaSpeed: { firstPushDelayMs: 1500, phaseDelayMs: 700, bytesPerSecond: 4 * MiB },
    asyncJobDelayMs: 400,
    core: { engine: { poller: { intervalMs: 1000 } } },
    ...(log ? { log } : {}),
  });
  await rig.manage(['pgtest1', 'web1']);
  return rig;
}
