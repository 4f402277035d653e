import fs from 'node:fs';
import path from 'node:path';
import { redact } from './redact';

export interface AppLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** Where fileLogger writes for a data directory. */
export function appLogFile(dataDir: string): string {
  return path.join(dataDir, 'logs', 'console.log');
}

export interface LogRotation {
  /** Rotate once the file reaches this size. */
  maxBytes: number;
  /** Older files kept beside it: console.1.log (newest) … console.<keep>.log. */
  keep: number;
}

/** An operator leaves the app running for months: 5 MB × 4 files bounds the log at 20 MB. */
export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 5 * 1024 * 1024, keep: 3 };

/** Shifts console.log → console.1.log → … and drops the oldest. */
export function rotateLog(file: string, keep: number): void {
  const numbered = (n: number) => file.replace(/\.log$/, `.${n}.log`);
  fs.rmSync(numbered(keep), { force: true });
  for (let n = keep - 1; n >= 1; n--) {
    if (fs.existsSync(numbered(n))) fs.renameSync(numbered(n), numbered(n + 1));
  }
  if (keep >= 1) fs.renameSync(file, numbered(1));
  else fs.rmSync(file, { force: true });
}

/** Application log (JSON lines in <dataDir>/logs); details pass through the same redaction as the job log. */
export function fileLogger(dataDir: string, echo: boolean = false, rotation: LogRotation = DEFAULT_LOG_ROTATION): AppLogger {
  const file = appLogFile(dataDir);
  // Owner-only like the rest of the data directory (details are redacted, but hosts and names are not).
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let size = fs.existsSync(file) ? fs.statSync(file).size : 0;
  const write = (level: string, message: string, details?: Record<string, unknown>) => {
    const line = JSON.stringify({ t: new Date().toISOString(), level, message, ...(details ? { details: redact(details) } : {}) }) + '\n';
    if (size > 0 && size + Buffer.byteLength(line) > rotation.maxBytes) {
      try {
        rotateLog(file, rotation.keep);
        size = 0;
      } catch {
        // Another process (CLI, dev bridge) rotated it first, or the directory is read-only: keep appending.
        size = fs.existsSync(file) ? fs.statSync(file).size : 0;
      }
    }
    fs.appendFileSync(file, line, { mode: 0o600 });
    size += Buffer.byteLength(line);
    if (echo) process.stderr.write(`${level}: ${message}\n`);
  };
  return {
    info: (m, d) => write('info', m, d),
    warn: (m, d) => write('warn', m, d),
    error: (m, d) => write('error', m, d),
  };
}

export const silentLogger: AppLogger = { info() {}, warn() {}, error() {} };
