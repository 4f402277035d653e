import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from './run-cli';
import { ALL_COMMANDS } from './commands';
import type { SecretStore } from '../secrets/secret-store';
import { Core } from '../core/core';
import type { DiscoveredVm } from '../../shared/discovery';

const noSecrets: SecretStore = { unavailableReason: () => 'none in this test', set() { throw new Error('no'); }, get: () => null, delete() {} };

let dir: string;
let out: string[];
let err: string[];
let io: CliIo;

const vm = (id: string, name: string): DiscoveredVm => ({
  vmwareVmId: id, name, path: `/DC/vm/${name}`, datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19',
  disks: [{ diskKey: 'disk-2000', label: 'd1', vmdkPath: '[ds] a.vmdk', datastore: 'ds', capacityBytes: 1024, provisioningType: 'thin', unitNumber: 0 }],
  networks: [],
});

/** Reads the VMs as the data directory holds them, with a fresh core as a later command would. */
async function withCore<T>(f: (core: Core) => T): Promise<T> {
  const core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
  try {
    return f(core);
  } finally {
    await core.close();
  }
}
const managed = () => withCore((core) => core.contexts.list().map((c) => ({ name: c.name, enabled: c.enabled })).sort((a, b) => a.name.localeCompare(b.name)));

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-cli-ctx-'));
  out = [];
  err = [];
  io = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, secrets: () => noSecrets };
  await withCore((core) => {
    core.contexts.add({ vm: vm('id-1', 'web01'), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
    core.contexts.add({ vm: vm('id-2', 'db01'), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
  });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('mkc contexts disable | enable | remove', () => {
  it('disables and enables a VM through contexts:set-enabled', async () => {
    expect(await runCli(['contexts', 'disable', 'web01', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toMatch(/web01 \(.+\) is disabled: schedules skip it/);
    expect(await managed()).toEqual([{ name: 'db01', enabled: true }, { name: 'web01', enabled: false }]);
    expect(await runCli(['contexts', 'enable', 'web01', '--data-dir', dir, '--json'], ALL_COMMANDS, io)).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ name: 'web01', enabled: true });
    expect((await managed()).every((c) => c.enabled)).toBe(true);
  });

  it('refuses a missing VM argument and an unknown VM, changing nothing', async () => {
    expect(await runCli(['contexts', 'disable', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    expect(err.join('\n')).toMatch(/Give exactly one VM \(name or context id\)/);
    expect(await runCli(['contexts', 'disable', 'nosuch', '--data-dir', dir], ALL_COMMANDS, io)).toBe(1);
    expect(err.join('\n')).toMatch(/No managed VM named nosuch/);
    expect((await managed()).every((c) => c.enabled)).toBe(true);
  });

  it('shows the removal plan and removes nothing without --volumes (exit 2)', async () => {
    expect(await runCli(['contexts', 'remove', 'web01', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    expect(out.join('\n')).toMatch(/Removing web01 .* from management/);
    expect(out.join('\n')).toMatch(/Replica volumes in CloudStack: none/);
    expect(err.join('\n')).toMatch(/Nothing removed: say what happens to the replica volumes with --volumes keep or --volumes delete/);
    expect(await runCli(['contexts', 'remove', 'web01', '--volumes', 'purge', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    expect(err.join('\n')).toMatch(/--volumes must be one of keep, delete, got "purge"/);
    expect((await managed()).map((c) => c.name)).toEqual(['db01', 'web01']);
  });

  it('removes a VM keeping its volumes and leaves the others managed', async () => {
    expect(await runCli(['contexts', 'remove', 'web01', '--volumes', 'keep', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toMatch(/Removing web01/);
    expect(out.at(-1)).toBe('web01 removed from management.');
    expect((await managed()).map((c) => c.name)).toEqual(['db01']);
  });

  it('says in the plan that deleting is refused after a live failover, and the core refuses it with the VM kept', async () => {
    await withCore((core) => core.db.prepare("UPDATE vm_contexts SET current_status = 'failed_over_live' WHERE name = 'db01'").run());
    expect(await runCli(['contexts', 'remove', 'db01', '--volumes', 'delete', '--data-dir', dir], ALL_COMMANDS, io)).toBe(1);
    expect(out.join('\n')).toMatch(/--volumes delete: will be refused: db01 was failed over live/);
    expect(err.join('\n')).toMatch(/Cannot remove: db01 was failed over live/);
    expect((await managed()).map((c) => c.name)).toEqual(['db01', 'web01']);
  });

  it('is offered by shell completion from the command list', async () => {
    expect(await runCli(['completion', 'bash'], ALL_COMMANDS, io)).toBe(0);
    const script = out.join('');
    for (const word of ['disable', 'enable', 'remove']) expect(script).toContain(word);
    expect(script).toContain('--volumes');
  });
});
