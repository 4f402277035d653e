import { describe, expect, it } from 'vitest';
import { DEFAULT_OMA_CONFIG, probeAddress, resolveOmaConfig } from './oma-config';

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
    [{ bogus: 1 } as never, /bogus: unknown setting/],
  ])('rejects %j', (overrides, message) => {
    expect(() => resolveOmaConfig(overrides)).toThrow(message);
    expect(() => resolveOmaConfig(overrides)).toThrow(expect.objectContaining({ code: 'validation' }));
  });

  it('accepts IPv6 and wildcard listen addresses and probes them locally', () => {
    expect(resolveOmaConfig({ nbdListenAddress: '::' }).nbdListenAddress).toBe('::');
    expect(probeAddress('0.0.0.0')).toBe('127.0.0.1');
    expect(probeAddress('::')).toBe('::1');
    expect(probeAddress('10.0.0.5')).toBe('10.0.0.5');
  });
});
