import { describe, expect, it } from 'vitest';
import { deviceIdFor, exportName, nbdTargetUrl, normalizeVolumeUuid, volumeUuidFromExportName } from './volume-naming';

describe('volume naming', () => {
  const uuid = '3f2b9c1e-8d4a-4e6f-9b1c-0a2d3e4f5a6b';

  it('derives the virtio id from the uuid without hyphens, first 20 characters', () => {
    expect(deviceIdFor(uuid)).toBe('virtio-3f2b9c1e8d4a4e6f9b1c');
    expect(deviceIdFor(uuid).length).toBe('virtio-'.length + 20);
  });

  it('names the export after the whole uuid', () => {
    expect(exportName(uuid)).toBe(`migration-vol-${uuid}`);
    expect(volumeUuidFromExportName(exportName(uuid))).toBe(uuid);
    expect(volumeUuidFromExportName('other-export')).toBeNull();
    expect(volumeUuidFromExportName('migration-vol-not-a-uuid')).toBeNull();
  });

  it('normalises case so one volume always has one name', () => {
    expect(exportName(uuid.toUpperCase())).toBe(exportName(uuid));
    expect(deviceIdFor(uuid.toUpperCase())).toBe(deviceIdFor(uuid));
  });

  it.each(['', 'abc', `${uuid}x`, uuid.replace(/-/g, ''), '../../etc/passwd', `${uuid.slice(0, -1)}g`, `x${uuid.slice(1)}`, `${uuid}\n`.replace('\n', '/')])(
    'rejects %j as a volume uuid with a validation error',
    (bad) => {
      expect(() => normalizeVolumeUuid(bad)).toThrow(expect.objectContaining({ code: 'validation' }));
      expect(() => exportName(bad)).toThrow(/not a CloudStack volume uuid/);
      expect(() => deviceIdFor(bad)).toThrow(/not a CloudStack volume uuid/);
    },
  );

  it('builds the NBD target URL the VMA uses', () => {
    expect(nbdTargetUrl('127.0.0.1', 10808, uuid)).toBe(`nbd://127.0.0.1:10808/migration-vol-${uuid}`);
    expect(nbdTargetUrl('fd00::5', 10809, uuid)).toBe(`nbd://[fd00::5]:10809/migration-vol-${uuid}`);
    expect(() => nbdTargetUrl('h/x', 10809, uuid)).toThrow(/not a host/);
    expect(() => nbdTargetUrl('h', 0, uuid)).toThrow(/not a TCP port/);
  });
});
