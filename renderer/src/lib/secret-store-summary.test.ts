import { describe, expect, it } from 'vitest';
import { storeTitle, unlockerLines } from './secret-store-summary';

describe('secret store summary', () => {
  it('says which unlockers open the store here and which are only set up', () => {
    const lines = unlockerLines({
      kind: 'data-key-file',
      location: '/d/secrets.json',
      usable: true,
      reason: null,
      unlockers: [
        { kind: 'safe-storage', available: true, enrolled: true, detail: 'keychain' },
        { kind: 'passphrase', available: false, enrolled: true, detail: 'no passphrase' },
      ],
    });
    expect(lines).toEqual([
      { name: 'Operating system keychain', state: 'opens the store here', detail: 'keychain' },
      { name: 'Passphrase (MKC_SECRET_KEY / MKC_SECRET_KEY_FILE)', state: 'set up, not usable here', detail: 'no passphrase' },
    ]);
    expect(storeTitle({ kind: 'data-key-file', location: '/d/secrets.json', usable: true, reason: null, unlockers: [] })).toBe('Encrypted file /d/secrets.json');
    expect(storeTitle({ kind: 'memory', location: null, usable: true, reason: null, unlockers: [] })).toMatch(/In memory only/);
  });
});
