// The commander tree mkc parses with: global options wherever they sit, --version, help on every
// level and through `mkc help <command>`, completion generated from the same tree, and refusals of
// bad input (exit code 2) before anything is opened or written.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json';
import { ALL_COMMANDS } from './commands';
import { buildProgram, pathOf } from './program';
import { bashCompletions, useCliHarness } from './cli-test-harness';

const h = useCliHarness('mkc-program-', { dataDirArg: false });
const mkc = h.mkc;

/** Every command of the tree with its path, the top level included. */
function tree(): Command[] {
  const { program } = buildProgram(ALL_COMMANDS, { version: 'test', out: () => {} });
  const walk = (c: Command): Command[] => [c, ...c.commands.flatMap(walk)];
  return walk(program);
}

describe('global options', () => {
  it.each([
    ['before the command', ['--json', '--data-dir', 'DIR', 'jobs', 'list']],
    ['after the command', ['jobs', 'list', '--json', '--data-dir', 'DIR']],
    ['between the command words', ['jobs', '--json', 'list', '--data-dir=DIR']],
    ['on both sides', ['--data-dir', 'DIR', 'jobs', 'list', '--json']],
  ])('are accepted %s', async (_where, argv) => {
    expect(await mkc(...argv.map((a) => a.replace('DIR', h.dir)))).toBe(0);
    expect(JSON.parse(h.out.join(''))).toEqual([]);
    expect(h.err).toEqual([]);
  });

  it('take their value before the command: `mkc --data-dir D replicate vm` runs replicate in D', async () => {
    expect(await mkc('--data-dir', h.dir, 'replicate', 'web01')).toBe(1);
    expect(h.err.join('\n')).toBe('mkc: No managed VM named web01; see `mkc contexts list`');
    // The command ran in that directory: it created the database there.
    expect(fs.existsSync(path.join(h.dir, 'console.sqlite3'))).toBe(true);
  });
});

describe('--version', () => {
  it.each([['--version'], ['-V']])('%s prints the package version and opens nothing', async (flag) => {
    const fresh = path.join(h.dir, 'fresh');
    expect(await mkc(flag, '--data-dir', fresh)).toBe(0);
    expect(h.out.join('')).toBe(`mkc ${pkg.version}\n`);
    expect(fs.existsSync(fresh)).toBe(false);
  });

  it('prints JSON with --json, wherever --json sits', async () => {
    expect(await mkc('--version', '--json')).toBe(0);
    expect(JSON.parse(h.out.join(''))).toEqual({ version: pkg.version });
  });
});

describe('help', () => {
  it('answers --help on every level of the tree, naming that command', async () => {
    const commands = tree();
    expect(commands.length).toBeGreaterThan(ALL_COMMANDS.length);
    for (const c of commands) {
      const words = pathOf(c);
      expect(await mkc(...words, '--help'), words.join(' ')).toBe(0);
      expect(h.out.join(''), words.join(' ')).toMatch(new RegExp(`^Usage: mkc${words.map((w) => ` ${w}`).join('')} `));
      expect(h.err).toEqual([]);
    }
  });

  it('`mkc help <command>` prints the same help as `mkc <command> --help`', async () => {
    expect(await mkc('jobs', 'list', '--help')).toBe(0);
    const direct = h.out.join('');
    expect(direct).toContain('--limit <number>');
    expect(direct).toContain('--status <value>');
    expect(direct).toMatch(/Global Options:[\s\S]*--data-dir <value>[\s\S]*--json/);
    expect(await mkc('help', 'jobs', 'list')).toBe(0);
    expect(h.out.join('')).toBe(direct);
    expect(await mkc('help', 'contexts', 'remove')).toBe(0);
    expect(h.out.join('')).toMatch(/Usage: mkc contexts remove \[options\] <vm>/);
    expect(h.out.join('')).toMatch(/--volumes <value>\s+keep the replica volumes in CloudStack, or delete them\s+\(choices: "keep", "delete"\)/);
  });

  it('`mkc help` and `mkc` alone list every command with its arguments', async () => {
    expect(await mkc('help')).toBe(0);
    const listed = h.out.join('');
    for (const c of ALL_COMMANDS) expect(listed).toContain(`mkc ${c.path.join(' ')}${(c.args ?? []).map((a) => ` <${a.name}${a.variadic ? '...' : ''}>`).join('')}`);
    expect(listed).toContain('mkc completion <shell>');
    expect(await mkc()).toBe(0);
    expect(h.out.join('')).toBe(listed);
  });

  it('refuses help for a command that does not exist', async () => {
    expect(await mkc('help', 'jobs', 'lst')).toBe(2);
    expect(h.err.join('\n')).toBe('mkc: Unknown command "jobs lst". Run `mkc --help` for the list.');
  });
});

describe('bad input is refused with exit code 2 before anything is opened', () => {
  it.each([
    ['an unknown option', ['jobs', 'list', '--limt', '5'], 'Unknown option --limt (did you mean --limit?)'],
    ['an unknown option before the command', ['--verbose', 'jobs', 'list'], 'Unknown option --verbose'],
    ['an excess argument', ['jobs', 'list', 'web01'], 'mkc jobs list takes no arguments (got web01)'],
    ['a second argument', ['jobs', 'show', 'job-1', 'job-2'], 'Give exactly one job id (got job-1 job-2)'],
    ['a missing argument', ['replicate'], 'Give exactly one VM name or context id'],
    ['a number that is not one', ['jobs', 'list', '--limit', 'ten'], '--limit must be a number, got "ten"'],
    ['an empty value', ['schedules', 'edit', 'nightly', '--name', ''], '--name needs a value'],
    ['a value outside the closed set', ['jobs', 'list', '--status', 'done'], '--status must be one of pending, provisioning, attaching, exporting, starting, replicating, completed, failed, cancelled, got "done"'],
    ['a missing required option', ['credentials', 'add', '--name', 'n', '--vcenter', 'vc', '--username', 'u', '--datacenter', 'dc'], '--password-stdin is required'],
    ['a value for a flag', ['replicate', 'web01', '--detach=yes'], '--detach takes no value'],
    ['a group without its command', ['jobs'], '"mkc jobs" needs a command: mkc jobs list, mkc jobs show, mkc jobs watch, mkc jobs cancel, mkc jobs delete. Run `mkc help jobs` for their options.'],
    ['an unknown command', ['jobs', 'lst'], 'Unknown command "jobs lst". Did you mean: mkc jobs list, mkc jobs show, mkc jobs watch, mkc jobs cancel, mkc jobs delete?'],
  ])('%s', async (_name, argv, message) => {
    const fresh = path.join(h.dir, 'never-created');
    expect(await mkc(...argv, '--data-dir', fresh)).toBe(2);
    expect(h.err.join('\n')).toBe(`mkc: ${message}`);
    expect(h.out).toEqual([]);
    expect(fs.existsSync(fresh)).toBe(false);
  });

  it('reports the refusal as JSON with --json', async () => {
    expect(await mkc('--json', 'jobs', 'list', 'extra')).toBe(2);
    expect(JSON.parse(h.out.join(''))).toEqual({ ok: false, error: { code: 'validation', message: 'mkc jobs list takes no arguments (got extra)' } });
    expect(h.err).toEqual([]);
  });

  it('takes a negative number as the value it is, for the contract schema to judge', async () => {
    expect(await mkc('jobs', 'list', '--limit', '-5', '--data-dir', h.dir)).toBe(2);
    expect(h.err.join('\n')).toMatch(/^mkc: Invalid request for jobs:list: limit/);
  });

  it('takes words after -- as arguments, not options', async () => {
    expect(await mkc('jobs', 'show', '--data-dir', h.dir, '--', '--json')).toBe(1);
    expect(h.err.join('\n')).toMatch(/--json/);
  });
});

describe('the command list', () => {
  it('may not declare a global option on a command: mkc would take it before the command saw it', () => {
    const clash = { path: ['jobs', 'export'], summary: 'x', options: [{ name: 'json', type: 'boolean' as const, description: 'x' }], run: () => null };
    expect(() => buildProgram([...ALL_COMMANDS, clash], { version: 'test', out: () => {} })).toThrow('mkc jobs export: --json is a global option');
  });
});

describe('secrets never come from arguments', () => {
  it('no option that takes a value is named for a password, passphrase, secret or key material', () => {
    const valueOptions = tree().flatMap((c) => c.options.filter((o) => o.required || o.optional).map((o) => `${pathOf(c).join(' ')} ${o.long}`));
    expect(valueOptions.length).toBeGreaterThan(50);
    // --key-file names a file and --trust-host-key a public fingerprint; neither is a secret.
    expect(valueOptions.filter((o) => /pass|secret|token|api-key|private/.test(o))).toEqual([]);
  });
});

describe('mkc completion', () => {
  const complete = (script: string, words: string[]): string[] => bashCompletions(h.dir, script, words);
  const script = async (shell: string) => {
    expect(await mkc('completion', shell)).toBe(0);
    return h.out.join('');
  };

  it('offers every command of the tree at its place', async () => {
    const bash = await script('bash');
    for (const c of tree()) {
      if (c.commands.length === 0) continue;
      expect(complete(bash, ['mkc', ...pathOf(c), '']), pathOf(c).join(' ')).toEqual(c.commands.map((s) => s.name()).sort());
    }
    expect(complete(bash, ['mkc', ''])).toEqual(expect.arrayContaining(['completion', 'help', 'status', 'replicate', 'groups']));
    expect(complete(bash, ['mkc', 'groups', 'members', ''])).toEqual(['add', 'remove', 'set']);
  });

  it("offers a command's options after its arguments and the closed set of an option's values per command", async () => {
    const bash = await script('bash');
    expect(complete(bash, ['mkc', 'contexts', 'remove', 'web01', '--'])).toEqual(['--data-dir', '--help', '--json', '--version', '--volumes']);
    expect(complete(bash, ['mkc', 'contexts', 'remove', 'web01', '--volumes', ''])).toEqual(['delete', 'keep']);
    expect(complete(bash, ['mkc', 'appliances', 'add', '--kind', ''])).toEqual(['oma', 'vma']);
    expect(complete(bash, ['mkc', 'failover', 'validate', '--kind', ''])).toEqual(['live', 'test']);
    expect(complete(bash, ['mkc', '--data-dir', 'jobs', 'jobs', 'list', '--status', 'rep'])).toEqual(['replicating']);
    // A value without a closed set: nothing offered, so the shell falls back to file names.
    expect(complete(bash, ['mkc', 'jobs', 'list', '--vm', ''])).toEqual([]);
  });

  it('gives zsh the same function through its bash compatibility', async () => {
    const bash = await script('bash');
    const zsh = await script('zsh');
    expect(zsh).toBe(`autoload -U +X bashcompinit && bashcompinit\n${bash}`);
  });
});
