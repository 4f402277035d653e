// `npm run dev:web`: the core headless under Node with the renderer in any browser over the
// loopback bridge. Never part of a packaged build (it is a separate bundle the app does not load).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Core } from '../core/core';
import { defaultDataDir } from '../base/data-dir';
import { fileLogger } from '../base/app-log';
import { secretStoreFromEnvironment } from '../secrets/secret-store-from-env';
import { parseArgs } from '../cli/args';
import { startDevBridge } from './server';
import { createHandlers } from '../ipc/handlers';
import { controlSocketPath } from '../owner/control-protocol';
import { startControlServer } from '../owner/control-server';
import { acquireOwnerLock } from '../owner/owner-lock';
import { ownerPortOf } from '../owner/owner-port';

const args = parseArgs(process.argv.slice(2), [
  { name: 'data-dir', type: 'string', description: 'data directory' },
  { name: 'port', type: 'number', description: 'port on 127.0.0.1 (default: random)' },
]);
const dataDir = typeof args.options['data-dir'] === 'string' ? args.options['data-dir'] : path.resolve('.dev-data');
const here = path.dirname(fileURLToPath(import.meta.url));
// The bridge runs the engine, so it owns the data directory like the app does and serves `mkc`.
const lock = acquireOwnerLock(dataDir, 'the dev bridge');
const logger = fileLogger(dataDir, true);
const secrets = secretStoreFromEnvironment(dataDir, process.env, { onNote: (note) => logger.info(note) });
const core = new Core({ dataDir, transport: 'dev-bridge', secrets, logger, owner: ownerPortOf(lock) });
const bridge = await startDevBridge({ core, staticDir: path.resolve(here, '..', 'renderer'), port: args.options.port as number | undefined });
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
