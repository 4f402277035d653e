// app:info and the desktop settings channels through dispatch (schema validation included) over a real core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Core } from '../../core/core';
import { appLogFile, fileLogger } from '../../base/app-log';
import { InMemorySecretStore } from '../../secrets/memory-store';
import { dispatch } from '../dispatch';
import { createHandlers } from './index';
import { acquireOwnerLock } from '../../owner/owner-lock';
import { ownerPortOf } from '../../owner/owner-port';

let dir: string;
let core: Core;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-app-handlers-'));
  core = new Core({ dataDir: dir, transport: 'electron', secrets: new InMemorySecretStore('no keyring in this test') });
});
afterEach(async () => {
  await core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('app:info', () => {
  it('tells the data directory, log file, secret store (with its problem), owner state and version', async () => {
    const before = await dispatch(createHandlers(core), 'app:info', [{}]);
    expect(before).toMatchObject({ ok: true, value: { dataDir: dir, logFile: null, transport: 'electron' } });
    fileLogger(dir).info('started');
    const r = await dispatch(createHandlers(core), 'app:info', [{}]);
    expect(r).toMatchObject({
      ok: true,
      value: {
        version: core.version,
        logFile: appLogFile(dir),
        secretStore: { kind: 'memory', problem: 'no keyring in this test' },
        owner: { state: 'unknown' },
      },
    });
  });
});

describe('app:info owner', () => {
  it('names the process holding the owner lock the shell handed in', async () => {
    const lock = acquireOwnerLock(path.join(dir, 'owned'), 'the desktop app');
    const owned = new Core({ dataDir: path.join(dir, 'owned'), transport: 'electron', secrets: new InMemorySecretStore(), owner: ownerPortOf(lock), lab: true });
    try {
      const r = await dispatch(createHandlers(owned), 'app:info', [{}]);
      expect(r).toMatchObject({
        ok: true,
        value: { lab: true, owner: { state: 'owned', pid: process.pid, since: lock.info.since, transport: 'the desktop app', detail: `the desktop app, pid ${process.pid}, since ${lock.info.since}` } },
      });
      // A port read when asked: after the lock is gone the owner is unknown again.
      lock.release();
      let held: typeof lock | null = null;
      const late = new Core({ dataDir: path.join(dir, 'late'), transport: 'cli', secrets: new InMemorySecretStore(), owner: ownerPortOf(() => held) });
      expect(await dispatch(createHandlers(late), 'app:info', [{}])).toMatchObject({ ok: true, value: { lab: false, owner: { state: 'unknown', pid: null } } });
      held = acquireOwnerLock(path.join(dir, 'late'), 'the embedded lab');
      expect(await dispatch(createHandlers(late), 'app:info', [{}])).toMatchObject({ ok: true, value: { owner: { state: 'owned', transport: 'the embedded lab' } } });
      held.release();
      await late.close();
    } finally {
      await owned.close();
    }
  });
});

describe('desktop settings channels', () => {
  it('saves and reads back, and refuses values outside the contract', async () => {
    const h = createHandlers(core);
    expect(await dispatch(h, 'desktop:get-settings', [{}])).toEqual({ ok: true, value: { notifications: 'all', openAtLogin: false } });
    expect(await dispatch(h, 'desktop:save-settings', [{ notifications: 'failures', openAtLogin: true }])).toEqual({
      ok: true,
      value: { notifications: 'failures', openAtLogin: true },
    });
    expect(await dispatch(h, 'desktop:save-settings', [{ notifications: 'loud' }])).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(await dispatch(h, 'desktop:save-settings', [{ openAtLogin: true, extra: 1 }])).toMatchObject({ ok: false, error: { code: 'validation' } });
    expect(await dispatch(h, 'desktop:get-settings', [{}])).toEqual({ ok: true, value: { notifications: 'failures', openAtLogin: true } });
  });
});
