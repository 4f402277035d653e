import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';
import { ALL_COMMANDS } from './commands';
import { Core } from '../core/core';
import { MIGRATIONS } from '../db/migrations';
import { InMemorySecretStore } from '../secrets/memory-store';
import { createHandlers } from '../ipc/handlers';
import { startControlServer } from '../owner/control-server';
import { controlSocketPath } from '../owner/control-protocol';
import { acquireOwnerLock, ownerLockPath } from '../owner/owner-lock';
import type { HandlerMap } from '../ipc/handler-types';
import { ownerPortOf } from '../owner/owner-port';
import type { DiscoveredVm } from '../../shared/discovery';
import { bashCompletions, noSecrets, useCliHarness } from './cli-test-harness';

const LATEST_SCHEMA = MIGRATIONS[MIGRATIONS.length - 1]!.version;

const h = useCliHarness('mkc-cli-', { dataDirArg: false });

describe('mkc', () => {
  it('lists every command in --help', async () => {
    expect(await runCli(['--help'], ALL_COMMANDS, h.io)).toBe(0);
    for (const c of ALL_COMMANDS) expect(h.out.join('\n')).toContain(`mkc ${c.path.join(' ')}`);
  });

  it('migrates a new data directory and reports it', async () => {
    expect(await runCli(['db', 'migrate', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(0);
    expect(h.out.join('\n')).toMatch(new RegExp(`Migrated .* from schema 0 to ${LATEST_SCHEMA}`));
    h.out.length = 0;
    expect(await runCli(['db', 'migrate', '--data-dir', h.dir, '--json'], ALL_COMMANDS, h.io)).toBe(0);
    expect(JSON.parse(h.out.join(''))).toMatchObject({ applied: [], schemaVersion: LATEST_SCHEMA });
  });

  it('lists contexts as a table and as JSON', async () => {
    const core = new Core({ dataDir: h.dir, transport: 'cli', secrets: noSecrets });
    core.contexts.add({
      vm: { vmwareVmId: 'id-1', name: 'web01', path: '/DC/vm/web01', datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
      vcenterHost: 'vc', credentialId: null, vmaApplianceId: null,
    });
    await core.close();
    expect(await runCli(['contexts', 'list', `--data-dir=${h.dir}`], ALL_COMMANDS, h.io)).toBe(0);
    expect(h.out.join('\n')).toMatch(/web01\s+discovered\s+2\s+2048 MiB/);
    h.out.length = 0;
    expect(await runCli(['contexts', 'list', '--data-dir', h.dir, '--json'], ALL_COMMANDS, h.io)).toBe(0);
    expect(JSON.parse(h.out.join(''))[0]).toMatchObject({ name: 'web01', status: 'discovered' });
  });

  it('says the list is empty and what to do', async () => {
    expect(await runCli(['contexts', 'list', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(0);
    expect(h.out.join('\n')).toMatch(/No VMs under management yet/);
  });

  it.each([
    [['contexts', 'lst'], /Unknown command "contexts lst". Did you mean: mkc contexts list/],
    [['contexts', 'list', '--dat-dir', 'x'], /Unknown option --dat-dir/],
    [['contexts', 'list', '--data-dir'], /--data-dir needs a value/],
    [['contexts', 'list', '--json=yes'], /--json takes no value/],
  ])('rejects bad input %j with exit code 2 and a clear message', async (argv, message) => {
    expect(await runCli(argv, ALL_COMMANDS, h.io)).toBe(2);
    expect(h.err.join('\n')).toMatch(message);
  });

  it('fails with exit code 1 on a database from a newer version', async () => {
    const core = new Core({ dataDir: h.dir, transport: 'cli', secrets: noSecrets });
    core.db.pragma('user_version = 42');
    await core.close();
    expect(await runCli(['contexts', 'list', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(1);
    expect(h.err.join('\n')).toMatch(/newer MigrateKit Console \(schema 42/);
  });

  it('accepts global options before the command and prints the version', async () => {
    expect(await runCli(['--data-dir', h.dir, 'contexts', 'list'], ALL_COMMANDS, h.io)).toBe(0);
    expect(h.out.join('\n')).toMatch(/No VMs under management yet/);
    h.out.length = 0;
    expect(await runCli(['--json', '--data-dir', h.dir, 'jobs', 'list'], ALL_COMMANDS, h.io)).toBe(0);
    expect(JSON.parse(h.out.join(''))).toEqual([]);
    h.out.length = 0;
    expect(await runCli(['--version'], ALL_COMMANDS, h.io)).toBe(0);
    expect(h.out.join('')).toMatch(/^mkc \d+\.\d+\.\d+/);
  });

  it('releases the owner lock and the control socket when an in-process command ends', async () => {
    expect(await runCli(['contexts', 'list', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(0);
    expect(fs.existsSync(ownerLockPath(h.dir))).toBe(false);
    expect(fs.existsSync(controlSocketPath(h.dir))).toBe(false);
  });
});

describe('mkc completion', () => {
  const complete = (script: string, words: string[]): string[] => bashCompletions(h.dir, script, words);

  it('completes command words and each command\'s options from the command list', async () => {
    expect(await runCli(['completion', 'bash'], ALL_COMMANDS, h.io)).toBe(0);
    const script = h.out.join('');
    expect(complete(script, ['mkc', 'jobs', ''])).toEqual(['cancel', 'delete', 'list', 'show', 'watch']);
    expect(complete(script, ['mkc', 're'])).toEqual(['replicate']);
    expect(complete(script, ['mkc', 'jobs', 'list', '--l'])).toEqual(['--limit']);
    // An option's value is not taken for a command word.
    expect(complete(script, ['mkc', '--data-dir', 'jobs', 'cloudstack', ''])).toEqual(['configure', 'show', 'test']);
  });

  it('asks which shell', async () => {
    expect(await runCli(['completion', 'fish'], ALL_COMMANDS, h.io)).toBe(2);
    expect(h.err.join('')).toMatch(/mkc completion bash/);
  });
});

describe('mkc input passes the same schemas as the UI', () => {
  let secrets: InMemorySecretStore;
  beforeEach(() => {
    secrets = new InMemorySecretStore();
    h.io = { ...h.io, secrets: () => secrets, stdin: async () => 'ssh-password\n' };
  });

  const listAppliances = async () => {
    h.out.length = 0;
    expect(await runCli(['appliances', 'list', '--data-dir', h.dir, '--json'], ALL_COMMANDS, h.io)).toBe(0);
    return JSON.parse(h.out.join('')) as { name: string }[];
  };
  const cloudstackView = async () => {
    h.out.length = 0;
    expect(await runCli(['cloudstack', 'show', '--data-dir', h.dir, '--json'], ALL_COMMANDS, h.io)).toBe(0);
    return JSON.parse(h.out.join('')) as { apiUrl: string | null; volumeHeadroomPercent: number };
  };
  const omaArgs = (settings: string) => {
    const file = path.join(h.dir, 'oma-settings.json');
    fs.writeFileSync(file, settings);
    return ['appliances', 'add', '--kind', 'oma', '--name', 'oma1', '--host', 'oma.example', '--username', 'root', '--password-stdin',
      '--nbd-host', '10.0.0.5', '--nbd-port', '10809', '--oma-settings', file, '--data-dir', h.dir];
  };

  it.each([
    ['a URL that is not one', ['--url', 'not-a-url'], /Invalid request for cloudstack:save-config: apiUrl: must be an http\(s\) URL/],
    ['a non-http URL', ['--url', 'ftp://cloud.example/client/api'], /apiUrl: must be an http\(s\) URL/],
    ['headroom over 100 %', ['--url', 'https://cloud.example/client/api', '--headroom', '500'], /volumeHeadroomPercent/],
  ])('cloudstack configure refuses %s with exit code 2 and saves nothing', async (_name, args, message) => {
    expect(await runCli(['cloudstack', 'configure', ...args, '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(2);
    expect(h.err.join('\n')).toMatch(message);
    expect(await cloudstackView()).toMatchObject({ apiUrl: null, volumeHeadroomPercent: 5 });
  });

  it.each([
    [['--limit', '-5'], /Invalid request for jobs:list: limit/],
    [['--limit', '0'], /limit/],
    [['--limit', '20000'], /limit/],
  ])('jobs list refuses %j with exit code 2, before a data directory is opened or created', async (args, message) => {
    const fresh = path.join(h.dir, 'not-yet');
    expect(await runCli(['jobs', 'list', ...args, '--data-dir', fresh], ALL_COMMANDS, h.io)).toBe(2);
    expect(h.err.join('\n')).toMatch(message);
    expect(h.out).toEqual([]);
    expect(fs.existsSync(fresh)).toBe(false);
  });

  it.each([
    ['a wrong type', '{"nbdPort": "10809"}', /omaSettings\.nbdPort/],
    ['an unknown setting', '{"byIdDirectory": "/dev/disk/by-id"}', /omaSettings.*byIdDirectory/],
    ['a relative path', '{"exportsDir": "exports"}', /omaSettings\.exportsDir: must be an absolute path/],
    ['a line break in a command', '{"nbdkitBinary": "nbdkit\\nrm -rf /"}', /omaSettings\.nbdkitBinary: must not contain NUL or line breaks/],
    ['text that is not JSON', '{ byIdDir: /dev }', /--oma-settings: .* is not valid JSON/],
    ['an allowed client that is not an address', '{"nbdListenAddress": "0.0.0.0", "nbdAllowedClients": ["vma.example"]}', /omaSettings\.nbdAllowedClients\.0/],
    ['a public listen address without allowed clients', '{"nbdListenAddress": "0.0.0.0"}', /nbdAllowedClients: nbdkit would serve every replica read-write to anyone/],
  ])('appliances add refuses --oma-settings with %s and stores no appliance and no secret', async (_name, settings, message) => {
    expect(await runCli(omaArgs(settings), ALL_COMMANDS, h.io)).toBe(2);
    expect(h.err.join('\n')).toMatch(message);
    expect(await listAppliances()).toEqual([]);
    expect((secrets as unknown as { values: Map<string, string> }).values.size).toBe(0);
  });

  it('lists who can reach an OMA appliance\'s replicas over NBD, as stored from --oma-settings', async () => {
    expect(await runCli(omaArgs('{"nbdListenAddress": "0.0.0.0", "nbdAllowedClients": ["10.0.0.9"]}'), ALL_COMMANDS, h.io)).toBe(0);
    h.out.length = 0;
    expect(await runCli(['appliances', 'list', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(0);
    expect(h.out.join('\n')).toContain('oma1: nbdkit on 0.0.0.0 admits only 10.0.0.9 and the appliance itself');
    expect((await listAppliances())[0]).toMatchObject({ nbdAccess: { listenAddress: '0.0.0.0', allowedClients: ['10.0.0.9'] } });
  });

  it('stores valid --oma-settings with the appliance', async () => {
    expect(await runCli(omaArgs('{"byIdDir": "/srv/by-id", "nbdPort": 10810}'), ALL_COMMANDS, h.io)).toBe(0);
    const core = new Core({ dataDir: h.dir, transport: 'cli', secrets });
    try {
      expect(core.appliances.record('oma1').settings).toEqual({ oma: { byIdDir: '/srv/by-id', nbdPort: 10810 } });
    } finally {
      await core.close();
    }
  });

  it.each([
    ['discover with an over-long filter', ['discover', '--appliance', 'vma', '--credential', 'vc', '--filter', 'x'.repeat(1001)], /Invalid request for discovery:run: filter/],
    ['connect with a zero wait', ['appliances', 'connect', 'vma', '--wait-seconds', '0'], /Invalid request for appliances:connect: waitSeconds/],
    ['an appliance port h.out of range', ['appliances', 'add', '--kind', 'vma', '--name', 'v', '--host', 'h', '--username', 'u', '--password-stdin', '--port', '70000'], /Invalid request for appliances:add: port/],
  ])('refuses %s with exit code 2, creating no data directory', async (_name, argv, message) => {
    const fresh = path.join(h.dir, 'not-yet');
    expect(await runCli([...argv, '--data-dir', fresh], ALL_COMMANDS, h.io)).toBe(2);
    expect(h.err.join('\n')).toMatch(message);
    expect(fs.existsSync(fresh)).toBe(false);
  });
});

/** An owner in this process: the lock, a core and the control server, as the app or `mkc serve` run them. */
async function startOwnerIn(dataDir: string) {
  const lock = acquireOwnerLock(dataDir, 'test owner');
  const core = new Core({ dataDir, transport: 'cli', secrets: new InMemorySecretStore(), owner: ownerPortOf(lock) });
  const calls: string[] = [];
  const real = createHandlers(core, { trigger: 'cli' });
  const handlers = Object.fromEntries(
    Object.entries(real).map(([channel, h]) => [channel, (req: never) => (calls.push(channel), (h as (r: never) => unknown)(req))]),
  ) as unknown as HandlerMap;
  const server = await startControlServer({ socketPath: controlSocketPath(dataDir), handlers, bus: core.bus, hello: { pid: process.pid, since: lock.info.since, transport: 'test owner', dataDir } });
  return {
    core,
    calls,
    lock,
    close: async () => {
      await server.close();
      await core.close();
      lock.release();
    },
  };
}

describe('mkc status', () => {
  it('names this mkc as the owner while it works in-process', async () => {
    expect(await runCli(['status', '--data-dir', h.dir, '--json'], ALL_COMMANDS, h.io)).toBe(0);
    const info = JSON.parse(h.out.join(''));
    expect(info).toMatchObject({ dataDir: h.dir, lab: false, owner: { state: 'owned', pid: process.pid, transport: 'mkc status', hostname: os.hostname() } });
    expect(Date.parse(info.owner.since)).not.toBeNaN();
  });

  it('names the owner that serves it (pid, since, which program)', async () => {
    const owner = await startOwnerIn(h.dir);
    try {
      expect(await runCli(['status', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(0);
      expect(owner.calls).toEqual(['app:info']);
      expect(h.out.join('\n')).toContain(`Owner:          test owner (pid ${process.pid}, since ${owner.lock.info.since})`);
      expect(h.out.join('\n')).toContain(`Data directory: ${h.dir}\n`);
    } finally {
      await owner.close();
    }
  });
});

describe('mkc with an owner', () => {
  it('sends commands to the owner, which validates them with the same schemas', async () => {
    const owner = await startOwnerIn(h.dir);
    try {
      owner.core.contexts.add({
        vm: { vmwareVmId: 'id-1', name: 'web01', path: '/DC/vm/web01', datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
        vcenterHost: 'vc', credentialId: null, vmaApplianceId: null,
      });
      expect(await runCli(['contexts', 'list', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(0);
      expect(h.out.join('\n')).toMatch(/web01\s+discovered/);
      expect(owner.calls).toEqual(['contexts:list']);
      expect(await runCli(['jobs', 'list', '--limit', '-5', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(2);
      expect(h.err.join('\n')).toMatch(/Invalid request for jobs:list: limit/);
      expect(owner.calls).toEqual(['contexts:list']);
      // The lock stays the owner's.
      expect(JSON.parse(fs.readFileSync(ownerLockPath(h.dir), 'utf8'))).toMatchObject({ pid: process.pid, transport: 'test owner' });
    } finally {
      await owner.close();
    }
  });

  it('refuses a second serve and names the owner', async () => {
    const owner = await startOwnerIn(h.dir);
    try {
      expect(await runCli(['serve', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(1);
      expect(h.err.join('\n')).toMatch(new RegExp(`owned by test owner \\(pid ${process.pid}, since ${owner.lock.info.since.replace(/[.]/g, '\\.')}\\)`));
    } finally {
      await owner.close();
    }
  });
});

describe('mkc jobs watch', () => {
  const vm: DiscoveredVm = {
    vmwareVmId: 'id-1', name: 'web01', path: '/DC/vm/web01', datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19',
    disks: [{ diskKey: 'disk-2000', label: 'Hard disk 1', vmdkPath: '[ds] a/a.vmdk', datastore: 'ds', capacityBytes: 2 ** 30, provisioningType: 'thin', unitNumber: 0 }],
    networks: [],
  };
  const until = async (what: () => boolean) => {
    while (!what()) await new Promise((r) => setTimeout(r, 20));
  };

  it('follows a job the owner runs and exits with the outcome the owner pushes', async () => {
    const owner = await startOwnerIn(h.dir);
    try {
      const { id: contextId } = owner.core.contexts.add({ vm, vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
      const job = owner.core.jobs.claim({ contextId, trigger: 'cli' });
      const watching = runCli(['jobs', 'watch', job.id, '--data-dir', h.dir], ALL_COMMANDS, h.io);
      await until(() => h.out.some((l) => l.includes(job.id)));
      owner.core.jobs.finish(job.id, 'failed', 'the VMA refused the copy');
      const j = owner.core.jobs.require(job.id);
      owner.core.bus.emit('jobs:progress', { updates: [{ jobId: j.id, vmContextId: j.vmContextId, status: j.status, phase: j.phase, progressPercent: j.progressPercent, bytesTransferred: 0, totalBytes: 0, rateBps: 0, etaSeconds: null, error: j.error, disks: [] }] });
      expect(await watching).toBe(1);
      expect(h.err.join('\n')).toContain(`Job ${job.id} failed: the VMA refused the copy`);
    } finally {
      await owner.close();
    }
  });

  it('keeps following when the owner goes away: it takes over and reports the outcome', async () => {
    const owner = await startOwnerIn(h.dir);
    owner.core.contexts.add({ vm, vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
    const job = owner.core.jobs.claim({ contextId: owner.core.contexts.list()[0]!.id, trigger: 'cli' });
    const watching = runCli(['jobs', 'watch', job.id, '--data-dir', h.dir], ALL_COMMANDS, h.io);
    await until(() => h.out.some((l) => l.includes(job.id)));
    await owner.close();
    await until(() => h.err.some((l) => l.includes('went away; following')));
    // The watching command now owns the directory itself.
    expect(JSON.parse(fs.readFileSync(ownerLockPath(h.dir), 'utf8')).transport).toBe('mkc jobs watch');
    const other = new Core({ dataDir: h.dir, transport: 'cli', secrets: noSecrets });
    other.jobs.finish(job.id, 'completed', null);
    await other.close();
    expect(await watching).toBe(0);
    expect(h.out.join('\n')).toMatch(new RegExp(`${job.id} completed`));
    expect(fs.existsSync(ownerLockPath(h.dir))).toBe(false);
  });
});

describe('mkc replicate --detach', () => {
  it('refuses without an owner, says why and what to run instead, and starts nothing', async () => {
    expect(await runCli(['replicate', 'web01', '--detach', '--data-dir', h.dir], ALL_COMMANDS, h.io)).toBe(1);
    const text = h.err.join('\n');
    expect(text).toMatch(/nobody would receive the change-ID callbacks/);
    expect(text).toMatch(/`mkc serve`/);
    expect(text).toMatch(/desktop app/);
  });
});
