// Where the simulated copier writes disk bytes. The default opens the NBD export named in the
// replicate request's `device_path` with the project's NBD client (a real nbdkit in tests).
import { NbdClient } from '../nbd/nbd-client';

export interface DiskTargetWriter {
  readonly size: number;
  pwrite(buf: Buffer, offset: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type DiskTargetOpener = (deviceUrl: string) => Promise<DiskTargetWriter>;

export const openNbdTarget: DiskTargetOpener = (deviceUrl) => NbdClient.connect(deviceUrl, { timeoutMs: 10_000 });
