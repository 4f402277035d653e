import fs from 'node:fs';
import path from 'node:path';
import { redact } from '../logbook/logbook';

export interface AppLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** Application log (JSON lines in <dataDir>/logs); details pass through the same redaction as the job log. */
export function fileLogger(dataDir: string, echo: boolean = false): AppLogger {
  const dir = path.join(dataDir, 'logs');
  // Owner-only like the rest of the data directory (details are redacted, but hosts and names are not).
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'console.log');
  const write = (level: string, message: string, details?: Record<string, unknown>) => {
    const line = JSON.stringify({ t: new Date().toISOString(), level, message, ...(details ? { details: redact(details) } : {}) });
    fs.appendFileSync(file, line + '\n', { mode: 0o600 });
    if (echo) process.stderr.write(`${level}: ${message}\n`);
  };
  return {
    info: (m, d) => write('info', m, d),
    warn: (m, d) => write('warn', m, d),
    error: (m, d) => write('error', m, d),
  };
}

export const silentLogger: AppLogger = { info() {}, warn() {}, error() {} };
