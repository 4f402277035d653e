// Debian's CloudStack client (package cs) as a peer: if the simulator accepts what a real client
// signs, and refuses it with a wrong secret, its verification agrees with CloudStack's.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudStackClient } from '../../main/cloudstack/client';
import { startCloudStackSimulator, type CloudStackSimulator } from '../sim/cloudstack/simulator';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

let sim: CloudStackSimulator;
let home: string;

function runCloudstack(args: string[], secret = sim.secretKey, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      'cloudstack',
      ['--quiet', ...args],
      {
        cwd: home,
        timeout: 30_000,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          CLOUDSTACK_ENDPOINT: sim.url,
          CLOUDSTACK_KEY: sim.apiKey,
          CLOUDSTACK_SECRET: secret,
          CLOUDSTACK_POLL_INTERVAL: '0.1',
          ...extraEnv,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'cs-peer-home-'));
  sim = await startCloudStackSimulator({ asyncJobDelayMs: 300 });
});

afterAll(async () => {
  await sim?.close();
  await rm(home, { recursive: true, force: true });
});

describe('simulator signature verification against the Debian cs client', () => {
  it('accepts listZones signed by cs (signatureVersion=3 with expires)', async () => {
    const r = await runCloudstack(['listZones']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { count: number; zone: { id: string; name: string }[] };
    expect(body.zone.map((z) => z.id)).toEqual([...sim.state.zones.keys()]);
    const last = sim.requests.at(-1);
    expect(last?.command).toBe('listZones');
    expect(last?.status).toBe(200);
    expect(last?.params.signatureVersion).toBe('3');
  });

  it('accepts createVolume with spaces and symbols in the name, and cs waits for the async job', async () => {
    const zoneid = [...sim.state.zones.keys()][0] as string;
    const custom = [...sim.state.diskOfferings.values()].find((o) => o.iscustomized);
    const name = 'Vol (1) a+b/c=d&e?f #g %h é*._-';
    const r = await runCloudstack(['createVolume', `name=${name}`, `zoneid=${zoneid}`, `diskofferingid=${custom?.id}`, 'size=2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { volume: { id: string; name: string; size: number; state: string } };
    expect(result.volume.name).toBe(name);
    expect(result.volume.size).toBe(2 * 1024 ** 3);
    expect(sim.state.volumes.get(result.volume.id)?.name).toBe(name);
    // cs polled queryAsyncJobResult (the job was pending for 300 ms) with signed requests too.
    const polls = sim.requests.filter((q) => q.command === 'queryAsyncJobResult');
    expect(polls.length).toBeGreaterThan(1);
    expect(polls.every((q) => q.status === 200)).toBe(true);
  });

  it('encodes ~ the Java way: cs (which leaves ~ unencoded) is refused, our client is accepted', async () => {
    const zoneid = [...sim.state.zones.keys()][0] as string;
    const custom = [...sim.state.diskOfferings.values()].find((o) => o.iscustomized);
    const r = await runCloudstack(['createVolume', 'name=tilde~name', `zoneid=${zoneid}`, `diskofferingid=${custom?.id}`, 'size=1']);
    expect(r.code).not.toBe(0);
    expect(sim.requests.at(-1)).toMatchObject({ command: 'createVolume', status: 401, reason: 'bad_signature' });

    const ours = createCloudStackClient({
      apiUrl: sim.url,
      credentials: () => ({ apiKey: sim.apiKey, secretKey: sim.secretKey }),
      asyncPollIntervalMs: 50,
    });
    const volume = await ours.createVolume({ name: 'tilde~name', zoneid, diskofferingid: custom?.id as string, sizeGiB: 1 });
    expect(sim.state.volumes.get(volume.id)?.name).toBe('tilde~name');
  });

  it('accepts POST form requests from cs', async () => {
    const r = await runCloudstack(['--post', 'listTemplates', 'templatefilter=executable']);
    expect(r.code).toBe(0);
    expect(sim.requests.at(-1)).toMatchObject({ command: 'listTemplates', method: 'POST', status: 200 });
  });

  it('refuses a request signed with a wrong secret with 401 and CloudStack error JSON', async () => {
    const r = await runCloudstack(['listZones'], `${sim.secretKey}x`);
    expect(r.code).not.toBe(0);
    expect(sim.requests.at(-1)?.reason).toBe('bad_signature');
    const body = JSON.parse(r.stdout) as Record<string, { errorcode: number; errortext: string }>;
    expect(body.listzonesresponse?.errorcode).toBe(401);
    expect(body.listzonesresponse?.errortext).toBe('unable to verify user credentials and/or request signature');
    expect(sim.requests.at(-1)).toMatchObject({ command: 'listZones', status: 401 });
  });

  it('refuses an unknown API key', async () => {
    const r = await runCloudstack(['listZones'], sim.secretKey, { CLOUDSTACK_KEY: 'not-a-key' });
    expect(r.code).not.toBe(0);
    expect(sim.requests.at(-1)).toMatchObject({ command: 'listZones', status: 401, reason: 'unknown_key' });
  });

  it('refuses an expires in the past (cs with a negative expiration sends no expires, so send one ourselves)', async () => {
    const r = await runCloudstack(['listZones', 'expires=2001-01-01T00:00:00+0000', 'signatureVersion=3']);
    expect(r.code).not.toBe(0);
    expect(sim.requests.at(-1)).toMatchObject({ command: 'listZones', status: 401, reason: 'expired' });
    // The same request with a future expires goes through, so it was the date that was refused.
    const ok = await runCloudstack(['listZones', 'expires=2999-01-01T00:00:00+0000', 'signatureVersion=3']);
    expect(ok.code).toBe(0);
  });

  it('answers an unknown command with 432', async () => {
    const r = await runCloudstack(['listUnicorns']);
    expect(r.code).not.toBe(0);
    expect(sim.requests.at(-1)).toMatchObject({ command: 'listUnicorns', status: 432 });
  });
});
