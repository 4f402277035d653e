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
