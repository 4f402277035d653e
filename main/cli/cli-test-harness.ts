// Test-only (imported by the *.test.ts files beside it): runs `mkc` in this process against a fresh
// temporary data directory per test, capturing what it prints.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { SecretStore } from '../secrets/secret-store';
import { ALL_COMMANDS } from './commands';
import { runCli, type CliIo } from './run-cli';

/** A secret store that has nothing and can store nothing (these tests add no secrets). */
export const noSecrets: SecretStore = { unavailableReason: () => 'none in this test', set() { throw new Error('no'); }, get: () => null, delete() {} };

export interface CliHarness {
  /** This test's data directory. */
  readonly dir: string;
  readonly out: string[];
  readonly err: string[];
  /** Replaceable per test (another secret store, stdin). */
  io: CliIo;
  /** Runs one command (output cleared first), with `--data-dir` of this test unless told not to. */
  mkc(...argv: string[]): Promise<number>;
  /** What the last command printed, parsed as JSON. */
  json(): unknown;
}

/** Registers the per-test setup and cleanup; read the fields inside tests only. */
export function useCliHarness(prefix: string, options: { dataDirArg?: boolean } = {}): CliHarness {
  const state = { dir: '', out: [] as string[], err: [] as string[], io: null as unknown as CliIo };
  beforeEach(() => {
    state.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    state.out = [];
    state.err = [];
    state.io = { out: (t) => state.out.push(t), err: (t) => state.err.push(t), env: {}, secrets: () => noSecrets };
  });
  afterEach(() => fs.rmSync(state.dir, { recursive: true, force: true }));
  return {
    get dir() {
      return state.dir;
    },
    get out() {
      return state.out;
    },
    get err() {
      return state.err;
    },
    get io() {
      return state.io;
    },
    set io(io: CliIo) {
      state.io = io;
    },
    async mkc(...argv) {
      state.out.length = 0;
      state.err.length = 0;
      return runCli(options.dataDirArg === false ? argv : [...argv, '--data-dir', state.dir], ALL_COMMANDS, state.io);
    },
    json: () => JSON.parse(state.out.join('')),
  };
}

/**
 * Runs a generated bash completion script in a real bash, as the shell would on <TAB>, and returns
 * the words it offers (sorted). `--norc`: bash started with a socket as its stdin (how Node hands
 * over pipes) takes itself for a remote shell and reads ~/.bashrc when SHLVL says it is the top-level
 * shell (vitest's workers run with SHLVL=0 here), and what that file does on the machine running the
 * tests (a version manager's rehash waited 60 s on a lock) is not under test.
 */
export function bashCompletions(dir: string, script: string, words: string[]): string[] {
  const file = path.join(dir, 'mkc-completion.bash');
  fs.writeFileSync(file, script);
  const array = words.map((w) => `'${w}'`).join(' ');
  const printed = execFileSync('bash', ['--norc', '-c', `source ${file}; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _mkc_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  return printed.split('\n').filter(Boolean).sort();
}
