// Opens the embedded lab in the Electron window where Electron can run (its binary is installed and
// there is a display), otherwise serves it to a browser through the dev bridge.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
let electronBinary = null;
try {
  const candidate = require('electron');
  if (typeof candidate === 'string' && fs.existsSync(candidate)) electronBinary = candidate;
} catch {
  // electron's binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD)
}
const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const [cmd, args] =
  electronBinary && hasDisplay && !process.argv.includes('--browser')
    ? [electronBinary, ['dist/lab/electron-lab.cjs']]
    : [process.execPath, ['dist/lab/start.mjs', ...process.argv.slice(2).filter((a) => a !== '--browser')]];
if (cmd === process.execPath) {
  process.stdout.write(electronBinary ? 'No display: serving the lab to a browser instead of opening Electron.\n' : 'Electron binary not installed: serving the lab to a browser (dev bridge).\n');
}
const child = spawn(cmd, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
