import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { InMemorySecretStore } from './memory-store';

describe('InMemorySecretStore', () => {
  it('follows the SecretStore contract', () => {
    const s = new InMemorySecretStore();
    expect(s.unavailableReason()).toBeNull();
    s.set('a', '1');
    expect(s.get('a')).toBe('1');
    expect(s.get('b')).toBeNull();
    s.delete('a');
    expect(s.get('a')).toBeNull();
    expect(s.size()).toBe(0);
  });

  it('can simulate an unavailable store', () => {
    const s = new InMemorySecretStore('no keyring');
    expect(s.unavailableReason()).toBe('no keyring');
    expect(() => s.set('a', '1')).toThrowError(AppError);
    expect(s.get('a')).toBeNull();
  });
});
