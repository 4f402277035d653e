import { createHash } from 'node:crypto';

/**
 * OpenSSH-style fingerprint of a raw SSH host key blob (the wire-format public key, as ssh2's
 * hostVerifier receives it): `SHA256:` + base64 of its SHA-256 digest without `=` padding.
 * Equal to what `ssh-keygen -lf` prints, so operators can compare it with the appliance console.
 */
export function formatSha256Fingerprint(hostKeyBlob: Uint8Array): string {
  const digest = createHash('sha256').update(hostKeyBlob).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** True for a well-formed `SHA256:` fingerprint (43 base64 characters, no padding). */
export function isSha256Fingerprint(value: string): boolean {
  return FINGERPRINT_PATTERN.test(value);
}
