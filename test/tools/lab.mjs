// Opens the embedded lab in the Electron window where Electron can run (its binary is installed and
// there is a display), otherwise serves it to a browser through the dev bridge.
//
// Ctrl-C: the terminal signals its whole foreground process group. The lab runs in a process group of
// its own (detached), so the interrupt reaches it exactly once, forwarded from here; were it in ours it
// would get the terminal's signal and our forwarded one, and the second would kill it in the middle of
// its cleanup (nbdkit and temporary directories left behind), and its sshd would die before it.
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
const useElectron = electronBinary && hasDisplay && !process.argv.includes('--browser');
const [cmd, args] = useElectron
  ? [electronBinary, ['dist/lab/electron-lab.cjs']]
  : [process.execPath, ['dist/lab/start.mjs', ...process.argv.slice(2).filter((a) => a !== '--browser')]];
if (!useElectron) {
  process.stdout.write(electronBinary ? 'No display: serving the lab to a browser instead of opening Electron.\n' : 'Electron binary not installed: serving the lab to a browser (dev bridge).\n');
}
// The Node lab also gets an IPC channel: it stops by itself when this process goes away without
// forwarding anything (killed hard), instead of running on as an orphan.
const child = spawn(cmd, args, { stdio: useElectron ? 'inherit' : ['inherit', 'inherit', 'inherit', 'ipc'], detached: true });
let forwarded = null;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (forwarded) {
      process.stdout.write(`The lab is still stopping (${forwarded} sent); it removes its temporary files before it exits.\n`);
      return;
    }
    forwarded = sig;
    try {
      child.kill(sig === 'SIGHUP' ? 'SIGTERM' : sig);
    } catch {
      // already gone
    }
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
