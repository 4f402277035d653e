import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretStoreFromEnvironment } from '../../main/secrets/secret-store-from-env';
import { smallInventory, startRig, type Rig } from '../lab/rig';
import { requireBuiltMkc, runMkc } from '../fixtures/mkc-process';

// `mkc` as an operator runs it (a separate Node process, built bundle, encrypted secret store keyed
// from MKC_SECRET_KEY) against the lab that another console process set up.
const key = `lab-key-${process.pid}-${Date.now()}`;
let rig: Rig;
let dataDir: string;

async function mkc(args: string[], options: { input?: string; expectFail?: boolean } = {}) {
  const r = await runMkc([...args, '--data-dir', dataDir], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MKC_SECRET_KEY: key },
    ...(options.input !== undefined ? { input: options.input } : {}),
    timeoutMs: 90_000,
  });
  if (options.expectFail && r.code === 0) throw new Error(`mkc ${args.join(' ')} succeeded unexpectedly: ${r.stdout}`);
  if (!options.expectFail && r.code !== 0) throw new Error(`mkc ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r;
}

beforeAll(async () => {
  requireBuiltMkc();
  const root = fs.mkdtempSync('/tmp/mkc-cli-lab-');
  dataDir = path.join(root, 'data');
  rig = await startRig({ inventory: smallInventory(), dataDir, secrets: secretStoreFromEnvironment(dataDir, { MKC_SECRET_KEY: key }) });
  // The CLI opens its own tunnels: release the rig's so the callback forward is the CLI's.
  await rig.core.appliances.disconnect(rig.vmaAppliance.id);
});
afterAll(async () => {
  await rig?.close();
});

describe('mkc against the lab', () => {
  it('lists appliances with pinned keys and credentials without secrets', async () => {
    const appliances = JSON.parse((await mkc(['appliances', 'list', '--json'])).stdout);
    expect(appliances.map((a: { name: string }) => a.name).sort()).toEqual(['lab-oma', 'lab-vma']);
    expect(appliances[0].hostKeyFingerprint).toBe(rig.sshd.hostKeyFingerprint);
    const creds = (await mkc(['credentials', 'list', '--json'])).stdout;
    expect(creds).toContain('lab-vcenter');
    expect(creds).not.toContain(rig.vcenterPassword);
    // Secrets live only in the encrypted store: not in the database, not in the store file in clear.
    for (const f of fs.readdirSync(dataDir)) {
      const file = path.join(dataDir, f);
      if (fs.statSync(file).isFile()) expect(fs.readFileSync(file).includes(rig.vcenterPassword), `${f} holds the password`).toBe(false);
    }
  });

  it('discovers through the tunnel with the VMA substring filter and adds the exact VM', async () => {
    const found = JSON.parse((await mkc(['discover', '--appliance', 'lab-vma', '--credential', 'lab-vcenter', '--filter', 'web1', '--json'])).stdout);
    expect(found.vms.map((v: { name: string }) => v.name).sort()).toEqual(['web1', 'web10']);
    const added = await mkc(['contexts', 'add', 'web1', '--appliance', 'lab-vma', '--credential', 'lab-vcenter']);
    expect(added.stdout).toMatch(/Added web1 \(ctx-[0-9a-f]+\)/);
    const again = await mkc(['contexts', 'add', 'web1', '--appliance', 'lab-vma', '--credential', 'lab-vcenter'], { expectFail: true });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/web1 is already managed/);
  });

  it('replicates through the canonical path and lists the completed job', async () => {
    const r = await mkc(['replicate', 'web1']);
    expect(r.stdout).toMatch(/Started job-\d{8}-\d{6}\.\d{3}-[0-9a-f]{6} for web1/);
    expect(r.stdout).toMatch(/completed/);
    const jobs = JSON.parse((await mkc(['jobs', 'list', '--vm', 'web1', '--json'])).stdout);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ status: 'completed', jobType: 'initial' });
    const show = await mkc(['jobs', 'show', jobs[0].id]);
    expect(show.stdout).toMatch(/disk-2000\s+initial\s+completed\s+100 %/);
    expect(show.stdout).toMatch(/Publish NBD exports\s+completed/);
  });

  it('refuses bad input with a clear message and exit code 2', async () => {
    const r = await mkc(['appliances', 'add', '--kind', 'nas', '--name', 'x', '--host', 'h', '--username', 'u'], { expectFail: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--kind must be one of vma, oma/);
    const t = await mkc(['appliances', 'trust', 'lab-vma', '--trust-host-key', 'SHA256:nope'], { expectFail: true });
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/Invalid request for appliances:trust-host-key: fingerprint: must be an OpenSSH SHA256 fingerprint/);
  });
});
