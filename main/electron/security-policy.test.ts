import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, withContentSecurityPolicy } from './security-policy';

const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));

describe('Content-Security-Policy', () => {
  it('allows only our own scripts and connections and forbids objects, base and framing', () => {
    const d = directives(CONTENT_SECURITY_POLICY);
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get('img-src')).toEqual(["'self'", 'data:']);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*/);
  });

  it('replaces any policy the response carried, whatever its case, and keeps other headers', () => {
    const out = withContentSecurityPolicy({
      'content-security-policy': ["script-src *"],
      'Content-Security-Policy-Report-Only': 'default-src *',
      'Content-Type': 'text/html',
      'Set-Cookie': ['a=1', 'b=2'],
    });
    const cspKeys = Object.keys(out).filter((k) => k.toLowerCase().startsWith('content-security-policy'));
    expect(cspKeys).toEqual(['Content-Security-Policy']);
    expect(out['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    expect(out['Content-Type']).toEqual(['text/html']);
    expect(out['Set-Cookie']).toEqual(['a=1', 'b=2']);
    expect(withContentSecurityPolicy(undefined)['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
  });
});
