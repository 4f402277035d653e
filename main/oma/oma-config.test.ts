import { describe, expect, it } from 'vitest';
import { DEFAULT_OMA_CONFIG, nbdkitArgv, probeAddress, resolveOmaConfig } from './oma-config';

describe('resolveOmaConfig', () => {
  it('uses the reference defaults', () => {
    const c = resolveOmaConfig();
    expect(c.byIdDir).toBe('/dev/disk/by-id');
    expect(c.nbdPort).toBe(10809);
    expect(c).toEqual({ ...DEFAULT_OMA_CONFIG });
  });

  it('applies overrides', () => {
    const c = resolveOmaConfig({ exportsDir: '/tmp/x/exports', nbdPort: 12345, privilegePrefix: ['sudo', '-n'] });
    expect(c.exportsDir).toBe('/tmp/x/exports');
    expect(c.nbdPort).toBe(12345);
    expect(c.privilegePrefix).toEqual(['sudo', '-n']);
    expect(c.byIdDir).toBe('/dev/disk/by-id');
  });

  it.each([
    [{ exportsDir: 'relative/dir' }, /exportsDir: "relative\/dir" is not an absolute path/],
    [{ byIdDir: '/dev/../etc' }, /byIdDir: .* must not contain \. or \.\. segments/],
    [{ exportsDir: '/' }, /exportsDir: must not be the root directory/],
    [{ pidFile: '/run/x\nrm -rf /' }, /pidFile: must not contain NUL or line breaks/],
    [{ exportsDir: '/dev/disk/by-id' }, /exportsDir: must differ from byIdDir/],
    [{ nbdPort: 0 }, /nbdPort: must be an integer between 1 and 65535/],
    [{ nbdPort: 10809.5 }, /nbdPort/],
    [{ nbdListenAddress: '1.2.3.4; reboot' }, /nbdListenAddress: .* is not a host name or IP address/],
    [{ nbdkitBinary: '' }, /nbdkitBinary: must be a non-empty string/],
    [{ nbdkitExtraArgs: 'x' as unknown as string[] }, /nbdkitExtraArgs: must be a list of strings/],
    [{ commandTimeoutMs: 5 }, /commandTimeoutMs/],
    [{ nbdListenAddress: '0.0.0.0' }, /nbdAllowedClients: nbdkit would serve every replica read-write to anyone who reaches 0\.0\.0\.0:10809/],
    [{ nbdListenAddress: '10.0.0.5', nbdAllowedClients: ['10.0.0.9; reboot'] }, /nbdAllowedClients\[0\]: "10\.0\.0\.9; reboot" is not an IP address/],
    [{ nbdAllowedClients: ['300.1.1.1'] }, /nbdAllowedClients\[0\]/],
    [{ bogus: 1 } as never, /bogus: unknown setting/],
  ])('rejects %j', (overrides, message) => {
    expect(() => resolveOmaConfig(overrides)).toThrow(message);
    expect(() => resolveOmaConfig(overrides)).toThrow(expect.objectContaining({ code: 'validation' }));
  });

  it('accepts IPv6 and wildcard listen addresses (with allowed clients) and probes them locally', () => {
    expect(resolveOmaConfig({ nbdListenAddress: '::', nbdAllowedClients: ['fd00::7'] }).nbdListenAddress).toBe('::');
    expect(probeAddress('0.0.0.0')).toBe('127.0.0.1');
    expect(probeAddress('::')).toBe('::1');
    expect(probeAddress('10.0.0.5')).toBe('10.0.0.5');
  });
});

describe('nbdkitArgv', () => {
  it('runs without a filter on loopback with no allowed clients', () => {
    expect(nbdkitArgv(resolveOmaConfig())).toEqual(['nbdkit', '-i', '127.0.0.1', '-p', '10809', '-P', '/run/migratekit/nbdkit.pid', 'file', 'dir=/var/lib/migratekit/nbd-exports']);
  });

  it("adds the ip filter before the plugin and admits only loopback and the VMA's addresses", () => {
    const argv = nbdkitArgv(resolveOmaConfig({ nbdListenAddress: '0.0.0.0', nbdAllowedClients: ['10.0.0.9', '10.1.0.0/24'], nbdkitExtraArgs: ['-t', '16'] }));
    expect(argv).toEqual([
      'nbdkit', '-i', '0.0.0.0', '-p', '10809', '-P', '/run/migratekit/nbdkit.pid', '--filter=ip', '-t', '16', 'file', 'dir=/var/lib/migratekit/nbd-exports',
      'allow=127.0.0.1,::1,10.0.0.9,10.1.0.0/24', 'deny=all',
    ]);
  });
});
