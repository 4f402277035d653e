// Where things live on the OMA appliance. Defaults follow the reference appliance; every value is
// configurable so a test rig (or a differently laid out appliance) can point them elsewhere.
import path from 'node:path';
import { AppError } from '../../shared/errors';

export interface OmaApplianceConfig {
  /** Directory holding the virtio-<id20> links of attached volumes. */
  byIdDir: string;
  /** nbdkit's `file dir=`: every link in it is an export named after the link. */
  exportsDir: string;
  /** Address nbdkit listens on (`-i`). */
  nbdListenAddress: string;
  /** Port nbdkit listens on (`-p`). */
  nbdPort: number;
  /** nbdkit's pid file (`-P`), used to tell whether our nbdkit runs. */
  pidFile: string;
  nbdkitBinary: string;
  /**
   * Addresses (or CIDR ranges) allowed to open NBD connections besides the appliance's own loopback,
   * i.e. the VMA as the OMA sees it. nbdkit serves every replica read-write with no other access
   * control, so a listen address that is not loopback needs this list (nbdkit's ip filter).
   */
  nbdAllowedClients: string[];
  /** Extra nbdkit options placed before the plugin name, e.g. ['--log=syslog', '-t', '16']. */
  nbdkitExtraArgs: string[];
  nbdinfoBinary: string;
  /** Prefix for commands that change the appliance (links, nbdkit start), e.g. ['sudo', '-n']. */
  privilegePrefix: string[];
  /** Bound for each single remote command. */
  commandTimeoutMs: number;
  /** How long a freshly started nbdkit may take to answer. */
  nbdkitStartTimeoutMs: number;
}

export const DEFAULT_OMA_CONFIG: Readonly<OmaApplianceConfig> = Object.freeze({
  byIdDir: '/dev/disk/by-id',
  exportsDir: '/var/lib/migratekit/nbd-exports',
  nbdListenAddress: '127.0.0.1',
  nbdPort: 10809,
  pidFile: '/run/migratekit/nbdkit.pid',
  nbdkitBinary: 'nbdkit',
  nbdAllowedClients: [],
  nbdkitExtraArgs: [],
  nbdinfoBinary: 'nbdinfo',
  privilegePrefix: [],
  commandTimeoutMs: 15_000,
  nbdkitStartTimeoutMs: 10_000,
});

const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6_PATTERN = /^[0-9A-Fa-f:.]+$/;

function fail(field: string, message: string): never {
  throw new AppError('validation', `OMA appliance config ${field}: ${message}`, { field });
}

function checkAbsolutePath(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(field, 'must be a non-empty path');
  if (/[\0\n\r]/.test(value)) fail(field, 'must not contain NUL or line breaks');
  if (!path.posix.isAbsolute(value)) fail(field, `"${value}" is not an absolute path`);
  if (value.split('/').some((part) => part === '..' || part === '.')) fail(field, `"${value}" must not contain . or .. segments`);
  if (value !== '/' && value.endsWith('/')) fail(field, `"${value}" must not end with /`);
  if (value === '/') fail(field, 'must not be the root directory');
  return value;
}

function checkWord(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(field, 'must be a non-empty string');
  if (/[\0\n\r]/.test(value)) fail(field, 'must not contain NUL or line breaks');
  return value;
}

function checkWords(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) fail(field, 'must be a list of strings');
  return value.map((v, i) => checkWord(`${field}[${i}]`, v));
}

const IPV4_OCTET = '(25[0-5]|2[0-4]\\d|1?\\d?\\d)';
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}(/([12]?\\d|3[0-2]))?$`);
const IPV6 = /^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(\/(1[01]\d|12[0-8]|\d?\d))?$/;

function checkClients(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) fail(field, 'must be a list of IP addresses');
  return value.map((v, i) => {
    if (typeof v !== 'string' || !(IPV4.test(v) || IPV6.test(v))) fail(`${field}[${i}]`, `"${String(v).slice(0, 80)}" is not an IP address or CIDR range`);
    return v;
  });
}

/** Loopback listen addresses: only processes on the appliance (and its SSH forwards) connect. */
export function isLoopbackAddress(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === 'localhost';
}

function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `must be an integer between ${min} and ${max}, got ${String(value)}`);
  }
  return value;
}

function checkAddress(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(field, 'must be a host name or IP address');
  if (!(HOST_PATTERN.test(value) || (value.includes(':') && IPV6_PATTERN.test(value)))) {
    fail(field, `"${value.slice(0, 80)}" is not a host name or IP address`);
  }
  return value;
}

/** Merges overrides onto the defaults and validates the result; throws AppError('validation'). */
export function resolveOmaConfig(overrides: Partial<OmaApplianceConfig> = {}): OmaApplianceConfig {
  const known = new Set(Object.keys(DEFAULT_OMA_CONFIG));
  for (const key of Object.keys(overrides)) if (!known.has(key)) fail(key, 'unknown setting');
  const merged = { ...DEFAULT_OMA_CONFIG, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  const config: OmaApplianceConfig = {
    byIdDir: checkAbsolutePath('byIdDir', merged.byIdDir),
    exportsDir: checkAbsolutePath('exportsDir', merged.exportsDir),
    nbdListenAddress: checkAddress('nbdListenAddress', merged.nbdListenAddress),
    nbdPort: checkInt('nbdPort', merged.nbdPort, 1, 65535),
    pidFile: checkAbsolutePath('pidFile', merged.pidFile),
    nbdkitBinary: checkWord('nbdkitBinary', merged.nbdkitBinary),
    nbdAllowedClients: checkClients('nbdAllowedClients', merged.nbdAllowedClients),
    nbdkitExtraArgs: checkWords('nbdkitExtraArgs', merged.nbdkitExtraArgs),
    nbdinfoBinary: checkWord('nbdinfoBinary', merged.nbdinfoBinary),
    privilegePrefix: checkWords('privilegePrefix', merged.privilegePrefix),
    commandTimeoutMs: checkInt('commandTimeoutMs', merged.commandTimeoutMs, 100, 600_000),
    nbdkitStartTimeoutMs: checkInt('nbdkitStartTimeoutMs', merged.nbdkitStartTimeoutMs, 100, 600_000),
  };
  if (config.exportsDir === config.byIdDir) fail('exportsDir', 'must differ from byIdDir');
  if (!isLoopbackAddress(config.nbdListenAddress) && config.nbdAllowedClients.length === 0) {
    fail(
      'nbdAllowedClients',
      `nbdkit would serve every replica read-write to anyone who reaches ${config.nbdListenAddress}:${config.nbdPort}; list the VMA's address as the OMA sees it (or listen on 127.0.0.1 and let the VMA come through its tunnel)`,
    );
  }
  return config;
}

/**
 * nbdkit's command line. With allowed clients, the ip filter admits only them and the appliance's own
 * loopback (its readiness probes), and refuses everyone else before the NBD handshake.
 */
export function nbdkitArgv(c: OmaApplianceConfig): string[] {
  const filter = c.nbdAllowedClients.length > 0;
  return [
    c.nbdkitBinary,
    '-i',
    c.nbdListenAddress,
    '-p',
    String(c.nbdPort),
    '-P',
    c.pidFile,
    ...(filter ? ['--filter=ip'] : []),
    ...c.nbdkitExtraArgs,
    'file',
    `dir=${c.exportsDir}`,
    ...(filter ? [`allow=${['127.0.0.1', '::1', ...c.nbdAllowedClients].join(',')}`, 'deny=all'] : []),
  ];
}

/** The address local probes (nbdinfo on the appliance itself) use to reach nbdkit. */
export function probeAddress(listenAddress: string): string {
  if (listenAddress === '0.0.0.0') return '127.0.0.1';
  if (listenAddress === '::') return '::1';
  return listenAddress;
}
