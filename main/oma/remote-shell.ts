/** Result of one command run on a remote host (ssh2 exec semantics: signal set when it was killed). */
export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one shell command line on the appliance. The SSH tunnel manager provides this over ssh2
 * exec; tests provide it with a local /bin/sh as well. Implementations must bound the run by
 * `timeoutMs` and reject (never hang) when it expires or the connection drops.
 */
export interface RemoteShell {
  exec(command: string, options?: { timeoutMs?: number }): Promise<ExecResult>;
}
