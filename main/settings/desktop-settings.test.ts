import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { DEFAULT_DESKTOP_SETTINGS, DesktopSettingsStore } from './desktop-settings';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-desktop-settings-'));
  db = openDatabase(path.join(dir, 'c.sqlite3')).db;
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('DesktopSettingsStore', () => {
  it('starts from the defaults and keeps what was saved across reopening the database', () => {
    const store = new DesktopSettingsStore(db);
    expect(store.get()).toEqual(DEFAULT_DESKTOP_SETTINGS);
    expect(store.save({ notifications: 'failures' })).toEqual({ notifications: 'failures', openAtLogin: false });
    store.save({ openAtLogin: true });
    db.close();
    db = openDatabase(path.join(dir, 'c.sqlite3')).db;
    expect(new DesktopSettingsStore(db).get()).toEqual({ notifications: 'failures', openAtLogin: true });
  });

  it('tells listeners the saved settings and stops after unsubscribing', () => {
    const store = new DesktopSettingsStore(db);
    const seen: unknown[] = [];
    const off = store.onChange((s) => seen.push(s));
    store.save({ notifications: 'off' });
    off();
    store.save({ notifications: 'all' });
    expect(seen).toEqual([{ notifications: 'off', openAtLogin: false }]);
  });

  it('falls back to the default for a damaged or unknown value', () => {
    db.prepare(`INSERT INTO settings (key, value_json) VALUES ('desktop.notifications', '"loud"'), ('desktop.openAtLogin', 'not json')`).run();
    expect(new DesktopSettingsStore(db).get()).toEqual(DEFAULT_DESKTOP_SETTINGS);
  });

  it('remembers that the tray notice was shown', () => {
    const store = new DesktopSettingsStore(db);
    expect(store.trayNoticeShown()).toBe(false);
    store.markTrayNoticeShown();
    expect(new DesktopSettingsStore(db).trayNoticeShown()).toBe(true);
  });
});
