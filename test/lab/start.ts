// `npm run lab` without an Electron binary: the lab's core served to a browser by the dev bridge.
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startDevBridge, type DevBridge } from '../../main/devbridge/server';
import { createHandlers } from '../../main/ipc/handlers';
import { controlSocketPath } from '../../main/owner/control-protocol';
import { startControlServer, type ControlServer } from '../../main/owner/control-server';
import { startLab, type Lab } from './lab-setup';

/** Cleanup that takes longer than this gives up, says what it was doing and exits non-zero. */
const STOP_TIMEOUT_MS = 30_000;

const wholeNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};
const options = new Command('lab')
  .option('--port <number>', 'dev bridge port on 127.0.0.1 (default: random)', wholeNumber)
  .option('--vms <number>', 'generated VMs in the simulated vCenter besides the named ones (default 40)', wholeNumber)
  .parse()
  .opts<{ port?: number; vms?: number }>();

let rig: Lab | null = null;
let control: ControlServer | null = null;
let bridge: DevBridge | null = null;
let starting: Promise<unknown> | null = null;
let stopping = false;
let stage = 'starting';

// Installed before anything starts: an interrupt while the lab is still starting waits for the start
// to finish and then removes everything, instead of killing the process with sshd and files left over.
// Only the first signal stops the lab; later ones (a second Ctrl-C, a forwarded copy) must not cut the
// cleanup short, which is what left nbdkit and the temporary directories behind before.
const stop = (signal: string) => {
  if (stopping) {
    process.stdout.write(`Still stopping the lab (${stage})…\n`);
    return;
  }
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the lab and removing its temporary files…\n`);
  const timer = setTimeout(() => {
    process.stderr.write(`The lab did not stop within ${STOP_TIMEOUT_MS / 1000} s (was at: ${stage}); exiting anyway.\n`);
    process.exit(1);
  }, STOP_TIMEOUT_MS);
  timer.unref();
  void (async () => {
    await starting?.catch(() => {});
    stage = 'closing the dev bridge and the control socket';
    await bridge?.close().catch(() => {});
    await control?.close().catch(() => {});
    stage = 'stopping the core, nbdkit, sshd and the simulators';
    await rig?.close();
    process.stdout.write('Lab stopped; temporary files removed.\n');
    process.exit(0);
  })().catch((e: unknown) => {
    process.stderr.write(`Stopping the lab failed at ${stage}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
// Started by `npm run lab` with an IPC channel: the launcher went away without a word (killed hard).
if (process.send) process.on('disconnect', () => stop('launcher gone'));

const start = async () => {
  rig = await startLab({ extraVms: options.vms ?? 40 });
  if (stopping) return;
  const lock = rig.lock!;
  // `mkc --data-dir <lab data directory>` is served by the lab, through the same handler map.
  control = await startControlServer({
    socketPath: controlSocketPath(rig.core.dataDir),
    handlers: createHandlers(rig.core, { trigger: 'cli' }),
    bus: rig.core.bus,
    hello: { pid: lock.info.pid, since: lock.info.since, transport: lock.info.transport, dataDir: rig.core.dataDir },
  });
  if (stopping) return;
  await rig.core.startBackground();
  if (stopping) return;
  bridge = await startDevBridge({ core: rig.core, staticDir: path.resolve('dist/renderer'), port: options.port });
};
starting = start();
try {
  await starting;
} catch (e) {
  process.stderr.write(`The lab could not start: ${e instanceof Error ? e.message : String(e)}\n`);
  stop('start failed');
}
if (rig && bridge && !stopping) {
  const r: Lab = rig;
  stage = 'running';
  process.stdout.write(
    [
      'MigrateKit Console — embedded lab (nothing here touches a real data directory or appliance)',
      `  simulated VMA (vCenter ${r.vcenterHost}) and CloudStack; real sshd on 127.0.0.1:${r.sshd.port}; nbdkit started over SSH on :${r.nbdPort}`,
      '  appliances: lab-vma, lab-oma (host keys trusted); credential: lab-vcenter; two VMs already managed (pgtest1, web1)',
      `  lab data directory (temporary): ${r.core.dataDir}; try \`mkc --data-dir ${r.core.dataDir} contexts list\``,
      '',
      `Open ${(bridge as DevBridge).url}`,
      'Ctrl-C stops the lab and removes its temporary files.',
      '',
    ].join('\n'),
  );
}
