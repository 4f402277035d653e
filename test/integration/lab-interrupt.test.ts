// Ctrl-C in the terminal that ran `npm run lab`: the terminal sends SIGINT to the whole foreground
// process group. Here the lab launcher runs as `npm run lab` runs it after its build step (the same
// node command) in a process group of its own, with TMPDIR pointing at a fresh folder so everything
// the lab puts on disk is in one place. A copy is running (so nbdkit runs) when the group is
// interrupted; afterwards no process of the lab may remain and its temporary directories must be gone.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../fixtures/wait';

const run = promisify(execFile);
const root = path.resolve('.');
const labBundle = path.join(root, 'dist/lab/start.mjs');
const mkcBundle = path.join(root, 'dist/core/mkc.mjs');

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  cmdline: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(entry), state: f[0]!, ppid: Number(f[1]), pgid: Number(f[2]), cmdline });
    } catch {
      // exited while scanning
    }
  }
  return out;
}

/** The launcher, everything it started (any depth), and anything whose command line names the lab's temp folder (nbdkit detaches from its sshd session). */
function labProcesses(launcherPid: number, tmp: string): Proc[] {
  const all = processes().filter((p) => p.state !== 'Z');
  const found = new Map<number, Proc>();
  const queue = [launcherPid];
  for (const p of all) if (p.pid === launcherPid || p.cmdline.includes(tmp)) found.set(p.pid, p);
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of all) {
      if (p.ppid === parent && !found.has(p.pid)) {
        found.set(p.pid, p);
        queue.push(p.pid);
      }
    }
  }
  for (const p of found.values()) if (!queue.includes(p.pid) && p.pid !== launcherPid) queue.push(p.pid);
  return [...found.values()];
}

let launcher: ChildProcess | null = null;
let tmp = '';
const seen = new Set<number>();
afterAll(() => {
  // Only when the test failed: remove what the lab left so the machine stays clean.
  for (const pid of seen) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('npm run lab interrupted with Ctrl-C', () => {
  it('stops nbdkit, sshd and the simulators and removes its temporary directories', { timeout: 180_000 }, async () => {
    for (const f of [labBundle, mkcBundle, path.join(root, 'dist/renderer/index.html')]) {
      if (!fs.existsSync(f)) throw new Error(`${path.relative(root, f)} is missing: run \`node main/build/build.mjs lab\` first`);
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-lab-interrupt-'));
    let output = '';
    // detached: a new process group led by the launcher, as a terminal's foreground job is.
    launcher = spawn(process.execPath, ['test/tools/lab.mjs', '--browser', '--vms', '2'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp },
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => launcher!.once('exit', (code, signal) => resolve({ code, signal })));
    launcher.stdout!.setEncoding('utf8').on('data', (t: string) => (output += t));
    launcher.stderr!.setEncoding('utf8').on('data', (t: string) => (output += t));
    const launcherPid = launcher.pid!;

    const dataDir = await waitFor('the lab to be ready', () => /lab data directory \(temporary\): (\S+);/.exec(output)?.[1], 120_000, { detail: () => output });
    expect(dataDir.startsWith(tmp)).toBe(true);
    expect(output).toMatch(/^Open http:\/\/127\.0\.0\.1:\d+\//m);

    // The lab owns its (temporary) data directory and says it is the lab: `mkc status` is served by it.
    const status = JSON.parse((await run(process.execPath, [mkcBundle, 'status', '--json', '--data-dir', dataDir], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 30_000 })).stdout);
    expect(status).toMatchObject({ lab: true, dataDir, owner: { state: 'owned', transport: 'the embedded lab' } });
    expect(processes().find((p) => p.pid === status.owner.pid)?.cmdline).toContain('dist/lab/start.mjs');

    // A copy through the lab (served over its control socket): the OMA side starts nbdkit over SSH.
    const started = await run(process.execPath, [mkcBundle, 'replicate', 'pgtest1', '--detach', '--json', '--data-dir', dataDir], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      timeout: 60_000,
    });
    expect(JSON.parse(started.stdout)).toMatchObject({ id: expect.stringMatching(/^job-/), status: 'replicating' });
    const nbdkit = await waitFor('nbdkit to run', () => processes().find((p) => p.cmdline.startsWith('nbdkit') && p.cmdline.includes(tmp) && p.state !== 'Z'), 60_000, { detail: () => output });

    const before = labProcesses(launcherPid, tmp);
    for (const p of before) seen.add(p.pid);
    const names = before.map((p) => p.cmdline);
    expect(names.some((c) => c.includes('dist/lab/start.mjs'))).toBe(true);
    expect(names.some((c) => c.startsWith('sshd') || c.includes('/usr/sbin/sshd'))).toBe(true);
    expect(before.map((p) => p.pid)).toContain(nbdkit.pid);
    expect(fs.readdirSync(tmp).length).toBeGreaterThan(0);

    // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
    process.kill(-launcherPid, 'SIGINT');
    const end = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 60_000))]);
    expect(end, `the lab did not exit within 60 s:\n${output}`).not.toBeNull();
    expect(end).toEqual({ code: 0, signal: null });
    expect(output).toContain('Lab stopped; temporary files removed.');

    // Nothing of it remains: not the launcher's descendants, not nbdkit, not sshd.
    await waitFor('every lab process to be gone', () => labProcesses(launcherPid, tmp).length === 0, 10_000, { detail: () => JSON.stringify(labProcesses(launcherPid, tmp), null, 1) });
    const alive = processes().filter((p) => seen.has(p.pid) && p.state !== 'Z');
    expect(alive).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});
