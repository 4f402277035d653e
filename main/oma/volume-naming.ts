// Names derived from a CloudStack volume uuid. They are pure and stable: the same volume always
// has the same device id and export name (lessons 12 and 13).
import { AppError } from '../../shared/errors';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const EXPORT_PREFIX = 'migration-vol-';

/** Validates a CloudStack volume uuid and returns it in its canonical lower-case form. */
export function normalizeVolumeUuid(volumeUuid: string): string {
  if (typeof volumeUuid !== 'string') throw new AppError('validation', 'volume uuid must be a string');
  const canonical = volumeUuid.trim().toLowerCase();
  if (!UUID_PATTERN.test(canonical)) {
    throw new AppError('validation', `"${volumeUuid.slice(0, 80)}" is not a CloudStack volume uuid (expected 8-4-4-4-12 hex digits)`, {
      volumeUuid: volumeUuid.slice(0, 80),
    });
  }
  return canonical;
}

/** The virtio serial KVM gives the attached volume: uuid without hyphens, first 20 characters. */
export function deviceIdFor(volumeUuid: string): string {
  return `virtio-${normalizeVolumeUuid(volumeUuid).replace(/-/g, '').slice(0, 20)}`;
}

/** The NBD export name of a volume; it never changes for the volume. */
export function exportName(volumeUuid: string): string {
  return `${EXPORT_PREFIX}${normalizeVolumeUuid(volumeUuid)}`;
}

/** The volume uuid an export name was made from, or null for any other name. */
export function volumeUuidFromExportName(name: string): string | null {
  if (!name.startsWith(EXPORT_PREFIX)) return null;
  const rest = name.slice(EXPORT_PREFIX.length);
  return UUID_PATTERN.test(rest) ? rest : null;
}

/** `nbd://host:port/export` (IPv6 hosts bracketed), e.g. the target the VMA writes to. */
export function nbdUrl(host: string, port: number, name: string): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AppError('validation', `NBD port ${port} is not a TCP port`);
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new AppError('validation', `NBD host "${host.slice(0, 80)}" is not a host name or IP address`);
  const h = host.includes(':') ? `[${host}]` : host;
  return `nbd://${h}:${port}/${encodeURIComponent(name)}`;
}

/** The URL the VMA uses for a volume's export, given the OMA NBD address as the VMA reaches it. */
export function nbdTargetUrl(host: string, port: number, volumeUuid: string): string {
  return nbdUrl(host, port, exportName(volumeUuid));
}
