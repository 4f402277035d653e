import type { Db } from '../db/database';
import { NOTIFICATION_LEVELS, type DesktopSettings, type DesktopSettingsInput, type NotificationLevel } from '../../shared/contract';

// Rows of the generic `settings` table (key → JSON value); the desktop keys share one prefix.
const KEY_NOTIFICATIONS = 'desktop.notifications';
const KEY_OPEN_AT_LOGIN = 'desktop.openAtLogin';
const KEY_TRAY_NOTICE_SHOWN = 'desktop.trayNoticeShown';

export const DEFAULT_DESKTOP_SETTINGS: DesktopSettings = { notifications: 'all', openAtLogin: false };

/**
 * The desktop shell's preferences. They live in the data directory's database (not in Electron's
 * own storage) so the CLI, the dev bridge and the app read the same values.
 */
export class DesktopSettingsStore {
  private readonly listeners = new Set<(s: DesktopSettings) => void>();

  constructor(private readonly db: Db) {}

  private read(key: string): unknown {
    const row = this.db.prepare(`SELECT value_json FROM settings WHERE key = ?`).get(key) as { value_json: string } | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.value_json) as unknown;
    } catch {
      // A hand-edited or damaged value falls back to the default rather than breaking the app.
      return undefined;
    }
  }

  private write(key: string, value: unknown): void {
    this.db
      .prepare(`INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json`)
      .run(key, JSON.stringify(value));
  }

  get(): DesktopSettings {
    const n = this.read(KEY_NOTIFICATIONS);
    const login = this.read(KEY_OPEN_AT_LOGIN);
    return {
      notifications: (NOTIFICATION_LEVELS as readonly unknown[]).includes(n) ? (n as NotificationLevel) : DEFAULT_DESKTOP_SETTINGS.notifications,
      openAtLogin: typeof login === 'boolean' ? login : DEFAULT_DESKTOP_SETTINGS.openAtLogin,
    };
  }

  save(input: DesktopSettingsInput): DesktopSettings {
    this.db.transaction(() => {
      if (input.notifications !== undefined) this.write(KEY_NOTIFICATIONS, input.notifications);
      if (input.openAtLogin !== undefined) this.write(KEY_OPEN_AT_LOGIN, input.openAtLogin);
    })();
    const saved = this.get();
    for (const l of this.listeners) l(saved);
    return saved;
  }

  /** The Electron shell applies changes it owns (login item) as they are saved. */
  onChange(listener: (s: DesktopSettings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The "still running in the tray" notice is shown once per data directory, not once per start. */
  trayNoticeShown(): boolean {
    return this.read(KEY_TRAY_NOTICE_SHOWN) === true;
  }

  markTrayNoticeShown(): void {
    this.write(KEY_TRAY_NOTICE_SHOWN, true);
  }
}
