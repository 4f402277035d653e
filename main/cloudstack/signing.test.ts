import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  canonicalRequestString,
  compareJavaStrings,
  computeSignature,
  encodeCloudStackValue,
  encodeParams,
  formatExpires,
} from './signing';

// Vectors computed independently with Python's hmac and a hand-written Java URLEncoder.
describe('encodeCloudStackValue', () => {
  it('keeps letters, digits and .-*_ only, like java.net.URLEncoder', () => {
    expect(encodeCloudStackValue('aZ09.-*_')).toBe('aZ09.-*_');
  });
  it('encodes space as %20 (URLEncoder + then replaced) and ~ as %7E', () => {
    expect(encodeCloudStackValue('a b~c')).toBe('a%20b%7Ec');
  });
  it('encodes reserved characters and UTF-8 bytes', () => {
    expect(encodeCloudStackValue('+/=&?é')).toBe('%2B%2F%3D%26%3F%C3%A9');
  });
});

describe('canonical string and signature', () => {
  it('matches a known vector for a simple call', () => {
    const params = { command: 'listZones', apiKey: 'KEY-abc', response: 'json' };
    expect(canonicalRequestString(params)).toBe('apikey=key-abc&command=listzones&response=json');
    expect(computeSignature(params, 'SECRET-xyz')).toBe('c7TwRZhQhg9k9XhDbeRwhbKwdGU=');
  });

  it('sorts case-sensitively (upper case before lower case) and encodes before lower-casing', () => {
    const params = {
      command: 'createVolume',
      apiKey: 'AbC',
      response: 'json',
      name: 'My Vol ~ +/=&é*._-',
      zoneid: 'z1',
      Size: '5',
      size: '10',
    };
    expect(canonicalRequestString(params)).toBe(
      'size=5&apikey=abc&command=createvolume&name=my%20vol%20%7e%20%2b%2f%3d%26%c3%a9*._-&response=json&size=10&zoneid=z1',
    );
    expect(computeSignature(params, 's3cr3t')).toBe('IDqisxsH/ALJUv/JynuDWp5toDg=');
  });

  it('signs signatureVersion=3 requests including expires', () => {
    const params = {
      command: 'listZones',
      apiKey: 'k',
      response: 'json',
      signatureVersion: '3',
      expires: formatExpires(new Date(Date.UTC(2030, 0, 2, 3, 4, 5))),
    };
    expect(params.expires).toBe('2030-01-02T03:04:05+0000');
    expect(computeSignature(params, 'sec')).toBe('cxjztJEPL68fjOygQet8bjf5sz4=');
  });

  it('ignores an existing signature parameter', () => {
    const params = { command: 'listZones', apiKey: 'KEY-abc', response: 'json' };
    expect(computeSignature({ ...params, signature: 'whatever' }, 'SECRET-xyz')).toBe(computeSignature(params, 'SECRET-xyz'));
  });

  it('differs when the secret differs', () => {
    const params = { command: 'listZones', apiKey: 'KEY-abc', response: 'json' };
    expect(computeSignature(params, 'other')).not.toBe('c7TwRZhQhg9k9XhDbeRwhbKwdGU=');
  });

  it('orders names like Java String.compareTo', () => {
    expect(['b', 'B', 'a', 'details[0].x', 'details'].sort(compareJavaStrings)).toEqual(['B', 'a', 'b', 'details', 'details[0].x']);
  });

  it('agrees with an independent Python implementation on random values', () => {
    const values = Array.from({ length: 20 }, (_, i) =>
      Array.from({ length: 12 }, (_, j) => String.fromCodePoint(32 + ((i * 31 + j * 17) % 95))).join('') + (i % 3 === 0 ? 'ü€' : ''),
    );
    const cases = values.map((v, i) => ({ params: { command: 'createVolume', apiKey: `k${i}`, response: 'json', name: v }, secret: `s-${i}` }));
    const script = [
      'import sys, json, hmac, hashlib, base64',
      'def jenc(s):',
      "    r=''",
      "    for b in s.encode('utf-8'):",
      '        c=chr(b)',
      "        r += c if (c.isascii() and c.isalnum()) or c in '.-*_' else ('%20' if c==' ' else '%%%02X'%b)",
      '    return r',
      'out=[]',
      'for case in json.load(sys.stdin):',
      "    s='&'.join(k+'='+jenc(v) for k,v in sorted(case['params'].items())).lower()",
      "    out.append(base64.b64encode(hmac.new(case['secret'].encode(),s.encode(),hashlib.sha1).digest()).decode())",
      'print(json.dumps(out))',
    ].join('\n');
    const expected = JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(cases) }).toString()) as string[];
    expect(cases.map((c) => computeSignature(c.params, c.secret))).toEqual(expected);
  });
});

describe('encodeParams', () => {
  it('round-trips through URLSearchParams to the raw values', () => {
    const params = { name: 'a b+c~d/é', signature: 'ab+/=' };
    const parsed = new URLSearchParams(encodeParams(params));
    expect(Object.fromEntries(parsed)).toEqual(params);
  });
});
