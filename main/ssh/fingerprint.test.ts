import { describe, expect, it } from 'vitest';
import { formatSha256Fingerprint, isSha256Fingerprint } from './fingerprint';

// Reference values printed by `ssh-keygen -lf` (OpenSSH 9.2) for these public keys.
const VECTORS = [
  {
    line: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDH9ephzYRT7Iiw7OInsmb7eD35z38xBAujhM5KdiZfM vector',
    fingerprint: 'SHA256:QtY+Hk06+wPGR3Cq2s5a8DQrbG4XuPHnqNzSgMoRqKs',
  },
  {
    line:
      'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDodV1HfpQVesQF5i+BTeZ6FBRgJLJd6Y7cnlwfcwmS5jZ/kIKmIhzoV28XPQNv7NpbqJnIseh/2DWvWPaMZ2gj31X4F8BxBpVMVKwhpkiW5iVbqTOXiKfm0woLQ4t1SNtbgXoctrzGqv1vnBp43JjjJm55cTImMZSp8989331Qrrjyao+YKdrD7L+dVKx3pLUIU1KUI8aGHRnF8KIUmLHS14ecjZIL2+c2NIINcJr6t3Mh2gwX1cYZAI2x2wzbhNk8XbExTlP0S2VauJPIdJ9z3RyrSzipdd0u1XJyMl9iRHPCAlb+LvJIMI3yfW+JClfLMr9A47uOmI1NC+uTNaK3 vector',
    fingerprint: 'SHA256:RGnfSl+GLMPOJRWyq2NBXTnlJ5tCJVdWVVdorSaPtoU',
  },
];

const blobOf = (line: string): Buffer => Buffer.from(line.split(' ')[1] as string, 'base64');

describe('formatSha256Fingerprint', () => {
  it.each(VECTORS)('matches ssh-keygen for $fingerprint', ({ line, fingerprint }) => {
    expect(formatSha256Fingerprint(blobOf(line))).toBe(fingerprint);
  });

  it('has no base64 padding and differs for different keys', () => {
    const [a, b] = VECTORS.map((v) => formatSha256Fingerprint(blobOf(v.line)));
    expect(a).not.toContain('=');
    expect(a).not.toBe(b);
    expect(isSha256Fingerprint(a as string)).toBe(true);
  });
});

describe('isSha256Fingerprint', () => {
  it('rejects padded, truncated, MD5-style and prefixless values', () => {
    expect(isSha256Fingerprint(`${VECTORS[0]?.fingerprint}=`)).toBe(false);
    expect(isSha256Fingerprint('SHA256:abc')).toBe(false);
    expect(isSha256Fingerprint('MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48')).toBe(false);
    expect(isSha256Fingerprint('QtY+Hk06+wPGR3Cq2s5a8DQrbG4XuPHnqNzSgMoRqKs')).toBe(false);
  });
});
