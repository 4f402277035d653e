import fs from 'node:fs';
import { spawnSync } from 'node:child_process';

/**
 * Asks for a secret on the controlling terminal with echo off; null without a terminal (scripts,
 * Windows) or for an empty answer. Synchronous because the secret store is: it runs at most once,
 * when a command first needs a secret the configured keys cannot open.
 */
export function promptSecretOnTerminal(question: string): string | null {
  if (process.platform === 'win32' || !process.stdin.isTTY) return null;
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', 'r+');
  } catch {
    return null;
  }
  const stty = (arg: string) => spawnSync('stty', [arg], { stdio: [fd, 'ignore', 'ignore'] });
  try {
    fs.writeSync(fd, question);
    stty('-echo');
    const bytes: number[] = [];
    const one = Buffer.alloc(1);
    while (fs.readSync(fd, one, 0, 1, null) === 1 && one[0] !== 0x0a && one[0] !== 0x0d) bytes.push(one[0]!);
    const answer = Buffer.from(bytes).toString('utf8');
    return answer.length > 0 ? answer : null;
  } catch {
    return null;
  } finally {
    stty('echo');
    try {
      fs.writeSync(fd, '\n');
    } catch {
      // the terminal went away; nothing to restore on it
    }
    fs.closeSync(fd);
  }
}
