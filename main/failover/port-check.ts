// TCP port checks of a failed-over VM, run on the OMA appliance (it sits in CloudStack and can reach
// networks the console cannot). Each check retries until the port answers or the bounded wait ends.
import type { RemoteShell } from '../oma/remote-shell';
import { shellCommand } from '../oma/shell-quote';
import type { PortCheck } from '../../shared/failover';

export interface PortCheckOptions {
  /** How long one port may take to answer in total. */
  waitMs: number;
  /** Pause between tries. */
  intervalMs?: number;
  /** Limit of one connection attempt. */
  attemptSeconds?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One connection attempt with bash's /dev/tcp; the address is passed as arguments, never interpolated.
 * `--norc`: bash takes itself for a shell started by sshd (SSH_CLIENT is set for every command over
 * SSH) and reads the account's ~/.bashrc first when it thinks it is the top-level shell, as it does
 * under a login shell that is not bash (no SHLVL); that file's run time and output are not the attempt's.
 */
export function connectCommand(ip: string, port: number, attemptSeconds: number): string {
  return shellCommand(['timeout', String(attemptSeconds), 'bash', '--norc', '-c', 'exec 3<>"/dev/tcp/$0/$1"', ip, String(port)]);
}

export async function checkPort(shell: RemoteShell, ip: string, port: number, options: PortCheckOptions): Promise<PortCheck> {
  const attemptSeconds = options.attemptSeconds ?? 3;
  const intervalMs = options.intervalMs ?? 1_000;
  const deadline = Date.now() + options.waitMs;
  let detail = 'not tried';
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await shell.exec(connectCommand(ip, port, attemptSeconds), { timeoutMs: attemptSeconds * 1000 + 5_000 });
      if (r.code === 0) return { ip, port, open: true, detail: `answered on try ${attempt}` };
      detail = r.code === 124 ? `no answer within ${attemptSeconds} s` : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.code}`);
    } catch (e) {
      detail = `the OMA appliance could not run the check: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (Date.now() + intervalMs > deadline) return { ip, port, open: false, detail: `${detail} (after ${attempt} tries)` };
    await sleep(intervalMs);
  }
}
