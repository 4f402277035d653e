import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PRODUCT_NAME = 'MigrateKit Console';

/**
 * The same directory Electron uses for app.getPath('userData'), so the CLI and the desktop app share
 * one database unless --data-dir or MKC_DATA_DIR says otherwise.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.MKC_DATA_DIR) return path.resolve(env.MKC_DATA_DIR);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', PRODUCT_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), PRODUCT_NAME);
}

/** Owner-only: the directory holds the database, its backups and the secret store. */
export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;
const SUBDIRS = ['logs'];

/**
 * Creates the data directory owner-only, or makes an existing one so: the directory (and its logs
 * directory) 0700 and every file in them without group/other access. Earlier versions created them
 * with the umask (often 0755/0644); this runs before anything is opened. No-op on Windows, whose
 * per-user profile directory already keeps other users out.
 */
export function secureDataDir(dataDir: string, platform: NodeJS.Platform = process.platform): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  if (platform === 'win32') return;
  const tighten = (dir: string) => {
    fs.chmodSync(dir, DATA_DIR_MODE);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && dir === dataDir && SUBDIRS.includes(entry.name)) tighten(full);
      else if (entry.isFile()) {
        const mode = fs.statSync(full).mode & 0o777;
        if (mode & 0o077) fs.chmodSync(full, mode & 0o700);
      }
    }
  };
  tighten(dataDir);
}
