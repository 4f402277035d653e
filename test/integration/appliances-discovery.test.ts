import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../../main/core/core';
import { InMemorySecretStore } from '../../main/secrets/memory-store';
import { startSshd, type SshdFixture } from '../fixtures/sshd';
import { startVmaSimulator, type VmaSimulator } from '../sim/vma/index';
import { LAB_DATACENTER, smallInventory } from '../lab/rig';

// The appliance service over a real sshd: trust on first use, pinning, a changed key, explicit
// re-trust, the reported identity; then discovery through that tunnel into VM contexts.
let dir: string;
let sshd: SshdFixture;
let vma: VmaSimulator;
let core: Core;
let applianceId: string;
let credentialId: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-appl-'));
  sshd = await startSshd();
  vma = await startVmaSimulator({ vcenterHost: 'vc.test.invalid', inventory: smallInventory(), healthExtra: { version: 'vma-sim 1.2.3' } });
  core = new Core({
    dataDir: path.join(dir, 'data'),
    transport: 'cli',
    secrets: new InMemorySecretStore(),
    appliances: { tunnel: { backoff: { initialMs: 100, maxMs: 500 } }, readyWaitMs: 5_000 },
  });
  applianceId = core.appliances.add({
    kind: 'vma',
    name: 'vma-test',
    host: '127.0.0.1',
    port: sshd.port,
    username: sshd.username,
    authMethod: 'private_key',
    privateKey: sshd.clientPrivateKey,
    apiPort: vma.port,
  }).id;
  credentialId = core.credentials.add({ name: 'vc', vcenterHost: 'vc.test.invalid', username: 'u', datacenter: LAB_DATACENTER, password: 'p4ss-word' }).id;
});
afterAll(async () => {
  await core?.close();
  await vma?.close();
  await sshd?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('appliance trust', () => {
  it('stops at an untrusted key, showing the fingerprint, and connects once it is trusted', async () => {
    const first = await core.appliances.connect(applianceId, 3_000);
    expect(first).toMatchObject({ state: 'failed', errorCode: 'host_key_untrusted', offeredFingerprint: sshd.hostKeyFingerprint });
    const other = `SHA256:${'A'.repeat(43)}`;
    await expect(core.appliances.trustHostKey(applianceId, other)).rejects.toThrow(/offered .* not SHA256:A+; nothing was trusted/);
    await core.appliances.trustHostKey(applianceId, sshd.hostKeyFingerprint);
    const ready = await core.appliances.connect(applianceId, 5_000);
    expect(ready.state).toBe('ready');
    // Lesson 25: what the VMA says it is gets recorded on connect.
    for (let i = 0; i < 50 && !core.appliances.record(applianceId).reportedIdentity; i++) await new Promise((r) => setTimeout(r, 50));
    expect(core.appliances.record(applianceId).reportedIdentity).toMatchObject({ status: 'healthy', version: 'vma-sim 1.2.3' });
  });

  it('refuses a changed host key until the operator forgets the old one and trusts the new one', async () => {
    await sshd.rotateHostKey();
    await core.appliances.disconnect(applianceId);
    const changed = await core.appliances.connect(applianceId, 3_000);
    expect(changed.state).toBe('failed');
    expect(changed.errorCode).toBe('host_key_mismatch');
    await expect(core.appliances.trustHostKey(applianceId, sshd.hostKeyFingerprint)).rejects.toMatchObject({ code: 'host_key_mismatch' });
    await core.appliances.forgetHostKey(applianceId);
    const offered = await core.appliances.connect(applianceId, 3_000);
    expect(offered).toMatchObject({ errorCode: 'host_key_untrusted', offeredFingerprint: sshd.hostKeyFingerprint });
    await core.appliances.trustHostKey(applianceId, sshd.hostKeyFingerprint);
    expect((await core.appliances.connect(applianceId, 5_000)).state).toBe('ready');    // The log says what happened, in order, from the changed key on; a reconnect loop with the same reason is one entry.
    const log = core.logbook.operations({ kind: 'appliance', limit: 50 }).reverse().map((o) => [o.title, o.status, o.error]);
    const tail = log.slice(log.findIndex((l) => /has changed/.test(String(l[2]))));
    expect(tail).toEqual([
      ['Connecting to vma-test failed', 'failed', expect.stringMatching(/host key .* has changed/)],
      ['Disconnected from vma-test', 'completed', null],
      ['Host key of vma-test forgotten', 'completed', null],
      ['Connecting to vma-test failed', 'failed', expect.stringMatching(/is not trusted yet/)],
      ['Host key of vma-test trusted', 'completed', null],
      ['Disconnected from vma-test', 'completed', null],
      ['Connected to vma-test', 'completed', null],
    ]);
  });

  it('keeps the SSH key and vCenter password out of the database', () => {
    core.db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = fs.readFileSync(path.join(dir, 'data', 'console.sqlite3'));
    expect(bytes.includes('p4ss-word')).toBe(false);
    expect(bytes.includes(sshd.clientPrivateKey.split('\n')[1]!)).toBe(false);
  });
});

describe('discovery through the tunnel', () => {
  it('lists substring matches, adds the chosen VM, refuses it twice and refreshes managed specs', async () => {
    const d = await core.discovery.run(applianceId, credentialId, 'web1');
    expect(d.vms.map((v) => v.name).sort()).toEqual(['web1', 'web10']);
    expect(d.vms.every((v) => v.managedContextId === null)).toBe(true);
    const web1 = d.vms.find((v) => v.name === 'web1')!;
    const added = core.discovery.addFromDiscovery(d.discoveryId, [web1.vmwareVmId]);
    expect(added.added.map((a) => a.name)).toEqual(['web1']);
    const again = core.discovery.addFromDiscovery(d.discoveryId, [web1.vmwareVmId, d.vms.find((v) => v.name === 'web10')!.vmwareVmId]);
    expect(again.added.map((a) => a.name)).toEqual(['web10']);
    expect(again.conflicts).toEqual([expect.objectContaining({ name: 'web1', message: expect.stringMatching(/web1 is already managed/) })]);

    // The VM changes in vCenter; the next discovery refreshes the stored specs of the managed one.
    const spec = smallInventory().find((v) => v.name === 'web1')!;
    vma.inventory.remove('web1');
    vma.inventory.add({ ...spec, numCpu: 8, memoryMb: 16384 });
    const d2 = await core.discovery.run(applianceId, credentialId, 'web1');
    expect(d2.vms.find((v) => v.name === 'web1')!.managedContextId).toBe(added.added[0]!.contextId);
    expect(core.contexts.require(added.added[0]!.contextId).specs).toMatchObject({ cpus: 8, memoryMb: 16384 });    // Each run and each VM added is in the log; the added VM's entry is linked to it.
    const runs = core.logbook.operations({ kind: 'discovery' }).filter((o) => o.title.includes('(filter "web1")'));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(core.logbook.events({ operationId: runs[0]!.id }).map((e) => e.message)).toEqual([expect.stringMatching(/^2 VM\(s\) found in .* \(2 already managed/)]);
    const inventory = core.logbook.operations({ kind: 'inventory' }).reverse();
    expect(inventory.map((o) => [o.title, o.vmContextId])).toEqual([
      ['web1 added to management', added.added[0]!.contextId],
      ['web10 added to management', again.added[0]!.contextId],
    ]);
  });

  it('turns a VMA discovery failure into a readable error', async () => {
    vma.faults.setVcenterReachable(false);
    await expect(core.discovery.run(applianceId, credentialId, 'web1')).rejects.toThrow(/Discovery failed/);
    expect(core.logbook.operations({ kind: 'discovery', limit: 1 })[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/Discovery failed/) });
    vma.faults.setVcenterReachable(true);
  });
});
