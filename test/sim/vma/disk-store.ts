// Source disks of the simulated VMs: one sparse file per disk (size = capacity), created lazily so a
// 10,000-VM inventory costs nothing until a disk is used, plus CBT-like change tracking. Every write
// records the block and the current change epoch; a snapshot hands out the change id
// `<cbt uuid>/<epoch>` and opens the next epoch, so "blocks changed since id X/k" are those written
// in an epoch after k. An id with another uuid (CBT reset) or an epoch not handed out yet is
// invalid, and VMware would refuse it: the copier then falls back to a full copy, as the real one does.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { hash32, seededRandom } from './inventory';

export const DEFAULT_BLOCK_SIZE = 64 * 1024;

export interface SimDiskState {
  readonly filePath: string;
  readonly capacityBytes: number;
  readonly blockSize: number;
  /** `52 1a d2 ac 1c 8a f7 80-5f d6 8c 44 47 ff d7 db` style CBT uuid; changes on CBT reset. */
  cbtUuid: string;
  /** Epoch new writes are recorded in; the next snapshot's change id carries it. */
  epoch: number;
  /** Block index → epoch of its last write. Also the allocation map (never-written blocks are zero). */
  readonly lastWrite: Map<number, number>;
}

function cbtUuid(): string {
  const pairs = [...randomBytes(16)].map((b) => b.toString(16).padStart(2, '0'));
  return `${pairs.slice(0, 8).join(' ')}-${pairs.slice(8).join(' ')}`;
}

export class SimDiskStore {
  private readonly disks = new Map<string, Promise<SimDiskState>>();

  constructor(
    private readonly dir: string,
    readonly blockSize = DEFAULT_BLOCK_SIZE,
    /** Blocks of deterministic data written when a disk is first created (besides block 0). */
    private readonly initialDataBlocks = 4,
  ) {}

  /** The disk's state, creating and seeding its backing file on first use. */
  disk(vmId: string, diskKey: number, capacityBytes: number): Promise<SimDiskState> {
    const id = `${vmId}-${diskKey}`;
    let p = this.disks.get(id);
    if (p === undefined) {
      p = this.create(id, capacityBytes);
      this.disks.set(id, p);
      p.catch(() => this.disks.delete(id));
    }
    return p;
  }

  private async create(id: string, capacityBytes: number): Promise<SimDiskState> {
    const filePath = path.join(this.dir, `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.img`);
    const fh = await fs.open(filePath, 'w+');
    try {
      await fh.truncate(capacityBytes);
    } finally {
      await fh.close();
    }
    const state: SimDiskState = { filePath, capacityBytes, blockSize: this.blockSize, cbtUuid: cbtUuid(), epoch: 1, lastWrite: new Map() };
    const blocks = this.blockCount(state);
    const rand = seededRandom(hash32(id));
    const picks = new Set<number>([0]);
    for (let i = 0; i < this.initialDataBlocks && picks.size < blocks; i++) picks.add(Math.floor(rand() * blocks));
    await this.writeBlocks(state, [...picks], rand, `MKSIM disk ${id}\n`);
    return state;
  }

  blockCount(s: SimDiskState): number {
    return Math.ceil(s.capacityBytes / s.blockSize);
  }

  blockLength(s: SimDiskState, index: number): number {
    return Math.min(s.blockSize, s.capacityBytes - index * s.blockSize);
  }

  /** Writes pseudo-random data into `blocks` distinct random blocks and records them as changed. */
  async mutate(s: SimDiskState, blocks: number, seed: number): Promise<number[]> {
    const total = this.blockCount(s);
    if (!Number.isInteger(blocks) || blocks < 0 || blocks > total) throw new Error(`cannot change ${blocks} blocks of a ${total}-block disk`);
    const rand = seededRandom(seed);
    const picks = new Set<number>();
    while (picks.size < blocks) picks.add(Math.floor(rand() * total));
    const list = [...picks].sort((a, b) => a - b);
    await this.writeBlocks(s, list, rand);
    return list;
  }

  private async writeBlocks(s: SimDiskState, indices: number[], rand: () => number, header?: string): Promise<void> {
    const fh = await fs.open(s.filePath, 'r+');
    try {
      for (const i of indices) {
        const buf = Buffer.alloc(this.blockLength(s, i));
        for (let off = 0; off + 4 <= buf.length; off += 4) buf.writeUInt32LE(Math.floor(rand() * 0x100000000), off);
        if (header !== undefined && i === 0) buf.write(header, 0, 'utf8');
        // Never all-zero, so "skip zero blocks" cannot drop a changed block.
        buf[0] = buf[0]! | 1;
        await fh.write(buf, 0, buf.length, i * s.blockSize);
        s.lastWrite.set(i, s.epoch);
      }
    } finally {
      await fh.close();
    }
  }

  /** Takes a CBT snapshot: returns its change id and opens the next epoch. */
  snapshot(s: SimDiskState): { changeId: string; epoch: number } {
    const epoch = s.epoch;
    s.epoch += 1;
    return { changeId: `${s.cbtUuid}/${epoch}`, epoch };
  }

  /** Epoch of a change id this disk handed out, or null when VMware would refuse it. */
  resolveChangeId(s: SimDiskState, changeId: string): number | null {
    const slash = changeId.lastIndexOf('/');
    if (slash < 0) return null;
    const uuid = changeId.slice(0, slash);
    const n = Number(changeId.slice(slash + 1));
    if (uuid !== s.cbtUuid || !Number.isInteger(n) || n < 1 || n >= s.epoch) return null;
    return n;
  }

  /** Blocks written after snapshot epoch `since` up to and including snapshot epoch `upTo`. */
  changedBlocks(s: SimDiskState, since: number, upTo: number): number[] {
    const out: number[] = [];
    for (const [i, e] of s.lastWrite) if (e > since && e <= upTo) out.push(i);
    return out.sort((a, b) => a - b);
  }

  /** Every block ever written (the rest of the disk is zero). */
  allocatedBlocks(s: SimDiskState): number[] {
    return [...s.lastWrite.keys()].sort((a, b) => a - b);
  }

  /** Invalidates every change id handed out so far (like disabling and re-enabling CBT). */
  resetCbt(s: SimDiskState): void {
    s.cbtUuid = cbtUuid();
    s.epoch = 1;
    for (const k of s.lastWrite.keys()) s.lastWrite.set(k, 1);
  }
}
