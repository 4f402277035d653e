// Server-side signature check, written independently of main/cloudstack/signing so that a bug
// there cannot hide itself: this follows ApiServer.verifyRequest step by step.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** java.net.URLEncoder.encode(v, "UTF-8").replaceAll("\\+", "%20") */
function javaUrlEncode(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (const b of bytes) {
    const isAlnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    if (isAlnum || b === 0x2e || b === 0x2d || b === 0x2a || b === 0x5f) out += String.fromCharCode(b);
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out.replace(/\+/g, '%20');
}

export type VerifyOutcome =
  | { ok: true; apiKey: string }
  | { ok: false; reason: 'no_signature' | 'no_api_key' | 'unknown_key' | 'bad_signature' | 'expired' | 'bad_expires' };

/** Parses `yyyy-MM-dd'T'HH:mm:ssZ` (RFC 822 zone such as +0000) the way SimpleDateFormat would. */
export function parseJavaExpires(value: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, sign, zh, zm] = m;
  const offsetMin = (sign === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm));
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMin * 60_000);
}

/**
 * `params` are the decoded request parameters (first value of each name), exactly what the
 * servlet hands to verifyRequest.
 */
export function verifySignedRequest(
  params: ReadonlyMap<string, string>,
  secretFor: (apiKey: string) => string | undefined,
  now: Date = new Date(),
): VerifyOutcome {
  const names = [...params.keys()].sort((a, b) => (a === b ? 0 : a < b ? -1 : 1));
  let signature: string | undefined;
  let apiKey: string | undefined;
  let signatureVersion: string | undefined;
  let expires: string | undefined;
  const parts: string[] = [];
  for (const name of names) {
    const value = params.get(name) ?? '';
    if (name.toLowerCase() === 'signature') {
      signature = value;
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'apikey') apiKey = value;
    else if (lower === 'signatureversion') signatureVersion = value;
    else if (lower === 'expires') expires = value;
    parts.push(`${name}=${javaUrlEncode(value)}`);
  }
  if (signature === undefined) return { ok: false, reason: 'no_signature' };
  if (apiKey === undefined) return { ok: false, reason: 'no_api_key' };
  if (signatureVersion === '3') {
    const at = expires === undefined ? undefined : parseJavaExpires(expires);
    if (!at) return { ok: false, reason: 'bad_expires' };
    if (at.getTime() < now.getTime()) return { ok: false, reason: 'expired' };
  }
  const secret = secretFor(apiKey);
  if (secret === undefined) return { ok: false, reason: 'unknown_key' };
  const computed = createHmac('sha1', secret).update(parts.join('&').toLowerCase(), 'utf8').digest('base64');
  const a = Buffer.from(computed, 'utf8');
  const b = Buffer.from(signature, 'utf8');
  const equal = a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(a, a), false);
  return equal ? { ok: true, apiKey } : { ok: false, reason: 'bad_signature' };
}
