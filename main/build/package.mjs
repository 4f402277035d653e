// `npm run package`: builds the app, lets electron-builder rebuild the native modules for Electron's
// ABI and package the installers, then rebuilds them for Node again whatever happened, so the CLI,
// the dev bridge and the tests in this checkout keep working. Arguments go to electron-builder
// (e.g. `npm run package -- --linux deb`). A Node script rather than shell syntax, so it runs on Windows.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' && cmd === 'npm' }).status ?? 1;

let status = run(process.execPath, [path.join(root, 'main/build/build.mjs'), 'all']);
if (status === 0) {
  status = run(process.execPath, [path.join(root, 'node_modules/electron-builder/cli.js'), ...process.argv.slice(2)]);
  const restored = run('npm', ['rebuild', 'better-sqlite3']);
  if (restored !== 0) console.error('Rebuilding better-sqlite3 for Node failed: run `npm rebuild better-sqlite3` before using the CLI or the tests.');
}
process.exit(status);
