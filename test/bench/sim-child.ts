// The VMA simulator in a child process (vma-sim-child.ts, bundled beside the suite by npm run bench),
// so that the bench process's CPU is the console's alone, as it is when the VMA is another machine.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Core } from '../../main/core/core';
import type { Appliance } from '../../shared/domain';
import { freePort, type SshdFixture } from '../fixtures/sshd';
import type { Cleanup } from './cleanup';
import type { AnsweredRequest } from '../sim/vma/index';
import type { SimChildConfig, SimChildMessage } from './vma-sim-child';

export interface SimChild {
  proc: ChildProcess;
  url: string;
  port: number;
  callbackUrl: string;
  cpu(): Promise<{ user: number; system: number }>;
  /** Requests the simulator has answered so far, by endpoint. */
  requests(): Promise<Record<string, number>>;
  /** Requests answered since the last call, each with the simulator's own timing (onAnswered). */
  answered(): Promise<AnsweredRequest[]>;
}

/** At teardown: asks a bench child process to close (IPC `close`), killing it after 5 s. */
export function closeChildOnCleanup(proc: ChildProcess, label: string, cleanup: Cleanup): void {
  cleanup.add(label, async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    if (proc.connected) proc.send({ type: 'close' });
    const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  });
}

export async function startSimChild(config: SimChildConfig, cleanup: Cleanup): Promise<SimChild> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vma-sim-child.mjs');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run the suite through npm run bench (it bundles the child)`);
  const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, MKC_SIM_CHILD_CONFIG: JSON.stringify(config) } });
  closeChildOnCleanup(proc, 'VMA simulator child process', cleanup);
  const ready = await new Promise<Extract<SimChildMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('VMA simulator child did not start within 30 s')), 30_000);
    proc.on('message', (m: SimChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      } else if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`VMA simulator child failed: ${m.message}`));
      }
    });
    proc.once('exit', (code) => reject(new Error(`VMA simulator child exited (${code}) before it was ready`)));
  });
  /** Sends `{type}` to the child and resolves with what its answer of the same type carries. */
  const ask = <K extends SimChildMessage['type'], R>(type: K, silence: string, pick: (m: Extract<SimChildMessage, { type: K }>) => R): Promise<R> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(silence)), 5_000);
      const on = (m: SimChildMessage) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        proc.off('message', on);
        resolve(pick(m as Extract<SimChildMessage, { type: K }>));
      };
      proc.on('message', on);
      proc.send({ type });
    });
  return {
    proc,
    url: ready.url,
    port: ready.port,
    callbackUrl: ready.callbackUrl,
    cpu: () => ask('cpu', 'no CPU answer from the simulator child', (m) => ({ user: m.user, system: m.system })),
    requests: () => ask('requests', 'no request count from the simulator child', (m) => m.byEndpoint),
    answered: () => ask('answered', 'no answered requests from the simulator child', (m) => m.answers),
  };
}

/** The bench's VMA appliance in `core`: the simulator at `apiPort` behind the sshd fixture, trusted and connected. */
export async function connectBenchVma(core: Core, sshd: SshdFixture, apiPort: number): Promise<Appliance> {
  const vma = core.appliances.add({
    kind: 'vma',
    name: 'bench-vma',
    host: '127.0.0.1',
    port: sshd.port,
    username: sshd.username,
    authMethod: 'private_key',
    privateKey: sshd.clientPrivateKey,
    apiPort,
    callbackPort: await freePort(),
  });
  await core.appliances.trustHostKey(vma.id, sshd.hostKeyFingerprint);
  await core.appliances.connect(vma.id);
  return vma;
}

