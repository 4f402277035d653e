import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from './run-cli';
import { ALL_COMMANDS } from './commands';
import type { SecretStore } from '../secrets/secret-store';
import { Core } from '../core/core';
import { MIGRATIONS } from '../db/migrations';

const LATEST_SCHEMA = MIGRATIONS[MIGRATIONS.length - 1]!.version;

const noSecrets: SecretStore = { unavailableReason: () => 'none in this test', set() { throw new Error('no'); }, get: () => null, delete() {} };

let dir: string;
let out: string[];
let err: string[];
let io: CliIo;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-cli-'));
  out = [];
  err = [];
  io = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, secrets: () => noSecrets };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('mkc', () => {
  it('lists every command in --help', async () => {
    expect(await runCli(['--help'], ALL_COMMANDS, io)).toBe(0);
    for (const c of ALL_COMMANDS) expect(out.join('\n')).toContain(`mkc ${c.path.join(' ')}`);
  });

  it('migrates a new data directory and reports it', async () => {
    expect(await runCli(['db', 'migrate', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toMatch(new RegExp(`Migrated .* from schema 0 to ${LATEST_SCHEMA}`));
    out.length = 0;
    expect(await runCli(['db', 'migrate', '--data-dir', dir, '--json'], ALL_COMMANDS, io)).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ applied: [], schemaVersion: LATEST_SCHEMA });
  });

  it('lists contexts as a table and as JSON', async () => {
    const core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
    core.contexts.add({
      vm: { vmwareVmId: 'id-1', name: 'web01', path: '/DC/vm/web01', datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
      vcenterHost: 'vc', credentialId: null, vmaApplianceId: null,
    });
    await core.close();
    expect(await runCli(['contexts', 'list', `--data-dir=${dir}`], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toMatch(/web01\s+discovered\s+2\s+2048 MiB/);
    out.length = 0;
    expect(await runCli(['contexts', 'list', '--data-dir', dir, '--json'], ALL_COMMANDS, io)).toBe(0);
    expect(JSON.parse(out.join(''))[0]).toMatchObject({ name: 'web01', status: 'discovered' });
  });

  it('says the list is empty and what to do', async () => {
    expect(await runCli(['contexts', 'list', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toMatch(/No VMs under management yet/);
  });

  it.each([
    [['contexts', 'lst'], /Unknown command "contexts lst". Did you mean: mkc contexts list/],
    [['contexts', 'list', '--dat-dir', 'x'], /Unknown option --dat-dir/],
    [['contexts', 'list', '--data-dir'], /--data-dir needs a value/],
    [['contexts', 'list', '--json=yes'], /--json takes no value/],
  ])('rejects bad input %j with exit code 2 and a clear message', async (argv, message) => {
    expect(await runCli(argv, ALL_COMMANDS, io)).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('fails with exit code 1 on a database from a newer version', async () => {
    const core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
    core.db.pragma('user_version = 42');
    await core.close();
    expect(await runCli(['contexts', 'list', '--data-dir', dir], ALL_COMMANDS, io)).toBe(1);
    expect(err.join('\n')).toMatch(/newer MigrateKit Console \(schema 42/);
  });
});
