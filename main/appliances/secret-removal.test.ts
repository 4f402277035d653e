import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database';
import { ApplianceRepository } from '../db/repositories/appliances';
import { CredentialRepository } from '../db/repositories/credentials';
import { EventBus } from '../ipc/event-bus';
import { silentLogger } from '../base/app-log';
import { CloudStackSettings } from '../settings/cloudstack-settings';
import { secretStoreFromEnvironment } from '../secrets/secret-store-from-env';
import type { DataKeySecretStore } from '../secrets/data-key-store';
import { ApplianceService } from './appliance-service';
import { CredentialService } from './credential-service';

// Real SQLite and the real secret store file: what is removed in the database is gone from the store.
describe('secrets follow their owners', () => {
  let dir: string;
  let db: Db;
  let store: DataKeySecretStore;
  const storeText = () => fs.readFileSync(path.join(dir, 'secrets.json'), 'utf8');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-rm-'));
    db = openDatabase(path.join(dir, 'console.sqlite3')).db;
    store = secretStoreFromEnvironment(dir, { MKC_SECRET_KEY: 'k' }, { scryptN: 1 << 10 });
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('removing an appliance removes its SSH secret and only that one', async () => {
    const appliances = new ApplianceService(new ApplianceRepository(db), store, new EventBus(), silentLogger);
    const a = appliances.add({ kind: 'vma', name: 'vma1', host: 'vma.example', username: 'm', authMethod: 'password', password: 'pw-vma1' });
    const b = appliances.add({ kind: 'vma', name: 'vma2', host: 'vma2.example', username: 'm', authMethod: 'private_key', privateKey: 'KEY', passphrase: 'pp' });
    const refA = appliances.record(a.id).secretRef!;
    const refB = appliances.record(b.id).secretRef!;
    expect(store.refs().sort()).toEqual([refA, refB].sort());
    expect(JSON.parse(store.get(refB)!)).toEqual({ privateKey: 'KEY', passphrase: 'pp' });
    await appliances.remove(a.id);
    expect(store.refs()).toEqual([refB]);
    expect(storeText()).not.toContain(refA);
  });

  it('removing a vCenter credential removes its password', () => {
    const credentials = new CredentialService(new CredentialRepository(db), store);
    const c = credentials.add({ name: 'prod', vcenterHost: 'vc.example', username: 'svc', datacenter: 'DC1', password: 'pw-prod' });
    const ref = credentials.repo.require(c.id).secretRef;
    expect(store.get(ref)).toBe('pw-prod');
    credentials.remove(c.id);
    expect(store.refs()).toEqual([]);
  });

  it('a failed add leaves no secret behind', () => {
    const credentials = new CredentialService(new CredentialRepository(db), store);
    credentials.add({ name: 'prod', vcenterHost: 'vc.example', username: 'svc', datacenter: 'DC1', password: 'one' });
    expect(() => credentials.add({ name: 'prod', vcenterHost: 'vc2.example', username: 'svc', datacenter: 'DC1', password: 'two' })).toThrow(/already exists/);
    expect(store.refs()).toHaveLength(1);
  });

  it('CloudStack keys: two entries, replaced in place; the settings still show while the store cannot be opened', () => {
    const settings = new CloudStackSettings(db, store);
    settings.save({ apiUrl: 'https://cloud.example/client/api', apiKey: 'AK1', secretKey: 'SK1' });
    settings.save({ apiUrl: 'https://cloud.example/client/api', apiKey: 'AK2', secretKey: 'SK2' });
    expect(store.refs().sort()).toEqual(['cloudstack-api-key', 'cloudstack-secret-key']);
    expect(store.get('cloudstack-api-key')).toBe('AK2');
    const locked = new CloudStackSettings(db, secretStoreFromEnvironment(dir, { MKC_SECRET_KEY: 'other' }));
    expect(locked.view()).toMatchObject({ apiUrl: 'https://cloud.example/client/api', hasKeys: true });
    expect(() => locked.save({ apiUrl: 'https://cloud.example/client/api', apiKey: 'AK3', secretKey: 'SK3' })).toThrow(/does not open it/);
    expect(store.get('cloudstack-api-key')).toBe('AK2');
  });
});
