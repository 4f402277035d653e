import { randomBytes } from 'node:crypto';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `job-YYYYMMDD-HHMMSS.mmm-<6hex>` in UTC: the one id a job has everywhere. */
export function newJobId(now: Date = new Date()): string {
  const d = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const t = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}.${pad(now.getUTCMilliseconds(), 3)}`;
  return `job-${d}-${t}-${randomBytes(3).toString('hex')}`;
}

/** Opaque ids for other entities: a readable prefix and 12 random hex digits. */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export const isoNow = (): string => new Date().toISOString();
