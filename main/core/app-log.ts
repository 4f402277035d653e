import fs from 'node:fs';
import path from 'node:path';
import { redact } from '../logbook/logbook';

export interface AppLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** Where fileLogger writes for a data directory. */
export function appLogFile(dataDir: string): string {
  return path.join(dataDir, 'logs', 'console.log');
}

/** Application log (JSON lines in <dataDir>/logs); details pass through the same redaction as the job log. */
export function fileLogger(dataDir: string, echo: boolean = false): AppLogger {
  const file = appLogFile(dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
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
