import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

// AES-256-GCM with a random 12-byte IV per value, written as `iv.tag.data` in base64. The AAD binds a
// ciphertext to what it is for (a ref, a wrapped key), so values cannot be swapped between entries.

export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64')).join('.');
}

/** null when the key or the data does not authenticate. */
export function open(key: Buffer, sealed: string, aad: string): string | null {
  const parts = sealed.split('.');
  if (parts.length !== 3) return null;
  const [iv, tag, data] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer];
  if (iv.length !== 12 || tag.length !== 16) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

export interface ScryptParams {
  salt: string;
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT_N = 1 << 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;

export function isPowerOfTwoCost(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}

/** Parameters read from a file are bounded so a crafted header cannot make scrypt eat the machine. */
export function parseScryptParams(raw: unknown): ScryptParams | null {
  const k = raw as (Partial<ScryptParams> & { name?: unknown }) | null | undefined;
  if (
    !k || typeof k !== 'object' || k.name !== 'scrypt' || typeof k.salt !== 'string' ||
    !Number.isInteger(k.N) || !Number.isInteger(k.r) || !Number.isInteger(k.p) ||
    (k.N as number) < 2 || (k.N as number) > 1 << 20 || (k.r as number) < 1 || (k.r as number) > 32 ||
    (k.p as number) < 1 || (k.p as number) > 16
  ) {
    return null;
  }
  return { salt: k.salt, N: k.N as number, r: k.r as number, p: k.p as number };
}

export function newScryptParams(N: number): ScryptParams {
  return { salt: randomBytes(16).toString('base64'), N, r: SCRYPT_R, p: SCRYPT_P };
}

export function scryptKey(passphrase: string, kdf: ScryptParams): Buffer {
  return scryptSync(passphrase, Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r + 1024 * 1024,
  });
}
