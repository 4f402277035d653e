// The VMA simulator in a child process, so that the console process's CPU can be measured alone.
// Talks to its parent over the IPC channel: sends {type:'ready', url, port, callbackUrl}, answers
// {type:'cpu'} with its own cpuUsage, {type:'answered'} with the requests answered since the last
// such question (each timed by the simulator: the VMA's own share of a round trip), closes on {type:'close'} or when the parent goes away.
// Disk bytes go to a discarding target (no NBD server in this benchmark); everything else is the
// simulator as the tests use it.
import { startChangeIdCallbackServer } from '../sim/vma/change-id-callback-server';
import { generateInventory, startVmaSimulator, type AnsweredRequest, type DiskTargetWriter } from '../sim/vma/index';

export interface SimChildConfig {
  vcenterHost: string;
  datacenter: string;
  vms: number;
  /** Omitted: the generator's own sizes (the inventory the render benchmark uses with the same seed). */
  diskCapacityBytes?: number;
  /** Default 1 (one disk per VM, as the copy benchmarks want); the generator's own default is 3. */
  maxDisksPerVm?: number;
  blockSize: number;
  initialDataBlocks: number;
  bytesPerSecond: number;
  seed: number;
}

export type SimChildMessage =
  | { type: 'ready'; url: string; port: number; callbackUrl: string }
  | { type: 'cpu'; user: number; system: number }
  | { type: 'requests'; byEndpoint: Record<string, number> }
  | { type: 'answered'; answers: AnsweredRequest[] }
  | { type: 'error'; message: string };

const discardingTarget = async (): Promise<DiskTargetWriter> => ({
  size: Number.MAX_SAFE_INTEGER,
  pwrite: async () => {},
  flush: async () => {},
  close: async () => {},
});

async function main(): Promise<void> {
  const config = JSON.parse(process.env.MKC_SIM_CHILD_CONFIG ?? '') as SimChildConfig;
  const send = (m: SimChildMessage) => process.send?.(m);
  const callbacks = await startChangeIdCallbackServer();
  let answered: AnsweredRequest[] = [];
  const vma = await startVmaSimulator({
    vcenterHost: config.vcenterHost,
    datacenters: [config.datacenter],
    inventory: generateInventory({ count: config.vms, datacenter: config.datacenter, seed: config.seed, maxDisksPerVm: config.maxDisksPerVm ?? 1, ...(config.diskCapacityBytes === undefined ? {} : { diskCapacityBytes: config.diskCapacityBytes }) }),
    blockSize: config.blockSize,
    initialDataBlocks: config.initialDataBlocks,
    speed: { firstPushDelayMs: 200, phaseDelayMs: 20, bytesPerSecond: config.bytesPerSecond },
    openTarget: discardingTarget,
    onAnswered: (a) => {
      // Bounded: a child that is never asked (the copy benchmarks) must not grow without end.
      if (answered.length >= 10_000) answered.shift();
      answered.push(a);
    },
  });
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([vma.close(), callbacks.close()]);
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'cpu') {
      const u = process.cpuUsage();
      send({ type: 'cpu', user: u.user, system: u.system });
    } else if (m?.type === 'requests') {
      // Requests the simulator answered so far, by endpoint (the scheduler benchmark counts discoveries).
      const byEndpoint: Record<string, number> = {};
      for (const r of vma.requests) byEndpoint[r.endpoint] = (byEndpoint[r.endpoint] ?? 0) + 1;
      send({ type: 'requests', byEndpoint });
    } else if (m?.type === 'answered') {
      send({ type: 'answered', answers: answered });
      answered = [];
    } else if (m?.type === 'close') void close();
  });
  process.on('disconnect', () => void close());
  send({ type: 'ready', url: vma.url, port: vma.port, callbackUrl: callbacks.url });
}

main().catch((e: unknown) => {
  process.send?.({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});
