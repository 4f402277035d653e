import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../shared/errors';

// Refs are chosen by the core (e.g. `appliance:<id>:password`), never by the renderer; a narrow
// alphabet keeps them safe as JSON keys and readable in error messages.
const REF_PATTERN = /^[A-Za-z0-9._:/@+-]{1,200}$/;

export function assertValidRef(ref: unknown): asserts ref is string {
  if (typeof ref !== 'string' || !REF_PATTERN.test(ref)) {
    throw new AppError(
      'validation',
      `Invalid secret reference ${JSON.stringify(String(ref)).slice(0, 60)}: use 1-200 characters from A-Z a-z 0-9 . _ : / @ + -`,
    );
  }
}

/** Reads a JSON object file; a missing file is `null`, anything unreadable is a clear error. */
export function readJsonObject(file: string): Record<string, unknown> | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AppError('secret_store_unavailable', `Cannot read the secret store ${file}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('secret_store_unavailable', `The secret store ${file} is damaged (not valid JSON); restore it from a backup or remove it and enter the secrets again`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError('secret_store_unavailable', `The secret store ${file} is damaged (not a JSON object)`);
  }
  return parsed as Record<string, unknown>;
}

/** A plain map of string entries from a JSON object; `Map` so refs like `__proto__` stay data. */
export function stringEntries(obj: unknown, file: string): Map<string, string> {
  const out = new Map<string, string>();
  if (obj === undefined || obj === null) return out;
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    throw new AppError('secret_store_unavailable', `The secret store ${file} is damaged (secrets are not an object)`);
  }
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'string') throw new AppError('secret_store_unavailable', `The secret store ${file} is damaged (entry ${JSON.stringify(k)} is not a string)`);
    out.set(k, v);
  }
  return out;
}

/**
 * Writes the file so a crash leaves either the old or the new content, never a torn one, and the
 * content is never readable by other users, not even briefly (the temp file is created 0600).
 */
export function writeFileAtomic0600(file: string, content: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o600);
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw new AppError('secret_store_unavailable', `Cannot write the secret store ${file}: ${(e as Error).message}`);
  }
  // Windows has no POSIX modes; elsewhere make sure a umask cannot have widened it.
  if (process.platform !== 'win32') fs.chmodSync(file, 0o600);
}
