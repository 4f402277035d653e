import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loginItemPlan, startedHidden } from './login-item';

const ctx = { platform: 'linux' as NodeJS.Platform, env: {}, homeDir: '/home/op', execPath: '/opt/MigrateKit Console/migratekit-console' };

describe('loginItemPlan', () => {
  it('uses Electron login items with the hidden flag on Windows and macOS', () => {
    expect(loginItemPlan(true, { ...ctx, platform: 'win32' })).toEqual({ kind: 'electron', settings: { openAtLogin: true, args: ['--hidden'] } });
    expect(loginItemPlan(false, { ...ctx, platform: 'darwin' })).toEqual({ kind: 'electron', settings: { openAtLogin: false, args: [] } });
  });

  it('writes an XDG autostart entry on Linux that starts the AppImage hidden, and removes it when turned off', () => {
    const on = loginItemPlan(true, { ...ctx, env: { APPIMAGE: '/home/op/Apps/MigrateKit.AppImage' } });
    expect(on).toMatchObject({ kind: 'xdg-autostart', file: path.join('/home/op/.config', 'autostart', 'migratekit-console.desktop') });
    expect(on.kind === 'xdg-autostart' && on.content).toMatch(/^Exec=\/home\/op\/Apps\/MigrateKit.AppImage --hidden$/m);
    const plain = loginItemPlan(true, { ...ctx, env: { XDG_CONFIG_HOME: '/cfg' } });
    expect(plain.kind === 'xdg-autostart' && plain.file).toBe(path.join('/cfg', 'autostart', 'migratekit-console.desktop'));
    expect(plain.kind === 'xdg-autostart' && plain.content).toMatch(/^Exec="\/opt\/MigrateKit Console\/migratekit-console" --hidden$/m);
    expect(loginItemPlan(false, ctx)).toMatchObject({ kind: 'xdg-autostart', content: null });
  });
});

describe('startedHidden', () => {
  it('is true for the login item flag or macOS hidden launch only', () => {
    expect(startedHidden(['/app', '--hidden'], false)).toBe(true);
    expect(startedHidden(['/app'], true)).toBe(true);
    expect(startedHidden(['/app'], false)).toBe(false);
  });
});
