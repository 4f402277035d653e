// CloudStack request signing, byte for byte as ApiServer.verifyRequest recomputes it on the server.
import { createHmac } from 'node:crypto';

const JAVA_URLENCODER_SAFE = /[A-Za-z0-9.\-*_]/;

/**
 * Java's URLEncoder.encode(value, "UTF-8") followed by replace('+', '%20'): letters, digits and
 * `.-*_` stay, everything else (including `~`, which encodeURIComponent would keep) becomes %XX.
 */
export function encodeCloudStackValue(value: string): string {
  let out = '';
  for (const ch of value) {
    if (JAVA_URLENCODER_SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/** Java String.compareTo order (UTF-16 code units, case-sensitive), as Collections.sort uses. */
export function compareJavaStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The string CloudStack signs: every parameter but `signature`, sorted, encoded and lower-cased. */
export function canonicalRequestString(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((name) => name !== 'signature')
    .sort(compareJavaStrings)
    .map((name) => `${name}=${encodeCloudStackValue(params[name] ?? '')}`)
    .join('&')
    .toLowerCase();
}

/** Base64 HMAC-SHA1 of the canonical string with the secret key (not yet URL-encoded). */
export function computeSignature(params: Readonly<Record<string, string>>, secretKey: string): string {
  return createHmac('sha1', secretKey).update(canonicalRequestString(params), 'utf8').digest('base64');
}

/** `yyyy-MM-dd'T'HH:mm:ssZ` in UTC, the form CloudStack parses for signatureVersion=3 `expires`. */
export function formatExpires(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getUTCFullYear()}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())}` +
    `T${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}+0000`
  );
}

/**
 * Returns the full parameter set to send: the caller's parameters plus `signature`. The query or
 * form body built from it must encode values (encodeCloudStackValue does) so the server decodes the
 * same raw values that were signed.
 */
export function signRequest(params: Readonly<Record<string, string>>, secretKey: string): Record<string, string> {
  return { ...params, signature: computeSignature(params, secretKey) };
}

export function encodeParams(params: Readonly<Record<string, string>>): string {
  return Object.entries(params)
    .map(([name, value]) => `${encodeCloudStackValue(name)}=${encodeCloudStackValue(value)}`)
    .join('&');
}
