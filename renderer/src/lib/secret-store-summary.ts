import type { SecretStoreStatus, SecretUnlockerStatus } from '../../../shared/domain';

const UNLOCKER_NAMES: Record<SecretUnlockerStatus['kind'], string> = {
  'safe-storage': 'Operating system keychain',
  passphrase: 'Passphrase (MKC_SECRET_KEY / MKC_SECRET_KEY_FILE)',
};

/** One line per way the store can be opened: whether it is set up in the store and usable here. */
export function unlockerLines(status: SecretStoreStatus): { name: string; state: string; detail: string | null }[] {
  return status.unlockers.map((u) => ({
    name: UNLOCKER_NAMES[u.kind],
    state: u.enrolled ? (u.available ? 'opens the store here' : 'set up, not usable here') : u.available ? 'usable here, not set up yet' : 'not set up',
    detail: u.detail,
  }));
}

export function storeTitle(status: SecretStoreStatus): string {
  if (status.kind === 'memory') return 'In memory only (nothing is kept after the console stops)';
  return `Encrypted file ${status.location ?? ''}`.trim();
}
