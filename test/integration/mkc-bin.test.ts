// The installed `mkc` (main/cli/bin.mjs loading dist/core/mkc.mjs, which loads commander from
// node_modules) as a shell runs it: the version, a global option before the command, help for one
// command, completion, and bad input refused with exit code 2 and nothing created.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json';
import { requireBuiltMkc, runMkc } from '../fixtures/mkc-process';

let dir: string;

const mkc = (args: string[]) => runMkc(args, { env: { PATH: process.env.PATH, HOME: dir, MKC_SECRET_KEY: 'bin-test' }, timeoutMs: 60_000 });

beforeAll(() => {
  requireBuiltMkc();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-bin-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('mkc as installed', () => {
  it('prints its version', async () => {
    expect(await mkc(['--version'])).toEqual({ code: 0, stdout: `mkc ${pkg.version}\n`, stderr: '' });
  });

  it('takes --json and --data-dir before the command', async () => {
    const data = path.join(dir, 'data');
    const r = await mkc(['--json', '--data-dir', data, 'jobs', 'list']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(fs.existsSync(path.join(data, 'console.sqlite3'))).toBe(true);
  });

  it('prints the help of one command with `mkc help <command>`', async () => {
    const r = await mkc(['help', 'schedules', 'add']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: mkc schedules add \[options\] <name>/);
    expect(r.stdout).toMatch(/--cron <value>/);
  });

  it('prints a completion script a shell can load', async () => {
    const r = await mkc(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -o default -F _mkc_complete mkc');
    expect(r.stdout).toContain("'failover') words='validate test live rollback cleanup list show boot-disk'");
  });

  it.each([
    [['jobs', 'list', '--bogus'], 'mkc: Unknown option --bogus\n'],
    [['jobs', 'show', 'job-1', 'job-2'], 'mkc: Give exactly one job id (got job-1 job-2)\n'],
  ])('refuses %j with exit code 2 and creates nothing', async (args, message) => {
    const data = path.join(dir, 'never');
    expect(await mkc([...args, '--data-dir', data])).toEqual({ code: 2, stdout: '', stderr: message });
    expect(fs.existsSync(data)).toBe(false);
  });
});
