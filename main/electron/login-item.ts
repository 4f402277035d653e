// Pure: how "start at login, hidden to the tray" is registered on each platform. Electron's
// setLoginItemSettings covers macOS and Windows; Linux desktops follow the XDG autostart spec.
import path from 'node:path';

export const HIDDEN_FLAG = '--hidden';
const AUTOSTART_FILE = 'migratekit-console.desktop';

export type LoginItemPlan =
  | { kind: 'electron'; settings: { openAtLogin: boolean; args: string[] } }
  | { kind: 'xdg-autostart'; file: string; content: string | null };

export interface LoginItemContext {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  homeDir: string;
  /** The binary to start: the AppImage itself when running from one, else the Electron executable. */
  execPath: string;
}

/** Quotes an Exec= argument per the Desktop Entry spec. */
function desktopExecArg(arg: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(arg) ? arg : `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
}

export function loginItemPlan(openAtLogin: boolean, ctx: LoginItemContext): LoginItemPlan {
  if (ctx.platform !== 'linux') return { kind: 'electron', settings: { openAtLogin, args: openAtLogin ? [HIDDEN_FLAG] : [] } };
  const configHome = ctx.env.XDG_CONFIG_HOME || path.join(ctx.homeDir, '.config');
  const file = path.join(configHome, 'autostart', AUTOSTART_FILE);
  if (!openAtLogin) return { kind: 'xdg-autostart', file, content: null };
  const exec = ctx.env.APPIMAGE || ctx.execPath;
  const content = [
    '[Desktop Entry]',
    'Type=Application',
    'Name=MigrateKit Console',
    `Exec=${desktopExecArg(exec)} ${HIDDEN_FLAG}`,
    'X-GNOME-Autostart-enabled=true',
    'NoDisplay=true',
    '',
  ].join('\n');
  return { kind: 'xdg-autostart', file, content };
}

/** Started by the login item: stay in the tray instead of showing the window. */
export function startedHidden(argv: readonly string[], macWasOpenedAsHidden: boolean): boolean {
  return argv.includes(HIDDEN_FLAG) || macWasOpenedAsHidden;
}
