import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from './run-cli';
import { ALL_COMMANDS } from './commands';
import type { SecretStore } from '../secrets/secret-store';
import { Core } from '../core/core';
import type { DiscoveredVm } from '../../shared/discovery';
import { FailoverRepository } from '../db/repositories/failovers';

const noSecrets: SecretStore = { unavailableReason: () => 'none in this test', set() { throw new Error('no'); }, get: () => null, delete() {} };

let dir: string;
let out: string[];
let err: string[];
let io: CliIo;

const vm = (id: string, name: string, networks: string[]): DiscoveredVm => ({
  vmwareVmId: id, name, path: `/DC/vm/${name}`, datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19',
  disks: [
    { diskKey: 'disk-2000', label: 'd1', vmdkPath: '[ds] a.vmdk', datastore: 'ds', capacityBytes: 1024, provisioningType: 'thin', unitNumber: 0 },
    { diskKey: 'disk-3000', label: 'd2', vmdkPath: '[ds] b.vmdk', datastore: 'ds', capacityBytes: 1024, provisioningType: 'thin', unitNumber: 1 },
  ],
  networks: networks.map((n) => ({ label: n, networkName: n, adapterType: 'vmxnet3', macAddress: '', connected: true })),
});

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-cli-fo-'));
  out = [];
  err = [];
  io = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, secrets: () => noSecrets };
  const core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
  core.contexts.add({ vm: vm('id-1', 'web01', ['LAN', 'DMZ']), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
  core.contexts.add({ vm: vm('id-2', 'web02', ['DMZ']), vcenterHost: 'vc', credentialId: null, vmaApplianceId: null });
  await core.close();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const mappingsOf = async (name: string) => {
  const core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
  try {
    return core.networkMappings.forContext(core.contexts.findByName(name)[0]!.id);
  } finally {
    await core.close();
  }
};

describe('mkc networks map and failover', () => {
  it('maps a source network on every VM that has it, or on one VM', async () => {
    expect(await runCli(['networks', 'map', '--source', 'DMZ', '--test', 'iso-net-1', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toContain('Mapped on 2 VM(s).');
    expect(await runCli(['networks', 'map', '--source', 'LAN', '--vm', 'web01', '--live', 'prod-net', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(await mappingsOf('web01')).toEqual([
      expect.objectContaining({ sourceNetwork: 'DMZ', testNetworkId: 'iso-net-1', liveNetworkId: null }),
      expect.objectContaining({ sourceNetwork: 'LAN', testNetworkId: null, liveNetworkId: 'prod-net' }),
    ]);
    expect(await mappingsOf('web02')).toEqual([expect.objectContaining({ sourceNetwork: 'DMZ', testNetworkId: 'iso-net-1' })]);
  });

  it('refuses a mapping without a target and a bad disk key through the contract schemas (exit 2)', async () => {
    expect(await runCli(['networks', 'map', '--source', 'DMZ', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    expect(err.join('\n')).toMatch(/give liveNetworkId or testNetworkId/);
    expect(await runCli(['failover', 'boot-disk', 'web01', 'scsi0:1', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    expect(err.join('\n')).toMatch(/VMware disk key/);
    expect(await runCli(['failover', 'boot-disk', 'web01', 'disk-3000', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toContain('Boot disk: disk-3000');
  });

  it('validation blocks a VM that was never replicated, and test failover refuses it without touching anything', async () => {
    expect(await runCli(['failover', 'validate', 'web02', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^Blocked:/);
    expect(text).toMatch(/error\s+no_completed_sync/);
    expect(text).toMatch(/error\s+config_missing/);
    expect(await runCli(['failover', 'test', 'web02', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    expect(err.join('\n')).toMatch(/blocked/);
    out.length = 0;
    expect(await runCli(['failover', 'list', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toBe('No failovers.');
  });

  it('live options pass the same schema: an out-of-range power-off timeout is refused before anything starts', async () => {
    expect(await runCli(['failover', 'live', 'web01', '--confirm', 'web01', '--power-off-timeout', '5', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    expect(err.join('\n')).toMatch(/powerOffTimeoutSeconds: .*10/);
    expect(await runCli(['failover', 'live', 'web01', '--confirm', 'web01', '--skip-final-sync', '--leave-source-off', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    // Valid options: what stops it is the validation (never replicated), after the no-final-sync warning.
    expect(err.join('\n')).toMatch(/Warning: no final sync/);
    expect(err.join('\n')).toMatch(/blocked/);
    expect(await runCli(['failover', 'test', 'web01', '--skip-final-sync', '--data-dir', dir], ALL_COMMANDS, io)).toBe(2);
    expect(err.join('\n')).toMatch(/Unknown option --skip-final-sync/);
  });

  it("failover show prints a live failover's options and warnings as recorded", async () => {
    const core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
    const c = core.contexts.findByName('web01')[0]!;
    core.contexts.transition(c.id, 'replicating');
    core.contexts.transition(c.id, 'ready_for_failover');
    const f = new FailoverRepository(core.db).open({
      vmContextId: c.id, kind: 'live', vmName: 'web01', ports: [], from: ['ready_for_failover'], override: null,
      findings: [{ code: 'final_sync_skipped', severity: 'warning', message: 'No final sync: web01 fails over as of its last completed sync' }],
      options: { powerOffTimeoutSeconds: 45, finalSync: false, sourceOnFailure: 'keep_off' },
    });
    await core.close();
    expect(await runCli(['failover', 'show', f.id, '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('options: power-off forced after 45 s; no final sync; on failure the source is left off');
    expect(text).toContain('warning: No final sync: web01 fails over as of its last completed sync');
  });

  it('failover show and list print the boot evidence (IPs, port checks) and the override (who, when, which findings)', async () => {
    const core = new Core({ dataDir: dir, transport: 'cli', secrets: noSecrets });
    const c = core.contexts.findByName('web01')[0]!;
    core.contexts.transition(c.id, 'replicating');
    core.contexts.transition(c.id, 'ready_for_failover');
    const repo = new FailoverRepository(core.db);
    const f = repo.open({
      vmContextId: c.id, kind: 'test', vmName: 'web01-test-1', ports: [22, 443], from: ['ready_for_failover', 'failed'],
      override: { by: 'alice', at: '2026-12-02T10:00:00.000Z', findings: ['nic_unmapped:LAN', 'not_ready'] },
      findings: [], options: {},
    });
    repo.update(f.id, {
      evidence: {
        state: 'Running', ips: ['10.1.1.5'], portChecksSkipped: null, observedAt: '2026-12-02T10:05:00.000Z',
        portChecks: [{ ip: '10.1.1.5', port: 22, open: true, detail: 'connected' }, { ip: '10.1.1.5', port: 443, open: false, detail: 'refused' }],
      },
    });
    // Rolled back: the VM is free for the next failover.
    repo.settle(f.id, 'rolled_back', 'ready_for_failover');
    const g = repo.open({ vmContextId: c.id, kind: 'test', vmName: 'web01-test-2', ports: [], from: ['ready_for_failover'], override: null, findings: [], options: {} });
    repo.update(g.id, { evidence: { state: 'Running', ips: [], portChecks: [], portChecksSkipped: 'no ports were listed', observedAt: '2026-12-02T11:00:00.000Z' } });
    await core.close();

    expect(await runCli(['failover', 'show', f.id, '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    const shown = out.join('\n');
    expect(shown).toContain('override by alice at 2026-12-02T10:00:00.000Z: nic_unmapped:LAN, not_ready');
    expect(shown).toContain('evidence: Running; IPs 10.1.1.5');
    expect(shown).toContain('10.1.1.5:22 open (connected)');
    expect(shown).toContain('10.1.1.5:443 closed (refused)');
    out.length = 0;
    expect(await runCli(['failover', 'show', g.id, '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    expect(out.join('\n')).toContain('port checks skipped: no ports were listed');
    out.length = 0;
    expect(await runCli(['failover', 'list', '--data-dir', dir], ALL_COMMANDS, io)).toBe(0);
    const listed = out.join('\n').split('\n');
    expect(listed[0]).toMatch(/EVIDENCE\s+OVERRIDE/);
    const row = listed.find((l) => l.includes(f.id))!;
    expect(row).toContain('Running; 10.1.1.5; ports 1/2 open');
    expect(row).toContain('by alice (2)');
    expect(listed.find((l) => l.includes(g.id))).toContain('Running; no IP');
  });
});
