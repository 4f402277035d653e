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
