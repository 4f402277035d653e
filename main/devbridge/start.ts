// `npm run dev:web`: the core headless under Node with the renderer in any browser over the
// loopback bridge. Never part of a packaged build (it is a separate bundle the app does not load).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Core } from '../core/core';
import { defaultDataDir } from '../base/data-dir';
import { fileLogger } from '../base/app-log';
import { secretStoreFromEnvironment } from '../secrets/secret-store-from-env';
import { Command, InvalidArgumentError } from 'commander';
import { startDevBridge } from './server';
import { createHandlers } from '../ipc/handlers';
import { controlSocketPath } from '../owner/control-protocol';
import { startControlServer } from '../owner/control-server';
import { acquireOwnerLock } from '../owner/owner-lock';
import { ownerPortOf } from '../owner/owner-port';

const options = new Command('devbridge')
  .description('the core headless with the renderer over a loopback bridge')
  .option('--data-dir <dir>', 'data directory (default: ./.dev-data)')
  .option('--port <number>', 'port on 127.0.0.1 (default: random)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number');
    return n;
  })
  .parse()
  .opts<{ dataDir?: string; port?: number }>();
const dataDir = options.dataDir ?? path.resolve('.dev-data');
const here = path.dirname(fileURLToPath(import.meta.url));
// The bridge runs the engine, so it owns the data directory like the app does and serves `mkc`.
const lock = acquireOwnerLock(dataDir, 'the dev bridge');
const logger = fileLogger(dataDir, true);
const secrets = secretStoreFromEnvironment(dataDir, process.env, { onNote: (note) => logger.info(note) });
const core = new Core({ dataDir, transport: 'dev-bridge', secrets, logger, owner: ownerPortOf(lock) });
const bridge = await startDevBridge({ core, staticDir: path.resolve(here, '..', 'renderer'), port: options.port });
const control = await startControlServer({
  socketPath: controlSocketPath(core.dataDir),
  handlers: createHandlers(core, { trigger: 'cli' }),
  bus: core.bus,
  hello: { pid: lock.info.pid, since: lock.info.since, transport: lock.info.transport, dataDir: core.dataDir },
});
process.stdout.write(`MigrateKit Console dev bridge (data: ${dataDir}; default would be ${defaultDataDir()})\nOpen ${bridge.url}\n`);
const stop = async () => {
  await bridge.close();
  await control.close();
  await core.close();
  lock.release();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
