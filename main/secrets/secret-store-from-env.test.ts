import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretKeySourceFromEnvironment, secretStoreFromEnvironment } from './secret-store-from-env';

describe('secretStoreFromEnvironment', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-env-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses MKC_SECRET_KEY and stores in <dataDir>/secrets.json', () => {
    const env = { MKC_SECRET_KEY: 'correct horse battery' };
    const store = secretStoreFromEnvironment(dir, env, { scryptN: 1 << 10 });
    store.set('a', 'value');
    expect(fs.readdirSync(dir)).toEqual(['secrets.json']);
    expect(secretStoreFromEnvironment(dir, env).get('a')).toBe('value');
    // A caller-provided env object is not modified.
    expect(env.MKC_SECRET_KEY).toBe('correct horse battery');
  });

  it('uses a key file the same way, ignoring one trailing newline', () => {
    const keyFile = path.join(dir, 'key');
    fs.writeFileSync(keyFile, 'file passphrase\n', { mode: 0o600 });
    secretStoreFromEnvironment(dir, { MKC_SECRET_KEY_FILE: keyFile }, { scryptN: 1 << 10 }).set('a', 'v');
    expect(secretStoreFromEnvironment(dir, { MKC_SECRET_KEY: 'file passphrase' }).get('a')).toBe('v');
  });

  it('explains a missing, empty, unreadable or ambiguous key without revealing it', () => {
    expect(secretStoreFromEnvironment(dir, {}).unavailableReason()).toMatch(/MKC_SECRET_KEY.*MKC_SECRET_KEY_FILE/);
    expect(secretStoreFromEnvironment(dir, { MKC_SECRET_KEY: '' }).unavailableReason()).toMatch(/empty/);
    expect(secretStoreFromEnvironment(dir, { MKC_SECRET_KEY_FILE: path.join(dir, 'nope') }).unavailableReason()).toMatch(/ENOENT/);
    const keyFile = path.join(dir, 'empty');
    fs.writeFileSync(keyFile, '');
    expect(secretStoreFromEnvironment(dir, { MKC_SECRET_KEY_FILE: keyFile }).unavailableReason()).toMatch(/empty/);
    const both = secretKeySourceFromEnvironment({ MKC_SECRET_KEY: 'hunter2-unique', MKC_SECRET_KEY_FILE: keyFile });
    expect(both.kind).toBe('missing');
    expect(JSON.stringify(both)).not.toContain('hunter2-unique');
  });

  it('removes the key from process.env so child processes do not inherit it, and still remembers it', () => {
    const saved = process.env.MKC_SECRET_KEY;
    try {
      process.env.MKC_SECRET_KEY = 'process-level-key';
      const first = secretKeySourceFromEnvironment();
      expect(first).toMatchObject({ kind: 'passphrase', passphrase: 'process-level-key' });
      expect(process.env.MKC_SECRET_KEY).toBeUndefined();
      expect(secretKeySourceFromEnvironment()).toMatchObject({ kind: 'passphrase', passphrase: 'process-level-key' });
    } finally {
      if (saved === undefined) delete process.env.MKC_SECRET_KEY;
      else process.env.MKC_SECRET_KEY = saved;
    }
  });
});
